"""Helpers for the io tests: small Eora26 and EDGAR files in their exact published layouts.

The Eora26 files are written here with plain numpy/Python (not with
mrioflow's writer), so that the reader is checked against an independent
source: a few real Eora26 countries, the real 26 sectors and 6 final-demand
categories, Eora's single RoW row/column, six value-added rows and satellite
rows labelled as Eora labels them: "indicator (unit)<TAB>source category".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mrioflow import data

COUNTRIES = ["AFG", "SUD", "SDS", "CHN"]
NAMES = {"AFG": "Afghanistan", "SUD": "Sudan", "SDS": "South Sudan", "CHN": "China"}
SECTORS = data.eora26_sectors()
CATEGORIES = list(data.EORA26_FD_CATEGORIES)
VA_ITEMS = [
    "Compensation of employees D.1",
    "Taxes on production D.29",
    "Subsidies on production D.39",
    "Net operating surplus B.2n",
    "Net mixed income B.3n",
    "Consumption of fixed capital K.1",
]
# labels_Q.txt as Eora releases it (docs/method.md section 8): indicator with unit, source category; the
# greenhouse-gas rows repeat the same categories for each gas, with "Memo:" items that belong to no
# country, beside other indicator families.
Q_LABELS = [
    ("Energy Usage (TJ)", "Natural Gas"),
    ("I-GHG-CO2 emissions (Gg)", "Public electricity and heat production"),
    ("I-GHG-CO2 emissions (Gg)", "Road transportation"),
    ("I-GHG-CO2 emissions (Gg)", "Memo: International aviation"),
    ("I-GHG-CH4 emissions (Gg)", "Public electricity and heat production"),
    ("I-GHG-CH4 emissions (Gg)", "Enteric fermentation"),
    ("I-GHG-CH4 emissions (Gg)", "Rice cultivation"),
    ("I-GHG-CH4 emissions (Gg)", "Memo: International aviation"),
    ("I-GHG-CH4 emissions (Gg)", "Fugitive emissions from oil and gas"),
    ("I-GHG-CH4 emissions (Gg)", "Memo: International navigation"),
    ("I-GHG-N2O emissions (Gg)", "Agricultural soils"),
    ("I-GHG-N2O emissions (Gg)", "Manure management"),
    ("I-GHG-N2O emissions (Gg)", "Memo: International aviation"),
]
CH4_ROWS = [4, 5, 6, 8]  # "I-GHG-CH4 emissions (Gg)" without the Memo rows (7, 9)
CO2_ROWS = [1, 2]
N2O_ROWS = [10, 11]


@dataclass
class EoraFiles:
    """What was written (arrays in file layout, RoW last) and where."""

    folder: Path
    year: int
    price: str
    T: np.ndarray
    FD: np.ndarray
    VA: np.ndarray
    Q: np.ndarray
    QY: np.ndarray
    countries: list = field(default_factory=lambda: list(COUNTRIES))

    @property
    def n(self) -> int:  # without RoW
        return len(self.countries) * len(SECTORS)

    @property
    def m(self) -> int:
        return len(self.countries) * len(CATEGORIES)


def _fmt(mat: np.ndarray, trailing: bool, eol: str) -> str:
    end = ("\t" if trailing else "") + eol
    return "".join("\t".join(repr(float(v)) for v in row) + end for row in mat)


def make_eora_arrays(seed: int = 0, countries=COUNTRIES):
    """Random Eora26-shaped arrays with RoW as one row/column, zeros and negatives."""
    rng = np.random.default_rng(seed)
    S, c, R = len(SECTORS), len(CATEGORIES), len(countries)
    N, M = R * S + 1, R * c + 1
    T = rng.gamma(0.5, 100.0, (N, N)) * (rng.random((N, N)) < 0.6)
    FD = rng.gamma(0.8, 500.0, (N, M)) * (rng.random((N, M)) < 0.7)
    FD[:, 4 : M - 1 : c] *= np.where(rng.random((N, R)) < 0.4, -0.1, 0.1)  # inventory changes, both signs
    VA = rng.normal(50.0, 30.0, (6, N))  # some items negative (subsidies)
    VA[2] = -np.abs(VA[2])
    Q = rng.gamma(0.7, 3.0, (len(Q_LABELS), N)) * (rng.random((len(Q_LABELS), N)) < 0.8)
    QY = np.zeros((len(Q_LABELS), M))
    QY[:, 0 : M - 1 : c] = rng.gamma(0.7, 2.0, (len(Q_LABELS), R))  # household direct emissions
    QY[:, M - 1] = rng.gamma(0.7, 2.0, len(Q_LABELS))
    return T, FD, VA, Q, QY


def write_eora_files(
    folder: Path,
    year: int = 2013,
    price: str = "bp",
    *,
    seed: int = 0,
    trailing: bool = False,
    eol: str = "\n",
    countries=COUNTRIES,
) -> EoraFiles:
    """Write the nine files of one Eora26 year into ``folder`` (plain text, exact layout)."""
    folder.mkdir(parents=True, exist_ok=True)
    T, FD, VA, Q, QY = make_eora_arrays(seed, countries)
    tab = "\t" if trailing else ""
    lt = [f"{NAMES.get(k, k)}\t{k}\tIndustries\t{s}{tab}{eol}" for k in countries for s in SECTORS]
    lt.append(f"Rest of the World\tROW\tIndustries\tTotal{tab}{eol}")
    lfd = [f"{NAMES.get(k, k)}\t{k}\tFinal Demand\t{cat}{tab}{eol}" for k in countries for cat in CATEGORIES]
    lfd.append(f"Rest of the World\tROW\tFinal Demand\tTotal{tab}{eol}")
    lva = [f"Primary Inputs\t{item}{tab}{eol}" for item in VA_ITEMS]
    lq = [f"{a}\t{b}{tab}{eol}" for a, b in Q_LABELS]
    stem = f"Eora26_{year}_{price}"
    files = {
        f"{stem}_T.txt": _fmt(T, trailing, eol),
        f"{stem}_FD.txt": _fmt(FD, trailing, eol),
        f"{stem}_VA.txt": _fmt(VA, trailing, eol),
        f"{stem}_Q.txt": _fmt(Q, trailing, eol),
        f"{stem}_QY.txt": _fmt(QY, trailing, eol),
        "labels_T.txt": "".join(lt),
        "labels_FD.txt": "".join(lfd),
        "labels_VA.txt": "".join(lva),
        "labels_Q.txt": "".join(lq),
    }
    for name, text in files.items():
        (folder / name).write_bytes(text.encode("utf-8"))
    return EoraFiles(folder, year, price, T, FD, VA, Q, QY, list(countries))


def zip_folder(files: EoraFiles, target: Path) -> Path:
    """Pack the nine files into ``Eora26_{year}_{price}.zip`` (as worldmrio.com ships them)."""
    import zipfile

    target.mkdir(parents=True, exist_ok=True)
    z = target / f"Eora26_{files.year}_{files.price}.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(files.folder.iterdir()):
            zf.write(p, p.name)
    return z
