"""Read and write pymrio's folder format (``IOSystem.save_all`` / ``pymrio.load_all``)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from ..errors import MissingDataError, ReaderError
from ..mrio import MRIO
from .pymrio import from_pymrio, to_pymrio

__all__ = ["read_pymrio_folder", "write_pymrio_folder"]

SIDECAR = "mrioflow.json"
"""What pymrio's format does not keep (year, source, country names, meta), beside its files."""


def read_pymrio_folder(path, *, extensions=None) -> MRIO:
    """Read a folder written by pymrio's ``IOSystem.save_all`` into an MRIO.

    Parameters
    ----------
    path : str or path-like
        The folder (with ``file_parameters.json``, Z, Y and one sub-folder per
        extension), or a zip of it, as ``pymrio.load_all`` accepts.
    extensions : sequence of str, optional
        Extensions to take as stressors (default: all); see :func:`from_pymrio`.

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
        The path does not exist.
    ReaderError
        pymrio cannot load it (the message names the folder and pymrio's reason).
    LabelError
        The system lacks Z or Y, or an extension does not match Z.
    """
    import pymrio

    p = Path(path).expanduser()
    if not p.exists():
        raise MissingDataError(f"pymrio folder not found: {p} does not exist")
    if p.is_dir() and not (p / "file_parameters.json").is_file():
        raise ReaderError(f"{p} is not a pymrio folder: file_parameters.json is missing (expected IOSystem.save_all output)")
    try:
        iosystem = pymrio.load_all(p)
    except Exception as exc:  # pymrio raises a variety of errors on bad folders
        raise ReaderError(f"pymrio cannot load {p}: {type(exc).__name__}: {exc}") from exc
    mrio = from_pymrio(iosystem, extensions=extensions)
    side = p / SIDECAR if p.is_dir() else None
    changes: dict = {}
    if side is not None and side.is_file():
        try:
            info = json.loads(side.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ReaderError(f"{side}: not valid JSON ({exc})") from None
        names = info.get("country_names") or {}
        changes = {
            "year": info.get("year"),
            "source": info.get("source", mrio.source),
            "country_names": [names.get(c, c) for c in mrio.countries],
            "meta": {**mrio.meta, **(info.get("meta") or {})},
        }
    changes.setdefault("meta", dict(mrio.meta))["pymrio_folder"] = str(p)
    return mrio.replace(**changes)


def write_pymrio_folder(mrio: MRIO, path, *, table_format: str = "txt") -> Path:
    """Write an MRIO as a pymrio folder (``pymrio.load_all`` reads it back).

    Parameters
    ----------
    mrio : MRIO
    path : str or path-like
        The folder to write. It is written next to its final place under a
        temporary name and renamed into place; an existing folder of that name
        is replaced only once the new one is complete.
    table_format : {"txt", "parquet", "pkl"}
        pymrio's table format (``save_all(table_format=...)``). "txt" is pymrio's
        default and keeps about 12 significant digits; "parquet" is exact.

    Returns
    -------
    pathlib.Path
        The folder.

    Raises
    ------
    ShapeError
        When the MRIO's pymrio provenance does not fit its stressors.
    """
    target = Path(path).expanduser().resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    iosystem = to_pymrio(mrio)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-mrioflow-", dir=target.parent))
    old = None
    try:
        iosystem.save_all(tmp, table_format=table_format)
        meta = {k: v for k, v in mrio.meta.items() if k != "pymrio_extensions"}
        info = {
            "year": mrio.year,
            "source": mrio.source,
            "country_names": dict(zip(mrio.countries, mrio.country_names)),
            "meta": json.loads(json.dumps(meta, default=str)),
        }
        (tmp / SIDECAR).write_text(json.dumps(info, indent=2), encoding="utf-8")
        if target.exists():
            old = target.parent / f".tmp-mrioflow-old-{target.name}-{os.getpid()}"
            os.replace(target, old)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not target.exists():
            with contextlib.suppress(OSError):
                os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target
