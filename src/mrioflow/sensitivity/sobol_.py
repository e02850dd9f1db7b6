"""Global sensitivity: first-order and total Sobol indices of grouped inputs, with SALib.

The factors theta_g (one per input group, independent, uniform on ``bounds[g]``) are sampled
with SALib's Sobol sequence (Saltelli's scheme: N (D + 2) rows without second-order terms);
each row is a scenario (every group's inputs times its theta) evaluated on the prepared base by
the :class:`~mrioflow.experiments.Evaluator` (intensity rows: no solve; final-demand rows: one
solve per changed consumer with the base LU; technology rows: the low-rank update), in chunks;
SALib's estimators give S1 and ST with bootstrap confidence intervals (docs/method.md section 15).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import kernels as K
from ..engine import Engine
from ..engine.engine import PreparedTable
from ..errors import DependencyError, OptionError
from ..experiments.evaluator import Evaluator
from ..experiments.scenario import Scenario
from ..mrio import MRIO
from .groups import InputGroup

__all__ = ["SobolResults", "analyse_design", "sobol"]

LINEAR_PATH = "linear in the factors (one solve per final-demand group, once)"

SOBOL_OUTPUTS = ("pba", "cba", "net", "gmi")


def _salib():
    try:
        from SALib.analyze import sobol as analyze
        from SALib.sample import sobol as sample
    except ImportError as exc:  # pragma: no cover - SALib is a dependency
        raise DependencyError(f"Sobol indices need SALib (pip install SALib): {exc}") from None
    return sample, analyze


def analyse_design(
    problem: dict,
    evaluate: Callable[[np.ndarray], np.ndarray],
    *,
    samples: int,
    seed: int = 0,
    chunk: int = 256,
    conf_level: float = 0.95,
    num_resamples: int = 200,
) -> tuple[np.ndarray, list[dict]]:
    """Sample ``problem`` (SALib's dict: names, bounds), evaluate the design in chunks of rows
    (``evaluate``: (m, D) factors -> (m, outputs)) and analyse each output with SALib.

    Returns the design's outputs (N (D + 2), outputs) and one SALib result per output.
    """
    sample, analyze = _salib()
    if samples < 2 or samples & (samples - 1):
        raise OptionError(f"samples must be a power of 2 (Sobol sequence), got {samples!r}")
    X = sample.sample(problem, samples, calc_second_order=False, seed=seed)
    parts = [np.asarray(evaluate(X[i : i + chunk]), dtype=float) for i in range(0, len(X), chunk)]
    Y = np.concatenate([p.reshape(len(p), -1) for p in parts])
    # An output no group moves (a country outside every group's reach): NaN indices, no warnings.
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Constant values encountered", category=UserWarning)
        results = [
            analyze.analyze(
                problem,
                Y[:, j],
                calc_second_order=False,
                conf_level=conf_level,
                num_resamples=num_resamples,
                seed=seed + 1,  # SALib leaves its bootstrap unseeded for a seed of 0
            )
            for j in range(Y.shape[1])
        ]
    return Y, results


@dataclass
class SobolResults:
    """``table``: one row per (output, level, target, group): S1, S1_conf, ST, ST_conf (the
    half-widths of the ``conf_level`` bootstrap intervals)."""

    table: pd.DataFrame
    samples: int
    evaluations: int
    paths: list[str]
    synthetic: bool = False
    meta: dict = field(default_factory=dict)

    def figure(self, output: str, target: str, level: str = "region"):
        """Bars of S1 and ST by group with their confidence intervals."""
        import matplotlib.pyplot as plt

        from ..analysis.figures import _mark

        t = self.table
        t = t[(t["output"] == output) & (t["level"] == level) & (t["target"] == target)]
        if t.empty:
            raise OptionError(f"no {output!r} of {target!r} at level {level!r} in these results")
        x = np.arange(len(t))
        fig, ax = plt.subplots(figsize=(max(5, 0.7 * len(t) + 2), 4))
        ax.bar(x - 0.2, t["S1"], 0.4, yerr=t["S1_conf"], capsize=3, label="first order S1")
        ax.bar(x + 0.2, t["ST"], 0.4, yerr=t["ST_conf"], capsize=3, label="total ST")
        ax.set_xticks(x, t["group"], rotation=45, ha="right", fontsize=8)
        ax.set_ylabel("Sobol index")
        ax.set_title(f"{output.upper()} of {target}: Sobol indices ({self.samples} x (D + 2) evaluations)", fontsize=9)
        ax.axhline(0, color="black", linewidth=0.6)
        ax.legend(fontsize=8)
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        _mark(fig, self.synthetic)
        return fig


def sobol(
    table: MRIO | PreparedTable,
    groups: Sequence[InputGroup],
    *,
    bounds: Mapping[str, tuple[float, float]] | tuple[float, float] = (0.9, 1.1),
    samples: int = 256,
    stressor: str = "CH4",
    indices: Mapping | None = None,
    regions=None,
    outputs: Sequence[str] = SOBOL_OUTPUTS,
    seed: int = 0,
    conf_level: float = 0.95,
    num_resamples: int = 200,
    chunk: int = 256,
    backend: str = "numpy",
    fast: bool = True,
) -> SobolResults:
    """First-order and total Sobol indices of the accounts of ``stressor`` (PBA, CBA, net by
    country and region) and of GMI (country, region) for independent uniform group factors.

    ``bounds``: (low, high) of every group's factor, or a mapping group name -> (low, high).
    ``samples``: N, a power of 2; the design has N (D + 2) rows.
    ``fast``: when every group scales intensities or final demand and no two groups of a kind
    share an input, E is linear in each group's factor: each final-demand group's L dYr is
    solved once with the base LU and every row is a sum of flow products (no solve per row;
    equal to the Evaluator's rows, tests/experiments/test_sensitivity_sobol.py). Otherwise, or
    with ``fast=False``, every row is a scenario evaluated by the Evaluator.
    """
    if not groups:
        raise OptionError("Sobol indices need at least one input group")
    bad = [o for o in outputs if o not in SOBOL_OUTPUTS]
    if bad:
        raise OptionError(f"unknown output(s) {bad}; choose from {SOBOL_OUTPUTS}")
    names = [g.name for g in groups]
    if len(set(names)) != len(names):
        raise OptionError(f"input group names must be unique, got {names}")
    b_of = {g: tuple(bounds[g]) for g in names} if isinstance(bounds, Mapping) else dict.fromkeys(names, tuple(bounds))
    for g, (lo, hi) in b_of.items():
        if not (np.isfinite(lo) and np.isfinite(hi) and 0 <= lo < hi):
            raise OptionError(f"bounds of group {g!r} must satisfy 0 <= low < high, got {(lo, hi)}")
    base = table if isinstance(table, PreparedTable) else Engine(backend).prepare(table)
    m = base.mrio
    k = m.stressor_position(stressor)
    ev = Evaluator(base, indices=indices)
    if "gmi" in outputs and ev.spec is None:
        outputs = tuple(o for o in outputs if o != "gmi")
    P, region_names = None, []
    if regions is not None:
        from ..regions import as_regions

        reg = as_regions(regions)
        P, region_names = reg.membership(m.countries), list(reg.groups)
    elif ev.spec is not None:
        P, region_names = ev.spec.P, list(ev.spec.groups)
    labels: list[tuple[str, str, str]] = []
    for o in outputs:
        if o == "gmi":
            labels += [("gmi", "country", c) for c in m.countries] + [("gmi", "region", g) for g in ev.spec.groups]
        else:
            labels += [(o, "country", c) for c in m.countries] + [(o, "region", g) for g in region_names]
    ev_outputs = ("accounts", "indices") if "gmi" in outputs else ("accounts",)
    paths: list[str] = []

    linear = _linear_plan(ev, groups) if fast else None

    def evaluate(F: np.ndarray) -> np.ndarray:
        if linear is not None:
            out = ev._outputs(linear.flows(F), ev_outputs)
            paths.extend([LINEAR_PATH] * len(F))
        else:
            rows = []
            for i, theta in enumerate(F):
                sc = Scenario(f"row{i}")
                for g, f in zip(groups, theta, strict=True):
                    sc = sc + g.scenario(float(f))
                rows.append(ev.resolve(sc))
            res = ev.evaluate(rows, outputs=ev_outputs)
            paths.extend(res.paths)
            out = res.rows
        cols = []
        for o in outputs:
            if o == "gmi":
                cols += [out["gmi"], out["gmi_region"]]
            else:
                v = out[o][:, k, :]
                cols += [v] + ([v @ P.T] if P is not None else [])
        return np.concatenate(cols, axis=1)

    problem = {"num_vars": len(groups), "names": names, "bounds": [list(b_of[g]) for g in names]}
    Y, results = analyse_design(
        problem, evaluate, samples=samples, seed=seed, chunk=chunk, conf_level=conf_level, num_resamples=num_resamples
    )
    rows = []
    for (o, level, target), r in zip(labels, results, strict=True):
        for j, g in enumerate(names):
            rows.append((o, level, target, g, r["S1"][j], r["S1_conf"][j], r["ST"][j], r["ST_conf"][j]))
    table_ = pd.DataFrame(rows, columns=["output", "level", "target", "group", "S1", "S1_conf", "ST", "ST_conf"])
    return SobolResults(
        table=table_,
        samples=samples,
        evaluations=len(Y),
        paths=sorted(set(paths)),
        synthetic=m.synthetic,
        meta={"bounds": b_of, "seed": seed, "conf_level": conf_level, "stressor": stressor},
    )


@dataclass
class _Linear:
    """Rows of intensity and final-demand factors on one base: S = S0 + sum_g (theta_g - 1) dS_g,
    X = X0 + sum_h (theta_h - 1) L dYr_h, E = calc_E(S, X) (the groups share no input)."""

    ev: Evaluator
    S0: np.ndarray  # (k, n) host
    dS: list[tuple[int, np.ndarray]]  # (group position, (k, n))
    dX: list[tuple[int, object]]  # (group position, (n, R) on the device)

    def flows(self, F: np.ndarray):
        b, xp = self.ev.b, self.ev.xp
        R = self.ev.mrio.n_countries
        theta = np.asarray(F, dtype=float) - 1.0
        S = np.broadcast_to(self.S0, (len(F), *self.S0.shape)).copy()
        for j, d in self.dS:
            S += theta[:, j, None, None] * d[None, ...]
        S_d = b.asarray(S)
        E = K.calc_E(S_d, self.ev.base.X, R)
        for j, Xg in self.dX:
            weight = xp.reshape(b.asarray(theta[:, j]), (len(F), 1, 1, 1))
            E = E + weight * K.calc_E(S_d, Xg, R)
        return E


def _linear_plan(ev: Evaluator, groups: Sequence[InputGroup]) -> _Linear | None:
    """The linear form of intensity/final-demand groups, or None (another kind, or overlap)."""
    if any(g.kind not in ("intensity", "final_demand") for g in groups):
        return None
    m, b = ev.mrio, ev.b
    R, c = m.n_countries, len(m.fd_categories)
    S0 = b.to_host(ev.base.S)
    dS, rhs, seen_S, seen_Y = [], [], np.zeros(S0.shape, dtype=int), np.zeros(m.Y.shape, dtype=int)
    for j, g in enumerate(groups):
        row = ev.resolve(g.scenario(2.0))  # the change at theta = 2: the group's inputs
        if g.kind == "intensity":
            d = row.S - S0
            seen_S += d != 0
            dS.append((j, d))
        else:
            seen_Y[:, row.fd_columns] += row.dY != 0
            cons, vals = row.dYr(R, c)
            full = np.zeros((m.n, R))
            full[:, cons] = vals
            rhs.append((j, full))
    if (seen_S > 1).any() or (seen_Y > 1).any():
        return None  # two groups scale one input: their factors multiply, not add
    dX = []
    if rhs:  # every final-demand group's L dYr in one solve with the base LU
        solved = ev.base.system.solve(b.asarray(np.concatenate([v for _, v in rhs], axis=1)))
        for i, (j, _) in enumerate(rhs):
            dX.append((j, solved[:, i * R : (i + 1) * R]))
    return _Linear(ev, S0, dS, dX)
