"""Bytes a Monte Carlo ships per task to a Dask cluster, at Eora26 size.

Before: ``dask.delayed(runner, pure=True)(i)`` per batch, which puts the runner, and the
table inside it, into every task. Now: the runner is scattered to every worker once
(``client.scatter(..., broadcast=True)``) and each task holds a reference to it and its
batch number. Sizes are the pickled task specifications, as the scheduler holds them.

    python tools/dask_task_bytes.py
"""

from __future__ import annotations

import time

import dask
from distributed import Client, LocalCluster, wait
from distributed.protocol.pickle import dumps

import mrioflow as mf
from mrioflow.ensembles.ensemble import _BatchRunner, _expand_rsd
from mrioflow.ensembles.tasks import _apply


def main(batches: int = 8) -> None:
    mrio = mf.datasets.synthetic()
    sigmas = {"intensities": _expand_rsd("intensities", 0.3, mrio)}
    runner = _BatchRunner(mrio, sigmas, 8 * batches, 8, 0, mf.engine.get_backend("numpy"))
    print(f"table: n = {mrio.n}; the runner (table included) pickles to {len(dumps(runner)) / 1e6:.1f} MB")

    old = dask.delayed(runner, pure=True)(1)
    print(f"before: one task's graph pickles to {len(dumps(dict(old.__dask_graph__()))) / 1e6:.1f} MB")

    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster, Client(cluster) as client:
        t0 = time.perf_counter()
        [shared] = client.scatter([runner], broadcast=True, hash=False)
        print(f"now: the runner is scattered once per worker ({time.perf_counter() - t0:.1f} s)")
        futures = [client.submit(_apply, shared, i, pure=False) for i in range(batches)]
        wait(futures)  # every task has reached the scheduler (it keeps them while we hold the futures)
        sizes = client.run_on_scheduler(
            lambda dask_scheduler: {str(key): len(dumps(ts.run_spec)) for key, ts in dask_scheduler.tasks.items()}
        )
        sizes = [v for k, v in sizes.items() if k in {str(f.key) for f in futures}]
    print(f"now: {len(sizes)} tasks, pickled task specifications of {min(sizes)}-{max(sizes)} bytes each")


if __name__ == "__main__":
    main()
