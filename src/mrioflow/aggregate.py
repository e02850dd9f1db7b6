"""Aggregate (or split) a table's regions and sectors by a concordance, before any computation.

So that EXIOBASE, GLORIA and Eora26 can be compared on one classification, or a large table
shrunk to the regions a study reports. pymrio's ``IOSystem.aggregate`` is the reference
(tests/test_aggregate.py compares the two on pymrio's test system).

>>> import mrioflow as mf
>>> world = mf.datasets.synthetic(2013, n_countries=5)
>>> small = mf.aggregate(world, regions={"CHN": "Asia", "IND": "Asia"}, other="Rest")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import LabelError, OptionError, ReaderError
from .mrio import MRIO

__all__ = ["aggregate", "concordance_matrix", "read_concordance"]

#: Column names a concordance table may use, in the order they are looked for
#: (country_converter's ``agg_conc`` gives "original" and "aggregated").
_FROM = ("original", "from", "source")
_TO = ("aggregated", "to", "target")
_SHARE = ("share", "weight")


def read_concordance(path: str | os.PathLike) -> pd.DataFrame:
    """A concordance CSV as a table of (original, aggregated, share) rows.

    The file has a column of original labels ("original", "from" or "source"), one of new
    labels ("aggregated", "to" or "target") and optionally shares ("share" or "weight", default
    1): an original label may appear on several rows with shares that sum to 1 (one-to-many).
    """
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ReaderError(f"{os.fspath(path)}: cannot read the concordance ({exc})") from None
    return _as_rows(table, where=os.fspath(path))


def _pick(columns, names, where: str, required: bool = True):
    lower = {str(c).strip().lower(): c for c in columns}
    for name in names:
        if name in lower:
            return lower[name]
    if required:
        raise ReaderError(f"{where}: a concordance needs a column named one of {names}; it has {list(columns)}")
    return None


def _as_rows(table: pd.DataFrame, where: str) -> pd.DataFrame:
    src = _pick(table.columns, _FROM, where)
    dst = _pick(table.columns, _TO, where)
    share_col = _pick(table.columns, _SHARE, where, required=False)
    shares = (
        pd.Series(1.0, index=table.index) if share_col is None else pd.to_numeric(table[share_col], errors="coerce")
    )
    bad = shares.isna() | ~np.isfinite(shares) | (shares < 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ReaderError(
            f"{where}: row {i + 2} ({table[src].iloc[i]!r} -> {table[dst].iloc[i]!r}) has share "
            f"{table[share_col].iloc[i]!r}; shares must be numbers >= 0"
        )
    rows = pd.DataFrame(
        {"original": table[src].astype(str).str.strip(), "aggregated": table[dst].astype(str).str.strip()}
    )
    rows["share"] = shares.to_numpy(dtype=float)
    empty = (rows["original"] == "") | (rows["aggregated"] == "")
    if empty.any():
        i = int(np.flatnonzero(empty.to_numpy())[0])
        raise ReaderError(f"{where}: row {i + 2} has an empty label")
    return rows


def _concordance_rows(conc, what: str) -> pd.DataFrame:
    """Any accepted concordance as (original, aggregated, share) rows."""
    if isinstance(conc, str | os.PathLike):
        return read_concordance(conc)
    if isinstance(conc, pd.DataFrame):
        return _as_rows(conc, where=f"the {what} concordance")
    if isinstance(conc, pd.Series):
        conc = conc.to_dict()
    if hasattr(conc, "to_series") and hasattr(conc, "groups"):  # a mrioflow Regions grouping
        conc = conc.to_series().to_dict()
    if isinstance(conc, Mapping):
        rows = []
        for old, new in conc.items():
            if isinstance(new, Mapping):  # one-to-many: {new: share}
                rows += [(str(old), str(n), float(s)) for n, s in new.items()]
            else:
                rows.append((str(old), str(new), 1.0))
        return _as_rows(
            pd.DataFrame(rows, columns=["original", "aggregated", "share"]), where=f"the {what} concordance"
        )
    raise OptionError(
        f"the {what} concordance must be a dict, a pandas Series or DataFrame, a Regions grouping or a CSV path; "
        f"got {type(conc).__name__}"
    )


def concordance_matrix(conc, labels: Sequence[str], what: str, *, other: str | None = None):
    """The aggregation matrix C (new x old) of a concordance over ``labels``, and the new labels.

    C[a, i] is the share of original label i that goes to new label a; every column sums to 1.
    New labels are ordered by their first appearance in the concordance (``other`` last).

    Raises
    ------
    LabelError
        A label of the concordance that the table does not have; a label of the table that the
        concordance leaves out (unless ``other`` names where those go).
    OptionError
        Shares of one original label that do not sum to 1.
    """
    rows = _concordance_rows(conc, what)
    labels = [str(x) for x in labels]
    unknown = sorted(set(rows["original"]) - set(labels))
    if unknown:
        raise LabelError(
            f"the {what} concordance names {len(unknown)} {what}(s) the table does not have: "
            f"{', '.join(unknown[:8])}{' ...' if len(unknown) > 8 else ''}; the table's: {', '.join(labels[:12])}"
            + (" ..." if len(labels) > 12 else "")
        )
    missing = [x for x in labels if x not in set(rows["original"])]
    if missing:
        if other is None:
            raise LabelError(
                f"the {what} concordance leaves out {len(missing)} of the table's {what}s: "
                f"{', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''}; map them, or name a group "
                f"for them (other=...)"
            )
        extra = pd.DataFrame({"original": missing, "aggregated": other, "share": 1.0})
        rows = pd.concat([rows, extra], ignore_index=True)
    new = list(dict.fromkeys(rows["aggregated"]))
    C = np.zeros((len(new), len(labels)))
    col = {x: i for i, x in enumerate(labels)}
    row = {x: a for a, x in enumerate(new)}
    for o, a, s in rows.itertuples(index=False):
        C[row[a], col[o]] += s
    sums = C.sum(axis=0)
    off = np.flatnonzero(np.abs(sums - 1) > 1e-9)
    if off.size:
        i = int(off[0])
        raise OptionError(
            f"the {what} concordance's shares for {labels[i]!r} sum to {sums[i]:.6g}, not 1 "
            f"({off.size} {what}(s) in all)"
        )
    return C, new


def aggregate(
    mrio: MRIO,
    regions=None,
    sectors=None,
    *,
    other: str | None = None,
    region_names: Mapping[str, str] | None = None,
) -> MRIO:
    """The table with its regions and/or sectors aggregated (or split) by concordances.

    Parameters
    ----------
    mrio : MRIO
    regions, sectors : concordance, optional
        Original label -> new label: a dict (``{"CHN": "Asia"}``, or ``{"X": {"A": 0.3, "B": 0.7}}``
        to split X by shares), a pandas Series, a DataFrame or CSV with columns original /
        aggregated [/ share] (country_converter's ``agg_conc`` output works), or a Regions
        grouping (``mf.regions.bri()``). None: keep as they are.
    other : str, optional
        The region that countries left out of ``regions`` go to (default: an error naming them).
    region_names : mapping, optional
        Long names of the new regions (default: the new labels).

    Returns
    -------
    MRIO
        Z' = G Z G^T, Y' = G Y H^T, F' = F G^T, F_Y' = F_Y H^T, with G = C_r (x) C_s over the
        sectors and H = C_r (x) I over the final-demand columns (C the concordance matrices,
        columns summing to 1). Totals are kept: every flow of the table lands in exactly one
        new cell (or is split by the shares).

    Notes
    -----
    Aggregation changes the results of a model (A of an aggregate is a weighted mean of its
    members' columns): it is the table a study of the aggregate classification would use, as
    pymrio's ``aggregate`` builds it.
    """
    R, S, c = mrio.n_countries, mrio.n_sectors, len(mrio.fd_categories)
    Cr, new_regions = (
        (np.eye(R), list(mrio.countries))
        if regions is None
        else concordance_matrix(regions, mrio.countries, "region", other=other)
    )
    Cs, new_sectors = (
        (np.eye(S), list(mrio.sectors)) if sectors is None else concordance_matrix(sectors, mrio.sectors, "sector")
    )
    R2, S2 = len(new_regions), len(new_sectors)

    def rows(a, Cr_, Cs_):  # (R*S, m) -> (R2*S2, m): sum the leading (country, sector) axis
        m = a.shape[-1]
        t = np.tensordot(Cr_, a.reshape(R, S, m), axes=(1, 0))  # (R2, S, m)
        return np.einsum("bs,asm->abm", Cs_, t).reshape(R2 * S2, m)

    def fd_cols(a):  # (..., R*c) -> (..., R2*c)
        m = a.shape[0]
        return np.einsum("ar,mrc->mac", Cr, a.reshape(m, R, c)).reshape(m, R2 * c)

    Z = rows(rows(mrio.Z, Cr, Cs).T, Cr, Cs).T
    Y = fd_cols(rows(mrio.Y, Cr, Cs))
    F = rows(mrio.F.T, Cr, Cs).T
    F_Y = fd_cols(mrio.F_Y)
    # a new region that is one original country under its own code keeps that country's long name
    long = dict(zip(mrio.countries, mrio.country_names))
    names = []
    for a, r in enumerate(new_regions):
        members = [mrio.countries[i] for i in np.flatnonzero(Cr[a])]
        own = long[r] if members == [r] and Cr[a].sum() == 1 else r
        names.append((region_names or {}).get(r, own))
    meta = dict(mrio.meta)
    meta["aggregated"] = f"{R} x {S} -> {R2} x {S2}"
    return MRIO(
        Z=np.ascontiguousarray(Z),
        Y=np.ascontiguousarray(Y),
        F=np.ascontiguousarray(F),
        F_Y=np.ascontiguousarray(F_Y),
        countries=new_regions,
        sectors=new_sectors,
        fd_categories=mrio.fd_categories,
        stressors=mrio.stressors,
        units=mrio.units,
        country_names=names,
        year=mrio.year,
        source=f"{mrio.source}, aggregated to {R2} regions x {S2} sectors",
        meta=meta,
    )
