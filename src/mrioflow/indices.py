"""Labelled methane-inequality indices: BMI and GMI by country and by region.

The arithmetic lives in :mod:`mrioflow.kernels.indices` (array-API kernels that
run on the chosen backend); these wrappers validate the options, pick the
arrays out of a :class:`~mrioflow.engine.Results`, apply a grouping
(:mod:`mrioflow.regions`) and return pandas objects.

>>> import mrioflow as mf
>>> res = mf.Engine("numpy").run(mf.datasets.synthetic(2013))      # doctest: +SKIP
>>> mf.indices.bmi(res, "CH4", mf.regions.bri())                   # doctest: +SKIP
>>> mf.indices.gmi(res, "CH4", mf.regions.bri())                   # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .engine.backend import Backend, get_backend
from .kernels import indices as K
from .kernels.indices import CONVENTIONS, NORM_SIGNS, check_option
from .regions import NORM_SETS, Regions, norm_mask_on, resolve_grouping

__all__ = ["CONVENTIONS", "LEVELS", "NORM_SETS", "NORM_SIGNS", "bmi", "bmi_totals", "gmi"]

LEVELS = ("region", "country")


def _prepare(res, stressor, value_added, groups, norm_set, norm_sign, level, backend, convention=None):
    check_option("level", level, LEVELS)
    regions, P, scope = resolve_grouping(
        res.countries, groups, norm_set=norm_set, norm_sign=norm_sign, convention=convention
    )
    k, kv = res.stressor_index(stressor), res.stressor_index(value_added)
    b: Backend = get_backend(_default_backend(res) if backend is None else backend)
    E = b.asarray(res.E[k])
    V = b.asarray(res.E[kv])
    return regions, b, b.xp, E, V, norm_mask_on(b, scope, norm_set), b.asarray(P), scope


def _default_backend(res):
    """The backend the results were computed on (NumPy for results that do not say)."""
    own = getattr(res, "backend", None)
    return own if isinstance(own, Backend) else "numpy"


def _attrs(res, regions: Regions, **options) -> dict:
    m = res.mrio
    return {
        "year": m.year,
        "source": m.source,
        "synthetic": m.synthetic,
        "grouping": regions.name,
        **options,
    }


def bmi(
    res,
    stressor: str = "CH4",
    groups=None,
    *,
    value_added: str = "VA",
    convention: str = "printed",
    norm_set: str = "all",
    norm_sign: str = "signed",
    norm_quantiles=(0.0, 1.0),
    level: str = "region",
    backend=None,
) -> pd.DataFrame:
    """Bilateral methane inequality index (BMI), by region pair or by country pair.

    Parameters
    ----------
    res : Results
        One engine run (``Engine.run``); its E of ``stressor`` and of
        ``value_added`` are used, over the whole table.
    stressor : str
        The stressor whose inequality is measured (default "CH4").
    groups : Regions, dict, CSV path or None
        The grouping (country -> group). None: the Belt and Road grouping
        (:func:`mrioflow.regions.bri`).
    value_added : str
        The stressor holding value added (default "VA").
    convention : {"printed", "victim_row", "beneficiary_row"}
        Which case is the severe one (docs/method.md section 5); "printed"
        reproduces the report's formula.
    norm_set : {"all", "scope"}
        Countries the index is computed over and normalised against: every
        country of the table (default) or only the grouping's countries.
    norm_sign : {"signed", "abs"}
        Normalise signed values (default) or absolute values.
    norm_quantiles : (float, float)
        (0, 1), the default: the literal min-max of the report. (lo, hi): the
        robust normalisation (docs/method.md section 5): min and max taken at
        these quantiles of each set B, values clipped into [0, 1]; e.g.
        (0.05, 0.95) keeps a few extreme ratios from squeezing all others.
    level : {"region", "country"}
        "region": G x G sums over ordered distinct country pairs;
        "country": the member countries' R_g x R_g matrix (grouping order).
    backend : str or Backend, optional
        Where the index arithmetic runs ("numpy", "cupy", "array_api_strict",
        "auto"); default: the backend ``res`` was computed on.

    Returns
    -------
    pandas.DataFrame
        Rows: the first (row) region or country; columns: the partner. Not
        symmetric. ``attrs`` records the options, year, source and whether the
        data are synthetic. A region's overall bilateral index is its row sum
        (:func:`bmi_totals`).

    Notes
    -----
    Country level, for EN[r, s] > 0 (else 0), with f the min-max
    normalisation of docs/method.md eq. 6 (see :func:`mrioflow.kernels.indices.calc_bmi`):

    - printed: Vbar < 0: f(EN / Vbar); Vbar > 0: f(EN) + f(|Vbar|) + 1
    - victim_row: the cases swapped; beneficiary_row: victim_row transposed.

    Region level (docs/method.md section 7): BMI[Rg, Sg] = sum over r in Rg,
    s in Sg, r != s of BMI[r, s]. With ``norm_set="scope"``, pairs involving a
    country outside the grouping are not computed (0) and the sets B hold the
    grouping's pairs only; with "all" (default) they hold every pair of the
    table.

    Raises
    ------
    OptionError
        An option value that does not exist (the message lists the valid ones).
    LabelError
        Unknown stressor, or grouping countries missing from the table.
    """
    regions, b, xp, E, V, norm_mask, P, scope = _prepare(
        res, stressor, value_added, groups, norm_set, norm_sign, level, backend, convention
    )
    qs = K.check_quantiles(norm_quantiles)
    B = K.calc_bmi(E, V, convention=convention, norm_mask=norm_mask, norm_sign=norm_sign, norm_quantiles=qs)
    attrs = _attrs(
        res,
        regions,
        index="BMI",
        stressor=stressor,
        value_added=value_added,
        convention=convention,
        norm_set=norm_set,
        norm_sign=norm_sign,
        norm_quantiles=qs,
        level=level,
        backend=b.name,
    )
    if level == "region":
        G = b.to_host(K.calc_group_matrix(B, P))
        df = pd.DataFrame(
            G,
            index=pd.Index(regions.groups, name="region"),
            columns=pd.Index(regions.groups, name="partner region"),
        )
    else:
        host = b.to_host(B)
        pos = {c: i for i, c in enumerate(res.countries)}
        idx = [pos[c] for c in regions.countries]
        df = pd.DataFrame(
            host[np.ix_(idx, idx)],
            index=pd.Index(regions.countries, name="country"),
            columns=pd.Index(regions.countries, name="partner country"),
        )
    df.attrs.update(attrs)
    return df


def bmi_totals(matrix: pd.DataFrame) -> pd.Series:
    """A region's (or country's) overall bilateral index: the row sum of a BMI matrix
    over every partner, itself included (docs/method.md section 7)."""
    out = matrix.sum(axis=1).rename("BMI total")
    out.attrs.update(matrix.attrs)
    return out


def gmi(
    res,
    stressor: str = "CH4",
    groups=None,
    *,
    value_added: str = "VA",
    norm_set: str = "all",
    norm_sign: str = "signed",
    norm_quantiles=(0.0, 1.0),
    level: str = "region",
    backend=None,
) -> pd.Series:
    """Global methane inequality index (GMI), by region or by country.

    Parameters
    ----------
    res : Results
    stressor, value_added : str
    groups : Regions, dict, CSV path or None (BRI)
    norm_set : {"all", "scope"}
        Normalise over every country of the table (default) or only the
        grouping's countries. Either way E^r and V^r sum over every partner of
        the table (the global network).
    norm_sign : {"signed", "abs"}
    norm_quantiles : (float, float)
        As :func:`bmi`.
    level : {"region", "country"}
        "region": the sum of members' GMI; "country": members in grouping order.
    backend : str or Backend, optional
        Default: the backend ``res`` was computed on.

    Returns
    -------
    pandas.Series
        GMI per region (or country), name "GMI". Country values lie in [-3, 3];
        > 0 benefits from the global methane trade inequality, < 0 is harmed.

    Notes
    -----
    E^r = sum_{s != r} Ebar[r, s] (= PBA_r - CBA_r without direct emissions),
    V^r likewise (docs/method.md eqs. 8-10):
    E^r > 0, V^r < 0: -f(E^r) - f(V^r) - 1; E^r > 0, V^r > 0: -f(E^r/V^r);
    E^r < 0, V^r < 0: f(E^r/V^r); E^r < 0, V^r > 0: f(E^r) + f(V^r) + 1;
    a zero E^r or V^r: 0. See :func:`mrioflow.kernels.indices.calc_gmi`.

    Raises
    ------
    OptionError, LabelError
        As :func:`bmi`.
    """
    regions, b, xp, E, V, norm_mask, P, scope = _prepare(
        res, stressor, value_added, groups, norm_set, norm_sign, level, backend
    )
    qs = K.check_quantiles(norm_quantiles)
    g = K.calc_gmi(E, V, norm_mask=norm_mask, norm_sign=norm_sign, norm_quantiles=qs)
    attrs = _attrs(
        res,
        regions,
        index="GMI",
        stressor=stressor,
        value_added=value_added,
        norm_set=norm_set,
        norm_sign=norm_sign,
        norm_quantiles=qs,
        level=level,
        backend=b.name,
    )
    if level == "region":
        out = pd.Series(b.to_host(K.calc_group_vector(g, P)), index=pd.Index(regions.groups, name="region"), name="GMI")
    else:
        host = b.to_host(g)
        pos = {c: i for i, c in enumerate(res.countries)}
        out = pd.Series(
            host[[pos[c] for c in regions.countries]],
            index=pd.Index(regions.countries, name="country"),
            name="GMI",
        )
    out.attrs.update(attrs)
    return out
