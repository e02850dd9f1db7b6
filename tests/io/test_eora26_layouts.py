"""read_eora26 and `mrioflow run --eora26` on tables in the Eora26 layout as it is released:

- Eora26 itself (io_fixtures: real Q labels with Memo rows, CO2 and N2O beside CH4), written
  here without mrioflow's writer, its methane checked by hand-summing the non-Memo CH4 rows;
- the layout of pymrio's own Eora26 test files (6 regions x 8 sectors, no RoW, one VA row, CO2
  rows only), compared with ``pymrio.parse_eora26`` + ``calc_all`` on the same files;
- zips holding a file twice, and zip bombs.
"""

from __future__ import annotations

import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
from io_fixtures import (
    CATEGORIES,
    CH4_ROWS,
    COUNTRIES,
    SECTORS,
    write_eora_files,
    zip_folder,
)

import mrioflow as mf
from mrioflow import cli
from mrioflow.errors import OptionError, ReaderError
from mrioflow.io import eora26 as eora_mod
from mrioflow.io import read_eora26

S, C = len(SECTORS), len(CATEGORIES)


def _groups(path, codes):
    half = len(codes) // 2
    pd.DataFrame({"iso3": codes, "region": ["A"] * half + ["B"] * (len(codes) - half)}).to_csv(path, index=False)
    return path


def _run(capsys, *args) -> tuple[int, str]:
    code = cli.main(["run", "-q", "--no-cache", "--backend", "numpy", *map(str, args)])
    return code, capsys.readouterr().err


# -- Eora26 as released -----------------------------------------------------------------------


def test_methane_is_the_non_memo_ch4_rows_in_the_reader_and_the_run(tmp_path, capsys):
    f = write_eora_files(tmp_path / "eora")
    m = read_eora26(f.folder, 2013, cache=False)
    assert m.stressors == ("CH4", "VA")
    groups = _groups(tmp_path / "groups.csv", COUNTRIES)
    out = tmp_path / "out"
    code, err = _run(capsys, "--eora26", f.folder, "--years", 2013, "--groups", groups, "-o", out)
    assert code == 0, err
    acc = pd.read_csv(out / "tables" / "accounts_country_2013.csv")
    acc = acc[acc["stressor"] == "CH4"].set_index("country")
    for i, code in enumerate(COUNTRIES):
        # by hand: the four non-Memo "I-GHG-CH4 emissions (Gg)" rows of the country's sectors, plus its
        # households' direct emissions from the same rows of QY
        own = sum(float(f.Q[r, j]) for r in CH4_ROWS for j in range(i * S, (i + 1) * S))
        direct = sum(float(f.QY[r, j]) for r in CH4_ROWS for j in range(i * C, (i + 1) * C))
        assert m.F[0, i * S : (i + 1) * S].sum() == pytest.approx(own, rel=1e-12)
        assert acc.loc[code, "pba"] == pytest.approx(own + direct, rel=1e-12)
        assert acc.loc[code, "direct"] == pytest.approx(direct, rel=1e-12)
        memo = sum(float(f.Q[r, j]) for r in (7, 9) for j in range(i * S, (i + 1) * S))
        assert memo > 1e-6 * own, "the Memo rows hold emissions that must be left out"
    assert acc["cba"].sum() == pytest.approx(acc["pba"].sum(), rel=1e-9)


# -- pymrio's Eora26 test-file layout -------------------------------------------------------------

REGIONS = [f"reg{k}" for k in range(1, 7)]
PM_SECTORS = ["food", "mining", "manufactoring", "electricity", "construction", "trade", "transport", "other"]
PM_CATEGORIES = [
    "Final consumption expenditure by households",
    "Final consumption expenditure by non-profit organisations serving households (NPISH)",
    "Final consumption expenditure by government",
    "Gross fixed capital formation",
    "Changes in inventories",
    "Changes in valuables",
    "Export",
]
PM_Q = [("I-GHG-CO2 emissions (kg)", "emission_type1"), ("I-GHG-CO2 emissions (kg)", "emission_type2")]


def _write_pymrio_layout(folder, year=2010, seed=11):
    """Files in the layout of pymrio's tests/mock_mrios/eora26_mock (own random numbers)."""
    rng = np.random.default_rng(seed)
    n, m = len(REGIONS) * len(PM_SECTORS), len(REGIONS) * len(PM_CATEGORIES)
    Z = rng.gamma(0.6, 900.0, (n, n)) * (rng.random((n, n)) < 0.7)
    Y = rng.gamma(0.9, 6000.0, (n, m)) * (rng.random((n, m)) < 0.8)
    VA = rng.gamma(2.0, 3000.0, (1, n))
    Q = rng.gamma(0.8, 5e6, (2, n))
    QY = np.zeros((2, m))
    QY[:, :: len(PM_CATEGORIES)] = rng.gamma(0.8, 1e6, (2, len(REGIONS)))
    folder.mkdir(parents=True)

    def fmt(a):
        return "".join("\t".join(repr(float(v)) for v in row) + "\n" for row in a)

    stem = f"Eora26_{year}_bp"
    files = {
        f"{stem}_T.txt": fmt(Z),
        f"{stem}_FD.txt": fmt(Y),
        f"{stem}_VA.txt": fmt(VA),
        f"{stem}_Q.txt": fmt(Q),
        f"{stem}_QY.txt": fmt(QY),
        "labels_T.txt": "".join(f"Region {r[3:]}\t{r}\tIndustries\t{s}\n" for r in REGIONS for s in PM_SECTORS),
        "labels_FD.txt": "".join(f"Region {r[3:]}\t{r}\tFinal Demand\t{c}\n" for r in REGIONS for c in PM_CATEGORIES),
        "labels_VA.txt": "Primary Inputs\tValue Added\n",
        "labels_Q.txt": "".join(f"{a}\t{b}\n" for a, b in PM_Q),
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return Z, Y, VA, Q, QY


@pytest.fixture
def pm_layout(tmp_path):
    folder = tmp_path / "eora26_mock"
    return folder, _write_pymrio_layout(folder)


SPLIT = {"type1": ("I-GHG-CO2", "emission_type1"), "type2": "I-GHG-CO2 | emission_type2"}


def test_pymrio_layout_reads_without_methane(pm_layout):
    folder, (Z, Y, VA, Q, QY) = pm_layout
    m = read_eora26(folder, 2010, cache=False)
    assert m.countries == tuple(REGIONS) and m.sectors == tuple(PM_SECTORS)
    assert m.fd_categories == tuple(PM_CATEGORIES) and m.country_names[0] == "Region 1"
    assert m.stressors == ("VA",), "no methane rows: methane is simply absent"
    assert m.meta["row"] == "none in the files"
    assert m.meta["q_indicators"] == {"I-GHG-CO2 emissions (kg)": 2}
    np.testing.assert_array_equal(m.Z, Z)
    np.testing.assert_array_equal(m.Y, Y)
    np.testing.assert_array_equal(m.F[0], VA[0])
    co2 = read_eora26(folder, 2010, cache=False, satellites={"CO2": "I-GHG-CO2"})
    assert co2.stressors == ("VA", "CO2") and co2.units == ("kUSD", "kg")
    np.testing.assert_allclose(co2.F[1], Q.sum(axis=0), rtol=1e-15)
    np.testing.assert_allclose(co2.F_Y[1], QY.sum(axis=0), rtol=1e-15)


def test_pymrio_layout_agrees_with_pymrio_parse_and_calc_all(pm_layout):
    pymrio = pytest.importorskip("pymrio", reason="pymrio is a test dependency: pip install '.[test]'")
    folder, _ = pm_layout
    m = read_eora26(folder, 2010, cache=False, satellites=SPLIT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pymrio.parse_eora26(folder, year=2010)
        ref.calc_all()
    rows, cols = list(m.sector_index()), list(m.fd_index())
    tol = {"rtol": 1e-10, "atol": 0}
    np.testing.assert_allclose(m.Z, ref.Z.loc[rows, rows].to_numpy(dtype=float), **tol)
    np.testing.assert_allclose(m.Y, ref.Y.loc[rows, cols].to_numpy(dtype=float), **tol)
    np.testing.assert_allclose(m.F[m.stressor_position("VA")], ref.VA.F.loc[:, rows].sum().to_numpy(), **tol)
    res = mf.Engine(backend="numpy").run(m)
    for name, label in zip(SPLIT, ref.Q.F.index):
        assert label == ("I-GHG-CO2 emissions", f"emission_{name}")
        k = m.stressor_position(name)
        np.testing.assert_allclose(m.F[k], ref.Q.F.loc[label, rows].to_numpy(dtype=float), **tol)
        np.testing.assert_allclose(m.F_Y[k], ref.Q.F_Y.loc[label, cols].to_numpy(dtype=float), **tol)
        acc = res.accounts(name)
        for ours, theirs in [
            ("cba", ref.Q.D_cba_reg),
            ("pba", ref.Q.D_pba_reg),
            ("imports", ref.Q.D_imp_reg),
            ("exports", ref.Q.D_exp_reg),
        ]:
            np.testing.assert_allclose(
                acc[ours].to_numpy(), theirs.loc[label, REGIONS].to_numpy(dtype=float), err_msg=f"{name} {ours}", **tol
            )
        np.testing.assert_allclose(
            res.multipliers().loc[name].to_numpy(),
            ref.Q.M.loc[label, list(res.multipliers().columns)].to_numpy(dtype=float),
            **tol,
        )
    va = res.accounts("VA")
    np.testing.assert_allclose(va["cba"].to_numpy(), ref.VA.D_cba_reg.loc[:, REGIONS].sum().to_numpy(), **tol)
    np.testing.assert_allclose(va["pba"].to_numpy(), ref.VA.D_pba_reg.loc[:, REGIONS].sum().to_numpy(), **tol)


def test_run_without_methane_says_how_to_choose_a_satellite(pm_layout, tmp_path, capsys):
    folder, (*_, Q, QY) = pm_layout
    groups = _groups(tmp_path / "groups.csv", REGIONS)
    code, err = _run(capsys, "--eora26", folder, "--years", 2010, "--groups", groups, "-o", tmp_path / "o1")
    assert code == 1
    assert err.count("\n") == 1, err
    assert "the table has no CH4" in err and "I-GHG-CH4 emissions (Gg)" in err
    assert "indicators found: I-GHG-CO2 emissions (kg) (2 rows)" in err
    assert "--satellite 'CO2=I-GHG-CO2'" in err and "--edgar FILE" in err

    out = tmp_path / "o2"
    code, err = _run(
        capsys, "--eora26", folder, "--years", 2010, "--groups", groups, "--satellite", "CO2=I-GHG-CO2", "-o", out
    )
    assert code == 0, err
    acc = pd.read_csv(out / "tables" / "accounts_country_2010.csv")
    assert set(acc["stressor"]) == {"CO2", "VA"}
    co2 = acc[acc["stressor"] == "CO2"].set_index("country")
    n_s, n_c = len(PM_SECTORS), len(PM_CATEGORIES)
    for i, r in enumerate(REGIONS):
        expected = Q[:, i * n_s : (i + 1) * n_s].sum() + QY[:, i * n_c : (i + 1) * n_c].sum()
        assert co2.loc[r, "pba"] == pytest.approx(expected, rel=1e-12)
        assert co2.loc[r, "unit"] == "kg"


def test_satellite_option_errors(pm_layout, tmp_path, capsys):
    folder, _ = pm_layout
    code, err = _run(capsys, "--satellite", "CO2=I-GHG-CO2", "-o", tmp_path / "o")
    assert code == 1 and "give eora26 as well" in err
    code, err = _run(
        capsys, "--eora26", folder, "--years", 2010, "--satellite", "I-GHG-CO2 | emission_type1", "-o", tmp_path / "o"
    )
    assert code == 1 and "name the stressor it selects as NAME=PATTERN" in err
    code, err = _run(
        capsys, "--eora26", folder, "--years", 2010, "--stressor", "N2O", "--satellite", "CO2=CO2", "-o", tmp_path / "o"
    )
    assert code == 1 and "stressor 'N2O' and satellite 'CO2=CO2' name two stressors" in err
    settings = mf.analysis.Settings.build(overrides={"eora26": str(folder), "satellite": "N2O=I-GHG-N2O"})
    assert settings.stressor == "N2O" and settings.satellite == "N2O=I-GHG-N2O"
    settings.validate()  # validating again changes nothing
    assert settings.stressor == "N2O"
    assert eora_mod.satellite_option("I-GHG-CO2") == ("I-GHG-CO2", "I-GHG-CO2")
    assert eora_mod.satellite_option("x=I-GHG-N2O | soils") == ("x", "I-GHG-N2O | soils")
    with pytest.raises(OptionError, match="satellite must be a pattern"):
        eora_mod.satellite_option(" ")


def test_satellite_matching_nothing_in_the_run(pm_layout, tmp_path, capsys):
    folder, _ = pm_layout
    groups = _groups(tmp_path / "groups.csv", REGIONS)
    code, err = _run(
        capsys,
        "--eora26",
        folder,
        "--years",
        2010,
        "--groups",
        groups,
        "--satellite",
        "CH4=I-GHG-CH4",
        "-o",
        tmp_path / "o",
    )
    assert code == 1 and err.count("\n") == 1
    assert "no row matches satellite 'CH4' (indicator pattern 'I-GHG-CH4'" in err
    assert "indicators found: I-GHG-CO2 emissions (kg) (2 rows)" in err


def test_mc_and_sweep_take_a_satellite(pm_layout, tmp_path, capsys):
    folder, (*_, Q, QY) = pm_layout
    code = cli.main(
        [
            "sweep",
            "-q",
            "--eora26",
            str(folder),
            "--years",
            "2010",
            "--satellite",
            "CO2=I-GHG-CO2",
            "--backend",
            "numpy",
            "-o",
            str(tmp_path / "sweep"),
        ]
    )
    assert code == 0, capsys.readouterr().err
    code = cli.main(
        [
            "mc",
            "-q",
            "--eora26",
            str(folder),
            "--year",
            "2010",
            "--satellite",
            "CO2=I-GHG-CO2",
            "--samples",
            "4",
            "--backend",
            "numpy",
            "-o",
            str(tmp_path / "mc"),
        ]
    )
    assert code == 0, capsys.readouterr().err
    summary = pd.read_csv(tmp_path / "mc" / "tables" / "mc_summary_CO2_pba.csv", index_col=0)
    n_s, n_c = len(PM_SECTORS), len(PM_CATEGORIES)
    expected = [Q[:, i * n_s : (i + 1) * n_s].sum() + QY[:, i * n_c : (i + 1) * n_c].sum() for i in range(len(REGIONS))]
    np.testing.assert_allclose(summary.loc[REGIONS, "nominal"].to_numpy(), expected, rtol=1e-12)
    code = cli.main(["sweep", "-q", "--eora26", str(folder), "--years", "2010", "-o", str(tmp_path / "s2")])
    err = capsys.readouterr().err
    assert code == 1 and "the table has no CH4" in err and "--satellite" in err


# -- zips: the same file twice, zip bombs ---------------------------------------------------------


def test_zip_holding_a_file_twice_is_refused_naming_both(tmp_path):
    f = write_eora_files(tmp_path / "raw")
    z = zip_folder(f, tmp_path / "dl")
    with zipfile.ZipFile(z, "a") as zf:
        zf.write(f.folder / "Eora26_2013_bp_T.txt", "Eora26_2013_bp/Eora26_2013_bp_T.txt")
    with pytest.raises(
        ReaderError,
        match=r"Eora26_2013_bp.zip holds Eora26_2013_bp_T.txt 2 times "
        r"\(Eora26_2013_bp_T.txt, Eora26_2013_bp/Eora26_2013_bp_T.txt\); cannot tell which",
    ):
        read_eora26(z, 2013, cache=False)
    z2 = zip_folder(f, tmp_path / "dl2")
    with zipfile.ZipFile(z2, "a") as zf:
        zf.write(f.folder / "labels_Q.txt", "old/labels_Q.txt")
    with pytest.raises(ReaderError, match=r"holds labels_Q.txt 2 times \(labels_Q.txt, old/labels_Q.txt\)"):
        read_eora26(tmp_path / "dl2", 2013, cache=False)


def _bomb(z, member: str, size: int) -> None:
    with zipfile.ZipFile(z, "a", compression=zipfile.ZIP_DEFLATED) as zf, zf.open(member, "w") as out:
        chunk = b"0\t" * (1 << 19)
        for _ in range(size // len(chunk)):
            out.write(chunk)


def test_zip_bomb_is_refused_before_reading(tmp_path, monkeypatch):
    f = write_eora_files(tmp_path / "raw")
    (f.folder / "Eora26_2013_bp_T.txt").unlink()
    z = zip_folder(f, tmp_path / "dl")
    _bomb(z, "Eora26_2013_bp_T.txt", 8 << 20)  # 8 MiB of "0\t" compress to a few kB
    assert z.stat().st_size < 200_000
    read, original = [], zipfile.ZipFile.read

    def recording_read(self, name, pwd=None):
        read.append(getattr(name, "filename", name))
        return original(self, name, pwd)

    monkeypatch.setattr(zipfile.ZipFile, "read", recording_read)
    N = len(COUNTRIES) * S + 1
    limit = N * N * 64 + 1024
    with pytest.raises(
        ReaderError,
        match=rf"Eora26_2013_bp.zip:Eora26_2013_bp_T.txt: 8,388,608 bytes uncompressed, "
        rf"more than the {N} x {N} cells of labels_T.txt x labels_T.txt take at 64 bytes per cell "
        rf"\({limit:,} bytes\); refusing to read it",
    ):
        read_eora26(z, 2013, cache=False)
    assert "labels_T.txt" in read and "Eora26_2013_bp_T.txt" not in read  # refused before decompressing


def test_label_file_bomb_is_refused(tmp_path, monkeypatch):
    f = write_eora_files(tmp_path / "raw")
    (f.folder / "labels_Q.txt").unlink()
    z = zip_folder(f, tmp_path / "dl")
    _bomb(z, "labels_Q.txt", 2 << 20)
    monkeypatch.setattr(eora_mod, "_MAX_LABEL_BYTES", 1 << 20)  # 64 MiB in use: a smaller bomb for the test
    with pytest.raises(
        ReaderError,
        match=r"labels_Q.txt: 2,097,152 bytes uncompressed, more than a label file may "
        r"hold \(1,048,576 bytes\)",
    ):
        read_eora26(z, 2013, cache=False)


def test_write_eora26_writes_the_released_layout(tmp_path):
    world = mf.datasets.synthetic(year=2013, seed=3, countries=["AFG", "CHN", "ROW"])
    out = mf.io.write_eora26(world, tmp_path / "w", 2013)
    lq = [ln.split("\t") for ln in (out / "labels_Q.txt").read_text().splitlines()]
    assert all(len(r) == 2 for r in lq)
    indicators = {r[0] for r in lq}
    assert indicators == {"I-GHG-CH4 emissions (Gg)", "I-GHG-CO2 emissions (Gg)", "I-GHG-N2O emissions (Gg)"}
    assert ["I-GHG-CH4 emissions (Gg)", "Memo: International aviation"] in lq
    assert ["I-GHG-CH4 emissions (Gg)", "Enteric fermentation"] in lq
    lt = [ln.split("\t") for ln in (out / "labels_T.txt").read_text().splitlines()]
    assert lt[0] == ["Afghanistan", "AFG", "Industries", SECTORS[0]] and lt[-1][1:3] == ["ROW", "Industries"]
    assert len(lt) == 2 * S + 1
    m = read_eora26(out, 2013, cache=False)
    assert m.stressors == ("CH4", "VA")
    assert not any("Memo" in r for r in m.meta["satellite_rows"]["CH4"])
    np.testing.assert_array_equal(m.F[0], world.F[0, : 2 * S])  # one category per sector: exact sums
    # a real table: nothing made up, no RoW, other counts
    real = mf.datasets.synthetic(year=2013, seed=3, countries=["AFG", "CHN"]).replace(meta={})
    out2 = mf.io.write_eora26(real, tmp_path / "r", 2013)
    lq2 = (out2 / "labels_Q.txt").read_text()
    assert "Memo" not in lq2 and "CO2" not in lq2 and "N2O" not in lq2
    back = read_eora26(out2, 2013, cache=False)
    np.testing.assert_array_equal(back.F, real.F)
    assert back.meta["row"] == "none in the files"
