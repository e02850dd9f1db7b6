"""Local sensitivity: elasticities of the accounts and indices at the base table.

For an input group scaled by theta (1 at the base), the elasticity of an output y is
(dy/dtheta) / y at theta = 1. Each is computed the cheapest exact way (docs/method.md section 15):

- accounts w.r.t. intensities and final demand: E is linear in s_f and in Yr, so
  dE = calc_E(dS, X) and dE = calc_E(S, L dYr) exactly ("exact (linear)");
- accounts w.r.t. technology: dX = L dA L Yr = L (dA X), one solve with the base LU and R
  right-hand sides, never a new LU ("derivative through the base LU");
- BMI and GMI: the min-max normalisation is piecewise, so central differences
  (y(1 + h) - y(1 - h)) / 2h of the Evaluator's exact evaluations at theta = 1 +- h
  ("central difference (h = ...)").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import kernels as K
from ..engine import Engine
from ..engine.engine import PreparedTable
from ..errors import OptionError
from ..experiments.evaluator import Evaluator
from ..mrio import MRIO
from .groups import InputGroup

__all__ = ["LocalSensitivity", "local"]

LOCAL_ACCOUNTS = ("pba", "cba", "net")
EXACT = "exact (linear)"
DERIVATIVE = "derivative through the base LU (dX = L dA X)"


@dataclass
class LocalSensitivity:
    """``table``: one row per (group, output, level, target): value at the base, derivative
    dy/dtheta, elasticity (NaN where the value is 0) and the method that computed it."""

    table: pd.DataFrame
    stressor: str
    unit: str
    synthetic: bool = False
    meta: dict = field(default_factory=dict)

    def elasticities(self, output: str, level: str = "region") -> pd.DataFrame:
        """Elasticities of one output ("pba", "cba", "net", "gmi", "bmi") as target x group."""
        t = self.table[(self.table["output"] == output) & (self.table["level"] == level)]
        if t.empty:
            raise OptionError(f"no {output!r} at level {level!r} in these results")
        return t.pivot(index="target", columns="group", values="elasticity").loc[t["target"].unique()]

    def tornado(self, output: str, target: str, level: str = "region", *, top: int = 15):
        """A tornado figure: the groups' elasticities of one output, largest first."""
        import matplotlib.pyplot as plt

        from ..analysis.figures import _mark

        t = self.table
        t = t[(t["output"] == output) & (t["level"] == level) & (t["target"] == target)]
        if t.empty:
            raise OptionError(f"no {output!r} of {target!r} at level {level!r} in these results")
        t = t.reindex(t["elasticity"].abs().sort_values(ascending=True).index).tail(top)
        fig, ax = plt.subplots(figsize=(7, 0.35 * len(t) + 1.6))
        colours = ["#c0392b" if v < 0 else "#2471a3" for v in t["elasticity"]]
        ax.barh(t["group"], t["elasticity"], color=colours)
        ax.axvline(0, color="black", linewidth=0.6)
        ax.set_xlabel("elasticity (d ln y / d ln theta)")
        ax.set_title(f"{output.upper()} of {target}: local sensitivity ({t['method'].iloc[0]})", fontsize=9)
        ax.tick_params(axis="y", labelsize=8)
        ax.grid(axis="x", alpha=0.3)
        fig.tight_layout()
        _mark(fig, self.synthetic)
        return fig


def local(
    table: MRIO | PreparedTable,
    groups: Sequence[InputGroup],
    *,
    stressor: str = "CH4",
    indices: Mapping | None = None,
    regions=None,
    h: float = 1e-3,
    backend: str = "numpy",
) -> LocalSensitivity:
    """Elasticities of the accounts of ``stressor`` (PBA, CBA, net by country and region) and of
    GMI (country, region) and region BMI with respect to each input group.

    Parameters
    ----------
    table : MRIO or PreparedTable
    groups : sequence of InputGroup
    stressor : str
        The accounts' stressor.
    indices : mapping, optional
        Options of the indices (``mf.indices``); None: no indices.
    regions : grouping, optional
        Regions of the account sums (default: the indices' grouping, else none).
    h : float
        Relative step of the central differences of the indices.
    """
    if not groups:
        raise OptionError("local sensitivity needs at least one input group")
    if not 0 < h < 0.5:
        raise OptionError(f"h must be in (0, 0.5), got {h!r}")
    base = table if isinstance(table, PreparedTable) else Engine(backend).prepare(table)
    m = base.mrio
    k = m.stressor_position(stressor)
    ev = Evaluator(base, indices=indices)
    b = base.backend
    R = m.n_countries
    S0 = b.to_host(base.S)
    X0 = b.to_host(base.X)
    P = None
    region_names: list[str] = []
    if regions is not None:
        from ..regions import as_regions

        reg = as_regions(regions)
        P, region_names = reg.membership(m.countries), list(reg.groups)
    elif ev.spec is not None:
        P, region_names = ev.spec.P, list(ev.spec.groups)
    base_out = ev.evaluate([], outputs=("accounts", "indices") if ev.spec is not None else ("accounts",)).base
    rows = []

    def add(group, output, level, labels, value, deriv, method):
        value, deriv = np.asarray(value, dtype=float).ravel(), np.asarray(deriv, dtype=float).ravel()
        with np.errstate(divide="ignore", invalid="ignore"):
            el = np.where(value != 0, deriv / np.where(value != 0, value, 1.0), np.nan)
        for lab, v, d, e in zip(labels, value, deriv, el, strict=True):
            rows.append((group.name, group.kind, output, level, lab, v, d, e, method))

    pair_labels = [
        f"{a} -> {c}" for a in (ev.spec.groups if ev.spec else ()) for c in (ev.spec.groups if ev.spec else ())
    ]
    for g in groups:
        # The change at theta = 1.5, times 2: the group's inputs (the direction of d/dtheta).
        row = ev.resolve(g.scenario(1.5), where=f"input group {g.name!r}: ")
        if g.kind == "intensity":
            dE = 2 * np.asarray(K.calc_E(row.S[k : k + 1] - S0[k : k + 1], X0, R))[0]
            method = EXACT
        else:
            rhs = np.zeros((m.n, R))
            if g.kind == "final_demand":
                cons, vals = row.dYr(R, len(m.fd_categories))
                rhs[:, cons] = 2 * vals
                method = EXACT
            else:
                rhs[row.rows, :] = 2 * row.dA @ X0[row.cols, :]
                method = DERIVATIVE
            dX = b.to_host(base.system.solve(b.asarray(rhs)))  # one solve with the base LU
            dE = np.asarray(K.calc_E(S0[k : k + 1], dX, R))[0]
        dacc = K.calc_accounts(dE[None, ...])
        for a in LOCAL_ACCOUNTS:
            value = base_out[a][k]
            add(g, a, "country", m.countries, value, np.asarray(dacc[a])[0], method)
            if P is not None:
                add(g, a, "region", region_names, P @ value, P @ np.asarray(dacc[a])[0], method)
        if ev.spec is not None:
            res = ev.evaluate([g.scenario(1 + h), g.scenario(1 - h)], outputs=("indices",))
            cd = f"central difference (h = {h:g})"
            for key, level, labels in (
                ("gmi", "country", m.countries),
                ("gmi_region", "region", ev.spec.groups),
                ("bmi", "region", pair_labels),
            ):
                d = (res.rows[key][0] - res.rows[key][1]) / (2 * h)
                add(g, "bmi" if key == "bmi" else "gmi", level, labels, base_out[key], d, cd)
    cols = ["group", "kind", "output", "level", "target", "value", "derivative", "elasticity", "method"]
    return LocalSensitivity(
        table=pd.DataFrame(rows, columns=cols),
        stressor=stressor,
        unit=m.units[k],
        synthetic=m.synthetic,
        meta={"h": h, "groups": [(g.name, g.kind, dict(g.selectors)) for g in groups]},
    )
