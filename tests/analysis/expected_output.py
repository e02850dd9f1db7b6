"""The output folder's expected contents, written from the issue's list (not from the code)."""

from __future__ import annotations


def expected_files(years, stressor="CH4", va="VA"):
    """Every file docs/method.md section 9 and the issue ask for, per year and across years."""
    y0, y1 = years[0], years[-1]
    per_year = [
        "accounts_country",
        "accounts_region",  # PBA / CBA by country and region
        "sectors_country",
        "sectors_region",  # by sector, both perspectives
        f"flows_region_{stressor}",
        f"flows_region_{va}",  # region x region embodied flows
        "bmi_region",
        "bmi_country",
        "gmi_region",
        "gmi_country",
        "bmi_ratio_case_spread",
    ]
    across = [
        "accounts_country",
        "accounts_region",
        "sectors_country",
        "sectors_region",
        "flows_region",
        "bmi_region",
        "bmi_region_total",
        "gmi_region",
        "gmi_country",
        "bmi_ratio_case_spread",
    ]
    if len(years) > 1:
        across.append(f"bmi_region_diff_{y0}_{y1}")
    names = [f"{n}_{y}" for y in years for n in per_year] + across
    files = {f"tables/{n}.{ext}" for n in names for ext in ("csv", "parquet")}
    figures = [f"accounts_{stressor}", f"accounts_{va}", f"sectors_{stressor}", f"sectors_{va}", "gmi"]
    figures += [f"bmi_{y}" for y in years] + [f"flows_{stressor}"]
    if len(years) > 1:
        figures.append(f"bmi_diff_{y0}_{y1}")
    files |= {f"figures/{f}.png" for f in figures}
    files |= {"report.html", "provenance.json", "mrioflow-output.json"}
    return files


def listing(root):
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
