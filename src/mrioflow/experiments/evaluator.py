"""The evaluator: a batch of design rows on a prepared base, each priced by what it changes.

For a base table prepared once (:meth:`mrioflow.Engine.prepare`: the LU of I - A, X = L Yr,
S) and rows of changes (:class:`~mrioflow.experiments.scenario.DesignRow`):

- a row that changes intensities only needs no solve: E = calc_E(S', X) with the base X;
- a row that changes final demand solves only for the change: X' = X + L dYr, one
  right-hand side per consuming country changed (the rows of a batch in one solve);
- a row that changes A by a block of rank k = min(|rows|, |cols|) uses the base LU through
  the Sherman-Morrison-Woodbury identity: with A' = A + U V^T,
  (I - A')^-1 b = y + Z (I_k - V^T Z)^-1 V^T y, y = L b, Z = L U (k solves and a k x k
  system); it factors I - A' afresh only when k exceeds ``max_rank`` or the k x k
  capacitance matrix I_k - V^T Z is ill-conditioned (condition number above
  ``cond_limit``), and says so in the result's ``paths``.

Every path equals a from-scratch ``Engine.run`` of the changed table
(:meth:`Scenario.apply`); docs/method.md section 12. Indices come from
:class:`mrioflow.indices.IndexSpec` (mf.indices's kernels) on the batch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import kernels as K
from ..engine.engine import PreparedTable
from ..engine.system import LeontiefSystem
from ..errors import MrioflowError, NonProductiveError, OptionError, SingularSystemError
from ..indices import IndexSpec
from .scenario import DesignRow, Scenario

__all__ = ["ACCOUNTS", "Evaluator", "ExperimentResults"]

ACCOUNTS = ("pba", "cba", "imports", "exports", "net")
OUTPUTS = ("flows", "accounts", "indices")


@dataclass
class _Plan:
    """How one row is evaluated: its path and, for a change to A, the update's pieces."""

    row: DesignRow
    path: str
    solves: int = 0
    update: tuple | None = None  # (Z, capacitance, Dv, cols) on the device
    system: LeontiefSystem | None = None  # a refactored I - A'
    X: object = None  # X' (device) when computed during the checks


class Evaluator:
    """Evaluates design rows (scenarios) on one prepared base table.

    Parameters
    ----------
    base : PreparedTable
        ``Engine.prepare(mrio)``; its LU is computed once and reused by every row.
    indices : mapping, optional
        Options of the indices (``mf.indices``: stressor, value_added, groups, convention,
        norm_set, norm_sign, norm_quantiles); None: no indices.
    max_rank : int, optional
        The largest rank of a change to A evaluated by the low-rank update (default:
        n // 4 and at least 1: beyond it k solves stop being much cheaper than a new LU);
        a larger one refactors.
    cond_limit : float
        Refactor when the capacitance matrix's condition number exceeds this (default 1e8).
    batch_size : int
        Rows evaluated together (their flows stacked on the device).
    """

    def __init__(
        self,
        base: PreparedTable,
        *,
        indices: Mapping | None = None,
        max_rank: int | None = None,
        cond_limit: float = 1e8,
        batch_size: int = 64,
    ):
        if not isinstance(base, PreparedTable):
            raise OptionError(f"the base must be a PreparedTable (Engine.prepare(mrio)), got {type(base).__name__}")
        if batch_size < 1:
            raise OptionError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.base = base
        self.b = base.backend
        self.xp = base.backend.xp
        self.mrio = base.mrio
        self.max_rank = max(1, base.mrio.n // 4) if max_rank is None else int(max_rank)
        self.cond_limit = float(cond_limit)
        self.batch_size = int(batch_size)
        self.spec = (
            None if indices is None else IndexSpec.resolve(indices, self.mrio.countries, self.mrio.stressor_position)
        )
        self._P = None if self.spec is None else self.b.asarray(self.spec.P)
        self._ones_solution = None
        self._x_host: np.ndarray | None = None
        self._base_outputs: dict[tuple, dict] = {}

    def resolve(self, scenario: Scenario, *, where: str = "") -> DesignRow:
        """``scenario.resolve`` against the base table, with its gross output (no pass over Z)."""
        if self._x_host is None:
            self._x_host = self.b.to_host(self.base.x)
        return scenario.resolve(self.mrio, where=where, x=self._x_host, nonnegative=self.base.system.nonnegative)

    # -- the base ---------------------------------------------------------------------------
    def _L1(self):
        """L 1 of the base (one solve, kept): Hawkins-Simon for changed A by the update."""
        if self._ones_solution is None:
            ones = self.xp.ones((self.mrio.n, 1), dtype=self.b.dtype, device=self.b.device)
            self._ones_solution = self.base.system.solve(ones)
        return self._ones_solution

    def _int(self, a):
        return self.xp.asarray(np.asarray(a, dtype=np.int64), device=self.b.device)

    # -- planning: the path of each row, and the checks before any output --------------------
    def plan(self, rows: Sequence[DesignRow]) -> list[_Plan]:
        """Choose each row's path and check every changed A (productive, solvable) before
        any output is computed. Raises NonProductiveError/SingularSystemError naming the row."""
        plans = []
        shared: dict[tuple, _Plan] = {}  # rows sharing a change to A (the same arrays) share its update
        for row in rows:
            if row.dA is not None:
                key = (id(row.dA), id(row.rows), id(row.cols), id(row.dY))
                if key not in shared:
                    shared[key] = self._plan_technology(row)
                plans.append(dataclasses.replace(shared[key], row=row))
            elif row.dY is not None:
                plans.append(_Plan(row, "final demand", solves=int(np.unique(row.fd_columns // self._c).size)))
            else:
                plans.append(_Plan(row, "intensity" if row.S is not None else "base"))
        return plans

    @property
    def _c(self) -> int:
        return len(self.mrio.fd_categories)

    def _fail(self, row: DesignRow, cls, msg: str) -> MrioflowError:
        return cls(f"{row.where}scenario {row.name!r}, key 'technology': {msg}")

    def _plan_technology(self, row: DesignRow) -> _Plan:
        xp, b = self.xp, self.b
        n = self.mrio.n
        nr, nc = row.dA.shape
        k = min(nr, nc)
        fd_solves = 0 if row.dY is None else int(np.unique(row.fd_columns // self._c).size)
        if k > self.max_rank:
            return self._refactor(row, f"refactored: rank {k} > max_rank {self.max_rank}", fd_solves)
        # A' = A + U V^T with U = P_rows^T Du and V^T = Dv P_cols (P_: selections of unit vectors).
        if nc <= nr:  # by columns: U = the changed columns (n x |cols|), V = unit vectors of cols
            U = np.zeros((n, nc))
            U[row.rows, :] = row.dA
            Dv = np.eye(nc)
        else:  # by rows: U = unit vectors of rows, V^T = the changed rows (|rows| x |cols|)
            U = np.zeros((n, nr))
            U[row.rows, np.arange(nr)] = 1.0
            Dv = row.dA
        Z = self.base.system.solve(b.asarray(U))  # k solves
        cols = self._int(row.cols)
        Dv_d = b.asarray(Dv)
        C = xp.eye(k, dtype=b.dtype, device=b.device) - xp.matmul(Dv_d, xp.take(Z, cols, axis=0))
        sv = xp.linalg.svdvals(C)
        smin, smax = float(xp.min(sv)), float(xp.max(sv))
        cond = np.inf if smin == 0 else smax / smin
        if not np.isfinite(cond) or cond > self.cond_limit:
            return self._refactor(
                row, f"refactored: the update's capacitance matrix is ill-conditioned (cond {cond:.3g})", fd_solves
            )
        plan = _Plan(row, f"low-rank update (k = {k})", solves=k + fd_solves, update=(Z, C, Dv_d, cols))
        if row.productive is not True and self.base.system.nonnegative:
            z = self._woodbury(plan, self._L1())
            if not bool(xp.all(xp.isfinite(z))):
                raise self._fail(row, SingularSystemError, "the changed I - A is singular")
            if bool(xp.any(z <= 0)):
                count = int(xp.sum(xp.astype(z <= 0, xp.int32)))
                raise self._fail(
                    row,
                    NonProductiveError,
                    f"the scenario makes A non-productive (Hawkins-Simon: (I - A')^-1 1 > 0 fails in {count} "
                    f"of {n} rows)",
                )
        return plan

    def _refactor(self, row: DesignRow, why: str, fd_solves: int) -> _Plan:
        xp, b = self.xp, self.b
        m = self.mrio
        x = self.base.x
        A = K.calc_A(b.asarray(m.Z), x)
        dA = np.zeros((m.n, row.cols.size))
        dA[row.rows, :] = row.dA
        # I - A' column block by column block is not in the standard; add dA's columns through a
        # one-hot product (n x |cols| times |cols| x n): one n x n pass.
        onehot = np.zeros((row.cols.size, m.n))
        onehot[np.arange(row.cols.size), row.cols] = 1.0
        A = A + xp.matmul(b.asarray(dA), b.asarray(onehot))
        try:
            system = LeontiefSystem.from_eye_minus(b, b.eye_minus(A), x, nonnegative=self.base.system.nonnegative)
        except (NonProductiveError, SingularSystemError) as exc:
            raise self._fail(row, type(exc), str(exc)) from None
        return _Plan(row, why, solves=self.mrio.n_countries, system=system)

    def _woodbury(self, plan: _Plan, y):
        """(I - A')^-1 b from y = L b: y + Z C^-1 (V^T y)."""
        xp = self.xp
        Z, C, Dv, cols = plan.update
        rhs = xp.matmul(Dv, xp.take(y, cols, axis=0))
        return y + xp.matmul(Z, xp.linalg.solve(C, rhs))

    # -- evaluation ---------------------------------------------------------------------------
    def evaluate(self, rows: Sequence[DesignRow | Scenario], *, outputs: Sequence[str] = OUTPUTS) -> ExperimentResults:
        """Accounts, flows and indices of every row (and of the base), host arrays.

        ``rows``: DesignRows, or Scenarios (resolved against the base table here).
        ``outputs``: any of "flows", "accounts", "indices" (indices need ``indices=``).
        Every row is planned and checked (:meth:`plan`) before any output is computed.
        """
        bad = [o for o in outputs if o not in OUTPUTS]
        if bad:
            raise OptionError(f"unknown output(s) {bad}; choose from {OUTPUTS}")
        if "indices" in outputs and self.spec is None:
            outputs = tuple(o for o in outputs if o != "indices")
        rows = [self.resolve(r) if isinstance(r, Scenario) else r for r in rows]
        plans = self.plan(rows)
        key = tuple(outputs)
        if key not in self._base_outputs:
            self._base_outputs[key] = self._outputs(self.base.flows()[None, ...], outputs)
        base = self._base_outputs[key]
        parts: list[dict] = []
        for start in range(0, len(plans), self.batch_size):
            chunk = plans[start : start + self.batch_size]
            parts.append(self._outputs(self._flows(chunk), outputs))
        stacked = {key: np.concatenate([p[key] for p in parts]) for key in base} if parts else {}
        return ExperimentResults(
            mrio=self.mrio,
            names=[r.name for r in rows],
            paths=[p.path for p in plans],
            solves=[p.solves for p in plans],
            base={key: v[0] for key, v in base.items()},
            rows=stacked,
            spec=self.spec,
        )

    def _outputs(self, E, outputs) -> dict:
        b = self.b
        out = {}
        if "flows" in outputs:
            out["E"] = b.to_host(E)
        if "accounts" in outputs:
            acc = K.calc_accounts(E, self.base.FYr)
            for name in ACCOUNTS:
                out[name] = b.to_host(acc[name])
        if "indices" in outputs:
            gmi, bmi = self.spec.compute(E, b, self._P)
            out["gmi"] = b.to_host(gmi)
            out["bmi"] = b.to_host(bmi)
            out["gmi_region"] = b.to_host(K.calc_group_vector(gmi, self._P))
        return out

    def _flows(self, plans: Sequence[_Plan]):
        """E (B, k, R, R) of a batch of rows: E = calc_E(S'_b, X) + the flows of dX_b, the
        change of output, gathered column by column (consumer by consumer)."""
        xp, b = self.xp, self.b
        base = self.base
        R = self.mrio.n_countries
        B = len(plans)
        S0 = base.S
        # Intensities: one (B, k, n) stack; rows without an intensity change take the base's.
        own = [i for i, p in enumerate(plans) if p.row.S is not None]
        if own:
            S_own = b.asarray(np.stack([plans[i].row.S for i in own]))
            index = np.full(B, len(own), dtype=np.int64)
            index[own] = np.arange(len(own))
            S_batch = xp.take(xp.concat([S_own, S0[None, ...]], axis=0), self._int(index), axis=0)
        else:
            S_batch = xp.broadcast_to(S0[None, ...], (B, *S0.shape))
        E = K.calc_E(S_batch, base.X, R)  # no solve

        # Changes of output, dX: columns (n, m); each slot (row, consumer) points at a column.
        # Rows that share a change (the same arrays: the samples of one scenario) share its solves.
        R_idx = np.arange(R)
        dX_parts: list = []
        width = 0
        slots: list[tuple[int, int, int]] = []  # (row, consumer, column of dX)
        done: dict[tuple, np.ndarray] = {}  # change -> its columns of dX
        fd_new: list[tuple[tuple, np.ndarray, np.ndarray]] = []
        for i, p in enumerate(plans):
            row = p.row
            if row.dY is None or p.update is not None or p.system is not None:
                continue
            key = ("fd", id(row.dY), id(row.fd_columns))
            if key not in done:
                cons, vals = row.dYr(R, self._c)
                done[key] = np.stack([cons, width + np.arange(cons.size)])
                fd_new.append((key, cons, vals))
                width += cons.size
            slots += [(i, int(c), int(col)) for c, col in done[key].T]
        if fd_new:  # every final-demand change of the batch in one solve
            dX_parts.append(base.system.solve(b.asarray(np.concatenate([v for _, _, v in fd_new], axis=1))))
        for i, p in enumerate(plans):
            if p.update is None and p.system is None:
                continue
            key = ("A", id(p.row.dA), id(p.row.dY))
            if key not in done:
                dX_parts.append(self._technology_dX(p))
                done[key] = np.stack([R_idx, width + R_idx])
                width += R
            slots += [(i, int(c), int(col)) for c, col in done[key].T]
        if not slots:
            return E
        dX = xp.concat(dX_parts, axis=1) if len(dX_parts) > 1 else dX_parts[0]  # (n, m)
        k = S0.shape[0]
        # Flows of the change for the base intensities, one product for all columns: (m, k, R).
        pieces = [xp.permute_dims(K.calc_E(S0, dX, R), (2, 0, 1))]
        entry = np.array([col for _, _, col in slots], dtype=np.int64)
        rows_of = np.array([r for r, _, _ in slots], dtype=np.int64)
        count = width
        for i in sorted(set(own) & set(rows_of.tolist())):  # rows with their own intensities too
            where = np.flatnonzero(rows_of == i)
            Si = xp.take(S_batch, self._int([i]), axis=0)[0, ...]
            Gi = K.calc_E(Si, xp.take(dX, self._int(entry[where]), axis=1), R)
            pieces.append(xp.permute_dims(Gi, (2, 0, 1)))
            entry[where] = count + np.arange(where.size)
            count += where.size
        pieces.append(xp.zeros((1, k, R), dtype=E.dtype, device=b.device))
        ext = xp.concat(pieces, axis=0)
        # Gather into (B, k, R, R): slot (row, consumer) -> its entry, or the zero one.
        gather = np.full(B * R, count, dtype=np.int64)
        gather[rows_of * R + np.array([c for _, c, _ in slots], dtype=np.int64)] = entry
        D = xp.reshape(xp.take(ext, self._int(gather), axis=0), (B, R, k, R))  # (B, consumer, k, producer)
        return E + xp.permute_dims(D, (0, 2, 3, 1))

    def _technology_dX(self, plan: _Plan):
        """X' - X (n, R) of a row that changes A (and maybe final demand)."""
        xp, b = self.xp, self.b
        base = self.base
        R = self.mrio.n_countries
        row = plan.row
        y = base.X
        if row.dY is not None:
            cons, vals = row.dYr(R, self._c)
            onehot = np.zeros((cons.size, R))
            onehot[np.arange(cons.size), cons] = 1.0
            Yr_change = xp.matmul(b.asarray(vals), b.asarray(onehot))
            if plan.system is not None:
                return plan.system.output(base.Yr + Yr_change) - base.X
            y = y + xp.matmul(base.system.solve(b.asarray(vals)), b.asarray(onehot))
        elif plan.system is not None:
            return plan.system.output(base.Yr) - base.X
        return self._woodbury(plan, y) - base.X


@dataclass
class ExperimentResults:
    """What :meth:`Evaluator.evaluate` returns: host arrays for the base and for each row.

    ``rows[name]`` holds a leading axis of rows: ``E`` (B, k, R, R), the accounts ``pba``,
    ``cba``, ``imports``, ``exports``, ``net`` (B, k, R), and with indices ``gmi`` (B, R),
    ``gmi_region`` (B, G), ``bmi`` (B, G, G) (region BMI). ``base`` holds the same without
    the row axis. ``paths[i]`` says how row i was evaluated, ``solves[i]`` how many
    right-hand sides it cost.
    """

    mrio: object
    names: list[str]
    paths: list[str]
    solves: list[int]
    base: dict
    rows: dict
    spec: IndexSpec | None = None
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.names)

    def _row(self, scenario: str | int) -> int:
        if isinstance(scenario, int):
            return scenario
        try:
            return self.names.index(scenario)
        except ValueError:
            from ..errors import LabelError

            raise LabelError(f"unknown scenario {scenario!r}; these results hold: {', '.join(self.names)}") from None

    def accounts(self, stressor: str, *, change: bool = False) -> pd.DataFrame:
        """The accounts of ``stressor`` by (scenario, country): the base first (scenario
        "base"), then each row; ``change=True``: each row minus the base."""
        m = self.mrio
        k = m.stressor_position(stressor)
        frames = {}
        if not change:
            frames["base"] = pd.DataFrame({a: self.base[a][k] for a in ACCOUNTS}, index=list(m.countries))
        for i, name in enumerate(self.names):
            values = {a: self.rows[a][i, k] - (self.base[a][k] if change else 0) for a in ACCOUNTS}
            frames[name] = pd.DataFrame(values, index=list(m.countries))
        out = pd.concat(frames, names=["scenario", "country"])
        out.attrs.update(stressor=stressor, unit=m.units[k], change=change)
        return out

    def gmi(self, level: str = "country", *, change: bool = False) -> pd.DataFrame:
        """GMI by country (or region) x scenario (base column first unless ``change``)."""
        if self.spec is None:
            raise OptionError("these results hold no indices (Evaluator(indices=...))")
        key = "gmi" if level == "country" else "gmi_region"
        labels = list(self.mrio.countries) if level == "country" else list(self.spec.groups)
        data = {} if change else {"base": self.base[key]}
        for i, name in enumerate(self.names):
            data[name] = self.rows[key][i] - (self.base[key] if change else 0)
        return pd.DataFrame(data, index=pd.Index(labels, name=level))

    def bmi(self, scenario: str | int | None = None, *, change: bool = False) -> pd.DataFrame:
        """Region BMI of one scenario (None: the base), or its change from the base."""
        if self.spec is None:
            raise OptionError("these results hold no indices (Evaluator(indices=...))")
        groups = list(self.spec.groups)
        M = self.base["bmi"] if scenario is None else self.rows["bmi"][self._row(scenario)]
        if change:
            M = M - self.base["bmi"]
        return pd.DataFrame(M, index=pd.Index(groups, name="region"), columns=pd.Index(groups, name="partner region"))

    def flows(self, stressor: str, scenario: str | int | None = None) -> pd.DataFrame:
        """Embodied flows (producing x consuming country) of one scenario (None: the base)."""
        m = self.mrio
        k = m.stressor_position(stressor)
        E = self.base["E"] if scenario is None else self.rows["E"][self._row(scenario)]
        idx = pd.Index(m.countries, name="producing country")
        return pd.DataFrame(E[k], index=idx, columns=pd.Index(m.countries, name="consuming country"))
