"""The native cache: a binary copy of a parsed table, checked against its source.

Parsing the Eora26 text files of one year takes a fraction of a second to
seconds; loading the same arrays from a binary copy takes a few milliseconds.
The first read of a year writes such a copy into a user cache folder; later
reads load it after checking that it still matches its source.

A cache file (``*.mfcache``) is

- 16 bytes of magic (``MRIOFLOW-CACHE`` and a newline, zero-padded),
- the length of the header (8 bytes, little-endian) and the header: UTF-8 JSON
  with the format version, the reader and its options, the fingerprint of the
  source files (name, size and modification time of each), the MRIO's labels
  and provenance, and for each array (``Z``, ``Y``, ``F``, ``F_Y``) its
  offset, shape, dtype and checksum;
- the arrays, raw C-ordered float64, each starting on a 4 KiB boundary.

A cache is used only when the format, the options and the fingerprint all
match; otherwise, or when it cannot be read (truncated, corrupt), it is rebuilt.
No pickle is ever loaded.

Loading is fast because it copies nothing: the file is memory-mapped
copy-on-write and the arrays are views of the mapping (page-aligned), so they
are writable and a write never reaches the file. Integrity is checked with one
64-bit word sum per array recorded at write time (any flipped byte changes it),
which also brings every page into memory. A table whose checksums match is the
table that was validated when the cache was written, so it is not validated
again. A loaded table keeps its file open until its arrays are freed.

Writes are atomic: the file is written under a temporary name in the cache
folder and renamed over the final name (``os.replace``), so an interrupted
write never leaves a file that loads, and a table already loaded from an older
copy keeps its own (the renamed-over file lives on until it is unmapped).
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import re
import struct
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .._files import atomic_write
from .._files import leftover_temporaries as _leftovers
from ..errors import MrioflowError
from ..mrio import MRIO, trusted_mrio

CACHE_FORMAT = 3
"""Version of the cache layout; bump it when the layout or a reader's output changes."""

_ARRAYS = ("Z", "Y", "F", "F_Y")
_MAGIC = b"MRIOFLOW-CACHE\n\x00"
_PREFIX = len(_MAGIC) + 8  # magic, then the header's length
_ALIGN = 4096
SUFFIX = ".mfcache"


def default_cache_dir() -> Path:
    """The user cache folder: ``$XDG_CACHE_HOME/mrioflow``, else ``~/.cache/mrioflow``.

    Returns
    -------
    pathlib.Path
        The folder (not created here).
    """
    base = os.environ.get("XDG_CACHE_HOME")
    if base:
        return Path(base) / "mrioflow"
    return Path.home() / ".cache" / "mrioflow"


def fingerprint(files: Iterable[str | os.PathLike]) -> list[list]:
    """Identify the current state of source files by size and modification time.

    Parameters
    ----------
    files : iterable of path-like
        The source files a cached table was built from.

    Returns
    -------
    list of [str, int, int]
        ``[absolute path, size in bytes, mtime in ns]`` per file, in the given order.
    """
    out = []
    for f in files:
        st = os.stat(f)
        out.append([str(Path(f).resolve()), int(st.st_size), int(st.st_mtime_ns)])
    return out


def cache_file(cache_dir: str | os.PathLike, stem: str, key: Mapping) -> Path:
    """The cache file for a source and a set of reader options.

    Parameters
    ----------
    cache_dir : path-like
        The cache folder.
    stem : str
        Readable part of the name, e.g. ``"eora26_2013_bp"``.
    key : mapping
        JSON-serialisable description of the source and options; its hash
        makes the name unique per (source, options).

    Returns
    -------
    pathlib.Path
    """
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return Path(cache_dir) / f"{stem}-{digest}{SUFFIX}"


def _mrio_header(mrio: MRIO) -> dict:
    return {
        "countries": list(mrio.countries),
        "sectors": list(mrio.sectors),
        "fd_categories": list(mrio.fd_categories),
        "stressors": list(mrio.stressors),
        "units": list(mrio.units),
        "country_names": list(mrio.country_names),
        "year": mrio.year,
        "source": mrio.source,
        "meta": dict(mrio.meta),
    }


def save_mrio(path: str | os.PathLike, mrio: MRIO, *, key: Mapping, source_fingerprint: list) -> Path:
    """Write an MRIO to a cache file atomically.

    Parameters
    ----------
    path : path-like
        The final cache file (its folder is created if needed).
    mrio : MRIO
        The table to store (arrays float64, labels and JSON-serialisable meta).
    key : mapping
        Reader name and options; must match on load.
    source_fingerprint : list
        :func:`fingerprint` of the source files; must match on load.

    Returns
    -------
    pathlib.Path
        The cache file written.

    Raises
    ------
    OSError
        When the folder cannot be created or written (callers treat the cache
        as optional and carry on).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {name: np.ascontiguousarray(getattr(mrio, name), dtype=np.float64) for name in _ARRAYS}
    layout, pos = {}, 0
    for name, a in arrays.items():
        layout[name] = {"offset": pos, "shape": list(a.shape), "dtype": a.dtype.str, "checksum": _checksum(a)}
        pos = _aligned(pos + a.nbytes)
    header = {
        "format": CACHE_FORMAT,
        "key": json.loads(json.dumps(key, sort_keys=True, default=str)),
        "fingerprint": source_fingerprint,
        "mrio": _mrio_header(mrio),
        "arrays": layout,
    }
    blob = json.dumps(header, default=str).encode("utf-8")
    start = _aligned(_PREFIX + len(blob))

    def write(tmp):
        with open(tmp, "wb") as fh:
            fh.write(_MAGIC + struct.pack("<Q", len(blob)) + blob)
            for name, a in arrays.items():
                fh.seek(start + layout[name]["offset"])
                _write_array(fh, a)

    # header first: a stale cache is recognised without reading the arrays
    atomic_write(path, write, fsync=True)
    return path


def _write_array(fh, a: np.ndarray) -> None:
    fh.write(memoryview(a).cast("B"))


def _aligned(pos: int) -> int:
    return -(-pos // _ALIGN) * _ALIGN


def load_mrio(path: str | os.PathLike, *, key: Mapping, source_fingerprint: list) -> tuple[MRIO | None, str]:
    """Load a cached MRIO if it exists, is intact and matches its source.

    Parameters
    ----------
    path : path-like
        The cache file.
    key : mapping
        Reader name and options the cache must have been written with.
    source_fingerprint : list
        Current :func:`fingerprint` of the source files.

    Returns
    -------
    mrio : MRIO or None
        The table, or None when the cache is missing, stale or unreadable.
    status : str
        ``"hit"``, ``"missing"``, ``"stale: <why>"`` or ``"corrupt: <why>"``.
        Never raises for a bad cache file: it is rebuilt, not trusted.
    """
    path = Path(path)
    if not path.is_file():
        return None, "missing"
    want_key = json.loads(json.dumps(key, sort_keys=True, default=str))
    try:
        with open(path, "rb") as fh:
            header, start = _header(fh)
            if header.get("format") != CACHE_FORMAT:
                return None, f"stale: format {header.get('format')} != {CACHE_FORMAT}"
            if header.get("key") != want_key:
                return None, "stale: reader options differ"
            if header.get("fingerprint") != source_fingerprint:
                return None, "stale: source files changed"
            arrays = _map_arrays(fh, header["arrays"], start)
        for name, a in arrays.items():
            if _checksum(a) != header["arrays"][name]["checksum"]:
                return None, f"corrupt: checksum of {name} differs"
        mrio = trusted_mrio(**arrays, **header["mrio"])
    except (OSError, ValueError, KeyError, TypeError, struct.error, MrioflowError) as exc:
        return None, f"corrupt: {type(exc).__name__}: {exc}"
    return mrio, "hit"


def _checksum(a: np.ndarray) -> int:
    """Sum of the array's 64-bit words modulo 2**64 (a fast integrity check)."""
    words = np.ascontiguousarray(a).reshape(-1).view(np.uint64)
    return int(np.add.reduce(words, dtype=np.uint64))


def _map_arrays(fh, layout: Mapping, start: int) -> dict:
    """The stored arrays as views of a copy-on-write mapping of the open file ``fh``.

    Raises ValueError for a missing or unexpected array, a dtype other than
    float64, or a file too short to hold them.
    """
    if sorted(layout) != sorted(_ARRAYS):
        raise ValueError(f"arrays {sorted(layout)}, expected {sorted(_ARRAYS)}")
    size = os.fstat(fh.fileno()).st_size
    specs = {}
    for name in _ARRAYS:
        spec = layout[name]
        dtype, shape = np.dtype(spec["dtype"]), tuple(int(k) for k in spec["shape"])
        if dtype != np.float64:
            raise ValueError(f"{name} has dtype {dtype}, expected float64")
        offset, count = start + int(spec["offset"]), int(np.prod(shape))
        if count and (offset % _ALIGN or offset + count * 8 > size):
            raise ValueError(f"{name} is cut short or misplaced (bytes {offset} to {offset + count * 8} of {size})")
        specs[name] = offset, count, shape
    mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_COPY)
    return {
        name: np.frombuffer(mapped, dtype=np.float64, count=count, offset=offset).reshape(shape)
        if count
        else np.zeros(shape)
        for name, (offset, count, shape) in specs.items()
    }


_OLD_FORMAT = re.compile(r"-[0-9a-f]{16}\.npz$")  # format 2 and before: an .npz per table


def list_cache(cache_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """The tables in a cache folder, with their size and whether they still match their source.

    Parameters
    ----------
    cache_dir : path-like, optional
        Default: :func:`default_cache_dir`.

    Returns
    -------
    pandas.DataFrame
        One row per cache file (sorted by name): ``file``, ``year``, ``source``,
        ``options`` (the reader's options, JSON), ``size_mb`` and ``state``:
        ``"current"`` (the next read loads it), ``"stale: <why>"`` (the next read
        rebuilds it), ``"source missing"``, ``"old format"`` (written by an older
        mrioflow, never read again) or ``"unreadable: <why>"``. Only the headers
        are read.
    """
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    rows = []
    for f in sorted(folder.iterdir()) if folder.is_dir() else []:
        if not f.is_file() or not (f.suffix == SUFFIX or _OLD_FORMAT.search(f.name)):
            continue
        row = {"file": str(f), "year": None, "source": "", "options": "", "size_mb": f.stat().st_size / 1e6}
        if f.suffix != SUFFIX:
            rows.append(row | {"state": "old format"})
            continue
        try:
            header = _read_header(f)
        except (OSError, ValueError, struct.error) as exc:
            rows.append(row | {"state": f"unreadable: {exc}"})
            continue
        meta = header.get("mrio", {})
        row |= {"year": meta.get("year"), "source": meta.get("source", ""),
                "options": json.dumps(header.get("key", {}), sort_keys=True)}
        rows.append(row | {"state": _state(header)})
    return pd.DataFrame(rows, columns=["file", "year", "source", "options", "size_mb", "state"])


def clear_cache(cache_dir: str | os.PathLike | None = None, *, stale_only: bool = False) -> list[Path]:
    """Delete cache files (and temporaries an interrupted write left behind).

    Parameters
    ----------
    cache_dir : path-like, optional
        Default: :func:`default_cache_dir`.
    stale_only : bool
        Keep the files whose state is ``"current"``; delete the rest.

    Returns
    -------
    list of pathlib.Path
        The files deleted.
    """
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    table = list_cache(folder)
    doomed = [Path(f) for f, state in zip(table["file"], table["state"]) if not (stale_only and state == "current")]
    doomed += [] if stale_only else leftover_temporaries(folder)
    for f in doomed:
        f.unlink(missing_ok=True)
    return doomed


def _state(header: Mapping) -> str:
    if header.get("format") != CACHE_FORMAT:
        return f"stale: format {header.get('format')} != {CACHE_FORMAT}"
    recorded = header.get("fingerprint") or []
    files = [Path(entry[0]) for entry in recorded]
    if not all(f.exists() for f in files):
        return "source missing"
    if fingerprint(files) != recorded:
        return "stale: source files changed"
    return "current"


def _read_header(path: Path) -> dict:
    with open(path, "rb") as fh:
        return _header(fh)[0]


def _header(fh) -> tuple[dict, int]:
    """The JSON header of an open cache file and where its arrays start (ValueError
    when it is not a cache file, or is cut short)."""
    head = fh.read(_PREFIX)
    if len(head) < _PREFIX or head[: len(_MAGIC)] != _MAGIC:
        raise ValueError("not a mrioflow cache file")
    (length,) = struct.unpack("<Q", head[len(_MAGIC) :])
    blob = fh.read(min(length, 1 << 30))
    if len(blob) != length:
        raise ValueError(f"header cut short ({len(blob)} of {length} bytes)")
    return json.loads(blob.decode("utf-8")), _aligned(_PREFIX + length)


def leftover_temporaries(cache_dir: str | os.PathLike) -> list[Path]:
    """Temporary files an interrupted cache write left in ``cache_dir`` (for tests and cleanup)."""
    return _leftovers(cache_dir)
