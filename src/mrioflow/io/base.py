"""The base class of readers (:mod:`mrioflow.io.registry` lists and picks them).

Each database's module under ``io/`` owns its reader class (``Eora26Reader`` in
:mod:`~mrioflow.io.eora26`, ``Exiobase3Reader`` in :mod:`~mrioflow.io.exiobase3`);
the registry imports only these public classes.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import OptionError
from ..mrio import MRIO

__all__ = ["Reader", "need_year"]


class Reader:
    """Base class of a reader (subclass it, or write any class with the same attributes).

    Attributes
    ----------
    name : str
        The format name (``mf.io.read(..., format=name)``, ``--format NAME``).
    description : str
        One line: what the reader opens.
    yearly : bool
        True when one path holds several years and ``year`` picks one (the
        pipeline then reads each requested year); False when a path is one table.
    cache_default : bool
        Whether :func:`read` caches this reader's tables unless told otherwise
        (worth it when parsing is slow).
    """

    name: str = ""
    description: str = ""
    yearly: bool = False
    cache_default: bool = False

    def can_open(self, path) -> bool:
        """Whether ``path`` looks like this reader's format (cheap: names and magic, not a parse)."""
        return False

    def read(self, path, *, year=None) -> MRIO:
        """Read ``path`` (the year ``year`` of it, for yearly sources) into an MRIO."""
        raise NotImplementedError

    def sources(self, path, *, year=None, **options) -> list[Path]:
        """The files the table of ``year`` is read from (the cache fingerprints them).

        Default: ``path`` itself, or every file under a folder.
        """
        p = Path(path)
        return sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]


def need_year(reader, year):
    """``year``, or an OptionError saying that the reader needs one."""
    if year is None:
        raise OptionError(f"the {reader.name} reader needs a year (year=...)")
    return year
