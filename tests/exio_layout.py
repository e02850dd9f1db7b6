"""Small EXIOBASE 3 years in the released layouts, written with plain Python (not by mrioflow).

The layout is pymrio's (the layout of its tests/mock_mrios/exio3_mock and of the
EXIOBASE 3 zips on Zenodo): tab-separated tables with header rows of column labels
and index columns of row labels, a ``file_parameters.json`` per folder, extensions
in subfolders. Three release layouts:

- ``"3.4"``: A.txt and Y.txt only (x from the Leontief solve), ``satellite/`` and
  ``impacts/`` with ``F_hh.txt`` for final demand, no index-name line in F, and
  (``iso3=True``) the three-letter region names of the 3.4 ixi files (AUT, WWA...);
- ``"3.8"``: A, Z, x, Y; ``satellite/`` and ``impacts/`` with ``F_Y.txt``;
- ``"3.9"``: A, Z, x, Y; one folder per account (``air_emissions/``,
  ``employment/``, ``factor_inputs/``).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REGIONS = ["AT", "CN", "IN", "PL", "RU", "WA", "WM"]
ISO3 = {"AT": "AUT", "CN": "CHN", "IN": "IND", "PL": "POL", "RU": "RUS", "WA": "WWA", "WM": "WWM"}
PRODUCTS = ["Paddy rice", "Cattle", "Crude petroleum", "Electricity by coal", "Landfill of waste"]
INDUSTRIES = [
    "Cultivation of paddy rice",
    "Cattle farming",
    "Extraction of crude petroleum",
    "Production of electricity by coal",
]
CATEGORIES = [
    "Final consumption expenditure by households",
    "Final consumption expenditure by non-profit organisations serving households (NPISH)",
    "Final consumption expenditure by government",
    "Gross fixed capital formation",
    "Changes in inventories",
    "Changes in valuables",
    "Exports: Total (fob)",
]
VA_ROWS = [
    ("Taxes less subsidies on products purchased: Total", "M.EUR"),
    ("Compensation of employees; wages, salaries, & employers' social contributions: Low-skilled", "M.EUR"),
    ("Operating surplus: Consumption of fixed capital", "M.EUR"),
]
AIR_ROWS = [
    ("CO2 - combustion - air", "kg"),
    ("CH4 - combustion - air", "kg"),
    ("CH4 - non combustion - Agriculture - air", "kg"),
    ("CH4 - non combustion - Mining of coal - air", "kg"),
    ("N2O - combustion - air", "kg"),
    ("CH4 - agriculture - soil", "kg"),  # not to air: not methane of the study
]
EMPLOYMENT_ROWS = [("Employment: Low-skilled male", "1000 p"), ("Employment hours: Low-skilled male", "M.hr")]
IMPACT_ROWS = [("GHG emissions (GWP100) | Problem oriented approach: baseline (CML, 2001) | GWP100", "kg CO2 eq")]
CH4_AIR = [1, 2, 3]  # rows of AIR_ROWS that are methane to air


@dataclass
class ExioYear:
    path: Path  # the zip or the folder
    year: int
    Z: np.ndarray
    x: np.ndarray
    Y: np.ndarray
    F: dict  # extension -> (labels, units, F, F_Y)
    regions: list
    sectors: list


def _num(v: float) -> str:
    return repr(float(v))


def _matrix(rows, cols, values, index_names, column_names, *, name_line=True) -> str:
    """pandas' to_csv(sep='\\t') of a frame with MultiIndex rows and columns."""
    ni = len(index_names)
    lines = []
    for level, cname in enumerate(column_names):
        lines.append("\t".join([cname] + [""] * (ni - 1) + [c[level] for c in cols]))
    if name_line and ni > 1:
        lines.append("\t".join(index_names + [""] * len(cols)))
    for r, vals in zip(rows, values):
        lines.append("\t".join(list(r) + [_num(v) for v in vals]))
    return "\n".join(lines) + "\n"


def _ext_matrix(labels, cols, values, column_names, *, name_line) -> str:
    lines = ["\t".join([cname] + [c[level] for c in cols]) for level, cname in enumerate(column_names)]
    if name_line:
        lines.append("\t".join(["stressor"] + [""] * len(cols)))
    for lab, vals in zip(labels, values):
        lines.append("\t".join([lab] + [_num(v) for v in vals]))
    return "\n".join(lines) + "\n"


def _params(files: dict, systemtype: str, name: str) -> str:
    return json.dumps(
        {
            "files": {
                k: {"name": fn, "nr_index_col": str(ni), "nr_header": str(nh)} for k, (fn, ni, nh) in files.items()
            },
            "systemtype": systemtype,
            "name": name,
        },
        indent=4,
    )


def make_world(seed: int, regions=REGIONS, sectors=PRODUCTS):
    rng = np.random.default_rng(seed)
    n = len(regions) * len(sectors)
    A = rng.uniform(0, 1, (n, n)) * (rng.uniform(size=(n, n)) < 0.6)
    A *= 0.55 / A.sum(axis=0).max()
    Y = rng.uniform(0, 50, (n, len(regions) * len(CATEGORIES)))
    Y[:, 4 :: len(CATEGORIES)] -= 10  # changes in inventories may be negative
    x = np.linalg.solve(np.eye(n) - A, Y.sum(axis=1))
    assert (x > 0).all()
    return A, Y, x


def write_year(
    folder: Path,
    year: int = 2019,
    *,
    system: str = "pxp",
    layout: str = "3.8",
    zipped: bool = False,
    iso3: bool = False,
    seed: int = 0,
    regions=REGIONS,
    sectors=None,
) -> ExioYear:
    """Write ``IOT_{year}_{system}`` (a folder, or a zip holding that folder) into ``folder``."""
    sectors = sectors or (PRODUCTS if system == "pxp" else INDUSTRIES)
    A, Y, x = make_world(seed + year, regions, sectors)
    Z = A * x[None, :]
    rng = np.random.default_rng(seed + 7 * year)
    names = [ISO3[r] for r in regions] if iso3 else list(regions)
    idx = [(r, s) for r in names for s in sectors]
    fd = [(r, c) for r in names for c in CATEGORIES]
    n, m = len(idx), len(fd)
    files: dict[str, str] = {}
    core = {"A": ("A.txt", 2, 2), "Y": ("Y.txt", 2, 2), "unit": ("unit.txt", 2, 1)}
    files["A.txt"] = _matrix(idx, idx, A, ["region", "sector"], ["region", "sector"])
    files["Y.txt"] = _matrix(idx, fd, Y, ["region", "sector"], ["region", "category"])
    files["unit.txt"] = "region\tsector\tunit\n" + "".join(f"{r}\t{s}\tM.EUR\n" for r, s in idx)
    if layout != "3.4":
        core["Z"] = ("Z.txt", 2, 2)
        core["x"] = ("x.txt", 2, 1)
        files["Z.txt"] = _matrix(idx, idx, Z, ["region", "sector"], ["region", "sector"])
        files["x.txt"] = "region\tsector\tindout\n" + "".join(f"{r}\t{s}\t{_num(v)}\n" for (r, s), v in zip(idx, x))
    files["file_parameters.json"] = _params(core, "IOSystem", "IO")
    files["metadata.json"] = json.dumps(
        {"description": "test table", "name": "IO", "system": system, "version": layout, "history": []}
    )

    def extension(folder_name, rows, hh: bool):
        labels = [r for r, _ in rows]
        units = [u for _, u in rows]
        F = rng.uniform(0, 100, (len(rows), n))
        FY = np.zeros((len(rows), m))
        FY[:, 0::7] = rng.uniform(0, 30, (len(rows), len(regions)))  # households emit directly
        fy_name = "F_hh" if hh else "F_Y"
        name_line = layout != "3.4"
        files[f"{folder_name}/F.txt"] = _ext_matrix(labels, idx, F, ["region", "sector"], name_line=name_line)
        files[f"{folder_name}/{fy_name}.txt"] = _ext_matrix(labels, fd, FY, ["region", "category"], name_line=name_line)
        files[f"{folder_name}/unit.txt"] = "stressor\tunit\n" + "".join(f"{lab}\t{u}\n" for lab, u in rows)
        files[f"{folder_name}/file_parameters.json"] = _params(
            {"F": ("F.txt", 1, 2), fy_name: (f"{fy_name}.txt", 1, 2), "unit": ("unit.txt", 1, 1)},
            "Extension",
            folder_name,
        )
        files[f"{folder_name}/metadata.json"] = json.dumps(
            {"description": folder_name, "name": folder_name, "system": system, "version": layout, "history": []}
        )
        return labels, units, F, FY

    exts = {}
    if layout == "3.9":
        exts["air_emissions"] = extension("air_emissions", AIR_ROWS, False)
        exts["employment"] = extension("employment", EMPLOYMENT_ROWS, False)
        exts["factor_inputs"] = extension("factor_inputs", VA_ROWS, False)
    else:
        exts["satellite"] = extension("satellite", VA_ROWS + AIR_ROWS + EMPLOYMENT_ROWS, layout == "3.4")
        exts["impacts"] = extension("impacts", IMPACT_ROWS, layout == "3.4")
    name = f"IOT_{year}_{system}"
    folder.mkdir(parents=True, exist_ok=True)
    if zipped:
        path = folder / f"{name}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for rel, text in files.items():
                zf.writestr(f"{name}/{rel}", text)
    else:
        path = folder / name
        for rel, text in files.items():
            (path / rel).parent.mkdir(parents=True, exist_ok=True)
            (path / rel).write_text(text)
    return ExioYear(path, year, Z, x, Y, exts, list(regions), list(sectors))
