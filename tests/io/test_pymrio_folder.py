"""pymrio folders (IOSystem.save_all / pymrio.load_all) in and out."""

from __future__ import annotations

import json
import sys
import warnings

import numpy as np
import pytest

import mrioflow as mf
from mrioflow.errors import MissingDataError, ReaderError
from mrioflow.io import read_pymrio_folder, write_pymrio_folder

pymrio = pytest.importorskip("pymrio")


@pytest.fixture(scope="module")
def world():
    return mf.datasets.synthetic(year=2013, seed=2, countries=["AFG", "CHN", "IND", "ROW"])


@pytest.mark.parametrize("fmt,rtol", [("txt", 1e-10), ("parquet", 0.0)])
def test_round_trip(world, tmp_path, fmt, rtol):
    out = write_pymrio_folder(world, tmp_path / "sys", table_format=fmt)
    assert (out / "file_parameters.json").is_file() and (out / "mrioflow.json").is_file()
    back = read_pymrio_folder(out)
    assert back.countries == world.countries and back.sectors == world.sectors
    assert back.fd_categories == world.fd_categories
    assert back.stressors == world.stressors and back.units == world.units
    assert back.year == 2013 and back.country_names == world.country_names
    assert back.source == world.source and back.meta["synthetic"] is True
    for name in ("Z", "Y", "F", "F_Y"):
        np.testing.assert_allclose(getattr(back, name), getattr(world, name), rtol=rtol, atol=0)
    # what pymrio itself reads from the folder
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        io = pymrio.load_all(out)
    np.testing.assert_allclose(io.Z.to_numpy(), world.Z, rtol=rtol, atol=0)


@pytest.mark.parametrize("fmt", ["txt", "parquet"])
def test_reads_a_folder_pymrio_wrote(tmp_path, fmt):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pymrio.load_test()
        ref.save_all(tmp_path / "test_mrio", table_format=fmt)
    m = read_pymrio_folder(tmp_path / "test_mrio")
    direct = mf.io.from_pymrio(ref)
    assert m.countries == direct.countries and sorted(m.stressors) == sorted(direct.stressors)
    np.testing.assert_allclose(m.Z, direct.Z, rtol=1e-10)
    np.testing.assert_allclose(m.Y, direct.Y, rtol=1e-10)
    for s in direct.stressors:  # extensions come in folder-name order
        np.testing.assert_allclose(m.F[m.stressor_position(s)], direct.F[direct.stressor_position(s)], rtol=1e-10)
        np.testing.assert_allclose(m.F_Y[m.stressor_position(s)], direct.F_Y[direct.stressor_position(s)], rtol=1e-10)
        assert m.units[m.stressor_position(s)] == direct.units[direct.stressor_position(s)]
    assert m.year is None  # no mrioflow.json: pymrio does not keep the year


def test_overwrite_is_atomic_and_clean(world, tmp_path):
    target = tmp_path / "sys"
    write_pymrio_folder(world, target)
    other = mf.datasets.synthetic(year=2014, seed=2, countries=["AFG", "CHN", "IND", "ROW"])
    write_pymrio_folder(other, target)
    assert read_pymrio_folder(target).year == 2014
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sys"], "no temporary folders left"


def test_errors(tmp_path):
    with pytest.raises(MissingDataError, match="pymrio folder not found"):
        read_pymrio_folder(tmp_path / "none")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReaderError, match=r"is not a pymrio folder: file_parameters.json is missing"):
        read_pymrio_folder(tmp_path / "empty")


# -- issue 9: never delete what mrioflow did not write, never unpickle, every label checked ----------


def test_write_refuses_a_folder_mrioflow_did_not_write(world, tmp_path, monkeypatch):
    from mrioflow.errors import OptionError

    user = tmp_path / "thesis"
    user.mkdir()
    (user / "chapter1.tex").write_text("years of work")
    with pytest.raises(
        OptionError,
        match=r"thesis is not empty and is not a pymrio folder written by mrioflow "
        r"\(it holds chapter1.tex\); nothing is overwritten",
    ):
        write_pymrio_folder(world, user)
    assert (user / "chapter1.tex").read_text() == "years of work"
    monkeypatch.chdir(user)
    with pytest.raises(OptionError, match="is not empty"):
        write_pymrio_folder(world, ".")
    assert sorted(p.name for p in user.iterdir()) == ["chapter1.tex"]
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(OptionError, match="a-file is a file, not a folder: not overwritten"):
        write_pymrio_folder(world, tmp_path / "a-file")
    with pytest.raises(OptionError, match=r"table_format must be one of 'txt', 'parquet'; got 'pkl'"):
        write_pymrio_folder(world, tmp_path / "new", table_format="pkl")


def test_write_replaces_only_its_own_output(world, tmp_path):
    from mrioflow.errors import OptionError

    (tmp_path / "empty").mkdir()
    write_pymrio_folder(world, tmp_path / "empty")  # an empty folder is fine
    out = write_pymrio_folder(world, tmp_path / "sys")
    write_pymrio_folder(world, out, table_format="parquet")  # its own earlier output: replaced
    assert read_pymrio_folder(out).year == 2013
    (out / "my_notes.txt").write_text("mine")  # a file the user added to it
    with pytest.raises(OptionError, match=r"sys is not empty and is not a pymrio folder written by mrioflow"):
        write_pymrio_folder(world, out)
    assert (out / "my_notes.txt").read_text() == "mine"


def test_pickled_tables_are_refused_never_loaded(world, tmp_path):
    import pickle

    out = write_pymrio_folder(world, tmp_path / "sys")
    params = json.loads((out / "file_parameters.json").read_text())
    params["files"]["Z"]["name"] = "Z.pkl"
    (out / "file_parameters.json").write_text(json.dumps(params))
    witness = tmp_path / "pwned"

    class Payload:  # unpickling this would create the witness file
        def __reduce__(self):
            return (open, (str(witness), "w"))

    (out / "Z.pkl").write_bytes(pickle.dumps(Payload()))
    with pytest.raises(
        ReaderError,
        match=r"Z.pkl: mrioflow never loads pickle files \(unpickling can run any "
        r"code\); save the system with save_all\(table_format='txt'\)",
    ):
        read_pymrio_folder(out)
    assert not witness.exists()


def test_reading_a_folder_needs_no_pymrio(world, tmp_path, monkeypatch):
    from mrioflow.errors import DependencyError

    out = write_pymrio_folder(world, tmp_path / "sys", table_format="parquet")
    monkeypatch.setitem(sys.modules, "pymrio", None)  # as if pymrio were not installed
    back = read_pymrio_folder(out)
    np.testing.assert_array_equal(back.Z, world.Z)
    with pytest.raises(DependencyError, match=r"needs the optional package pymrio: pip install pymrio"):
        write_pymrio_folder(world, tmp_path / "other")


def _system(world):
    return mf.io.to_pymrio(world)


def test_from_pymrio_names_every_label_that_does_not_match(world):
    from mrioflow.errors import LabelError

    io = _system(world)
    io.Y = io.Y.rename(index={"Agriculture": "Agricultre"}, level=1)
    with pytest.raises(
        LabelError,
        match=r"Y's rows has 4 label\(s\) that are not Z's \(region, sector\) rows: "
        r"\('AFG', 'Agricultre'\)",
    ):
        mf.io.from_pymrio(io)
    io = _system(world)
    ext = io.satellite
    ext.F = ext.F.drop(columns=[("CHN", "Fishing")])
    with pytest.raises(
        LabelError,
        match=r"extension 'satellite': F's columns has 1 of Z's \(region, sector\) rows "
        r"missing: \('CHN', 'Fishing'\)",
    ):
        mf.io.from_pymrio(io)
    io = _system(world)
    io.satellite.unit = io.satellite.unit.rename(index={"CH4": "CH5"})
    with pytest.raises(
        LabelError,
        match=r"extension 'satellite': unit's rows has 1 label\(s\) that are not F's "
        r"rows: 'CH5'",
    ):
        mf.io.from_pymrio(io)
    io = _system(world)
    io.Y = io.Y.drop(columns=[("IND", io.Y.columns[0][1])])
    with pytest.raises(
        LabelError,
        match=r"Y's columns has 1 of regions x final-demand categories missing: "
        r"\('IND', 'Household final consumption P.3h'\)",
    ):
        mf.io.from_pymrio(io)


def test_nan_in_z_is_a_value_error_naming_the_cell(world):
    from mrioflow.errors import InvalidValueError

    io = _system(world)
    io.Z.iloc[3, 7] = np.nan
    row, col = io.Z.index[3], io.Z.columns[7]
    with pytest.raises(
        InvalidValueError,
        match=rf"Z has 1 non-finite value\(s\) \(NaN or inf\); first at row "
        rf"\('{row[0]}', '{row[1]}'\), column \('{col[0]}', '{col[1]}'\): nan",
    ):
        mf.io.from_pymrio(io)


def test_hostile_year_in_mrioflow_json_is_refused(world, tmp_path):
    out = write_pymrio_folder(world, tmp_path / "sys", table_format="parquet")
    info = json.loads((out / "mrioflow.json").read_text())
    info["year"] = "<img src=x onerror=alert(1)>"
    (out / "mrioflow.json").write_text(json.dumps(info))
    with pytest.raises(
        ReaderError,
        match=r"mrioflow.json: not a valid mrioflow.json \(the year must be a whole "
        r"number, got '<img src=x onerror=alert\(1\)>'\)",
    ):
        read_pymrio_folder(out)


# -- issue 19 (6): every stressor is written, exactly once ----------------------------------------------


def _pymrio_test_system():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mf.io.from_pymrio(pymrio.load_test())


def _stressor_cases(world):
    ref = _pymrio_test_system()
    from_folder = ref  # stressors grouped in the extensions 'Factor Inputs' and 'Emissions'
    again = world.replace(  # as read back from a folder mrioflow wrote
        meta={
            **world.meta,
            "pymrio_extensions": [
                {"name": "satellite", "stressors": ["CH4", "VA"], "index_names": ["stressor"], "index": ["CH4", "VA"]}
            ],
        }
    )
    return {
        # 'Emissions' loses one of its two stressors: the other must stay
        "one missing from an extension": from_folder.select_stressors(["Value Added", "emission_type2 - water"]),
        # an appended stressor goes to a second group beside an existing "satellite" group
        "satellite beside satellite": again.with_stressor("X", 2 * world.F[0], unit="t"),
        "select VA": again.select_stressors(["VA"]),
        "appended to pymrio extensions": from_folder.with_stressor("CH4", np.linspace(1, 2, from_folder.n), unit="kt"),
        "no pymrio groups": world.with_stressor("N2O", world.F[0], unit="kt"),
    }


def _by_stressor(m):
    return {s: (m.F[i], m.F_Y[i], m.units[i]) for i, s in enumerate(m.stressors)}


@pytest.mark.parametrize("fmt", ["txt", "parquet"])
@pytest.mark.parametrize(
    "case",
    [
        "one missing from an extension",
        "satellite beside satellite",
        "select VA",
        "appended to pymrio extensions",
        "no pymrio groups",
    ],
)
def test_every_stressor_round_trips(world, tmp_path, fmt, case):
    m = _stressor_cases(world)[case]
    rtol = 1e-10 if fmt == "txt" else 0.0
    out = write_pymrio_folder(m, tmp_path / "sys", table_format=fmt)
    back = read_pymrio_folder(out)
    assert sorted(back.stressors) == sorted(m.stressors)
    want, got = _by_stressor(m), _by_stressor(back)
    for s in m.stressors:
        np.testing.assert_allclose(got[s][0], want[s][0], rtol=rtol, atol=0, err_msg=s)
        np.testing.assert_allclose(got[s][1], want[s][1], rtol=rtol, atol=0, err_msg=s)
        assert got[s][2] == want[s][2], s
    # pymrio's own parser reads the same stressors
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        io = pymrio.load_all(out)
    seen = mf.io.from_pymrio(io)
    assert sorted(seen.stressors) == sorted(m.stressors)
    for s, (F, F_Y, unit) in _by_stressor(seen).items():
        np.testing.assert_allclose(F, want[s][0], rtol=rtol, atol=0, err_msg=s)
        np.testing.assert_allclose(F_Y, want[s][1], rtol=rtol, atol=0, err_msg=s)
        assert unit == want[s][2], s


def test_extension_names_never_hide_iosystem_attributes(world):
    m = world.replace(
        meta={
            **world.meta,
            "pymrio_extensions": [
                {"name": "meta", "stressors": ["CH4"], "index_names": ["stressor"], "index": ["CH4"]},
                {"name": "Meta", "stressors": ["VA"], "index_names": ["stressor"], "index": ["VA"]},
            ],
        }
    )
    io = mf.io.to_pymrio(m)
    names = sorted(io.get_extensions())
    assert len(names) == 2 and "meta" not in names and "Meta" not in names
    assert sorted(e.name for e in io.get_extensions(data=True)) == ["Meta", "meta"]
    assert not isinstance(io.meta, pymrio.Extension)


# -- issue 19 (14): text tables in the wrong layout or with a bad cell: one error naming file, row, column --


def _edit_parameters(folder, key, **changes):
    f = folder / "file_parameters.json"
    params = json.loads(f.read_text())
    params["files"][key].update(changes)
    f.write_text(json.dumps(params))


def _edit_cell(f, line, column, text):
    lines = f.read_text().splitlines()
    cells = lines[line - 1].split("\t")
    cells[column - 1] = text
    lines[line - 1] = "\t".join(cells)
    f.write_text("\n".join(lines) + "\n")


def test_unit_table_without_a_unit_column_names_the_file(world, tmp_path):
    out = write_pymrio_folder(world, tmp_path / "sys")
    f = out / "satellite" / "unit.txt"
    f.write_text("\n".join(line.split("\t")[0] for line in f.read_text().splitlines()) + "\n")
    with pytest.raises(
        ReaderError,
        match=r"satellite/unit.txt: table unit in the wrong layout: no column after its 1 label column\(s\) "
        r"\(nr_index_col=1 in .*file_parameters.json\); row 2 holds only labels",
    ):
        read_pymrio_folder(out)  # was IndexError: single positional indexer is out-of-bounds


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("nr_index_col", 1, r"1 label column\(s\) \(nr_index_col in .*\), a pymrio Z has 2 .*; row 3, column 2 holds"),
        ("nr_index_col", 3, r"3 label column\(s\) \(nr_index_col in .*\), a pymrio Z has 2 .*; row 4, column 3 holds"),
        ("nr_header", 1, r"1 header row\(s\) \(nr_header in .*\), a pymrio Z has 2 .*; row 2, column 3 holds"),
    ],
)
def test_wrong_layout_names_file_row_and_column(world, tmp_path, field, value, message):
    out = write_pymrio_folder(world, tmp_path / "sys")
    _edit_parameters(out, "Z", **{field: value})
    with pytest.raises(ReaderError, match=r"sys/Z.txt: table Z in the wrong layout: " + message):
        read_pymrio_folder(out)


def test_bad_parameters_name_the_file(world, tmp_path):
    out = write_pymrio_folder(world, tmp_path / "sys")
    _edit_parameters(out, "Y", nr_header="two")
    with pytest.raises(
        ReaderError, match=r"file_parameters.json: table Y \(Y.txt\): nr_header must be a whole number from 1 to 16"
    ):
        read_pymrio_folder(out)


@pytest.mark.parametrize(
    "table,line,column,text,what",
    [
        ("Z.txt", 6, 5, "1.2.3", "'1.2.3'"),
        ("Y.txt", 7, 4, "", "an empty cell"),
        ("satellite/F.txt", 4, 8, "abc", "'abc'"),
        ("satellite/F_Y.txt", 5, 2, "inf", "'inf'"),
    ],
)
def test_bad_text_cell_names_file_row_and_column(world, tmp_path, table, line, column, text, what):
    out = write_pymrio_folder(world, tmp_path / "sys")
    _edit_cell(out / table, line, column, text)
    key = table.split("/")[-1].removesuffix(".txt")
    with pytest.raises(ReaderError) as info:
        read_pymrio_folder(out)
    msg = str(info.value)
    assert msg.startswith(f"{out / table}: table {key}, row {line}, column {column} (row label "), msg
    assert msg.endswith(f"{what} is not a finite number"), msg
    assert "\n" not in msg


def test_label_errors_of_a_folder_name_the_file(world, tmp_path):
    out = write_pymrio_folder(world, tmp_path / "sys")
    f = out / "Y.txt"
    f.write_text(f.read_text().replace("AFG\tAgriculture", "AFG\tAgricultre"))
    with pytest.raises(
        mf.errors.LabelError,
        match=r"sys/Y.txt: Y's rows has 1 label\(s\) that are not Z's \(region, sector\) rows: "
        r"\('AFG', 'Agricultre'\)",
    ):
        read_pymrio_folder(out)


def test_first_bad_cell_in_the_files_order_is_named(world, tmp_path):
    out = write_pymrio_folder(world, tmp_path / "sys")
    _edit_cell(out / "Z.txt", 9, 3, "x")  # a later row, an earlier column
    _edit_cell(out / "Z.txt", 5, 40, "y")
    with pytest.raises(ReaderError, match=r"Z.txt: table Z, row 5, column 40 .*: 'y' is not a finite number"):
        read_pymrio_folder(out)


def test_a_folder_without_a_year_takes_the_one_given(tmp_path):
    """Issue 20: pymrio's save_all writes no year; mf.io.read(D, year=2013) used to return year None."""
    import pymrio

    import mrioflow as mf
    from mrioflow.errors import OptionError

    folder = tmp_path / "D"
    pymrio.load_test().save_all(folder)
    assert mf.io.read(folder).year is None
    assert mf.io.read(folder, year=2013).year == 2013
    dated = tmp_path / "dated"
    mf.io.write_pymrio_folder(mf.io.read(folder, year=2013), dated)
    assert mf.io.read(dated, year=2013).year == 2013
    with pytest.raises(OptionError, match=r"holds the table of 2013, not of 2021"):
        mf.io.read(dated, year=2021)


def test_run_names_the_year_of_a_pymrio_folder_from_years(tmp_path):
    import pymrio

    from mrioflow import analysis

    folder = tmp_path / "D"
    io = pymrio.load_test()
    io.save_all(folder)
    groups = tmp_path / "G.csv"
    groups.write_text("iso3,group\n" + "".join(f"{r},{r[-1]}\n" for r in io.get_regions()), encoding="utf-8")
    analysis.run(
        analysis.Settings(
            data=(str(folder),),
            years=(2013,),
            stressor="emission_type1 - air",
            value_added="Value Added",
            groups=str(groups),
            backend="numpy",
            output=str(tmp_path / "out"),
        ),
        progress=False,
    )
    provenance = (tmp_path / "out" / "provenance.json").read_text(encoding="utf-8")
    assert "2013" in provenance and (tmp_path / "out" / "tables" / "accounts_country_2013.csv").is_file()
