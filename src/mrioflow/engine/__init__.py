"""Choosing a backend, moving data to it, orchestrating a run."""

from .backend import (
    ArrayApiStrictBackend,
    Backend,
    CupyBackend,
    Factorization,
    NumpyBackend,
    get_backend,
)
from .engine import Engine
from .ensemble import MonteCarloResults, montecarlo
from .results import Results
from .sweeps import SweepResults, sweep
from .system import LeontiefSystem

__all__ = [
    "ArrayApiStrictBackend",
    "Backend",
    "CupyBackend",
    "Engine",
    "Factorization",
    "LeontiefSystem",
    "MonteCarloResults",
    "NumpyBackend",
    "Results",
    "SweepResults",
    "get_backend",
    "montecarlo",
    "sweep",
]
