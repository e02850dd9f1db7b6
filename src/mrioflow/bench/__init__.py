"""The hardware benchmark harness (``mrioflow bench``) and its named cases.

Every figure is reported next to a reference measured in the same run (a bare
SciPy LU of the same matrix, pymrio's ``calc_all``), because the machines this
runs on are shared and noisy: compare ratios, not seconds.
"""

from .harness import CASES, format_report, run_cases

__all__ = ["CASES", "format_report", "run_cases"]
