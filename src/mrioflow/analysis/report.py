"""The self-contained HTML report: figures embedded as base64 PNG, key tables, provenance."""

from __future__ import annotations

import base64
import html
import json

import pandas as pd

from .figures import SYNTHETIC_MARK, about

__all__ = ["render"]

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto;
       max-width: 1150px; padding: 0 1.2em 3em; color: #222; line-height: 1.45; }
h1 { margin-top: 1.2em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 1.8em; }
table { border-collapse: collapse; font-size: 0.85em; margin: .6em 0 1.2em; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
figure { margin: 1em 0 2em; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: .9em; color: #555; }
.synthetic { position: sticky; top: 0; background: #c00; color: #fff; font-weight: bold; text-align: center;
             padding: .5em; font-size: 1.1em; letter-spacing: .05em; z-index: 10; }
.note { background: #fff7e0; border-left: 4px solid #e0a800; padding: .5em .9em; }
code { background: #f4f4f4; padding: 0 .25em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .15em 1em; } dt { font-weight: bold; }
"""


def _e(value) -> str:
    """Every value reaching the page goes through here (labels, units, sources, settings)."""
    return html.escape(str(value), quote=True)


def _table(df: pd.DataFrame, digits: int = 3) -> str:
    return df.to_html(float_format=lambda v: f"{v:,.{digits}f}", border=0, na_rep="", escape=True)


def _img(path) -> str:
    with open(path, "rb") as fh:
        data = base64.b64encode(fh.read()).decode("ascii")
    return f'<img alt="{_e(path.name)}" src="data:image/png;base64,{data}">'


def _dl(items: dict) -> str:
    rows = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items.items())
    return f"<dl>{rows}</dl>"


def _inputs(inputs: list[dict]) -> str:
    if not inputs:
        return "<p>No input files: the data are generated (the synthetic world).</p>"
    rows = []
    for rec in inputs:
        members = ", ".join(f"{m['name']} ({m['size']:,} B)" for m in rec.get("members", []))
        rows.append(
            {
                "role": rec["role"],
                "as given": rec["given"],
                "file": rec["path"] + (f" [{members}]" if members else ""),
                "years": ", ".join(map(str, rec.get("years", []))),
                "bytes": f"{rec['size']:,}",
                "SHA-256": rec["sha256"],
            }
        )
    return _table(pd.DataFrame(rows).set_index("role"))


def provenance_html(provenance: dict, extra: dict | None = None) -> str:
    """The provenance section shared by the reports of run, mc and sweep (every value escaped)."""
    commit = provenance.get("source commit")
    items = {
        "command line": provenance.get("command line") or "(called from Python; see the settings below)",
        "mrioflow version": provenance["mrioflow version"],
        "source commit": (
            f"{commit['commit']}{' (with uncommitted changes)' if commit['dirty'] else ''}"
            if commit
            else "not a git checkout"
        ),
        **(extra or {}),
        "EDGAR methane": "yes" if provenance["edgar used"] else "no",
        "custom EDGAR mapping": "yes" if provenance["custom edgar mapping"] else "no",
        "custom grouping": "yes" if provenance["custom grouping"] else "no",
        "platform": provenance["platform"],
        "created": provenance["created"],
    }
    return (
        "<h2>Provenance</h2>"
        + _dl(items)
        + "<h3>Input files</h3>"
        + _inputs(provenance["inputs"])
        + "<h3>Settings</h3>"
        + _dl({k: v for k, v in provenance["settings"].items() if v not in (None, [], ())})
    )


def render_study(title: str, provenance: dict, figures, *, synthetic: bool) -> str:
    """The report of ``mrioflow mc`` or ``sweep``: its figures and its provenance."""
    banner = f'<div class="synthetic">{_e(SYNTHETIC_MARK)}: every number on this page is made up</div>'
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title>",
        f"<style>{CSS}</style></head><body>",
        banner if synthetic else "",
        f"<h1>{_e(title)}</h1>",
        "<p>Every table is under <code>tables/</code> (CSV and Parquet); the method is described in "
        "<code>docs/method.md</code> of the mrioflow repository (section 10).</p>",
    ]
    for caption, path in figures:
        parts.append(
            f"<figure>{_img(path)}<figcaption>{_e(caption)} File: <code>figures/{_e(path.name)}</code>"
            "</figcaption></figure>"
        )
    parts += [
        provenance_html(provenance),
        "<h3>Package versions</h3>" + _dl(provenance["versions"]),
        banner if synthetic else "",
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p)


def render(results, across, settings, regions, provenance: dict, figures) -> str:
    """The report as one HTML string (no external files); every string is escaped."""
    synthetic = provenance["synthetic"]
    years = [int(r.year) for r in results]
    year_list = ", ".join(map(str, years))
    st, va = settings.stressor, settings.value_added
    banner = f'<div class="synthetic">{_e(SYNTHETIC_MARK)}: every number on this page is made up</div>'
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>mrioflow: {_e(about(st))} inequality {year_list}</title>",
        f"<style>{CSS}</style></head><body>",
    ]
    if synthetic:
        parts.append(banner)
    what = about(st)
    parts.append(
        f"<h1>{_e(what[:1].upper() + what[1:])} inequality along the Belt and Road: {_e(st)}, {year_list}</h1>"
    )
    if synthetic:
        parts.append(
            '<p class="note">These results come from the <b>mrioflow synthetic world</b>: real country and '
            "sector labels with made-up numbers, for demonstration and testing. Run <code>mrioflow run "
            "--eora26 FOLDER</code> for a real analysis.</p>"
        )
    parts.append(
        f"<p>Grouping: {_e(provenance['grouping'])}. Index options: "
        + ", ".join(f"<code>{_e(k)}={_e(v)}</code>" for k, v in provenance["options"].items())
        + ". BMI cells are sums over ordered country pairs (row region first); a region's overall bilateral "
        "index is its row sum. GMI of a region is the sum over its member countries. Every formula and "
        "option, the study it comes from and the open questions of its conventions are in "
        "<code>docs/method.md</code> of the mrioflow repository (sections 4-7).</p>"
    )

    parts.append("<h2>Figures</h2>")
    for _name, caption, path in figures:
        parts.append(
            f"<figure>{_img(path)}<figcaption>{_e(caption)}"
            f" File: <code>figures/{_e(path.name)}</code></figcaption></figure>"
        )

    parts.append("<h2>Key tables</h2>")
    gmi = across["gmi_region"].copy()
    if regions.group_names_zh:
        gmi.insert(0, "中文", [regions.group_names_zh.get(g, "") for g in gmi.index])
    parts.append("<h3>GMI by region (dimensionless)</h3>" + _table(gmi))
    parts.append(
        "<h3>Overall bilateral index by region (BMI row sums, dimensionless)</h3>" + _table(across["bmi_region_total"])
    )
    for r in results:
        parts.append(f"<h3>BMI region x region, {int(r.year)} (dimensionless)</h3>" + _table(r.bmi, 2))
    diff_names = [k for k in across if k.startswith("bmi_region_diff_")]
    for k in diff_names:
        parts.append(
            f"<h3>BMI difference ({_e(k[len('bmi_region_diff_') :].replace('_', ' to '))})</h3>" + _table(across[k], 2)
        )
    spread = across.get("bmi_ratio_case_spread")
    if spread is not None:
        parts.append(
            "<h3>Spread of the ratio-case BMI (country pairs)</h3><p>Min-max normalisation is sensitive to "
            "outliers: a few pairs with a tiny |Vbar| can squeeze every other ratio-case BMI into a narrow "
            "band. The rows compare the normalisation of this run with the robust one at the 5 % and 95 % "
            "quantiles (<code>--norm-quantiles 0.05 0.95</code>).</p>"
            + _table(spread.set_index(["year", "normalisation"]), 3)
        )
    acc = across["accounts_region"]
    for r in results:
        d = acc[acc["year"] == r.year]
        wide = d.pivot_table(index="region", columns="stressor", values=["pba", "cba", "net"], sort=False)
        wide = wide.reindex(columns=[(a, s) for s in (st, va) for a in ("pba", "cba", "net")])
        wide.columns = [f"{s} {a} ({r.units[s]})" for a, s in wide.columns]
        order = [g for g in d["region"].drop_duplicates()]
        parts.append(f"<h3>Accounts by region, {int(r.year)}</h3>" + _table(wide.reindex(order), 1))

    parts.append(
        "<h2>Output folder</h2><p>Every table is written as CSV and Parquet under "
        "<code>tables/</code>, per year (<code>*_{year}</code>) and across years; the figures are "
        "under <code>figures/</code>; <code>provenance.json</code> holds what this section shows.</p>"
    )

    parts.append(
        provenance_html(
            provenance,
            {
                "data": provenance["data"],
                "data source": provenance["data source"],
                "years": year_list,
                "grouping": provenance["grouping"],
                "backend": provenance["backend"],
                "backend choice": provenance["backend choice"],
            },
        )
    )
    parts.append("<h3>Sources by year</h3>" + _dl(provenance["sources by year"]))
    parts.append("<h3>Package versions</h3>" + _dl(provenance["versions"]))
    timing_rows = {f"{k}": f"{v:.2f} s" for k, v in provenance["timings"]["run"].items()}
    for y, t in provenance["timings"]["per year"].items():
        for k, v in t.items():
            timing_rows[f"{y}: {k}"] = f"{v:.3f} s"
    parts.append("<h3>Timings</h3>" + _dl(timing_rows))
    meta = provenance.get("table meta") or {}
    if any(meta.values()):
        parts.append("<h3>Table metadata</h3><pre>" + _e(json.dumps(meta, indent=1, default=str)) + "</pre>")
    if synthetic:
        parts.append(banner)
    parts.append("</body></html>")
    return "\n".join(parts)
