"""The output folder is published whole: never two runs in it, never half of one, never a foreign
folder deleted, an earlier output replaced only by a complete run, no folder for a bad option,
staging folders and locks of killed runs cleaned up, one run at a time into a folder, any name
given a safe file name."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import socket
import subprocess
import sys

import pandas as pd
import pytest
from expected_output import listing

from mrioflow.analysis import OutputError, OutputFolder, Settings, run
from mrioflow.analysis.output import MANIFEST, file_stem
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
        (dict(stressor=""), "stressor must name a stressor, got ''"),
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


def _snapshot(folder):
    """Every file under ``folder`` with a hash of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


class _Boom(Exception):
    pass


@pytest.mark.parametrize("failure", [_Boom, KeyboardInterrupt])
def test_a_failed_run_publishes_nothing_and_keeps_the_earlier_output(tmp_path, failure):
    """Before: a failed run published what it had (complete: false), replacing the earlier output."""
    out = tmp_path / "out"
    with OutputFolder(out, kind="mc") as first:
        first.table("a", pd.DataFrame({"x": [1.0]}))
    before = _snapshot(out)
    with pytest.raises(failure):
        with OutputFolder(out, kind="mc", overwrite=True) as second:
            second.table("b", pd.DataFrame({"x": [2.0]}))
            raise failure()
    assert _snapshot(out) == before
    assert json.loads((out / MANIFEST).read_text())["complete"] is True
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"], "a staging folder or lock was left"
    # and into a fresh target: nothing at all
    with pytest.raises(failure):
        with OutputFolder(tmp_path / "new", kind="mc") as third:
            third.table("b", pd.DataFrame({"x": [2.0]}))
            raise failure()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_full_disk_while_overwriting_keeps_the_earlier_run(tmp_path, groups_csv, monkeypatch):
    out = tmp_path / "out"
    run(_settings(out, groups_csv), progress=False)
    before = _snapshot(out)
    calls = []

    def fill_up(self, path, *args, **kwargs):
        calls.append(path)
        if len(calls) > 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, path, *args, **kwargs)

    real = pd.DataFrame.to_parquet
    monkeypatch.setattr(pd.DataFrame, "to_parquet", fill_up)
    with pytest.raises(OutputError, match="No space left on device"):
        run(_settings(out, groups_csv, years=[2013, 2021], overwrite=True), progress=False)
    assert len(calls) == 4
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_publishing_without_an_atomic_exchange_repairs_a_killed_swap(tmp_path, monkeypatch):
    """Where the system cannot exchange two folders, the earlier output is set aside first; a run
    killed between the two renames leaves it aside, and the next run puts it back."""
    from mrioflow.analysis import output

    out = tmp_path / "out"
    with OutputFolder(out, kind="mc") as first:
        first.text("report.html", "first")
    monkeypatch.setattr(output, "_exchange", lambda a, b: False)
    with OutputFolder(out, kind="mc", overwrite=True) as second:
        second.text("report.html", "second")
    assert (out / "report.html").read_text() == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    # a killed swap: the earlier output set aside by a dead process, the target gone
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    aside = tmp_path / f"{output.OLD_PREFIX}out-{int(dead.stdout)}-0123abcd"
    os.replace(out, aside)
    with pytest.raises(OutputError, match="not empty"):
        OutputFolder(out, kind="mc")  # the earlier output is back, and refused without overwrite
    assert (out / "report.html").read_text() == "second" and not aside.exists()


def _lock_of(tmp_path, name="out"):
    return tmp_path / f".mrioflow-lock-{name}"


def test_one_run_at_a_time_into_a_folder(tmp_path):
    out = tmp_path / "out"
    first = OutputFolder(out, kind="mc")
    lock = json.loads(_lock_of(tmp_path).read_text())
    assert (lock["host"], lock["pid"]) == (socket.gethostname(), os.getpid())
    with pytest.raises(OutputError, match=rf"is being written by another mrioflow run \(host \S+, pid {os.getpid()}"):
        OutputFolder(out, kind="mc")
    first.close()
    assert not _lock_of(tmp_path).exists()
    with pytest.raises(OutputError, match="not empty"):
        OutputFolder(out, kind="mc")


def test_the_lock_of_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    record = {"writer": "mrioflow", "host": socket.gethostname(), "pid": int(dead.stdout), "token": "t"}
    _lock_of(tmp_path).write_text(json.dumps(record))
    with OutputFolder(tmp_path / "out", kind="mc") as out:
        assert json.loads(_lock_of(tmp_path).read_text())["pid"] == os.getpid()
        out.text("report.html", "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    # a lock held on another host is never taken over: its process cannot be checked from here
    _lock_of(tmp_path, "other").write_text(json.dumps({**record, "host": "elsewhere.example"}))
    with pytest.raises(OutputError, match=r"host elsewhere.example, .*if that process is gone, delete its lock"):
        OutputFolder(tmp_path / "other", kind="mc")
    assert _lock_of(tmp_path, "other").exists()


def test_names_become_safe_unique_file_names(tmp_path):
    """Names are data (stressors named by a database): never refused, never a path, never two files
    in one; the manifest says which name each slug stands for."""
    evil = "<img src=x onerror=alert(1)>"
    names = [evil, "../../etc/x", "a/b", "y" * 300, "CH4 - combustion - air", "CH4", "ch4", "", ".hidden", "é"]
    with OutputFolder(tmp_path / "out", kind="mc") as out:
        for name in names:
            out.table(name, pd.DataFrame({"x": [1.0]}))
    tables = sorted(p.name for p in (tmp_path / "out" / "tables").iterdir())
    assert len(tables) == 2 * len(names)
    assert len({t.casefold() for t in tables}) == len(tables)
    for t in tables:
        assert len(t) <= 72 and t[0].isalnum() and all(c.isalnum() or c in "_.+-" for c in t), t
    assert "CH4.csv" in tables  # a safe name stays as it is
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text(encoding="utf-8"))
    assert sorted(set(manifest["names"].values())) == sorted(n for n in names if n != "CH4")
    for file, name in manifest["names"].items():
        assert file.startswith("tables/"), file
        read = pd.read_csv if file.endswith(".csv") else pd.read_parquet
        assert read(tmp_path / "out" / file)["x"].tolist() == [1.0], name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert file_stem("a/b") != file_stem("a_b") and file_stem("a_b") == "a_b"


def test_an_output_folder_inside_the_input_folder_is_refused(tmp_path, groups_csv):
    """The next run would read the earlier output as input and list it in its provenance."""
    import mrioflow as mf

    data = mf.io.write_pymrio_folder(mf.datasets.synthetic(2013, n_countries=10), tmp_path / "data")
    files = listing(data)
    out = data / "results"
    with pytest.raises(OutputError, match=rf"the output folder {out} is inside the input folder {data}"):
        run(_settings(out, groups_csv, data=str(data)), progress=False)
    assert listing(data) == files
