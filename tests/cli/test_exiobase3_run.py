"""`mrioflow run --data FOLDER` on generated EXIOBASE 3 years: the whole study, with the BRI
grouping resolved against EXIOBASE's regions (countries inside WA, WE, WF, WL, WM named)."""

from __future__ import annotations

import json

import exio_layout as E
import pandas as pd
from cli_runner import run_cli as mrioflow


def _run(tmp_path, out, *extra):
    return mrioflow(
        "run", "-q", "--data", tmp_path / "exio", "--years", 2019, 2020, "--no-cache", "--backend", "numpy",
        "-o", tmp_path / out, *extra,
    )  # fmt: skip


def test_the_study_runs_on_exiobase_and_names_the_unresolved_countries(tmp_path):
    E.write_year(tmp_path / "exio", 2019, zipped=True)
    E.write_year(tmp_path / "exio", 2020)
    proc = _run(tmp_path, "out")
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    prov = json.loads((out / "provenance.json").read_text())
    res = prov["grouping resolution"]
    assert res["database"] == "exiobase3"
    assert res["resolved"] == {"CHN": "CN", "RUS": "RU", "IND": "IN", "POL": "PL"}
    unresolved = {u["country"]: u["inside"] for u in res["unresolved"]}
    assert unresolved["PAK"] == "WA" and unresolved["SAU"] == "WM" and unresolved["UKR"] == "WE"
    assert unresolved["TUR"] == ""  # EXIOBASE resolves Turkey, but this small world lacks it
    assert len(unresolved) == 58
    report = (out / "report.html").read_text()
    assert "Grouping on exiobase3" in report and "58 countries of the grouping are not resolved" in report
    assert "Pakistan" in report and "Mongolia" in report
    gmi = pd.read_csv(out / "tables" / "gmi_country_2019.csv")
    assert set(gmi["country"] if "country" in gmi else gmi.iloc[:, 0]) >= {"CN", "RU", "IN", "PL"}
    for year in (2019, 2020):
        assert (out / "tables" / f"bmi_region_{year}.csv").is_file()
        assert (out / "tables" / f"flows_region_CH4_{year}.csv").is_file()


def test_an_aggregate_region_assigned_to_a_group_is_stated(tmp_path):
    E.write_year(tmp_path / "exio", 2019)
    E.write_year(tmp_path / "exio", 2020)
    proc = _run(tmp_path, "out", "--aggregate-region", "WA=South Asia", "--aggregate-region", "WM=West Asia")
    assert proc.returncode == 0, proc.stderr
    prov = json.loads((tmp_path / "out" / "provenance.json").read_text())
    assert prov["grouping resolution"]["assigned aggregates"] == {"WA": "South Asia", "WM": "West Asia"}
    report = (tmp_path / "out" / "report.html").read_text()
    assert "WA &rarr; South Asia" in report and "WM &rarr; West Asia" in report
    gmi = pd.read_csv(tmp_path / "out" / "tables" / "gmi_region_2019.csv")
    assert "West Asia" in set(gmi.iloc[:, 0])


def test_a_bad_assignment_is_one_clear_line(tmp_path):
    E.write_year(tmp_path / "exio", 2019)
    E.write_year(tmp_path / "exio", 2020)
    proc = _run(tmp_path, "out", "--aggregate-region", "CN=South Asia")
    assert proc.returncode != 0
    assert "cannot assign 'CN': it is not an aggregate region" in proc.stderr
    assert "Traceback" not in proc.stderr
    bad = mrioflow("run", "--data", tmp_path / "exio", "--aggregate-region", "WA", "-o", tmp_path / "o2")
    assert bad.returncode == 2 and "expected CODE=GROUP" in bad.stderr
