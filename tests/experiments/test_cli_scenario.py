"""mrioflow scenario: tables, figure, report and provenance; a bad file is one line naming file, scenario, key."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pandas as pd
import pytest

import mrioflow as mf

sys.path.insert(0, str(Path(__file__).parents[1] / "cli"))
from cli_runner import assert_one_line_error, run_cli

SMALL = ["--synthetic-countries", "5", "--backend", "numpy", "-q"]


@pytest.fixture(scope="module")
def countries():
    return mf.datasets.synthetic(year=2013, n_countries=5).countries


@pytest.fixture
def groups(tmp_path, countries):
    path = tmp_path / "groups.csv"
    rows = [f"{c},{'East' if i < 2 else 'West'}" for i, c in enumerate(countries[:4])]
    path.write_text("iso3,region\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _file(tmp_path, text):
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_writes_tables_figure_report_provenance(tmp_path, countries, groups):
    c = countries
    path = _file(
        tmp_path,
        f"""
[[scenario]]
name = "east-ag"
description = "East agriculture -20 % methane intensity"
  [[scenario.change]]
  kind = "intensity"
  stressor = "CH4"
  region = "East"
  sector = "Agriculture"
  scale = 0.8
[[scenario]]
name = "shift"
  [[scenario.change]]
  kind = "final_demand_sourcing"
  consumer = "{c[0]}"
  product = "Agriculture"
  from = "{c[1]}"
  to = "{c[2]}"
  share = 0.25
[[scenario]]
name = "tech"
  [[scenario.change]]
  kind = "technology"
  buyer = "{c[3]}"
  scale = 0.9
""",
    )
    out = tmp_path / "out"
    proc = run_cli("scenario", "--scenarios", path, "--groups", groups, "-o", out, "--years", 2013, 2014, *SMALL)
    assert proc.returncode == 0, proc.stderr
    paths = pd.read_csv(out / "tables" / "scenario_paths.csv")
    assert paths["path"].tolist() == ["intensity", "final demand", "low-rank update (k = 26)"] * 2
    acc = pd.read_csv(out / "tables" / "scenario_accounts_change_CH4.csv")
    assert set(acc["unit"]) == {"Gg"} and set(acc["year"]) == {2013, 2014}
    east = acc[(acc["scenario"] == "east-ag") & (acc["country"].isin(c[:2]))]
    assert (east["pba"] < 0).all()  # less methane where the intensity fell
    gmi = pd.read_csv(out / "tables" / "scenario_gmi_region.csv")
    assert set(gmi["region"]) == {"East", "West"} and "change" in gmi
    for name in ("scenario_bmi_region", "scenario_flows_CH4", "scenario_accounts_VA", "scenario_gmi_country"):
        assert (out / "tables" / f"{name}.csv").is_file()
    assert (out / "figures" / "scenario_changes_2013.png").stat().st_size > 1000
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "<h2>Scenarios</h2>" in report and "East agriculture -20 % methane intensity" in report
    prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    (rec,) = [r for r in prov["inputs"] if r["role"] == "scenarios"]
    assert rec["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_unknown_label(tmp_path):
    path = _file(tmp_path, '[[scenario]]\nname = "s1"\n[[scenario.change]]\nkind = "intensity"\nstressor = "CH4"\n'
                 'country = "XYZ"\nscale = 0.5\n')  # fmt: skip
    proc = run_cli("scenario", "--scenarios", path, "-o", tmp_path / "o", *SMALL)
    assert_one_line_error(proc, rf"{path}: scenario 's1', key 'country': unknown country 'XYZ'; valid: ")
    assert not (tmp_path / "o").exists()


def test_wrong_type(tmp_path):
    path = _file(tmp_path, '[[scenario]]\nname = "s2"\n[[scenario.change]]\nkind = "intensity"\nstressor = "CH4"\n'
                 'scale = "half"\n')  # fmt: skip
    proc = run_cli("scenario", "--scenarios", path, "-o", tmp_path / "o", *SMALL)
    assert_one_line_error(proc, rf"{path}: scenario 's2', change 1: key 'scale': .* needs a finite number, got 'half'")


def test_non_productive(tmp_path, countries, groups):
    path = _file(tmp_path, f'[[scenario]]\nname = "boom"\n[[scenario.change]]\nkind = "technology"\n'
                 f'buyer = "{countries[1]}"\nscale = 40\n')  # fmt: skip
    proc = run_cli("scenario", "--scenarios", path, "--groups", groups, "-o", tmp_path / "o", *SMALL)
    assert_one_line_error(proc, rf"{path}: scenario 'boom', key 'technology': the scenario makes A non-productive")


def test_monte_carlo_on_the_scenarios(tmp_path, countries, groups):
    path = _file(tmp_path, '[[scenario]]\nname = "cut"\n[[scenario.change]]\nkind = "intensity"\nstressor = "CH4"\n'
                 'scale = 0.8\n')  # fmt: skip
    out = tmp_path / "out"
    proc = run_cli("scenario", "--scenarios", path, "--groups", groups, "-o", out, "--mc-samples", 8, *SMALL)
    assert proc.returncode == 0, proc.stderr
    p = pd.read_csv(out / "tables" / "scenario_mc_probability_region.csv")
    assert list(p["region"]) == ["East", "West"] and (p["P(change < 0) cba"] == 1).all()
    assert set(p["samples"]) == {8}
    c = pd.read_csv(out / "tables" / "scenario_mc_probability_country.csv")
    assert len(c) == len(countries) and "P(change < 0) GMI" in c
