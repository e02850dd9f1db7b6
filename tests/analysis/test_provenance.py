"""provenance.json and report.html of a two-year Eora26 + EDGAR run name every input with its
size and SHA-256 (checked against hashlib on the files), the command line and the version."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from edgar_layout import HEADER, YEARS

import mrioflow as mf
from mrioflow.analysis import provenance as prov

CODES = ["CHN", "JPN", "KOR", "IND", "PAK", "DEU", "FRA", "GBR", "USA", "BRA"]


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Eora26 2013 as a zip and 2021 as loose files in a sub-folder; EDGAR as the released xlsx."""
    from openpyxl import Workbook

    root = tmp_path_factory.mktemp("data")
    eora = root / "eora"
    mf.io.write_eora26(mf.datasets.synthetic(2013, countries=CODES), eora, 2013, zip=True)
    mf.io.write_eora26(mf.datasets.synthetic(2021, countries=CODES), eora / "2021", 2021)
    (eora / "Eora26_2019_bp.zip").write_bytes(b"another year: never read, never hashed")
    wb = Workbook()
    wb.active.title = "TOTALS BY COUNTRY"
    ws = wb.create_sheet("IPCC 2006")
    for _ in range(9):  # EDGAR's title block, header on row 10
        ws.append(["EDGAR"])
    ws.append(HEADER)
    rng = np.random.default_rng(0)
    for code in CODES:
        for src in ("3.A.1", "1.B.2", "4.A", "1.A.4"):
            ws.append(["Non-Annex_I", "Rest", code, code, src, src, "CH4", "bio", *rng.gamma(2.0, 40.0, len(YEARS))])
    edgar = root / "EDGAR_CH4_1970_2022.xlsx"
    wb.save(edgar)
    groups = root / "groups.csv"
    groups.write_text("iso3,region\nCHN,East\nJPN,East\nKOR,East\nIND,South\nPAK,South\nDEU,West\nFRA,West\n")
    return eora, edgar, groups


def _check_inputs(p, eora, edgar, groups):
    by_role = {}
    for rec in p["inputs"]:
        by_role.setdefault(rec["role"], []).append(rec)
    tables = {r["path"]: r for r in by_role["eora26 table"]}
    zip_path = eora / "Eora26_2013_bp.zip"
    loose = sorted((eora / "2021").iterdir())
    assert set(tables) == {str(zip_path.resolve())} | {str(f.resolve()) for f in loose}
    for path, rec in tables.items():
        f = eora / path.split("/eora/", 1)[1]
        assert rec["sha256"] == _sha(f) and rec["size"] == f.stat().st_size
        assert rec["given"] == str(eora)
    assert tables[str(zip_path.resolve())]["years"] == [2013]
    assert all(tables[str(f.resolve())]["years"] == [2021] for f in loose)
    with zipfile.ZipFile(zip_path) as zf:
        assert {m["name"] for m in tables[str(zip_path.resolve())]["members"]} == set(zf.namelist())
    (rec,) = by_role["edgar"]
    assert rec["sha256"] == _sha(edgar) and rec["size"] == edgar.stat().st_size and rec["given"] == str(edgar)
    (rec,) = by_role["grouping"]
    assert rec["sha256"] == _sha(groups)
    assert p["edgar used"] is True and p["custom grouping"] is True and p["custom edgar mapping"] is False
    assert p["years"] == [2013, 2021] and set(p["sources by year"]) == {"2013", "2021"}
    assert p["mrioflow version"] == mf.__version__


def test_two_year_eora26_edgar_run_from_the_cli(inputs, tmp_path):
    from mrioflow.cli import main

    eora, edgar, groups = inputs
    out = tmp_path / "o"
    argv = [
        "run",
        "-q",
        "--eora26",
        str(eora),
        "--years",
        "2013",
        "2021",
        "--edgar",
        str(edgar),
        "--groups",
        str(groups),
        "--no-cache",
        "--backend",
        "numpy",
        "-o",
        str(out),
    ]
    assert main(argv) == 0
    p = json.loads((out / "provenance.json").read_text())
    _check_inputs(p, eora, edgar, groups)
    assert p["command line"].startswith("mrioflow run -q --eora26 ") and str(edgar) in p["command line"]
    assert p["api call"] is None
    html = (out / "report.html").read_text(encoding="utf-8")
    for rec in p["inputs"]:
        assert rec["sha256"] in html
    assert "mrioflow run -q --eora26" in html


def test_api_call_records_its_settings(inputs, tmp_path):
    eora, edgar, groups = inputs
    s = mf.analysis.Settings.build(
        overrides=dict(
            eora26=str(eora),
            years=[2013, 2021],
            edgar=str(edgar),
            groups=str(groups),
            cache=False,
            backend="numpy",
            output=str(tmp_path / "o"),
        )
    )
    p = mf.analysis.run(s, progress=False).provenance
    _check_inputs(p, eora, edgar, groups)
    assert p["command line"] is None and "eora26" in p["api call"]


def test_a_missing_second_year_fails_before_anything_is_written(inputs, tmp_path):
    eora, _, _ = inputs
    s = mf.analysis.Settings.build(
        overrides=dict(eora26=str(eora), years=[2013, 2020], cache=False, output=str(tmp_path / "o"))
    )
    with pytest.raises(mf.errors.MissingDataError, match="no Eora26 data for 2020"):
        mf.analysis.run(s, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_git_commit_never_fails_without_git(monkeypatch):
    import subprocess

    def no_git(*a, **k):
        raise FileNotFoundError("git")

    monkeypatch.setattr(subprocess, "run", no_git)
    assert prov.git_commit() is None


@pytest.mark.parametrize("command, years", [("sweep", ["--years", "2013", "2021"]), ("mc", ["--year", "2021"])])
def test_sweep_and_mc_record_their_inputs(inputs, tmp_path, command, years):
    from mrioflow.cli import main

    eora, edgar, _ = inputs
    out = tmp_path / command
    extra = ["--samples", "4"] if command == "mc" else []
    argv = [
        command,
        "-q",
        "--eora26",
        str(eora),
        *years,
        "--edgar",
        str(edgar),
        "--backend",
        "numpy",
        *extra,
        "-o",
        str(out),
    ]
    assert main(argv) == 0
    p = json.loads((out / "provenance.json").read_text())
    assert p["command line"] == "mrioflow " + " ".join(argv) and p["edgar used"] is True
    want = {int(y) for y in years[1:]}
    served = {y for rec in p["inputs"] if rec["role"] == "eora26 table" for y in rec["years"]}
    assert served == want
    for rec in p["inputs"]:
        assert rec["sha256"] == _sha(Path(rec["path"]))
    assert {r["role"] for r in p["inputs"]} == {"eora26 table", "edgar"}
    html = (out / "report.html").read_text(encoding="utf-8")
    assert all(rec["sha256"] in html for rec in p["inputs"])
