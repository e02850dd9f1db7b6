"""Scenarios: named, composable sets of changes to a table's named inputs.

A :class:`Scenario` holds changes of five kinds (docs/method.md section 12):

- ``intensity``: scale or set stressor intensities S = F diag(x)^-1, selected by
  stressor, country (or region of a grouping) and sector;
- ``final_demand``: scale final demand, selected by consumer, category, product
  (the sector bought) and origin (the country it is bought from);
- ``final_demand_sourcing``: move a share of a consumer's purchases of a product
  from one origin to another (each column's total kept);
- ``technology``: scale or set the coefficients of a block of A (selling origin and
  product by buying country and sector);
- ``technology_sourcing``: move a share of the intermediate purchases of a product
  from one origin to another (each column total of A kept).

The model holds everything a scenario does not change: A and S stay as they are and
gross output follows (x' = (I - A')^-1 Y' 1), so the changed table of
:meth:`Scenario.apply` is Z' = A' diag(x'), F' = S' diag(x'), Y', with F_Y unchanged.
:meth:`Scenario.resolve` turns a scenario into a :class:`DesignRow` of arrays (what
the evaluator needs); labels are checked there, against the table, and an unknown one
is a one-line LabelError listing the valid ones.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InvalidValueError, LabelError, NonProductiveError, OptionError, ReaderError
from ..mrio import MRIO
from ..regions import Regions, as_regions

__all__ = ["KINDS", "Change", "DesignRow", "Scenario", "load_scenarios"]

#: The selector keys and the value keys each kind of change takes.
KINDS: dict[str, dict[str, tuple[str, ...]]] = {
    "intensity": {"select": ("stressor", "country", "region", "sector"), "value": ("scale", "set")},
    "final_demand": {
        "select": ("consumer", "consumer_region", "category", "product", "origin", "origin_region"),
        "value": ("scale",),
    },
    "final_demand_sourcing": {
        "select": ("consumer", "consumer_region", "category", "product", "from", "to"),
        "value": ("share",),
    },
    "technology": {
        "select": ("origin", "origin_region", "product", "buyer", "buyer_region", "buyer_sector"),
        "value": ("scale", "set"),
    },
    "technology_sourcing": {
        "select": ("buyer", "buyer_region", "buyer_sector", "product", "from", "to"),
        "value": ("share",),
    },
}
#: Selectors that name exactly one country.
_SINGLE = ("from", "to")


@dataclass(frozen=True)
class Change:
    """One change: ``kind`` (a key of :data:`KINDS`), ``op`` (its value key: scale, set,
    share), ``value``, and the selectors (key -> label or tuple of labels)."""

    kind: str
    op: str
    value: float
    select: tuple[tuple[str, object], ...] = ()

    def __post_init__(self):
        if self.kind not in KINDS:
            raise OptionError(f"unknown kind of change {self.kind!r}; choose from {', '.join(KINDS)}")
        if self.op not in KINDS[self.kind]["value"]:
            raise OptionError(f"a {self.kind} change takes {' or '.join(KINDS[self.kind]['value'])}, got {self.op!r}")
        if isinstance(self.value, bool) or not isinstance(self.value, int | float) or not np.isfinite(self.value):
            raise OptionError(f"key {self.op!r}: a {self.kind} change needs a finite number, got {self.value!r}")
        if self.value < 0:
            raise InvalidValueError(
                f"key {self.op!r}: {self.op} = {self.value!r} would make the table negative (it must be >= 0)"
            )
        if self.op == "share" and self.value > 1:
            raise InvalidValueError(f"key 'share': a share moved must lie in [0, 1], got {self.value!r}")
        allowed = KINDS[self.kind]["select"]
        for key, value in self.select:
            if key not in allowed:
                raise OptionError(f"unknown key {key!r} for a {self.kind} change; it takes {', '.join(allowed)}")
            labels = (value,) if isinstance(value, str) else value
            if not isinstance(labels, tuple) or not labels or not all(isinstance(v, str) for v in labels):
                raise OptionError(f"key {key!r} must be a label or a list of labels, got {value!r}")
            if key in _SINGLE and len(labels) != 1:
                raise OptionError(f"key {key!r} names one country, got {list(labels)}")
        for key in _SINGLE:
            if key in allowed and key not in dict(self.select):
                raise OptionError(f"a {self.kind} change needs the key {key!r} (the origin country)")

    @property
    def selectors(self) -> dict:
        return dict(self.select)

    def __str__(self) -> str:
        sel = ", ".join(f"{k}={v if isinstance(v, str) else list(v)}" for k, v in self.select)
        return f"{self.kind}: {self.op} {self.value:g}" + (f" where {sel}" if sel else "")


def _selection(**select) -> tuple[tuple[str, object], ...]:
    out = []
    for key, value in select.items():
        if value is None:
            continue
        key = key.rstrip("_")  # from_ -> from
        out.append((key, value if isinstance(value, str) else tuple(value)))
    return tuple(out)


@dataclass(frozen=True)
class Scenario:
    """A named set of changes to a table, applied in order.

    Build one with the methods (each returns a new Scenario), compose with ``+``, or
    read a TOML file (:func:`load_scenarios`).

    Examples
    --------
    >>> import mrioflow as mf
    >>> s = mf.Scenario("ag-ch4").scale_intensity(0.8, stressor="CH4", sector="Agriculture")
    >>> print(s)
    Scenario 'ag-ch4': 1 change
      intensity: scale 0.8 where stressor=CH4, sector=Agriculture
    """

    name: str
    changes: tuple[Change, ...] = ()
    description: str = ""
    groups: object = field(default=None, compare=False)  # the grouping 'region' selectors name (default BRI)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.strip():
            raise OptionError(f"a scenario needs a non-empty name, got {self.name!r}")

    def __str__(self) -> str:
        head = f"Scenario {self.name!r}: {len(self.changes)} change{'s' if len(self.changes) != 1 else ''}"
        lines = [head] + ([f"  {self.description}"] if self.description else [])
        return "\n".join(lines + [f"  {c}" for c in self.changes])

    def __add__(self, other: Scenario) -> Scenario:
        if not isinstance(other, Scenario):
            return NotImplemented
        return Scenario(
            f"{self.name}+{other.name}",
            self.changes + other.changes,
            "; ".join(d for d in (self.description, other.description) if d),
            self.groups if self.groups is not None else other.groups,
        )

    def _with(self, change: Change) -> Scenario:
        return Scenario(self.name, (*self.changes, change), self.description, self.groups)

    # -- builders ---------------------------------------------------------------
    def scale_intensity(self, factor: float, *, stressor, country=None, region=None, sector=None) -> Scenario:
        """Multiply the intensities of ``stressor`` in the selected sectors by ``factor``."""
        sel = _selection(stressor=stressor, country=country, region=region, sector=sector)
        return self._with(Change("intensity", "scale", factor, sel))

    def set_intensity(self, value: float, *, stressor, country=None, region=None, sector=None) -> Scenario:
        """Set the intensities (stressor per unit of output) of the selected sectors."""
        sel = _selection(stressor=stressor, country=country, region=region, sector=sector)
        return self._with(Change("intensity", "set", value, sel))

    def scale_final_demand(
        self, factor: float, *, consumer=None, consumer_region=None, category=None, product=None, origin=None,
        origin_region=None,
    ) -> Scenario:  # fmt: skip
        """Multiply the final demand of the selected consumers (countries), categories,
        products (sectors) and origins (producing countries) by ``factor``."""
        sel = _selection(
            consumer=consumer,
            consumer_region=consumer_region,
            category=category,
            product=product,
            origin=origin,
            origin_region=origin_region,
        )
        return self._with(Change("final_demand", "scale", factor, sel))

    def shift_final_demand(
        self, share: float, *, from_: str, to: str, consumer=None, consumer_region=None, product=None, category=None
    ) -> Scenario:
        """Move ``share`` of the selected consumers' purchases of ``product`` from origin
        ``from_`` to origin ``to`` (each final-demand column's total kept)."""
        sel = _selection(
            consumer=consumer, consumer_region=consumer_region, category=category, product=product, from_=from_, to=to
        )
        return self._with(Change("final_demand_sourcing", "share", share, sel))

    def scale_technology(
        self, factor: float, *, origin=None, origin_region=None, product=None, buyer=None, buyer_region=None,
        buyer_sector=None,
    ) -> Scenario:  # fmt: skip
        """Multiply the coefficients A[(origin, product), (buyer, buyer_sector)] by ``factor``."""
        sel = _selection(
            origin=origin,
            origin_region=origin_region,
            product=product,
            buyer=buyer,
            buyer_region=buyer_region,
            buyer_sector=buyer_sector,
        )
        return self._with(Change("technology", "scale", factor, sel))

    def set_technology(
        self, value: float, *, origin=None, origin_region=None, product=None, buyer=None, buyer_region=None,
        buyer_sector=None,
    ) -> Scenario:  # fmt: skip
        """Set the coefficients A[(origin, product), (buyer, buyer_sector)] to ``value``."""
        sel = _selection(
            origin=origin,
            origin_region=origin_region,
            product=product,
            buyer=buyer,
            buyer_region=buyer_region,
            buyer_sector=buyer_sector,
        )
        return self._with(Change("technology", "set", value, sel))

    def shift_technology(
        self, share: float, *, from_: str, to: str, product=None, buyer=None, buyer_region=None, buyer_sector=None
    ) -> Scenario:
        """Move ``share`` of the selected buyers' input of ``product`` from origin ``from_``
        to origin ``to`` (each column total of A kept)."""
        sel = _selection(
            buyer=buyer, buyer_region=buyer_region, buyer_sector=buyer_sector, product=product, from_=from_, to=to
        )
        return self._with(Change("technology_sourcing", "share", share, sel))

    # -- against a table -------------------------------------------------------------
    def resolve(self, mrio: MRIO, *, where: str = "", x=None, nonnegative: bool | None = None) -> DesignRow:
        """The scenario as arrays against ``mrio`` (labels checked): a :class:`DesignRow`.

        ``where`` prefixes error messages (the file the scenario comes from). ``x`` (the
        table's gross output) and ``nonnegative`` (whether Z >= 0), when the caller knows
        them, spare a pass over Z (the evaluator passes its base's).

        Raises
        ------
        LabelError
            An unknown label (the message names the scenario, the key and the valid labels).
        InvalidValueError
            A change that makes intensities, final demand or A negative.
        """
        return _Resolver(mrio, self, where, x, nonnegative).row()

    def apply(self, mrio: MRIO) -> MRIO:
        """The changed table (host), for a from-scratch run: A' and S' as the scenario
        says, Y' likewise, x' = (I - A')^-1 Y' 1, Z' = A' diag(x'), F' = S' diag(x')."""
        return self.resolve(mrio).apply(mrio)


@dataclass
class DesignRow:
    """One row of a design: a scenario resolved against a table (host arrays).

    - ``S``: the changed intensities (k, n), or None
    - ``fd_columns``, ``dY``: the columns of Y that change and their change (n, m), or None
    - ``rows``, ``cols``, ``dA``: the block of A that changes (|rows| x |cols|), or None
    """

    name: str
    S: np.ndarray | None = None
    fd_columns: np.ndarray | None = None
    dY: np.ndarray | None = None
    rows: np.ndarray | None = None
    cols: np.ndarray | None = None
    dA: np.ndarray | None = None
    productive: bool | None = None  # known from the column sums of A' (None: the evaluator checks)
    where: str = ""

    @property
    def kinds(self) -> tuple[str, ...]:
        out = []
        if self.S is not None:
            out.append("intensity")
        if self.dY is not None:
            out.append("final_demand")
        if self.dA is not None:
            out.append("technology")
        return tuple(out)

    @property
    def rank(self) -> int:
        """The rank bound of the change to A used by the update: min(|rows|, |cols|)."""
        return 0 if self.dA is None else int(min(self.dA.shape))

    def dYr(self, n_countries: int, n_categories: int) -> tuple[np.ndarray, np.ndarray]:
        """The change to final demand by consuming country: (consumers, values (n, m))."""
        consumers = np.unique(self.fd_columns // n_categories)
        pos = {int(c): i for i, c in enumerate(consumers)}
        out = np.zeros((self.dY.shape[0], consumers.size))
        for j, col in enumerate(self.fd_columns):
            out[:, pos[int(col // n_categories)]] += self.dY[:, j]
        return consumers, out

    def apply(self, mrio: MRIO) -> MRIO:
        """The changed table (see :meth:`Scenario.apply`)."""
        x = mrio.x
        inv = np.divide(1.0, x, out=np.zeros_like(x), where=x != 0)
        A = mrio.Z * inv
        if self.dA is not None:
            A[np.ix_(self.rows, self.cols)] += self.dA
        Y = mrio.Y.copy()
        if self.dY is not None:
            Y[:, self.fd_columns] += self.dY
        S = mrio.F * inv if self.S is None else self.S
        x_new = np.linalg.solve(np.eye(mrio.n) - A, Y.sum(axis=1))
        x_new = np.where(np.abs(x_new) < 1e-13 * max(np.abs(x_new).max(), 1.0), 0.0, x_new)
        return mrio.replace(Z=A * x_new, Y=Y, F=S * x_new, meta={**mrio.meta, "scenario": self.name})


class _Resolver:
    """Turns a scenario's labelled changes into a DesignRow against one table."""

    def __init__(self, mrio: MRIO, scenario: Scenario, where: str, x=None, nonnegative: bool | None = None):
        self.m = mrio
        self.x = mrio.x if x is None else np.asarray(x)
        self.nonnegative = nonnegative
        self.sc = scenario
        self.where = f"{where}: " if where else ""
        self._groups: Regions | None = None
        self.R, self.Sn, self.c = mrio.n_countries, mrio.n_sectors, len(mrio.fd_categories)

    # -- labels ---------------------------------------------------------------------------
    def _fail(self, key: str, msg: str, cls=LabelError):
        return cls(f"{self.where}scenario {self.sc.name!r}, key {key!r}: {msg}")

    def _pick(self, key: str, value, valid: Sequence[str], what: str) -> list[int]:
        labels = (value,) if isinstance(value, str) else tuple(value)
        pos = {v: i for i, v in enumerate(valid)}
        bad = [v for v in labels if v not in pos]
        if bad:
            raise self._fail(key, f"unknown {what} {', '.join(map(repr, bad))}; valid: {', '.join(valid)}")
        return sorted({pos[v] for v in labels})

    @property
    def groups(self) -> Regions:
        if self._groups is None:
            self._groups = _bri() if self.sc.groups is None else as_regions(self.sc.groups)
        return self._groups

    def _countries(self, sel: dict, key: str, region_key: str) -> list[int]:
        """Countries named by ``key`` and/or ``region_key`` (a group, a list, or "*": every
        member of the grouping); all countries when neither is given."""
        if key not in sel and region_key not in sel:
            return list(range(self.R))
        out: set[int] = set()
        if key in sel:
            out.update(self._pick(key, sel[key], self.m.countries, "country"))
        if region_key in sel:
            g = self.groups
            value = sel[region_key]
            names = list(g.groups) if value == "*" else ([value] if isinstance(value, str) else list(value))
            bad = [v for v in names if v not in g.groups]
            if bad:
                raise self._fail(
                    region_key, f"unknown region {', '.join(map(repr, bad))} of grouping {g.name!r}; valid: "
                    f"{', '.join(g.groups)} (or '*': every member)"
                )  # fmt: skip
            members = [c for name in names for c in g.members(name)]
            missing = [c for c in members if c not in self.m.countries]
            if missing:
                raise self._fail(region_key, f"countries of the region not in the table: {', '.join(missing)}")
            out.update(self.m.countries.index(c) for c in members)
        return sorted(out)

    def _sectors(self, sel: dict, key: str) -> list[int]:
        return self._pick(key, sel[key], self.m.sectors, "sector") if key in sel else list(range(self.Sn))

    def _cells(self, countries: Iterable[int], sectors: Iterable[int]) -> np.ndarray:
        sectors = list(sectors)
        return np.array([r * self.Sn + s for r in countries for s in sectors], dtype=np.int64)

    # -- the row ---------------------------------------------------------------------------
    def row(self) -> DesignRow:
        m = self.m
        x = self.x
        self.inv = np.divide(1.0, x, out=np.zeros_like(x), where=x != 0)
        row = DesignRow(self.sc.name, where=self.where)
        S = None
        fd: dict[int, np.ndarray] = {}  # column of Y -> its new values
        tech: list[tuple[Change, np.ndarray, np.ndarray]] = []
        for change in self.sc.changes:
            sel = change.selectors
            if change.kind == "intensity":
                if S is None:
                    S = m.F * self.inv
                ks = self._pick("stressor", sel["stressor"], m.stressors, "stressor")
                cells = self._cells(self._countries(sel, "country", "region"), self._sectors(sel, "sector"))
                block = np.ix_(ks, cells)
                S[block] = S[block] * change.value if change.op == "scale" else change.value
            elif change.kind in ("final_demand", "final_demand_sourcing"):
                self._final_demand(change, sel, fd)
            else:
                tech.append(self._technology_cells(change, sel))
        if S is not None:
            row.S = S
        if fd:
            cols = np.array(sorted(fd), dtype=np.int64)
            new = np.stack([fd[int(j)] for j in cols], axis=1)
            row.fd_columns, row.dY = cols, new - m.Y[:, cols]
            if np.any(new < 0) and not np.any(m.Y[:, cols] < 0):
                raise self._fail("final_demand", "the scenario makes final demand negative", InvalidValueError)
        if tech:
            self._technology(row, tech)
        return row

    def _final_demand(self, change: Change, sel: dict, fd: dict) -> None:
        m = self.m
        consumers = self._countries(sel, "consumer", "consumer_region")
        cats = self._pick("category", sel["category"], m.fd_categories, "category") if "category" in sel else None
        cats = list(range(self.c)) if cats is None else cats
        products = self._sectors(sel, "product")
        for r in consumers:
            for cat in cats:
                j = r * self.c + cat
                col = fd.setdefault(j, m.Y[:, j].copy())
                if change.kind == "final_demand":
                    rows = self._cells(self._countries(sel, "origin", "origin_region"), products)
                    col[rows] *= change.value
                else:
                    src = self._cells(self._pick("from", sel["from"], m.countries, "country"), products)
                    dst = self._cells(self._pick("to", sel["to"], m.countries, "country"), products)
                    moved = col[src] * change.value
                    col[src] -= moved
                    col[dst] += moved

    def _technology_cells(self, change: Change, sel: dict):
        """The rows and columns of A a technology change touches."""
        buyers = self._cells(self._countries(sel, "buyer", "buyer_region"), self._sectors(sel, "buyer_sector"))
        products = self._sectors(sel, "product")
        if change.kind == "technology":
            rows = self._cells(self._countries(sel, "origin", "origin_region"), products)
        else:
            src = self._cells(self._pick("from", sel["from"], self.m.countries, "country"), products)
            dst = self._cells(self._pick("to", sel["to"], self.m.countries, "country"), products)
            rows = np.concatenate([src, dst])
        return change, rows, buyers

    def _technology(self, row: DesignRow, tech) -> None:
        m = self.m
        rows = np.unique(np.concatenate([r for _, r, _ in tech]))
        cols = np.unique(np.concatenate([c for _, _, c in tech]))
        rpos = {int(i): p for p, i in enumerate(rows)}
        cpos = {int(j): p for p, j in enumerate(cols)}
        old = m.Z[np.ix_(rows, cols)] * self.inv[cols]
        new = old.copy()
        for change, r, c in tech:
            ci = [cpos[int(j)] for j in c]
            if change.kind == "technology":
                block = np.ix_([rpos[int(i)] for i in r], ci)
                new[block] = new[block] * change.value if change.op == "scale" else change.value
            else:
                half = r.size // 2
                src = np.ix_([rpos[int(i)] for i in r[:half]], ci)
                dst = np.ix_([rpos[int(i)] for i in r[half:]], ci)
                moved = new[src] * change.value
                new[src] -= moved
                new[dst] += moved
        if np.any(new < 0) and not np.any(old < 0):
            raise self._fail("technology", "the scenario makes A negative", InvalidValueError)
        keep = np.any(new != old, axis=1)
        keep_c = np.any(new != old, axis=0)
        if not keep.any():
            return
        row.rows, row.cols, row.dA = rows[keep], cols[keep_c], (new - old)[np.ix_(keep, keep_c)]
        # Column sums of A' below 1 (A' >= 0) settle productivity at once; otherwise the evaluator checks.
        colsum = (m.Z[:, row.cols].sum(axis=0) * self.inv[row.cols]) + row.dA.sum(axis=0)
        if self.nonnegative is None:
            self.nonnegative = bool(np.all(m.Z >= 0))
        if self.nonnegative:
            if np.all(colsum < 1):
                row.productive = True
            elif np.any(colsum >= 1) and np.all(new >= 0) and _column_sums_all_at_least_one(m, row, self.inv):
                raise self._fail(
                    "technology",
                    "the scenario makes A non-productive (every column sum of A' >= 1)",
                    NonProductiveError,
                )


@functools.cache
def _bri() -> Regions:
    """The built-in BRI grouping, read once (region selectors' default)."""
    from ..regions import bri

    return bri()


def _column_sums_all_at_least_one(m: MRIO, row: DesignRow, inv) -> bool:
    """Whether every column of A' sums to 1 or more (then A' >= 0 cannot be productive)."""
    colsum = m.Z.sum(axis=0) * inv
    colsum[row.cols] += row.dA.sum(axis=0)
    return bool(np.all(colsum >= 1))


# -- TOML ---------------------------------------------------------------------------------------


def load_scenarios(path, *, groups=None) -> list[Scenario]:
    """Read scenarios from a TOML file.

    The file holds ``[[scenario]]`` tables, each with ``name``, an optional
    ``description`` and ``[[scenario.change]]`` tables: ``kind`` (a key of :data:`KINDS`),
    one value key (``scale``, ``set`` or ``share``) and the selectors of that kind. See
    docs/user-guide.md, "Scenarios".

    Raises
    ------
    ReaderError
        Not TOML, or the structure is wrong; MissingDataError: no such file.
    OptionError, InvalidValueError
        A wrong key, type or value: the message names the file, the scenario and the key.
    """
    from ..errors import MissingDataError

    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MissingDataError(f"{p}: no such scenario file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReaderError(f"{p}: cannot read the scenario file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ReaderError(f"{p}: not valid TOML ({exc})") from None
    return scenarios_from_dict(data, where=str(p), groups=groups)


def scenarios_from_dict(data: Mapping, *, where: str = "scenarios", groups=None) -> list[Scenario]:
    """Scenarios from a parsed TOML document (see :func:`load_scenarios`)."""
    unknown = [k for k in data if k != "scenario"]
    if unknown:
        raise ReaderError(f"{where}: unknown top-level key(s) {unknown}; a scenario file holds [[scenario]] tables")
    items = data.get("scenario")
    if not isinstance(items, list) or not items or not all(isinstance(s, dict) for s in items):
        raise ReaderError(f"{where}: no [[scenario]] tables found")
    out: list[Scenario] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        name = item.get("name")
        label = f"scenario {name!r}" if isinstance(name, str) else f"scenario number {i + 1}"
        if not isinstance(name, str) or not name.strip():
            raise OptionError(f"{where}: {label}, key 'name': a scenario needs a non-empty string name, got {name!r}")
        if name in seen:
            raise OptionError(f"{where}: {label}, key 'name': the name is used twice")
        seen.add(name)
        bad = [k for k in item if k not in ("name", "description", "change")]
        if bad:
            raise OptionError(f"{where}: {label}, key {bad[0]!r}: unknown; a scenario has name, description, change")
        description = item.get("description", "")
        if not isinstance(description, str):
            raise OptionError(f"{where}: {label}, key 'description': must be a string, got {description!r}")
        changes = item.get("change", [])
        if not isinstance(changes, list) or not all(isinstance(c, dict) for c in changes):
            raise OptionError(f"{where}: {label}, key 'change': must be [[scenario.change]] tables")
        built = []
        for j, c in enumerate(changes):
            try:
                built.append(_change_from_dict(c))
            except (OptionError, InvalidValueError) as exc:
                raise type(exc)(f"{where}: {label}, change {j + 1}: {exc}") from None
        out.append(Scenario(name, tuple(built), description, groups))
    return out


def _change_from_dict(c: dict) -> Change:
    kind = c.get("kind")
    if kind not in KINDS:
        raise OptionError(f"key 'kind': must be one of {', '.join(KINDS)}, got {kind!r}")
    values = [k for k in KINDS[kind]["value"] if k in c]
    if len(values) != 1:
        raise OptionError(f"key {'/'.join(KINDS[kind]['value'])}: a {kind} change needs exactly one of them")
    op = values[0]
    sel = []
    for key, value in c.items():
        if key in ("kind", op):
            continue
        if key not in KINDS[kind]["select"]:
            raise OptionError(f"key {key!r}: unknown for a {kind} change; it takes {', '.join(KINDS[kind]['select'])}")
        if isinstance(value, list):
            value = tuple(value)
        sel.append((key, value))
    return Change(kind, op, c[op], tuple(sel))
