"""Does a scenario's effect exceed the uncertainty? A Monte Carlo ensemble on a scenario.

Each sample draws lognormal factors (median 1, ``exp(sigma z)``) for the stressor
intensities, per stressor and sector cell, as ``mf.montecarlo(perturb={"intensities": ...})``
does, and evaluates the base and the scenario on the same draw: the scenario's intensities
are multiplied by the same factors (a set value is as uncertain as the value it replaces),
its final-demand and technology changes are applied as they are (their solves are made
once for all samples). The change of each sample is scenario minus base, and
P(change < 0) is the share of samples where the scenario lowers the quantity.

Sample i draws from ``numpy.random.default_rng([seed, i])`` (a stream keyed by (seed,
sample)): the same numbers whatever the batching.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._checks import check_seed
from ..errors import OptionError
from .evaluator import ACCOUNTS, Evaluator
from .scenario import DesignRow, Scenario

__all__ = ["ScenarioUncertainty", "scenario_montecarlo"]


def _factors(seed: int, i: int, shape, sigma: float) -> np.ndarray:
    return np.exp(sigma * np.random.default_rng([seed, i]).standard_normal(shape))


def scenario_montecarlo(
    evaluator: Evaluator,
    scenario: Scenario | DesignRow,
    *,
    samples: int = 200,
    intensities: float = 0.3,
    seed: int = 0,
    batch: int = 64,
) -> ScenarioUncertainty:
    """The change a scenario makes, sample by sample, under uncertain intensities.

    Parameters
    ----------
    evaluator : Evaluator
        The base (its indices options give GMI; none: accounts only).
    scenario : Scenario or DesignRow
    samples : int
    intensities : float
        Relative spread sigma of the lognormal factors of the intensities (0.3: about 30 %).
    seed : int
    batch : int
        Samples evaluated together (2 rows each: base and scenario).
    """
    if not isinstance(samples, int) or samples < 1:
        raise OptionError(f"samples must be a positive integer, got {samples!r}")
    if not np.isfinite(intensities) or intensities < 0:
        raise OptionError(f"intensities (a relative spread) must be a number >= 0, got {intensities!r}")
    seed = check_seed(seed, "seed")
    row = evaluator.resolve(scenario) if isinstance(scenario, Scenario) else scenario
    m = evaluator.mrio
    S0 = evaluator.b.to_host(evaluator.base.S)
    S1 = S0 if row.S is None else row.S
    changes: dict[str, list[np.ndarray]] = {}
    outputs = ("accounts", "indices")
    for start in range(0, samples, batch):
        rows: list[DesignRow] = []
        for i in range(start, min(samples, start + batch)):
            f = _factors(seed, i, S0.shape, intensities)
            rows.append(DesignRow(f"base {i}", S=S0 * f))
            rows.append(dataclasses.replace(row, name=f"{row.name} {i}", S=S1 * f))
        res = evaluator.evaluate(rows, outputs=outputs)
        for key, values in res.rows.items():
            changes.setdefault(key, []).append(values[1::2] - values[0::2])
    stacked = {key: np.concatenate(v) for key, v in changes.items()}
    return ScenarioUncertainty(
        mrio=m,
        name=row.name,
        samples=samples,
        sigma=float(intensities),
        seed=seed,
        change=stacked,
        groups=None if evaluator.spec is None else evaluator.spec,
    )


@dataclass
class ScenarioUncertainty:
    """The change (scenario minus base) of each sample: ``change[name]`` with a leading
    sample axis (accounts (samples, k, R); with indices ``gmi`` (samples, R), ``gmi_region``
    (samples, G))."""

    mrio: object
    name: str
    samples: int
    sigma: float
    seed: int
    change: dict
    groups: object = None

    def probability(self, stressor: str = "CH4", level: str = "country") -> pd.DataFrame:
        """P(change < 0) of each account of ``stressor`` (and of GMI, when computed), by
        country or by region (the region's sum of its members' changes)."""
        m = self.mrio
        k = m.stressor_position(stressor)
        out = {}
        for a in ACCOUNTS:
            values = self.change[a][:, k, :]
            if level == "region":
                values = self._regions(values)
            out[a] = (values < 0).mean(axis=0)
        if "gmi" in self.change:
            out["GMI"] = (self.change["gmi" if level == "country" else "gmi_region"] < 0).mean(axis=0)
        return pd.DataFrame(out, index=pd.Index(self._labels(level), name=level))

    def summary(self, stressor: str = "CH4", account: str = "cba", level: str = "country") -> pd.DataFrame:
        """Mean, 5 % and 95 % quantiles of the change, and P(change < 0)."""
        k = self.mrio.stressor_position(stressor)
        values = self.change[account][:, k, :]
        if level == "region":
            values = self._regions(values)
        return pd.DataFrame(
            {
                "mean": values.mean(axis=0),
                "q05": np.quantile(values, 0.05, axis=0),
                "q95": np.quantile(values, 0.95, axis=0),
                "P(change < 0)": (values < 0).mean(axis=0),
            },
            index=pd.Index(self._labels(level), name=level),
        )

    def _regions(self, values: np.ndarray) -> np.ndarray:
        if self.groups is None:
            raise OptionError("by region needs the evaluator's indices options (its grouping)")
        return values @ self.groups.P.T

    def _labels(self, level: str) -> list[str]:
        if level == "country":
            return list(self.mrio.countries)
        if level == "region":
            if self.groups is None:
                raise OptionError("by region needs the evaluator's indices options (its grouping)")
            return list(self.groups.groups)
        raise OptionError(f"level must be 'country' or 'region', got {level!r}")
