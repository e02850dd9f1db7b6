"""Ensembles and sweeps on a real Dask LocalCluster and in local processes that die with
their parent; scheduler names are validated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import mrioflow as mf
from mrioflow.ensembles import check_scheduler
from mrioflow.errors import OptionError

distributed = pytest.importorskip("distributed")


def _world(year=2013):
    return mf.datasets.synthetic(year=year, seed=1, n_countries=5)


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        # two threads per worker: batches in one worker share its prepared table and LU
        n_workers=2,
        threads_per_worker=2,
        processes=True,
        dashboard_address=None,
        silence_logs=40,
    ) as c:
        yield c


def test_ensemble_and_sweep_on_a_local_cluster(cluster):
    world = _world()
    kw = dict(
        samples=9,
        perturb={"intensities": 0.3, "final_demand": 0.1},
        seed=7,
        batch_size=2,
        backend="numpy",
        progress=False,
    )
    here = mf.montecarlo(world, **kw)
    with distributed.Client(cluster) as client:
        there = mf.montecarlo(world, scheduler=client, **kw)
        assert client.status == "running"  # a Client we were given stays open
    for name in ("pba", "cba", "net"):
        np.testing.assert_array_equal(there.accounts[name], here.accounts[name])
    # every kind: the workers run BLAS on one thread (Dask's default), this process on all cores
    with distributed.Client(cluster) as client:
        for perturb in ({"final_demand": 0.2}, {"direct": 0.3, "intensities": 0.2}, {"Z": 0.1, "final_demand": 0.1}):
            mine = mf.montecarlo(world, **{**kw, "perturb": perturb, "batch_size": 1})
            theirs = mf.montecarlo(world, scheduler=client, **{**kw, "perturb": perturb, "batch_size": 1})
            for name in ("pba", "cba", "net"):
                if "Z" not in perturb:
                    np.testing.assert_array_equal(theirs.accounts[name], mine.accounts[name])
                else:  # a Z sample's LU: to a stated tolerance across BLAS thread counts
                    scale = np.max(np.abs(mine.accounts[name]), axis=(0, 2), keepdims=True)
                    assert np.max(np.abs(theirs.accounts[name] - mine.accounts[name]) / scale) <= 1e-13

    # by address: the run makes its own Client and closes it
    swept = mf.sweep([2013, 2014], loader=_world, backend="numpy", scheduler=cluster.scheduler_address, progress=False)
    for year in (2013, 2014):
        ref = mf.Engine("numpy").run(_world(year), sector_flows=False)
        np.testing.assert_allclose(swept[year].E, ref.E, rtol=1e-13)
    deadline = time.monotonic() + 10
    while cluster.scheduler.clients.keys() - {"fire-and-forget"} and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cluster.scheduler.clients.keys() - {"fire-and-forget"} == set()


def test_scheduler_names_are_validated():
    assert check_scheduler("sync") is None and check_scheduler("synchronous") is None
    for ok in ("threads", "processes", "tcp://10.0.0.1:8786", "head:8786", "tls://head.example.org:8786"):
        assert check_scheduler(ok) == ok
    for bad in ("process", "thread", "tcp://head", "", 3):
        with pytest.raises(OptionError, match=r"scheduler must be None, one of .* got " + repr(bad)):
            check_scheduler(bad)


SCRIPT = textwrap.dedent("""
    import mrioflow as mf

    if __name__ == "__main__":
        world = mf.datasets.synthetic(year=2013, seed=1, n_countries=8)
        mf.montecarlo(world, samples=10**6, batch_size=1, perturb={"Z": 0.1}, scheduler="processes",
                      workers=2, backend="numpy", progress=False, yes=True)
""")


@pytest.mark.skipif(sys.platform == "win32", reason="kill -9 is POSIX")
def test_process_workers_die_with_their_parent(tmp_path):
    psutil = pytest.importorskip("psutil")
    script = tmp_path / "ensemble.py"
    script.write_text(SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path)
    workers = []
    try:
        parent = psutil.Process(proc.pid)
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
            workers = [c for c in parent.children(recursive=True) if "python" in c.name().lower()]
        assert len(workers) >= 2, "the run never started its worker processes"
        time.sleep(1.0)  # the workers are computing
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        gone, alive = psutil.wait_procs(workers, timeout=15)
        assert alive == [], f"workers outlived their parent: {alive}"
    finally:
        if proc.poll() is None:
            proc.kill()
        for w in workers:  # never leave this test's processes behind, even when it fails
            if w.is_running():
                w.kill()
