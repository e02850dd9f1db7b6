"""Made-up GLORIA years in the released layout (for tests, demos and benchmarks).

:func:`write_gloria_like` writes one year as GLORIA releases it (see
:mod:`mrioflow.io.gloria`): ``GLORIA_MRIOs_{version}_{year}`` and
``GLORIA_SatelliteAccounts_0{version}_{year}`` as zips or folders, and
``GLORIA_ReadMe_0{version}.xlsx``, with both price layers (Markup001 and Markup005).
Every number is made up. The table is a balanced supply-use table with a diagonal
supply table (as GLORIA's): sparse technical coefficients A (column sums 0.15-0.6),
final demand f, x from x = A x + f, U = A <x>, supply <U 1 + Y 1>, value added
x - U'1 split over the value-added rows. The rows are written one by one from sparse
arrays, so a full-size year (164 regions x 120 sectors: a 39,360 x 39,360 T) is
written in a few hundred megabytes of memory.
"""

from __future__ import annotations

import zipfile
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["DEFAULT_SATELLITES", "write_gloria_like"]

#: (head, indicator, unit) of the made-up satellite rows; methane is the 'ch4_*' rows of
#: 'Emissions (EDGAR)' only (the 'Emissions (other)' ch4 row is a trap for the reader).
DEFAULT_SATELLITES = (
    ("Emissions (EDGAR)", "co2_excl_short_1A1a_EDGAR_consistent", "Gg"),
    ("Emissions (EDGAR)", "ch4_1A1a_EDGAR_consistent", "Gg"),
    ("Emissions (EDGAR)", "CH4_3A1_EDGAR_consistent", "Gg"),
    ("Emissions (EDGAR)", "ch4_4A_EDGAR_consistent", "Gg"),
    ("Emissions (EDGAR)", "n2o_3D_EDGAR_consistent", "Gg"),
    ("Emissions (EDGAR)", "c2f6_1A5_EDGAR_consistent", "Gg"),
    ("Emissions (other)", "ch4_total_other", "kt"),
    ("Energy", "Coal", "TJ"),
    ("Land use", "Cropland", "1000 ha"),
)
FD_NAMES = (
    "Household final consumption P.3h",
    "Non-profit institutions serving households P.3n",
    "Government final consumption P.3g",
    "Gross fixed capital formation P.51",
    "Changes in inventories P.52",
    "Acquisitions less disposals of valuables P.53",
)
VA_NAMES = (
    "Compensation of employees D.1",
    "Taxes on production D.29",
    "Subsidies on production D.39",
    "Net operating surplus B.2n",
    "Net mixed income B.3n",
    "Consumption of fixed capital K.1",
)
_PREFIX = "20240110_120secMother_AllCountries_002"


def _fmt(values: np.ndarray) -> list[str]:
    return [repr(float(v)) for v in values]


class _Rows:
    """Writes header-less CSV rows of ``ncols`` numbers, mostly zeros, fast."""

    def __init__(self, fh, ncols: int):
        self.fh = fh
        self.ncols = ncols
        self.zeros = b"0," * ncols  # cell j starts at byte 2 j

    def write(self, cols: np.ndarray, vals: np.ndarray) -> None:
        order = np.argsort(cols, kind="stable")
        cols, vals = cols[order], vals[order]
        parts = []
        prev = 0
        for c, s in zip(cols.tolist(), _fmt(vals)):
            parts.append(self.zeros[2 * prev : 2 * c])
            parts.append(s.encode() + b",")
            prev = c + 1
        parts.append(self.zeros[2 * prev :])
        line = b"".join(parts)
        self.fh.write(line[:-1] + b"\n")

    def dense(self, row: np.ndarray) -> None:
        nz = np.flatnonzero(row)
        self.write(nz, row[nz])


def _world(R: int, S: int, seed: int, empty: set[int], density: int, scale: float):
    """A (sparse), Y (sparse n x R*6), x: a balanced made-up economy."""
    rng = np.random.default_rng(seed)
    n = R * S
    live = np.array([i // S not in empty for i in range(n)])
    rows, cols, vals = [], [], []
    live_idx = np.flatnonzero(live)
    for j in live_idx.tolist():
        r = j // S
        k_loc = min(S, density)
        loc = r * S + rng.choice(S, size=k_loc, replace=False)
        far = rng.choice(live_idx, size=min(len(live_idx), max(1, density // 4)), replace=False)
        idx = np.unique(np.concatenate([loc, far]))
        w = rng.random(idx.size) ** 2
        w *= rng.uniform(0.15, 0.6) / w.sum()
        rows.append(idx)
        cols.append(np.full(idx.size, j))
        vals.append(w)
    A = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    nfd = len(FD_NAMES)
    yr, yc, yv = [], [], []
    live_regions = [r for r in range(R) if r not in empty]
    for i in live_idx.tolist():
        r = i // S
        buyers = {r, *rng.choice(live_regions, size=min(3, len(live_regions)), replace=False).tolist()}
        for b in sorted(buyers):
            cats = rng.choice(nfd, size=3, replace=False)
            yr.extend([i] * 3)
            yc.extend((b * nfd + cats).tolist())
            yv.extend((rng.uniform(1, 100, 3) * scale * (1.0 if b == r else 0.2)).tolist())
    yc_a = np.array(yc)
    yv_a = np.array(yv)
    inv = yc_a % nfd == 4  # changes in inventories may be negative
    yv_a[inv] *= rng.choice([-0.1, 1.0], size=int(inv.sum()))
    Y = sp.csr_matrix((yv_a, (np.array(yr), yc_a)), shape=(n, R * nfd))
    f = np.asarray(Y.sum(axis=1)).ravel()
    f = np.maximum(f, 0.0)
    x = f.copy()
    for _ in range(200):
        new = A @ x + f
        if np.max(np.abs(new - x)) <= 1e-15 * np.max(np.abs(new)):
            x = new
            break
        x = new
    return A, Y, x


def write_gloria_like(
    folder,
    year: int = 2022,
    *,
    regions: int = 5,
    sectors: int = 4,
    version: str = "59",
    zipped: bool = True,
    seed: int = 0,
    empty_regions: tuple[int, ...] = (),
    satellites=DEFAULT_SATELLITES,
    density: int = 8,
    codes=None,
    names=None,
    offdiag_supply: int = 0,
    compresslevel: int = 6,
) -> Path:
    """Write a made-up GLORIA year into ``folder`` (created); returns ``folder``.

    Parameters
    ----------
    regions, sectors : int
        R and S (GLORIA: 164 and 120).
    zipped : bool
        The MRIO and satellite parts as zips (as released) or unpacked folders.
    empty_regions : tuple of int
        Regions whose table is all zeros (as DYE in recent GLORIA years).
    density : int
        Non-zero input coefficients per industry in its own region (and a quarter as many abroad).
    codes, names : sequences of str, optional
        Region acronyms and names (default ``R00``, ``R01``, ... ; ``Region 0``, ...).
    offdiag_supply : int
        Industries that also supply another product of their region (a non-diagonal V; the
        table stays balanced: the supply moves within the product outputs' sums).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    R, S = regions, sectors
    n = R * S
    nfd, nva = len(FD_NAMES), len(VA_NAMES)
    codes = list(codes) if codes is not None else [f"R{r:02d}" for r in range(R)]
    names = list(names) if names is not None else [f"Region {r}" for r in range(R)]
    empty = set(empty_regions)
    v3 = f"{int(version):03d}" if str(version).isdigit() else str(version)

    readme = folder / f"GLORIA_ReadMe_{v3}.xlsx"
    sec_names = [f"Sector {s:03d} goods" for s in range(S)]
    with pd.ExcelWriter(readme, engine="openpyxl") as xw:
        pd.DataFrame({"Lfd_Nr": range(1, R + 1), "Region_acronyms": codes, "Region_names": names}).to_excel(
            xw, sheet_name="Regions", index=False
        )
        pd.DataFrame({"Lfd_Nr": range(1, S + 1), "Sector_names": sec_names}).to_excel(
            xw, sheet_name="Sectors", index=False
        )
        pd.DataFrame({"Final_demand_names": FD_NAMES, "Value_added_names": VA_NAMES}).to_excel(
            xw, sheet_name="Value added and final demand", index=False
        )
        pd.DataFrame(
            {
                "Lfd_Nr": range(1, len(satellites) + 1),
                "Sat_head_indicator": [s[0] for s in satellites],
                "Sat_indicator": [s[1] for s in satellites],
                "Sat_unit": [s[2] for s in satellites],
            }
        ).to_excel(xw, sheet_name="Satellites", index=False)

    rng = np.random.default_rng(seed + 1000)
    ind_pos = (np.arange(n) // S) * 2 * S + np.arange(n) % S
    prod_pos = ind_pos + S
    layers = {}
    for markup, s in (("001", seed), ("005", seed + 1)):
        A, Y, x = _world(R, S, s, empty, density, 1.0 if markup == "001" else 1.1)
        U = (A @ sp.diags(x)).tocsr()
        q = np.asarray(U.sum(axis=1)).ravel() + np.asarray(Y.sum(axis=1)).ravel()
        layers[markup] = (U, Y, q)
    U1, _, q1 = layers["001"]
    va_total = q1 - np.asarray(U1.sum(axis=0)).ravel()
    live = np.array([i // S not in empty for i in range(n)])

    def mrio_files(open_member):
        for markup, (U, Y, q) in layers.items():
            # a few industries supply a second product: move part of the supply within the product's sum
            extra = []
            if offdiag_supply:
                cand = np.flatnonzero(live & (np.arange(n) % S < S - 1))[:offdiag_supply]
                for i in cand.tolist():
                    extra.append((i, i + 1, 0.25 * q[i + 1]))
            diag = q.copy()
            off_rows: dict[int, list[tuple[int, float]]] = {}
            for i, j, val in extra:
                diag[j] -= val  # product j: its own industry supplies less, industry i the rest
                off_rows.setdefault(i, []).append((j, val))
            with open_member(f"{_PREFIX}_T-Results_{year}_{v3}_Markup{markup}(full).csv") as fh:
                w = _Rows(fh, 2 * n)
                for r in range(R):
                    for s_ in range(S):  # industry rows: the supply
                        i = r * S + s_
                        cols = [prod_pos[i]] if diag[i] != 0 else []
                        vals = [diag[i]] if diag[i] != 0 else []
                        for j, val in off_rows.get(i, []):
                            cols.append(prod_pos[j])
                            vals.append(val)
                        w.write(np.array(cols, dtype=np.int64), np.array(vals))
                    for s_ in range(S):  # product rows: the use
                        i = r * S + s_
                        row = U.getrow(i)
                        w.write(ind_pos[row.indices], row.data)
            with open_member(f"{_PREFIX}_Y-Results_{year}_{v3}_Markup{markup}(full).csv") as fh:
                w = _Rows(fh, R * nfd)
                for r in range(R):
                    for _ in range(S):  # industry rows of Y: zero
                        w.write(np.zeros(0, dtype=np.int64), np.zeros(0))
                    for s_ in range(S):
                        row = Y.getrow(r * S + s_)
                        w.write(row.indices.astype(np.int64), row.data)
        with open_member(f"{_PREFIX}_V-Results_{year}_{v3}_Markup001(full).csv") as fh:
            w = _Rows(fh, 2 * n)
            shares = rng.dirichlet(np.ones(nva), size=n)  # one split per industry
            for r in range(R):
                block = np.arange(r * S, (r + 1) * S)
                for c in range(nva):
                    vals = va_total[block] * shares[block, c] * live[block]
                    nz = vals != 0
                    w.write(ind_pos[block][nz], vals[nz])

    def sat_files(open_member):
        k = len(satellites)
        with open_member(f"{_PREFIX}_TQ-Results_{year}_{v3}_Markup001(full).csv") as fh:
            w = _Rows(fh, 2 * n)
            for _ in range(k):
                vals = rng.uniform(0, 10, n) * (rng.random(n) < 0.5) * live
                nz = np.flatnonzero(vals)
                w.write(ind_pos[nz], vals[nz])
        with open_member(f"{_PREFIX}_YQ-Results_{year}_{v3}_Markup001(full).csv") as fh:
            w = _Rows(fh, R * nfd)
            for _ in range(k):
                row = np.zeros(R * nfd)
                row[0::nfd] = rng.uniform(0, 5, R) * np.array([r not in empty for r in range(R)])
                w.dense(row)

    for part, writer in (
        (f"GLORIA_MRIOs_{version}_{year}", mrio_files),
        (f"GLORIA_SatelliteAccounts_{v3}_{year}", sat_files),
    ):
        with ExitStack() as stack:
            if zipped:
                zf = stack.enter_context(
                    zipfile.ZipFile(folder / f"{part}.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel)
                )

                def open_member(name, zf=zf):
                    return zf.open(name, "w", force_zip64=True)
            else:
                d = folder / part
                d.mkdir(exist_ok=True)

                def open_member(name, d=d):
                    return open(d / name, "wb")

            writer(open_member)
    return folder
