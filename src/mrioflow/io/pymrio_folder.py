"""Read and write pymrio's folder format (``IOSystem.save_all`` / ``pymrio.load_all``).

Reading is native (pymrio is not needed) and never unpickles: the tables are
read from pymrio's text formats (``.txt``, ``.tsv``, ``.csv``: tab-separated)
or Parquet; a folder holding pickled tables (``.pkl``, ``.pickle``) is refused,
since unpickling a file can run any code.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import MissingDataError, OptionError, ReaderError
from ..mrio import MRIO
from .pymrio import from_frames, to_pymrio

__all__ = ["read_pymrio_folder", "write_pymrio_folder"]

SIDECAR = "mrioflow.json"
"""What pymrio's format does not keep (year, source, country names, meta), beside its files.
It also marks the folder as written by :func:`write_pymrio_folder` and lists its files."""

WRITER = "mrioflow.write_pymrio_folder"
_PARAMETERS = "file_parameters.json"
_TEXT = (".txt", ".tsv", ".csv")
_PARQUET = (".parquet", ".par", ".parq")
_PICKLE = (".pkl", ".pickle")
TABLE_FORMATS = ("txt", "parquet")


def _parameters(folder: Path) -> dict:
    f = folder / _PARAMETERS
    try:
        params = json.loads(f.read_text(encoding="utf-8"))
        files = params["files"]
        if not isinstance(files, dict):
            raise TypeError("'files' is not a table")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ReaderError(f"{f}: not a pymrio file_parameters.json ({type(exc).__name__}: {exc})") from None
    return params


_LEVELS = {  # table -> (index columns, header rows) of a pymrio table; None: any number
    "Z": (2, 2),
    "A": (2, 2),
    "Y": (2, 2),
    "x": (2, None),
    "F": (None, 2),
    "F_Y": (None, 2),
    "unit": (None, None),
}
_LABELS = {2: "(region, sector) or (region, category) labels"}


def _count(spec: dict, field: str, default: int, f: Path, key: str, params: Path) -> int:
    value = spec.get(field, default)
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = -1
    if not 1 <= n <= 16:
        raise ReaderError(
            f"{params}: table {key} ({f.name}): {field} must be a whole number from 1 to 16, got {value!r}"
        )
    return n


def _cell(frame: pd.DataFrame, r: int, c: int):
    """The text of the cell at data row r, column c (index columns first), as the file holds it."""
    if c < frame.index.nlevels:
        label = frame.index[r]
        return label[c] if isinstance(label, tuple) else label
    return frame.iat[r, c - frame.index.nlevels]


def _check_text_table(frame: pd.DataFrame, f: Path, key: str, n_index: int, n_header: int, params: Path) -> None:
    """One clear ReaderError naming the file, row and column for a text table in the wrong layout
    or with a cell that is not a number (pymrio's layout: header rows, a row of index names when
    there are several header rows, then one line per data row)."""
    first = n_header + (1 if n_header > 1 and any(n is not None for n in frame.index.names) else 0) + 1
    want_index, want_header = _LEVELS.get(key, (None, None))
    if frame.shape[1] == 0:
        raise ReaderError(
            f"{f}: table {key} in the wrong layout: no column after its {n_index} label column(s) "
            f"(nr_index_col={n_index} in {params}); row {first} holds only labels"
        )
    if want_index is not None and n_index != want_index:
        c = min(n_index, want_index) + 1
        shown = str(_cell(frame, 0, c - 1)) if frame.shape[0] else ""
        raise ReaderError(
            f"{f}: table {key} in the wrong layout: {n_index} label column(s) (nr_index_col in {params}), "
            f"a pymrio {key} has {want_index} ({_LABELS[want_index]}); row {first}, column {c} holds {shown!r}"
        )
    if want_header is not None and n_header != want_header:
        raise ReaderError(
            f"{f}: table {key} in the wrong layout: {n_header} header row(s) (nr_header in {params}), "
            f"a pymrio {key} has {want_header} ({_LABELS[want_header]}); row {min(n_header, want_header) + 1}, "
            f"column {n_index + 1} holds {str(frame.columns[0][-1] if n_header > 1 else frame.columns[0])!r}"
        )
    if key == "unit":
        return
    numeric = np.array(
        [pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in frame.dtypes], dtype=bool
    )
    bad = np.zeros(frame.shape, dtype=bool)
    if numeric.all():  # the usual case: one pass over the whole table
        bad = ~np.isfinite(frame.to_numpy(dtype=float))
    else:
        for j in np.flatnonzero(numeric):
            bad[:, j] = ~np.isfinite(frame.iloc[:, j].to_numpy(dtype=float))
        for j in np.flatnonzero(~numeric):  # text where a number belongs
            bad[:, j] = ~np.isfinite(pd.to_numeric(frame.iloc[:, j], errors="coerce").to_numpy(dtype=float))
    if bad.any():
        r, j = divmod(int(np.flatnonzero(bad)[0]), frame.shape[1])  # the first in the file's order
        raw = frame.iat[r, j]
        what = "an empty cell" if isinstance(raw, float) and np.isnan(raw) else f"{str(raw)!r}"
        raise ReaderError(
            f"{f}: table {key}, row {first + r}, column {n_index + j + 1} (row label {frame.index[r]!r}, "
            f"column label {frame.columns[j]!r}): {what} is not a finite number"
        )


def _table(folder: Path, files: dict, key: str) -> pd.DataFrame | None:
    """Table ``key`` of a pymrio (sub)folder, or None when the folder does not have it."""
    spec = files.get(key)
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise ReaderError(f"{folder / _PARAMETERS}: table {key} must be described by a table (name, ...), got {spec!r}")
    name = str(spec.get("name", ""))
    f = folder / name
    if not name or Path(name).name != name:
        raise ReaderError(f"{folder / _PARAMETERS}: table {key} names the file {name!r}, expected a file in {folder}")
    suffix = f.suffix.lower()
    if suffix in _PICKLE:
        raise ReaderError(
            f"{f}: mrioflow never loads pickle files (unpickling can run any code); save the system with "
            f"save_all(table_format='txt') or table_format='parquet'"
        )
    if not f.is_file():
        raise MissingDataError(f"{f} is missing (listed as table {key} in {folder / _PARAMETERS})")
    try:
        if suffix in _PARQUET:
            return pd.read_parquet(f)
        if suffix in _TEXT:
            params = folder / _PARAMETERS
            n_index = _count(spec, "nr_index_col", 1, f, key, params)
            n_header = _count(spec, "nr_header", 1, f, key, params)
            header = list(range(n_header)) if n_header > 1 else 0
            frame = pd.read_csv(f, sep="\t", index_col=list(range(n_index)), header=header)
            _check_text_table(frame, f, key, n_index, n_header, params)
            return frame
    except ReaderError:
        raise
    except (OSError, ValueError, TypeError, ImportError, IndexError) as exc:
        raise ReaderError(f"{f}: cannot read pymrio table {key}: {type(exc).__name__}: {exc}") from None
    raise ReaderError(f"{f}: unknown table format {suffix!r}; pymrio folders hold .txt, .csv or .parquet tables")


def read_pymrio_folder(path, *, extensions=None) -> MRIO:
    """Read a folder written by pymrio's ``IOSystem.save_all`` into an MRIO (without pymrio).

    Parameters
    ----------
    path : str or path-like
        The folder, with ``file_parameters.json``, Z (or A and x), Y and one
        sub-folder per extension (its own ``file_parameters.json``, F, F_Y, unit).
    extensions : sequence of str, optional
        Extensions to take as stressors (default: all); see :func:`~mrioflow.io.from_pymrio`.

    Returns
    -------
    MRIO
        Z (n x n), Y (n x R*c), every extension's F/F_Y rows as stressors with
        their units. The year, source, country names and meta come from the
        ``mrioflow.json`` that :func:`write_pymrio_folder` adds (pymrio ignores
        it), when present.

    Raises
    ------
    MissingDataError
        The path or a table it lists does not exist.
    ReaderError
        Not a pymrio folder, a table that cannot be read, a pickled table
        (refused), or a bad ``mrioflow.json``.
    LabelError, InvalidValueError
        Labels that do not match, or non-finite cells (see ``from_pymrio``).
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise MissingDataError(f"pymrio folder not found: {p} does not exist")
    if not p.is_dir():
        raise ReaderError(f"{p} is not a folder: mrioflow reads pymrio's saved folders (unpack a zip first)")
    if not (p / _PARAMETERS).is_file():
        raise ReaderError(f"{p} is not a pymrio folder: {_PARAMETERS} is missing (expected IOSystem.save_all output)")
    params = _parameters(p)
    files = params["files"]
    Z, Y = _table(p, files, "Z"), _table(p, files, "Y")
    where = {key: str(p / str(files[key].get("name", ""))) for key in ("Z", "Y") if isinstance(files.get(key), dict)}
    if Z is None and "A" in files and "x" in files:
        where["Z"] = f"{p / str(files['A'].get('name', ''))} (A) and {p / str(files['x'].get('name', ''))} (x)"
        x = _table(p, files, "x")
        assert x is not None  # "x" in files
        Z = _table(p, files, "A") * x.iloc[:, 0].to_numpy()[None, :]
    exts = []
    for sub in sorted(d for d in p.iterdir() if d.is_dir() and (d / _PARAMETERS).is_file()):
        sp = _parameters(sub)
        if sp.get("systemtype") != "Extension" or "F" not in sp["files"]:
            continue
        f = sp["files"]
        ext = str(sp.get("name") or sub.name)
        exts.append((ext, _table(sub, f, "F"), _table(sub, f, "F_Y"), _table(sub, f, "unit")))
        for key in ("F", "F_Y", "unit"):
            if isinstance(f.get(key), dict):
                where[f"{ext}/{key}"] = str(sub / str(f[key].get("name", "")))
    mrio = from_frames(Z, Y, exts, extensions=extensions, name=params.get("name", p.name), where=where)
    side = p / SIDECAR
    changes: dict = {}
    if side.is_file():
        try:
            info = json.loads(side.read_text(encoding="utf-8"))
            names = info.get("country_names") or {}
            year = info.get("year")
            if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
                raise ValueError(f"the year must be a whole number, got {year!r}")
            changes = {
                "year": year,
                "source": str(info.get("source", mrio.source)),
                "country_names": [str(names.get(c, c)) for c in mrio.countries],
                "meta": {**mrio.meta, **(info.get("meta") or {})},
            }
        except (OSError, ValueError, AttributeError, TypeError) as exc:
            raise ReaderError(f"{side}: not a valid mrioflow.json ({exc})") from None
    changes.setdefault("meta", dict(mrio.meta))["pymrio_folder"] = str(p)
    return mrio.replace(**changes)


def _ours(folder: Path) -> bool:
    """Whether ``folder`` is an earlier output of :func:`write_pymrio_folder` holding nothing else."""
    try:
        info = json.loads((folder / SIDECAR).read_text(encoding="utf-8"))
        listed = set(info["files"]) if info.get("written_by") == WRITER else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False
    present = {f.relative_to(folder).as_posix() for f in folder.rglob("*") if not f.is_dir()}
    return listed is not None and present <= listed | {SIDECAR}


def write_pymrio_folder(mrio: MRIO, path, *, table_format: str = "txt") -> Path:
    """Write an MRIO as a pymrio folder (``pymrio.load_all`` reads it back).

    Parameters
    ----------
    mrio : MRIO
    path : str or path-like
        The folder to write: new, empty, or an earlier output of this function
        (recognised by its ``mrioflow.json``, which lists the files written)
        holding no other file. Anything else is refused: nothing that mrioflow
        did not write is ever deleted or overwritten. The folder is written
        next to its final place under a temporary name and renamed into place;
        an earlier output is replaced only once the new one is complete.
    table_format : {"txt", "parquet"}
        pymrio's table format (``save_all(table_format=...)``). "txt" is pymrio's
        default and keeps about 12 significant digits; "parquet" is exact.

    Returns
    -------
    pathlib.Path
        The folder.

    Raises
    ------
    OptionError
        ``table_format`` is not "txt" or "parquet" (pickle is never written:
        it is never read either), or ``path`` is a file or a folder mrioflow
        did not write (the message says what it holds).
    DependencyError
        pymrio is not installed.
    ShapeError
        When the MRIO's pymrio provenance does not fit its stressors.
    """
    if table_format not in TABLE_FORMATS:
        raise OptionError(f"table_format must be one of {', '.join(map(repr, TABLE_FORMATS))}; got {table_format!r}")
    target = Path(path).expanduser().resolve()
    if target.exists() and not target.is_dir():
        raise OptionError(f"{target} is a file, not a folder: not overwritten")
    if target.is_dir() and any(target.iterdir()) and not _ours(target):
        sample = ", ".join(sorted(p.name for p in target.iterdir())[:5])
        raise OptionError(
            f"{target} is not empty and is not a pymrio folder written by mrioflow (it holds {sample}); "
            f"nothing is overwritten: choose a new or empty folder"
        )
    iosystem = to_pymrio(mrio)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-mrioflow-", dir=target.parent))
    old = None
    try:
        iosystem.save_all(tmp, table_format=table_format)
        meta = {k: v for k, v in mrio.meta.items() if k != "pymrio_extensions"}
        info = {
            "written_by": WRITER,
            "files": sorted(f.relative_to(tmp).as_posix() for f in tmp.rglob("*") if f.is_file()),
            "year": mrio.year,
            "source": mrio.source,
            "country_names": dict(zip(mrio.countries, mrio.country_names or mrio.countries)),
            "meta": json.loads(json.dumps(meta, default=str)),
        }
        (tmp / SIDECAR).write_text(json.dumps(info, indent=2), encoding="utf-8")
        if target.exists():
            old = target.parent / f".tmp-mrioflow-old-{target.name}-{os.getpid()}"
            os.replace(target, old)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # our own temporary folder
        if old is not None and not target.exists():
            with contextlib.suppress(OSError):
                os.replace(old, target)
        raise
    if old is not None:  # an earlier output of this function (checked above), or an empty folder
        shutil.rmtree(old, ignore_errors=True)
    return target
