"""Experiments: many evaluations of one prepared base table (docs/method.md section 12).

An experiment is a base (``Engine.prepare``) plus a design (rows of changes to named
inputs) plus the outputs asked for. :class:`Scenario` makes design rows from named
changes; :class:`Evaluator` evaluates a batch of rows, each priced by what it changes.
"""

from .evaluator import Evaluator, ExperimentResults
from .scenario import KINDS, Change, DesignRow, Scenario, load_scenarios, scenarios_from_dict

__all__ = [
    "KINDS",
    "Change",
    "DesignRow",
    "Evaluator",
    "ExperimentResults",
    "Scenario",
    "load_scenarios",
    "scenarios_from_dict",
]
