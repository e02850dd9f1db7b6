"""The native cache: a binary copy of a table any reader parsed, checked against its source.

Parsing the Eora26 text files of one year takes a fraction of a second to
seconds; loading the same arrays from a binary copy takes a few milliseconds.
:func:`cached_read` wraps any reader of the registry (:mod:`mrioflow.io.registry`):
the first read of a source writes such a copy into a user cache folder; later
reads load it after checking that it still matches its source.

A cache file (``*.mfcache``) is

- 16 bytes of magic (``MRIOFLOW-CACHE`` and a newline, zero-padded),
- the length of the header and its xxh3-64 hash (8 bytes each, little-endian),
- the header: UTF-8 JSON with the format version, the key (reader name, year and
  options), the fingerprint of the source files (name, size and xxh3-128 hash of
  the content of each, never their folder: a cache built from one copy of the
  data serves any identical copy), the MRIO's labels and provenance (the source
  folder replaced by a placeholder), and for each array (``Z``, ``Y``, ``F``,
  ``F_Y``) its offset, shape, dtype and xxh3-64 hash;
- the arrays, raw C-ordered float64, each starting on a 4 KiB boundary.

The file name derives from a hash of the key, so one file is kept per reader,
year and options. A cache is used only when the format, the key and the
fingerprint all match and every hash checks; otherwise it is rebuilt. No pickle
is ever loaded.

A hit rests on the content of the sources, never on their sizes and times: every
read hashes each source file (xxh3-128, about 15 GB/s of cached pages), so a file
edited in place with its size and time restored is read again. Inside
:func:`digest_scope` (``mrioflow run``, ``mc`` and ``sweep`` open one) each file
is read once for all its digests: the xxh3-128 of the cache and the SHA-256 of
the provenance come from the same pass (:func:`file_digests`), and a file read
again in the same run (another year of a sweep, the provenance after the table)
is not hashed again unless its inode, size, modification or change time moved.

Loading is fast because it copies nothing: the file is memory-mapped
copy-on-write and the arrays are views of the mapping (page-aligned), so they
are writable and a write never reaches the file. The hashes are order-sensitive
(a flipped bit or two swapped words change them) and bring every page into
memory. A table whose hashes match is the table that was validated when the
cache was written, so it is not validated again. A loaded table keeps its file
open until its arrays are freed.

Writes are atomic: the file is written under a temporary name in the cache
folder and renamed over the final name (``os.replace``), so an interrupted
write never leaves a file that loads; temporaries a killed write left behind are
never listed nor loaded, and are removed by the next write or clear.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import mmap
import os
import re
import stat
import struct
import threading
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import xxhash

from .._files import TMP_PREFIX, atomic_write
from .._files import leftover_temporaries as _leftovers
from ..errors import MrioflowError, OutputError, ReaderError
from ..mrio import MRIO, trusted_mrio

CACHE_FORMAT = 4
"""Version of the cache layout; bump it when the layout or a reader's output changes."""

_ARRAYS = ("Z", "Y", "F", "F_Y")
_MAGIC = b"MRIOFLOW-CACHE\n\x00"
_PREFIX = len(_MAGIC) + 16  # magic, then the header's length and hash
_ALIGN = 4096
_STALE_TMP_S = 60.0  # a temporary untouched this long belongs to a write that died
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


def _names(files: list[Path]) -> list[str]:
    """Each file's name relative to the folder holding them all (that folder is not part of it)."""
    try:
        root = os.path.commonpath([str(f.parent) for f in files]) if files else None
    except ValueError:  # relative and absolute mixed, or other drives
        root = None
    return [os.path.relpath(f, root).replace(os.sep, "/") if root else f.name for f in files]


_BLOCK = 1 << 20  # files are hashed in 1 MiB blocks, never held whole in memory
_memo: dict[str, tuple[tuple, dict[str, str]]] | None = None  # path -> (identity, digests), in a scope
_scopes = 0
_lock = threading.Lock()


@contextlib.contextmanager
def digest_scope() -> Iterator[None]:
    """Within this block, hash each file once: for the cache and the provenance alike.

    ``mrioflow run``, ``mc`` and ``sweep`` run inside one. A file is hashed
    again only when its identity (device, inode, size, modification and change
    time in ns) moved since; ``os.utime`` cannot restore a change time, so an
    edit is always seen. Scopes nest (the outermost one keeps the digests); the
    digests are dropped when it ends, and every read outside a scope hashes the
    file anew. Threads of the process share the scope; other processes (Dask
    workers) hash for themselves.
    """
    global _memo, _scopes
    with _lock:
        _scopes += 1
        if _memo is None:
            _memo = {}
    try:
        yield
    finally:
        with _lock:
            _scopes -= 1
            if not _scopes:
                _memo = None


def _identity(st: os.stat_result) -> tuple:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def file_digests(path: str | os.PathLike, *, sha256: bool = False) -> dict[str, str]:
    """The content digests of a file, read once: ``{"xxh3": xxh3-128 hex}`` (what the
    cache keys on), and with ``sha256`` (or inside :func:`digest_scope`, always)
    ``"sha256"`` too (what provenance records), computed in the same pass.

    Parameters
    ----------
    path : path-like
    sha256 : bool
        Also the SHA-256 (about 1.7 GB/s with the CPU's SHA instructions, 0.5
        without: the cache alone never asks for it).

    Returns
    -------
    dict
        Hex digests by name.
    """
    key = os.path.realpath(path)
    memo = _memo
    before = _identity(os.stat(key))
    if memo is not None:
        known = memo.get(key)
        if known is not None and known[0] == before and (not sha256 or "sha256" in known[1]):
            return dict(known[1])
    out, after = _read_digests(key, sha256=sha256 or memo is not None)
    if memo is not None and after == before:  # a file written while it was read is not remembered
        with _lock:
            memo[key] = (after, dict(out))
    return out


def _read_digests(path: str, *, sha256: bool) -> tuple[dict[str, str], tuple]:
    """One pass over the file: its xxh3-128 (and SHA-256), and its identity when read."""
    xh, sh = xxhash.xxh3_128(), hashlib.sha256() if sha256 else None
    buf = bytearray(_BLOCK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fh:
        while got := fh.readinto(buf):
            block = view[:got]
            xh.update(block)
            if sh is not None:
                sh.update(block)
        after = _identity(os.fstat(fh.fileno()))
    out = {"xxh3": xh.hexdigest()}
    if sh is not None:
        out["sha256"] = sh.hexdigest()
    return out, after


def _hash_file(f: Path) -> str:
    """The xxh3-128 of a file's content (through the scope's digests when in one)."""
    return file_digests(f)["xxh3"]


def stamps(files: Iterable[str | os.PathLike]) -> dict[str, list[int]]:
    """``{name: [device, inode, size, mtime in ns, ctime in ns]}`` of source files (names as in
    :func:`fingerprint`): what tells that a file was not written while it was parsed."""
    paths = [Path(f) for f in files]
    return {name: list(_identity(os.stat(f))) for name, f in zip(_names(paths), paths)}


def fingerprint(files: Iterable[str | os.PathLike]) -> list[list]:
    """Identify the content of source files, wherever they are.

    Every file's content is hashed (once per :func:`digest_scope`), never trusted
    on its size and time.

    Parameters
    ----------
    files : iterable of path-like
        The source files a table is read from.

    Returns
    -------
    list of [str, int, str]
        ``[name, size in bytes, xxh3-128 hex digest of the content]`` per file,
        sorted by name; the name is relative to the folder holding all the
        files, which is not part of it.
    """
    paths = [Path(f) for f in files]
    return sorted([name, os.stat(f).st_size, _hash_file(f)] for name, f in zip(_names(paths), paths))


def _json(value):
    """``value`` as plain JSON (regular expressions by their pattern, other objects by str)."""
    return json.loads(json.dumps(value, sort_keys=True, default=lambda o: getattr(o, "pattern", str(o))))


def cache_file(cache_dir: str | os.PathLike, stem: str, key: Mapping) -> Path:
    """The cache file for a reader, year and set of options.

    Parameters
    ----------
    cache_dir : path-like
        The cache folder.
    stem : str
        Readable part of the name, e.g. ``"eora26_2013"``.
    key : mapping
        JSON-serialisable reader name, year and options; its hash makes the
        name unique per key.

    Returns
    -------
    pathlib.Path
    """
    digest = hashlib.sha256(json.dumps(_json(key), sort_keys=True).encode()).hexdigest()[:16]
    return Path(cache_dir) / f"{stem}-{digest}{SUFFIX}"


def cached_read(reader, path, *, year=None, options: Mapping | None = None, cache_dir=None) -> MRIO:
    """Read through the cache: load the binary copy when it matches, else read and store one.

    Parameters
    ----------
    reader : registry.Reader
        The reader; its ``sources(path, year=..., **options)`` names the files
        the table is read from.
    path : path-like
        Passed to the reader.
    year : int, optional
        Passed to the reader.
    options : mapping, optional
        The reader's options (part of the key).
    cache_dir : path-like, optional
        Default: :func:`default_cache_dir`. A folder that cannot be read,
        searched (mode ``rw-``) or written means no cache (with a
        RuntimeWarning), not an error.

    Returns
    -------
    MRIO
        ``meta["cache"]``: ``"hit"``, ``"rebuilt (<why>)"``, ``"not written (<why>)"``
        or ``"off (<why>)"``; ``meta["cache_file"]``: the cache file.
    """
    options = dict(options or {})
    sources = reader.sources(path, year=year, **options)
    key = _json({"reader": reader.name, "year": year, "options": options})
    folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    target = cache_file(folder, f"{reader.name}_{year}" if year is not None else reader.name, key)
    try:
        _probe(folder, target)
    except OSError as exc:
        warnings.warn(
            f"the cache folder {folder} cannot be read or searched ({exc.strerror or exc}): no cache used",
            RuntimeWarning,
            stacklevel=3,
        )
        mrio = reader.read(path, year=year, **options)
        mrio.meta["cache"] = f"off ({folder} cannot be read or searched: {exc.strerror or exc})"
        return mrio
    before = stamps(sources)
    fp, root = fingerprint(sources), _source_root(sources)
    mrio, status = load_mrio(target, key=key, source_fingerprint=fp, root=root)
    if mrio is not None:
        mrio.meta.update(cache="hit", cache_file=str(target))
        return mrio
    mrio = reader.read(path, year=year, **options)
    done = f"rebuilt ({status})"
    if stamps(sources) == before:  # the sources did not change while we hashed and parsed them
        try:
            save_mrio(target, mrio, key=key, source_fingerprint=fp, root=root)
        except OSError as exc:
            warnings.warn(f"could not write the {reader.name} cache {target}: {exc}", RuntimeWarning, stacklevel=3)
            done = f"not written ({exc})"
    else:
        done = f"not written (a source file changed while it was read; {status})"
    mrio.meta.update(cache=done, cache_file=str(target))
    return mrio


def _probe(folder: Path, target: Path) -> None:
    """Raise OSError when an existing cache folder cannot be listed or searched (a folder
    of mode rw- lists its names but opens none of them); a missing folder is fine."""
    if not os.path.lexists(folder):
        return
    os.listdir(folder)
    try:
        os.stat(target)  # needs search (x) permission on the folder
    except (FileNotFoundError, NotADirectoryError):
        os.stat(os.path.join(folder, os.curdir))  # the same check when the file is absent


_HERE = "<source folder>"
"""Stands for the folder of the source files in a stored MRIO's source and meta strings."""


def _source_root(sources: list) -> str | None:
    """The folder holding every source file, when it is an absolute path (else None)."""
    try:
        root = os.path.commonpath([str(Path(f).parent) for f in sources]) if sources else None
    except ValueError:  # relative and absolute mixed, or other drives
        return None
    return root if root and Path(root).is_absolute() and root != Path(root).anchor else None


def _relocate(value, old: str | None, new: str | None):
    """``value`` with ``old`` replaced by ``new`` in every string (None: unchanged)."""
    if old is None or new is None:
        return value
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {k: _relocate(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_relocate(v, old, new) for v in value]
    return value


def _mrio_header(mrio: MRIO) -> dict:
    return {
        "countries": list(mrio.countries),
        "sectors": list(mrio.sectors),
        "fd_categories": list(mrio.fd_categories),
        "stressors": list(mrio.stressors),
        "units": list(mrio.units),
        "country_names": list(mrio.country_names or mrio.countries),
        "year": mrio.year,
        "source": mrio.source,
        "meta": dict(mrio.meta),
    }


def save_mrio(
    path: str | os.PathLike,
    mrio: MRIO,
    *,
    key: Mapping,
    source_fingerprint: list,
    root: str | None = None,
) -> Path:
    """Write an MRIO to a cache file atomically.

    Parameters
    ----------
    path : path-like
        The final cache file (its folder is created if needed). Temporaries
        that killed writes left in the folder are removed.
    mrio : MRIO
        The table to store (arrays float64, labels and JSON-serialisable meta).
    key : mapping
        Reader name, year and options; must match on load.
    source_fingerprint : list
        :func:`fingerprint` of the source files; must match on load.
    root : str, optional
        The folder of the source files: where it appears in the MRIO's source
        and meta, a placeholder is stored instead (the cache holds no path).

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
    _remove_dead_temporaries(path.parent)
    arrays = {name: np.ascontiguousarray(getattr(mrio, name), dtype=np.float64) for name in _ARRAYS}
    layout, pos = {}, 0
    for name, a in arrays.items():
        layout[name] = {"offset": pos, "shape": list(a.shape), "dtype": a.dtype.str, "hash": _hash(a)}
        pos = _aligned(pos + a.nbytes)
    header = {
        "format": CACHE_FORMAT,
        "key": _json(key),
        "fingerprint": source_fingerprint,
        "mrio": _relocate(_mrio_header(mrio), root, _HERE),
        "arrays": layout,
    }
    blob = json.dumps(header, default=str).encode("utf-8")
    start = _aligned(_PREFIX + len(blob))

    def write(tmp):
        with open(tmp, "wb") as fh:
            fh.write(_MAGIC + struct.pack("<QQ", len(blob), xxhash.xxh3_64_intdigest(blob)) + blob)
            for name, a in arrays.items():
                fh.seek(start + layout[name]["offset"])
                _write_array(fh, a)

    atomic_write(path, write, fsync=True)
    return path


def _write_array(fh, a: np.ndarray) -> None:
    fh.write(np.ascontiguousarray(a).data.cast("B"))


def _aligned(pos: int) -> int:
    return -(-pos // _ALIGN) * _ALIGN


def load_mrio(
    path: str | os.PathLike, *, key: Mapping, source_fingerprint: list, root: str | None = None
) -> tuple[MRIO | None, str]:
    """Load a cached MRIO if it exists, is intact and matches its source.

    Parameters
    ----------
    path : path-like
        The cache file.
    key : mapping
        Reader name, year and options the cache must have been written with.
    source_fingerprint : list
        Current :func:`fingerprint` of the source files.
    root : str, optional
        The folder of the source files now (it replaces the stored placeholder).

    Returns
    -------
    mrio : MRIO or None
        The table, or None when the cache is missing, stale or unreadable.
    status : str
        ``"hit"``, ``"missing"``, ``"stale: <why>"`` or ``"corrupt: <why>"``.
        Never raises for a bad cache file: it is rebuilt, not trusted.
    """
    path = Path(path)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None, "missing"
    except (FileNotFoundError, NotADirectoryError):
        return None, "missing"
    try:
        with open(path, "rb") as fh:
            header, start = _header(fh)
            if header.get("format") != CACHE_FORMAT:
                return None, f"stale: format {header.get('format')} != {CACHE_FORMAT}"
            if header.get("key") != _json(key):
                return None, "stale: reader options differ"
            if header.get("fingerprint") != source_fingerprint:
                return None, "stale: source files changed"
            return _arrays_to_mrio(fh, {**header, "mrio": _relocate(header["mrio"], _HERE, root)}, start), "hit"
    except (OSError, ValueError, KeyError, TypeError, AttributeError, struct.error, MrioflowError) as exc:
        return None, f"corrupt: {type(exc).__name__}: {exc}"


def _arrays_to_mrio(fh, header: Mapping, start: int) -> MRIO:
    arrays = _map_arrays(fh, header["arrays"], start)
    for name, a in arrays.items():
        if _hash(a) != header["arrays"][name]["hash"]:
            raise ValueError(f"hash of {name} differs")
    return trusted_mrio(**arrays, **header["mrio"])


def read_cache_file(path: str | os.PathLike) -> MRIO:
    """Read a cache file on its own (whatever its source), after checking every hash.

    Parameters
    ----------
    path : path-like
        A ``*.mfcache`` file.

    Returns
    -------
    MRIO
        ``meta["cache_file"]`` is the file.

    Raises
    ------
    ReaderError
        Not a cache file, another format version, or a damaged one (the message
        says which check failed).
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            header, start = _header(fh)
            if header.get("format") != CACHE_FORMAT:
                raise ValueError(f"cache format {header.get('format')}, this mrioflow reads {CACHE_FORMAT}")
            mrio = _arrays_to_mrio(fh, header, start)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, struct.error) as exc:
        raise ReaderError(f"{path}: not a usable mrioflow cache file ({exc})") from None
    mrio.meta["cache_file"] = str(path)
    return mrio


def _hash(a: np.ndarray) -> int:
    """xxh3-64 of the array's bytes (order-sensitive, several GB/s)."""
    return xxhash.xxh3_64_intdigest(np.ascontiguousarray(a).data.cast("B"))


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
    """The tables in a cache folder, with their size and whether they can be loaded.

    Parameters
    ----------
    cache_dir : path-like, optional
        Default: :func:`default_cache_dir`. A folder that cannot be read or
        searched lists nothing (with a RuntimeWarning).

    Returns
    -------
    pandas.DataFrame
        One row per cache file (sorted by name; temporaries of unfinished writes
        are not listed): ``file``, ``year``, ``source``, ``options`` (reader and
        options, JSON), ``size_mb`` and ``state``: ``"ok"`` (loaded when its
        source is read again with these options), ``"stale: <why>"`` (an older
        format), ``"old format"`` (an ``.npz`` of an older mrioflow) or
        ``"corrupt: <why>"``. Only the headers are read (and checked against
        their hash).
    """
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    try:
        entries = _entries(folder)
    except OSError as exc:
        warnings.warn(
            f"the cache folder {folder} cannot be read or searched ({exc.strerror or exc})",
            RuntimeWarning,
            stacklevel=2,
        )
        entries = []
    rows = []
    for f in entries:
        if f.name.startswith(TMP_PREFIX) or not (f.suffix == SUFFIX or _OLD_FORMAT.search(f.name)):
            continue
        try:
            row = {"file": str(f), "year": None, "source": "", "options": "", "size_mb": f.stat().st_size / 1e6}
        except OSError:
            continue  # removed meanwhile
        if f.suffix != SUFFIX:
            rows.append(row | {"state": "old format"})
            continue
        try:
            header = _read_header(f)
            meta = header.get("mrio", {})
            row |= {
                "year": meta.get("year"),
                "source": str(meta.get("source", "")),
                "options": json.dumps(header.get("key", {}), sort_keys=True),
            }
            state = "ok" if header.get("format") == CACHE_FORMAT else f"stale: format {header.get('format')}"
        except (OSError, ValueError, AttributeError, struct.error) as exc:
            state = f"corrupt: {exc}"
        rows.append(row | {"state": state})
    return pd.DataFrame(rows, columns=["file", "year", "source", "options", "size_mb", "state"])


def _entries(folder: Path) -> list[Path]:
    """The folder's entries, sorted (none when it does not exist); OSError when it cannot be
    listed or searched: a folder of mode ``rw-`` lists names whose files cannot be opened."""
    if not os.path.lexists(folder):
        return []
    entries = sorted(folder.iterdir())
    os.stat(os.path.join(folder, os.curdir))  # needs search (x) permission, as opening an entry does
    return entries


def clear_cache(cache_dir: str | os.PathLike | None = None, *, stale_only: bool = False) -> list[Path]:
    """Delete cache files (and temporaries an interrupted write left behind).

    Parameters
    ----------
    cache_dir : path-like, optional
        Default: :func:`default_cache_dir`.
    stale_only : bool
        Keep the files whose state is ``"ok"``; delete the rest.

    Returns
    -------
    list of pathlib.Path
        The files deleted.

    Raises
    ------
    OutputError
        The folder cannot be listed or searched (nothing is deleted).
    """
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    try:
        _entries(folder)
    except OSError as exc:
        raise OutputError(
            f"cannot clear the cache folder {folder}: it cannot be read or searched ({exc.strerror or exc}); "
            "nothing was deleted"
        ) from None
    table = list_cache(folder)
    doomed = [Path(f) for f, state in zip(table["file"], table["state"]) if not (stale_only and state == "ok")]
    for f in doomed:
        f.unlink(missing_ok=True)
    return doomed + _remove_dead_temporaries(folder)


def _remove_dead_temporaries(folder: Path) -> list[Path]:
    """Remove the temporaries of writes that died (untouched for a minute: a live write keeps writing)."""
    gone = []
    for tmp in leftover_temporaries(folder):
        try:
            if time.time() - tmp.stat().st_mtime > _STALE_TMP_S:
                tmp.unlink()
                gone.append(tmp)
        except OSError:
            pass  # finished or removed meanwhile
    return gone


def _older_header(fh, length: int) -> dict | None:
    """``{"format": N}`` when the file is an older mrioflow's (format N <= 3: its JSON header
    right after its length, no hash), else None."""
    fh.seek(len(_MAGIC) + 8)
    try:
        header = json.loads(fh.read(min(length, 1 << 30)).decode("utf-8"))
    except ValueError:
        return None
    old = header.get("format") if isinstance(header, dict) else None
    return {"format": old} if isinstance(old, int) and old < CACHE_FORMAT else None


def _read_header(path: Path) -> dict:
    with open(path, "rb") as fh:
        return _header(fh)[0]


def _header(fh) -> tuple[dict, int]:
    """The JSON header of an open cache file and where its arrays start (ValueError
    when it is not a cache file, is cut short, or its hash does not match)."""
    head = fh.read(_PREFIX)
    if len(head) < _PREFIX or head[: len(_MAGIC)] != _MAGIC:
        raise ValueError("not a mrioflow cache file")
    length, digest = struct.unpack("<QQ", head[len(_MAGIC) :])
    blob = fh.read(min(length, 1 << 30))
    if len(blob) != length:
        raise ValueError(f"header cut short ({len(blob)} of {length} bytes)")
    if xxhash.xxh3_64_intdigest(blob) != digest:
        older = _older_header(fh, length)
        if older is not None:  # an older mrioflow's file: stale, not corrupt
            return older, 0
        raise ValueError("hash of the header differs")
    header = json.loads(blob.decode("utf-8"))
    if not isinstance(header, dict):
        raise ValueError("the header is not a JSON object")
    return header, _aligned(_PREFIX + length)


def leftover_temporaries(cache_dir: str | os.PathLike) -> list[Path]:
    """Temporary files an interrupted cache write left in ``cache_dir`` (for tests and cleanup)."""
    return _leftovers(cache_dir)
