"""mrioflow: a GPU-accelerated engine for environmentally extended MRIO analysis.

Importing mrioflow imports neither CuPy, Dask nor matplotlib: they load when a
backend, a sweep or a figure needs them.
"""

# isort: off
from . import _startup  # noqa: F401  (first of all: Ctrl-C while the command starts gives one line)

# isort: on
from importlib.metadata import PackageNotFoundError, version

from . import characterisation, datasets, ensembles, errors, indices, io, kernels, paths, regions, sensitivity
from .aggregate import aggregate
from .characterisation import characterise
from .engine import Engine, Results
from .ensembles import MonteCarloResults, SweepResults, montecarlo, sweep
from .experiments import Scenario
from .experiments.decomposition import decompose
from .mrio import MRIO

try:
    __version__ = version("mrioflow")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"

__all__ = [
    "MRIO",
    "Engine",
    "MonteCarloResults",
    "Results",
    "aggregate",
    "characterisation",
    "characterise",
    "decompose",
    "Scenario",
    "SweepResults",
    "montecarlo",
    "sweep",
    "datasets",
    "ensembles",
    "errors",
    "indices",
    "io",
    "kernels",
    "paths",
    "regions",
    "sensitivity",
    "__version__",
]
