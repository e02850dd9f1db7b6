"""Figures of the analysis (docs/method.md section 9), drawn with matplotlib's Agg backend.

matplotlib is imported here only (never by ``import mrioflow``). Each figure
equivalent of the study:

- Figs. 2-3: PBA vs CBA by region, for the stressor and for value added;
- Figs. 4-5: sector structure by region, production and consumption perspectives;
- Figs. 6-7: the region x region BMI heat map of each year, values in the cells;
- Fig. 8: the difference between the last and the first year's BMI;
- Fig. 9: GMI by region for each year;
- the embodied flows between regions (who emits for whom): a region x region
  heat map per year, rows and columns sorted by the regions' production.

Legibility rules: panels of many years wrap into a grid of at most
``MAX_COLUMNS`` columns; tick labels are rotated and shrink with the number
of labels; every sector keeps one colour in every figure (:func:`sector_colour`);
axes show the tables' units, rescaled only by a stated factor
(e.g. "Tg = 1,000 Gg"), the same factor in every panel of a figure.

Figures made from the synthetic world carry a "SYNTHETIC DATA - not real"
watermark and footer.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

__all__ = ["SYNTHETIC_MARK", "make_all", "sector_colour"]

SYNTHETIC_MARK = "SYNTHETIC DATA \u2014 not real"
TOP_SECTORS = 8
MAX_COLUMNS = 3
OTHER_SECTORS = "Other sectors"


def _palette() -> list:
    cmap20, cmap20b = plt.get_cmap("tab20").colors, plt.get_cmap("tab20b").colors
    return list(cmap20[0::2]) + list(cmap20[1::2]) + list(cmap20b[0::4]) + list(cmap20b[2::4])


def sector_colour(sector: str):
    """One fixed colour per sector in every figure: the Eora26 sectors by their position,
    grey for "Other sectors", black for direct final-demand emissions, and any other
    name a colour fixed by its text (the same in every run)."""
    from .. import data

    if sector == OTHER_SECTORS:
        return "#bbbbbb"
    if sector.startswith("Direct"):
        return "#222222"
    known = data.eora26_sectors()
    colours = _palette()
    if sector in known:
        return colours[known.index(sector) % len(colours)]
    return colours[sum(sector.encode("utf-8")) % len(colours)]


def _grid(n: int, *, columns: int = MAX_COLUMNS, width: float, height: float, **kw):
    """A figure with n panels wrapped into rows of at most ``columns``; unused axes hidden."""
    ncols = min(n, columns)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols + 1, height * nrows + 1.2), squeeze=False, **kw)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n], ncols


def _tick_size(n_labels: int) -> float:
    return 9.0 if n_labels <= 10 else max(5.5, 9.0 - 0.15 * (n_labels - 10))


def plain_where_math_fails(fig) -> bool:
    """Turn off math parsing for each text of ``fig`` whose math matplotlib cannot parse
    (labels come from the data: a stressor named ``a $\\x$``); whether there was one."""
    from matplotlib.mathtext import MathTextParser
    from matplotlib.text import Text

    parser = MathTextParser("path")
    changed = False
    for text in fig.findobj(Text):
        s = text.get_text()
        if "$" not in s or not text.get_parse_math():
            continue
        try:
            body, is_math = text._preprocess_math(s)
            if is_math is True:
                parser.parse(body, 72, text.get_fontproperties())
        except Exception:  # matplotlib's parse errors are ValueErrors; anything else: plain text too
            text.set_parse_math(False)
            changed = True
    return changed


def _layout(fig, **kwargs) -> None:
    """``fig.tight_layout`` (which draws every text) after :func:`plain_where_math_fails`."""
    plain_where_math_fails(fig)
    fig.tight_layout(**kwargs)


def _mark(fig, synthetic: bool) -> None:
    if not synthetic:
        return
    fig.text(
        0.5,
        0.5,
        SYNTHETIC_MARK,
        ha="center",
        va="center",
        rotation=25,
        fontsize=36,
        color="red",
        alpha=0.16,
        fontweight="bold",
        zorder=100,
    )
    fig.text(
        0.995,
        0.005,
        SYNTHETIC_MARK + " (mrioflow synthetic world)",
        ha="right",
        va="bottom",
        fontsize=9,
        color="red",
        fontweight="bold",
    )


#: Mass units and their size in kg: figures show masses in the unit that keeps numbers below 10^4.
_MASS = {"kg": 1.0, "t": 1e3, "kt": 1e6, "Gg": 1e6, "Mt": 1e9, "Tg": 1e9, "Gt": 1e12, "Pg": 1e12}
_MASS_LADDER = (("kg", 1.0), ("t", 1e3), ("kt", 1e6), ("Mt", 1e9), ("Gt", 1e12))
_GRAM_LADDER = (("Gg", 1e6), ("Tg", 1e9), ("Pg", 1e12))


def _scale(unit: str, values) -> tuple[float, str]:
    """A display factor and unit label for readable axes (no offset notation); the label states
    the factor against the tables' unit (e.g. "Tg = 1,000 Gg"), so figures and tables agree.

    Masses (kg, t, kt, Gg, Mt, Tg ..., a "CO2e" suffix kept) move up the ladder of their family
    (t, kt, Mt or Gg, Tg, Pg); kUSD is shown in billion USD; any other unit in powers of 1,000
    ("10^6 x <unit>")."""
    vmax = float(np.nanmax(np.abs(values))) if np.size(values) else 0.0
    if unit == "kUSD":
        return 1e-6, "billion USD = 10^6 kUSD"
    base, _, suffix = unit.partition(" ")
    suffix = f" {suffix}" if suffix else ""
    if base in _MASS:
        kg = _MASS[base]
        ladder = [(n, k) for n, k in (_GRAM_LADDER if base in ("Gg", "Tg", "Pg") else _MASS_LADDER) if k >= kg]
        # the smallest unit of the family, from the table's own up, in which the values stay below 10^4
        name, size = next(((n, k) for n, k in ladder if vmax * kg / k < 1e4), ladder[-1])
        if name == base:
            return 1.0, unit
        return kg / size, f"{name}{suffix} = {size / kg:,.0f} {base}{suffix}"
    power = 0
    while vmax >= 1e4 * 1000**power and power < 6:
        power += 1
    if power == 0:
        return 1.0, unit
    return 1000.0**-power, f"10^{3 * power} {unit}"


def about(stressor: str) -> str:
    """How titles name a stressor's inequality: "methane" for CH4, the stressor's own name otherwise."""
    return "methane" if stressor.strip().upper() in ("CH4", "METHANE") else stressor


def _accounts_figure(across, stressor, unit, years, synthetic, regions_order):
    acc = across["accounts_region"]
    acc = acc[(acc["stressor"] == stressor) & (acc["region"].isin(regions_order))]
    factor, label = _scale(unit, acc[["pba", "cba"]].to_numpy())
    fig, axes, ncols = _grid(len(years), width=6.0, height=4.6, sharey=True)
    x = np.arange(len(regions_order))
    size = _tick_size(len(regions_order))
    for i, (ax, y) in enumerate(zip(axes, years)):
        d = acc[acc["year"] == y].set_index("region").reindex(regions_order)
        ax.bar(x - 0.2, d["pba"] * factor, 0.4, label="production-based (PBA)", color="#1f77b4")
        ax.bar(x + 0.2, d["cba"] * factor, 0.4, label="consumption-based (CBA)", color="#ff7f0e")
        ax.set_xticks(x, regions_order, rotation=40, ha="right", fontsize=size)
        ax.set_title(str(y), fontsize=11)
        ax.grid(axis="y", alpha=0.3)
        if i % ncols == 0:
            ax.set_ylabel(f"{stressor} ({label})")
    handles, labels = axes[0].get_legend_handles_labels()  # below the panels: never over a bar
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=9, frameon=False)
    fig.suptitle(f"{stressor}: production- vs consumption-based accounts by region", fontsize=12)
    _layout(fig, rect=(0, 0.07, 1, 0.97))
    _mark(fig, synthetic)
    return fig


def _sectors_figure(across, stressor, years, synthetic, regions_order):
    sec = across["sectors_region"]
    sec = sec[sec["stressor"] == stressor]
    totals = sec.groupby("sector")["value"].sum().abs().sort_values(ascending=False)
    top = list(totals.index[:TOP_SECTORS])
    sec = sec.assign(sector=sec["sector"].where(sec["sector"].isin(top), OTHER_SECTORS))
    keys = top + ([OTHER_SECTORS] if (sec["sector"] == OTHER_SECTORS).any() else [])
    panels = [(y, persp) for y in years for persp in ("production", "consumption")]
    fig, axes, ncols = _grid(
        len(panels),
        columns=2 if len(years) <= 2 else 4,
        width=5.6,
        height=0.32 * len(regions_order) + 1.6,
        sharex=True,
        sharey=True,
    )
    ypos = np.arange(len(regions_order))
    size = _tick_size(len(regions_order))
    for ax, (y, persp) in zip(axes, panels):
        d = sec[(sec["perspective"] == persp) & (sec["year"] == y)]
        pivot = d.pivot_table(index="region", columns="sector", values="value", aggfunc="sum")
        pivot = pivot.reindex(index=regions_order, columns=keys).fillna(0.0)
        total = pivot.sum(axis=1).replace(0.0, np.nan)
        share = pivot.div(total, axis=0).fillna(0.0) * 100
        left = np.zeros(len(regions_order))
        for sector in keys:
            ax.barh(ypos, share[sector], left=left, color=sector_colour(sector), label=sector, height=0.7)
            left += share[sector].to_numpy()
        ax.set_yticks(ypos, regions_order, fontsize=size)
        ax.set_ylim(len(regions_order) - 0.5, -0.5)  # first region on top
        ax.set_xlim(0, 100)
        ax.set_xlabel(f"share of the region's {stressor} (%)", fontsize=9)
        ax.set_title(f"{y}, {persp} perspective", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    legend_in = 0.25 * -(-len(keys) // 3) + 0.45  # the legend's height in inches, below the panels
    fig.set_figheight(fig.get_figheight() + legend_in)
    fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.01), ncol=3, fontsize=9, frameon=False)
    fig.suptitle(
        f"{stressor} by sector: production perspective (the sector where it arises) and\n"
        "consumption perspective (the sector of the product final demand buys)",
        fontsize=12,
    )
    _layout(fig, rect=(0, legend_in / fig.get_figheight(), 1, 0.97))
    _mark(fig, synthetic)
    return fig


def _heatmap(ax, m: pd.DataFrame, cmap, vmin, vmax, fmt="{:.2f}"):
    a = m.to_numpy()
    im = ax.imshow(a, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    G = a.shape[0]
    norm = im.norm
    for r in range(G):
        for s in range(a.shape[1]):
            v = a[r, s]
            shade = norm(v)
            dark = shade > 0.6 if cmap != "RdBu_r" else abs(shade - 0.5) > 0.32
            text = fmt.format(0.0).lstrip("+") if abs(v) < 0.005 else fmt.format(v)
            ax.text(s, r, text, ha="center", va="center", fontsize=8.5, color="white" if dark else "black")
    ax.set_xticks(range(a.shape[1]), list(m.columns), rotation=35, ha="right", fontsize=9)
    ax.set_yticks(range(G), list(m.index), fontsize=9)
    return im


def _bmi_figure(m: pd.DataFrame, year, settings, vmax, synthetic):
    fig, ax = plt.subplots(figsize=(10.5, 8))
    im = _heatmap(ax, m, "YlOrRd", 0.0, vmax)
    totals = m.sum(axis=1).to_numpy()
    G = m.shape[1]
    ax.text(G - 0.35, -0.75, "row total", ha="left", va="center", fontsize=9, fontweight="bold")
    for r, t in enumerate(totals):
        ax.text(G - 0.35, r, f"{t:.2f}", ha="left", va="center", fontsize=9, fontweight="bold")
    ax.set_xlabel("partner region (column)", fontsize=10)
    ax.set_ylabel("first region (row)", fontsize=10)
    cb = fig.colorbar(im, ax=ax, pad=0.13, shrink=0.85)
    cb.set_label("BMI, sum over ordered country pairs (dimensionless)", fontsize=9)
    ax.set_title(
        f"Bilateral {about(settings.stressor)} inequality index (BMI), {settings.stressor}, {year}\n"
        f"convention={settings.convention}, norm_set={settings.norm_set}, norm_sign={settings.norm_sign}"
        + (
            "" if tuple(settings.norm_quantiles) == (0.0, 1.0) else f", norm_quantiles={tuple(settings.norm_quantiles)}"
        ),
        fontsize=11,
    )
    _layout(fig, rect=(0, 0.02, 1, 1))
    _mark(fig, synthetic)
    return fig


def _bmi_diff_figure(d: pd.DataFrame, y0, y1, settings, synthetic):
    fig, ax = plt.subplots(figsize=(10.5, 8))
    lim = float(np.abs(d.to_numpy()).max()) or 1.0
    im = _heatmap(ax, d, "RdBu_r", -lim, lim, fmt="{:+.2f}")
    ax.set_xlabel("partner region (column)", fontsize=10)
    ax.set_ylabel("first region (row)", fontsize=10)
    cb = fig.colorbar(im, ax=ax, shrink=0.85)
    cb.set_label(f"BMI {y1} minus BMI {y0} (dimensionless)", fontsize=9)
    ax.set_title(f"Change in BMI ({settings.stressor}), {y1} - {y0}: red = more inequality", fontsize=11)
    _layout(fig, rect=(0, 0.02, 1, 1))
    _mark(fig, synthetic)
    return fig


def _flows_figure(across, stressor, years, synthetic, order):
    """Embodied flows region x region (row: where it is emitted, column: whose final demand
    causes it), rows and columns sorted by the last year's production, one colour scale."""
    from matplotlib.colors import LogNorm

    fl = across["flows_region"]
    fl = fl[fl["stressor"] == stressor]
    unit = str(fl["unit"].iloc[0])
    last = fl[fl["year"] == years[-1]]
    produced = last.groupby("producing region")["value"].sum().reindex(order).fillna(0.0)
    ranked = list(produced.sort_values(ascending=False).index)
    factor, label = _scale(unit, fl["value"].to_numpy())
    positive = fl["value"].to_numpy() * factor
    positive = positive[positive > 0]
    vmax = float(positive.max()) if positive.size else 1.0
    norm = LogNorm(vmin=max(vmax * 1e-4, float(positive.min()) if positive.size else 1e-4), vmax=vmax)
    G = len(ranked)
    fig, axes, ncols = _grid(len(years), width=0.55 * G + 2.2, height=0.5 * G + 1.6, layout="constrained")
    size = _tick_size(G)
    cell_font = 7.5 if G <= 10 else max(4.5, 7.5 - 0.25 * (G - 10))
    im = None
    for i, (ax, y) in enumerate(zip(axes, years)):
        d = fl[fl["year"] == y].pivot_table(
            index="producing region", columns="consuming region", values="value", aggfunc="sum"
        )
        m = d.reindex(index=ranked, columns=ranked).fillna(0.0).to_numpy() * factor
        im = ax.imshow(np.where(m > 0, m, np.nan), cmap="viridis", norm=norm, aspect="auto")
        for r in range(G):
            for c in range(G):
                v = m[r, c]
                if v >= 0.01 * 10 ** np.floor(np.log10(vmax)) / 10:  # smaller cells: colour only
                    ax.text(
                        c,
                        r,
                        _compact(v),
                        ha="center",
                        va="center",
                        fontsize=cell_font,
                        color="white" if norm(v) < 0.6 else "black",
                    )
        ax.set_xticks(range(G), ranked, rotation=45, ha="right", fontsize=size)
        ax.set_yticks(range(G), ranked if i % ncols == 0 else [], fontsize=size)
        ax.set_title(str(y), fontsize=11)
    cb = fig.colorbar(im, ax=axes, shrink=0.8, pad=0.02)
    cb.set_label(f"embodied {stressor} ({label})", fontsize=9)
    fig.suptitle(
        f"Embodied {stressor} flows between regions: row = region where it is emitted, column = region "
        "whose final demand causes it (sorted by production)",
        fontsize=11,
    )
    fig.get_layout_engine().set(rect=(0, 0.025, 1, 0.975))  # room for the synthetic footer
    _mark(fig, synthetic)
    return fig


def _compact(v: float) -> str:
    """At most 4 characters for a cell: 123, 12, 1.2, 0.12."""
    return f"{v:.0f}" if v >= 10 else f"{v:.1f}" if v >= 1 else f"{v:.2f}".lstrip("0")


def _gmi_figure(g: pd.DataFrame, settings, synthetic):
    years = list(g.columns)
    regions_order = list(g.index)
    fig, ax = plt.subplots(figsize=(min(18.0, max(11.0, 0.12 * len(years) * len(regions_order) + 5)), 6.0))
    x = np.arange(len(regions_order))
    w = 0.8 / len(years)
    many = len(years) > 3
    colors = plt.get_cmap("viridis")(np.linspace(0.05, 0.9, len(years))) if many else plt.get_cmap("tab10").colors
    for i, y in enumerate(years):
        vals = g[y].to_numpy()
        bars = ax.bar(x - 0.4 + w * (i + 0.5), vals, w, label=str(y), color=colors[i % len(colors)])
        if many:
            continue  # values in the table; labels of many thin bars would overlap
        for b, v in zip(bars, vals):
            ax.text(
                b.get_x() + b.get_width() / 2,
                v,
                "0.00" if abs(v) < 0.005 else f"{v:.2f}",
                ha="center",
                va="bottom" if v >= 0 else "top",
                fontsize=7.5,
            )
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x, regions_order, rotation=35, ha="right", fontsize=_tick_size(len(regions_order)))
    ax.set_ylabel("GMI, sum over member countries (dimensionless)", fontsize=10)
    lo, hi = ax.get_ylim()
    pad = 0.08 * (hi - lo)
    ax.set_ylim(lo - pad, hi + pad)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(title="year", fontsize=8, ncol=1 if len(years) <= 5 else 2, loc="best")
    ax.set_title(
        f"Global {about(settings.stressor)} inequality index (GMI) by region, {settings.stressor}\n"
        f"> 0: benefits from the global {about(settings.stressor)} trade inequality; < 0: harmed",
        fontsize=11,
    )
    _layout(fig, rect=(0, 0.02, 1, 1))
    _mark(fig, synthetic)
    return fig


def make_all(results, across, settings, regions, out) -> list[tuple[str, str, object]]:
    """Draw and write every figure; returns (name, caption, path) in report order."""
    synthetic = any(r.synthetic for r in results)
    years = [r.year for r in results]
    order = list(regions.groups)
    made = []

    def save(name, caption, fig):
        try:
            made.append((name, caption, out.figure(name, fig)))
        finally:
            plt.close(fig)

    st, va = settings.stressor, settings.value_added
    for s in (st, va):
        unit = results[0].units[s]
        save(
            f"accounts_{s}",
            f"{s}: production- and consumption-based accounts by region (cf. Figs. 2-3).",
            _accounts_figure(across, s, unit, years, synthetic, order),
        )
    for s in (st, va):
        save(
            f"sectors_{s}",
            f"{s} by sector, production and consumption perspectives (cf. Figs. 4-5).",
            _sectors_figure(across, s, years, synthetic, order),
        )
    vmax = max(float(r.bmi.to_numpy().max()) for r in results) or 1.0
    for r in results:
        save(
            f"bmi_{r.year}",
            f"BMI region x region, {r.year} (cf. Figs. 6-7).",
            _bmi_figure(r.bmi, r.year, settings, vmax, synthetic),
        )
    if len(results) >= 2:
        y0, y1 = results[0].year, results[-1].year
        d = across[f"bmi_region_diff_{y0}_{y1}"]
        save(
            f"bmi_diff_{y0}_{y1}",
            f"Change in BMI, {y1} minus {y0} (cf. Fig. 8).",
            _bmi_diff_figure(d, y0, y1, settings, synthetic),
        )
    save("gmi", "GMI by region and year (cf. Fig. 9).", _gmi_figure(across["gmi_region"], settings, synthetic))
    flow_order = order + [g for g in across["flows_region"]["producing region"].unique() if g not in order]
    save(
        f"flows_{st}",
        f"Embodied {st} flows between regions: who emits for whom, each year.",
        _flows_figure(across, st, years, synthetic, flow_order),
    )
    return made
