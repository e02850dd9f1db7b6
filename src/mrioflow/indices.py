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

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .engine.backend import Backend, get_backend
from .errors import OptionError
from .kernels import indices as K
from .kernels.indices import CONVENTIONS, NORM_SIGNS, check_option
from .regions import NORM_SETS, Regions, norm_mask_on, resolve_grouping

__all__ = ["CONVENTIONS", "LEVELS", "NORM_SETS", "NORM_SIGNS", "OPTIONS", "IndexSpec", "bmi", "bmi_totals", "gmi"]

LEVELS = ("region", "country")
#: The options every index computation takes (``mf.indices`` and ``mf.montecarlo(indices=...)``).
OPTIONS = (
    "stressor",
    "value_added",
    "groups",
    "convention",
    "norm_set",
    "norm_sign",
    "norm_quantiles",
    "norm_nonzero",
)


@dataclass(frozen=True)
class IndexSpec:
    """Index options resolved against one table: the stressor rows, the grouping as
    arrays, and the options of docs/method.md sections 4-7.

    Made by :meth:`resolve`; :meth:`compute` evaluates country GMI and region BMI from
    stacked embodied flows on any backend. ``mf.indices.bmi``/``gmi`` and the Monte Carlo
    ensembles call the same kernels with the same options through it.
    """

    k: int
    kv: int
    groups: tuple
    members: tuple  # the grouping's countries, in the table's order
    P: np.ndarray  # (G, R) membership
    scope: np.ndarray  # (R,) bool: members of the grouping
    convention: str
    norm_set: str
    norm_sign: str
    norm_quantiles: tuple
    regions: Regions = field(compare=False, repr=False)  # the grouping as given (its own country order)
    norm_nonzero: bool = False  # leave zero entries out of the normalisation sets

    @classmethod
    def resolve(cls, options: Mapping, countries, stressor_position) -> IndexSpec:
        """Check ``options`` (keys among :data:`OPTIONS`) against a table's countries;
        ``stressor_position(name)`` gives a stressor's row (LabelError if unknown)."""
        unknown = [key for key in options if key not in OPTIONS]
        if unknown:
            raise OptionError(f"unknown indices option(s) {unknown}; choose from {OPTIONS}")
        opts = {
            "stressor": "CH4",
            "value_added": "VA",
            "groups": None,
            "convention": "printed",
            "norm_set": "all",
            "norm_sign": "signed",
            "norm_quantiles": (0.0, 1.0),
            "norm_nonzero": False,
            **options,
        }
        regions, P, scope = resolve_grouping(
            countries,
            opts["groups"],
            norm_set=opts["norm_set"],
            norm_sign=opts["norm_sign"],
            convention=opts["convention"],
        )
        members = set(regions.countries)
        return cls(
            k=stressor_position(opts["stressor"]),
            kv=stressor_position(opts["value_added"]),
            groups=tuple(regions.groups),
            members=tuple(c for c in countries if c in members),
            P=P,
            scope=scope,
            convention=opts["convention"],
            norm_set=opts["norm_set"],
            norm_sign=opts["norm_sign"],
            norm_quantiles=K.check_quantiles(opts["norm_quantiles"]),
            regions=regions,
            norm_nonzero=bool(opts["norm_nonzero"]),
        )

    def _common(self, backend: Backend) -> dict:
        mask = norm_mask_on(backend, self.scope, self.norm_set)
        common = {"norm_mask": mask, "norm_sign": self.norm_sign, "norm_quantiles": self.norm_quantiles}
        return {**common, "norm_nonzero": True} if self.norm_nonzero else common

    def country_bmi(self, E, V, backend: Backend):
        """Country-pair BMI (..., R, R) of one stressor's flows E and value added's V (device arrays)."""
        return K.calc_bmi(E, V, convention=self.convention, **self._common(backend))

    def country_gmi(self, E, V, backend: Backend):
        """Country GMI (..., R) of one stressor's flows E and value added's V (device arrays)."""
        return K.calc_gmi(E, V, **self._common(backend))

    def compute(self, E, backend: Backend, P=None):
        """Country GMI (..., R) and region BMI (..., G, G) from embodied flows E (..., k, R, R)."""
        P = backend.asarray(self.P) if P is None else P
        Es, V = E[..., self.k, :, :], E[..., self.kv, :, :]
        return self.country_gmi(Es, V, backend), K.calc_group_matrix(self.country_bmi(Es, V, backend), P)

    def describe(self) -> dict:
        """What determines the indices (JSON-safe; for a store's manifest)."""
        from .ensembles.store import array_fingerprint

        return {
            "k": self.k,
            "kv": self.kv,
            "groups": list(self.groups),
            "members": list(self.members),
            "P": array_fingerprint(self.P),
            "convention": self.convention,
            "norm_set": self.norm_set,
            "norm_sign": self.norm_sign,
            "norm_quantiles": list(self.norm_quantiles),
            # only when set: the fingerprints of earlier stores stay as they were
            **({"norm_nonzero": True} if self.norm_nonzero else {}),
        }


def _prepare(res, level, backend, **options):
    """The options resolved against ``res`` (an :class:`IndexSpec`), the grouping, the backend,
    and the stressor's and value added's flows on it."""
    check_option("level", level, LEVELS)
    spec = IndexSpec.resolve(options, res.countries, res.stressor_index)
    regions = spec.regions
    b: Backend = get_backend(_default_backend(res) if backend is None else backend)
    return spec, regions, b, b.asarray(res.E[spec.k]), b.asarray(res.E[spec.kv])


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
    spec, regions, b, E, V = _prepare(
        res,
        level,
        backend,
        stressor=stressor,
        value_added=value_added,
        groups=groups,
        convention=convention,
        norm_set=norm_set,
        norm_sign=norm_sign,
        norm_quantiles=norm_quantiles,
    )
    qs = spec.norm_quantiles
    B = spec.country_bmi(E, V, b)
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
        G = b.to_host(K.calc_group_matrix(B, b.asarray(spec.P)))
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
    spec, regions, b, E, V = _prepare(
        res,
        level,
        backend,
        stressor=stressor,
        value_added=value_added,
        groups=groups,
        norm_set=norm_set,
        norm_sign=norm_sign,
        norm_quantiles=norm_quantiles,
    )
    qs = spec.norm_quantiles
    g = spec.country_gmi(E, V, b)
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
        out = pd.Series(
            b.to_host(K.calc_group_vector(g, b.asarray(spec.P))),
            index=pd.Index(regions.groups, name="region"),
            name="GMI",
        )
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
