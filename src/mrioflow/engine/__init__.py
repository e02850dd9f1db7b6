"""One table on one device: choosing a backend, moving data to it, factoring, running.

Everything that loops over many tables lives in :mod:`mrioflow.ensembles`.
"""

from .backend import (
    ArrayApiStrictBackend,
    Backend,
    CupyBackend,
    Factorization,
    NumpyBackend,
    get_backend,
)
from .engine import Engine, PreparedTable
from .results import Results
from .system import LeontiefSystem

__all__ = [
    "ArrayApiStrictBackend",
    "Backend",
    "CupyBackend",
    "Engine",
    "Factorization",
    "LeontiefSystem",
    "NumpyBackend",
    "PreparedTable",
    "Results",
    "get_backend",
]
