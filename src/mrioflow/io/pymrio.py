"""Convert between pymrio's IOSystem and mrioflow's MRIO.

pymrio is imported only inside these functions: it is an optional dependency.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import DependencyError, InvalidValueError, LabelError, ShapeError
from ..mrio import MRIO


def import_pymrio():
    """pymrio, or a DependencyError saying how to install it."""
    try:
        import pymrio
    except ImportError:
        raise DependencyError(
            "this needs the optional package pymrio: pip install pymrio (reading pymrio folders does not)"
        ) from None
    return pymrio


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
        Z or Y is missing, or any label does not match: Z's rows and columns
        must be the same complete set of (region, sector) pairs, Y's rows those
        too and its columns every (region, category) pair, each extension's F
        columns Z's, F_Y columns Y's and unit rows F's (the message names the
        labels that do not match).
    InvalidValueError
        A NaN or infinite cell (the message names its row and column labels).
    """
    Z = iosystem.Z
    if Z is None and iosystem.A is not None and iosystem.x is not None:
        Z = iosystem.A * iosystem.x.iloc[:, 0].to_numpy()[None, :]
    exts = [(ext.name, ext.F, ext.F_Y, ext.unit) for ext in iosystem.get_extensions(data=True) if ext.F is not None]
    return from_frames(
        Z, iosystem.Y, exts, extensions=extensions, name=iosystem.name, year=getattr(iosystem, "year", None)
    )


def _pairs(index: pd.Index, what: str) -> list[tuple]:
    if index.nlevels != 2:
        raise LabelError(f"{what} must have two label levels, got {index.nlevels}: {list(index[:3])}")
    return [tuple(str(p) for p in label) for label in index]


def _levels(pairs: list[tuple]) -> tuple[list[str], list[str]]:
    first = list(dict.fromkeys(p[0] for p in pairs))
    second = list(dict.fromkeys(p[1] for p in pairs))
    return first, second


def _match(got: list, want: list, what: str, of: str) -> None:
    """Raise LabelError naming every label of ``got`` not in ``want`` and back (and repeats)."""
    seen, repeats = set(), []
    for label in got:
        if label in seen:
            repeats.append(label)
        seen.add(label)
    wanted = set(want)
    extra = [label for label in got if label not in wanted]
    missing = [label for label in want if label not in seen]
    if not (repeats or extra or missing):
        return
    parts = []
    if extra:
        parts.append(f"{len(extra)} label(s) that are not {of}: {', '.join(map(repr, extra[:5]))}")
    if missing:
        parts.append(f"{len(missing)} of {of} missing: {', '.join(map(repr, missing[:5]))}")
    if repeats:
        parts.append(f"repeated: {', '.join(map(repr, repeats[:5]))}")
    raise LabelError(f"{what} has " + "; ".join(parts))


def _values(frame: pd.DataFrame, rows: list, cols: list, what: str) -> np.ndarray:
    """The frame's numbers in the order (rows, cols) of its (matched) labels; InvalidValueError
    naming the first non-finite cell."""
    at_row = {label: i for i, label in enumerate(_as_index(frame.index))}
    at_col = {label: i for i, label in enumerate(_as_index(frame.columns))}
    try:
        a = frame.to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"{what} must be numeric: {exc}") from None
    a = a[np.ix_([at_row[r] for r in rows], [at_col[c] for c in cols])]
    bad = ~np.isfinite(a)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise InvalidValueError(
            f"{what} has {int(bad.sum())} non-finite value(s) (NaN or inf); first at row {rows[r]!r}, "
            f"column {cols[c]!r}: {a[r, c]}"
        )
    return a


def _as_index(index: pd.Index) -> list:
    return [tuple(str(p) for p in label) if isinstance(label, tuple) else str(label) for label in index]


def from_frames(Z: pd.DataFrame, Y: pd.DataFrame, exts, *, extensions=None, name="", year=None, where=None) -> MRIO:
    """Build an MRIO from pymrio-shaped DataFrames (the core of :func:`from_pymrio`).

    Parameters
    ----------
    Z, Y : pandas.DataFrame
        Labelled (region, sector) x (region, sector) and (region, sector) x
        (region, category).
    exts : sequence of (name, F, F_Y, unit)
        Each extension's frames (F_Y and unit may be None).
    extensions, name, year
        As for :func:`from_pymrio` (name and year of the system).
    where : mapping of str to str, optional
        The file each table came from ("Z", "Y", "EXTENSION/F", "EXTENSION/F_Y",
        "EXTENSION/unit"): errors about a table start with its file.

    Returns
    -------
    MRIO
    """
    where = where or {}

    def at(key: str) -> str:
        return f"{where[key]}: " if key in where else ""

    if Z is None or Y is None:
        raise LabelError("the pymrio system needs Z (or A and x) and Y; call iosystem.calc_system() or load them")
    z, y = at("Z") + "Z", at("Y") + "Y"
    rows = _pairs(Z.index, f"{z}'s rows")
    regions, sectors = _levels(rows)
    idx = [(r, s) for r in regions for s in sectors]
    _match(rows, idx, f"{z}'s rows", "regions x sectors")
    _match(_pairs(Z.columns, f"{z}'s columns"), idx, f"{z}'s columns", "Z's (region, sector) rows")
    y_cols = _pairs(Y.columns, f"{y}'s columns")
    categories = _levels(y_cols)[1]
    fd = [(r, c) for r in regions for c in categories]
    _match(_pairs(Y.index, f"{y}'s rows"), idx, f"{y}'s rows", "Z's (region, sector) rows")
    _match(y_cols, fd, f"{y}'s columns", "regions x final-demand categories")
    Zv = _values(Z, idx, idx, z)
    Yv = _values(Y, idx, fd, y)

    F_rows, FY_rows, names, units, groups = [], [], [], [], []
    wanted = None if extensions is None else set(extensions)
    for ext_name, F, F_Y, unit in exts:
        if wanted is not None and ext_name not in wanted:
            continue
        what = f"extension {ext_name!r}"
        f, fy, u = (f"{at(f'{ext_name}/{key}')}{what}: {key}" for key in ("F", "F_Y", "unit"))
        _match(_pairs(F.columns, f"{f}'s columns"), idx, f"{f}'s columns", "Z's (region, sector) rows")
        labels = list(F.index)
        Fv = _values(F, _as_index(F.index), idx, f)
        if F_Y is not None:
            _match(_pairs(F_Y.columns, f"{fy}'s columns"), fd, f"{fy}'s columns", "Y's columns")
            _match(_as_index(F_Y.index), _as_index(F.index), f"{fy}'s rows", "F's rows")
            FYv = _values(F_Y, _as_index(F.index), fd, fy)
        else:
            FYv = np.zeros((len(labels), len(fd)))
        if unit is not None:
            _match(_as_index(unit.index), _as_index(F.index), f"{u}'s rows", "F's rows")
            unit_by = dict(zip(_as_index(unit.index), unit.iloc[:, 0].fillna("").astype(str)))
            ext_units = [unit_by[label] for label in _as_index(F.index)]
        else:
            ext_units = [""] * len(labels)
        ext_names = [_stressor_name(label) for label in labels]
        names.extend(ext_names)
        units.extend(ext_units)
        F_rows.append(Fv)
        FY_rows.append(FYv)
        groups.append({"name": ext_name, "stressors": ext_names, "index_names": list(F.index.names), "index": labels})
    if wanted is not None and not groups:
        raise LabelError(
            f"none of the extensions {sorted(wanted)} is in the system; it has "
            f"{', '.join(e[0] for e in exts) or 'none'}"
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
        year=year,
        source=f"pymrio system {name!r}",
        meta={"pymrio_extensions": groups},
    )


def _groups(mrio: MRIO) -> list[dict]:
    """The extensions to write: every stressor exactly once.

    The groups of ``meta["pymrio_extensions"]`` keep the stressors the MRIO still has (a group
    that lost some keeps the others; one that lost all is left out); every other stressor goes
    into one more group, "satellite" (or "satellite_2"... when a group of that name exists).
    """
    present = set(mrio.stressors)
    placed: set[str] = set()
    groups = []
    for g in mrio.meta.get("pymrio_extensions") or []:
        try:
            pairs = list(zip(g["stressors"], g["index"], strict=True))
            name, index_names = str(g["name"]), list(g["index_names"])
        except (KeyError, TypeError, ValueError):
            raise ShapeError(
                f"meta['pymrio_extensions'] has a group that is not (name, stressors, index_names, index): {g!r}"
            ) from None
        keep = [(s, label) for s, label in pairs if s in present and s not in placed]
        if keep:
            placed.update(s for s, _ in keep)
            groups.append(
                {
                    "name": name,
                    "stressors": [s for s, _ in keep],
                    "index_names": index_names,
                    "index": [label for _, label in keep],
                }
            )
    rest = [s for s in mrio.stressors if s not in placed]
    if rest:
        names = {g["name"] for g in groups}
        name, i = "satellite", 1
        while name in names:
            i += 1
            name = f"satellite_{i}"
        groups.append({"name": name, "stressors": rest, "index_names": ["stressor"], "index": rest})
    return groups


def to_pymrio(mrio: MRIO, *, name: str | None = None):
    """Build a pymrio IOSystem (Z, Y and extensions) from an MRIO.

    Stressors that came from pymrio go back to their extensions (those the
    MRIO no longer has are left out of them); all others form one extension
    called "satellite" ("satellite_2"... when an extension has that name).
    Every stressor is written exactly once; extensions are stored under
    distinct attribute (folder) names that never hide an IOSystem attribute.

    Raises
    ------
    DependencyError
        pymrio is not installed (the message says how to install it).
    """
    pymrio = import_pymrio()

    idx = pd.MultiIndex.from_product([mrio.countries, mrio.sectors], names=["region", "sector"])
    fd = pd.MultiIndex.from_product([mrio.countries, mrio.fd_categories], names=["region", "category"])
    reserved = {a.lower() for a in dir(pymrio.IOSystem)} | {a.lower() for a in vars(pymrio.IOSystem())}
    extensions = {}
    for g in _groups(mrio):
        rows = [mrio.stressor_position(s) for s in g["stressors"]]
        if len(g["index_names"]) > 1:
            sidx = pd.MultiIndex.from_tuples([tuple(t) for t in g["index"]], names=g["index_names"])
        else:
            sidx = pd.Index(g["index"], name=g["index_names"][0])
        if len(sidx) != len(rows):
            raise ShapeError(f"extension {g['name']!r}: {len(sidx)} labels for {len(rows)} stressors")
        attr = _attr_name(g["name"])
        if attr[0].isdigit():
            attr = "ext_" + attr
        base, i = attr, 1
        while attr in extensions or attr in reserved:  # two groups of one name must not overwrite each other
            i += 1
            attr = f"{base}_{i}"
        extensions[attr] = {
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
