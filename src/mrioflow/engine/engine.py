"""The engine: choose a backend, move a table to it, run the kernels, label the results."""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from functools import cached_property

from .. import kernels as K
from ..mrio import MRIO
from .backend import Backend, get_backend
from .results import Results, ZeroOutputWarning, zero_output_stressors
from .system import LeontiefSystem, check_memory_limit


class Engine:
    """Runs EE-MRIO computations on one backend.

    Parameters
    ----------
    backend : {"auto", "numpy", "cupy", "array_api_strict"} or Backend
        "auto" uses CuPy when a GPU is usable, otherwise NumPy; ``engine.backend.reason``
        says which it picked and why.
    dtype : {"float64", "float32"}, optional
        Working precision on the device (default: float64, or the Backend object's
        own; a dtype that disagrees with a Backend object's is an OptionError).
    memory_limit : float, optional
        Bytes a run may allocate beyond its inputs; a run estimated to need
        more is refused with a MemoryLimitError before it starts (default:
        the memory the device has available).

    Examples
    --------
    >>> import mrioflow as mf
    >>> eng = mf.Engine(backend="numpy")
    >>> res = eng.run(mf.datasets.synthetic(year=2013, n_countries=5))
    >>> res.accounts("CH4").columns.tolist()
    ['pba', 'cba', 'imports', 'exports', 'net']
    """

    def __init__(self, backend: str | Backend = "auto", dtype: str | None = None, *, memory_limit: float | None = None):
        self.backend = get_backend(backend, dtype)
        self.memory_limit = check_memory_limit(memory_limit)

    def __repr__(self) -> str:
        return f"Engine({self.backend!r})"

    def factor(self, mrio: MRIO, *, check: bool = True, consume: bool = False) -> LeontiefSystem:
        """Move Z to the device and factor (I - A) once; see LeontiefSystem.from_mrio."""
        return LeontiefSystem.from_mrio(
            self.backend, mrio, check=check, consume=consume, memory_limit=self.memory_limit
        )

    def prepare(self, mrio: MRIO, *, check: bool = True, consume: bool = False) -> PreparedTable:
        """The table on the device, ready for any number of solves: see PreparedTable.

        Nothing is factored or solved until first asked for. With ``consume=True``
        the factorisation destroys ``mrio.Z`` (see ``Engine.run``).
        """
        return PreparedTable(self, mrio, check=check, consume=consume)

    def run(
        self,
        mrio: MRIO,
        *,
        stressors: Sequence[str] | None = None,
        sector_flows: bool = True,
        keep_L: bool = False,
        consume: bool = False,
        income_based: bool = False,
    ) -> Results:
        """Every account of docs/method.md sections 2-3 for one table.

        Parameters
        ----------
        mrio : MRIO
        stressors : sequence of str, optional
            Restrict to these stressors (default: all, value added included).
        sector_flows : bool
            Also compute the sector-level forms (k x n x R each, producing sector
            and final-demand sector by consuming country).
        keep_L : bool
            Also form the Leontief inverse explicitly and return it (n solves;
            only when you need L itself).
        consume : bool
            Overwrite ``mrio.Z`` with I - A and its LU (CPU, float64): the run
            needs about one n x n array in all instead of two. The MRIO is
            destroyed and must not be used afterwards.
        income_based : bool
            Also compute the income-based (Ghosh, supply-side) stressors D_iba
            (``Results.income_accounts``): one more solve with k right-hand sides
            and one pass over Z for the primary inputs.

        Returns
        -------
        Results
            Labelled host results: flows, accounts, multipliers, sector forms.

        Notes
        -----
        LU of (I - A) once (2/3 n^3), X = L Yr by one solve with R right-hand
        sides, M = S L by one transposed solve with k right-hand sides, E by a
        batched product over producing countries. Only k x R x R, k x n and
        (optionally) k x n x R arrays come back to the host.
        """
        if stressors is not None:
            mrio = mrio.select_stressors(stressors)
        lost = zero_output_stressors(mrio.F, mrio.x)
        if lost is not None:
            warnings.warn(_zero_output_message(mrio, lost), ZeroOutputWarning, stacklevel=2)
        b = self.backend
        timings: dict[str, float] = {}

        t0 = time.perf_counter()
        # Z^T 1 for the primary inputs w = x - Z^T 1, before a consuming factorisation destroys Z
        bought = mrio.Z.sum(axis=0) if income_based else None
        table = self.prepare(mrio, consume=consume)
        system = table.system
        b.synchronize()
        timings["factor"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        S, X, M = table.S, table.X, table.M
        out = {"E": table.flows(S, X), "M": M, "F_Y": table.FYr, "x": system.x, "F": table.F}
        diagnostics = {"condition_number_1norm": system.condition}
        system.check_finite(out["E"], "the embodied flows E = S X", rhs=S)
        if bought is not None:
            out["D_iba"] = K.solve_D_iba(system.lu, table.F, system.x - b.asarray(bought), system.x)
            system.check_finite(out["D_iba"], "the income-based solve")
        if keep_L:
            out["L"] = K.calc_L(system.lu, mrio.n, like=S)
            system.check_finite(out["L"], "forming L")
        Yr = table.Yr
        del system
        table._release_system()  # the n x n LU is not needed past here: the sector forms fit in its place
        if sector_flows:
            out["E_sector"] = K.calc_E_sector(S, X)
            out["E_fd_sector"] = K.calc_E_final_demand_sector(M, Yr)
        b.synchronize()
        timings["solve_and_flows"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        host = {name: b.to_host(a) for name, a in out.items()}
        timings["to_host"] = time.perf_counter() - t0
        return Results(mrio=mrio, backend=b, timings=timings, diagnostics=diagnostics, **host)


def _zero_output_message(mrio: MRIO, lost) -> str:
    """One line: the stressors of zero-output sectors, which no account includes."""
    totals, sectors = lost
    shown = ", ".join(f"{mrio.stressors[k]} {totals[k]:.6g}" for k in range(len(totals)) if totals[k] != 0)
    names = ", ".join(mrio._sector_label(int(i)) for i in sectors[:5]) + (" ..." if len(sectors) > 5 else "")
    return (
        f"{len(sectors)} sector(s) with zero gross output have direct stressors that no production or "
        f"consumption account includes (S = F / x is 0 there): {shown}; sectors {names} "
        "(Results.accounts(...) column 'zero_output')"
    )


class PreparedTable:
    """One table on one backend's device, factored once and reused: the public base
    of ``Engine.run`` and of everything that loops over samples or scenarios
    (:mod:`mrioflow.ensembles`).

    Every attribute is computed on first use and kept (device arrays):

    - ``system``: the LU of (I - A) (:class:`LeontiefSystem`), ``x`` its gross output
    - ``F``, ``F_Y``, ``Y``: the table's stressors, direct stressors and final demand
    - ``FYr`` (k, R), ``Yr`` (n, R): F_Y and Y summed by consuming country
    - ``S = F diag(x)^-1``, ``X = L Yr``, ``M = S L``
    - ``W = split_by_country(S) L`` (k R x n): with it, E = W Yr for any final demand

    Parameters
    ----------
    engine : Engine
    mrio : MRIO
    check : bool
        Check the factorisation (singular, non-productive A).
    consume : bool
        Factor (I - A) where ``mrio.Z`` lies, destroying it (see ``Engine.run``).
    """

    def __init__(self, engine: Engine, mrio: MRIO, *, check: bool = True, consume: bool = False):
        self.engine = engine
        self.backend: Backend = engine.backend
        self.mrio = mrio
        self.R = mrio.n_countries
        self._check = check
        self._consume = consume

    def __repr__(self) -> str:
        return f"<PreparedTable {self.mrio!r} on {self.backend}>"

    @cached_property
    def system(self) -> LeontiefSystem:
        return self.engine.factor(self.mrio, check=self._check, consume=self._consume)

    @property
    def x(self):
        return self.system.x

    @cached_property
    def F(self):
        return self.backend.asarray(self.mrio.F)

    @cached_property
    def F_Y(self):
        return self.backend.asarray(self.mrio.F_Y)

    @cached_property
    def Y(self):
        return self.backend.asarray(self.mrio.Y)

    @cached_property
    def FYr(self):
        return K.calc_by_country(self.F_Y, self.R)

    @cached_property
    def Yr(self):
        return K.calc_by_country(self.Y, self.R)

    @cached_property
    def S(self):
        return K.calc_S(self.F, self.x)

    @cached_property
    def X(self):
        return self.system.output(self.Yr)

    @cached_property
    def M(self):
        return self.system.multipliers(self.S)

    @cached_property
    def W(self):
        k, n = self.S.shape
        B = self.backend.xp.reshape(K.split_by_country(self.S, self.R), (k * self.R, n))
        return self.system.multipliers(B)

    def _release_system(self) -> None:
        """Free the LU of (I - A) (n x n) when no more solves are needed (Engine.run);
        what was computed from it (X, M, W, ...) stays. Not for a consumed table: a
        later solve would factor its destroyed Z again."""
        self.__dict__.pop("system", None)

    def flows(self, S=None, X=None):
        """Embodied flows E (..., k, R, R) from intensities S and outputs X (default: the table's)."""
        return K.calc_E(self.S if S is None else S, self.X if X is None else X, self.R)
