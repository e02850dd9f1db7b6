"""Structural path analysis: the supply-chain paths behind a consumption-based account.

A country's (or region's) consumption-based stressor expands as a power series over the
supply chain,

    s L y = s y + s A y + s A A y + ...  = sum over paths of  s_{i_t} A_{i_t i_(t-1)} ... A_{i_1 i_0} y_{i_0},

where y is the consumer's final demand, i_0 the sector whose product it buys, and i_t the sector
where the stressor is emitted, t supply-chain stages upstream. :func:`spa` lists the largest
of these paths by a pruned tree search (Lenzen & Crawford 2009, Peters & Hertwich 2006): a
node's whole subtree adds up to m_{i} w (m = s L, the multipliers; w the path's weight), so a
subtree whose total is below the threshold is never expanded. The share of the total that the
listed paths cover is reported exactly (their sum over the total).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .engine.engine import Engine
from .errors import LabelError, OptionError
from .mrio import MRIO

__all__ = ["PathResult", "spa"]


@dataclass
class PathResult:
    """The paths found by :func:`spa`.

    Attributes
    ----------
    paths : DataFrame
        One row per path, largest first: value (in the stressor's unit), share of the total,
        depth (supply-chain stages between emission and final product), the emitting sector,
        the final product, and the whole path ("emitter <- ... <- final product").
    total : float
        The consumer's consumption-based stressor (without direct final-demand emissions).
    coverage : float
        Sum of the listed paths over the total (exact: what the listing explains).
    nodes : int
        Tree nodes visited.
    """

    paths: pd.DataFrame
    total: float
    coverage: float
    nodes: int
    options: dict = field(default_factory=dict)

    def plot(self, top: int = 15, ax=None):
        """Horizontal bars of the ``top`` largest paths with their shares (matplotlib)."""
        import matplotlib.pyplot as plt

        rows = self.paths.head(top).iloc[::-1]
        if ax is None:
            _, ax = plt.subplots(figsize=(9, 0.35 * len(rows) + 1.5))
        ax.barh(range(len(rows)), rows["value"], color="#4a7ab0")
        ax.set_yticks(range(len(rows)), [p if len(p) < 90 else p[:87] + "..." for p in rows["path"]], fontsize=7)
        ax.set_xlabel(f"{self.options.get('stressor', '')} ({self.options.get('unit', '')})")
        ax.set_title(
            f"Largest supply-chain paths of {self.options.get('consumer', '')}'s consumption-based "
            f"{self.options.get('stressor', '')}: {len(self.paths)} paths cover {self.coverage:.1%}",
            fontsize=9,
        )
        return ax


def _consumer_columns(mrio: MRIO, consumer) -> list[int]:
    names = [consumer] if isinstance(consumer, str) else list(consumer)
    unknown = [c for c in names if c not in mrio.countries]
    if unknown:
        raise LabelError(
            f"unknown consuming country {', '.join(map(repr, unknown))}; the table has {', '.join(mrio.countries)}"
        )
    c = len(mrio.fd_categories)
    return [mrio.countries.index(n) * c + j for n in names for j in range(c)]


def spa(
    mrio: MRIO,
    stressor: str = "CH4",
    consumer: str | Sequence[str] = "CHN",
    *,
    threshold: float = 1e-3,
    max_depth: int = 8,
    max_nodes: int = 2_000_000,
) -> PathResult:
    """The largest supply-chain paths behind a consumer's consumption-based ``stressor``.

    Parameters
    ----------
    mrio : MRIO
    stressor : str
    consumer : str or sequence of str
        A consuming country, or several (a region: their final demand summed).
    threshold : float
        Paths, and subtrees, below this share of the total are left out (default 0.1 %).
    max_depth : int
        Supply-chain stages searched upstream of the final product (0: direct emissions of
        the sectors the consumer buys from).
    max_nodes : int
        A bound on the tree nodes visited; past it the search stops and says so (raise the
        threshold).

    Returns
    -------
    PathResult

    Notes
    -----
    The pruning bound (a subtree's total is m_i w) is exact for tables without negative cells;
    with negative cells (Eora has a few) a pruned subtree may hide paths larger than the
    threshold that cancel others, and the coverage says how much the listing explains.
    """
    if not 0 <= threshold < 1:
        raise OptionError(f"threshold must be a share in [0, 1), got {threshold!r}")
    if isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 0:
        raise OptionError(f"max_depth must be an integer >= 0, got {max_depth!r}")
    k = mrio.stressor_position(stressor)
    y = mrio.Y[:, _consumer_columns(mrio, consumer)].sum(axis=1)
    table = Engine("numpy").prepare(mrio.select_stressors([stressor]))
    x = np.asarray(table.x)
    inv_x = np.divide(1.0, x, out=np.zeros_like(x), where=x != 0)
    s = mrio.F[k] * inv_x
    m = np.asarray(table.M)[0]
    total = float(m @ y)
    cut = threshold * abs(total)
    A = mrio.Z * inv_x[None, :]  # columns: what each sector buys per unit of output

    found: list[tuple[float, tuple[int, ...]]] = []
    nodes = 0
    stack = [((int(j),), float(y[j])) for j in np.flatnonzero(y)[::-1] if abs(m[j] * y[j]) >= cut or cut == 0]
    truncated = False
    while stack:
        path, w = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            truncated = True
            break
        head = path[-1]
        value = s[head] * w
        if value != 0 and abs(value) >= cut:
            found.append((value, path))
        if len(path) - 1 < max_depth:
            weights = A[:, head] * w
            bound = np.abs(m * weights)
            for i in np.flatnonzero((bound >= cut) & (weights != 0))[::-1]:
                stack.append(((*path, int(i)), float(weights[i])))
    found.sort(key=lambda p: -abs(p[0]))
    S = mrio.n_sectors
    label = [f"{mrio.countries[i // S]}/{mrio.sectors[i % S]}" for i in range(mrio.n)]
    frame = pd.DataFrame(
        {
            "value": [v for v, _ in found],
            "share": [v / total if total else np.nan for v, _ in found],
            "depth": [len(p) - 1 for _, p in found],
            "emitting sector": [label[p[-1]] for _, p in found],
            "final product": [label[p[0]] for _, p in found],
            "path": [" <- ".join(label[i] for i in reversed(p)) for _, p in found],
        },
        index=pd.RangeIndex(1, len(found) + 1, name="rank"),
    )
    unit = mrio.units[k]
    name = consumer if isinstance(consumer, str) else "+".join(consumer)
    frame.attrs.update({"stressor": stressor, "unit": unit, "consumer": name})
    covered = float(sum(v for v, _ in found))
    return PathResult(
        paths=frame,
        total=total,
        coverage=covered / total if total else float("nan"),
        nodes=nodes,
        options={
            "stressor": stressor,
            "unit": unit,
            "consumer": name,
            "threshold": threshold,
            "max_depth": max_depth,
            "truncated": truncated,
        },
    )
