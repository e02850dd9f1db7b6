"""Kill -9 ``mrioflow mc`` and ``mrioflow sweep`` at several points: during start-up, in the
middle of a batch (or year), and right after a result file appears. Rerunning the same
command resumes; its tables equal those of an uninterrupted run, no finished result file is
rewritten, and nothing half-written or staged is left behind.

Each command runs on the synthetic world and on real-layout data (Eora26 zips as Eora
releases them) read through the cache, cold (the first killed run parses and writes the
cache, the reruns load it) and warm (every run loads it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest

from mrioflow._files import leftover_temporaries

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="kill -9 is POSIX")

SMALL = ["--backend", "numpy", "-q"]
YEARS = list(range(2013, 2019))
COMMANDS = {
    "mc": (
        ["mc", "--samples", "24", "--batch-size", "2", "--transactions", "0.1", "--intensities", "0.2", "--seed", "6"],
        "batches",
        "batch_*.npz",
    ),
    "sweep": (["sweep", "--years", *map(str, YEARS)], "years", "year_*.npz"),
}
DATA = ["synthetic", "eora26-cold-cache", "eora26-warm-cache"]
# When to kill: (finished result files to wait for, then seconds to wait more). (0, 0.3): during
# start-up; (1, 0.0): right after a file appears; (2, 0.15) and (3, 0.05): inside the next task.
KILL_POINTS = [(0, 0.3), (1, 0.0), (2, 0.15), (3, 0.05)]


@pytest.fixture(scope="module")
def eora_zips(tmp_path_factory):
    """A folder of Eora26 zips (2013-2018) in the released layout, of the synthetic 20-country world."""
    import mrioflow as mf

    folder = tmp_path_factory.mktemp("eora26")
    for year in YEARS:
        mf.io.write_eora26(mf.datasets.synthetic(year, n_countries=20), folder, year, zip=True)
    return folder


def _command(args, out, data=None):
    source = ["--synthetic-countries", "20"] if data is None else ["--data", str(data)]
    if data is not None and args[0] == "mc":
        source += ["--year", "2013"]
    return [sys.executable, "-m", "mrioflow.cli", *args, *source, *SMALL, "-o", str(out)]


def _stamps(folder, pattern):
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.glob(pattern)} if folder.is_dir() else {}


def _tables(out):
    return {p.name: pd.read_csv(p) for p in sorted((out / "tables").glob("*.csv"))}


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_killed_command_resumes_exactly(tmp_path, command, data, request):
    args, store_suffix, pattern = COMMANDS[command]
    zips = None if data == "synthetic" else request.getfixturevalue("eora_zips")
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "mrioflow"
    reference = tmp_path / "reference"
    if data == "eora26-cold-cache":  # the reference fills a cache of its own
        subprocess.run(
            _command(args, reference, zips),
            check=True,
            capture_output=True,
            timeout=300,
            env={**os.environ, "XDG_CACHE_HOME": str(tmp_path.parent / f"{tmp_path.name}-reference-cache")},
        )
        assert not cache.exists()
    else:  # the synthetic world has no cache; the warm case's reference run fills it
        subprocess.run(_command(args, reference, zips), check=True, capture_output=True, timeout=300)
        assert cache.exists() == (data == "eora26-warm-cache")

    out = tmp_path / "out"
    store = tmp_path / f"out.{store_suffix}"
    seen: dict = {}
    for files, delay in KILL_POINTS:
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(_command(args, out, zips), stdout=subprocess.DEVNULL, stderr=err)
            deadline = time.monotonic() + 120
            while len(_stamps(store, pattern)) < files and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            time.sleep(delay)
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
            err.seek(0)
            assert proc.wait(10) == -signal.SIGKILL, f"{command} ended before it could be killed: {err.read()!r}"
        now = _stamps(store, pattern)
        assert all(now[name] == stamp for name, stamp in seen.items()), "a finished result file was rewritten"
        assert not out.exists(), "a killed run published an output folder"
        seen = now
    assert len(seen) >= 3

    if zips is not None:  # the killed runs cached (cold) or loaded (warm) the years they read; reruns load them
        assert 1 <= len(list(cache.glob("eora26_*.mfcache"))) <= (1 if command == "mc" else len(YEARS))
    proc = subprocess.run(_command(args, out, zips), capture_output=True, text=True, timeout=300)
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


def test_sweep_resumes_from_a_moved_copy_of_the_data(tmp_path):
    """The sweep's manifest holds content, not where the data lie: the same zips in another
    folder resume the finished years (each year's table is still compared); other data are refused."""
    import shutil

    from cli_runner import run_cli

    import mrioflow as mf

    first = tmp_path / "first"
    for year in (2013, 2014):
        mf.io.write_eora26(mf.datasets.synthetic(year, n_countries=6), first, year, zip=True)
    out, store = tmp_path / "out", tmp_path / "out.years"
    proc = run_cli("sweep", "--data", first, "--years", "2013", "-q", "--backend", "numpy", "-o", out)
    assert proc.returncode == 0, proc.stderr
    done = _stamps(store, "year_*.npz")
    assert list(done) == ["year_2013.npz"]
    shutil.rmtree(out)
    moved = first.rename(tmp_path / "moved")
    proc = run_cli("sweep", "--data", moved, "--years", "2013", "2014", "-q", "--backend", "numpy", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert _stamps(store, "year_*.npz")["year_2013.npz"] == done["year_2013.npz"]  # resumed, not recomputed
    other = tmp_path / "other"
    mf.io.write_eora26(mf.datasets.synthetic(2013, n_countries=6, seed=5), other, 2013, zip=True)
    shutil.rmtree(out)
    proc = run_cli("sweep", "--data", other, "--years", "2013", "-q", "--backend", "numpy", "-o", out)
    assert proc.returncode == 1 and "year_2013.npz was computed from another table of 2013" in proc.stderr
