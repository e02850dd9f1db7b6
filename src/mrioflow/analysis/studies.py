"""Ensemble and sweep studies behind ``mrioflow mc`` and ``mrioflow sweep``:
load tables, run ``mf.montecarlo`` / ``mf.sweep``, write labelled tables and a figure."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .. import io as mio
from ..engine.engine import precision_summary
from ..ensembles import check_scheduler, montecarlo, sweep
from ..errors import LabelError, OptionError, ReaderError
from ..mrio import MRIO
from .output import OutputFolder, dropped_when_empty, store_folder

ACCOUNTS = ("pba", "cba", "net")


def with_edgar(mrio: MRIO, edgar=None, *, mapping=None, stressor: str = "CH4", year=None) -> MRIO:
    """``mrio`` with its ``stressor`` replaced by the EDGAR file's emissions of that year
    (unchanged when no EDGAR file is given)."""
    if edgar is None:
        return mrio
    table = mio.read_edgar(edgar, substance=stressor, year=mrio.year if year is None else year)
    return mio.attach_edgar(mrio, table, mapping=mapping, name=stressor)


def load_table(
    year: int | None = None,
    *,
    data=None,
    format: str | None = None,
    options: dict | None = None,
    cache: bool | None = None,
    cache_dir=None,
    edgar=None,
    edgar_mapping=None,
    stressor: str = "CH4",
    satellite: str | None = None,
) -> MRIO:
    """One table, read by the registry (:func:`mrioflow.io.read`), with EDGAR methane when given.

    ``data`` None and ``format`` None: the synthetic world. ``satellite``
    (``"NAME=PATTERN"``) reads those rows of an Eora26 table's labels_Q.txt as a
    stressor. A table without ``stressor``, given neither EDGAR nor a satellite, is a
    LabelError that lists what the table has and how to choose.
    """
    if data is None and format is None:
        format = "synthetic"
    options = dict(options or {})
    if satellite:
        if format == "synthetic":
            raise OptionError(
                "--satellite picks rows of an Eora26 table's labels_Q.txt: give the Eora26 table (--data) as well"
            )
        options["satellites"] = dict([mio.eora26.satellite_option(satellite)])
    mrio = mio.read(data, year=year, format=format, cache=cache, cache_dir=cache_dir, **options)
    if edgar is None and satellite is None and stressor not in mrio.stressors:
        if mrio.meta.get("reader") == "eora26":
            raise LabelError(mio.eora26.missing_stressor_message(mrio, stressor))
        raise LabelError(
            f"{mrio.source}: the table has no stressor {stressor!r} (it has {', '.join(mrio.stressors)}); "
            "choose one with --stressor, or attach EDGAR methane with --edgar FILE"
        )
    return with_edgar(mrio, edgar, mapping=edgar_mapping, stressor=stressor, year=year)


def loader(**options):
    """A picklable ``year -> MRIO`` function (for Dask workers); ``options`` as for :func:`load_table`."""
    return functools.partial(load_table, **options)


def read_rsd(path) -> pd.Series:
    """Relative standard deviations by sector from a CSV with columns ``sector`` and ``rsd``.

    The Series is indexed by sector name (matched to the table's sectors by
    ``mf.montecarlo``, which names any unknown or missing sector); its
    ``attrs["source"]`` is the file, so that such errors name it too.
    """
    path = Path(path)
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise ReaderError(f"{path}: cannot read the rsd table: {exc}") from None
    if "sector" not in table.columns or "rsd" not in table.columns:
        raise ReaderError(f"{path}: an rsd table needs the columns 'sector' and 'rsd'; it has {list(table.columns)}")
    rsd = pd.Series(table["rsd"].to_numpy(), index=table["sector"].astype(str).to_numpy(), name="rsd")
    rsd.attrs["source"] = str(path)
    return rsd


def run_montecarlo(
    mrio: MRIO,
    out_dir,
    *,
    samples: int,
    perturb: dict,
    seed: int,
    backend: str,
    dtype: str = "float64",
    stressors: Sequence[str] | None = None,
    batch_size: int | None = None,
    scheduler=None,
    progress: bool = True,
    indices: dict | None = None,
    provenance: dict | None = None,
    overwrite: bool = False,
    yes: bool = False,
    precision: str = "double",
) -> list[Path]:
    """Run an ensemble (batches kept beside ``out_dir``, in ``{out_dir}.batches``, for
    resuming) and publish ``out_dir`` whole when done (``provenance.json`` included), with
    per stressor: the summary of each account by country, P(net < 0), every sample
    of the accounts, and a figure of CBA with its 90 % interval; with ``indices``,
    GMI by country and region (with P(GMI < 0)) and the mean and spread of the
    region x region BMI. ``yes``: run past the resource limits (see ``mf.montecarlo``)."""
    check_scheduler(scheduler)  # before any folder is made
    with (
        OutputFolder(out_dir, kind="mc", overwrite=overwrite) as out,
        dropped_when_empty(store_folder(out_dir, "batches")),
    ):
        res = montecarlo(
            mrio,
            samples=samples,
            perturb=perturb,
            seed=seed,
            backend=backend,
            dtype=dtype,
            stressors=stressors,
            batch_size=batch_size,
            scheduler=scheduler,
            out_dir=store_folder(out_dir, "batches"),
            progress=progress,
            indices=indices,
            yes=yes,
            precision=precision,
        )
        if provenance is not None:
            provenance["precision of the nominal run"] = precision_summary(res.nominal.precision)
        _write_montecarlo(out, res, samples, indices, provenance)
    return out.written


def _with_unit(table: pd.DataFrame, unit: str) -> pd.DataFrame:
    """The table with a ``unit`` column (every value of a stressor's table is in its unit)."""
    table = table.copy()
    table["unit"] = unit
    return table


def _write_montecarlo(out, res, samples, indices, provenance) -> None:
    figures = []
    if indices is not None:
        out.table("mc_gmi_country", res.gmi_summary("country"))
        out.table("mc_gmi_region", res.gmi_summary("region"))
        for stat in ("nominal", "mean", "std", "q05", "q95"):
            out.table(f"mc_bmi_region_{stat}", res.bmi_summary(stat))
    for s in res.mrio.stressors:
        unit = res.mrio.units[res.mrio.stressor_position(s)]
        for account in ACCOUNTS:
            out.table(f"mc_summary_{s}_{account}", _with_unit(res.summary(s, account), unit))
        out.table(f"mc_probability_net_below_0_{s}", res.probability(s, "net").to_frame())
        long = pd.concat({a: res.sample_table(s, a) for a in ACCOUNTS}, names=["account", "sample"])
        out.table(f"mc_samples_{s}", _with_unit(long.stack().rename("value").reset_index(), unit))
        figures.append(
            (
                f"{s}: consumption-based accounts with their 5-95 % interval.",
                out.figure(f"mc_cba_{s}", _interval_figure(res.summary(s, "cba"), s, res.mrio, samples)),
            )
        )
    _write_provenance(out, provenance, f"mrioflow mc: {samples} Monte Carlo samples", figures, res.mrio.synthetic)


def _write_provenance(out, provenance, title, figures, synthetic) -> None:
    """provenance.json and, when the provenance is complete (the CLI's), report.html."""
    out.text("provenance.json", json.dumps(provenance or {}, indent=2, default=str))
    if provenance:
        from .report import render_study

        out.text("report.html", render_study(title, provenance, figures, synthetic=synthetic))


def _interval_figure(summary: pd.DataFrame, stressor: str, mrio, samples: int, top: int = 25):
    import matplotlib.pyplot as plt

    from .figures import _layout, _mark, _scale

    d = summary.sort_values("nominal", ascending=False).head(top)
    unit = mrio.units[mrio.stressor_position(stressor)]
    factor, label = _scale(unit, d[["q05", "q95"]].to_numpy())
    fig, ax = plt.subplots(figsize=(11, 5))
    x = range(len(d))
    ax.bar(x, d["nominal"] * factor, color="#9ecae1", label="nominal")
    ax.errorbar(
        x,
        d["mean"] * factor,
        yerr=[(d["mean"] - d["q05"]) * factor, (d["q95"] - d["mean"]) * factor],
        fmt="o",
        color="#08519c",
        capsize=3,
        label="mean and 5-95 % interval",
    )
    ax.set_xticks(list(x), d.index, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel(f"consumption-based {stressor} ({label})")
    ax.set_title(
        f"{stressor} footprints of the {len(d)} largest consumers: {samples} Monte Carlo samples"
        + (f", {mrio.year}" if mrio.year else "")
    )
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    _layout(fig, rect=(0, 0.03, 1, 1))
    _mark(fig, mrio.synthetic)
    return fig


def run_sweep(
    years: Sequence,
    out_dir,
    *,
    load,
    backend: str,
    dtype: str = "float64",
    stressors: Sequence[str] | None = None,
    scheduler=None,
    progress: bool = True,
    provenance: dict | None = None,
    overwrite: bool = False,
    precision: str = "double",
) -> list[Path]:
    """Run the engine for every year (one task each, kept beside ``out_dir``, in
    ``{out_dir}.years``, for resuming) and publish ``out_dir`` whole when done
    (``provenance.json`` included), with for each stressor its accounts by (year, country), PBA and
    CBA as country x year tables, and a figure of both over the years."""
    check_scheduler(scheduler)  # before any folder is made
    with (
        OutputFolder(out_dir, kind="sweep", overwrite=overwrite) as out,
        dropped_when_empty(store_folder(out_dir, "years")),
    ):
        res = sweep(
            years,
            load,
            backend=backend,
            dtype=dtype,
            stressors=stressors,
            scheduler=scheduler,
            out_dir=store_folder(out_dir, "years"),
            progress=progress,
            precision=precision,
        )
        if provenance is not None:
            provenance["precision by year"] = {str(y): precision_summary(res[y].precision) for y in res.years}
        first = res[res.years[0]].mrio
        figures = []
        for s in res[res.years[0]].stressors:
            acc = res.accounts(s)
            unit = first.units[first.stressor_position(s)]
            out.table(f"sweep_accounts_{s}", _with_unit(acc.reset_index(), unit))
            for account in ("pba", "cba"):
                out.table(f"sweep_{account}_{s}", _with_unit(acc[account].unstack("year"), unit))
            figures.append(
                (
                    f"{s}: the world total, and PBA against CBA of the largest consumers.",
                    out.figure(f"sweep_{s}", _sweep_figure(acc, s, unit, first.synthetic)),
                )
            )
        _write_provenance(
            out, provenance, f"mrioflow sweep: {', '.join(map(str, res.years))}", figures, first.synthetic
        )
    return out.written


def _sweep_figure(acc: pd.DataFrame, stressor: str, unit: str, synthetic: bool, top: int = 8):
    """The world total over the years, and PBA (solid) and CBA (dashed) of the largest consumers."""
    import matplotlib.pyplot as plt

    from .figures import _layout, _mark, _scale

    cba = acc["cba"].unstack("year")
    pba = acc["pba"].unstack("year")
    years = list(cba.columns)
    biggest = cba.mean(axis=1).sort_values(ascending=False).index[:top]
    factor, label = _scale(unit, cba.to_numpy())
    fig, (world, by_country) = plt.subplots(1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [1, 2]})
    world.plot(years, pba.sum() * factor, "-o", color="#08519c")  # = world CBA: every unit is consumed somewhere
    world.set_title(f"world {stressor} (production = consumption)")
    colours = plt.get_cmap("tab10")
    for i, country in enumerate(biggest):
        by_country.plot(years, pba.loc[country] * factor, "-", color=colours(i % 10), label=str(country))
        by_country.plot(years, cba.loc[country] * factor, "--", color=colours(i % 10))
    by_country.set_title(f"the {len(biggest)} largest consumers: PBA solid, CBA dashed")
    by_country.legend(fontsize=8, ncol=2)
    for ax in (world, by_country):
        ax.set_xlabel("year")
        ax.set_ylabel(f"{stressor} ({label})")
        ax.grid(alpha=0.3)
        if all(isinstance(y, int | np.integer) for y in years):
            ax.xaxis.get_major_locator().set_params(integer=True)
    _layout(fig, rect=(0, 0.03, 1, 1))
    _mark(fig, synthetic)
    return fig
