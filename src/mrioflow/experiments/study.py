"""``mrioflow scenario``: scenarios of a TOML file on one or more years, written as a study.

Per year and scenario: accounts, flows, GMI and region BMI and their changes from the
base (tables with units), a figure of the changes by region and scenario, a report
section, and provenance with the scenario file's hash, through the output folder of
:mod:`mrioflow.analysis.output` (published whole when done).
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..engine import Engine
from ..errors import LabelError
from ..mrio import MRIO
from ..regions import as_regions
from .evaluator import ACCOUNTS, Evaluator, ExperimentResults
from .scenario import Scenario
from .uncertainty import scenario_montecarlo

__all__ = ["run_scenarios"]


def run_scenarios(
    scenarios: Sequence[Scenario],
    years: Sequence[int],
    out_dir,
    *,
    load: Callable[[int], MRIO],
    where: str = "",
    backend: str = "auto",
    dtype: str = "float64",
    indices: dict | None = None,
    provenance: dict | None = None,
    overwrite: bool = False,
    log: Callable[[str], None] = lambda _: None,
    mc: dict | None = None,
    stressors: Sequence[str] | None = None,
) -> list[Path]:
    """Evaluate ``scenarios`` on each year's table (``load(year)``) and publish ``out_dir``.

    Every scenario is resolved (labels, signs) and checked (productive) on a year's
    table before any of that year's outputs is computed; an error names ``where``
    (the scenario file), the scenario and the key. ``indices``: options of the indices
    (default: CH4 against VA over the grouping; none when the table lacks them).
    ``mc``: keyword arguments of :func:`~mrioflow.experiments.uncertainty.scenario_montecarlo`
    (samples, intensities, seed): P(change < 0) of each scenario by country and region.
    ``stressors``: keep only these (default: every stressor of the table).
    """
    from ..analysis.output import OutputFolder

    with OutputFolder(out_dir, kind="scenario", overwrite=overwrite) as out:
        results: dict[int, ExperimentResults] = {}
        for year in years:
            mrio = load(year)
            if stressors:
                mrio = mrio.select_stressors(stressors)
            rows = [s.resolve(mrio, where=where) for s in scenarios]
            options = _index_options(mrio, indices, log)
            ev = Evaluator(Engine(backend, dtype).prepare(mrio), indices=options)
            results[year] = ev.evaluate(rows)
            if mc:
                results[year].meta["mc"] = {row.name: scenario_montecarlo(ev, row, **mc) for row in rows}
            log(
                f"{year}: "
                + "; ".join(f"{n}: {p}" for n, p in zip(results[year].names, results[year].paths, strict=True))
            )
        _write(out, results, scenarios, provenance)
    return out.written


def _index_options(mrio: MRIO, indices: dict | None, log) -> dict | None:
    options = {"stressor": "CH4", "value_added": "VA", **(indices or {})}
    if options["stressor"] not in mrio.stressors or options["value_added"] not in mrio.stressors:
        log(f"note: no indices (the table lacks {options['stressor']!r} or {options['value_added']!r})")
        return None
    try:
        as_regions(options.get("groups")).check(mrio.countries)
    except LabelError as exc:
        log(f"note: no indices ({exc})")
        return None
    return options


def _write(out, results: dict[int, ExperimentResults], scenarios, provenance) -> None:
    first = next(iter(results.values()))
    m = first.mrio
    tables: dict[str, list[pd.DataFrame]] = {}

    def add(name, df):
        tables.setdefault(name, []).append(df)

    for year, res in results.items():
        add(
            "scenario_paths",
            pd.DataFrame({"year": year, "scenario": res.names, "path": res.paths, "solves": res.solves}),
        )
        for s in res.mrio.stressors:
            unit = res.mrio.units[res.mrio.stressor_position(s)]
            for change, name in ((False, "scenario_accounts"), (True, "scenario_accounts_change")):
                acc = res.accounts(s, change=change).reset_index()
                acc.insert(0, "year", year)
                acc.insert(len(acc.columns), "unit", unit)
                add(f"{name}_{s}", acc)
            if "E" in res.rows:
                for i, sc in enumerate(res.names):
                    E = res.rows["E"][i][res.mrio.stressor_position(s)]
                    dE = E - res.base["E"][res.mrio.stressor_position(s)]
                    flows = _long(E, res.mrio.countries, "flow").assign(change=_long(dE, m.countries, "x")["x"])
                    flows.insert(0, "scenario", sc)
                    flows.insert(0, "year", year)
                    flows["unit"] = unit
                    add(f"scenario_flows_{s}", flows)
        if res.spec is not None:
            for level in ("country", "region"):
                g = res.gmi(level).stack().rename("GMI").reset_index().rename(columns={"level_1": "scenario"})
                g["change"] = g["GMI"] - g[level].map(res.gmi(level)["base"])
                g.insert(0, "year", year)
                g["unit"] = "index (dimensionless, -3 to 3 per country)"
                add(f"scenario_gmi_{level}", g)
            for sc in ["base", *res.names]:
                B = res.bmi(None if sc == "base" else sc)
                dB = B - res.bmi(None)
                long = B.stack().rename("BMI").reset_index()
                long["change"] = dB.stack().to_numpy()
                long.insert(0, "scenario", sc)
                long.insert(0, "year", year)
                long["unit"] = "index (dimensionless)"
                add("scenario_bmi_region", long)
        for name, unc in res.meta.get("mc", {}).items():
            stressor = res.mrio.stressors[res.spec.k] if res.spec is not None else res.mrio.stressors[0]
            for level in ("country", "region") if res.spec is not None else ("country",):
                p = unc.probability(stressor, level).add_prefix("P(change < 0) ").reset_index()
                p.insert(0, "scenario", name)
                p.insert(0, "year", year)
                p["stressor"], p["samples"], p["intensities_rsd"] = stressor, unc.samples, unc.sigma
                add(f"scenario_mc_probability_{level}", p)
    for name, parts in tables.items():
        out.table(name, pd.concat(parts, ignore_index=True))

    figures = []
    index_stressor = first.spec and m.stressors[first.spec.k]
    stressor = index_stressor or m.stressors[0]
    for year, res in results.items():
        fig = _changes_figure(res, stressor, year)
        figures.append(
            (
                f"{year}: changes from the base by region and scenario: consumption-based {stressor} "
                "and, where computed, GMI.",
                out.figure(f"scenario_changes_{year}", fig),
            )
        )
    _report(out, results, scenarios, provenance, figures)


def _long(M: np.ndarray, countries, name: str) -> pd.DataFrame:
    idx = pd.MultiIndex.from_product([countries, countries], names=["producing country", "consuming country"])
    return pd.DataFrame({name: M.reshape(-1)}, index=idx).reset_index()


def _by_region(values: np.ndarray, res: ExperimentResults) -> tuple[np.ndarray, list[str]]:
    """Sum a per-country vector to the grouping's regions (the indices' grouping; all countries
    as one 'world' when there are no indices)."""
    if res.spec is None:
        return np.array([values.sum()]), ["world"]
    return res.spec.P @ values, list(res.spec.groups)


def _changes_figure(res: ExperimentResults, stressor: str, year):
    import matplotlib.pyplot as plt

    from ..analysis.figures import _layout, _mark, _scale

    m = res.mrio
    k = m.stressor_position(stressor)
    unit = m.units[k]
    panels = 2 if res.spec is not None else 1
    fig, axes = plt.subplots(1, panels, figsize=(7 * panels, 5), squeeze=False)
    width = 0.8 / max(1, len(res.names))
    cba = [_by_region(res.rows["cba"][i][k] - res.base["cba"][k], res) for i in range(len(res.names))]
    labels = cba[0][1] if cba else []
    factor, scaled = _scale(unit, np.array([c for c, _ in cba]) if cba else np.zeros(1))
    x = np.arange(len(labels))
    for i, name in enumerate(res.names):
        axes[0, 0].bar(x + i * width, cba[i][0] * factor, width, label=name)
        if res.spec is not None:
            axes[0, 1].bar(x + i * width, res.rows["gmi_region"][i] - res.base["gmi_region"], width, label=name)
    titles = [f"change of consumption-based {stressor} ({scaled})", "change of GMI"]
    for j in range(panels):
        ax = axes[0, j]
        ax.set_xticks(x + 0.4 - width / 2, labels, rotation=45, ha="right", fontsize=8)
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_title(titles[j])
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(f"scenarios against the base, {year}")
    _layout(fig, rect=(0, 0.03, 1, 1))  # names from the data that matplotlib cannot read as math: plain
    _mark(fig, m.synthetic)
    return fig


def _report(out, results, scenarios, provenance, figures) -> None:
    out.text("provenance.json", json.dumps(provenance or {}, indent=2, default=str))
    if not provenance:
        return
    from ..analysis.report import _table, render_study

    first = next(iter(results.values()))
    section = ["<h2>Scenarios</h2>"]
    for s in scenarios:
        section.append(f"<h3>{html.escape(s.name)}</h3>")
        if s.description:
            section.append(f"<p>{html.escape(s.description)}</p>")
        section.append("<ul>" + "".join(f"<li>{html.escape(str(c))}</li>" for c in s.changes) + "</ul>")
    paths = pd.concat(
        [
            pd.DataFrame({"year": y, "scenario": r.names, "evaluated by": r.paths, "solves": r.solves})
            for y, r in results.items()
        ]
    )
    section.append("<h3>How each scenario was evaluated</h3>" + _table(paths.set_index(["year", "scenario"])))
    for year, res in results.items():
        for s in res.mrio.stressors[:1] if res.spec is None else [res.mrio.stressors[res.spec.k]]:
            change = res.accounts(s, change=True)
            k = res.mrio.stressor_position(s)
            totals = change.groupby(level="scenario", sort=False)[list(ACCOUNTS[:2])].sum()
            section.append(
                f"<h3>{year}: world change of {html.escape(s)} ({html.escape(res.mrio.units[k])})</h3>" + _table(totals)
            )
        if res.spec is not None:
            section.append(f"<h3>{year}: change of GMI by region</h3>" + _table(res.gmi("region", change=True)))
    title = f"mrioflow scenario: {len(scenarios)} scenario(s), {', '.join(map(str, results))}"
    page = render_study(title, provenance, figures, synthetic=first.mrio.synthetic)
    head = f"<h1>{html.escape(title)}</h1>"
    page = page.replace(head, head + "\n" + "\n".join(section), 1)
    out.text("report.html", page)
