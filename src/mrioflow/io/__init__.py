"""Readers and writers: each returns host NumPy arrays plus labels (an MRIO)."""

from .edgar import attach_edgar, read_edgar
from .eora26 import read_eora26, write_eora26
from .pymrio import from_pymrio, to_pymrio
from .pymrio_folder import read_pymrio_folder, write_pymrio_folder

__all__ = [
    "attach_edgar",
    "from_pymrio",
    "read_edgar",
    "read_eora26",
    "read_pymrio_folder",
    "to_pymrio",
    "write_eora26",
    "write_pymrio_folder",
]
