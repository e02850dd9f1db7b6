"""Kill -9 an ensemble at several points; the resumed run equals an uninterrupted one and
no finished batch file is rewritten."""

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
from mrioflow._files import leftover_temporaries

KW = dict(samples=24, batch_size=2, perturb={"Z": 0.1, "intensities": 0.2}, seed=6, backend="numpy", progress=False)

SCRIPT = textwrap.dedent(f"""
    import sys
    import mrioflow as mf

    if len(sys.argv) > 2:  # an Eora26 zip, read through the cache (cold at the first run)
        world = mf.io.read(sys.argv[2], year=2013)
    else:
        world = mf.datasets.synthetic(year=2013, seed=1, n_countries=20)
    mf.montecarlo(world, out_dir=sys.argv[1], **{KW!r})
""")


def _finished(folder):
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.glob("batch_*.npz")}


@pytest.mark.skipif(sys.platform == "win32", reason="kill -9 is POSIX")
@pytest.mark.parametrize("data", ["synthetic", "eora26-zip"])
def test_killed_ensemble_resumes_exactly(tmp_path, data):
    """On the synthetic world, and on an Eora26 zip in the released layout read through an
    empty cache: the first killed run parses and caches it, the later ones load the cache."""
    script = tmp_path / "ensemble.py"
    script.write_text(SCRIPT)
    store = tmp_path / "batches"
    source = []
    if data == "eora26-zip":
        zipped = mf.io.write_eora26(mf.datasets.synthetic(year=2013, seed=1, n_countries=20), tmp_path, 2013, zip=True)
        source = [str(zipped)]
    seen: dict = {}
    for at in (0, 2, 5):  # killed once the folder holds this many finished batches (0: while starting)
        proc = subprocess.Popen([sys.executable, str(script), str(store), *source])
        deadline = time.monotonic() + 120
        while len(_finished(store) if store.exists() else {}) <= at and time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            time.sleep(0.01)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL, "the run ended before it could be killed (see its stderr)"
        now = _finished(store)
        assert all(now[name] == stamp for name, stamp in seen.items()), "a finished batch was rewritten"
        seen = now
    assert 0 < len(seen) < KW["samples"] // KW["batch_size"]

    world = mf.io.read(source[0], year=2013) if source else mf.datasets.synthetic(year=2013, seed=1, n_countries=20)
    if source:
        assert world.meta["cache"] == "hit"
    resumed = mf.montecarlo(world, out_dir=store, **KW)
    assert all(_finished(store)[name] == stamp for name, stamp in seen.items())
    assert leftover_temporaries(store) == []
    whole = mf.montecarlo(world, **KW)
    for name in ("pba", "cba", "imports", "exports", "net"):
        np.testing.assert_array_equal(resumed.accounts[name], whole.accounts[name])
    np.testing.assert_allclose(resumed.flows_std, whole.flows_std, rtol=1e-12)
