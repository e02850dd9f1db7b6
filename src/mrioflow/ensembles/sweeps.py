"""Year (or scenario) sweeps: one independent engine run per year, one task each."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..datasets import synthetic
from ..engine import Backend, Engine, Results, get_backend
from ..engine.engine import check_precision
from ..errors import LabelError, OptionError, StoreError
from ..mrio import MRIO, TableLabels
from .store import ResultStore, table_fingerprint
from .tasks import run_tasks

_ARRAYS = ("E", "M", "F", "F_Y", "x")


def _load(loader, year) -> MRIO:
    mrio = loader(year)
    if not isinstance(mrio, MRIO):
        raise OptionError(f"the loader must return an MRIO for year {year}, got {type(mrio).__name__}")
    return mrio


class _YearRunner:
    """Load one year, run the engine, keep the compact results (picklable: sent to workers once)."""

    def __init__(self, loader, backend: Backend, stressors, precision: str = "double"):
        self.loader = loader
        self.backend = backend
        self.stressors = stressors
        self.precision = precision

    def __call__(self, year) -> dict:
        mrio = _load(self.loader, year)
        res = Engine(self.backend, precision=self.precision).run(mrio, stressors=self.stressors, sector_flows=False)
        out = {name: getattr(res, name) for name in _ARRAYS}
        out["precision"] = np.array(json.dumps(res.precision))
        out["labels"] = np.array(json.dumps(res.mrio.labels().to_json()))
        out["table"] = np.array(table_fingerprint(mrio))
        return out


def _to_results(stored: dict, backend: Backend) -> Results:
    labels = TableLabels.from_json(json.loads(str(stored["labels"])))
    precision = json.loads(str(stored["precision"])) if "precision" in stored else None
    return Results(mrio=labels, backend=backend, precision=precision, **{n: stored[n] for n in _ARRAYS})


_PATH_KEYWORDS = ("data", "edgar", "edgar_mapping", "path", "folder", "cache_dir")
"""Loader keywords that say where files are, not what they hold (each year's table content is checked)."""
_PATH = "<a path: each year's table is checked>"


def _describe_loader(loader) -> str:
    """The loader's function and arguments (a partial's keywords name the seeds and options).

    Where files are (a path argument, or a keyword of ``_PATH_KEYWORDS``) is not part of it:
    the resume compares each finished year's table content instead, so the same data read
    from another folder, or through a cache, resumes."""
    func = getattr(loader, "func", loader)
    name = f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', type(func).__name__)}"
    args = [_PATH if isinstance(a, os.PathLike) else a for a in getattr(loader, "args", ())]
    keywords = {
        k: _PATH if v is not None and (k in _PATH_KEYWORDS or isinstance(v, os.PathLike)) else v
        for k, v in getattr(loader, "keywords", {}).items()
    }
    return name + json.dumps([args, keywords], sort_keys=True, default=str)


@dataclass(eq=False)
class SweepResults:
    """Per-year results of ``mf.sweep``; ``results[year]`` is a full ``Results``
    (without the sector-level forms)."""

    results: dict

    @property
    def years(self) -> list:
        return list(self.results)

    def __getitem__(self, year) -> Results:
        try:
            return self.results[year]
        except KeyError:
            raise LabelError(f"year {year!r} is not in this sweep; it has {self.years}") from None

    def accounts(self, stressor: str, *, direct: bool = True) -> pd.DataFrame:
        """Accounts of every year: rows (year, country), columns pba, cba, imports, exports, net."""
        frames = {year: res.accounts(stressor, direct=direct) for year, res in self.results.items()}
        return pd.concat(frames, names=["year", "country"])

    def flows(self, stressor: str, year) -> pd.DataFrame:
        return self[year].flows(stressor)


def _synthetic_loader(year):
    return synthetic(year=year)


def sweep(
    years: Iterable,
    loader: Callable[[object], MRIO] | None = None,
    *,
    backend: str | Backend = "auto",
    dtype: str | None = None,
    stressors: Sequence[str] | None = None,
    scheduler=None,
    out_dir=None,
    progress: bool = True,
    precision: str = "double",
) -> SweepResults:
    """Run the engine on many years (or scenarios), one independent task per year.

    Parameters
    ----------
    years : iterable
        The keys passed to ``loader`` (years, or scenario names).
    loader : callable, optional
        ``loader(year) -> MRIO``, e.g. ``lambda y: mf.io.read_eora26(folder, y)``;
        default: the synthetic world of that year.
    backend, dtype : the engine's backend and working precision
        A Backend object reaches the workers as the same kind, dtype and device.
    stressors : sequence of str, optional
    scheduler : optional
        None (or "sync"): here, one year after another, with a progress bar;
        "threads" or "processes" (scripts need the ``if __name__ == "__main__":``
        guard): local workers; a Dask scheduler address or a ``distributed.Client``:
        one task per year there, the loader sent to every worker once.
    out_dir : path, optional
        Each finished year is written there at once (``year_{year}.npz``, atomically);
        a rerun skips the years already there. The folder records the loader (its
        function and arguments, but not the paths it reads), the stressors and the
        dtype, and each year's table content hash (never how the table was read: a
        parse or a cache hit, from which folder): a rerun whose loader returns another
        table for a finished year, or with other settings, is refused (naming what
        differs).
    precision : {"double", "mixed"}
        How each year's LU is made (``Engine(precision=)``); each year's
        ``Results.precision`` records its solves and any fallback to float64.

    Returns
    -------
    SweepResults
    """
    years = list(years)
    if not years:
        raise OptionError("sweep needs at least one year")
    if len(set(years)) != len(years):
        raise OptionError(f"years repeat: {years}")
    loader = loader or _synthetic_loader
    be = get_backend(backend, dtype)
    check_precision(precision, be)
    store = None
    done: dict = {}
    if out_dir is not None:
        spec = {
            "kind": "sweep",
            "loader": _describe_loader(loader),
            "dtype": be.dtype_name,
            "stressors": list(stressors) if stressors else None,
        }
        if precision != "double":  # stores of the float64 path keep their fingerprint
            spec["precision"] = precision
        store = ResultStore(out_dir, spec, filename=lambda year: f"year_{year}.npz")
        for year in years:
            stored = store.get(year)
            if stored is None:
                continue
            if str(stored.get("table")) != table_fingerprint(_load(loader, year)):
                raise StoreError(
                    f"{store.path(year)} was computed from another table of {year!r} than the "
                    "loader returns now; use another (or an empty) folder"
                )
            done[year] = stored

    def finished(year, result):
        if store is not None:
            store.save(year, result)
        done[year] = result

    todo = [y for y in years if y not in done]
    run_tasks(
        _YearRunner(loader, be, stressors, precision),
        todo,
        on_result=finished,
        scheduler=scheduler,
        progress=progress,
        desc="years",
    )
    return SweepResults({year: _to_results(done[year], be) for year in years})
