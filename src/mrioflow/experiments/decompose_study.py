"""``mrioflow decompose``: structural decomposition between years, written as a study.

Tables (per stressor: accounts by country and region, flows by region, with units and the
period), one figure per period (a panel per region: each factor's effect on PBA, CBA and
net, and the total change), a report section and provenance, through the output folder of
:mod:`mrioflow.analysis.output` (published whole when done).
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import LabelError
from ..mrio import MRIO
from ..regions import as_regions
from .decomposition import DEC_ACCOUNTS, FACTOR_LABELS, FACTORS, Decomposition, decompose

__all__ = ["run_decomposition"]

EFFECTS = (*FACTORS, "direct")


def _groups(mrio: MRIO, groups, log):
    try:
        as_regions(groups).check(mrio.countries)
    except LabelError as exc:
        log(f"note: no region tables ({exc})")
        return None
    return groups


def run_decomposition(
    years: Sequence[int],
    out_dir,
    *,
    load: Callable[[int], MRIO],
    method: str = "shapley",
    backend: str = "auto",
    groups=None,
    provenance: dict | None = None,
    overwrite: bool = False,
    log: Callable[[str], None] = lambda _: None,
    stressors: Sequence[str] | None = None,
) -> list[Path]:
    """Decompose the change between consecutive years (``load(year)``) and publish ``out_dir``."""
    from ..analysis.output import OutputFolder

    with OutputFolder(out_dir, kind="decompose", overwrite=overwrite) as out:
        tables = []
        for year in years:
            mrio = load(year)
            if stressors:
                mrio = mrio.select_stressors(stressors)
            tables.append(mrio)
            log(f"{year}: read")
        grouping = _groups(tables[0], groups, log)
        result = decompose(*tables, method=method, backend=backend, groups=grouping)
        steps = result.steps if hasattr(result, "steps") else [result]
        _write(out, steps, years, provenance)
    return out.written


def _period(d: Decomposition) -> str:
    return f"{d.years[0]}-{d.years[1]}"


def _write(out, steps: list[Decomposition], years, provenance) -> None:
    first = steps[0]
    levels = ("country", "region") if first.P is not None else ("country",)
    for s in first.stressors:
        unit = first.units[first.stressors.index(s)]
        for level in levels:
            parts = []
            for d in steps:
                t = d.accounts(s, level=level).reset_index()
                t.insert(0, "period", _period(d))
                t["unit"] = unit
                parts.append(t)
            out.table(f"decomposition_accounts_{s}_{level}", pd.concat(parts, ignore_index=True))
        parts = []
        for d in steps:
            t = d.flows_long(s, level=levels[-1]).reset_index()
            t.insert(0, "period", _period(d))
            t["unit"] = unit
            parts.append(t)
        out.table(f"decomposition_flows_{s}_{levels[-1]}", pd.concat(parts, ignore_index=True))
    import matplotlib.pyplot as plt

    figures = []
    for d in steps:
        for s in d.stressors:
            fig = _figure(d, s)
            caption = (
                f"{_period(d)}: the change of {s} accounts by {'region' if d.P is not None else 'country'} split "
                f"into its factors ({d.method})."
            )
            figures.append((caption, out.figure(f"decomposition_{s}_{_period(d)}", fig)))
            plt.close(fig)
    _report(out, steps, years, provenance, figures)


def _figure(d: Decomposition, stressor: str):
    import matplotlib.pyplot as plt

    from ..analysis.figures import _grid, _mark, _scale

    level = "region" if d.P is not None else "country"
    t = d.accounts(stressor, level=level)
    labels = list(t.loc["pba"].index)
    if level == "country" and len(labels) > 12:  # the twelve largest changes of CBA
        labels = list(t.loc["cba", "change"].abs().sort_values(ascending=False).index[:12])
    factor, scaled = _scale(t.attrs["unit"], t[list(EFFECTS)].to_numpy())
    fig, axes, _ = _grid(len(labels), width=4.2, height=3.4)
    colours = plt.get_cmap("tab10").colors
    x = np.arange(len(DEC_ACCOUNTS))
    width = 0.8 / len(EFFECTS)
    for ax, label in zip(axes, labels, strict=True):
        for j, e in enumerate(EFFECTS):
            vals = [t.loc[(a, label), e] * factor for a in DEC_ACCOUNTS]
            ax.bar(x - 0.4 + (j + 0.5) * width, vals, width, color=colours[j], label=FACTOR_LABELS[e])
        total = [t.loc[(a, label), "change"] * factor for a in DEC_ACCOUNTS]
        ax.scatter(x, total, color="black", marker="D", s=18, zorder=3, label="total change")
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_xticks(x, [a.upper() for a in DEC_ACCOUNTS], fontsize=8)
        ax.set_title(str(label), fontsize=9)
        ax.set_ylabel(scaled, fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=4, fontsize=8)
    fig.suptitle(f"structural decomposition of {stressor}, {_period(d)} ({d.method})")
    fig.tight_layout(rect=(0, 0.08, 1, 0.96))
    _mark(fig, d.synthetic)
    return fig


def _report(out, steps, years, provenance, figures) -> None:
    out.text("provenance.json", json.dumps(provenance or {}, indent=2, default=str))
    if not provenance:
        return
    from ..analysis.report import _table, render_study

    first = steps[0]
    method = (
        "the exact average over all 120 orderings of the five factors (no residual)"
        if first.method == "shapley"
        else "the average of the two polar forms"
    )
    section = [
        "<h2>Structural decomposition</h2>",
        f"<p>Each change of the accounts is split into {', '.join(FACTOR_LABELS[f] for f in EFFECTS)} by "
        f"{html.escape(method)} (docs/method.md section 14); the effects sum to the change. Values are in the "
        "tables' own prices: the level effect includes price changes.</p>",
    ]
    level = "region" if first.P is not None else "country"
    for d in steps:
        s = d.stressors[0] if "CH4" not in d.stressors else "CH4"
        t = d.accounts(s, level=level)
        unit = t.attrs["unit"]
        section.append(
            f"<h3>{_period(d)}: {html.escape(s)} ({html.escape(unit)}) by {level}</h3>"
            + _table(t[["start", "end", "change", *EFFECTS]])
        )
    title = f"mrioflow decompose: {', '.join(map(str, years))}"
    page = render_study(title, provenance, figures, synthetic=any(d.synthetic for d in steps))
    head = f"<h1>{html.escape(title)}</h1>"
    page = page.replace(head, head + "\n" + "\n".join(section), 1)
    out.text("report.html", page)
