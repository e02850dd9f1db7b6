"""Checks of option values shared by the command line, the settings and the readers.

Each returns the value in its canonical type or raises OptionError naming the option.
"""

from __future__ import annotations

from .errors import OptionError

__all__ = ["check_seed", "check_year"]


def _whole(value) -> int | None:
    """``value`` as an int if it is a whole number (an int, an integral float, or a text such as "12")."""
    if isinstance(value, bool):
        return None
    try:
        whole = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return whole if isinstance(value, str) or whole == value else None


def check_year(value, name: str = "year") -> int:
    """``value`` as a year (a whole number of four digits); OptionError naming ``name`` otherwise."""
    year = _whole(value)
    if year is None or not 1000 <= year <= 9999:
        raise OptionError(f"{name}: {value!r} is not a 4-digit year")
    return year


def check_seed(value, name: str = "seed") -> int:
    """``value`` as a random seed (a whole number >= 0); OptionError naming ``name`` otherwise."""
    seed = _whole(value)
    if seed is None or seed < 0:
        raise OptionError(f"{name}: {value!r} is not a whole number >= 0")
    return seed
