"""The EXIOBASE 3 reader against pymrio's parse_exiobase3 + calc_all on the same generated files.

The files are written by tests/exio_layout.py in the released layouts (3.4:
A and Y only, F_hh, ISO3 region names of the ixi files; 3.8: Z and x, F_Y; 3.9:
one folder per account), as folders and as zips, product and industry tables.
"""

from __future__ import annotations

import zipfile

import exio_layout as E
import numpy as np
import pytest

import mrioflow as mf
from mrioflow.errors import LabelError, MissingDataError, OptionError, ReaderError
from mrioflow.io import exiobase3, text

pymrio = pytest.importorskip("pymrio", reason="pymrio is a test dependency: pip install '.[test]'")

RTOL = 1e-10
CASES = [
    ("3.4", False, "pxp"),
    ("3.4", True, "ixi"),
    ("3.8", False, "ixi"),
    ("3.8", True, "pxp"),
    ("3.9", False, "pxp"),
    ("3.9", True, "pxp"),
]


def close(a, b, what):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=RTOL * max(1.0, float(np.abs(b).max(initial=0))), err_msg=what)


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{c[0]}-{'zip' if c[1] else 'folder'}-{c[2]}")
def pair(request, tmp_path_factory):
    layout, zipped, system = request.param
    folder = tmp_path_factory.mktemp(f"exio{layout}")
    y = E.write_year(folder, 2019, system=system, layout=layout, zipped=zipped, iso3=layout == "3.4")
    ours = mf.io.read(y.path, year=2019, cache=False)  # the system from the name
    assert ours.meta["exiobase_system"] == system
    io = pymrio.parse_exiobase3(y.path)
    io.calc_all()
    return y, ours, io


def _row(mrio, ext, label):
    name = label if label in mrio.stressors else f"{ext}/{label}"
    return mrio.stressor_position(name)


def test_the_reader_is_recognised_and_reads_the_written_table(pair):
    y, ours, _ = pair
    assert mf.io.registry.guess_reader(y.path).name == "exiobase3"
    assert ours.countries == tuple(E.REGIONS)  # the 3.4 ixi names (AUT, WWA...) renamed as pymrio does
    assert ours.meta["region_concordance"] == "exiobase3"
    close(ours.Z, y.Z, "Z against the generator")


def test_Z_Y_and_labels_match_pymrio(pair):
    _, ours, io = pair
    close(ours.Z, io.Z.to_numpy(), "Z")
    close(ours.Y, io.Y.to_numpy(), "Y")
    assert list(ours.sector_index()) == [tuple(t) for t in io.Z.index]
    assert list(ours.fd_index()) == [tuple(t) for t in io.Y.columns]


def test_every_extension_row_matches_pymrio_with_its_unit(pair):
    _, ours, io = pair
    for ext in io.get_extensions(data=True):
        assert ext.F_Y is not None  # pymrio turns F_hh into F_Y, as we do
        for label in ext.F.index:
            i = _row(ours, ext.name, label)
            close(ours.F[i], ext.F.loc[label].to_numpy(), f"{ext.name} F {label}")
            close(ours.F_Y[i], ext.F_Y.loc[label].to_numpy(), f"{ext.name} F_Y {label}")
            assert ours.units[i] == ext.unit.loc[label].iloc[0]
    blocks = {b["name"] for b in ours.meta["extensions"]}
    assert blocks == {e.name for e in io.get_extensions(data=True)}


def test_methane_is_every_ch4_row_to_air_summed(pair):
    _, ours, io = pair
    air = next(e for e in io.get_extensions(data=True) if e.name in ("air_emissions", "satellite"))
    rows = [lab for lab in air.F.index if lab.startswith("CH4") and lab.endswith("- air")]
    assert len(rows) == 3  # the soil row is not methane of the study
    i = ours.stressor_position("CH4")
    close(ours.F[i], air.F.loc[rows].sum().to_numpy(), "CH4 F")
    close(ours.F_Y[i], air.F_Y.loc[rows].sum().to_numpy(), "CH4 F_Y")
    assert ours.units[i] == "kg"
    assert len(ours.meta["selected_rows"]["CH4"]) == 3


def test_value_added_is_the_monetary_factor_inputs(pair):
    _, ours, io = pair
    ext = next(e for e in io.get_extensions(data=True) if e.name in ("factor_inputs", "satellite"))
    rows = [lab for lab in ext.F.index if ext.unit.loc[lab].iloc[0] == "M.EUR"]
    assert len(rows) == len(E.VA_ROWS)
    close(ours.F[ours.stressor_position("VA")], ext.F.loc[rows].sum().to_numpy(), "VA")


def test_accounts_match_pymrio(pair):
    _, ours, io = pair
    res = mf.Engine(backend="numpy").run(ours)
    for ext in io.get_extensions(data=True):
        for label in ext.F.index[:3]:
            acc = res.accounts(ours.stressors[_row(ours, ext.name, label)])
            for col, theirs in (("cba", ext.D_cba_reg), ("pba", ext.D_pba_reg), ("imports", ext.D_imp_reg)):
                close(acc[col].to_numpy(), theirs.loc[label, list(acc.index)].to_numpy(), f"{label} {col}")


def test_a_folder_of_years_is_yearly(tmp_path):
    for year in (2018, 2019):
        E.write_year(tmp_path, year, zipped=year == 2018)
    E.write_year(tmp_path, 2019, system="ixi")
    a = mf.io.read(tmp_path, year=2018, cache=False)
    b = mf.io.read(tmp_path, year=2019, cache=False)
    c = mf.io.read(tmp_path, year=2019, system="ixi", cache=False)
    assert (a.year, b.year, len(c.sectors)) == (2018, 2019, len(E.INDUSTRIES))
    assert not np.allclose(a.Z, b.Z)
    with pytest.raises(MissingDataError, match=r"no EXIOBASE 3 2017 \(pxp\).*years found: 2018, 2019"):
        mf.io.read(tmp_path, year=2017, format="exiobase3", cache=False)
    with pytest.raises(OptionError, match="holds EXIOBASE 3 years 2018, 2019: choose one"):
        exiobase3.read_exiobase3(tmp_path)


def test_a_single_year_refuses_another_year(tmp_path):
    y = E.write_year(tmp_path, 2019, zipped=True)
    with pytest.raises(MissingDataError, match="IOT_2019_pxp.zip holds EXIOBASE 3 2019, not 2013"):
        mf.io.read(y.path, year=2013, cache=False)
    assert exiobase3.read_exiobase3(y.path).year == 2019


def test_the_cache_gives_the_same_table(tmp_path):
    y = E.write_year(tmp_path / "data", 2019)
    first = mf.io.read(y.path, year=2019, cache_dir=tmp_path / "cache")
    again = mf.io.read(y.path, year=2019, cache_dir=tmp_path / "cache")
    assert again.meta["cache"] == "hit"
    np.testing.assert_array_equal(first.Z, again.Z)
    np.testing.assert_array_equal(first.F, again.F)
    assert first.stressors == again.stressors and first.units == again.units


def test_the_pyarrow_path_gives_the_same_numbers(tmp_path, monkeypatch):
    y = E.write_year(tmp_path, 2019, zipped=True)
    fast = mf.io.read(y.path, cache=False)
    monkeypatch.setattr(text, "compiled", None)
    slow = mf.io.read(y.path, cache=False)
    np.testing.assert_array_equal(fast.Z, slow.Z)
    np.testing.assert_array_equal(fast.F_Y, slow.F_Y)


def test_satellites_pick_rows_by_pattern(tmp_path):
    y = E.write_year(tmp_path, 2019)
    m = mf.io.read(y.path, cache=False, satellites={"N2O": r"^N2O", "GHG": "impacts/GHG"}, all_stressors=False)
    assert m.stressors == ("CH4", "N2O", "GHG", "VA")
    assert m.units == ("kg", "kg", "kg CO2 eq", "M.EUR")
    full = mf.io.read(y.path, cache=False)
    close(m.F[1], full.F[full.stressor_position("N2O - combustion - air")], "N2O")
    with pytest.raises(LabelError, match="different units"):
        mf.io.read(y.path, cache=False, satellites={"mix": "air|Employment"})
    with pytest.raises(LabelError, match="no stressor matches satellite 'x'"):
        mf.io.read(y.path, cache=False, satellites={"x": "^nothing"})
    with pytest.raises(OptionError, match="reserved"):
        mf.io.read(y.path, cache=False, satellites={"VA": "Taxes"})


# -- bad input: one clear error naming the file ------------------------------------------------


def _rewrite(path, rel, edit):
    f = path / rel
    f.write_text(edit(f.read_text()))
    return f


def test_a_missing_core_file_is_named(tmp_path):
    y = E.write_year(tmp_path, 2019)
    (y.path / "Y.txt").unlink()
    with pytest.raises(MissingDataError, match=r"IOT_2019_pxp: EXIOBASE 3 tables need Y.txt beside A.txt, Z.txt"):
        exiobase3.read_exiobase3(y.path)
    with pytest.raises(MissingDataError, match="does not exist"):
        exiobase3.read_exiobase3(tmp_path / "nothing")


def _edit_cell(text_: str, line: int, column: int, value: str) -> str:
    lines = text_.split("\n")
    cells = lines[line - 1].split("\t")
    cells[column - 1] = value
    lines[line - 1] = "\t".join(cells)
    return "\n".join(lines)


def test_a_row_too_short_names_file_and_line(tmp_path):
    y = E.write_year(tmp_path, 2019)
    f = _rewrite(y.path, "Y.txt", lambda t: _edit_cell(t, 6, 5, "1\t2"))
    with pytest.raises(ReaderError, match=rf"{f}: line 6 has 52 fields, expected 51"):
        exiobase3.read_exiobase3(y.path)


def test_a_missing_row_is_a_shape_error_naming_the_file(tmp_path):
    y = E.write_year(tmp_path, 2019)
    f = _rewrite(y.path, "Y.txt", lambda t: "\n".join(t.splitlines()[:-1]) + "\n")
    with pytest.raises(ReaderError, match=rf"{f}: 34 data rows, expected 35"):
        exiobase3.read_exiobase3(y.path)


@pytest.mark.parametrize("cell", ["n/a", "nan", ""])
def test_a_bad_cell_names_line_and_column(tmp_path, cell):
    y = E.write_year(tmp_path, 2019)
    f = _rewrite(y.path, "Z.txt", lambda t: _edit_cell(t, 5, 4, cell))
    what = "non-finite value nan" if cell == "nan" else f"non-numeric cell {cell!r}"
    with pytest.raises(ReaderError, match=rf"{f}: {what} at line 5, column 4"):
        exiobase3.read_exiobase3(y.path)


def test_mismatched_labels_name_the_file(tmp_path):
    y = E.write_year(tmp_path, 2019)
    f = _rewrite(y.path, "satellite/F.txt", lambda t: t.replace("region\tAT", "region\tDE", 1))
    with pytest.raises(LabelError, match=rf"{f}: its 35 columns do not match.*column 1"):
        exiobase3.read_exiobase3(y.path)
    y2 = E.write_year(tmp_path / "b", 2019)
    f2 = _rewrite(y2.path, "satellite/F_Y.txt", lambda t: t.replace("CO2 - combustion", "CO2 - burning"))
    with pytest.raises(LabelError, match=rf"{f2}: its rows are not the stressors"):
        exiobase3.read_exiobase3(y2.path)


def test_a_zip_without_the_tables_is_refused(tmp_path):
    z = tmp_path / "IOT_2019_pxp.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("readme.txt", "nothing")
    assert not exiobase3.Exiobase3Reader().can_open(z)
    with pytest.raises(ReaderError, match="not an EXIOBASE 3 archive"):
        exiobase3.read_exiobase3(z)
    with pytest.raises(OptionError, match="system must be one of pxp, ixi"):
        exiobase3.read_exiobase3(z, system="sut")
    with pytest.raises(MissingDataError, match="IOT_2019_pxp.zip is the pxp table, but system='ixi'"):
        exiobase3.read_exiobase3(z, system="ixi")


def test_a_pymrio_folder_of_another_table_stays_pymrio(tmp_path):
    io = pymrio.load_test()
    io.save_all(tmp_path / "test_mrio")
    assert mf.io.registry.guess_reader(tmp_path / "test_mrio").name == "pymrio"


def test_a_square_table_with_an_extra_row_is_refused_before_it_is_held(tmp_path):
    y = E.write_year(tmp_path, 2019)
    f = _rewrite(y.path, "Z.txt", lambda t: t + t.splitlines()[-1] + "\n")
    with pytest.raises(ReaderError, match=rf"{f}: more than the 35 data rows expected"):
        exiobase3.read_exiobase3(y.path)


def test_small_blocks_give_the_same_table_and_an_error_stops_the_read_ahead(tmp_path, monkeypatch):
    import threading

    y = E.write_year(tmp_path, 2019, zipped=True)
    whole = exiobase3.read_exiobase3(y.path)
    monkeypatch.setattr(text, "_BLOCK", 300)  # many blocks, each a few lines, cut mid-line
    pieces = exiobase3.read_exiobase3(y.path)
    np.testing.assert_array_equal(whole.Z, pieces.Z)
    np.testing.assert_array_equal(whole.F, pieces.F)
    y2 = E.write_year(tmp_path / "bad", 2019)
    _rewrite(y2.path, "Z.txt", lambda t: _edit_cell(t, 5, 4, "n/a"))
    with pytest.raises(ReaderError, match="line 5, column 4"):
        exiobase3.read_exiobase3(y2.path)
    assert not [t for t in threading.enumerate() if t.name == "mrioflow-read-ahead"]


def test_units_listed_with_a_compartment_column_are_matched_by_stressor(tmp_path):
    y = E.write_year(tmp_path, 2019, layout="3.4")
    lines = (y.path / "impacts" / "unit.txt").read_text().splitlines()
    rows = ["impact\tcompartment\tunit"] + [f"{ln.split(chr(9))[0]}\ttotal\t{ln.split(chr(9))[1]}" for ln in lines[1:]]
    (y.path / "impacts" / "unit.txt").write_text("\n".join(rows) + "\n")
    m = exiobase3.read_exiobase3(y.path)
    assert m.units[m.stressor_position(E.IMPACT_ROWS[0][0])] == "kg CO2 eq"
