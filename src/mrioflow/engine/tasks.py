"""Running independent tasks (years, batches of samples) here or on a Dask scheduler,
and writing each finished task's result atomically."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from .._files import atomic_write

LOCAL_SCHEDULERS = ("threads", "processes", "synchronous", "sync")


def write_atomic_npz(path: Path, arrays: dict) -> None:
    """Write arrays to ``path`` atomically: an interrupted write never leaves a file that loads."""
    atomic_write(path, lambda tmp: np.savez(tmp, **arrays))


def write_atomic_text(path: Path, text: str) -> None:
    """Write text atomically (temporary file, then rename)."""
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def load_npz(path: Path) -> dict | None:
    """The arrays of an npz file, or None (and the file removed) when it is damaged."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return {key: z[key] for key in z.files}
    except Exception:
        path.unlink(missing_ok=True)
        return None


def run_tasks(
    func: Callable,
    keys: Iterable,
    *,
    scheduler=None,
    progress: bool = True,
    desc: str = "tasks",
) -> dict:
    """Run ``func(key)`` for every key; return {key: result}.

    ``scheduler=None`` runs here, one after another, with a progress bar; a Dask
    scheduler name ("threads", "processes", "synchronous") runs one Dask task per
    key locally; anything else (a ``distributed.Client`` or a scheduler address)
    runs them on that cluster. ``func`` is shipped once, as one graph node.
    """
    keys = list(keys)
    if not keys:
        return {}
    if scheduler is None:
        from tqdm.auto import tqdm

        return {key: func(key) for key in tqdm(keys, desc=desc, disable=not progress)}

    import dask

    func_d = dask.delayed(func, pure=True)
    tasks = [func_d(key) for key in keys]
    if isinstance(scheduler, str) and scheduler in LOCAL_SCHEDULERS:
        from contextlib import nullcontext

        from dask.diagnostics import ProgressBar

        with ProgressBar() if progress else nullcontext():
            results = dask.compute(*tasks, scheduler=scheduler)
    else:
        from distributed import Client

        client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
        futures = client.compute(tasks)
        if progress:
            from distributed import progress as show

            show(futures)
        results = client.gather(futures)
    return dict(zip(keys, results))


class ResultStore:
    """A folder of finished task results, one npz file per task, for resuming.

    ``manifest.json`` records what the folder belongs to (``spec``); a folder
    holding another study is refused rather than mixed. Files are written
    atomically; a damaged one is removed and its task recomputed.
    """

    def __init__(self, folder, spec: dict, *, what: str, filename: Callable[[object], str]):
        import json

        from ..errors import OptionError

        self.folder = Path(folder)
        self.filename = filename
        self.folder.mkdir(parents=True, exist_ok=True)
        manifest = self.folder / "manifest.json"
        text = json.dumps(spec, sort_keys=True)
        if manifest.exists():
            if json.loads(manifest.read_text()) != json.loads(text):
                raise OptionError(f"{self.folder} holds {what} with other settings; use another (or an empty) folder")
        else:
            write_atomic_text(manifest, text)

    def load(self, keys: Iterable) -> dict:
        """The stored results among ``keys``: {key: arrays}."""
        done = {}
        for key in keys:
            path = self.folder / self.filename(key)
            if path.exists() and (stored := load_npz(path)) is not None:
                done[key] = stored
        return done

    def save(self, key, arrays: dict) -> None:
        write_atomic_npz(self.folder / self.filename(key), arrays)
