"""read_eora26 / write_eora26 on small files in the exact Eora26 layout."""

from __future__ import annotations

import io
import os
import re
import sys
import warnings
import zipfile

import numpy as np
import pytest
from io_fixtures import CATEGORIES, CH4_ROWS, CO2_ROWS, COUNTRIES, N2O_ROWS, SECTORS, write_eora_files, zip_folder

import mrioflow as mf
from mrioflow._files import leftover_temporaries
from mrioflow.errors import LabelError, MissingDataError, OptionError, ReaderError
from mrioflow.io import eora26 as eora_mod
from mrioflow.io import read_eora26, write_eora26

S, C = len(SECTORS), len(CATEGORIES)


@pytest.fixture(autouse=True, params=["compiled", "per-column", "one-column"])
def parser_path(request, monkeypatch):
    """Run every test through each parser of the tall matrices (such as the full T):
    the compiled one (falling back to pyarrow to name a bad cell), pyarrow per column,
    and the one-column path that short, wide matrices such as VA take."""
    if request.param == "compiled" and eora_mod._tsv is None:
        pytest.skip("compiled parser not built")
    monkeypatch.setattr(eora_mod, "_SMALL_ROWS", 10**9 if request.param == "one-column" else 0)
    if request.param == "per-column":
        monkeypatch.setattr(eora_mod, "_tsv", None)
    return request.param


@pytest.mark.skipif(
    not os.environ.get("MRIOFLOW_REQUIRE_PARSER"),
    reason="checked where MRIOFLOW_REQUIRE_PARSER is set (CI); the parser is optional",
)
def test_compiled_parser_is_built():
    # setup.py builds it wherever a C++17 compiler is present (as on CI); without it
    # read_eora26 still works, on pyarrow, about half as fast (docs/benchmarks.md).
    assert eora_mod.PARSER == "compiled", "mrioflow.io._tsv was not built: reinstall with a C++17 compiler"


def _check_against_files(m, f):
    n, mm = f.n, f.m
    np.testing.assert_array_equal(m.Z, f.T[:n, :n])
    np.testing.assert_array_equal(m.Y, f.FD[:n, :mm])
    va = m.F[m.stressor_position("VA")]
    np.testing.assert_allclose(va, f.VA[:, :n].sum(axis=0), rtol=1e-13, atol=0)
    ch4 = m.stressor_position("CH4")
    np.testing.assert_allclose(m.F[ch4], f.Q[CH4_ROWS, :n].sum(axis=0), rtol=1e-13, atol=0)
    np.testing.assert_allclose(m.F_Y[ch4], f.QY[CH4_ROWS, :mm].sum(axis=0), rtol=1e-13, atol=0)


def test_reads_unpacked_folder(eora):
    m = read_eora26(eora.folder, 2013, cache=False)
    assert m.countries == tuple(COUNTRIES)
    assert m.country_names == ("Afghanistan", "Sudan", "South Sudan", "China")
    assert m.sectors == tuple(SECTORS) and m.fd_categories == tuple(CATEGORIES)
    assert m.stressors == ("CH4", "VA") and m.units == ("Gg", "kUSD")
    assert m.year == 2013 and m.meta["cache"] == "off"
    _check_against_files(m, eora)
    assert m.meta["satellite_rows"]["CH4"] == [  # exactly the non-Memo rows of Eora's methane indicator
        "I-GHG-CH4 emissions (Gg) | Public electricity and heat production",
        "I-GHG-CH4 emissions (Gg) | Enteric fermentation",
        "I-GHG-CH4 emissions (Gg) | Rice cultivation",
        "I-GHG-CH4 emissions (Gg) | Fugitive emissions from oil and gas",
    ]
    assert m.meta["q_indicators"] == {
        "Energy Usage (TJ)": 1,
        "I-GHG-CO2 emissions (Gg)": 3,
        "I-GHG-CH4 emissions (Gg)": 6,
        "I-GHG-N2O emissions (Gg)": 3,
    }
    assert "dropped" in m.meta["row"]


def test_negative_entries_are_data(eora):
    m = read_eora26(eora.folder, 2013, cache=False)
    assert (m.Y < 0).any(), "inventory changes keep their sign"
    assert np.array_equal(m.Y < 0, eora.FD[: eora.n, : eora.m] < 0)
    assert (eora.VA[2, : eora.n] < 0).all()  # subsidies are negative and summed as they are


def test_same_values_as_pymrio_parse_eora26(eora):
    pymrio = pytest.importorskip("pymrio")
    m = read_eora26(eora.folder, 2013, cache=False, satellites={"CO2": "I-GHG-CO2 "})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pymrio.parse_eora26(eora.folder, year=2013, price="bp")
    idx = m.sector_index()
    np.testing.assert_array_equal(m.Z, ref.Z.loc[list(idx), list(idx)].to_numpy())
    np.testing.assert_array_equal(m.Y, ref.Y.loc[list(idx), list(m.fd_index())].to_numpy())
    np.testing.assert_allclose(m.F[m.stressor_position("VA")], ref.VA.F.loc[:, list(idx)].sum().to_numpy(), rtol=1e-13)
    qf = ref.Q.F.loc[:, list(idx)]
    src = qf.index.get_level_values("source")
    stressor = qf.index.get_level_values("stressor")
    ch4 = (stressor == "I-GHG-CH4 emissions") & ~src.str.startswith("Memo:")
    co2 = (stressor == "I-GHG-CO2 emissions") & ~src.str.startswith("Memo:")
    assert ch4.sum() == 4 and co2.sum() == 2
    np.testing.assert_allclose(m.F[m.stressor_position("CH4")], qf[ch4].sum().to_numpy(), rtol=1e-13)
    np.testing.assert_allclose(m.F[m.stressor_position("CO2")], qf[co2].sum().to_numpy(), rtol=1e-13)
    qy = ref.Q.F_Y.loc[:, list(m.fd_index())]
    np.testing.assert_allclose(m.F_Y[m.stressor_position("CH4")], qy[ch4].sum().to_numpy(), rtol=1e-13)


def test_satellites_select_other_rows(eora):
    n = eora.n
    m = read_eora26(
        eora.folder,
        2013,
        cache=False,
        satellites={
            "CO2": "I-GHG-CO2 ",  # an indicator pattern: every CO2 category, Memo excluded
            "Energy": r"^Energy",
            "N2O_soils": ("I-GHG-N2O", "Agricultural soils"),  # indicator and category
            "CH4_rice": "I-GHG-CH4 | ^Rice",  # the same as a string
            "CH4_memo": ("I-GHG-CH4", "^Memo:"),  # Memo rows only when the category pattern names them
        },
    )
    assert m.stressors == ("CH4", "VA", "CO2", "Energy", "N2O_soils", "CH4_rice", "CH4_memo")
    assert m.units == ("Gg", "kUSD", "Gg", "TJ", "Gg", "Gg", "Gg")
    np.testing.assert_allclose(m.F[2], eora.Q[CO2_ROWS, :n].sum(axis=0), rtol=1e-13)
    np.testing.assert_allclose(m.F[3], eora.Q[0, :n], rtol=1e-13)
    np.testing.assert_array_equal(m.F[4], eora.Q[N2O_ROWS[0], :n])
    np.testing.assert_array_equal(m.F[5], eora.Q[6, :n])
    np.testing.assert_allclose(m.F[6], eora.Q[[7, 9], :n].sum(axis=0), rtol=1e-13)
    assert m.meta["satellite_rows"]["N2O_soils"] == ["I-GHG-N2O emissions (Gg) | Agricultural soils"]
    # a "CH4" entry replaces the default methane selection (here: enteric fermentation only)
    p = read_eora26(eora.folder, 2013, cache=False, satellites={"CH4": ("I-GHG-CH4", "Enteric")})
    np.testing.assert_array_equal(p.F[0], eora.Q[5, :n])


def test_satellite_errors(eora):
    with pytest.raises(
        LabelError,
        match=r"no row matches satellite 'SO2' \(indicator pattern 'SO2'; Memo rows "
        r"excluded\); indicators found: Energy Usage \(TJ\) \(1 row\), I-GHG-CO2 emissions \(Gg\) \(3 rows\)",
    ):
        read_eora26(eora.folder, 2013, cache=False, satellites={"SO2": "SO2"})
    with pytest.raises(LabelError, match=r"satellite 'x' \(indicator pattern 'CO2' and category pattern 'Rice'"):
        read_eora26(eora.folder, 2013, cache=False, satellites={"x": ("CO2", "Rice")})
    with pytest.raises(OptionError, match='"VA" is reserved'):
        read_eora26(eora.folder, 2013, cache=False, satellites={"VA": "CO2"})
    with pytest.raises(OptionError, match="invalid indicator pattern"):
        read_eora26(eora.folder, 2013, cache=False, satellites={"X": "(unclosed"})
    with pytest.raises(OptionError, match="invalid category pattern"):
        read_eora26(eora.folder, 2013, cache=False, satellites={"X": ("CO2", "[")})
    with pytest.raises(OptionError, match=r"satellites\['X'\] must be a pattern string"):
        read_eora26(eora.folder, 2013, cache=False, satellites={"X": ("a", "b", "c")})
    with pytest.raises(OptionError, match="give an indicator pattern, a category pattern or both"):
        read_eora26(eora.folder, 2013, cache=False, satellites={"X": (None, "")})
    with pytest.raises(LabelError, match="different units"):
        read_eora26(eora.folder, 2013, cache=False, satellites={"mixed": "Energy|CO2"})


def test_trailing_tabs_and_crlf(tmp_path):
    f = write_eora_files(tmp_path / "crlf", trailing=True, eol="\r\n")
    m = read_eora26(f.folder, 2013, cache=False)
    _check_against_files(m, f)


def test_zip_and_folder_of_years(tmp_path):
    years = tmp_path / "years"
    made = {}
    for y, seed in ((2012, 1), (2013, 2)):
        made[y] = write_eora_files(tmp_path / f"raw{y}", y, seed=seed)
        zip_folder(made[y], years)
    made[2014] = write_eora_files(years / "2014", 2014, seed=3)  # an unpacked sub-folder
    for y in (2012, 2013, 2014):
        m = read_eora26(years, y, cache=False)
        _check_against_files(m, made[y])
        assert m.year == y
    # the zip itself
    m = read_eora26(years / "Eora26_2012_bp.zip", 2012, cache=False)
    _check_against_files(m, made[2012])
    with pytest.raises(MissingDataError, match=r"no Eora26 data for 2015 .*years found: 2012, 2013, 2014"):
        read_eora26(years, 2015, cache=False)
    with pytest.raises(MissingDataError, match=r"Eora26_2012_bp.zip holds no Eora26 2013 \(bp\).*years in it: 2012"):
        read_eora26(years / "Eora26_2012_bp.zip", 2013, cache=False)


def test_purchasers_prices(tmp_path):
    bp = write_eora_files(tmp_path / "d", 2013, "bp", seed=1)
    pp = write_eora_files(tmp_path / "d", 2013, "pp", seed=2)
    m_bp = read_eora26(tmp_path / "d", 2013, cache=False)
    m_pp = read_eora26(tmp_path / "d", 2013, price="pp", cache=False)
    _check_against_files(m_bp, bp)
    _check_against_files(m_pp, pp)
    assert not np.array_equal(m_bp.Z, m_pp.Z)
    with pytest.raises(OptionError, match="price must be 'bp'"):
        read_eora26(tmp_path / "d", 2013, price="xx", cache=False)


def test_labels_beside_the_zip(tmp_path):
    f = write_eora_files(tmp_path / "raw", 2013)
    z = tmp_path / "dl" / "Eora26_2013_bp.zip"
    z.parent.mkdir()
    with zipfile.ZipFile(z, "w") as zf:
        for p in f.folder.iterdir():
            if not p.name.startswith("labels_"):
                zf.write(p, p.name)
    with zipfile.ZipFile(tmp_path / "dl" / "indices.zip", "w") as zf:
        for p in f.folder.glob("labels_*.txt"):
            zf.write(p, p.name)
    _check_against_files(read_eora26(z, 2013, cache=False), f)


def test_keep_row(eora):
    m = read_eora26(eora.folder, 2013, cache=False, keep_row=True)
    R = len(COUNTRIES) + 1
    assert m.countries == (*COUNTRIES, "ROW") and m.n == R * S
    N = eora.n  # position of RoW in the files
    last = m.n - 1  # RoW's last sector
    hh = (R - 1) * C  # RoW's household category
    np.testing.assert_array_equal(m.Z[: eora.n, : eora.n], eora.T[:N, :N])
    np.testing.assert_array_equal(m.Z[last, : eora.n], eora.T[N, :N])
    np.testing.assert_array_equal(m.Z[: eora.n, last], eora.T[:N, N])
    assert m.Z[last, last] == eora.T[N, N]
    assert not m.Z[eora.n : last].any() and not m.Z[:, eora.n : last].any()
    np.testing.assert_array_equal(m.Y[: eora.n, hh], eora.FD[:N, -1])
    assert m.Y[last, hh] == eora.FD[N, -1]
    assert not np.delete(m.Y[:, (R - 1) * C :], 0, axis=1).any()
    assert m.Z.sum() == pytest.approx(eora.T.sum(), rel=1e-13)
    assert m.Y.sum() == pytest.approx(eora.FD.sum(), rel=1e-13)
    assert m.F[0].sum() == pytest.approx(eora.Q[CH4_ROWS].sum(), rel=1e-13)
    assert m.F_Y[0].sum() == pytest.approx(eora.QY[CH4_ROWS].sum(), rel=1e-13)
    assert m.country_names[-1] == "Rest of the World"
    assert "last sector" in m.meta["row"]


# -- malformed input --------------------------------------------------------------------------


def test_missing_path_and_label_file(eora, tmp_path):
    with pytest.raises(MissingDataError, match="does not exist"):
        read_eora26(tmp_path / "nowhere", 2013)
    (eora.folder / "labels_Q.txt").unlink()
    with pytest.raises(MissingDataError, match=r"label file labels_Q.txt not found in .*eora"):
        read_eora26(eora.folder, 2013, cache=False)


def test_missing_data_file(eora):
    (eora.folder / "Eora26_2013_bp_QY.txt").unlink()
    with pytest.raises(MissingDataError, match=r"Eora26_2013_bp_QY.txt are missing"):
        read_eora26(eora.folder, 2013, cache=False)


def test_matrix_shape_disagrees_with_labels(eora):
    p = eora.folder / "Eora26_2013_bp_FD.txt"
    lines = p.read_text().splitlines(keepends=True)
    p.write_text("".join(lines[:-1]))  # one row short
    N, M = eora.n + 1, eora.m + 1
    msg = (
        rf"Eora26_2013_bp_FD.txt: the matrix has shape \({N - 1}, {M}\) "
        rf"but labels_T.txt x labels_FD.txt give shape \({N}, {M}\)"
    )
    with pytest.raises(ReaderError, match=msg):
        read_eora26(eora.folder, 2013, cache=False)


def test_matrix_columns_disagree_with_labels(eora):
    p = eora.folder / "Eora26_2013_bp_T.txt"
    rows = [ln.split("\t")[:-1] for ln in p.read_text().splitlines()]
    p.write_text("".join("\t".join(r) + "\n" for r in rows))
    N = eora.n + 1
    with pytest.raises(
        ReaderError,
        match=rf"Eora26_2013_bp_T.txt: the matrix has shape \({N}, {N - 1}\) but .* give shape \({N}, {N}\)",
    ):
        read_eora26(eora.folder, 2013, cache=False)


def test_ragged_row(eora):
    p = eora.folder / "Eora26_2013_bp_T.txt"
    lines = p.read_text().splitlines()
    lines[6] = lines[6].rsplit("\t", 1)[0]
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(ReaderError, match=rf"Eora26_2013_bp_T.txt: line 7 has {eora.n} values, expected {eora.n + 1}"):
        read_eora26(eora.folder, 2013, cache=False)


def test_non_numeric_cell(eora):
    p = eora.folder / "Eora26_2013_bp_T.txt"
    lines = [ln.split("\t") for ln in p.read_text().splitlines()]
    lines[2][4] = "12,5"
    p.write_text("\n".join("\t".join(r) for r in lines) + "\n")
    with pytest.raises(ReaderError, match=r"Eora26_2013_bp_T.txt: non-numeric cell '12,5' at line 3, column 5"):
        read_eora26(eora.folder, 2013, cache=False)


def test_empty_cell_in_selected_q_row(eora):
    p = eora.folder / "Eora26_2013_bp_Q.txt"
    lines = [ln.split("\t") for ln in p.read_text().splitlines()]
    lines[CH4_ROWS[1]][7] = ""
    p.write_text("\n".join("\t".join(r) for r in lines) + "\n")
    with pytest.raises(
        ReaderError, match=rf"Eora26_2013_bp_Q.txt: non-numeric cell '' at line {CH4_ROWS[1] + 1}, column 8"
    ):
        read_eora26(eora.folder, 2013, cache=False)


def test_non_finite_cell(eora):
    p = eora.folder / "Eora26_2013_bp_VA.txt"
    lines = [ln.split("\t") for ln in p.read_text().splitlines()]
    lines[4][2] = "NaN"
    p.write_text("\n".join("\t".join(r) for r in lines) + "\n")
    with pytest.raises(ReaderError, match=r"Eora26_2013_bp_VA.txt: non-finite value nan at line 5, column 3"):
        read_eora26(eora.folder, 2013, cache=False)


def test_bad_labels(eora):
    p = eora.folder / "labels_T.txt"
    lines = p.read_text().splitlines()
    lines[3] = "Afghanistan\tAFG"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(ReaderError, match=r"labels_T.txt: line 4 has 2 tab-separated field\(s\), expected at least 4"):
        read_eora26(eora.folder, 2013, cache=False)


def test_labels_of_fd_and_t_disagree(eora):
    p = eora.folder / "labels_FD.txt"
    p.write_text(p.read_text().replace("\tCHN\t", "\tIND\t"))
    with pytest.raises(
        LabelError, match=r"labels_FD.txt and labels_T.txt list different countries \(in one only: CHN, IND\)"
    ):
        read_eora26(eora.folder, 2013, cache=False)


def test_corrupt_zip(eora, tmp_path):
    z = zip_folder(eora, tmp_path / "zips")
    good = z.read_bytes()
    z.write_bytes(b"this is not a zip archive" * 10)
    with pytest.raises(ReaderError, match=r"corrupt zip file .*Eora26_2013_bp.zip"):
        read_eora26(z, 2013, cache=False)
    z.write_bytes(good[: len(good) // 2])  # truncated download
    with pytest.raises(ReaderError, match=r"corrupt zip file .*Eora26_2013_bp.zip"):
        read_eora26(tmp_path / "zips", 2013, cache=False)
    # a damaged member (flipped bytes inside the compressed T file): CRC or inflate error
    bad = bytearray(good)
    info = zipfile.ZipFile(io.BytesIO(good)).getinfo("Eora26_2013_bp_T.txt")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 50
    for k in range(start, start + 40):
        bad[k] ^= 0xFF
    z.write_bytes(bytes(bad))
    with pytest.raises(ReaderError, match=r"corrupt zip file .*Eora26_2013_bp.zip: cannot read Eora26_2013_bp_T.txt"):
        read_eora26(z, 2013, cache=False)


def test_bad_year(eora):
    with pytest.raises(OptionError, match="year: .* is not a 4-digit year"):
        read_eora26(eora.folder, "twenty", cache=False)


# -- the writer ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world():
    return mf.datasets.synthetic(year=2013, seed=3, countries=["AFG", "SUD", "SDS", "USR", "CHN", "ROW"])


def test_write_then_read_round_trip(world, tmp_path):
    out = write_eora26(world, tmp_path / "w", 2013)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"Eora26_2013_bp_{k}.txt" for k in ("T", "FD", "VA", "Q", "QY")]
        + ["labels_T.txt", "labels_FD.txt", "labels_VA.txt", "labels_Q.txt"]
    )
    assert leftover_temporaries(out) == [], "no temporary files left"
    # Eora's layout: RoW as ONE row/column -> 5 * 26 + 1
    assert len((out / "labels_T.txt").read_text().splitlines()) == 5 * S + 1
    m = read_eora26(out, 2013, cache=False)
    n = 5 * S
    assert m.countries == world.countries[:5]
    np.testing.assert_array_equal(m.Z, world.Z[:n, :n])  # shortest-repr floats round-trip exactly
    np.testing.assert_array_equal(m.Y, world.Y[:n, : 5 * C])
    np.testing.assert_array_equal(m.F, world.F[:, :n])
    np.testing.assert_array_equal(m.F_Y, world.F_Y[:, : 5 * C])
    k = read_eora26(out, 2013, cache=False, keep_row=True)
    assert k.n == world.n
    for name in ("Z", "Y", "F", "F_Y"):
        np.testing.assert_allclose(getattr(k, name).sum(), getattr(world, name).sum(), rtol=1e-12)


def test_write_zip(world, tmp_path):
    z = write_eora26(world, tmp_path / "z", 2014, price="pp", zip=True)
    assert z.name == "Eora26_2014_pp.zip" and [p.name for p in z.parent.iterdir()] == [z.name]
    m = read_eora26(tmp_path / "z", 2014, price="pp", cache=False)
    np.testing.assert_array_equal(m.Z, world.Z[: 5 * S, : 5 * S])
    assert m.year == 2014


def test_write_without_row_reads_back_whole(tmp_path):
    w = mf.datasets.synthetic(year=2013, seed=4, countries=["CHN", "IND"])
    m = read_eora26(write_eora26(w, tmp_path / "x", 2013), 2013, cache=False, keep_row=True)
    assert m.countries == ("CHN", "IND")
    np.testing.assert_array_equal(m.Z, w.Z)
    assert "none" in m.meta["row"]


# -- issue 19 (12): no label pattern can hang the reader ----------------------------------------------------

CATASTROPHIC = r"I-GHG-CO2 | (\D|\D)*@"  # exponential backtracking in Python's re on a 38-character category


def test_catastrophic_satellite_pattern_returns_with_a_clear_error(eora, tmp_path):
    import subprocess

    script = (
        "import sys\n"
        "from mrioflow.errors import MrioflowError\n"
        "from mrioflow.io import read_eora26\n"
        "try:\n"
        f"    read_eora26({str(eora.folder)!r}, 2013, cache=False, satellites={{'X': {CATASTROPHIC!r}}})\n"
        "except MrioflowError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
        "    sys.exit(3)\n"
    )
    # the timeout only ends a hung child; it asserts nothing about speed (before the fix it ran for hours)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 3, done.stderr
    assert done.stdout.startswith(
        r"LabelError labels_Q.txt: no row matches satellite 'X' (indicator pattern 'I-GHG-CO2' and category "
        r"pattern '(\\D|\\D)*@'; Memo rows excluded)"
    ), done.stdout
    assert done.stderr == "", done.stderr  # nothing logged by the regex engine


def test_patterns_re2_cannot_match_are_refused_clearly(eora):
    with pytest.raises(
        OptionError,
        match=r"satellites\['X'\]: the category pattern '\(\?=Road\)' cannot be used: invalid perl operator: "
        r"\(\?=; label patterns are matched with RE2 \(linear time, so no pattern can hang a run\), which has "
        r"no look-around, backreferences or possessive repeats",
    ):
        read_eora26(eora.folder, 2013, cache=False, satellites={"X": ("CO2", "(?=Road)")})
    with pytest.raises(OptionError, match=r"satellites\['X'\]: the indicator pattern is 1001 characters long"):
        read_eora26(eora.folder, 2013, cache=False, satellites={"X": "a" * 1001})
    m = read_eora26(eora.folder, 2013, cache=False, satellites={"CO2": re.compile("i-ghg-co2", re.IGNORECASE)})
    assert m.meta["satellite_rows"]["CO2"] == [
        "I-GHG-CO2 emissions (Gg) | Public electricity and heat production",
        "I-GHG-CO2 emissions (Gg) | Road transportation",
    ]
