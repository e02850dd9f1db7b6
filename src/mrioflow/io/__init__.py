"""Readers and writers: each returns host NumPy arrays plus labels (an MRIO)."""

from .pymrio import from_pymrio, to_pymrio

__all__ = ["from_pymrio", "to_pymrio"]
