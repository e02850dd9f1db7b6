"""Figures of the analysis (METHOD.md section 9), drawn with matplotlib's Agg backend.

matplotlib is imported here only (never by ``import mrioflow``). Each figure
equivalent of the study:

- Figs. 2-3: PBA vs CBA by region, for the stressor and for value added;
- Figs. 4-5: sector structure by region, production and consumption perspectives;
- Figs. 6-7: the region x region BMI heat map of each year, values in the cells;
- Fig. 8: the difference between the last and the first year's BMI;
- Fig. 9: GMI by region for each year.

Figures made from the synthetic world carry a "SYNTHETIC DATA - not real"
watermark and footer.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

__all__ = ["SYNTHETIC_MARK", "make_all"]

SYNTHETIC_MARK = "SYNTHETIC DATA \u2014 not real"
TOP_SECTORS = 8


def _mark(fig, synthetic: bool) -> None:
    if not synthetic:
        return
    fig.text(0.5, 0.5, SYNTHETIC_MARK, ha="center", va="center", rotation=25, fontsize=36,
             color="red", alpha=0.16, fontweight="bold", zorder=100)
    fig.text(0.995, 0.005, SYNTHETIC_MARK + " (mrioflow synthetic world)", ha="right", va="bottom",
             fontsize=9, color="red", fontweight="bold")


def _scale(unit: str, values) -> tuple[float, str]:
    """A display factor and unit label for readable axes."""
    vmax = float(np.nanmax(np.abs(values))) if np.size(values) else 0.0
    if unit == "kUSD":
        return 1e-6, "billion USD"
    if unit in ("Gg", "kt") and vmax >= 1e4:
        return 1e-3, "Tg" if unit == "Gg" else "Mt"
    return 1.0, unit


def _accounts_figure(across, stressor, unit, years, synthetic, regions_order):
    acc = across["accounts_region"]
    acc = acc[(acc["stressor"] == stressor) & (acc["region"].isin(regions_order))]
    factor, label = _scale(unit, acc[["pba", "cba"]].to_numpy())
    fig, axes = plt.subplots(1, len(years), figsize=(6.2 * len(years) + 1, 5.2), sharey=True, squeeze=False)
    x = np.arange(len(regions_order))
    for ax, y in zip(axes[0], years):
        d = acc[acc["year"] == y].set_index("region").reindex(regions_order)
        ax.bar(x - 0.2, d["pba"] * factor, 0.4, label="production-based (PBA)", color="#1f77b4")
        ax.bar(x + 0.2, d["cba"] * factor, 0.4, label="consumption-based (CBA)", color="#ff7f0e")
        ax.set_xticks(x, regions_order, rotation=35, ha="right", fontsize=9)
        ax.set_title(str(y), fontsize=11)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel(f"{stressor} ({label})")
    axes[0][0].legend(fontsize=9, loc="upper right")
    fig.suptitle(f"{stressor}: production- vs consumption-based accounts by region", fontsize=12)
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    _mark(fig, synthetic)
    return fig


def _sectors_figure(across, stressor, years, synthetic, regions_order):
    sec = across["sectors_region"]
    sec = sec[sec["stressor"] == stressor]
    totals = sec.groupby("sector")["value"].sum().abs().sort_values(ascending=False)
    top = list(totals.index[:TOP_SECTORS])
    other = "Other sectors"
    sec = sec.assign(sector=sec["sector"].where(sec["sector"].isin(top), other))
    keys = top + ([other] if (sec["sector"] == other).any() else [])
    colors = list(plt.get_cmap("tab10").colors[: len(top)]) + ["#bbbbbb"]
    fig, axes = plt.subplots(2, len(years), figsize=(6.5 * len(years) + 1, 8.8), sharey=True, squeeze=False)
    for i, persp in enumerate(("production", "consumption")):
        for j, y in enumerate(years):
            ax = axes[i][j]
            d = sec[(sec["perspective"] == persp) & (sec["year"] == y)]
            pivot = d.pivot_table(index="region", columns="sector", values="value", aggfunc="sum")
            pivot = pivot.reindex(index=regions_order, columns=keys).fillna(0.0)
            total = pivot.sum(axis=1).replace(0.0, np.nan)
            share = pivot.div(total, axis=0).fillna(0.0) * 100
            left = np.zeros(len(regions_order))
            ypos = np.arange(len(regions_order))
            for k, sector in enumerate(keys):
                ax.barh(ypos, share[sector], left=left, color=colors[k], label=sector, height=0.7)
                left += share[sector].to_numpy()
            ax.set_yticks(ypos, regions_order, fontsize=9)
            ax.set_ylim(len(regions_order) - 0.5, -0.5)  # first region on top
            ax.set_xlim(0, 100)
            ax.set_xlabel(f"share of the region's {stressor} (%)", fontsize=9)
            ax.set_title(f"{y}, {persp} perspective", fontsize=11)
            ax.grid(axis="x", alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.03), ncol=3, fontsize=9, frameon=False)
    fig.suptitle(
        f"{stressor} by sector: production perspective (the sector where it arises) and "
        "consumption perspective (the sector of the product final demand buys)",
        fontsize=12,
    )
    fig.tight_layout(rect=(0, 0.13, 1, 0.97))
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
            ax.text(s, r, text, ha="center", va="center", fontsize=8.5,
                    color="white" if dark else "black")
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
        f"Bilateral methane inequality index (BMI), {settings.stressor}, {year}\n"
        f"convention={settings.convention}, norm_set={settings.norm_set}, norm_sign={settings.norm_sign}",
        fontsize=11,
    )
    fig.tight_layout(rect=(0, 0.02, 1, 1))
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
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    _mark(fig, synthetic)
    return fig


def _gmi_figure(g: pd.DataFrame, settings, synthetic):
    years = list(g.columns)
    regions_order = list(g.index)
    fig, ax = plt.subplots(figsize=(11, 5.8))
    x = np.arange(len(regions_order))
    w = 0.8 / len(years)
    colors = plt.get_cmap("tab10").colors
    for i, y in enumerate(years):
        vals = g[y].to_numpy()
        bars = ax.bar(x - 0.4 + w * (i + 0.5), vals, w, label=str(y), color=colors[i % 10])
        for b, v in zip(bars, vals):
            ax.text(b.get_x() + b.get_width() / 2, v, "0.00" if abs(v) < 0.005 else f"{v:.2f}", ha="center",
                    va="bottom" if v >= 0 else "top", fontsize=7.5)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x, regions_order, rotation=35, ha="right", fontsize=9)
    ax.set_ylabel("GMI, sum over member countries (dimensionless)", fontsize=10)
    lo, hi = ax.get_ylim()
    pad = 0.08 * (hi - lo)
    ax.set_ylim(lo - pad, hi + pad)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(title="year", fontsize=9)
    ax.set_title(
        f"Global methane inequality index (GMI) by region, {settings.stressor}\n"
        "> 0: benefits from the global methane trade inequality; < 0: harmed", fontsize=11,
    )
    fig.tight_layout(rect=(0, 0.02, 1, 1))
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
        save(f"accounts_{s}", f"{s}: production- and consumption-based accounts by region (cf. Figs. 2-3).",
             _accounts_figure(across, s, unit, years, synthetic, order))
    for s in (st, va):
        save(f"sectors_{s}", f"{s} by sector, production and consumption perspectives (cf. Figs. 4-5).",
             _sectors_figure(across, s, years, synthetic, order))
    vmax = max(float(r.bmi.to_numpy().max()) for r in results) or 1.0
    for r in results:
        save(f"bmi_{r.year}", f"BMI region x region, {r.year} (cf. Figs. 6-7).",
             _bmi_figure(r.bmi, r.year, settings, vmax, synthetic))
    if len(results) >= 2:
        y0, y1 = results[0].year, results[-1].year
        d = across[f"bmi_region_diff_{y0}_{y1}"]
        save(f"bmi_diff_{y0}_{y1}", f"Change in BMI, {y1} minus {y0} (cf. Fig. 8).",
             _bmi_diff_figure(d, y0, y1, settings, synthetic))
    save("gmi", "GMI by region and year (cf. Fig. 9).", _gmi_figure(across["gmi_region"], settings, synthetic))
    return made
