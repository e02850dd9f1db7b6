"""The Belt-and-Road methane-inequality analysis, end to end (docs/method.md sections 2-9).

For each year: load the table (any source :func:`mrioflow.io.read` opens: the
synthetic world, Eora26, a pymrio folder, a plugin's format; with optional EDGAR
methane), run the engine, compute the accounts, sector
structures, region flows and the BMI / GMI indices, and write that year's
tables at once (so an interrupted run keeps what it finished). Then the
cross-year tables, the figures and the HTML report.

The command line (:mod:`mrioflow.cli`) only parses options and calls :func:`run`.
"""

from __future__ import annotations

import functools
import json
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import indices as ix
from .. import regions as rg
from ..engine import Engine, Results
from ..engine.engine import precision_summary
from ..errors import LabelError, ReaderError
from ..kernels import indices as K
from . import provenance as prov
from .output import OutputFolder, check_not_inside, check_target
from .settings import Settings
from .studies import load_table

__all__ = ["OTHER", "RunSummary", "YearResult", "compute_year", "run", "synthetic_world"]

OTHER = "Other countries"
DIRECT = "Direct (final demand)"
PERSPECTIVES = ("production", "consumption")


@dataclass
class YearResult:
    """Every table of one year (labelled pandas objects) plus where they came from."""

    year: int
    tables: dict[str, pd.DataFrame]
    bmi: pd.DataFrame
    gmi: pd.Series
    source: str
    synthetic: bool
    units: dict[str, str]
    backend: str
    timings: dict[str, float] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)


@dataclass
class RunSummary:
    """What :func:`run` returns: the output folder, the files written, the tables, timings."""

    settings: Settings
    output: Path
    years: list[int]
    results: list[YearResult]
    tables: dict[str, pd.DataFrame]
    files: list[Path]
    timings: dict[str, float]
    provenance: dict
    synthetic: bool


# -- loading ------------------------------------------------------------------------------


def synthetic_world(regions: rg.Regions, n_countries: int | None) -> list[str] | None:
    """Country codes of the synthetic world: all (None), or the grouping's countries
    plus evenly spread others (RoW always among them) up to ``n_countries``."""
    from .. import data

    codes = data.eora26_countries()["iso3"].tolist() + ["ROW"]
    regions.check(codes)
    if n_countries is None:
        return None
    others = [c for c in codes if c not in regions]
    k = min(max(n_countries - len(regions), 1), len(others))
    pick = {others[i] for i in np.linspace(0, len(others) - 1, k).round().astype(int)}
    return [c for c in codes if c in regions or c in pick]


def _tables(settings: Settings, regions: rg.Regions):
    """Yield (year, loader) pairs; each loader returns that year's MRIO (year None: the table's own)."""
    options = settings.reader_options()
    if settings.synthetic_countries is not None:
        options["countries"] = synthetic_world(regions, settings.synthetic_countries)
    # one-table sources carry their own year; one year given (--years 2013) names it where they do not
    only = settings.years[0] if len(settings.years) == 1 else None
    for path, reader in settings.data_sources():
        for y in settings.years if reader.yearly else (None,):
            yield (
                y,
                functools.partial(
                    load_table,
                    y if reader.yearly else only,
                    data=path,
                    format=reader.name,
                    options=options,
                    cache=None if settings.cache else False,
                    edgar=settings.edgar,
                    edgar_mapping=settings.edgar_mapping,
                    stressor=settings.stressor,
                    satellite=settings.satellite,
                ),
            )


# -- one year's tables --------------------------------------------------------------------


def _region_of(res: Results, regions: rg.Regions) -> list[str]:
    return [regions.group_of(c) or "" for c in res.countries]


def _region_order(regions: rg.Regions, res: Results) -> list[str]:
    extra = [OTHER] if any(c not in regions for c in res.countries) else []
    return list(regions.groups) + extra


def _accounts(res: Results, regions: rg.Regions, stressors, year) -> tuple[pd.DataFrame, pd.DataFrame]:
    region = _region_of(res, regions)
    names = res.mrio.country_names
    zero = res.zero_output()
    frames = []
    for st in stressors:
        acc = res.accounts(st, direct=True)
        df = pd.DataFrame(
            {
                "year": year,
                "country": list(res.countries),
                "name": list(names),
                "region": region,
                "stressor": st,
                "unit": res.mrio.units[res.stressor_index(st)],
                **{c: acc[c].to_numpy() for c in ("pba", "cba", "imports", "exports", "net")},
                "direct": res.F_Y[res.stressor_index(st)],
            }
        )
        if zero is not None:  # stressors of zero-output sectors, in no account (a warning said so)
            df["zero_output"] = zero[res.stressor_index(st)]
        frames.append(df)
    country = pd.concat(frames, ignore_index=True)
    order = _region_order(regions, res)
    grouped = country.assign(region=country["region"].replace("", OTHER))
    num = ["pba", "cba", "imports", "exports", "net", "direct"] + (["zero_output"] if zero is not None else [])
    reg = grouped.groupby(["stressor", "unit", "region"], sort=False)[num].sum().reset_index()
    reg["region"] = pd.Categorical(reg["region"], categories=order, ordered=True)
    reg["stressor"] = pd.Categorical(reg["stressor"], categories=list(stressors), ordered=True)
    reg = reg.sort_values(["stressor", "region"]).reset_index(drop=True)
    reg["region"] = reg["region"].astype(str)
    reg["stressor"] = reg["stressor"].astype(str)
    reg.insert(0, "year", year)
    return country, reg


def _sectors(res: Results, regions: rg.Regions, stressors, year) -> tuple[pd.DataFrame, pd.DataFrame]:
    R, S = res.mrio.n_countries, res.mrio.n_sectors
    sectors = list(res.mrio.sectors)
    region = _region_of(res, regions)
    frames = []
    for st in stressors:
        k = res.stressor_index(st)
        unit = res.mrio.units[k]
        direct = res.F_Y[k]
        by_perspective = {
            # where the stressor occurs: producing country x producing sector
            "production": res.E_sector[k].sum(axis=1).reshape(R, S),
            # what final demand buys: consuming country x sector of the product bought
            "consumption": res.E_fd_sector[k].reshape(R, S, R).sum(axis=0).T,
        }
        for persp, a in by_perspective.items():
            cols = sectors
            if np.any(direct != 0):
                a = np.column_stack([a, direct])
                cols = sectors + [DIRECT]
            df = pd.DataFrame(a, index=list(res.countries), columns=cols)
            long = (
                df.rename_axis("country").reset_index().melt(id_vars="country", var_name="sector", value_name="value")
            )
            long.insert(0, "perspective", persp)
            long.insert(0, "unit", unit)
            long.insert(0, "stressor", st)
            long["region"] = long["country"].map(dict(zip(res.countries, region)))
            frames.append(long)
    country = pd.concat(frames, ignore_index=True)
    country.insert(0, "year", year)
    country = country[["year", "stressor", "unit", "perspective", "country", "region", "sector", "value"]]
    members = country[country["region"] != ""]
    reg = (
        members.groupby(["year", "stressor", "unit", "perspective", "region", "sector"], sort=False)["value"]
        .sum()
        .reset_index()
    )
    return country, reg


def _flows_region(res: Results, regions: rg.Regions, stressor: str) -> pd.DataFrame:
    order = _region_order(regions, res)
    P = regions.membership(res.countries, other=OTHER)  # rows in the order of _region_order
    G = rg.group_matrix(res.E[res.stressor_index(stressor)], P, res.backend)
    unit = res.mrio.units[res.stressor_index(stressor)]
    return pd.DataFrame(
        G,
        index=pd.Index(order, name=f"producing region (values in {unit})"),
        columns=pd.Index(order, name="consuming region"),
    )


ROBUST = (0.05, 0.95)


def _ratio_case_spread(res: Results, regions: rg.Regions, settings: Settings, year) -> pd.DataFrame:
    """The spread of the ratio-case country-pair BMI (docs/method.md section 5) under this
    run's normalisation and under the robust one at the 5 % and 95 % quantiles."""
    E, V = res.E[res.stressor_index(settings.stressor)], res.E[res.stressor_index(settings.value_added)]
    mask = None if settings.norm_set == "all" else np.array([c in regions for c in res.countries])
    EN, Vbar = np.maximum(E - E.T, 0.0), V - V.T
    ratio_case = (EN > 0) & ((Vbar < 0) if settings.convention == "printed" else (Vbar > 0))
    if mask is not None:
        ratio_case &= mask[:, None] & mask[None, :]
    rows = []
    for label, qs in (
        (f"this run {tuple(settings.norm_quantiles)}", settings.norm_quantiles),
        (f"robust {ROBUST}", ROBUST),
    ):
        B = K.calc_bmi(
            E, V, convention=settings.convention, norm_mask=mask, norm_sign=settings.norm_sign, norm_quantiles=qs
        )
        if settings.convention == "beneficiary_row":
            B = B.T
        v = B[ratio_case]
        q = np.quantile(v, [0.0, 0.05, 0.5, 0.95, 1.0]) if v.size else np.full(5, np.nan)
        rows.append(
            {
                "year": year,
                "normalisation": label,
                "pairs": int(v.size),
                "at 0": int(np.count_nonzero(v == 0)),  # clipped to 0 (robust) or the set's minimum
                "min": q[0],
                "q05": q[1],
                "median": q[2],
                "q95": q[3],
                "max": q[4],
                "std": float(v.std()) if v.size else np.nan,
            }
        )
        if tuple(qs) == ROBUST:
            break
    return pd.DataFrame(rows)


def compute_year(res: Results, regions: rg.Regions, settings: Settings, *, year=None, backend=None) -> YearResult:
    """All tables of one year from one engine run.

    Tables (pandas): ``accounts_country``, ``accounts_region`` (tidy: pba,
    cba, imports, exports, net, direct per stressor; PBA and CBA include
    direct final-demand emissions), ``sectors_country``, ``sectors_region``
    (tidy, both perspectives), ``flows_region_{stressor}`` and
    ``flows_region_{value_added}`` (region x region embodied flows),
    ``bmi_region``, ``bmi_country``, ``gmi_region``, ``gmi_country``.
    """
    year = res.mrio.year if year is None else year
    st, va = settings.stressor, settings.value_added
    t0 = time.perf_counter()
    options = dict(
        value_added=va,
        norm_set=settings.norm_set,
        norm_sign=settings.norm_sign,
        norm_quantiles=settings.norm_quantiles,
        backend=backend,
    )
    bmi_r = ix.bmi(res, st, regions, convention=settings.convention, level="region", **options)
    bmi_c = ix.bmi(res, st, regions, convention=settings.convention, level="country", **options)
    gmi_r = ix.gmi(res, st, regions, level="region", **options)
    gmi_c = ix.gmi(res, st, regions, level="country", **options)
    t_idx = time.perf_counter() - t0

    t0 = time.perf_counter()
    acc_c, acc_r = _accounts(res, regions, (st, va), year)
    sec_c, sec_r = _sectors(res, regions, (st, va), year)
    tables = {
        "accounts_country": acc_c,
        "accounts_region": acc_r,
        "sectors_country": sec_c,
        "sectors_region": sec_r,
        f"flows_region_{st}": _flows_region(res, regions, st),
        f"flows_region_{va}": _flows_region(res, regions, va),
        "bmi_region": bmi_r,
        "bmi_country": bmi_c,
        "bmi_ratio_case_spread": _ratio_case_spread(res, regions, settings, year),
        "gmi_region": gmi_r.to_frame(),
        "gmi_country": gmi_c.to_frame().assign(
            name=[regions.country_names.get(c, "") or _name(res, c) for c in gmi_c.index],
            region=[regions.group_of(c) for c in gmi_c.index],
        )[["name", "region", "GMI"]],
    }
    t_tab = time.perf_counter() - t0
    return YearResult(
        year=year,
        tables=tables,
        bmi=bmi_r,
        gmi=gmi_r,
        source=res.mrio.source,
        synthetic=res.synthetic,
        units={s: res.mrio.units[res.stressor_index(s)] for s in (st, va)},
        backend=str(res.backend),
        timings={"indices": t_idx, "tables": t_tab},
        meta={k: v for k, v in res.mrio.meta.items() if isinstance(v, (str, int, float, bool))},
    )


def _resolve(grouping: rg.Regions, mrio, settings: Settings, before: rg.Resolution | None, log):
    """The grouping in the table's codes (:func:`mrioflow.regions.resolve_for_table`); every
    year of a run must resolve it the same way."""
    r = rg.resolve_for_table(
        grouping,
        mrio.countries,
        database=mrio.meta.get("region_concordance"),
        assign=settings.aggregate_regions,
    )
    if before is None:
        if r.unresolved:
            names = ", ".join(f"{c} ({a or 'not in the table'})" for c, _, _, a in r.unresolved)
            log(f"{len(r.unresolved)} countries of the grouping are not resolved by the table: {names}")
        for code, group in r.assigned.items():
            log(f"aggregate region {code} assigned as a whole to {group}")
        return r.regions, r
    if r.regions != before.regions:
        raise LabelError(
            f"the tables resolve the grouping differently ({before.regions!r} and {r.regions!r}): "
            "run one database at a time"
        )
    return before.regions, before


def _name(res: Results, code: str) -> str:
    return res.mrio.country_names[res.countries.index(code)]


# -- across years -------------------------------------------------------------------------


def _across(results: list[YearResult], settings: Settings) -> dict[str, pd.DataFrame]:
    out: dict[str, pd.DataFrame] = {}
    for name in ("accounts_country", "accounts_region", "sectors_country", "sectors_region", "bmi_ratio_case_spread"):
        out[name] = pd.concat([r.tables[name] for r in results], ignore_index=True)
    flows = []
    for r in results:
        for st in (settings.stressor, settings.value_added):
            m = r.tables[f"flows_region_{st}"]
            long = m.rename_axis(index="producing region").stack().rename("value").reset_index()
            long.insert(0, "unit", r.units[st])
            long.insert(0, "stressor", st)
            long.insert(0, "year", r.year)
            flows.append(long)
    out["flows_region"] = pd.concat(flows, ignore_index=True)
    bmi_long = []
    for r in results:
        long = r.bmi.stack().rename("BMI").reset_index()
        long.insert(0, "year", r.year)
        bmi_long.append(long)
    out["bmi_region"] = pd.concat(bmi_long, ignore_index=True)
    out["bmi_region_total"] = pd.DataFrame({str(r.year): ix.bmi_totals(r.bmi) for r in results}).rename_axis("region")
    out["gmi_region"] = pd.DataFrame({str(r.year): r.gmi for r in results}).rename_axis("region")
    gc = results[0].tables["gmi_country"][["name", "region"]].copy()
    for r in results:
        gc[str(r.year)] = r.tables["gmi_country"]["GMI"]
    out["gmi_country"] = gc
    if len(results) >= 2:
        first, last = results[0], results[-1]
        diff = last.bmi - first.bmi
        diff.attrs = {"years": (first.year, last.year)}
        out[f"bmi_region_diff_{first.year}_{last.year}"] = diff
    return out


# -- the whole run ------------------------------------------------------------------------


def _year_of(value, where) -> int:
    """A table's year as a plain integer (it names files and reaches the report)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 < int(value) < 10_000:
        raise ReaderError(f"{where}: the table's year must be a whole number between 1 and 9999, got {value!r}")
    return int(value)


def _provenance_inputs(settings: Settings) -> list[dict]:
    return prov.table_inputs(
        data=settings.data_sources(),
        years=settings.years,
        options=settings.reader_options(),
        edgar=settings.edgar,
        edgar_mapping=settings.edgar_mapping,
        groups=settings.groups,
        config=settings.config_file,
    )


def run(
    settings: Settings,
    *,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    argv: Sequence[str] | None = None,
) -> RunSummary:
    """Run the whole analysis and write the output folder.

    The folder is written in a staging folder beside it and moved into place
    when complete (see :mod:`mrioflow.analysis.output`); a failed run publishes
    nothing and leaves the output folder as it was.

    Parameters
    ----------
    settings : Settings
        Validated settings (:meth:`Settings.build`).
    progress : bool
        Show a tqdm progress bar on stderr.
    log : callable, optional
        Receives one-line messages (the CLI prints them).
    argv : sequence of str, optional
        The command line, recorded in the provenance (the CLI passes it); None
        for an API call, which records the settings instead.

    Returns
    -------
    RunSummary

    Raises
    ------
    OutputError
        The output folder is refused or cannot be written (checked before anything is computed).
    MissingDataError
        A year without a data file (every year is checked before the first is computed).
    LabelError
        Grouping countries missing from the table, an unknown stressor.
    OptionError
        An option that does not exist.
    """

    settings.validate()
    check_target(settings.output, kind="run", overwrite=settings.overwrite)
    check_not_inside(settings.output, settings.data)
    log = log or (lambda msg: None)
    t_start = time.perf_counter()
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    regions = rg.from_csv(settings.groups, group_column=settings.group_column) if settings.groups else rg.bri()
    loaders = list(_tables(settings, regions))  # every data source recognised before anything runs
    engine = Engine(backend=settings.backend, precision=settings.precision)
    timings["setup"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    inputs = _provenance_inputs(settings)
    timings["hash inputs"] = time.perf_counter() - t0
    log(f"backend: {engine.backend.name} ({engine.backend.describe()}); {engine.backend.reason}")

    with OutputFolder(settings.output, kind="run", overwrite=settings.overwrite) as out:
        summary = _run(settings, regions, loaders, engine, out, inputs, argv, progress, log, timings, t_start)
    summary.files = list(out.written)
    return summary


def _run(settings, regions, loaders, engine, out, inputs, argv, progress, log, timings, t_start) -> RunSummary:
    from tqdm.auto import tqdm

    steps = 3 * len(loaders) + 2
    results: list[YearResult] = []
    precisions: dict[str, dict] = {}
    grouping, resolution = regions, None  # the grouping as given; `regions` becomes the table's own
    with tqdm(total=steps, desc="mrioflow run", unit="step", disable=not progress, file=sys.stderr) as bar:
        for year, load in loaders:
            label = year if year is not None else "table"
            bar.set_description(f"{label}: loading table")
            t0 = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                mrio = load()
            for w in caught:
                log(f"warning ({label}): {' '.join(str(w.message).split())}")
            t_load = time.perf_counter() - t0
            regions, resolution = _resolve(grouping, mrio, settings, resolution, log)
            year = _year_of(mrio.year if year is None else year, mrio.source)
            bar.update()

            bar.set_description(f"{year}: Leontief solve and flows")
            t0 = time.perf_counter()
            res = engine.run(mrio, stressors=[settings.stressor, settings.value_added])
            t_run = time.perf_counter() - t0
            precisions[str(year)] = precision_summary(res.precision)
            if res.precision and res.precision["fallback"]:
                log(f"warning ({year}): mixed precision fell back to the float64 LU: {res.precision['fallback']}")
            bar.update()

            bar.set_description(f"{year}: indices and tables")
            yr = compute_year(res, regions, settings, year=year, backend=engine.backend)
            yr.meta["condition number of I - A (1-norm, estimated)"] = res.diagnostics.get("condition_number_1norm")
            t0 = time.perf_counter()
            for name, df in yr.tables.items():
                out.table(f"{name}_{year}", df)
            yr.timings.update({"load": t_load, "engine": t_run, "write tables": time.perf_counter() - t0})
            yr.timings.update({f"engine: {k}": v for k, v in res.timings.items()})
            results.append(yr)
            bar.update()
            del res, mrio

        years = [r.year for r in results]
        if len(set(years)) != len(years):
            raise LabelError(f"two tables have the same year: {years}")
        t0 = time.perf_counter()
        across = _across(results, settings)
        for name, df in across.items():
            out.table(name, df)
        timings["tables across years"] = time.perf_counter() - t0

        bar.set_description("figures")
        t0 = time.perf_counter()
        from . import figures

        figs = figures.make_all(results, across, settings, regions, out)
        timings["figures"] = time.perf_counter() - t0
        bar.update()

        bar.set_description("report")
        synthetic_data = any(r.synthetic for r in results)
        provenance = prov.collect(
            command="run",
            argv=argv,
            settings=settings.as_dict(),
            inputs=inputs,
            edgar=bool(settings.edgar),
            edgar_mapping=bool(settings.edgar_mapping),
            grouping=bool(settings.groups),
        )
        provenance.update(
            {
                "synthetic": synthetic_data,
                "data": settings.source,
                "data source": results[0].source if results else "",
                "years": years,
                "sources by year": {str(r.year): r.source for r in results},
                "grouping": f"{regions.name}: {len(regions)} countries in {len(regions.groups)} groups",
                "grouping resolution": resolution.summary() if resolution is not None else None,
                "options": {
                    "stressor": settings.stressor,
                    "value_added": settings.value_added,
                    "convention": settings.convention,
                    "norm_set": settings.norm_set,
                    "norm_sign": settings.norm_sign,
                    "norm_quantiles": list(settings.norm_quantiles),
                },
                "backend": f"{engine.backend.name} ({engine.backend.describe()})",
                "backend choice": engine.backend.reason,
                "precision by year": precisions,
                "table meta": {str(r.year): r.meta for r in results},
            }
        )
        timings["total before report"] = time.perf_counter() - t_start
        provenance["timings"] = {
            "run": timings,
            "per year": {str(r.year): r.timings for r in results},
        }
        from . import report

        t0 = time.perf_counter()
        out.text("provenance.json", json.dumps(provenance, indent=2, default=str))
        out.text("report.html", report.render(results, across, settings, regions, provenance, figs))
        timings["report"] = time.perf_counter() - t0
        bar.update()
    timings["total"] = time.perf_counter() - t_start
    return RunSummary(
        settings=settings,
        output=out.target,
        years=years,
        results=results,
        tables=across,
        files=[],
        timings=timings,
        provenance=provenance,
        synthetic=synthetic_data,
    )
