"""The MRIO container: host NumPy arrays plus labels, validated when built."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import InvalidValueError, LabelError, ShapeError


def _labels(name: str, values: Sequence[str] | None) -> tuple[str, ...]:
    if values is None:
        raise LabelError(f"{name} labels are missing")
    out = tuple(str(v) for v in values)
    seen: set[str] = set()
    dup = sorted({v for v in out if v in seen or seen.add(v)})
    if dup:
        raise LabelError(f"{name} labels must be unique, duplicated: {', '.join(dup[:10])}")
    return out


class _Labelled:
    """Label helpers shared by the full table and its labels-only form."""

    countries: tuple[str, ...]
    sectors: tuple[str, ...]
    fd_categories: tuple[str, ...]
    stressors: tuple[str, ...]
    meta: Mapping

    @property
    def n_countries(self) -> int:
        return len(self.countries)

    @property
    def n_sectors(self) -> int:
        return len(self.sectors)

    @property
    def n(self) -> int:
        return self.n_countries * self.n_sectors

    @property
    def synthetic(self) -> bool:
        return bool(self.meta.get("synthetic", False))

    def sector_index(self) -> pd.MultiIndex:
        """(country, sector) index of the n rows of Z."""
        return pd.MultiIndex.from_product([self.countries, self.sectors], names=["country", "sector"])

    def fd_index(self) -> pd.MultiIndex:
        """(country, category) index of the columns of Y."""
        return pd.MultiIndex.from_product([self.countries, self.fd_categories], names=["country", "category"])

    def stressor_position(self, stressor: str) -> int:
        """Row of ``stressor`` in F; a LabelError lists the available ones."""
        try:
            return self.stressors.index(stressor)
        except ValueError:
            raise LabelError(f"unknown stressor {stressor!r}; this table has: {', '.join(self.stressors)}") from None


@dataclass(frozen=True, eq=False)
class TableLabels(_Labelled):
    """The labels of an MRIO without its arrays (what stored results need)."""

    countries: tuple[str, ...]
    sectors: tuple[str, ...]
    fd_categories: tuple[str, ...]
    stressors: tuple[str, ...]
    units: tuple[str, ...]
    country_names: tuple[str, ...]
    year: int | None = None
    source: str = ""
    meta: Mapping = field(default_factory=dict)

    def to_json(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, data: dict) -> TableLabels:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


@dataclass(frozen=True, eq=False)
class MRIO(_Labelled):
    """An environmentally extended multi-regional input-output table (host side).

    Parameters
    ----------
    Z : ndarray (n, n)
        Intermediate transactions, row = selling sector, column = buying sector;
        sectors ordered country-major (country 0's S sectors, then country 1's...).
    Y : ndarray (n, R * c)
        Final demand; columns country-major (country, category).
    F : ndarray (k, n)
        Satellite account: stressors by sector. Value added is carried as a
        stressor (conventionally named "VA").
    F_Y : ndarray (k, R * c)
        Stressors emitted directly by final demand (households).
    countries, sectors, fd_categories, stressors : sequences of str
        Labels: R country codes, S sector names, c final-demand categories, k stressors.
    units : sequence of str
        One unit per stressor (e.g. "Gg", "kUSD").
    country_names : sequence of str, optional
        Long names of the countries (defaults to the codes).
    year : int, optional
    source : str
        Where the table comes from; synthetic tables say so here.
    meta : mapping
        Free-form provenance (``meta["synthetic"]`` is True for made-up data).

    Raises
    ------
    ShapeError, LabelError, InvalidValueError
        On inconsistent shapes, duplicated or missing labels, non-finite values
        or negative gross output.
    """

    Z: np.ndarray
    Y: np.ndarray
    F: np.ndarray
    F_Y: np.ndarray
    # Given as any sequences; stored as tuples of str (country_names: the codes when not given).
    countries: Sequence[str]
    sectors: Sequence[str]
    fd_categories: Sequence[str]
    stressors: Sequence[str]
    units: Sequence[str]
    country_names: Sequence[str] | None = None
    year: int | None = None
    source: str = "user data"
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        set_ = object.__setattr__
        for name in ("countries", "sectors", "fd_categories", "stressors"):
            set_(self, name, _labels(name, getattr(self, name)))
        units = tuple(str(u) for u in self.units)
        set_(self, "units", units)
        if self.country_names is None:
            set_(self, "country_names", self.countries)
        else:
            set_(self, "country_names", tuple(str(c) for c in self.country_names))
        set_(self, "meta", dict(self.meta))
        R, S, c, k = len(self.countries), len(self.sectors), len(self.fd_categories), len(self.stressors)
        n = R * S
        expected = {"Z": (n, n), "Y": (n, R * c), "F": (k, n), "F_Y": (k, R * c)}
        for name, shape in expected.items():
            a = getattr(self, name)
            try:
                a = np.ascontiguousarray(a, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise InvalidValueError(f"{name} must be numeric: {exc}") from None
            if name == "Z" and (a.ndim != 2 or a.shape[0] != a.shape[1]):
                raise ShapeError(f"Z must be square, got shape {a.shape}")
            if a.shape != shape:
                raise ShapeError(
                    f"{name} must have shape {shape} for {R} countries x {S} sectors, "
                    f"{c} final-demand categories and {k} stressors; got {a.shape}"
                )
            set_(self, name, a)
        if len(units) != k:
            raise LabelError(f"units must give one unit per stressor ({k}), got {len(units)}")
        if len(self.country_names) != R:
            raise LabelError(f"country_names must have {R} entries, got {len(self.country_names)}")
        for name in expected:
            self._check_finite(name)
        x = self.x
        if np.any(x < 0):
            bad = np.flatnonzero(x < 0)
            where = ", ".join(f"{self._sector_label(i)} ({x[i]:.6g})" for i in bad[:5])
            raise InvalidValueError(
                f"gross output x = Z 1 + Y 1 must be non-negative; it is negative for {bad.size} sector(s): {where}"
            )

    def _sector_label(self, i: int) -> str:
        S = len(self.sectors)
        return f"{self.countries[i // S]}/{self.sectors[i % S]}"

    def _check_finite(self, name: str) -> None:
        a = getattr(self, name)
        finite = np.isfinite(a)
        if not finite.all():
            row, col = np.argwhere(~finite)[0]
            raise InvalidValueError(
                f"{name} contains {int((~finite).sum())} non-finite value(s) (NaN or inf); "
                f"first at row {row}, column {col}: {a[row, col]}"
            )

    # -- sizes ------------------------------------------------------------------
    @property
    def x(self) -> np.ndarray:
        """Gross output x = Z 1 + Y 1 (host, computed on demand)."""
        return self.Z.sum(axis=1) + self.Y.sum(axis=1)

    def labels(self) -> TableLabels:
        """The labels alone (JSON-serialisable through ``to_json``)."""
        return TableLabels(
            countries=self.countries,
            sectors=self.sectors,
            fd_categories=self.fd_categories,
            stressors=self.stressors,
            units=self.units,
            country_names=self.country_names,
            year=self.year,
            source=self.source,
            meta={k: v for k, v in self.meta.items() if isinstance(v, str | int | float | bool)},
        )

    # -- derived tables -----------------------------------------------------------
    def replace(self, **changes) -> MRIO:
        """A copy with some fields replaced (validated again)."""
        return dataclasses.replace(self, **changes)

    def select_stressors(self, stressors: Sequence[str]) -> MRIO:
        """The same table keeping only the given stressors, in that order."""
        idx = [self.stressor_position(s) for s in stressors]
        return self.replace(
            F=self.F[idx],
            F_Y=self.F_Y[idx],
            stressors=[self.stressors[i] for i in idx],
            units=[self.units[i] for i in idx],
        )

    def with_stressor(self, name: str, F_row, F_Y_row=None, unit: str = "") -> MRIO:
        """Add a stressor, or replace the one of that name (e.g. EDGAR methane)."""
        F_row = np.asarray(F_row, dtype=np.float64).reshape(1, -1)
        F_Y_row = (
            np.zeros((1, self.F_Y.shape[1]))
            if F_Y_row is None
            else np.asarray(F_Y_row, dtype=np.float64).reshape(1, -1)
        )
        keep = [i for i, s in enumerate(self.stressors) if s != name]
        return self.replace(
            F=np.vstack([self.F[keep], F_row]),
            F_Y=np.vstack([self.F_Y[keep], F_Y_row]),
            stressors=[self.stressors[i] for i in keep] + [name],
            units=[self.units[i] for i in keep] + [unit],
        )

    def __repr__(self) -> str:
        kind = "synthetic " if self.synthetic else ""
        return (
            f"<MRIO {kind}{self.year or ''}: {self.n_countries} countries x {self.n_sectors} sectors "
            f"(n={self.n}), {len(self.fd_categories)} final-demand categories, "
            f"stressors {list(self.stressors)}; source: {self.source}>"
        )


def trusted_mrio(**fields) -> MRIO:
    """Build an MRIO from arrays and labels validated before (e.g. a checksummed cache),
    skipping the checks of ``MRIO.__init__``; labels are normalised to tuples."""
    obj = object.__new__(MRIO)
    for f in dataclasses.fields(MRIO):
        if f.name in fields:
            value = fields[f.name]
        elif f.default is not dataclasses.MISSING:
            value = f.default
        else:
            value = f.default_factory()
        if isinstance(value, list):
            value = tuple(value)
        object.__setattr__(obj, f.name, value)
    return obj
