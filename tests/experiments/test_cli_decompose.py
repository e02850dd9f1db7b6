"""mrioflow decompose: tables whose effects sum to the change, a figure, report and provenance; errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mrioflow as mf
from mrioflow.experiments.decomposition import FACTORS

sys.path.insert(0, str(Path(__file__).parents[1] / "cli"))
from cli_runner import assert_one_line_error, run_cli

SMALL = ["--synthetic-countries", "5", "--backend", "numpy", "-q"]


@pytest.fixture
def groups(tmp_path):
    countries = mf.datasets.synthetic(year=2013, n_countries=5).countries
    path = tmp_path / "groups.csv"
    rows = [f"{c},{'East' if i < 2 else 'West'}" for i, c in enumerate(countries[:4])]
    path.write_text("iso3,region\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_writes_tables_figures_report(tmp_path, groups):
    out = tmp_path / "out"
    proc = run_cli("decompose", "--years", 2013, 2017, 2021, "--groups", groups, "-o", out, *SMALL)
    assert proc.returncode == 0, proc.stderr
    t = pd.read_csv(out / "tables" / "decomposition_accounts_CH4_region.csv")
    assert set(t["region"]) == {"East", "West", "Other"} and set(t["unit"]) == {"Gg"}
    assert set(t["period"]) == {"2013-2017", "2017-2021"}
    effects = t[[*FACTORS, "direct"]].sum(axis=1).to_numpy()
    np.testing.assert_allclose(effects, t["change"].to_numpy(), rtol=0, atol=1e-9 * t["change"].abs().max())
    assert (out / "tables" / "decomposition_accounts_VA_country.csv").is_file()
    assert (out / "tables" / "decomposition_flows_CH4_region.csv").is_file()
    assert (out / "figures" / "decomposition_CH4_2013-2017.png").stat().st_size > 1000
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "<h2>Structural decomposition</h2>" in report
    prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert "decompose" in json.dumps(prov["command_line"] if "command_line" in prov else prov)


def test_one_year_is_refused(tmp_path):
    proc = run_cli("decompose", "--years", 2013, "-o", tmp_path / "o", *SMALL)
    assert_one_line_error(proc, r"--years: decompose needs at least two years")
    assert not (tmp_path / "o").exists()
