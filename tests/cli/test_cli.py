"""The command line: subcommands, the real default run, the Eora26 path, config files, errors.

Errors must give one line on stderr ("mrioflow: error: ...") and a non-zero
exit code, never a traceback. Commands run in this process (``mrioflow.cli.main``,
see cli_runner.py); the tests of the installed script start it as a user would.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_runner import assert_one_line_error
from cli_runner import run_cli as mrioflow

import mrioflow as mf
from mrioflow.cli import main
from mrioflow.errors import OptionError

_spec = importlib.util.spec_from_file_location(
    "expected_output", Path(__file__).parents[1] / "analysis" / "expected_output.py"
)
_expected = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_expected)
expected_files, listing = _expected.expected_files, _expected.listing

GROUPS = "iso3,region\nCHN,East\nJPN,East\nIND,South\nPAK,South\nDEU,West\nFRA,West\n"


@pytest.fixture
def groups(tmp_path):
    p = tmp_path / "groups.csv"
    p.write_text(GROUPS, encoding="utf-8")
    return p


def test_installed_script_help_lists_subcommands():
    """The `mrioflow` script installed beside this Python starts and shows the commands."""
    script = shutil.which("mrioflow", path=Path(sys.executable).parent)
    assert script, f"no mrioflow script beside {sys.executable}"
    proc = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "run" in proc.stdout and "COMMAND" in proc.stdout
    proc = mrioflow("run", "--help")
    assert proc.returncode == 0
    for opt in (
        "--eora26",
        "--years",
        "--edgar",
        "--pymrio",
        "--stressor",
        "--groups",
        "--convention",
        "--norm-set",
        "--norm-sign",
        "--backend",
        "--output",
        "--config",
    ):
        assert opt in proc.stdout
    assert "--synthetic-countries" not in proc.stdout


def test_no_command_is_a_usage_error():
    """`python -m mrioflow.cli` with no command exits non-zero with the usage (the module's own exit path)."""
    proc = subprocess.run([sys.executable, "-m", "mrioflow.cli"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "usage: mrioflow [-h] [--version] [--traceback] COMMAND ...",
        "mrioflow: error: a command is required (see 'mrioflow --help')",
    ]


def test_main_in_process_small_world(tmp_path, groups, capsys):
    out = tmp_path / "o"
    rc = main(
        [
            "run",
            "-q",
            "--groups",
            str(groups),
            "--synthetic-countries",
            "9",
            "--backend",
            "numpy",
            "-o",
            str(out),
            "--years",
            "2013",
            "2021",
            "--norm-sign",
            "abs",
        ]
    )
    assert rc == 0
    printed = capsys.readouterr().out
    assert f"wrote {len(expected_files((2013, 2021)))} files" in printed and "SYNTHETIC" in printed
    assert listing(out) == expected_files((2013, 2021))
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["options"]["norm_sign"] == "abs"


def test_progress_is_shown(tmp_path, groups):
    proc = mrioflow("run", "--groups", groups, "--synthetic-countries", "8", "--years", "2013", "-o", tmp_path / "o")
    assert proc.returncode == 0, proc.stderr
    assert "mrioflow run" in proc.stderr or "step" in proc.stderr  # the tqdm bar
    assert "backend: " in proc.stderr


def test_config_file_and_flag_override(tmp_path, groups):
    cfg = tmp_path / "study.toml"
    cfg.write_text(
        f'[run]\ngroups = "{groups.name}"\nyears = [2021]\nconvention = "victim_row"\n'
        'norm_set = "scope"\noutput = "results"\nsynthetic_countries = 8\nbackend = "numpy"\n',
        encoding="utf-8",
    )
    proc = mrioflow("run", "-q", "--config", cfg, "--convention", "beneficiary_row")
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "results"  # relative to the configuration file
    assert listing(out) == expected_files((2021,))
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["options"]["convention"] == "beneficiary_row"
    assert prov["options"]["norm_set"] == "scope"


# -- errors -----------------------------------------------------------------------------------


def test_error_missing_year(tmp_path):
    world = mf.datasets.synthetic(2013, countries=list(mf.regions.bri().countries) + ["USA"])
    mf.io.write_eora26(world, tmp_path / "eora", 2013, zip=True)
    out = tmp_path / "o"
    proc = mrioflow("run", "-q", "--eora26", tmp_path / "eora", "--years", "2013", "1999", "--no-cache", "-o", out)
    assert_one_line_error(proc, r"no Eora26 data for 1999.*years found: 2013")
    # every year is located before the first is computed: nothing is written, no folder created
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["eora"]


def test_error_unknown_country_in_grouping(tmp_path):
    g = tmp_path / "g.csv"
    g.write_text("iso3,region\nCHN,East\nXYZ,East\n", encoding="utf-8")
    proc = mrioflow("run", "-q", "--groups", g, "-o", tmp_path / "o")
    assert_one_line_error(proc, r"grouping 'g' has 1 country not in the table: XYZ")
    assert listing(tmp_path / "o") == set()


def test_error_unknown_option_value(tmp_path):
    proc = mrioflow("run", "-q", "--norm-set", "bri", "-o", tmp_path / "o")
    assert_one_line_error(proc, r"norm_set must be one of 'all', 'scope'; got 'bri'")
    proc = mrioflow("run", "-q", "--convention", "victim", "-o", tmp_path / "o")
    assert_one_line_error(proc, r"convention must be one of 'printed', 'victim_row', 'beneficiary_row'")
    assert not (tmp_path / "o").exists()


def test_error_unwritable_output(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    proc = mrioflow("run", "-q", "-o", blocker / "out")
    assert_one_line_error(proc, r"cannot write the output folder .*not-a-folder/out")


def test_error_bad_flag_and_bad_config(tmp_path):
    proc = mrioflow("run", "--years", "twenty")
    assert_one_line_error(proc, r"argument --years: invalid int value: 'twenty'")
    assert proc.returncode == 2
    cfg = tmp_path / "c.toml"
    cfg.write_text("[run]\ncolour = 'red'\n")
    proc = mrioflow("run", "--config", cfg)
    assert_one_line_error(proc, r"unknown setting\(s\): colour")
    proc = mrioflow("run", "--groups", tmp_path / "missing.csv", "-o", tmp_path / "o")
    assert_one_line_error(proc, r"grouping file not found: .*missing.csv")


def test_traceback_on_request(tmp_path):
    """With --traceback the error propagates out of main (the interpreter then prints the traceback)."""
    with pytest.raises(OptionError, match="norm_set must be one of"):
        main(["--traceback", "run", "--norm-set", "x", "-o", str(tmp_path / "o")])


# -- the real-data path -------------------------------------------------------------------------


def test_eora26_path_matches_the_api(tmp_path):
    """Eora26 files written from a world, read back by `mrioflow run --eora26`, give the same BMI
    and GMI as the Python API on the world itself (no RoW, so the files hold it exactly)."""
    codes = list(mf.regions.bri().countries) + ["USA", "DEU", "JPN"]
    folder = tmp_path / "eora"
    worlds = {}
    for y in (2013, 2021):
        worlds[y] = mf.datasets.synthetic(y, countries=codes)
        mf.io.write_eora26(worlds[y], folder, y, zip=True)
    out = tmp_path / "o"
    proc = mrioflow(
        "run", "-q", "--eora26", folder, "--years", 2013, 2021, "--no-cache", "--backend", "numpy", "-o", out
    )
    assert proc.returncode == 0, proc.stderr
    assert listing(out) == expected_files((2013, 2021))
    for y in (2013, 2021):
        res = mf.Engine("numpy").run(worlds[y])
        bmi = mf.indices.bmi(res, "CH4", mf.regions.bri())
        got = pd.read_csv(out / "tables" / f"bmi_region_{y}.csv", index_col=0)
        np.testing.assert_allclose(got.to_numpy(), bmi.to_numpy(), rtol=1e-9, atol=1e-9)
        gmi = mf.indices.gmi(res, "CH4", mf.regions.bri())
        got = pd.read_csv(out / "tables" / f"gmi_region_{y}.csv", index_col=0)["GMI"]
        np.testing.assert_allclose(got.to_numpy(), gmi.to_numpy(), rtol=1e-9, atol=1e-9)
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["data"] == "eora26" and "Eora26" in prov["data source"]
    assert prov["synthetic"] is False


# -- the real default -------------------------------------------------------------------------


@pytest.mark.slow
def test_default_run_writes_everything(tmp_path):
    """`mrioflow run` with no arguments: full synthetic world, 2013 and 2021, BRI grouping."""
    proc = mrioflow("run", cwd=tmp_path, env_extra={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "mrioflow-output"
    assert listing(out) == expected_files((2013, 2021))
    assert "SYNTHETIC DATA" in proc.stdout
    bc = pd.read_csv(out / "tables" / "bmi_country_2021.csv", index_col=0)
    assert bc.shape == (62, 62)
    assert list(pd.read_csv(out / "tables" / "gmi_region.csv", index_col=0).index) == list(mf.regions.bri().groups)
    acc = pd.read_csv(out / "tables" / "accounts_country_2013.csv")
    assert acc["country"].nunique() == 190
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "SYNTHETIC DATA" in html and html.count("data:image/png;base64,") == 9


def test_cache_command_lists_and_clears(tmp_path, capsys):
    world = mf.datasets.synthetic(year=2013, n_countries=3)
    folder = mf.io.write_eora26(world, tmp_path / "eora", 2013)
    cache = tmp_path / "cache"
    mf.io.read_eora26(folder, 2013, cache_dir=cache)
    assert main(["cache", "--dir", str(cache)]) == 0
    out = capsys.readouterr().out
    assert f"{cache}: 1 cached table(s)" in out and "eora26_2013-" in out and " ok " in out
    assert main(["cache", "--dir", str(cache), "--clear-stale"]) == 0
    assert "deleted 0 file(s)" in capsys.readouterr().out
    assert main(["cache", "--dir", str(cache), "--clear"]) == 0
    assert "deleted 1 file(s)" in capsys.readouterr().out
    assert main(["cache", "--dir", str(cache)]) == 0
    assert "no cached tables" in capsys.readouterr().out
