"""Year (or scenario) sweeps: one independent engine run per year, one Dask task each."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import LabelError, OptionError
from ..mrio import MRIO, TableLabels
from .backend import Backend
from .results import Results
from .tasks import ResultStore, run_tasks

_ARRAYS = ("E", "M", "F", "F_Y", "x")


class _YearRunner:
    """Load one year, run the engine, keep the compact results (picklable for Dask)."""

    def __init__(self, loader, backend, dtype, stressors, store):
        self.loader = loader
        self.backend = backend if isinstance(backend, str) else backend.name
        self.dtype = dtype
        self.stressors = stressors
        self.store = store

    def __call__(self, year) -> dict:
        from .engine import Engine

        mrio = self.loader(year)
        if not isinstance(mrio, MRIO):
            raise OptionError(f"the loader must return an MRIO for year {year}, got {type(mrio).__name__}")
        res = Engine(self.backend, self.dtype).run(mrio, stressors=self.stressors, sector_flows=False)
        out = {name: getattr(res, name) for name in _ARRAYS}
        out["labels"] = np.array(json.dumps(res.mrio.labels().to_json()))
        out["backend"] = np.array(res.backend)
        if self.store is not None:
            self.store.save(year, out)
        return out


def _to_results(stored: dict) -> Results:
    labels = TableLabels.from_json(json.loads(str(stored["labels"])))
    return Results(mrio=labels, backend=str(stored["backend"]), **{n: stored[n] for n in _ARRAYS})


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
    from ..datasets import synthetic

    return synthetic(year=year)


def sweep(
    years: Iterable,
    loader: Callable[[object], MRIO] | None = None,
    *,
    backend: str | Backend = "auto",
    dtype: str = "float64",
    stressors: Sequence[str] | None = None,
    scheduler=None,
    out_dir=None,
    progress: bool = True,
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
        A backend is named here (not an object) so that every worker builds its own.
    stressors : sequence of str, optional
    scheduler : optional
        None: here, one year after another, with a progress bar; a Dask scheduler
        name ("threads", "processes") or a ``distributed.Client`` / address: one
        task per year there.
    out_dir : path, optional
        Each finished year is written there at once (``year_{year}.npz``, atomically);
        a rerun skips the years already there. The folder belongs to one loader and
        one set of stressors: use another folder when you change the data.

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
    store = None
    done: dict = {}
    if out_dir is not None:
        spec = {"stressors": list(stressors) if stressors else None, "dtype": dtype,
                "loader": getattr(loader, "__qualname__", None) or getattr(getattr(loader, "func", None), "__qualname__", repr(loader))}
        store = ResultStore(out_dir, spec, what="a sweep", filename=lambda year: f"year_{year}.npz")
        done = store.load(years)
    runner = _YearRunner(loader, backend, dtype, stressors, store)
    todo = [y for y in years if y not in done]
    done.update(run_tasks(runner, todo, scheduler=scheduler, progress=progress, desc="years"))
    return SweepResults({year: _to_results(done[year]) for year in years})
