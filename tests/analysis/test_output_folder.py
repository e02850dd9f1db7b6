"""The output folder is published whole: never two runs in it, never a foreign folder deleted,
no folder for a bad option, staging folders of killed runs cleaned up."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from expected_output import listing

from mrioflow.analysis import OutputError, OutputFolder, Settings, run
from mrioflow.analysis.output import MANIFEST
from mrioflow.errors import OptionError


def _settings(out, groups_csv, **kw):
    base = dict(groups=str(groups_csv), synthetic_countries=10, years=[2013], output=str(out), backend="numpy")
    return Settings.build(overrides={**base, **kw})


def test_rerun_needs_overwrite_and_leaves_one_run(tmp_path, groups_csv):
    out = tmp_path / "out"
    first = run(_settings(out, groups_csv), progress=False)
    with pytest.raises(
        OutputError, match=r"out is not empty \(it holds the run output of an earlier run\).*--overwrite"
    ):
        run(_settings(out, groups_csv, years=[2021]), progress=False)
    second = run(_settings(out, groups_csv, years=[2021], overwrite=True), progress=False)
    files = listing(out)
    assert not any("2013" in f for f in files), "files of the first run are gone"
    assert any("2021" in f for f in files)
    assert set(files) == {str(p.relative_to(out)) for p in second.files}
    assert first.output == second.output == out
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_foreign_folder_is_never_deleted(tmp_path, groups_csv):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    for overwrite in (False, True):
        with pytest.raises(OutputError, match="mine"):
            run(_settings(out, groups_csv, overwrite=overwrite), progress=False)
    with pytest.raises(OutputError, match=r"refusing to overwrite .*mine: it has no mrioflow-output.json"):
        OutputFolder(out, overwrite=True)
    assert listing(out) == {"thesis.tex"}
    # a mrioflow output of another kind is not replaced either
    other = tmp_path / "mc"
    other.mkdir()
    (other / MANIFEST).write_text(json.dumps({"writer": "mrioflow", "kind": "mc"}))
    with pytest.raises(OutputError, match="it holds a mrioflow 'mc' output, not a 'run' one"):
        OutputFolder(other, kind="run", overwrite=True)


def test_option_errors_create_no_folder(tmp_path, groups_csv):
    out = tmp_path / "out"
    for bad, message in [
        (dict(convention="nope"), "convention must be one of"),
        (dict(norm_quantiles=(0.5, 0.2)), r"norm_quantiles must satisfy 0 <= lo < hi <= 1"),
        (dict(stressor="../x"), "stressor '../x' cannot name an output file"),
        (dict(output=""), "output must name a folder, got an empty string"),
    ]:
        with pytest.raises(OptionError, match=message):
            Settings.build(overrides={"groups": str(groups_csv), "output": str(out), **bad})
    with pytest.raises(OutputError, match="the output folder is an empty string"):
        OutputFolder("")
    assert list(tmp_path.iterdir()) == []


def test_cli_option_errors_create_no_folder(tmp_path):
    from mrioflow.cli import main

    out = tmp_path / "out"
    assert main(["run", "-q", "--norm-set", "nope", "-o", str(out)]) == 1
    assert main(["run", "-q", "-o", ""]) == 1
    assert list(tmp_path.iterdir()) == []


def test_staging_folder_of_a_killed_run_is_removed(tmp_path, groups_csv):
    """A run killed (SIGKILL) leaves its staging folder; the next run into the same target removes
    it, but never a staging folder of a live run nor a look-alike mrioflow did not write."""
    out = tmp_path / "out"
    code = (
        "import os, sys\n"
        "from mrioflow.analysis import OutputFolder\n"
        f"f = OutputFolder({str(out)!r})\n"
        "f.text('report.html', 'half')\n"
        "print(f.root, flush=True)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    stage = tmp_path / proc.stdout.strip().rsplit("/", 1)[-1]
    assert proc.returncode == -9 and stage.is_dir() and not out.exists()
    lookalike = tmp_path / ".mrioflow-stage-out-1-abcd"
    lookalike.mkdir()
    (lookalike / "keep.txt").write_text("not mrioflow's")
    live = tmp_path / ".mrioflow-stage-out-2-beef"
    live.mkdir()
    (live / MANIFEST).write_text(
        json.dumps({"writer": "mrioflow", "kind": "run", "host": os.uname().nodename, "pid": os.getpid()})
    )
    run(_settings(out, groups_csv), progress=False)
    assert not stage.exists()
    assert lookalike.is_dir() and live.is_dir()
    assert json.loads((out / MANIFEST).read_text())["complete"] is True


def test_cli_rerun_and_robust_option(tmp_path, groups_csv):
    from mrioflow.cli import main

    out = tmp_path / "out"
    argv = [
        "run",
        "-q",
        "--groups",
        str(groups_csv),
        "--synthetic-countries",
        "10",
        "--years",
        "2013",
        "--backend",
        "numpy",
        "--norm-quantiles",
        "0.05",
        "0.95",
        "-o",
        str(out),
    ]
    assert main(argv) == 0
    assert main(argv) == 1  # refused: the folder holds a run
    assert main([*argv, "--overwrite"]) == 0
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["options"]["norm_quantiles"] == [0.05, 0.95]
    assert prov["command line"].endswith("--overwrite")
    assert [p.name for p in tmp_path.iterdir() if p.name != "groups.csv"] == ["out"]
