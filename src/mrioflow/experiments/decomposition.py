"""Structural decomposition of the change between two tables (docs/method.md section 14).

The embodied flows of one table factor as

    E[k, r, s] = sum_{i in r} s[k, i] (L m)[i, s] G c[s] + (direct final-demand stressors)

with s the intensities, L the Leontief inverse, m = Yr / (Yr's column totals) the final-demand
mix (the share of each origin and product in consumer s's final demand), c the consumer mix
(each consumer's share of world final demand) and G the level (world final demand). The change
of E between two tables is split among these five factors by the exact average over all 5! = 120
orderings of the factors (Dietzenbacher & Los 1998; no residual), computed from the 2^5 subsets
with the Shapley weights, or by the average of the two polar forms. E is bilinear in (s, L m) and
linear in G c per column, so the 32 combinations cost two LUs (each table's) and two cross
solves L_a m_b with R right-hand sides, then products only. Accounts (PBA, CBA, net; by country
and region) are sums of E, so their effects are the same sums of E's effects; the change of the
direct final-demand stressors F_Y is its own term ("direct"), added to PBA and CBA.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import kernels as K
from ..engine.backend import Backend
from ..errors import InvalidValueError, LabelError, OptionError
from ..mrio import MRIO

__all__ = ["FACTORS", "METHODS", "Decomposition", "DecompositionChain", "decompose"]

FACTORS = ("intensity", "leontief", "fd_mix", "consumer_mix", "fd_level")
FACTOR_LABELS = {
    "intensity": "stressor intensity",
    "leontief": "Leontief structure",
    "fd_mix": "final-demand mix (origin and product)",
    "consumer_mix": "consumer mix",
    "fd_level": "final-demand level",
    "direct": "direct final-demand stressors",
}
METHODS = ("shapley", "polar")
DEC_ACCOUNTS = ("pba", "cba", "net")


def check_same_classification(a: MRIO, b: MRIO) -> None:
    """The two tables must share countries, sectors, final-demand categories, stressors and units."""
    for what in ("countries", "sectors", "fd_categories", "stressors", "units"):
        va, vb = tuple(getattr(a, what)), tuple(getattr(b, what))
        if va != vb:
            only_a = [v for v in va if v not in vb][:5]
            only_b = [v for v in vb if v not in va][:5]
            detail = (
                f"only in the first: {only_a}, only in the second: {only_b}"
                if only_a or only_b
                else "the same labels in another order"
            )
            raise LabelError(
                f"the two tables ({_name(a)}, {_name(b)}) do not share one classification: their {what} differ "
                f"({detail}); aggregate both to one classification first (mf.aggregate)"
            )


def _name(m: MRIO) -> str:
    return f"year {m.year}" if m.year is not None else m.source


def shapley_weights(n_factors: int) -> np.ndarray:
    """w[t] = t! (F - t - 1)! / F!: the weight of a subset of t other factors."""
    F = n_factors
    return np.array([math.factorial(t) * math.factorial(F - t - 1) / math.factorial(F) for t in range(F)])


def combine(values: dict[tuple[int, ...], np.ndarray], n_factors: int, method: str) -> np.ndarray:
    """Effects (F, ...) from the function's values at every subset of factors at their end value.

    ``values[mask]``: the output with factor j at its end value where mask[j] == 1, else at its
    start value. "shapley": the average over all orderings; "polar": the average of the
    forward (factor 0 first) and the backward ordering.
    """
    F = n_factors
    first = next(iter(values.values()))
    effects = np.zeros((F, *np.shape(first)))
    if method == "shapley":
        w = shapley_weights(F)
        for mask, v in values.items():
            t = sum(mask)
            for j in range(F):
                # v is f(T + j) for j in mask (T = mask - j, |T| = t - 1), f(T) for j not in mask.
                effects[j] += w[t - 1] * v if mask[j] else -w[t] * v
        return effects
    if method == "polar":
        for order in (range(F), range(F - 1, -1, -1)):
            mask = [0] * F
            for j in order:
                before = values[tuple(mask)]
                mask[j] = 1
                effects[j] += 0.5 * (values[tuple(mask)] - before)
        return effects
    raise OptionError(f"unknown decomposition method {method!r}; choose from {METHODS}")


@dataclass
class _Factors:
    S: object  # (k, n)
    m: object  # (n, R)
    c: object  # (R,)
    G: float
    FYr: object  # (k, R)
    system: object


def _factors(mrio: MRIO, backend: Backend, engine) -> _Factors:
    xp = backend.xp
    prep = engine.prepare(mrio)
    Yr = prep.Yr
    totals = xp.sum(Yr, axis=0)  # (R,)
    G = float(xp.sum(totals))
    if G == 0 or not math.isfinite(G):
        raise InvalidValueError(f"{_name(mrio)}: world final demand is {G}; the level factor needs it non-zero")
    safe = xp.where(totals == 0, xp.ones_like(totals), totals)
    m = xp.where(totals[None, :] == 0, xp.zeros_like(Yr), Yr / safe[None, :])
    return _Factors(S=prep.S, m=m, c=totals / G, G=G, FYr=prep.FYr, system=prep.system)


def _flows_at_subsets(f0: _Factors, f1: _Factors, R: int, backend: Backend) -> dict[tuple[int, ...], np.ndarray]:
    """E (k, R, R) with each factor at its start (0) or end (1) value, for all 32 subsets."""
    fs = (f0, f1)
    Lm = {(a, b): fs[a].system.solve(fs[b].m) for a in (0, 1) for b in (0, 1)}  # the only solves
    SLm = {(i, a, b): K.calc_E(fs[i].S, Lm[(a, b)], R) for i in (0, 1) for (a, b) in Lm}
    out = {}
    for mask in itertools.product((0, 1), repeat=len(FACTORS)):
        i, a, b, cm, g = mask
        scale = fs[cm].c * fs[g].G  # (R,): consumer s's final demand
        out[mask] = backend.to_host(SLm[(i, a, b)] * scale[None, None, :])
    return out


@dataclass
class Decomposition:
    """The change from ``start`` to ``end`` split into the factors (:data:`FACTORS`) and "direct".

    ``effects`` (F, k, R, R): each factor's effect on the flows E; ``direct`` (k, R): the change
    of the direct final-demand stressors; ``E0``/``E1``, ``FYr0``/``FYr1``: the two tables'
    flows and direct stressors. ``P`` (G, R): region membership (None: countries only).
    """

    countries: tuple[str, ...]
    stressors: tuple[str, ...]
    units: tuple[str, ...]
    years: tuple
    method: str
    effects: np.ndarray
    direct: np.ndarray
    E0: np.ndarray
    E1: np.ndarray
    FYr0: np.ndarray
    FYr1: np.ndarray
    groups: tuple[str, ...] = ()
    P: np.ndarray | None = None
    synthetic: bool = False
    meta: dict = field(default_factory=dict)

    @property
    def factors(self) -> tuple[str, ...]:
        return FACTORS

    def _k(self, stressor: str) -> int:
        if stressor not in self.stressors:
            raise LabelError(f"unknown stressor {stressor!r}; the tables hold: {', '.join(self.stressors)}")
        return self.stressors.index(stressor)

    def _accounts(self, E: np.ndarray, FYr: np.ndarray | None) -> dict[str, np.ndarray]:
        acc = K.calc_accounts(E, FYr)
        return {a: np.asarray(acc[a]) for a in DEC_ACCOUNTS}

    def accounts(self, stressor: str, *, level: str = "country") -> pd.DataFrame:
        """PBA, CBA and net of ``stressor`` by (account, country or region): the start and end
        values, the change, and each factor's effect (columns ``FACTORS`` then "direct").
        The effects sum to the change (to rounding)."""
        if level not in ("country", "region"):
            raise OptionError(f"level must be 'country' or 'region', got {level!r}")
        if level == "region" and self.P is None:
            raise OptionError("this decomposition has no regions (decompose(..., groups=...))")
        k = self._k(stressor)
        start = self._accounts(self.E0[k], self.FYr0[k])
        end = self._accounts(self.E1[k], self.FYr1[k])
        eff = {f: self._accounts(self.effects[j, k], None) for j, f in enumerate(FACTORS)}
        zero = np.zeros_like(self.direct[k])
        direct = {"pba": self.direct[k], "cba": self.direct[k], "net": zero}
        labels = list(self.countries) if level == "country" else list(self.groups)

        def agg(v):
            return v if level == "country" else self.P @ v

        frames = []
        for a in DEC_ACCOUNTS:
            cols = {"start": agg(start[a]), "end": agg(end[a]), "change": agg(end[a] - start[a])}
            cols.update({f: agg(eff[f][a]) for f in FACTORS})
            cols["direct"] = agg(direct[a])
            frames.append(pd.DataFrame(cols, index=pd.MultiIndex.from_product([[a], labels], names=["account", level])))
        out = pd.concat(frames)
        out.attrs.update(stressor=stressor, unit=self.units[k], years=list(self.years), method=self.method)
        return out

    def flows(self, stressor: str, factor: str = "change", *, level: str = "country") -> pd.DataFrame:
        """The effect of ``factor`` (or "change", "start", "end") on the flows, producing x
        consuming country (or region: P E P^T)."""
        k = self._k(stressor)
        if factor == "change":
            M = self.E1[k] - self.E0[k]
        elif factor == "start":
            M = self.E0[k]
        elif factor == "end":
            M = self.E1[k]
        elif factor in FACTORS:
            M = self.effects[FACTORS.index(factor), k]
        else:
            raise OptionError(f"unknown factor {factor!r}; choose from {('change', 'start', 'end', *FACTORS)}")
        labels = list(self.countries)
        if level == "region":
            if self.P is None:
                raise OptionError("this decomposition has no regions (decompose(..., groups=...))")
            M, labels = self.P @ M @ self.P.T, list(self.groups)
        name = "region" if level == "region" else "country"
        return pd.DataFrame(
            M, index=pd.Index(labels, name=f"producing {name}"), columns=pd.Index(labels, name=f"consuming {name}")
        )

    def flows_long(self, stressor: str, *, level: str = "country") -> pd.DataFrame:
        """Every flow's start, end, change and effects in one long table."""
        cols = {}
        for what in ("start", "end", "change", *FACTORS):
            cols[what] = self.flows(stressor, what, level=level).stack()
        out = pd.DataFrame(cols)
        out.attrs.update(stressor=stressor, unit=self.units[self._k(stressor)])
        return out


@dataclass
class DecompositionChain:
    """Chained year-on-year decompositions of a sweep: ``steps[i]`` goes from year i to year i + 1."""

    steps: list[Decomposition]

    def accounts(self, stressor: str, *, level: str = "country") -> pd.DataFrame:
        """The steps' tables, one above the other, with a leading "period" level ("2013-2014"), and a
        "total" period: the sum of the steps (the chained decomposition of the whole span)."""
        frames = {f"{d.years[0]}-{d.years[1]}": d.accounts(stressor, level=level) for d in self.steps}
        total = sum(frames.values())
        first, last = self.steps[0].accounts(stressor, level=level), self.steps[-1].accounts(stressor, level=level)
        total["start"], total["end"] = first["start"], last["end"]
        frames[f"{self.steps[0].years[0]}-{self.steps[-1].years[1]} (chained)"] = total
        out = pd.concat(frames, names=["period"])
        out.attrs.update(first.attrs)
        return out


def decompose(
    *tables: MRIO,
    method: str = "shapley",
    backend: str | Backend = "numpy",
    groups=None,
) -> Decomposition | DecompositionChain:
    """Structural decomposition of the change between tables (docs/method.md section 14).

    Parameters
    ----------
    *tables : MRIO
        Two tables (one decomposition) or more (chained decompositions of each consecutive
        pair: a year sweep). They must share one classification.
    method : "shapley" or "polar"
        "shapley" (default): the exact average over all orderings of the factors;
        "polar": the average of the two polar forms.
    backend : str or Backend
    groups : grouping, optional
        Regions (``mf.regions`` grouping or mapping) for the region tables; countries outside
        it form "Other".

    Returns
    -------
    Decomposition (two tables) or DecompositionChain (more).
    """
    from ..engine import Engine
    from ..regions import as_regions

    if len(tables) < 2:
        raise OptionError(f"decompose needs at least two tables, got {len(tables)}")
    if method not in METHODS:
        raise OptionError(f"unknown decomposition method {method!r}; choose from {METHODS}")
    for t in tables:
        if not isinstance(t, MRIO):
            raise OptionError(f"decompose takes MRIO tables, got {type(t).__name__}")
    for a, b in itertools.pairwise(tables):
        check_same_classification(a, b)
    engine = Engine(backend)
    b = engine.backend
    P, group_names = None, ()
    if groups is not None:
        regions = as_regions(groups)
        P = regions.membership(tables[0].countries, other="Other")
        group_names = tuple(regions.groups) + (("Other",) if P.shape[0] > len(regions.groups) else ())
    R = tables[0].n_countries
    steps = []
    f1 = _factors(tables[0], b, engine)
    for i in range(len(tables) - 1):
        # Two tables' factorisations alive at a time, however long the sweep.
        f0, f1 = f1, _factors(tables[i + 1], b, engine)
        values = _flows_at_subsets(f0, f1, R, b)
        effects = combine(values, len(FACTORS), method)
        FYr0, FYr1 = b.to_host(f0.FYr), b.to_host(f1.FYr)
        m0 = tables[i]
        steps.append(
            Decomposition(
                countries=tuple(m0.countries),
                stressors=tuple(m0.stressors),
                units=tuple(m0.units),
                years=(tables[i].year, tables[i + 1].year),
                method=method,
                effects=effects,
                direct=FYr1 - FYr0,
                E0=values[(0,) * len(FACTORS)],
                E1=values[(1,) * len(FACTORS)],
                FYr0=FYr0,
                FYr1=FYr1,
                groups=group_names,
                P=P,
                synthetic=any(t.synthetic for t in tables[i : i + 2]),
            )
        )
    return steps[0] if len(steps) == 1 else DecompositionChain(steps)
