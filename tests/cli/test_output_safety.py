"""What a failed, interrupted or concurrent command leaves behind, through real ``mrioflow`` processes
(SIGINT, two runs at once) and ``cli.main``: a complete output or none, an earlier output kept
until a complete one replaces it, one line on stderr, nothing that refuses the corrected command.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_runner import assert_one_line_error
from cli_runner import run_cli as mrioflow

import mrioflow as mf

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="signals are POSIX")

COUNTRIES = ["CHN", "JPN", "IND", "DEU", "USA", "ROW"]
GROUPS = "iso3,region\nCHN,East\nJPN,East\nIND,South\nDEU,West\n"
SMALL = ["--synthetic-countries", "10", "--backend", "numpy", "-q"]


def _command(*args):
    return [sys.executable, "-m", "mrioflow.cli", *map(str, args)]


def _snapshot(folder: Path) -> dict:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _groups(tmp_path) -> Path:
    path = tmp_path / "groups.csv"
    path.write_text(GROUPS, encoding="utf-8")
    return path


def _interrupt_while_tables_are_written(argv, parent: Path, name: str, tables: int = 3):
    """Start ``argv``, send SIGINT once ``tables`` CSV files are in its staging folder."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while proc.poll() is None and time.monotonic() < deadline:
        if len(list(parent.glob(f".mrioflow-stage-{name}-*/tables/*.csv"))) >= tables:
            break
        time.sleep(0.005)
    assert proc.poll() is None, f"the command ended before it could be interrupted: {proc.stderr.read()}"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def _assert_interrupted(proc) -> None:
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("mrioflow: interrupted"), proc.stderr


def test_ctrl_c_while_tables_are_written_publishes_nothing(tmp_path):
    """Before: the 3 finished tables were published as the output (complete: false)."""
    groups = _groups(tmp_path)
    out = tmp_path / "out"
    argv = _command("run", *SMALL, "--groups", groups, "--years", 2013, 2021, "-o", out)
    _assert_interrupted(_interrupt_while_tables_are_written(argv, tmp_path, "out"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["groups.csv"], "an output, staging folder or lock was left"


def test_ctrl_c_during_overwrite_keeps_the_earlier_output(tmp_path):
    """Before: --overwrite replaced the complete earlier output by the interrupted run's partial one."""
    groups = _groups(tmp_path)
    out = tmp_path / "out"
    common = ["run", *SMALL, "--groups", groups, "-o", out]
    assert mrioflow(*common, "--years", 2013).returncode == 0
    before = _snapshot(out)
    argv = _command(*common, "--years", 2013, 2021, "--overwrite")
    _assert_interrupted(_interrupt_while_tables_are_written(argv, tmp_path, "out"))
    assert _snapshot(out) == before
    assert json.loads((out / "mrioflow-output.json").read_text())["complete"] is True
    assert sorted(p.name for p in tmp_path.iterdir()) == ["groups.csv", "out"]


def test_a_bad_cell_in_a_later_year_keeps_the_earlier_output(tmp_path):
    """--overwrite with real-layout files whose second year has a cell that is not a number: the
    command fails naming the cell, and the earlier output is untouched."""
    world = mf.datasets.synthetic(year=2013, seed=3, countries=COUNTRIES)
    data = tmp_path / "eora"
    mf.io.write_eora26(world, data, 2013)
    mf.io.write_eora26(world.replace(year=2021), data, 2021)
    groups = _groups(tmp_path)
    out = tmp_path / "out"
    common = ["run", "-q", "--data", data, "--no-cache", "--backend", "numpy", "--groups", groups, "-o", out]
    assert mrioflow(*common, "--years", 2013).returncode == 0
    before = _snapshot(out)
    q = data / "Eora26_2021_bp_Q.txt"
    q.write_text("oops" + q.read_text()[q.read_text().index("\t") :])
    proc = mrioflow(*common, "--years", 2013, 2021, "--overwrite")
    assert_one_line_error(proc, r"Eora26_2021_bp_Q\.txt")
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eora", "groups.csv", "out"]


def test_ctrl_c_in_an_ensemble_keeps_finished_batches_and_publishes_nothing(tmp_path):
    out = tmp_path / "out"
    args = ["mc", *SMALL, "--samples", 400, "--batch-size", 4, "--transactions", 0.1, "-o", out]
    proc = subprocess.Popen(_command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while proc.poll() is None and time.monotonic() < deadline and len(list(tmp_path.glob("out.batches/batch_*"))) < 2:
        time.sleep(0.005)
    assert proc.poll() is None, proc.stderr.read()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    _assert_interrupted(subprocess.CompletedProcess(args, proc.returncode, "", err))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.batches"]
    assert len(list((tmp_path / "out.batches").glob("batch_*.npz"))) >= 2


def _script() -> list[str]:
    """The installed ``mrioflow`` script (as a user starts it), else ``python -m mrioflow.cli``."""
    script = Path(sys.executable).parent / "mrioflow"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "mrioflow.cli"]


def test_ctrl_c_at_any_point_of_start_up_is_one_line(tmp_path):
    """Before: a Ctrl-C while the modules were imported printed a traceback (KeyboardInterrupt in
    numpy's or pandas' import). Python's own first milliseconds (before any mrioflow code runs,
    including the generated script's ``import re``) are outside mrioflow's reach: there the
    process ends by SIGINT, and its traceback holds no mrioflow file."""
    t0 = time.perf_counter()
    subprocess.run([*_script(), "--version"], check=True, capture_output=True, timeout=120)
    start = time.perf_counter() - t0
    handled = 0
    for i, fraction in enumerate([0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 1.0, 1.5, 2.5]):
        out = tmp_path / f"out{i}"
        argv = [*_script(), "mc", *SMALL, "--samples", "5000", "--transactions", "0.1", "-o", str(out)]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(fraction * start)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode != 0, "the ensemble ended before the signal: make it longer"
        if proc.returncode == -signal.SIGINT:
            assert "mrioflow/" not in err and "mrioflow\\" not in err, err
        else:
            _assert_interrupted(subprocess.CompletedProcess(argv, proc.returncode, "", err))
            handled += 1
        assert not out.exists()
        assert not list(tmp_path.glob(f".mrioflow-*out{i}*")), "a staging folder or lock was left"
    assert handled >= 6


def test_two_ensembles_into_one_folder_at_once(tmp_path):
    """Before: both reported success. The second is refused while the first runs (the first is
    stopped with SIGSTOP once it holds the folder, so that the order is certain), naming the
    first's host and pid; the first completes."""
    out = tmp_path / "out"
    argv = _command("mc", *SMALL, "--samples", 64, "--batch-size", 8, "-o", out)
    first = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while first.poll() is None and time.monotonic() < deadline and not list(tmp_path.glob(".mrioflow-stage-out-*")):
            time.sleep(0.002)
        first.send_signal(signal.SIGSTOP)
        assert first.poll() is None, first.stderr.read()
        second = subprocess.run(argv, capture_output=True, text=True, timeout=240)
    finally:
        first.send_signal(signal.SIGCONT)
    assert_one_line_error(
        second,
        rf"the output folder {out} is being written by another mrioflow run "
        rf"\(host {socket.gethostname()}, pid {first.pid}, since ",
    )
    _, err = first.communicate(timeout=240)
    assert first.returncode == 0, err
    assert json.loads((out / "mrioflow-output.json").read_text())["complete"] is True
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "out.batches"]


def test_two_ensembles_started_together_one_succeeds(tmp_path):
    out = tmp_path / "out"
    argv = _command("mc", *SMALL, "--samples", 64, "--batch-size", 8, "-o", out)
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 1], results
    err = next(e for p, (_, e) in zip(procs, results, strict=True) if p.returncode == 1)
    assert "is being written by another mrioflow run" in err or "is not empty" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "out.batches"]


def test_a_killed_run_leaves_a_lock_the_next_run_takes_over(tmp_path):
    out = tmp_path / "out"
    argv = _command("mc", *SMALL, "--samples", 400, "--batch-size", 4, "--transactions", 0.1, "-o", out)
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while proc.poll() is None and time.monotonic() < deadline and not list(tmp_path.glob("out.batches/batch_*")):
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    lock = tmp_path / ".mrioflow-lock-out"
    assert json.loads(lock.read_text())["pid"] == proc.pid
    assert mrioflow(*argv[3:]).returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "out.batches"]


# -- failed sweeps and ensembles leave nothing that refuses the corrected command ----------------


@pytest.fixture(scope="module")
def eora(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    mf.io.write_eora26(mf.datasets.synthetic(year=2013, seed=3, countries=COUNTRIES), d / "eora", 2013)
    return d / "eora"


@pytest.mark.parametrize("command", ["sweep", "mc"])
def test_a_failed_first_attempt_does_not_poison_the_output_name(tmp_path, eora, command):
    """Before: the store OUT.years (OUT.batches) kept the failed run's manifest, and the corrected
    command was refused ("holds a sweep whose loader, stressors differ")."""
    import dask
    import distributed  # noqa: F401  (its defaults loaded before one of them is changed)

    out = tmp_path / "out"
    base = [command, "--data", eora, "--backend", "numpy", "-q", "-o", out]
    base += ["--years", 2013] if command == "sweep" else ["--samples", 4]
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        failures = [
            (["--stressor", "NOPE"], r"has no (stressor )?'?NOPE"),
            (["--satellite", "CO2=I-GHG-CO2 | (unclosed"], r"pattern"),
            (["--scheduler", "tcp://127.0.0.1:9"], r"127\.0\.0\.1:9"),
        ]
        for extra, message in failures:
            assert_one_line_error(mrioflow(*base, *extra), message)
            assert sorted(p.name for p in tmp_path.iterdir()) == [], extra
    proc = mrioflow(*base)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "mrioflow-output.json").read_text())["complete"] is True


@pytest.mark.parametrize("command", [["run", "--years", "2013"], ["sweep", "--years", "2013"], ["mc"]])
def test_an_output_folder_inside_the_input_folder_is_refused(tmp_path, eora, command):
    data = tmp_path / "data"
    shutil.copytree(eora, data)
    files = sorted(p.name for p in data.iterdir())
    proc = mrioflow(*command, "--data", data, "--backend", "numpy", "-q", "-o", data / "results")
    assert_one_line_error(proc, rf"the output folder {data}/results is inside the input folder {data}")
    assert sorted(p.name for p in data.iterdir()) == files


def test_warnings_are_one_line(tmp_path, eora):
    """Before: "studies.py:61: RuntimeWarning: could not write ..." and the source line below it."""
    (tmp_path / "a-file").write_text("not a folder")
    env = {
        **os.environ,
        "XDG_CACHE_HOME": str(tmp_path / "a-file" / "cache"),
        "MPLCONFIGDIR": str(tmp_path / "mpl"),
    }
    argv = _command("mc", "--data", eora, "--samples", 4, "--backend", "numpy", "-q", "-o", tmp_path / "out")
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines and all(ln.startswith("warning: ") for ln in lines), proc.stderr
    assert any("could not write the eora26 cache" in ln for ln in lines)


def test_more_samples_than_memory_is_one_line(tmp_path):
    out = tmp_path / "out"
    proc = mrioflow(
        "mc", "--samples", 10**12, "--yes", "--synthetic-countries", "4", "--backend", "numpy", "-q", "-o", out
    )
    assert_one_line_error(proc, r"not enough memory: .*fewer --samples")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_hostile_stressor_names_get_safe_file_names(tmp_path):
    """Stressor names are data: an HTML tag, a path, 300 characters, spaces and TeX (which matplotlib
    cannot parse: drawn as plain text) are written
    under slugs listed in mrioflow-output.json, and reach report.html escaped."""
    import numpy as np

    evil = "<img src=x onerror=alert(1)>"
    names = (evil, "CH4/air $x$ ../.. $\\bad{x}$", "N2O " + "y" * 300)
    w = mf.datasets.synthetic(year=2013, seed=3, countries=COUNTRIES)
    w = w.replace(
        stressors=names, units=("Gg", "kUSD", "Gg"), F=np.vstack([w.F, w.F[:1]]), F_Y=np.vstack([w.F_Y, w.F_Y[:1]])
    )
    data = mf.io.write_pymrio_folder(w, tmp_path / "sys", table_format="parquet")
    keep = [a for n in names for a in ("--stressor", n)]
    for command, extra in (("mc", ["--samples", 4]), ("sweep", ["--years", 2013])):
        out = tmp_path / command
        proc = mrioflow(command, "--data", data, *keep, *extra, "--backend", "numpy", "-q", "-o", out)
        assert proc.returncode == 0, proc.stderr
        files = [p for p in out.rglob("*") if p.is_file()]
        assert all(p.parent in (out, out / "tables", out / "figures") for p in files)
        assert all(len(p.name) <= 80 and "<" not in p.name and " " not in p.name for p in files)
        manifest = json.loads((out / "mrioflow-output.json").read_text(encoding="utf-8"))
        stood_for = " ".join(manifest["names"].values())
        assert all(n in stood_for for n in names)
        assert len(list((out / "figures").glob("*.png"))) == 3
        html = (out / "report.html").read_text(encoding="utf-8")
        assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mc", "mc.batches", "sweep", "sweep.years", "sys"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("{}", r"holds no ladder"),
        ("[1, 2]", r"the file must be a JSON object, got list"),
        ("[" * 100_000 + "]" * 100_000, r"JSON nested too deeply"),
        (
            '{"cases": {"ladder": {"backend": "numpy", "peak": {"gflops": 1}, "sizes": 3}}, "machine": {}}',
            r"sizes must be a list",
        ),
        (
            '{"cases": {"ladder": {"backend": "numpy", "peak": {"gflops": 1}, "sizes": [{"name": "a", "n": 4, '
            '"operations": {"lu": {"min_s": "fast"}}}]}}, "machine": {}}',
            r"sizes\[0\]\.operations\.lu\.min_s must be a finite number, got 'fast'",
        ),
        (
            '{"cases": {"ladder": {"backend": "numpy", "peak": {"gflops": 1}, '
            '"sizes": [{"name": "a", "n": "4"}]}}, "machine": {}}',
            r"sizes\[0\]\.n must be a whole number",
        ),
        ("\udcff", r"not a readable mrioflow bench record"),
    ],
)
def test_bench_compare_on_foreign_or_malformed_records(tmp_path, content, message):
    """Before: KeyError, TypeError or RecursionError ("unexpected ..." or a traceback)."""
    path = tmp_path / "record.json"
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    proc = mrioflow("bench", "compare", path, path)
    assert_one_line_error(proc, rf"{path}.*{message}")
