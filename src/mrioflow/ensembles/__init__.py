"""Many tables: Monte Carlo ensembles, year (scenario) sweeps, and the task runner and
resumable result folders they share.

Built on the engine's one-table API (``Engine.prepare`` / ``Engine.run``); runs here,
in local threads or processes, or on a Dask cluster (imported only then).
"""

from .ensemble import MonteCarloResults, montecarlo
from .store import ResultStore, table_fingerprint
from .sweeps import SweepResults, sweep
from .tasks import check_scheduler, run_tasks

__all__ = [
    "MonteCarloResults",
    "ResultStore",
    "SweepResults",
    "check_scheduler",
    "montecarlo",
    "run_tasks",
    "sweep",
    "table_fingerprint",
]
