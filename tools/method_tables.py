"""Regenerate the measured tables of docs/method.md (sections 5 and 11) and print them as Markdown.

    python tools/method_tables.py            # both tables
    python tools/method_tables.py spread     # section 5: the ratio-case BMI spread
    python tools/method_tables.py float32    # section 11: float32 against float64

Both are measured on the synthetic Eora26-sized world (190 countries x 26 sectors) with NumPy on the
CPU, as ``mrioflow run`` computes them. tests/test_method_tables.py regenerates them and checks that
docs/method.md still prints what this script prints.
"""

from __future__ import annotations

import sys

import numpy as np

import mrioflow as mf
from mrioflow.analysis.pipeline import _ratio_case_spread
from mrioflow.analysis.settings import Settings
from mrioflow.kernels import indices as K


def spread_rows(years=(2013, 2021)) -> list[dict]:
    """Section 5: the spread of the ratio-case country-pair BMI, literal and robust normalisation,
    with the defaults of ``mrioflow run`` (printed convention, all countries, signed)."""
    engine, settings, bri = mf.Engine("numpy"), Settings(), mf.regions.bri()
    rows = []
    for year in years:
        res = engine.run(mf.datasets.synthetic(year), sector_flows=False)
        rows += _ratio_case_spread(res, bri, settings, year).to_dict("records")
    return rows


def spread_table(rows: list[dict]) -> str:
    out = [
        "| year | normalisation | ratio-case pairs | at 0 | min | 5 % | median | 95 % | max | std |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        name = "literal min-max (0, 1)" if r["normalisation"].startswith("this run") else "robust (0.05, 0.95)"
        cells = [f"{r[c]:.4g}" if r[c] else "0" for c in ("min", "q05", "median", "q95", "max", "std")]
        out.append(f"| {r['year']} | {name} | {r['pairs']:,} | {r['at 0']:,} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def _rel(a, b, floor=1e-6):
    """(elementwise, normwise) relative difference of a against b (see docs/method.md section 11)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    big = np.abs(b) > floor * np.abs(b).max()
    return float(np.max(np.abs(a - b)[big] / np.abs(b)[big])), float(np.abs(a - b).max() / np.abs(b).max())


def float32_rows(year: int = 2013) -> dict:
    """Section 11: how far float32 results move against float64 on the same world."""
    world = mf.datasets.synthetic(year)
    r64 = mf.Engine("numpy", dtype="float64").run(world, sector_flows=False)
    r32 = mf.Engine("numpy", dtype="float32").run(world, sector_flows=False)
    out: dict = {"E": _rel(r32.E, r64.E)}
    for account in ("pba", "cba", "net"):
        out[account] = [_rel(r32.accounts(s)[account], r64.accounts(s)[account]) for s in ("CH4", "VA")]
    for conv in ("printed", "victim_row"):
        b = [np.asarray(K.calc_bmi(r.E[0], r.E[1], convention=conv), float) for r in (r32, r64)]
        out[f"bmi {conv}"] = float(np.abs(b[0] - b[1]).max())
    g = [np.asarray(K.calc_gmi(r.E[0], r.E[1]), float) for r in (r32, r64)]
    out["gmi"] = float(np.abs(g[0] - g[1]).max())
    out["gmi sign changes"] = int(np.count_nonzero(np.sign(g[0]) != np.sign(g[1])))
    bri = mf.regions.bri()
    br = [mf.indices.bmi(r, "CH4", bri).to_numpy() for r in (r32, r64)]
    gr = [mf.indices.gmi(r, "CH4", bri).to_numpy() for r in (r32, r64)]
    out["bmi region"] = float(np.abs(br[0] - br[1]).max())
    out["bmi region largest"] = float(np.abs(br[1]).max())
    out["gmi region"] = float(np.abs(gr[0] - gr[1]).max())
    return out


def float32_table(m: dict) -> str:
    def pair(name):
        (e1, n1), (e2, n2) = m[name]
        return f"{e1:.1e} / {e2:.1e} | {n1:.1e} / {n2:.1e}"

    return "\n".join(
        [
            "| quantity | elementwise | normwise |",
            "| --- | --- | --- |",
            f"| E (CH4 and VA flows, 190 x 190) | {m['E'][0]:.1e} | {m['E'][1]:.1e} |",
            f"| PBA (CH4 / VA) | {pair('pba')} |",
            f"| CBA (CH4 / VA) | {pair('cba')} |",
            f"| net = PBA - CBA (CH4 / VA) | {pair('net')} |",
            "",
            "| index | largest absolute difference |",
            "| --- | --- |",
            f"| BMI, country pairs (values in [0, 3]), printed / victim_row | "
            f"{m['bmi printed']:.1e} / {m['bmi victim_row']:.1e} |",
            f"| GMI, countries (values in [-3, 3]) | {m['gmi']:.1e} ({m['gmi sign changes']} sign changes) |",
            f"| BMI, 9 x 9 BRI regions (largest cell {m['bmi region largest']:.1f}) | {m['bmi region']:.1e} |",
            f"| GMI, 9 BRI regions | {m['gmi region']:.1e} |",
        ]
    )


def main(argv: list[str]) -> None:
    which = argv or ["spread", "float32"]
    if "spread" in which:
        print("docs/method.md section 5:\n")
        print(spread_table(spread_rows()), end="\n\n")
    if "float32" in which:
        print("docs/method.md section 11:\n")
        print(float32_table(float32_rows()))


if __name__ == "__main__":
    main(sys.argv[1:])
