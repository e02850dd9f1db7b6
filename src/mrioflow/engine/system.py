"""A Leontief system factorised once on a backend, reused for many right-hand sides."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

from ..errors import InvalidValueError, MemoryLimitError, NonProductiveError, OptionError, SingularSystemError
from ..kernels import calc_A, estimate_condition1, norm1, solve_M, solve_X
from ..mrio import MRIO
from .backend import Backend, Factorization

#: Rows of A per block when a check needs |A| (a block is at most this many
#: elements), so that no second n x n array is made.
_BLOCK_ELEMENTS = 1 << 22


CONDITION_RELATIVE_ERROR = 1e-3
"""Warn when kappa_1(I - A) times the working precision's epsilon exceeds this: the solves may
then be wrong in the third significant digit (a relative error bound of kappa * eps)."""


class IllConditionedWarning(RuntimeWarning):
    """(I - A) is so ill conditioned that the results may have lost their accuracy."""


def check_memory_limit(value) -> float | None:
    """``memory_limit`` as a float: None, or a positive finite number of bytes (OptionError otherwise)."""
    if value is None:
        return None
    try:
        limit = float(value)
    except (TypeError, ValueError):
        limit = math.nan
    if isinstance(value, bool) or not (math.isfinite(limit) and limit > 0):
        raise OptionError(f"memory_limit must be a positive finite number of bytes (or None), got {value!r}")
    return limit


def condition_estimate(backend: Backend, lu: Factorization, norm: float) -> float:
    """kappa_1(I - A) ~ ||I - A||_1 ||(I - A)^-1||_1 from the LU (a few solves of one column;
    ``norm`` = ||I - A||_1, taken before the LU overwrote I - A); see kernels.condition."""
    like = backend.xp.zeros((1,), dtype=backend.dtype, device=backend.device)
    return estimate_condition1(lu, lu.n, norm, like=like)


def _warn_if_ill_conditioned(backend: Backend, cond: float) -> None:
    eps = float(backend.xp.finfo(backend.dtype).eps)
    if not cond * eps <= CONDITION_RELATIVE_ERROR:  # NaN and inf too
        warnings.warn(
            f"(I - A) is ill conditioned: its 1-norm condition number is about {cond:.3g}, so results in "
            f"{backend.dtype_name} (epsilon {eps:.3g}) may be wrong by up to {min(cond * eps, math.inf):.3g} "
            f"relative (emissions can be lost); check for sectors whose inputs nearly equal their output",
            IllConditionedWarning,
            stacklevel=4,
        )


def estimate_run_bytes(mrio: MRIO, backend: Backend, *, consume: bool = False) -> tuple[int, str]:
    """Memory a run of ``mrio`` allocates on the backend's device beyond its inputs.

    Returns
    -------
    bytes : int
    detail : str
        How the figure is made up, for messages.

    Notes
    -----
    On the CPU in float64, ``consume=False`` allocates one n x n array (A, turned
    into I - A and its LU in place) on top of the MRIO's Z; ``consume=True``
    none. A GPU (or a float32 run, or array-api-strict) works on a copy of Z,
    which it consumes. Besides, a run holds n x R and k x n x R arrays (final
    demand per country, X, the sector forms of E) and their labelled copies.
    array-api-strict has no in-place LU: three n x n arrays.
    """
    n, R, k = mrio.n, mrio.n_countries, len(mrio.stressors)
    item = 8 if backend.dtype_name == "float64" else 4
    copies = backend.copies_on_transfer or backend.dtype_name != "float64"
    if not backend.in_place_lu:
        matrices = 3
    else:
        matrices = 1 if copies or not consume else 0
    columns = 2 * R + 2 * k * R + 4 * k + len(mrio.fd_categories) * R * copies
    small = 2 * item * n * columns
    detail = (
        f"{matrices} n x n array(s) of {item * n * n / 1e9:.3g} GB for n = {n:,} "
        f"and {small / 1e9:.3g} GB of right-hand sides and results"
    )
    return matrices * item * n * n + small, detail


class LeontiefSystem:
    """LU of (I - A) on a backend's device, with checked solves.

    Build it with :meth:`from_arrays` (or ``Engine.factor``). The factorisation
    is computed once; :meth:`output`, :meth:`multipliers` and :meth:`solve`
    reuse it for any number of right-hand sides (years of final demand, Monte
    Carlo samples of intensities, ...). The Leontief inverse is never formed.

    Attributes
    ----------
    backend : Backend
    lu : Factorization
        LU of (I - A).
    x : device array (n,)
        Gross output the coefficients were computed from.
    n : int
    condition : float or None
        Estimate of the 1-norm condition number of (I - A) (made when the
        system was factored with checks; None otherwise). Past
        ``CONDITION_RELATIVE_ERROR / eps`` an IllConditionedWarning was given.
    """

    def __init__(self, backend: Backend, lu: Factorization, x, *, nonnegative: bool):
        self.backend = backend
        self.lu = lu
        self.x = x
        self.n = lu.n
        self.nonnegative = nonnegative
        self.condition: float | None = None

    @classmethod
    def from_mrio(
        cls,
        backend: Backend,
        mrio: MRIO,
        *,
        check: bool = True,
        consume: bool = False,
        memory_limit: float | None = None,
    ) -> LeontiefSystem:
        """Move an MRIO's Z and x to the device and factor (I - A), memory checked first.

        Parameters
        ----------
        backend : Backend
        mrio : MRIO
        check : bool
            Check x, A, the pivots and productivity (see :meth:`from_arrays`).
        consume : bool
            Let the factorisation overwrite ``mrio.Z`` on the CPU: Z becomes
            A, I - A and its LU where it lies, so that a run needs about one
            n x n array in all instead of two. The MRIO is destroyed: its Z
            holds the LU afterwards and must not be used again.
        memory_limit : float, optional
            Bytes the run may allocate beyond its inputs (default: what the
            device has available, ``backend.memory_available()``).

        Raises
        ------
        MemoryLimitError
            When :func:`estimate_run_bytes` exceeds the limit: the message gives
            both figures and, when it would fit, the in-place option.
        """
        memory_limit = check_memory_limit(memory_limit)
        need, detail = estimate_run_bytes(mrio, backend, consume=consume)
        limit, where = (
            (memory_limit, "the memory_limit given")
            if memory_limit is not None
            else (backend.memory_available(), f"available on {backend.describe()}")
        )
        if need > limit:
            hint = ""
            if not consume:
                lean, _ = estimate_run_bytes(mrio, backend, consume=True)
                if lean < need:
                    hint = (
                        f"; consuming the input in place (Engine.run(mrio, consume=True); the MRIO is "
                        f"destroyed) needs about {lean / 1e9:.3g} GB"
                    )
            raise MemoryLimitError(
                f"this run needs about {need / 1e9:.3g} GB ({detail}) on top of its inputs, but "
                f"{limit / 1e9:.3g} GB are {where}{hint}"
            )
        x = backend.asarray(mrio.x)  # before Z is consumed
        Z = backend.asarray(mrio.Z)
        S = mrio.n_sectors
        label = lambda i: f"{mrio.countries[i // S]}/{mrio.sectors[i % S]}"  # noqa: E731
        # A copy made on the way to the device is held by nobody else: it becomes A in place.
        own = consume or backend.copies_on_transfer or Z is not mrio.Z
        return cls.from_arrays(backend, Z, x, check=check, consume_Z=own, label=label)

    @classmethod
    def from_arrays(
        cls,
        backend: Backend,
        Z,
        x,
        *,
        check: bool = True,
        consume_Z: bool = False,
        label: Callable[[int], str] | None = None,
        nonnegative: bool | None = None,
        check_productive: bool = True,
    ) -> LeontiefSystem:
        """Factor (I - A) with A = Z diag(x)^-1; Z and x are device arrays.

        Memory: one n x n array (A, turned into I - A and then into its LU in
        place) on top of Z; none on top of Z when ``consume_Z`` is True, in which
        case Z's memory becomes A (use it when Z is a device copy nobody else holds).
        ``label(i)`` names sector i in messages.

        ``nonnegative``: whether Z has no negative cell, when the caller knows it (a
        Monte Carlo sample of Z keeps the nominal table's signs): the pass over Z that
        finds it and the column-sum check of A are skipped (a non-finite A still fails
        at the pivots or the solves), and with ``consume_Z`` I - A is formed in one pass.
        ``check_productive=False`` leaves the Hawkins-Simon check to the caller, who
        makes it in the same solve as X: ``output(Yr, check_productive=True)``.

        Raises
        ------
        InvalidValueError
            If x or A has non-finite values (values near the float64 limit
            overflow when summed or divided).
        SingularSystemError
            If (I - A) is singular (a zero or non-finite pivot).
        NonProductiveError
            If A is not productive (see :meth:`check_productive`, and
            :func:`check_spectral_radius` for tables with negative cells).
        """
        xp = backend.xp
        name = label or str
        if check:
            _check_finite_vector(xp, x, "gross output x = Z 1 + Y 1", name)
            _check_normal(xp, x, name)
        known = nonnegative is not None
        if nonnegative is None:
            nonnegative = bool(xp.min(Z) >= 0)
        scale = calc_A(xp.ones((1, Z.shape[-1]), dtype=Z.dtype, device=x.device), x)  # 1 / x, 0 where x = 0
        if consume_Z and (not check or (known and nonnegative)):  # no check needs A itself
            IminusA = backend.eye_minus(Z, scale=scale)
        else:
            if consume_Z:
                A = Z
                A *= scale
            else:
                A = calc_A(Z, x)
            if check and not known:
                _check_finite_vector(xp, xp.sum(A, axis=0), "a column sum of A = Z diag(x)^-1", name)
            if check and not nonnegative:
                check_spectral_radius(xp, A)
            IminusA = backend.eye_minus(A)
            del A
        del Z
        return cls.from_eye_minus(
            backend, IminusA, x, nonnegative=nonnegative, check=check, check_productive=check_productive
        )

    @classmethod
    def from_eye_minus(
        cls, backend: Backend, IminusA, x, *, nonnegative: bool, check: bool = True, check_productive: bool = True
    ) -> LeontiefSystem:
        """Factor a given I - A (consumed: its memory may become the LU), made from x.

        With ``check``: x must be finite, the pivots are checked, the condition number
        is estimated (``condition``; an IllConditionedWarning past the threshold), and
        with ``check_productive`` Hawkins-Simon for A >= 0; the checks of A are the
        caller's (see :meth:`from_arrays`).
        """
        norm = None
        if check:
            _check_finite_vector(backend.xp, x, "gross output x = Z 1 + Y 1", str)
            norm = norm1(IminusA)  # before the LU overwrites I - A
        lu = backend.lu_factor(IminusA, overwrite=True, check=check)
        system = cls(backend, lu, x, nonnegative=nonnegative)
        if norm is not None:
            system.condition = condition_estimate(backend, lu, norm)
            _warn_if_ill_conditioned(backend, system.condition)
        if check and nonnegative and check_productive:
            system.check_productive()
        return system

    def check_productive(self) -> None:
        """Raise NonProductiveError unless z = (I - A)^-1 1 is positive (for A >= 0).

        For A >= 0 this is exact: (I - A) is a non-singular M-matrix (A is
        productive, L >= 0) if and only if some z > 0 has (I - A) z > 0, and
        then z = L 1 >= 1 (Hawkins-Simon; Miller & Blair 2009, app. 2.1).
        Tables with negative cells are checked before the factorisation by
        :func:`check_spectral_radius` instead: for them L may rightly have
        negative entries.
        """
        xp = self.backend.xp
        ones = xp.ones((self.n, 1), dtype=self.backend.dtype, device=self.backend.device)
        self._check_positive(self.solve(ones)[:, 0])

    def _check_positive(self, z) -> None:
        """Hawkins-Simon on z = (I - A)^-1 1 (see :meth:`check_productive`)."""
        xp = self.backend.xp
        bad = z <= 0
        if bool(xp.any(bad)):
            count = int(xp.sum(xp.astype(bad, xp.int32)))
            raise NonProductiveError(
                "A is not productive (Hawkins-Simon: (I - A)^-1 1 > 0 fails): (I - A)^-1 has negative "
                f"entries ({count} of {self.n} "
                "rows of (I - A)^-1 1 are <= 0); some sectors use more inputs than they produce"
            )

    def solve(self, B, *, transpose: bool = False):
        """(I - A)^-1 B, or (I - A)^-T B; raises if the result is not finite."""
        out = self.lu.solve(B, transpose=transpose)
        self.check_finite(out, "the Leontief solve", rhs=B)
        return out

    def check_finite(self, a, what: str, *, rhs=None) -> None:
        """Raise unless ``a`` (the result of a solve with right-hand side ``rhs``) is finite.

        InvalidValueError when the cause is the size of the numbers: ``rhs`` is not
        finite itself (e.g. S = F diag(x)^-1 overflowed), or the system is well
        conditioned so the solve overflowed; SingularSystemError otherwise.
        """
        xp = self.backend.xp
        if bool(xp.all(xp.isfinite(a))):
            return
        if rhs is not None and not bool(xp.all(xp.isfinite(rhs))):
            raise InvalidValueError(
                f"{what}: its right-hand side is not finite (e.g. S = F diag(x)^-1 overflowed: a stressor "
                f"too large for its sector's gross output in {self.backend.dtype_name}); rescale the units"
            )
        eps = float(xp.finfo(self.backend.dtype).eps)
        if self.condition is not None and self.condition * eps <= CONDITION_RELATIVE_ERROR:
            top = float(xp.max(xp.abs(rhs))) if rhs is not None else math.nan
            raise InvalidValueError(
                f"{what} overflowed the {self.backend.dtype_name} range: the values are too large (largest input "
                f"{top:.3g}; (I - A) is well conditioned, condition number about {self.condition:.3g}); "
                "rescale the units"
            )
        raise SingularSystemError(f"{what} returned non-finite values: (I - A) is singular or ill-conditioned")

    def output(self, Yr, *, check_productive: bool = False):
        """X = L Yr, the output driven by each column of final demand.

        ``check_productive``: also check Hawkins-Simon (:meth:`check_productive`, for
        A >= 0) in the same solve, with a column of ones beside Yr.
        """
        xp = self.backend.xp
        check = check_productive and self.nonnegative
        if check:
            Yr = xp.concat([Yr, xp.ones((self.n, 1), dtype=Yr.dtype, device=self.backend.device)], axis=1)
        X = solve_X(self.lu, Yr)
        self.check_finite(X, "the Leontief solve X = L Yr", rhs=Yr)
        if check:
            self._check_positive(X[:, -1])
            X = X[:, :-1]
        return X

    def multipliers(self, S):
        """M = S L by one transposed solve."""
        M = solve_M(self.lu, S)
        self.check_finite(M, "the multiplier solve M = S L", rhs=S)
        return M


def _check_finite_vector(xp, v, what: str, label: Callable[[int], str]) -> None:
    bad = xp.logical_not(xp.isfinite(v))
    if bool(xp.any(bad)):
        count = int(xp.sum(xp.astype(bad, xp.int32)))
        first = int(xp.argmax(xp.astype(bad, xp.int8)))
        raise InvalidValueError(
            f"{what} is not finite for {count} sector(s), first {label(first)} ({float(v[first])!r}): "
            "values in Z or Y are too large for the working precision"
        )


def _check_normal(xp, x, label: Callable[[int], str]) -> None:
    """InvalidValueError for a gross output that is not 0 but below the smallest normal number
    (subnormal): 1 / x overflows, and the table is too small, not too large."""
    tiny = float(xp.finfo(x.dtype).smallest_normal)
    bad = (x != 0) & (xp.abs(x) < tiny)
    if bool(xp.any(bad)):
        count = int(xp.sum(xp.astype(bad, xp.int32)))
        first = int(xp.argmax(xp.astype(bad, xp.int8)))
        raise InvalidValueError(
            f"gross output x = Z 1 + Y 1 is subnormal for {count} sector(s), first {label(first)} "
            f"({float(x[first])!r}, below the smallest normal {tiny:.3g}): values in Z and Y are too small for the "
            "working precision (1 / x overflows); rescale the table's units"
        )


def _abs_transpose_product(xp, A, w):
    """|A|^T w, one block of rows of A at a time (no n x n temporary)."""
    n = A.shape[0]
    step = max(1, _BLOCK_ELEMENTS // max(A.shape[1], 1))
    out = xp.zeros(A.shape[1], dtype=A.dtype, device=A.device)
    for i in range(0, n, step):
        j = min(i + step, n)
        out += xp.matmul(w[i:j], xp.abs(A[i:j, :]))
    return out


def check_spectral_radius(xp, A, *, iterations: int = 200) -> None:
    """Raise NonProductiveError unless rho(A) < 1, for A with negative cells.

    What is right for a table with negative cells (Eora has some: subsidies,
    statistical adjustments): (I - A)^-1 may then rightly have negative
    entries, so the Hawkins-Simon test (L 1 > 0, exact for A >= 0) does not
    apply. What the Leontief model needs is that the rounds of supply-chain
    requirements die out, L = I + A + A^2 + ..., i.e. the spectral radius
    rho(A) < 1 (for A >= 0 it is the same condition as Hawkins-Simon).

    1. Sufficient, and rigorous: rho(A) <= rho(|A|) < 1. Power iteration on
       |A|^T from w = 1 gives Collatz-Wielandt bounds
       min_j (|A|^T w)_j / w_j <= rho(|A|) <= max_j (|A|^T w)_j / w_j; the
       first upper bound is the largest column sum of |A|, which settles
       almost every real table at once.
    2. When rho(|A|) >= 1 (large negative cells), rho(A) itself is estimated
       by Gelfand's formula, the growth rate of ||A^k v|| over ``iterations``
       steps (an estimate, not a bound), and the table is refused when it is
       at least 1.

    The error names the criterion that failed and the figures.
    """
    n = A.shape[0]
    w = xp.ones(n, dtype=A.dtype, device=A.device)
    lower, upper = 0.0, math.inf
    for _ in range(iterations):
        v = _abs_transpose_product(xp, A, w)
        ratio = v[w > 0] / w[w > 0]
        upper = min(upper, float(xp.max(ratio)))
        lower = max(lower, float(xp.min(ratio)))
        if upper < 1 or lower >= 1:
            break
        top = float(xp.max(v))
        if top == 0:
            return  # |A| nilpotent on this vector: rho = 0
        w = v / top
    if upper < 1:
        return
    v = xp.ones(n, dtype=A.dtype, device=A.device) / math.sqrt(n)
    logs = []
    for _ in range(iterations):
        v = xp.matmul(A, v)
        norm = float(xp.linalg.vector_norm(v))
        if norm == 0:
            return
        logs.append(math.log(norm))
        v = v / norm
    tail = logs[len(logs) // 2 :]
    rho = math.exp(sum(tail) / len(tail))
    if rho >= 1:
        raise NonProductiveError(
            f"A (with negative cells) is not productive: its spectral radius rho(A) is about {rho:.6g} >= 1 "
            f"(power-iteration estimate), so L = I + A + A^2 + ... diverges; the sufficient test "
            f"rho(|A|) < 1 failed too ({lower:.4g} <= rho(|A|) <= {upper:.4g})"
        )
