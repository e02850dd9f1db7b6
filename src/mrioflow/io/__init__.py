"""Readers and writers: each returns host NumPy arrays plus labels (an MRIO).

:func:`read` opens any source a registered reader knows (Eora26, EXIOBASE 3, pymrio folders,
mrioflow cache files, the synthetic world, and readers other packages declare
in the entry-point group ``mrioflow.readers``); see :mod:`mrioflow.io.registry`.
"""

from .edgar import attach_edgar, read_edgar
from .eora26 import read_eora26, write_eora26
from .exiobase3 import read_exiobase3
from .pymrio import from_pymrio, to_pymrio
from .pymrio_folder import read_pymrio_folder, write_pymrio_folder
from .registry import Reader, list_readers, read, register_reader

__all__ = [
    "Reader",
    "attach_edgar",
    "from_pymrio",
    "list_readers",
    "read",
    "read_edgar",
    "read_eora26",
    "read_exiobase3",
    "read_pymrio_folder",
    "register_reader",
    "to_pymrio",
    "write_eora26",
    "write_pymrio_folder",
]
