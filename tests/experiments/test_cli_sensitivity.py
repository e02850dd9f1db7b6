"""mrioflow sensitivity: local and Sobol tables, figures, report, provenance; errors are one line."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mrioflow as mf

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


def test_local(tmp_path, groups):
    out = tmp_path / "out"
    proc = run_cli("sensitivity", "--groups", groups, "--kinds", "intensity", "technology", "-o", out, *SMALL)
    assert proc.returncode == 0, proc.stderr
    t = pd.read_csv(out / "tables" / "sensitivity_local.csv")
    assert set(t["group"]) == {"intensity:East", "intensity:West", "technology:East", "technology:West"}
    assert set(t["output"]) == {"pba", "cba", "net", "gmi", "bmi"}
    assert t["method"].str.contains("base LU").any() and t["method"].str.contains("central").any()
    # PBA is linear in the producers' intensities: East's elasticity of East's PBA is at most 1.
    east = t[(t["group"] == "intensity:East") & (t["output"] == "pba") & (t["target"] == "East")]
    assert 0 < east["elasticity"].iloc[0] <= 1
    assert (out / "figures" / "sensitivity_tornado_cba_East.png").stat().st_size > 1000
    assert "<h2>Sensitivity</h2>" in (out / "report.html").read_text(encoding="utf-8")


def test_sobol(tmp_path, groups):
    out = tmp_path / "out"
    proc = run_cli("sensitivity", "--method", "sobol", "--samples", 16, "--groups", groups, "-o", out, *SMALL)
    assert proc.returncode == 0, proc.stderr
    t = pd.read_csv(out / "tables" / "sensitivity_sobol.csv")
    assert {"S1", "S1_conf", "ST", "ST_conf"} <= set(t.columns)
    assert np.isfinite(t[(t["output"] == "cba") & (t["level"] == "region")]["ST"]).all()
    assert (out / "figures" / "sensitivity_sobol_gmi_West.png").is_file()


def test_bad_samples(tmp_path):
    proc = run_cli("sensitivity", "--method", "sobol", "--samples", 10, "-o", tmp_path / "o", *SMALL)
    assert_one_line_error(proc, r"samples must be a power of 2")


def test_method_choices(tmp_path, groups):
    out = tmp_path / "out"
    proc = run_cli("sensitivity", "--method", "choices", "--groups", groups, "-o", out, *SMALL)
    assert proc.returncode == 0, proc.stderr
    t = pd.read_csv(out / "tables" / "sensitivity_method.csv")
    assert set(t["final_demand"]) == {"by_consumer", "by_final_producer"} and set(t["region"]) == {"East", "West"}
    s = pd.read_csv(out / "tables" / "sensitivity_method_summary.csv")
    assert {"sign robust", "ranks", "min", "max"} <= set(s.columns)
    assert (out / "figures" / "sensitivity_method.png").is_file()
