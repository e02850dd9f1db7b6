"""Method sensitivity: how the regions' accounts and indices move across the study's open choices.

The choices (docs/method.md section 16):

- ``final_demand``: "by_consumer" (the project's reading: flows attributed to the consuming
  country, X = L Yr) or "by_final_producer" (eq. 1 read literally with y-hat = diag(Y 1): flows
  attributed to the country that makes the final product, X = L Yp with Yp[j, s] = (Y 1)_j for
  the sectors j of country s);
- ``convention``: the BMI convention (printed, victim_row, beneficiary_row);
- ``norm_set``: which pairs enter each normalisation set (all, scope);
- ``norm_quantiles``: the literal min-max (0, 1) or a robust one, e.g. (0.05, 0.95), with the
  quantiles taken over every pair of the set or over its non-zero entries only (``norm_nonzero``).

Each combination also states the share of ratio-case pairs (EN > 0, the ratio branch of the
convention) whose BMI is exactly 0: the robust quantiles clip them there, and they drop out of
region sums.

One LU serves every combination (the second reading is one more solve with R right-hand sides).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import kernels as K
from ..engine import Engine
from ..errors import OptionError
from ..indices import IndexSpec
from ..kernels.indices import CONVENTIONS
from ..mrio import MRIO

__all__ = ["FINAL_DEMAND_READINGS", "MethodSensitivity", "method_sensitivity"]

FINAL_DEMAND_READINGS = ("by_consumer", "by_final_producer")
METHOD_OUTPUTS = ("pba", "cba", "gmi", "bmi_row")


def final_producer_demand(Y: np.ndarray, n_countries: int) -> np.ndarray:
    """Yp (n, R): each sector's total final demand (Y 1) in the column of the country that
    makes it: eq. 1's y-hat = diag(Y 1) summed by the producing country of the final product."""
    n = Y.shape[0]
    y = Y.sum(axis=1)
    owner = np.arange(n) // (n // n_countries)
    Yp = np.zeros((n, n_countries))
    Yp[np.arange(n), owner] = y
    return Yp


@dataclass
class MethodSensitivity:
    """``table``: one row per (option combination, region): PBA, CBA, GMI and the region BMI row
    total, with each value's rank among the regions (1 = largest) in that combination.
    ``summary()``: per region and output, the range across the combinations, whether the sign is
    the same in all of them, and the range of ranks."""

    table: pd.DataFrame
    stressor: str
    unit: str
    synthetic: bool = False
    meta: dict = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        rows = []
        for (region, output), g in self.table.melt(
            id_vars=["final_demand", "convention", "norm_set", "norm_quantiles", "region"],
            value_vars=list(METHOD_OUTPUTS),
            var_name="output",
        ).groupby(["region", "output"], sort=False):
            v = g["value"].to_numpy()
            signs = np.sign(v)
            rows.append(
                {
                    "region": region,
                    "output": output,
                    "min": v.min(),
                    "max": v.max(),
                    "sign robust": bool((signs == signs[0]).all()),
                    "positive in": int((v > 0).sum()),
                    "combinations": len(v),
                }
            )
        out = pd.DataFrame(rows)
        rank_range = {}
        for output in METHOD_OUTPUTS:
            r = self.table.groupby("region", sort=False)[f"{output}_rank"].agg(["min", "max"])
            for region, (lo, hi) in r.iterrows():
                rank_range[(region, output)] = f"{lo}-{hi}" if lo != hi else str(lo)
        out["ranks"] = [rank_range[(r, o)] for r, o in zip(out["region"], out["output"], strict=True)]
        return out.set_index(["region", "output"])

    def figure(self):
        """One panel per output: each region's value in every combination, by reading."""
        import matplotlib.pyplot as plt

        from ..analysis.figures import _mark

        t = self.table
        regions = list(dict.fromkeys(t["region"]))
        fig, axes = plt.subplots(1, len(METHOD_OUTPUTS), figsize=(4.2 * len(METHOD_OUTPUTS), 4.4))
        markers = {"by_consumer": "o", "by_final_producer": "x"}
        for ax, output in zip(axes, METHOD_OUTPUTS, strict=True):
            for reading, g in t.groupby("final_demand", sort=False):
                x = np.array([regions.index(r) for r in g["region"]], dtype=float)
                jitter = 0.15 if reading == "by_final_producer" else -0.15
                ax.scatter(x + jitter, g[output], marker=markers.get(reading, "o"), s=14, label=reading, alpha=0.7)
            ax.axhline(0, color="black", linewidth=0.6)
            ax.set_xticks(range(len(regions)), regions, rotation=60, ha="right", fontsize=7)
            unit = f" ({self.unit})" if output in ("pba", "cba") else ""
            ax.set_title(f"{output.upper()}{unit}", fontsize=9)
            ax.grid(axis="y", alpha=0.3)
        axes[0].legend(fontsize=7)
        fig.suptitle("method sensitivity: every combination of the open choices")
        fig.tight_layout()
        _mark(fig, self.synthetic)
        return fig


def method_sensitivity(
    mrio: MRIO,
    *,
    groups=None,
    stressor: str = "CH4",
    value_added: str = "VA",
    final_demand: Sequence[str] = FINAL_DEMAND_READINGS,
    conventions: Sequence[str] = CONVENTIONS,
    norm_sets: Sequence[str] = ("all", "scope"),
    norm_quantiles: Sequence[tuple] = ((0.0, 1.0), (0.05, 0.95), (0.05, 0.95, "nonzero")),
    backend: str = "numpy",
) -> MethodSensitivity:
    """Region PBA, CBA, GMI and BMI row totals for every combination of the options.

    ``norm_quantiles``: (lo, hi) pairs, or (lo, hi, "nonzero") for quantiles over the non-zero
    entries of each normalisation set."""
    bad = [f for f in final_demand if f not in FINAL_DEMAND_READINGS]
    if bad:
        raise OptionError(f"final_demand must be among {FINAL_DEMAND_READINGS}, got {bad}")
    prep = Engine(backend).prepare(mrio)
    b = prep.backend
    R = mrio.n_countries
    k = mrio.stressor_position(stressor)
    flows = {}
    for reading in final_demand:
        X = prep.X if reading == "by_consumer" else prep.system.output(b.asarray(final_producer_demand(mrio.Y, R)))
        flows[reading] = K.calc_E(prep.S, X, R)
    rows = []
    for reading, conv, nset, q in itertools.product(final_demand, conventions, norm_sets, norm_quantiles):
        nonzero = len(q) > 2 and q[2] == "nonzero"
        spec = IndexSpec.resolve(
            {
                "groups": groups,
                "stressor": stressor,
                "value_added": value_added,
                "convention": conv,
                "norm_set": nset,
                "norm_quantiles": tuple(q[:2]),
                "norm_nonzero": nonzero,
            },
            mrio.countries,
            mrio.stressor_position,
        )
        E = flows[reading]
        acc = K.calc_accounts(E, prep.FYr)
        gmi, bmi = spec.compute(E, b)
        P = spec.P
        at_zero = _ratio_pairs_at_zero(b.to_host(E)[spec.k], b.to_host(E)[spec.kv], spec, b)
        values = {
            "pba": P @ b.to_host(acc["pba"])[k],
            "cba": P @ b.to_host(acc["cba"])[k],
            "gmi": P @ b.to_host(gmi),
            "bmi_row": b.to_host(bmi).sum(axis=1),
        }
        ranks = {o: (-v).argsort().argsort() + 1 for o, v in values.items()}
        for i, region in enumerate(spec.groups):
            rows.append(
                {
                    "final_demand": reading,
                    "convention": conv,
                    "norm_set": nset,
                    "norm_quantiles": f"{q[0]:g}-{q[1]:g}" + (" nonzero" if nonzero else ""),
                    "ratio_pairs_at_zero": at_zero,
                    "region": region,
                    **{o: float(values[o][i]) for o in METHOD_OUTPUTS},
                    **{f"{o}_rank": int(ranks[o][i]) for o in METHOD_OUTPUTS},
                }
            )
    return MethodSensitivity(table=pd.DataFrame(rows), stressor=stressor, unit=mrio.units[k], synthetic=mrio.synthetic)


def _ratio_pairs_at_zero(E: np.ndarray, V: np.ndarray, spec: IndexSpec, b) -> float:
    """Share of the ratio-case country pairs (EN > 0 on the ratio branch of the convention, both
    countries in the normalisation set) whose BMI is exactly 0."""
    B = b.to_host(spec.country_bmi(b.asarray(E), b.asarray(V), b))
    if spec.convention == "beneficiary_row":
        B = B.T
    EN, Vbar = np.maximum(E - E.T, 0), V - V.T
    branch = Vbar < 0 if spec.convention == "printed" else Vbar > 0
    scope = spec.scope if spec.norm_set == "scope" else np.ones(len(spec.scope), dtype=bool)
    cells = (EN > 0) & branch & scope[:, None] & scope[None, :]
    return float((B[cells] == 0).mean()) if cells.any() else 0.0
