"""Pure array kernels: arrays in, arrays out; no labels, no I/O, no global state.

Each kernel infers its array namespace from its inputs (array-api-compat), so it
runs unchanged on NumPy, CuPy and array-api-strict.
"""

from .condition import estimate_condition1, estimate_inverse_norm1, norm1
from .flows import (
    calc_accounts,
    calc_E,
    calc_E_final_demand_sector,
    calc_E_sector,
    calc_EN,
    calc_net_flows,
    split_by_country,
)
from .indices import calc_bmi, calc_gmi, calc_group_matrix, calc_group_vector, calc_minmax, calc_net_totals
from .leontief import calc_A, calc_by_country, calc_L, calc_S, calc_x, solve_D_iba, solve_M, solve_X

__all__ = [
    "calc_A",
    "calc_accounts",
    "calc_bmi",
    "calc_gmi",
    "calc_group_matrix",
    "calc_group_vector",
    "calc_minmax",
    "calc_net_totals",
    "calc_by_country",
    "calc_E",
    "calc_E_final_demand_sector",
    "calc_E_sector",
    "calc_EN",
    "calc_L",
    "calc_net_flows",
    "calc_S",
    "calc_x",
    "estimate_condition1",
    "estimate_inverse_norm1",
    "norm1",
    "solve_D_iba",
    "solve_M",
    "solve_X",
    "split_by_country",
]
