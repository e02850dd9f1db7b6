"""Running independent tasks (years, batches of samples) here, in local threads or
processes, or on a Dask cluster.

The function a task runs (which holds the table) is sent to each worker once: as
the initialiser of each local worker process, or scattered to every worker of a
cluster (``client.scatter(..., broadcast=True)``); tasks carry only their key.
Results come back to this process, which hands each to ``on_result`` as it
arrives (to write it, or to fold it into running summaries).
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Executor, ProcessPoolExecutor, ThreadPoolExecutor, wait
from contextlib import contextmanager

from ..errors import OptionError

#: Scheduler names run here: None / "sync" / "synchronous" one task after another.
SCHEDULER_NAMES = ("sync", "synchronous", "threads", "processes")
_ADDRESS = re.compile(r"^(?:[a-z]+://)?[\w.\-]+:\d{1,5}$|^(?:[a-z]+://)?\[[0-9a-fA-F:]+\]:\d{1,5}$")


def check_scheduler(scheduler):
    """Validate a scheduler: None, "sync", "synchronous" (here), "threads", "processes",
    a Dask scheduler address ("tcp://host:port" or "host:port") or a ``distributed.Client``.

    Returns None for "here", else the scheduler unchanged.

    Raises
    ------
    OptionError
        Anything else (the message lists what is valid).
    """
    if scheduler is None or scheduler in ("sync", "synchronous"):
        return None
    if isinstance(scheduler, str) and (scheduler in SCHEDULER_NAMES or _ADDRESS.match(scheduler)):
        return scheduler
    distributed = sys.modules.get("distributed")
    if distributed is not None and isinstance(scheduler, distributed.Client):
        return scheduler
    raise OptionError(
        f"scheduler must be None, one of {SCHEDULER_NAMES}, a Dask scheduler address "
        f"('tcp://host:port' or 'host:port') or a distributed.Client; got {scheduler!r}"
    )


def run_tasks(
    func: Callable,
    keys: Iterable,
    *,
    on_result: Callable[[object, object], None],
    scheduler=None,
    progress: bool = True,
    desc: str = "tasks",
    workers: int | None = None,
) -> None:
    """Run ``func(key)`` for every key and call ``on_result(key, result)`` here as each
    finishes (in completion order).

    Parameters
    ----------
    func : picklable callable
        Sent to each worker once.
    scheduler : see :func:`check_scheduler`
        With "processes", the worker processes end when this process ends, even
        when it is killed. Scripts that use it need the ``if __name__ == "__main__":``
        guard where the start method is not "fork".
    workers : int, optional
        Local threads or processes (default: the number of CPU cores).

    An error in a task cancels the tasks not yet started and is raised here.
    """
    keys = list(keys)
    scheduler = check_scheduler(scheduler)
    if not keys:
        return
    from tqdm.auto import tqdm

    with tqdm(total=len(keys), desc=desc, disable=not progress) as bar:
        if scheduler is None:
            for key in keys:
                on_result(key, func(key))
                bar.update()
        elif scheduler in ("threads", "processes"):
            n = workers or os.cpu_count() or 1
            with _pool(scheduler, func, n) as (pool, call):
                _windowed(lambda key: pool.submit(call, key), wait, keys, 2 * n, on_result, bar)
        else:
            from distributed import wait as dask_wait

            with _client(scheduler) as client:
                [shared] = client.scatter([func], broadcast=True, hash=False)
                n = max(1, sum(client.nthreads().values()))
                try:
                    _windowed(
                        lambda key: client.submit(_apply, shared, key, pure=False),
                        dask_wait,
                        keys,
                        2 * n,
                        on_result,
                        bar,
                    )
                finally:
                    client.cancel([shared])


def _windowed(submit: Callable, wait_for: Callable, keys: list, window: int, on_result: Callable, bar) -> None:
    """Submit tasks keeping at most ``window`` in flight (a million batches are not a
    million futures at once); hand each result over as it arrives. ``wait_for`` is
    concurrent.futures' or distributed's ``wait``."""
    pending: dict = {}
    try:
        for key in keys:
            pending[submit(key)] = key
            while len(pending) >= window:
                _collect(pending, wait_for, on_result, bar)
        while pending:
            _collect(pending, wait_for, on_result, bar)
    finally:
        for fut in pending:
            fut.cancel()


def _collect(pending: dict, wait_for: Callable, on_result: Callable, bar) -> None:
    finished = wait_for(list(pending), return_when=FIRST_COMPLETED)[0]
    for fut in finished:
        on_result(pending.pop(fut), fut.result())
        bar.update()


def _apply(func, key):
    return func(key)


@contextmanager
def _pool(kind: str, func: Callable, n: int):
    pool: Executor
    if kind == "threads":
        pool, call = ThreadPoolExecutor(n), func
    else:
        pool = ProcessPoolExecutor(n, initializer=_init_worker, initargs=(func,))
        call = _call_worker
    try:
        yield pool, call
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def _client(scheduler):
    """The Client given, or one connected to the address and closed afterwards."""
    from distributed import Client

    if isinstance(scheduler, Client):
        yield scheduler
        return
    with Client(scheduler) as client:
        yield client


# -- local worker processes ----------------------------------------------------------------

_WORKER_FUNC: Callable | None = None


def _init_worker(func: Callable) -> None:
    """Keep the task function, and end this worker when its parent is gone (the parent is
    the run's process, or with the "forkserver" start method the server, which ends with it)."""
    global _WORKER_FUNC
    _WORKER_FUNC = func
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True, name="mrioflow-parent-watch").start()


def _watch_parent(parent: int, every: float = 0.5) -> None:
    # A killed parent cannot stop its workers: they would wait for work for ever.
    # Once the parent is gone this process is re-parented, and getppid() changes.
    import time

    while os.getppid() == parent:
        time.sleep(every)
    os._exit(1)


def _call_worker(key):
    assert _WORKER_FUNC is not None
    return _WORKER_FUNC(key)
