"""Convert between pymrio's IOSystem and mrioflow's MRIO.

pymrio is imported only inside these functions: it is an optional dependency.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import LabelError, ShapeError
from ..mrio import MRIO


def _stressor_name(label) -> str:
    if isinstance(label, tuple):
        return " - ".join(str(p) for p in label)
    return str(label)


def _attr_name(name: str) -> str:
    return re.sub(r"\W+", "_", name.strip()).strip("_").lower() or "satellite"


def from_pymrio(iosystem, *, extensions=None) -> MRIO:
    """Build an MRIO from a pymrio IOSystem.

    Parameters
    ----------
    iosystem : pymrio.IOSystem
        Needs Z (or A and x) and Y; every extension's F (and F_Y, when present)
        becomes stressors, named after the extension's row labels (multi-level
        labels joined with " - ", e.g. "emission_type1 - air").
    extensions : sequence of str, optional
        Names of the extensions to take (default: all).

    Returns
    -------
    MRIO
        ``meta["pymrio_extensions"]`` remembers which stressor came from which
        extension, so that :func:`to_pymrio` restores them.

    Raises
    ------
    LabelError
        When Z or Y are missing, or an extension's columns do not match Z.
    """
    regions = list(iosystem.get_regions())
    sectors = list(iosystem.get_sectors())
    categories = list(iosystem.get_Y_categories())
    idx = pd.MultiIndex.from_product([regions, sectors])
    fd = pd.MultiIndex.from_product([regions, categories])
    Z = iosystem.Z
    if Z is None and iosystem.A is not None and iosystem.x is not None:
        Z = iosystem.A * iosystem.x.iloc[:, 0].to_numpy()[None, :]
    if Z is None or iosystem.Y is None:
        raise LabelError("the pymrio system needs Z (or A and x) and Y; call iosystem.calc_system() or load them")
    extra = set(map(tuple, iosystem.Y.columns)) - set(fd)
    if extra:
        raise LabelError(f"Y has final-demand columns outside the table's regions: {sorted(extra)[:5]}")
    Zv = Z.reindex(index=idx, columns=idx).to_numpy(dtype=float)
    Yv = iosystem.Y.reindex(index=idx, columns=fd, fill_value=0.0).to_numpy(dtype=float)
    if np.isnan(Zv).any():
        raise LabelError("Z's (region, sector) labels do not cover every region x sector pair")

    F_rows, FY_rows, names, units, groups = [], [], [], [], []
    exts = list(iosystem.get_extensions(data=True))
    wanted = None if extensions is None else set(extensions)
    for ext in exts:
        if wanted is not None and ext.name not in wanted:
            continue
        if ext.F is None:
            continue
        F = ext.F.reindex(columns=idx)
        if F.isna().to_numpy().any():
            raise LabelError(f"extension {ext.name!r}: F's columns do not match Z's (region, sector) labels")
        FY = (
            ext.F_Y.reindex(columns=fd, fill_value=0.0)
            if ext.F_Y is not None
            else pd.DataFrame(0.0, index=F.index, columns=fd)
        )
        if ext.unit is not None:
            unit = ext.unit.reindex(F.index).iloc[:, 0].fillna("").astype(str).tolist()
        else:
            unit = [""] * len(F)
        ext_names = [_stressor_name(label) for label in F.index]
        names.extend(ext_names)
        units.extend(unit)
        F_rows.append(F.to_numpy(dtype=float))
        FY_rows.append(FY.to_numpy(dtype=float))
        groups.append(
            {"name": ext.name, "stressors": ext_names, "index_names": list(F.index.names), "index": list(F.index)}
        )
    if wanted is not None and not groups:
        raise LabelError(
            f"none of the extensions {sorted(wanted)} is in the system; it has "
            f"{', '.join(e.name for e in exts)}"
        )
    k = len(names)
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise LabelError(f"stressor names repeat across extensions: {sorted(dupes)}")
    return MRIO(
        Z=Zv,
        Y=Yv,
        F=np.vstack(F_rows) if k else np.zeros((0, len(idx))),
        F_Y=np.vstack(FY_rows) if k else np.zeros((0, len(fd))),
        countries=regions,
        sectors=sectors,
        fd_categories=categories,
        stressors=names,
        units=units,
        year=getattr(iosystem, "year", None),
        source=f"pymrio system {iosystem.name!r}",
        meta={"pymrio_extensions": groups},
    )


def to_pymrio(mrio: MRIO, *, name: str | None = None):
    """Build a pymrio IOSystem (Z, Y and extensions) from an MRIO.

    Stressors that came from pymrio go back to their extensions; others form
    one extension called "satellite".
    """
    import pymrio

    idx = pd.MultiIndex.from_product([mrio.countries, mrio.sectors], names=["region", "sector"])
    fd = pd.MultiIndex.from_product([mrio.countries, mrio.fd_categories], names=["region", "category"])
    groups = mrio.meta.get("pymrio_extensions") or [
        {"name": "satellite", "stressors": list(mrio.stressors), "index_names": ["stressor"],
         "index": list(mrio.stressors)}
    ]
    covered = [s for g in groups for s in g["stressors"]]
    if sorted(covered) != sorted(mrio.stressors):
        missing = [s for s in mrio.stressors if s not in covered]
        groups = [g for g in groups if all(s in mrio.stressors for s in g["stressors"])]
        groups.append({"name": "satellite", "stressors": missing, "index_names": ["stressor"], "index": missing})
    extensions = {}
    for g in groups:
        rows = [mrio.stressor_position(s) for s in g["stressors"]]
        if len(g["index_names"]) > 1:
            sidx = pd.MultiIndex.from_tuples([tuple(t) for t in g["index"]], names=g["index_names"])
        else:
            sidx = pd.Index(g["index"], name=g["index_names"][0])
        if len(sidx) != len(rows):
            raise ShapeError(f"extension {g['name']!r}: {len(sidx)} labels for {len(rows)} stressors")
        extensions[_attr_name(g["name"])] = {
            "name": g["name"],
            "F": pd.DataFrame(mrio.F[rows], index=sidx, columns=idx),
            "F_Y": pd.DataFrame(mrio.F_Y[rows], index=sidx, columns=fd),
            "unit": pd.DataFrame({"unit": [mrio.units[i] for i in rows]}, index=sidx),
        }
    return pymrio.IOSystem(
        Z=pd.DataFrame(mrio.Z, index=idx, columns=idx),
        Y=pd.DataFrame(mrio.Y, index=idx, columns=fd),
        name=name or mrio.source,
        year=mrio.year,
        **extensions,
    )
