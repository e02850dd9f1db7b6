"""Country groupings (concordances country -> group) such as the Belt and Road regions.

A :class:`Regions` object maps country codes (as the table writes them, ISO3 for
Eora26) to named groups. The indices (:mod:`mrioflow.indices`) and the analysis
pipeline sum country values to these groups (docs/method.md section 7).

Three ways to make one:

- :func:`bri` - the built-in Belt and Road grouping: 62 countries in 9 regions,
  with English and Chinese names (``data/bri_regions.csv``);
- :func:`from_csv` - any CSV with an ``iso3`` column and a group column;
- :func:`from_dict` - a dict country -> group, or group -> list of countries.

Countries of a grouping must all be in the table (:meth:`Regions.check`, an
error that lists the missing ones); table countries outside the grouping stay
in the global network (they count for GMI and for the normalisation) but get
no region of their own.

Databases that do not resolve every country (EXIOBASE 3: 44 countries and five
rest-of-world regions) name their regions by their own codes. A concordance per
database, ``data/{database}_regions.csv`` (columns ``code``, ``code_name``,
``aggregate`` 0/1, ``iso3``, ``country_name``; one row per country, so an
aggregate region has one row per member country), is read by :func:`concordance`,
and :func:`resolve_for_table` turns an ISO3 grouping into one of the table's
codes: countries the table resolves are used as themselves, countries inside an
aggregate region are named as unresolved, and an explicit ``assign`` mapping
puts whole aggregate regions into groups.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import data
from .engine.backend import Backend, get_backend
from .errors import LabelError, MissingDataError, OptionError, ReaderError
from .kernels.indices import CONVENTIONS, NORM_SIGNS, calc_group_matrix, check_option

__all__ = [
    "NORM_SETS",
    "Concordance",
    "Regions",
    "Resolution",
    "as_regions",
    "bri",
    "concordance",
    "from_csv",
    "from_dict",
    "group_matrix",
    "norm_mask_on",
    "resolve_for_table",
    "resolve_grouping",
]

#: Countries an index is computed over and normalised against (docs/method.md section 6).
NORM_SETS = ("all", "scope")

#: Group column names tried, in order, when a CSV does not say which to use.
GROUP_COLUMNS = ("region_en", "region", "group", "group_en")


class Regions:
    """A concordance country -> group, ordered.

    Parameters
    ----------
    mapping : mapping of str to str
        Country code -> group name. The order of the mapping is the order of
        the countries; groups are ordered by their first member unless
        ``group_order`` says otherwise.
    name : str
        A short name of the grouping, used in reports ("BRI", "custom", ...).
    country_names : mapping of str to str, optional
        Long (English) country names by code.
    country_names_zh, group_names_zh : mapping of str to str, optional
        Chinese names of countries and groups, where known.
    group_order : sequence of str, optional
        The order of the groups (must list each group exactly once).

    Raises
    ------
    LabelError
        Empty grouping, empty or non-string codes or group names, or a
        ``group_order`` that does not list the groups exactly.

    Examples
    --------
    >>> import mrioflow as mf
    >>> g = mf.regions.from_dict({"CHN": "East", "JPN": "East", "DEU": "West"})
    >>> g.groups
    ('East', 'West')
    >>> g.members("East")
    ('CHN', 'JPN')
    """

    def __init__(
        self,
        mapping: Mapping[str, str],
        *,
        name: str = "custom",
        country_names: Mapping[str, str] | None = None,
        country_names_zh: Mapping[str, str] | None = None,
        group_names_zh: Mapping[str, str] | None = None,
        group_order: Sequence[str] | None = None,
    ):
        if not isinstance(mapping, Mapping):
            raise LabelError(f"a grouping must be a mapping country -> group, got {type(mapping).__name__}")
        if len(mapping) == 0:
            raise LabelError("a grouping must hold at least one country, got an empty one")
        clean: dict[str, str] = {}
        for country, group in mapping.items():
            if not isinstance(country, str) or not country.strip():
                raise LabelError(f"country codes must be non-empty strings, got {country!r}")
            if not isinstance(group, str) or not group.strip():
                raise LabelError(f"the group of {country!r} must be a non-empty string, got {group!r}")
            clean[country.strip()] = group.strip()
        self._map = clean
        groups = list(dict.fromkeys(clean.values()))
        if group_order is not None:
            order = [str(g) for g in group_order]
            if sorted(order) != sorted(groups):
                raise LabelError(f"group_order must list each group exactly once; groups are {groups}, got {order}")
            groups = order
        self._groups = tuple(groups)
        self.name = str(name)
        self.country_names = dict(country_names or {})
        self.country_names_zh = dict(country_names_zh or {})
        self.group_names_zh = dict(group_names_zh or {})

    # -- the concordance ------------------------------------------------------
    @property
    def countries(self) -> tuple[str, ...]:
        """The member countries, in the grouping's order."""
        return tuple(self._map)

    @property
    def groups(self) -> tuple[str, ...]:
        """The group names, in order."""
        return self._groups

    def group_of(self, country: str) -> str | None:
        """The group of ``country``, or None when it is not in the grouping."""
        return self._map.get(country)

    def members(self, group: str) -> tuple[str, ...]:
        """Member countries of ``group``; a LabelError lists the groups when it does not exist."""
        if group not in self._groups:
            raise LabelError(f"unknown group {group!r}; the groups are: {', '.join(self._groups)}")
        return tuple(c for c, g in self._map.items() if g == group)

    def __len__(self) -> int:
        return len(self._map)

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)

    def __contains__(self, country: object) -> bool:
        return country in self._map

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Regions):
            return NotImplemented
        return self._map == other._map and self._groups == other._groups

    def __repr__(self) -> str:
        return f"<Regions {self.name}: {len(self)} countries in {len(self._groups)} groups>"

    def to_series(self) -> pd.Series:
        """Country code -> group as a pandas Series (index ``country``)."""
        return pd.Series(self._map, name="group").rename_axis("country")

    def to_frame(self) -> pd.DataFrame:
        """The grouping as a table: iso3, name_en, name_zh, region_en, region_zh."""
        rows = [
            {
                "iso3": c,
                "name_en": self.country_names.get(c, ""),
                "name_zh": self.country_names_zh.get(c, ""),
                "region_en": g,
                "region_zh": self.group_names_zh.get(g, ""),
            }
            for c, g in self._map.items()
        ]
        return pd.DataFrame(rows)

    # -- against a table -------------------------------------------------------
    def missing(self, countries: Iterable[str]) -> list[str]:
        """Members of the grouping that are not in ``countries`` (in grouping order)."""
        have = set(countries)
        return [c for c in self._map if c not in have]

    def check(self, countries: Iterable[str]) -> None:
        """Raise if any member of the grouping is missing from the table's countries.

        Raises
        ------
        LabelError
            Listing every missing code ("grouping 'x' has 2 countries not in
            the table: ABC, XYZ").
        """
        miss = self.missing(countries)
        if miss:
            noun = "country" if len(miss) == 1 else "countries"
            raise LabelError(f"grouping {self.name!r} has {len(miss)} {noun} not in the table: {', '.join(miss)}")

    def membership(self, countries: Sequence[str], *, other: str | None = None) -> np.ndarray:
        """Membership matrix P (G x R) of the table's countries: P[g, r] = 1 if r is in g.

        Table countries outside the grouping have an all-zero column, or, with
        ``other``, a last row of their own (added only when there are such
        countries). Checks first that every member is in ``countries`` (:meth:`check`).
        """
        countries = list(countries)
        self.check(countries)
        outside = [j for j, c in enumerate(countries) if c not in self._map]
        extra = 1 if other is not None and outside else 0
        pos = {c: i for i, c in enumerate(countries)}
        P = np.zeros((len(self._groups) + extra, len(countries)))
        gpos = {g: i for i, g in enumerate(self._groups)}
        for c, g in self._map.items():
            P[gpos[g], pos[c]] = 1.0
        if extra:
            P[-1, outside] = 1.0
        return P

    def mask(self, countries: Sequence[str]) -> np.ndarray:
        """Boolean vector over the table's countries: True for members of the grouping."""
        return np.array([c in self._map for c in countries], dtype=bool)


def resolve_grouping(countries, groups, *, norm_set="all", norm_sign="signed", convention=None):
    """Check the index options and resolve a grouping against the table's countries.

    Returns
    -------
    regions : Regions
    P : ndarray (G, R)
        Membership matrix (host).
    scope : ndarray (R,) of bool
        Members of the grouping (host).

    Raises
    ------
    OptionError
        An option value that does not exist.
    LabelError
        Grouping countries missing from the table.
    """
    if convention is not None:
        check_option("convention", convention, CONVENTIONS)
    check_option("norm_set", norm_set, NORM_SETS)
    check_option("norm_sign", norm_sign, NORM_SIGNS)
    regions = as_regions(groups)
    countries = list(countries)
    P = regions.membership(countries)  # checks that every member is in the table
    return regions, P, regions.mask(countries)


def norm_mask_on(backend: Backend, scope: np.ndarray, norm_set: str):
    """The kernels' ``norm_mask`` on the backend's device: None for "all", the scope for "scope"."""
    return None if norm_set == "all" else backend.asarray(scope.astype(np.float64)) > 0.5


def group_matrix(M: np.ndarray, P: np.ndarray, backend: str | Backend | None = None) -> np.ndarray:
    """Sum a host country x country matrix M (..., R, R) to groups, P M P^T (..., G, G),
    with :func:`mrioflow.kernels.calc_group_matrix` on ``backend`` (default NumPy)."""
    b = get_backend("numpy" if backend is None else backend)
    return b.to_host(calc_group_matrix(b.asarray(M), b.asarray(P)))


def bri() -> Regions:
    """The Belt and Road grouping: 62 countries in 9 regions (docs/method.md section 7).

    Read from the bundled ``data/bri_regions.csv`` (ISO3 codes, English and
    Chinese names of countries and regions). The regions, in the file's order:
    China, Mongolia-Russia, Southeast Asia, South Asia, Central Asia, West
    Asia, Southern Europe, Eastern Europe, Central Europe.
    """
    with data.path("bri_regions.csv").open(encoding="utf-8") as fh:
        table = pd.read_csv(fh, keep_default_na=False, dtype=str)
    return _from_table(table, "region_en", name="BRI", source="data/bri_regions.csv")


def from_csv(path: str | os.PathLike, *, group_column: str | None = None, name: str | None = None) -> Regions:
    """A grouping from a CSV file with an ``iso3`` column and a group column.

    Parameters
    ----------
    path : path-like
        UTF-8 CSV with a header row.
    group_column : str, optional
        The column holding the group names. Default: the first of
        ``region_en``, ``region``, ``group``, ``group_en`` present, or the only
        other column when the file has exactly two.
    name : str, optional
        Name of the grouping (default: the file's stem).

    Optional columns ``name_en``, ``name_zh`` and ``region_zh`` are kept as
    names. A country listed twice with the same group is accepted once; with
    two different groups it is an error.

    Raises
    ------
    MissingDataError
        The file does not exist.
    ReaderError
        No ``iso3`` column, no group column, or an empty cell (the message
        names the file and the line).
    LabelError
        A country assigned to two different groups.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise MissingDataError(f"grouping file not found: {path}")
    try:
        table = pd.read_csv(path, keep_default_na=False, dtype=str, encoding="utf-8")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ReaderError(f"{path}: not a readable CSV grouping ({exc})") from None
    table.columns = [str(c).strip() for c in table.columns]
    if "iso3" not in table.columns:
        raise ReaderError(
            f"{path}: expected a column 'iso3' with country codes, found columns: {', '.join(table.columns)}"
        )
    if group_column is None:
        group_column = next((c for c in GROUP_COLUMNS if c in table.columns), None)
        others = [c for c in table.columns if c != "iso3"]
        if group_column is None and len(others) == 1:
            group_column = others[0]
        if group_column is None:
            raise ReaderError(
                f"{path}: cannot tell which column holds the groups; expected one of "
                f"{', '.join(GROUP_COLUMNS)} (or pass group_column), found: {', '.join(table.columns)}"
            )
    elif group_column not in table.columns:
        raise ReaderError(f"{path}: no group column {group_column!r}; found columns: {', '.join(table.columns)}")
    stem = os.path.splitext(os.path.basename(path))[0]
    return _from_table(table, group_column, name=name or stem, source=path)


def from_dict(mapping: Mapping, *, name: str = "custom") -> Regions:
    """A grouping from a dict: country -> group, or group -> list of countries.

    Examples
    --------
    >>> from_dict({"North": ["NOR", "SWE"], "South": ["ITA"]}).group_of("SWE")
    'North'
    """
    if not isinstance(mapping, Mapping):
        raise LabelError(f"from_dict expects a dict, got {type(mapping).__name__}")
    values = list(mapping.values())
    if values and all(isinstance(v, (list, tuple, set, frozenset)) for v in values):
        flat: dict[str, str] = {}
        for group, members in mapping.items():
            for c in members:
                if c in flat and flat[c] != group:
                    raise LabelError(f"country {c!r} is in two groups: {flat[c]!r} and {group!r}")
                flat[c] = group
        return Regions(flat, name=name, group_order=list(mapping))
    return Regions(dict(mapping), name=name)


def as_regions(groups) -> Regions:
    """Coerce a grouping argument: None (the BRI grouping), a Regions, a dict or a CSV path."""
    if groups is None:
        return bri()
    if isinstance(groups, Regions):
        return groups
    if isinstance(groups, Mapping):
        return from_dict(groups)
    if isinstance(groups, (str, os.PathLike)):
        return from_csv(groups)
    raise LabelError(f"groups must be a Regions object, a dict, a CSV path or None (BRI), got {type(groups).__name__}")


def _from_table(table: pd.DataFrame, group_column: str, *, name: str, source: str) -> Regions:
    mapping: dict[str, str] = {}
    for i, (code, group) in enumerate(zip(table["iso3"], table[group_column])):
        code, group = str(code).strip(), str(group).strip()
        line = i + 2  # header is line 1
        if not code:
            raise ReaderError(f"{source}, line {line}: empty iso3 code")
        if not group:
            raise ReaderError(f"{source}, line {line}: country {code} has an empty {group_column!r}")
        if code in mapping and mapping[code] != group:
            raise LabelError(f"{source}, line {line}: country {code} is in two groups: {mapping[code]!r} and {group!r}")
        mapping[code] = group

    def names(col):
        if col not in table.columns:
            return {}
        return {str(c).strip(): str(v) for c, v in zip(table["iso3"], table[col]) if str(v)}

    zh = {}
    if "region_zh" in table.columns:
        zh = {str(g).strip(): str(z) for g, z in zip(table[group_column], table["region_zh"]) if str(z)}
    return Regions(
        mapping,
        name=name,
        country_names=names("name_en"),
        country_names_zh=names("name_zh"),
        group_names_zh=zh,
    )


# -- databases that resolve only some countries ------------------------------------------------


@dataclass(frozen=True)
class Concordance:
    """A database's region codes against ISO3 countries (``data/{database}_regions.csv``).

    Attributes
    ----------
    database : str
        The database's name (the reader's name, e.g. "exiobase3").
    code_of : dict of str to str
        ISO3 country -> the database's region code holding it.
    names : dict of str to str
        Region code -> its name ("Austria", "RoW Asia and Pacific").
    aggregates : frozenset of str
        The codes of regions that hold several countries.
    country_names : dict of str to str
        ISO3 -> country name, as the file gives it.
    source : str
        The file it was read from.
    """

    database: str
    code_of: dict[str, str]
    names: dict[str, str]
    aggregates: frozenset[str]
    country_names: dict[str, str] = field(default_factory=dict)
    source: str = ""

    def members(self, code: str) -> list[str]:
        """The ISO3 countries the file lists in region ``code``."""
        return [c for c, k in self.code_of.items() if k == code]


_CONCORDANCE_COLUMNS = ("code", "code_name", "aggregate", "iso3", "country_name")


def concordance(database: str) -> Concordance | None:
    """The bundled concordance of ``database`` (``data/{database}_regions.csv``), or None when
    the database has none (its tables then use ISO3 codes, as Eora26's do).

    Raises
    ------
    ReaderError
        The file lacks a column, or lists a country in two regions (message names the line).
    """
    name = f"{database}_regions.csv"
    handle = data.path(name)
    if not handle.is_file():
        return None
    with handle.open(encoding="utf-8") as fh:
        table = pd.read_csv(fh, keep_default_na=False, dtype=str)
    missing = [c for c in _CONCORDANCE_COLUMNS if c not in table.columns]
    if missing:
        raise ReaderError(f"data/{name}: missing column(s) {', '.join(missing)}")
    code_of: dict[str, str] = {}
    names: dict[str, str] = {}
    aggregates: set[str] = set()
    country_names: dict[str, str] = {}
    for i, row in enumerate(table.itertuples(index=False), start=2):
        code, iso3 = row.code.strip(), row.iso3.strip()
        if not code or not iso3:
            raise ReaderError(f"data/{name}, line {i}: empty code or iso3")
        if iso3 in code_of and code_of[iso3] != code:
            raise ReaderError(f"data/{name}, line {i}: {iso3} is in two regions, {code_of[iso3]} and {code}")
        code_of[iso3] = code
        names[code] = row.code_name.strip() or code
        country_names[iso3] = row.country_name.strip()
        if row.aggregate.strip() == "1":
            aggregates.add(code)
    return Concordance(database, code_of, names, frozenset(aggregates), country_names, f"data/{name}")


@dataclass(frozen=True)
class Resolution:
    """A grouping resolved against one table (:func:`resolve_for_table`).

    Attributes
    ----------
    regions : Regions
        The grouping in the table's own codes: resolved countries, plus the
        aggregate regions assigned to groups.
    resolved : dict of str to str
        Grouping country -> the table's code of it (identical for ISO3 tables).
    unresolved : list of tuple (country, name, group, aggregate code)
        Grouping countries the table does not hold as themselves; the aggregate
        code names the region that holds them ("" when the concordance lists
        none).
    assigned : dict of str to str
        Aggregate region code -> the group it was assigned to (by ``assign``).
    empty_groups : list of str
        Groups of the grouping left without any member in this table.
    database : str
        The concordance used ("" when the table uses ISO3 codes).
    """

    regions: Regions
    resolved: dict[str, str]
    unresolved: list[tuple[str, str, str, str]]
    assigned: dict[str, str]
    empty_groups: list[str]
    database: str = ""

    def summary(self) -> dict:
        """A JSON-ready description (for the provenance and the report)."""
        return {
            "database": self.database,
            "resolved": dict(self.resolved),
            "unresolved": [{"country": c, "name": n, "group": g, "inside": a} for c, n, g, a in self.unresolved],
            "assigned aggregates": dict(self.assigned),
            "groups without members": list(self.empty_groups),
        }


def resolve_for_table(
    regions: Regions, countries: Sequence[str], *, database: str | None = None, assign: Mapping[str, str] | None = None
) -> Resolution:
    """Resolve an ISO3 grouping against a table's region codes.

    Parameters
    ----------
    regions : Regions
        The grouping, keyed by ISO3 codes (e.g. :func:`bri`).
    countries : sequence of str
        The table's region codes.
    database : str, optional
        The table's database (``mrio.meta["region_concordance"]``, set by its
        reader). Without one, or without a bundled concordance for it, every
        grouping country must be in the table by its own code (as for Eora26):
        a LabelError lists the missing ones.
    assign : mapping of str to str, optional
        Aggregate region code -> group: the whole aggregate region counts as a
        member of that group (all of it, including countries outside the
        grouping: a modelling choice the report states).

    Returns
    -------
    Resolution

    Raises
    ------
    LabelError
        No concordance and grouping countries missing from the table; no
        grouping country resolved and nothing assigned.
    OptionError
        ``assign`` names a code that is not an aggregate region of the table,
        or a group that is not in the grouping.
    """
    countries = list(countries)
    have = set(countries)
    assign = dict(assign or {})
    conc = concordance(database) if database else None
    if conc is None:
        if assign:
            raise OptionError(
                f"aggregate regions can only be assigned for a database with a region concordance; "
                f"this table ({database or 'ISO3 codes'}) has none"
            )
        regions.check(countries)
        return Resolution(regions, {c: c for c in regions.countries}, [], {}, [], "")
    mapping: dict[str, str] = {}
    resolved: dict[str, str] = {}
    unresolved: list[tuple[str, str, str, str]] = []
    names: dict[str, str] = {}
    for c in regions.countries:
        group = regions.group_of(c) or ""
        code = c if c in have else conc.code_of.get(c)
        name = regions.country_names.get(c) or conc.country_names.get(c, c)
        if code is not None and code in have and code not in conc.aggregates:
            if code in mapping and mapping[code] != group:
                raise LabelError(f"{conc.source}: the table's region {code} holds {c} of two groups")
            mapping[code] = group
            resolved[c] = code
            names[code] = name
        else:
            unresolved.append((c, name, group, code if code in conc.aggregates else ""))
    for code, group in assign.items():
        if code not in conc.aggregates or code not in have:
            aggs = sorted(a for a in conc.aggregates if a in have)
            raise OptionError(
                f"cannot assign {code!r}: it is not an aggregate region of this {conc.database} table "
                f"(its aggregate regions: {', '.join(aggs) or 'none'})"
            )
        if group not in regions.groups:
            raise OptionError(f"cannot assign {code} to {group!r}: the groups are {', '.join(regions.groups)}")
        mapping[code] = group
        names[code] = conc.names.get(code, code)
    if not mapping:
        raise LabelError(
            f"none of the {len(regions)} countries of grouping {regions.name!r} is resolved by this "
            f"{conc.database} table; assign aggregate regions to groups to analyse it"
        )
    used = set(mapping.values())
    order = [g for g in regions.groups if g in used]
    ordered = {code: mapping[code] for code in countries if code in mapping}
    out = Regions(
        ordered,
        name=f"{regions.name} ({conc.database})",
        country_names=names,
        country_names_zh={resolved[c]: z for c, z in regions.country_names_zh.items() if c in resolved},
        group_names_zh=dict(regions.group_names_zh),
        group_order=order,
    )
    empty = [g for g in regions.groups if g not in used]
    return Resolution(out, resolved, unresolved, {k: assign[k] for k in assign}, empty, conc.database)
