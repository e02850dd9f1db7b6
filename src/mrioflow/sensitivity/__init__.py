"""Sensitivity of the accounts and indices to grouped inputs (docs/method.md section 15).

- :func:`local`: elasticities at the base table, each labelled with how it was computed;
- :func:`sobol`: first-order and total Sobol indices (SALib) over an Evaluator design.

An input group (:class:`InputGroup`) scales a selection of one kind of input (stressor
intensities, final demand, technical coefficients) by one factor; :func:`groups_by` makes
one group per country, region or sector.
"""

from .groups import KINDS, InputGroup, groups_by
from .local import LocalSensitivity, local
from .method import FINAL_DEMAND_READINGS, MethodSensitivity, method_sensitivity
from .sobol_ import SobolResults, analyse_design, sobol

__all__ = [
    "FINAL_DEMAND_READINGS",
    "MethodSensitivity",
    "method_sensitivity",
    "KINDS",
    "InputGroup",
    "LocalSensitivity",
    "SobolResults",
    "analyse_design",
    "groups_by",
    "local",
    "sobol",
]
