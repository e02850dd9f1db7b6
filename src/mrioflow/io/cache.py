"""The native cache: a binary copy of a parsed table, checked against its source.

Parsing the Eora26 text files of one year takes seconds; loading the same
arrays from an uncompressed ``.npz`` takes a fraction of that. The first read
of a year writes such a copy into a user cache folder; later reads load it
after checking that it still matches its source.

A cache file is one uncompressed ``.npz`` holding the arrays ``Z``, ``Y``,
``F``, ``F_Y`` and ``header``: UTF-8 JSON (stored as a uint8 array, so that no
pickle is ever loaded) with the format version, the reader and its options,
the fingerprint of the source files (name, size and modification time of
each) and the MRIO's labels and provenance. A cache is used only when all of
these match; otherwise, or when it cannot be read (truncated, corrupt), it is
rebuilt.

Loading is fast because it does as little as possible: the arrays are read
straight from their offsets in the (uncompressed) zip into memory, and their
integrity is checked with one 64-bit word sum per array recorded at write time
(any single flipped byte changes it), not with zip's slower CRC-32. A table
whose checksums match is the table that was validated when the cache was
written, so it is not validated again.

Writes are atomic: the file is written under a temporary name in the cache
folder and renamed over the final name (``os.replace``), so an interrupted
write never leaves a file that loads.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from .._files import atomic_write
from .._files import leftover_temporaries as _leftovers
from ..errors import MrioflowError
from ..mrio import MRIO, trusted_mrio

CACHE_FORMAT = 2
"""Version of the cache layout; bump it when the layout or a reader's output changes."""

_ARRAYS = ("Z", "Y", "F", "F_Y")


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
    return Path(cache_dir) / f"{stem}-{digest}.npz"


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
    header = {
        "format": CACHE_FORMAT,
        "key": json.loads(json.dumps(key, sort_keys=True, default=str)),
        "fingerprint": source_fingerprint,
        "mrio": _mrio_header(mrio),
        "checksums": {name: _checksum(getattr(mrio, name)) for name in _ARRAYS},
    }
    blob = np.frombuffer(json.dumps(header, default=str).encode("utf-8"), dtype=np.uint8)
    arrays = {name: getattr(mrio, name) for name in _ARRAYS}
    # header first: a stale cache is recognised without reading the arrays
    atomic_write(path, lambda tmp: np.savez(tmp, header=blob, **arrays), fsync=True)
    return path


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
        with np.load(path, allow_pickle=False) as npz:
            header = json.loads(npz["header"].tobytes().decode("utf-8"))
            if header.get("format") != CACHE_FORMAT:
                return None, f"stale: format {header.get('format')} != {CACHE_FORMAT}"
            if header.get("key") != want_key:
                return None, "stale: reader options differ"
            if header.get("fingerprint") != source_fingerprint:
                return None, "stale: source files changed"
        arrays = _read_stored_arrays(path, _ARRAYS)
        for name, a in arrays.items():
            if _checksum(a) != header["checksums"][name]:
                return None, f"corrupt: checksum of {name} differs"
        mrio = trusted_mrio(**arrays, **header["mrio"])
    except (OSError, ValueError, KeyError, TypeError, EOFError, struct.error, zipfile.BadZipFile,
            MrioflowError) as exc:
        return None, f"corrupt: {type(exc).__name__}: {exc}"
    return mrio, "hit"


def _checksum(a: np.ndarray) -> int:
    """Sum of the array's 64-bit words modulo 2**64 (a fast integrity check)."""
    words = np.ascontiguousarray(a).reshape(-1).view(np.uint64)
    return int(np.add.reduce(words, dtype=np.uint64))


def _read_stored_arrays(path: Path, names) -> dict:
    """Read .npy members of an uncompressed .npz at their offsets, without CRC-32.

    Raises ValueError for a member that is missing, compressed or cut short.
    """
    out = {}
    with zipfile.ZipFile(path) as zf, open(path, "rb") as fh:
        for name in names:
            info = zf.getinfo(name + ".npy")
            if info.compress_type != zipfile.ZIP_STORED:
                raise ValueError(f"{name} is compressed")
            fh.seek(info.header_offset)
            # local file header: 30 bytes, then the name and the extra field (PKZIP APPNOTE 4.3.7)
            local = struct.unpack("<4s2B4HL2L2H", fh.read(30))
            if local[0] != b"PK\x03\x04":
                raise ValueError(f"{name}: no local file header at offset {info.header_offset}")
            fh.seek(info.header_offset + 30 + local[10] + local[11])
            version = np.lib.format.read_magic(fh)
            shape, fortran, dtype = (np.lib.format.read_array_header_1_0(fh) if version == (1, 0)
                                     else np.lib.format.read_array_header_2_0(fh))
            count = int(np.prod(shape))
            a = np.fromfile(fh, dtype=dtype, count=count)
            if a.size != count:
                raise ValueError(f"{name} is cut short ({a.size} of {count} values)")
            out[name] = a.reshape(shape, order="F" if fortran else "C")
    return out


def leftover_temporaries(cache_dir: str | os.PathLike) -> list[Path]:
    """Temporary files an interrupted cache write left in ``cache_dir`` (for tests and cleanup)."""
    return _leftovers(cache_dir)
