"""Characterisation: stressors to impacts by a factor table (global warming potentials built in).

``mf.characterise(mrio, "GWP100")`` adds one stressor, the CO2-equivalent of the table's CO2,
CH4 and N2O rows, so the whole study (accounts, flows, BMI, GMI) runs on CO2e as on CH4:

    impact = sum over gases g of factor_g * F[g]      (F_Y the same)

The built-in factors (``data/characterisation_factors.csv``) are IPCC AR6 WG1 (2021) GWP100 and
GWP20 (CH4 without the fossil/non-fossil distinction 27.9 / 81.2, fossil 29.8 / 82.5, non-fossil
27.0 / 80.8; N2O 273) and AR5 (2013, ``GWP100_AR5``: CH4 28, N2O 265), each row with its source.
A user table is a CSV with the columns method, gas, factor (and optionally source).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from . import data
from .errors import LabelError, OptionError, ReaderError
from .mrio import MRIO

__all__ = ["characterise", "factors", "methods"]

#: Mass units a characterised stressor may be given in, in kg; stressors in different units
#: are converted to the largest of their units.
MASS_UNITS = {"kg": 1.0, "t": 1e3, "kt": 1e6, "gg": 1e6, "mt": 1e9, "tg": 1e9}


def factors(table: str | os.PathLike | None = None) -> pd.DataFrame:
    """The factor table: method, gas, factor, source (the built-in one, or a CSV of that layout)."""
    where = "the built-in factor table" if table is None else os.fspath(table)
    try:
        if table is None:
            with data.path("characterisation_factors.csv").open(encoding="utf-8") as fh:
                out = pd.read_csv(fh, keep_default_na=False)
        else:
            out = pd.read_csv(table, keep_default_na=False, encoding="utf-8")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ReaderError(f"{where}: cannot read the characterisation factors ({exc})") from None
    missing = [c for c in ("method", "gas", "factor") if c not in out.columns]
    if missing:
        raise ReaderError(f"{where}: needs the columns method, gas, factor; missing {missing}")
    values = pd.to_numeric(out["factor"], errors="coerce")
    if values.isna().any():
        i = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise ReaderError(f"{where}: row {i + 2} ({out['method'][i]}, {out['gas'][i]}): factor {out['factor'][i]!r}")
    out["factor"] = values.astype(float)
    if "source" not in out.columns:
        out["source"] = where
    return out[["method", "gas", "factor", "source"]]


def methods(table=None) -> list[str]:
    """The methods a factor table offers (built in: GWP100, GWP20, GWP100_AR5, GWP20_AR5)."""
    return list(dict.fromkeys(factors(table)["method"]))


def _convert(unit: str, to: str, name: str) -> float:
    if unit == to:
        return 1.0
    a, b = MASS_UNITS.get(unit.strip().lower()), MASS_UNITS.get(to.strip().lower())
    if a is None or b is None:
        raise OptionError(
            f"stressor {name!r} is in {unit!r}, another characterised stressor in {to!r}: "
            f"mrioflow converts only the mass units {', '.join(MASS_UNITS)}"
        )
    return a / b


def characterise(
    mrio: MRIO,
    method: str = "GWP100",
    *,
    gases: Mapping[str, str | Sequence[str]] | None = None,
    table: str | os.PathLike | None = None,
    name: str | None = None,
) -> MRIO:
    """The table with one more stressor: the impact of its gases under ``method``.

    Parameters
    ----------
    mrio : MRIO
    method : str
        A method of the factor table (:func:`methods`), e.g. "GWP100" (IPCC AR6, the default)
        or "GWP20".
    gases : mapping, optional
        Which stressors hold each gas of the table: ``{"CH4": "CH4", "N2O": ["N2O - air",
        "N2O - soil"]}``. Default: every gas of the method whose name is a stressor of the
        table (case-insensitive). At least one gas must be found.
    table : path, optional
        A CSV of factors (method, gas, factor[, source]) instead of the built-in one.
    name : str, optional
        The new stressor's name (default ``"CO2e (GWP100)"``; ``"<method> impact"`` for a
        method whose gases are not all greenhouse gases).

    Returns
    -------
    MRIO
        With the impact added (or replaced) as a stressor, unit "<unit of the gases> CO2e"; its
        ``meta["characterisation"]`` records the method, each gas's stressors and factor, and
        the source.
    """
    table_ = factors(table)
    if method not in set(table_["method"]):
        raise OptionError(f"unknown characterisation method {method!r}; the factor table has {methods(table)}")
    rows = table_[table_["method"] == method]
    by_gas = dict(zip(rows["gas"], rows["factor"]))
    if gases is None:
        lower = {s.lower(): s for s in mrio.stressors}
        chosen = {g: [lower[g.lower()]] for g in by_gas if g.lower() in lower}
        if not chosen:
            raise LabelError(
                f"no stressor of the table is named after a gas of {method} ({', '.join(by_gas)}); the table has "
                f"{', '.join(mrio.stressors)}; say which stressors hold which gas with gases={{...}}"
            )
    else:
        unknown = [g for g in gases if g not in by_gas]
        if unknown:
            raise LabelError(f"{method} has no factor for {unknown}; it has {', '.join(by_gas)}")
        chosen = {g: [s] if isinstance(s, str) else list(s) for g, s in gases.items()}
    F = np.zeros(mrio.n)
    F_Y = np.zeros(mrio.F_Y.shape[1])
    units = [mrio.units[mrio.stressor_position(s)] for names in chosen.values() for s in names]
    # the largest mass unit among the gases' (numbers stay of the size the table uses)
    unit = max(units, key=lambda u: MASS_UNITS.get(u.strip().lower(), 0.0))
    used = []
    for gas, stressors in chosen.items():
        for s in stressors:
            i = mrio.stressor_position(s)
            scale = by_gas[gas] * _convert(mrio.units[i], unit, s)
            F += scale * mrio.F[i]
            F_Y += scale * mrio.F_Y[i]
            used.append({"gas": gas, "stressor": s, "factor": by_gas[gas], "unit": mrio.units[i]})
    ghg = set(by_gas) <= {"CO2", "CH4", "CH4_fossil", "CH4_non_fossil", "N2O"}
    name = name or (f"CO2e ({method})" if ghg else f"{method} impact")
    out = mrio.with_stressor(name, F, F_Y, unit=f"{unit} CO2e" if ghg else f"{unit} {method}")
    sources = sorted(set(rows["source"]))
    out.meta["characterisation"] = {"method": method, "stressor": name, "gases": used, "source": "; ".join(sources)}
    return out
