"""The engine: choose a backend, move a table to it, run the kernels, label the results."""

from __future__ import annotations

import time
from collections.abc import Sequence

from .. import kernels as K
from ..mrio import MRIO
from .backend import Backend, get_backend
from .results import Results
from .system import LeontiefSystem


class Engine:
    """Runs EE-MRIO computations on one backend.

    Parameters
    ----------
    backend : {"auto", "numpy", "cupy", "array_api_strict"} or Backend
        "auto" uses CuPy when a GPU is usable, otherwise NumPy; ``engine.backend.reason``
        says which it picked and why.
    dtype : {"float64", "float32"}
        Working precision on the device (float64 by default).

    Examples
    --------
    >>> import mrioflow as mf
    >>> eng = mf.Engine(backend="numpy")
    >>> res = eng.run(mf.datasets.synthetic(year=2013, n_countries=5))
    >>> res.accounts("CH4").columns.tolist()
    ['pba', 'cba', 'imports', 'exports', 'net']
    """

    def __init__(self, backend: str | Backend = "auto", dtype: str = "float64"):
        self.backend = get_backend(backend, dtype)

    def __repr__(self) -> str:
        return f"Engine({self.backend!r})"

    def factor(self, mrio: MRIO, *, check: bool = True) -> LeontiefSystem:
        """Move Z to the device and factor (I - A) once; see LeontiefSystem."""
        b = self.backend
        Z = b.asarray(mrio.Z)
        x = b.asarray(mrio.x)
        # A device copy of Z is held by nobody else: let it become A in place.
        return LeontiefSystem.from_arrays(b, Z, x, check=check, consume_Z=b.copies_on_transfer)

    def run(
        self,
        mrio: MRIO,
        *,
        stressors: Sequence[str] | None = None,
        sector_flows: bool = True,
        keep_L: bool = False,
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
        b = self.backend
        R = mrio.n_countries
        timings: dict[str, float] = {}

        t0 = time.perf_counter()
        system = self.factor(mrio)
        b.synchronize()
        timings["factor"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        Yr = K.calc_by_country(b.asarray(mrio.Y), R)
        F = b.asarray(mrio.F)
        F_Y = K.calc_by_country(b.asarray(mrio.F_Y), R)
        S = K.calc_S(F, system.x)
        X = system.output(Yr)
        M = system.multipliers(S)
        E = K.calc_E(S, X, R)
        out = {"E": E, "M": M, "F_Y": F_Y, "x": system.x, "F": F}
        if sector_flows:
            out["E_sector"] = K.calc_E_sector(S, X)
            out["E_fd_sector"] = K.calc_E_final_demand_sector(M, Yr)
        if keep_L:
            out["L"] = K.calc_L(system.lu, mrio.n, like=S)
            system.check_finite(out["L"], "forming L")
        b.synchronize()
        timings["solve_and_flows"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        host = {name: b.to_host(a) for name, a in out.items()}
        timings["to_host"] = time.perf_counter() - t0
        return Results(
            mrio=mrio,
            backend=f"{b.name} ({b.describe()})",
            timings=timings,
            **host,
        )
