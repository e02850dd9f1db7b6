"""``mrioflow sensitivity``: local elasticities or Sobol indices of one year, written as a study.

Tables (one long table with units and how each value was computed), figures (local: a tornado
per output and region; Sobol: bars with intervals per output and region), a report section and
provenance, through :mod:`mrioflow.analysis.output` (published whole when done).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from ..engine import Engine
from ..errors import LabelError
from ..mrio import MRIO
from ..regions import as_regions
from .groups import groups_by

__all__ = ["run_sensitivity"]


def _save(out, name: str, fig):
    """Write a figure and close it (a study draws one per output and region)."""
    import matplotlib.pyplot as plt

    path = out.figure(name, fig)
    plt.close(fig)
    return path


def _safe(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", label).strip("-")[:40] or "x"


def run_sensitivity(
    year: int,
    out_dir,
    *,
    load: Callable[[int], MRIO],
    method: str = "local",
    kinds: Sequence[str] = ("intensity", "final_demand"),
    by: str = "region",
    groups=None,
    stressor: str = "CH4",
    samples: int = 64,
    bounds: tuple[float, float] = (0.9, 1.1),
    h: float = 1e-3,
    seed: int = 0,
    backend: str = "auto",
    provenance: dict | None = None,
    overwrite: bool = False,
    log: Callable[[str], None] = lambda _: None,
) -> list[Path]:
    """Local (``method="local"``) or Sobol (``"sobol"``) sensitivity of ``load(year)``."""
    from ..analysis.output import OutputFolder
    from .local import local
    from .sobol_ import sobol

    with OutputFolder(out_dir, kind="sensitivity", overwrite=overwrite) as out:
        mrio = load(year)
        indices = None
        try:
            as_regions(groups).check(mrio.countries)
            if "VA" in mrio.stressors and stressor in mrio.stressors:
                indices = {"groups": groups, "stressor": stressor}
        except LabelError as exc:
            log(f"note: no regions or indices ({exc})")
            groups = None
        if by == "region" and groups is None:
            by = "country"
            log("note: input groups by country (no grouping)")
        gs = [g for kind in kinds for g in groups_by(mrio, kind, by, stressor=stressor, groups=groups)]
        base = Engine(backend).prepare(mrio)
        level = "region" if groups is not None else "country"
        targets = list(as_regions(groups).groups) if groups is not None else list(mrio.countries[:6])
        figures = []
        if method == "choices":
            from .method import method_sensitivity

            res = method_sensitivity(mrio, groups=groups, stressor=stressor, backend=backend)
            out.table("sensitivity_method", res.table.assign(year=year, unit=res.unit))
            summary = res.summary()
            out.table("sensitivity_method_summary", summary.reset_index().assign(year=year))
            figures.append(
                (
                    f"{year}: region PBA, CBA, GMI and BMI row totals in every combination of the open choices.",
                    _save(out, "sensitivity_method", res.figure()),
                )
            )
            _report(out, year, method, [], summary, None, provenance, figures, mrio.synthetic)
            return out.written
        if method == "local":
            res = local(base, gs, stressor=stressor, indices=indices, regions=groups, h=h)
            t = res.table.assign(year=year, unit=res.unit)
            out.table("sensitivity_local", t)
            for output in ("cba", "pba", "gmi") if indices else ("cba", "pba"):
                for target in targets:
                    fig = res.tornado(output, target, level=level)
                    name = f"sensitivity_tornado_{output}_{_safe(target)}"
                    figures.append((f"{year}: elasticities of {output.upper()} of {target}.", _save(out, name, fig)))
            summary = t[(t["level"] == level) & (t["output"].isin(["cba", "gmi"]))]
            summary = summary.pivot_table(index=["output", "target"], columns="group", values="elasticity", sort=False)
            methods = res.table.groupby(["kind", "output"], sort=False)["method"].first().unstack()
        else:
            res = sobol(
                base, gs, bounds=bounds, samples=samples, stressor=stressor, indices=indices, regions=groups, seed=seed
            )
            t = res.table.assign(year=year)
            out.table("sensitivity_sobol", t)
            for output in ("cba", "gmi") if indices else ("cba",):
                for target in targets:
                    fig = res.figure(output, target, level=level)
                    name = f"sensitivity_sobol_{output}_{_safe(target)}"
                    figures.append((f"{year}: Sobol indices of {output.upper()} of {target}.", _save(out, name, fig)))
            summary = t[(t["level"] == level) & (t["output"].isin(["cba", "gmi"]))]
            summary = summary.pivot_table(index=["output", "target"], columns="group", values="ST", sort=False)
            methods = None
            log(f"{res.evaluations} evaluations ({', '.join(res.paths)})")
        _report(out, year, method, gs, summary, methods, provenance, figures, mrio.synthetic)
    return out.written


def _report(out, year, method, gs, summary, methods, provenance, figures, synthetic) -> None:
    out.text("provenance.json", json.dumps(provenance or {}, indent=2, default=str))
    if not provenance:
        return
    from ..analysis.report import _table, render_study

    what = {
        "local": "elasticities d ln y / d ln theta at the base (docs/method.md section 15)",
        "sobol": "total Sobol indices ST (first order and intervals in the table)",
        "choices": "every combination of the final-demand reading, BMI convention, normalisation set and "
        "quantiles (docs/method.md section 16): ranges, signs and ranks by region",
    }[method]
    section = [
        "<h2>Sensitivity</h2>",
        (
            f"<p>{len(gs)} input groups ({html.escape(', '.join(g.name for g in gs[:12]))}"
            f"{', ...' if len(gs) > 12 else ''}); {html.escape(what)}.</p>"
            if gs
            else f"<p>{html.escape(what)}.</p>"
        ),
        f"<h3>{year}</h3>" + _table(summary),
    ]
    if methods is not None:
        section.append("<h3>How each was computed</h3>" + _table(methods))
    title = f"mrioflow sensitivity ({method}): {year}"
    page = render_study(title, provenance, figures, synthetic=synthetic)
    head = f"<h1>{html.escape(title)}</h1>"
    page = page.replace(head, head + "\n" + "\n".join(section), 1)
    out.text("report.html", page)
