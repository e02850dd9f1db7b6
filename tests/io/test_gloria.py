"""GLORIA in its released layout, against pymrio's parse_gloria + calc_all on the same files."""

from __future__ import annotations

import shutil
import warnings
import zipfile

import numpy as np
import pytest

import mrioflow as mf
from mrioflow.datasets.gloria_like import DEFAULT_SATELLITES, write_gloria_like
from mrioflow.errors import LabelError, MissingDataError, OptionError, ReaderError
from mrioflow.io import gloria

pymrio = pytest.importorskip("pymrio")

YEAR = 2022
N_SAT = len(DEFAULT_SATELLITES)


def _close(a, b, what):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape, what
    scale = max(np.max(np.abs(b), initial=0.0), 1.0)
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10 * scale, err_msg=what)


@pytest.fixture(scope="module")
def world_zip(tmp_path_factory):
    return write_gloria_like(tmp_path_factory.mktemp("gz"), YEAR, regions=5, sectors=4, empty_regions=(3,), seed=3)


@pytest.fixture(scope="module")
def world_folder(tmp_path_factory):
    return write_gloria_like(
        tmp_path_factory.mktemp("gf"), YEAR, regions=5, sectors=4, empty_regions=(3,), seed=3, zipped=False
    )


def _pymrio(path, price="bp", construct="B"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        io = pymrio.parse_gloria(path, year=YEAR, version=59, price=price, construct=construct)
        io.calc_all()
    return io


def _read(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mf.io.read(path, year=YEAR, satellites="all", **kw)


def _compare(m, ref):
    _close(m.Z, ref.Z.to_numpy(), "Z")
    _close(m.Y, ref.Y.to_numpy(), "Y")
    _close(m.x, ref.x.to_numpy().ravel(), "x")
    _close(m.F[:N_SAT], ref.Q.F.to_numpy(), "F (satellites)")
    _close(m.F_Y[:N_SAT], ref.Q.F_Y.to_numpy(), "F_Y (satellites)")
    _close(m.F[m.stressor_position("VA")], ref.VA.F.to_numpy().sum(axis=0), "VA")
    assert list(m.countries) == list(ref.get_regions())
    assert list(m.sectors) == list(ref.get_sectors())
    # the accounts of every satellite: mrioflow's engine against pymrio's calc_all
    res = mf.Engine(backend="numpy").run(m, stressors=[m.stressors[k] for k in range(N_SAT)], sector_flows=False)
    for k in range(N_SAT):
        acc = res.accounts(m.stressors[k])
        _close(acc["pba"], ref.Q.D_pba_reg.to_numpy()[k], f"pba of {m.stressors[k]}")
        _close(acc["cba"], ref.Q.D_cba_reg.to_numpy()[k], f"cba of {m.stressors[k]}")


@pytest.mark.parametrize("price", ["bp", "pp"])
@pytest.mark.parametrize("layout", ["zip", "folder"])
def test_matches_pymrio(world_zip, world_folder, layout, price):
    path = world_zip if layout == "zip" else world_folder
    m = _read(path, price=price)
    assert m.meta["reader"] == "gloria" and m.meta["markup"] == ("Markup001" if price == "bp" else "Markup005")
    _compare(m, _pymrio(path, price))


def test_both_price_layers_differ(world_zip):
    bp, pp = _read(world_zip, price="bp"), _read(world_zip, price="pp")
    assert not np.allclose(bp.Z, pp.Z)  # the layers are read from different files


@pytest.mark.parametrize("construct", ["A", "C", "D"])
def test_constructs_match_pymrio_and_coincide_for_a_diagonal_supply(world_zip, construct):
    m = _read(world_zip, construct=construct)
    _compare(m, _pymrio(world_zip, construct=construct))
    b = _read(world_zip, construct="B")
    assert m.meta["supply"].startswith("diagonal, equal to the product output")
    _close(m.Z, b.Z, "Z of construct A/C/D vs B")
    _close(m.Y, b.Y, "Y")
    _close(m.F, b.F, "F")


@pytest.mark.parametrize("construct", ["A", "B", "C", "D"])
def test_non_diagonal_supply_matches_pymrio(tmp_path, construct):
    path = write_gloria_like(tmp_path, YEAR, regions=3, sectors=4, seed=5, offdiag_supply=3)
    m = _read(path, construct=construct)
    assert m.meta["supply"].startswith("not diagonal: 3 entries")
    _compare(m, _pymrio(path, construct=construct))


def test_non_diagonal_supply_makes_the_constructs_differ(tmp_path):
    path = write_gloria_like(tmp_path, YEAR, regions=3, sectors=4, seed=5, offdiag_supply=3)
    a, b = _read(path, construct="A"), _read(path, construct="B")
    assert np.max(np.abs(a.Z - b.Z)) > 1e-6 * np.max(np.abs(b.Z))


def test_empty_region_is_dropped_and_named(world_zip):
    with pytest.warns(UserWarning, match=r"region\(s\) R03 have an empty table"):
        m = mf.io.read(world_zip, year=YEAR)
    assert m.meta["dropped_regions"] == "R03"
    assert "R03" not in m.countries and m.n_countries == 4
    assert m.country_names[0] == "Region 0"


def test_methane_is_the_edgar_ch4_rows_summed(world_zip):
    m = _read(world_zip)
    rows = [
        f"Emissions (EDGAR) | {i}"
        for i in ("ch4_1A1a_EDGAR_consistent", "CH4_3A1_EDGAR_consistent", "ch4_4A_EDGAR_consistent")
    ]
    assert m.meta["ch4_rows"] == "; ".join(rows)
    idx = [m.stressor_position(r) for r in rows]
    k = m.stressor_position("CH4")
    np.testing.assert_allclose(m.F[k], m.F[idx].sum(axis=0), rtol=1e-14)
    np.testing.assert_allclose(m.F_Y[k], m.F_Y[idx].sum(axis=0), rtol=1e-14)
    # the ch4 row of another block is not methane of EDGAR
    other = m.stressor_position("Emissions (other) | ch4_total_other")
    assert np.any(m.F[other] != 0) and other not in idx
    assert m.units[k] == "Gg"
    # the default read keeps methane and value added only
    lean = mf.io.read(world_zip, year=YEAR)
    assert lean.stressors == ("CH4", "VA")
    np.testing.assert_array_equal(lean.F[0], m.F[k])


def test_satellite_patterns(world_zip):
    m = mf.io.read(world_zip, year=YEAR, satellites={"N2O": r"EDGAR\) \| n2o_"})
    assert m.stressors == ("CH4", "N2O", "VA")
    with pytest.raises(LabelError, match="matches no satellite"):
        mf.io.read(world_zip, year=YEAR, satellites={"X": "nothing-like-this"})
    with pytest.raises(OptionError, match="satellites must be"):
        mf.io.read(world_zip, year=YEAR, satellites=3)


def test_table_without_methane_rows(tmp_path):
    sats = [s for s in DEFAULT_SATELLITES if not s[1].lower().startswith("ch4") or "EDGAR" not in s[0]]
    path = write_gloria_like(tmp_path, YEAR, regions=2, sectors=2, satellites=sats)
    m = mf.io.read(path, year=YEAR)
    assert m.stressors == ("VA",)
    assert m.meta["ch4_rows"].startswith("none")


def test_streaming_blocks_and_pyarrow_path_give_the_same_table(world_zip, monkeypatch):
    ref = _read(world_zip)
    monkeypatch.setattr(gloria, "_CHUNK", 97)  # chunks far shorter than one line
    small = _read(world_zip)
    monkeypatch.setattr(gloria, "_tsv", None)  # no compiled parser
    arrow = _read(world_zip)
    for m in (small, arrow):
        for name in ("Z", "Y", "F", "F_Y"):
            np.testing.assert_array_equal(getattr(m, name), getattr(ref, name))


def test_registry_recognises_the_folder(world_zip):
    assert mf.io.registry.guess_reader(world_zip).name == "gloria"
    with pytest.raises(OptionError, match=r"needs a year .* holds: 2022"):
        mf.io.read(world_zip)
    with pytest.raises(MissingDataError, match=r"no GLORIA table of 2015; the years there: 2022"):
        mf.io.read(world_zip, year=2015)
    with pytest.raises(OptionError, match="unknown GLORIA price layer"):
        mf.io.read(world_zip, year=YEAR, price="xp")
    with pytest.raises(OptionError, match="unknown construct"):
        mf.io.read(world_zip, year=YEAR, construct="E")


def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def _rewrite_member(zpath, kind, edit):
    with zipfile.ZipFile(zpath) as zf:
        items = [(i, zf.read(i)) for i in zf.infolist()]
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in items:
            if f"_{kind}-Results_" in info.filename and "Markup001" in info.filename:
                data = edit(data)
            zf.writestr(info.filename, data)


def test_bad_cell_names_file_line_and_column(world_zip, tmp_path):
    path = _copy(world_zip, tmp_path / "w")

    def spoil(data):
        lines = data.split(b"\n")
        cells = lines[6].split(b",")
        cells[2] = b"abc"
        lines[6] = b",".join(cells)
        return b"\n".join(lines)

    _rewrite_member(path / "GLORIA_MRIOs_59_2022.zip", "T", spoil)
    with pytest.raises(ReaderError, match=r"T-Results_2022_059_Markup001\(full\)\.csv: line 7, column 3: 'abc'"):
        mf.io.read(path, year=YEAR)


def test_short_file_names_file_and_shape(world_zip, tmp_path):
    path = _copy(world_zip, tmp_path / "w")
    _rewrite_member(path / "GLORIA_MRIOs_59_2022.zip", "T", lambda d: b"\n".join(d.split(b"\n")[:-3]) + b"\n")
    with pytest.raises(ReaderError, match=r"T-Results_2022_059_Markup001\(full\)\.csv: 38 lines, expected 40 x 40"):
        mf.io.read(path, year=YEAR)


def test_wrong_width_names_line(world_zip, tmp_path):
    path = _copy(world_zip, tmp_path / "w")

    def cut(data):
        lines = data.split(b"\n")
        lines[1] = lines[1].rsplit(b",", 1)[0]
        return b"\n".join(lines)

    _rewrite_member(path / "GLORIA_MRIOs_59_2022.zip", "Y", cut)
    with pytest.raises(
        ReaderError, match=r"Y-Results_2022_059_Markup001\(full\)\.csv: line 2 has 29 values, expected 30"
    ):
        mf.io.read(path, year=YEAR)


def test_missing_parts_are_named(world_zip, tmp_path):
    path = _copy(world_zip, tmp_path / "w")
    (path / "GLORIA_ReadMe_059.xlsx").unlink()
    assert mf.io.registry.guess_reader is not None
    with pytest.raises(MissingDataError, match=r"no GLORIA_ReadMe_\{version\}.xlsx of version 59"):
        gloria.read_gloria(path, YEAR)
    path2 = _copy(world_zip, tmp_path / "w2")
    (path2 / "GLORIA_SatelliteAccounts_059_2022.zip").unlink()
    with pytest.raises(MissingDataError, match=r"no GLORIA_SatelliteAccounts of 2022"):
        mf.io.read(path2, year=YEAR)
    path3 = _copy(world_zip, tmp_path / "w3")
    _rewrite_member(path3 / "GLORIA_MRIOs_59_2022.zip", "V", lambda d: d)
    with zipfile.ZipFile(path3 / "GLORIA_MRIOs_59_2022.zip") as zf:
        keep = [(i.filename, zf.read(i)) for i in zf.infolist() if "_V-Results_" not in i.filename]
    with zipfile.ZipFile(path3 / "GLORIA_MRIOs_59_2022.zip", "w") as zf:
        for name, data in keep:
            zf.writestr(name, data)
    with pytest.raises(
        MissingDataError, match=r"GLORIA_MRIOs_59_2022.zip: no GLORIA V-Results file of 2022 at Markup001"
    ):
        mf.io.read(path3, year=YEAR)


def test_damaged_readme_and_zip_are_named(world_zip, tmp_path):
    path = _copy(world_zip, tmp_path / "w")
    import pandas as pd

    with pd.ExcelWriter(path / "GLORIA_ReadMe_059.xlsx") as xw:
        pd.DataFrame({"Region_acronyms": ["A"]}).to_excel(xw, sheet_name="Regions", index=False)
    with pytest.raises(ReaderError, match=r"GLORIA_ReadMe_059.xlsx, sheet 'Regions': no column 'Region_names'"):
        mf.io.read(path, year=YEAR)
    path2 = _copy(world_zip, tmp_path / "w2")
    (path2 / "GLORIA_MRIOs_59_2022.zip").write_bytes(b"not a zip")
    with pytest.raises(ReaderError, match=r"corrupt zip file .*GLORIA_MRIOs_59_2022.zip"):
        mf.io.read(path2, year=YEAR)


def test_sources_are_the_year_files(world_zip):
    src = mf.io.registry.get_reader("gloria").sources(world_zip, year=YEAR)
    assert {p.name for p in src} == {
        "GLORIA_ReadMe_059.xlsx",
        "GLORIA_MRIOs_59_2022.zip",
        "GLORIA_SatelliteAccounts_059_2022.zip",
    }


# -- the study on a GLORIA year -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def bri_world(tmp_path_factory):
    """A GLORIA-layout year whose regions are the BRI countries but four, a few others, GLORIA's four
    rest-of regions and an empty DYE (as in recent GLORIA years)."""
    bri = mf.regions.bri().countries
    left_out = {"BTN", "MDV", "TKM", "BRN"}
    codes = [c for c in bri if c not in left_out] + ["USA", "DEU", "JPN", "XAF", "XAM", "XAS", "XEU", "DYE"]
    return write_gloria_like(
        tmp_path_factory.mktemp("bri"),
        YEAR,
        regions=len(codes),
        sectors=3,
        codes=codes,
        names=codes,
        empty_regions=(len(codes) - 1,),
        density=3,
    )


def test_run_writes_the_study_and_names_unresolved_countries(bri_world, tmp_path, capsys):
    import json

    from mrioflow.cli import main

    out = tmp_path / "out"
    assert main(["run", "--data", str(bri_world), "--years", str(YEAR), "-o", str(out), "-q"]) == 0
    prov = json.loads((out / "provenance.json").read_text())
    unresolved = {u["country"]: u["inside"] for u in prov["grouping resolution"]["unresolved"]}
    assert unresolved == {"BTN": "XAS", "MDV": "XAS", "TKM": "XAS", "BRN": "XAS"}
    assert prov["table meta"][str(YEAR)]["dropped_regions"] == "DYE"
    assert prov["table meta"][str(YEAR)]["ch4_rows"].lower().count("| ch4_") == 3
    report = (out / "report.html").read_text()
    assert "4 countries of the grouping are not resolved by this table" in report
    for code in ("BTN", "MDV", "TKM", "BRN"):
        assert f"<td>{code}</td>" in report
    for name in ("gmi_region", "bmi_region_total", f"accounts_region_{YEAR}"):
        assert (out / "tables" / f"{name}.csv").is_file(), name
    assert "DYE" in capsys.readouterr().err  # the dropped region is reported when the run loads the table


def test_run_assigns_a_rest_of_region_when_asked(bri_world, tmp_path):
    import json

    from mrioflow.cli import main

    out = tmp_path / "out"
    argv = ["run", "--data", str(bri_world), "--years", str(YEAR), "-o", str(out), "-q"]
    assert main([*argv, "--aggregate-region", "XAS=South Asia"]) == 0
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["grouping resolution"]["assigned aggregates"] == {"XAS": "South Asia"}
    assert "XAS &rarr; South Asia" in (out / "report.html").read_text()


def test_no_final_newline_and_crlf_read_the_same(world_zip, tmp_path):
    ref = _read(world_zip)
    path = _copy(world_zip, tmp_path / "w")
    _rewrite_member(path / "GLORIA_MRIOs_59_2022.zip", "T", lambda d: d.rstrip(b"\n").replace(b"\n", b"\r\n"))
    m = _read(path)
    np.testing.assert_array_equal(m.Z, ref.Z)


def test_cached_read_gives_the_same_table(world_zip, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = mf.io.read(world_zip, year=YEAR, cache=True, cache_dir=tmp_path)
        again = mf.io.read(world_zip, year=YEAR, cache=True, cache_dir=tmp_path)
    assert again.meta["cache"] == "hit"
    np.testing.assert_array_equal(again.Z, first.Z)
    assert again.meta["ch4_rows"] == first.meta["ch4_rows"]


def test_a_line_that_never_ends_is_refused_without_reading_it_whole(world_zip, tmp_path):
    path = _copy(world_zip, tmp_path / "w")
    _rewrite_member(path / "GLORIA_MRIOs_59_2022.zip", "T", lambda d: b"1" * 5_000_000)
    with pytest.raises(ReaderError, match=r"T-Results_2022_059_Markup001\(full\)\.csv: line 1 is longer than 2,624"):
        mf.io.read(path, year=YEAR)


def test_the_transaction_matrix_is_never_held_whole(tmp_path, monkeypatch):
    """Traced peak memory of a read: within 1.3 x 8 n^2 plus the other arrays, and far below T's size."""
    import tracemalloc

    path = write_gloria_like(tmp_path, YEAR, regions=20, sectors=30, density=10)
    labels = gloria._read_labels(path / "GLORIA_ReadMe_059.xlsx")  # openpyxl's objects are not the reader's
    monkeypatch.setattr(gloria, "_read_labels", lambda book: labels)
    monkeypatch.setattr(gloria, "_CHUNK", 1 << 16)
    tracemalloc.start()
    try:
        m = gloria.read_gloria(path, YEAR)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    n, R = m.n, m.n_countries
    t_bytes = 8 * (2 * n) ** 2
    others = m.Y.nbytes + 8 * R * len(labels.va) * n  # final demand and the value-added rows
    assert peak < 1.3 * 8 * n**2 + 2 * others + (1 << 19), (peak, n)
    assert peak < 0.6 * t_bytes


def _scale_supply(data: bytes, S: int, factor: float) -> bytes:
    """The T file with every industry row (the supply) multiplied by ``factor``."""
    lines = data.rstrip(b"\n").split(b"\n")
    for i, line in enumerate(lines):
        if (i % (2 * S)) < S:
            lines[i] = b",".join(repr(float(c) * factor).encode() for c in line.split(b","))
    return b"\n".join(lines) + b"\n"


@pytest.mark.parametrize("construct", ["A", "B", "D"])
def test_supply_not_equal_to_product_output_matches_pymrio(world_zip, tmp_path, construct):
    path = _copy(world_zip, tmp_path / "w")
    _rewrite_member(path / "GLORIA_MRIOs_59_2022.zip", "T", lambda d: _scale_supply(d, 4, 1.1))
    m = _read(path, construct=construct)
    assert m.meta["supply"] == "diagonal, not equal to the product output"
    if construct != "B":  # B divides the supply by itself: x = q still solves the table
        assert m.meta["gross output"].startswith("x = (I - A)^-1 Y 1")
    _compare(m, _pymrio(path, construct=construct))


def test_a_header_line_is_refused(world_zip, tmp_path):
    path = _copy(world_zip, tmp_path / "w")
    _rewrite_member(path / "GLORIA_MRIOs_59_2022.zip", "Y", lambda d: b"region,sector\n" + d)
    with pytest.raises(ReaderError, match=r"Y-Results.*the first line starts with 'region,sector'.* has no header"):
        mf.io.read(path, year=YEAR)
