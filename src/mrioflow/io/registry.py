"""The reader registry: one :func:`read` for every data source mrioflow knows.

Each reader is a small class with a ``name``, a one-line ``description``, a
``can_open(path)`` guess and a ``read(path, *, year=None, **options)`` that
returns an :class:`~mrioflow.mrio.MRIO`. :func:`read` picks the reader by
``format`` name, or asks every reader whether it can open the path.

The built-in readers are Eora26 (``"eora26"``), EXIOBASE 3 (``"exiobase3"``),
GLORIA (``"gloria"``), pymrio folders (``"pymrio"``),
mrioflow's cache files (``"cache"``) and the synthetic world (``"synthetic"``,
no path). Another package adds a database without touching mrioflow by
declaring its reader class in the entry-point group ``mrioflow.readers``::

    # pyproject.toml of the other package
    [project.entry-points."mrioflow.readers"]
    exiobase = "mypackage.readers:ExiobaseReader"

or, in a script, by calling :func:`register_reader` with the class.

A reader's options are the keyword-only parameters of its ``read`` (after
``year``): :func:`read` refuses any other, and the cache keys on all of them,
defaults included.
"""

from __future__ import annotations

import inspect
import os
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

from .._checks import check_year
from ..errors import MissingDataError, OptionError, ReaderError
from ..mrio import MRIO
from .base import Reader
from .eora26 import Eora26Reader
from .exiobase3 import Exiobase3Reader
from .gloria import GloriaReader

__all__ = [
    "ENTRY_POINT_GROUP",
    "Reader",
    "get_reader",
    "guess_reader",
    "list_readers",
    "read",
    "register_reader",
]

ENTRY_POINT_GROUP = "mrioflow.readers"
"""The entry-point group third-party readers are declared in."""


class PymrioReader(Reader):
    name = "pymrio"
    description = "a pymrio folder (IOSystem.save_all: file_parameters.json and txt/csv/parquet tables)"

    def can_open(self, path) -> bool:
        # EXIOBASE 3's folders are pymrio folders too: those go to the exiobase3 reader
        return (Path(path) / "file_parameters.json").is_file() and not Exiobase3Reader().can_open(path)

    def read(self, path, *, year=None, extensions=None) -> MRIO:
        """A pymrio folder holds one table; ``year`` names its year when the folder does not
        (pymrio's ``save_all`` writes none), and must agree with it when it does."""
        from .pymrio_folder import read_pymrio_folder

        mrio = read_pymrio_folder(path, extensions=extensions)
        if year is None:
            return mrio
        year = check_year(year)
        if mrio.year is None:
            return mrio.replace(year=year)
        if mrio.year != year:
            raise OptionError(f"{path} holds the table of {mrio.year}, not of {year} (year=..., --years)")
        return mrio


class CacheReader(Reader):
    name = "cache"
    description = "a mrioflow cache file (*.mfcache, written when a reader's table is cached)"

    def can_open(self, path) -> bool:
        from .cache import _MAGIC

        p = Path(path)
        try:
            with open(p, "rb") as fh:
                return fh.read(len(_MAGIC)) == _MAGIC
        except OSError:
            return False

    def read(self, path, *, year=None) -> MRIO:
        from .cache import read_cache_file

        return read_cache_file(path)


class SyntheticReader(Reader):
    name = "synthetic"
    description = "the synthetic Eora26-shaped world (made-up numbers; no path)"
    yearly = True

    def read(self, path, *, year=None, seed=0, n_countries=None, countries=None) -> MRIO:
        from ..datasets import synthetic

        if path is not None:
            raise OptionError(f"the synthetic world reads no file, got the path {path}")
        return synthetic(year=2013 if year is None else year, seed=seed, n_countries=n_countries, countries=countries)

    def sources(self, path, *, year=None, **options) -> list[Path]:
        return []


_BUILTIN = (Eora26Reader, Exiobase3Reader, GloriaReader, PymrioReader, CacheReader, SyntheticReader)
_registered: dict[str, Any] = {}


def register_reader(cls: Any) -> Any:
    """Add a reader class to the registry (the in-process equivalent of the entry point).

    Parameters
    ----------
    cls : type
        A class with ``name``, ``description``, ``can_open(path)`` and
        ``read(path, *, year=None, **options)`` (see :class:`Reader`).

    Returns
    -------
    type
        ``cls`` (so it can be used as a decorator).

    Raises
    ------
    OptionError
        The class lacks one of those, or its name is a built-in reader's.
    """
    why = _not_a_reader(cls)
    if why is not None:
        raise OptionError(f"{cls!r} is not a reader: it needs a name, a description, can_open and read ({why})")
    if cls.name in {b.name for b in _BUILTIN}:
        raise OptionError(f"the reader name {cls.name!r} is taken by a built-in reader")
    _registered[cls.name] = cls
    return cls


def _warn(message: str) -> None:
    warnings.warn(message, RuntimeWarning, stacklevel=4)


def _not_a_reader(cls: Any) -> str | None:
    """Why ``cls`` cannot be a reader class, or None."""
    if not inspect.isclass(cls):
        return f"it is a {type(cls).__name__}, not a class"
    missing = [a for a in ("name", "description", "can_open", "read") if not hasattr(cls, a)]
    if missing:
        return f"it lacks {', '.join(missing)}"
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        return "its name is not a non-empty string"
    return None


def _entry_point_readers() -> dict[str, tuple[Any, str]]:
    """Entry-point reader classes by name, each with where it came from; a plugin that cannot be
    loaded, is not a reader, or repeats a name taken before is left out with a RuntimeWarning."""
    builtin = {b.name for b in _BUILTIN}
    found: dict[str, tuple[Any, str]] = {}
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        origin = f"the reader {ep.name!r} ({ep.value}) of the entry-point group {ENTRY_POINT_GROUP}"
        try:
            cls = ep.load()
        except Exception as exc:  # a broken plugin must not break mrioflow
            _warn(f"{origin} could not be loaded: {type(exc).__name__}: {exc}")
            continue
        why = _not_a_reader(cls)
        if why is not None:
            _warn(f"{origin} is ignored: {why} (see mrioflow.io.Reader)")
        elif cls.name in builtin:
            _warn(
                f"{origin} is ignored: its name {cls.name!r} is that of a built-in reader, which stays; "
                f"the plugin must use another name"
            )
        elif cls.name in found:
            _warn(
                f"{origin} is ignored: its name {cls.name!r} is taken by {found[cls.name][1]}, which stays; "
                f"one of the two plugins must use another name"
            )
        else:
            found[cls.name] = (cls, origin)
    return found


def list_readers() -> dict[str, Reader]:
    """Every reader available now: built-ins, then entry points, then :func:`register_reader`.

    Returns
    -------
    dict of str to Reader
        Reader instances by name. A plugin cannot replace a built-in reader:
        an entry point named like one (or like an earlier entry point) is left
        out with a RuntimeWarning naming both; a class registered with
        :func:`register_reader` replaces an entry point of its name, with a
        warning. A plugin that cannot be loaded or made is left out with a
        warning too.
    """
    classes: dict[str, Any] = {cls.name: cls for cls in _BUILTIN}
    plugins = _entry_point_readers()
    for name, cls in _registered.items():
        if name in plugins:
            _warn(f"the reader {name!r} registered with register_reader ({cls!r}) replaces {plugins[name][1]}")
    for name, cls in {**{n: c for n, (c, _) in plugins.items()}, **_registered}.items():
        # a class written without the base class gets its defaults (yearly, cache_default, sources)
        own = {"__module__": cls.__module__, "__qualname__": cls.__qualname__}  # warnings name the plugin's class
        classes.setdefault(name, cls if issubclass(cls, Reader) else type(cls.__name__, (cls, Reader), own))
    readers = {}
    for name, cls in classes.items():
        try:
            readers[name] = cls()
        except Exception as exc:  # a plugin whose class cannot be made must not break the others
            _warn(f"the reader {name!r} ({cls!r}) is ignored: making it raised {type(exc).__name__}: {exc}")
    return readers


def _menu(readers: dict) -> str:
    return "; ".join(f"{name}: {r.description}" for name, r in readers.items())


def get_reader(format: str) -> Reader:
    """The reader called ``format``.

    Raises
    ------
    OptionError
        No such reader (the message lists the available ones and what each opens).
    """
    readers = list_readers()
    if format not in readers:
        raise OptionError(f"unknown data format {format!r}; available readers: {_menu(readers)}")
    return readers[format]


def guess_reader(path) -> Reader:
    """The one reader whose ``can_open`` accepts ``path``.

    Raises
    ------
    MissingDataError
        ``path`` does not exist.
    ReaderError
        No reader, or more than one, recognises it (the message lists the
        readers and what each opens; pass ``format=`` to choose).

    A reader whose ``can_open`` raises is skipped with a RuntimeWarning naming
    it and the error; the other readers still guess.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise MissingDataError(f"data not found: {p} does not exist")
    readers = list_readers()
    hits = []
    for r in readers.values():
        try:
            if r.can_open(p):
                hits.append(r)
        except Exception as exc:  # one faulty plugin must not stop the others from recognising the path
            warnings.warn(
                f"the reader {r.name!r} ({type(r).__module__}.{type(r).__qualname__}) failed in can_open({p}) "
                f"and is skipped for this path: {type(exc).__name__}: {exc}",
                RuntimeWarning,
                stacklevel=2,
            )
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise ReaderError(
            f"{p} could be read by {' or '.join(r.name for r in hits)}: choose one with format=NAME (--format NAME)"
        )
    raise ReaderError(f"no reader recognises {p}; give format=NAME (--format NAME) with one of: {_menu(readers)}")


def reader_options(reader: Reader, options: dict) -> dict:
    """``options`` completed with the defaults of ``reader.read``'s keyword options.

    Raises
    ------
    OptionError
        An option the reader does not take (the message lists those it takes).
    """
    params = inspect.signature(reader.read).parameters
    own = {n: p for n, p in params.items() if p.kind is p.KEYWORD_ONLY and n != "year"}
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        unknown = sorted(set(options) - set(own))
        if unknown:
            raise OptionError(
                f"the {reader.name} reader takes no option {', '.join(unknown)}; "
                f"its options: {', '.join(own) or 'none'}"
            )
    return {n: p.default for n, p in own.items() if p.default is not p.empty} | dict(options)


def read(
    path=None, *, year=None, format: str | None = None, cache: bool | None = None, cache_dir=None, **options
) -> MRIO:
    """Read a table from any source a registered reader knows.

    Parameters
    ----------
    path : str or path-like, optional
        The data (a file or folder); None for readers that read no file
        (``format="synthetic"``).
    year : int, optional
        The year, for sources that hold several (Eora26: required; synthetic:
        default 2013). Readers of one-table sources ignore it.
    format : str, optional
        The reader's name (see :func:`list_readers`); default: the one reader
        whose ``can_open`` recognises ``path``.
    cache : bool, optional
        Read through the cache (:func:`mrioflow.io.cache.cached_read`); default:
        the reader's ``cache_default`` (True for Eora26).
    cache_dir : path-like, optional
        The cache folder; default ``$XDG_CACHE_HOME/mrioflow`` or ``~/.cache/mrioflow``.
    **options
        The reader's own options, e.g. ``price="pp"`` for Eora26.

    Returns
    -------
    MRIO
        ``meta["reader"]`` names the reader, ``meta["cache"]`` what the cache did.

    Raises
    ------
    OptionError
        An unknown format, an option the reader does not take, no path and no format.
    MissingDataError, ReaderError
        The path does not exist, no reader (or several) recognises it, or the
        reader's own errors.
    """
    if path is None and format is None:
        raise OptionError("give a path to read, or format='synthetic' for the synthetic world")
    reader = get_reader(format) if format is not None else guess_reader(path)
    if path is not None:
        path = Path(os.fspath(path)).expanduser()
    options = reader_options(reader, options)
    if reader.cache_default if cache is None else cache:
        from .cache import cached_read

        mrio = cached_read(reader, path, year=year, options=options, cache_dir=cache_dir)
    else:
        mrio = reader.read(path, year=year, **options)
        mrio.meta["cache"] = "off"
    mrio.meta["reader"] = reader.name
    return mrio
