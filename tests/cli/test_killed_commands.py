"""Kill -9 ``mrioflow mc`` and ``mrioflow sweep`` at several points: during start-up, in the
middle of a batch (or year), and right after a result file appears. Rerunning the same
command resumes; its tables equal those of an uninterrupted run, no finished result file is
rewritten, and nothing half-written or staged is left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from mrioflow._files import leftover_temporaries

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="kill -9 is POSIX")

SMALL = ["--synthetic-countries", "20", "--backend", "numpy", "-q"]
COMMANDS = {
    "mc": (
        ["mc", "--samples", "24", "--batch-size", "2", "--transactions", "0.1", "--intensities", "0.2", "--seed", "6"],
        "batches",
        "batch_*.npz",
    ),
    "sweep": (["sweep", "--years", *map(str, range(2013, 2019))], "years", "year_*.npz"),
}
# When to kill: (finished result files to wait for, then seconds to wait more). (0, 0.3): during
# start-up; (1, 0.0): right after a file appears; (2, 0.15) and (3, 0.05): inside the next task.
KILL_POINTS = [(0, 0.3), (1, 0.0), (2, 0.15), (3, 0.05)]


def _command(args, out):
    return [sys.executable, "-m", "mrioflow.cli", *args, *SMALL, "-o", str(out)]


def _stamps(folder, pattern):
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.glob(pattern)} if folder.is_dir() else {}


def _tables(out):
    return {p.name: pd.read_csv(p) for p in sorted((out / "tables").glob("*.csv"))}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_killed_command_resumes_exactly(tmp_path, command):
    args, store_suffix, pattern = COMMANDS[command]
    reference = tmp_path / "reference"
    subprocess.run(_command(args, reference), check=True, capture_output=True, timeout=300)

    out = tmp_path / "out"
    store = tmp_path / f"out.{store_suffix}"
    seen: dict = {}
    for files, delay in KILL_POINTS:
        proc = subprocess.Popen(_command(args, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while len(_stamps(store, pattern)) < files and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL, f"{command} ended before it could be killed"
        now = _stamps(store, pattern)
        assert all(now[name] == stamp for name, stamp in seen.items()), "a finished result file was rewritten"
        assert not out.exists(), "a killed run published an output folder"
        seen = now
    assert len(seen) >= 3

    proc = subprocess.run(_command(args, out), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert all(_stamps(store, pattern)[name] == stamp for name, stamp in seen.items())
    assert leftover_temporaries(store) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["reference", f"reference.{store_suffix}", "out", f"out.{store_suffix}"]
    ), "a staging folder or temporary was left beside the output"
    got, want = _tables(out), _tables(reference)
    assert got.keys() == want.keys() and got
    for name in want:
        pd.testing.assert_frame_equal(got[name], want[name], check_exact=True, obj=name)
