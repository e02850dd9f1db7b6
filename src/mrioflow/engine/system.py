"""A Leontief system factorised once on a backend, reused for many right-hand sides."""

from __future__ import annotations

from ..errors import NonProductiveError, SingularSystemError
from ..kernels import calc_A, solve_M, solve_X
from .backend import Backend, Factorization


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
    """

    def __init__(self, backend: Backend, lu: Factorization, x, *, nonnegative: bool):
        self.backend = backend
        self.lu = lu
        self.x = x
        self.n = lu.n
        self.nonnegative = nonnegative

    @classmethod
    def from_arrays(cls, backend: Backend, Z, x, *, check: bool = True, consume_Z: bool = False) -> LeontiefSystem:
        """Factor (I - A) with A = Z diag(x)^-1; Z and x are device arrays.

        Memory: one n x n array (A, turned into I - A and then into its LU in
        place) on top of Z; none on top of Z when ``consume_Z`` is True, in which
        case Z's memory becomes A (use it when Z is a device copy nobody else holds).

        Raises
        ------
        SingularSystemError
            If (I - A) is singular (a zero or non-finite pivot).
        NonProductiveError
            If A is non-negative and not productive (checked with one extra solve).
        """
        xp = backend.xp
        nonnegative = bool(xp.min(Z) >= 0)
        if consume_Z:
            A = Z
            A *= calc_A(xp.ones((1, Z.shape[-1]), dtype=Z.dtype, device=x.device), x)
        else:
            A = calc_A(Z, x)
        del Z
        IminusA = backend.eye_minus(A)
        del A
        lu = backend.lu_factor(IminusA, overwrite=True, check=check)
        system = cls(backend, lu, x, nonnegative=nonnegative)
        if check and nonnegative:
            system.check_productive()
        return system

    def check_productive(self) -> None:
        """Raise NonProductiveError unless z = (I - A)^-1 1 is positive.

        For A >= 0 this is exact: (I - A) is a non-singular M-matrix (A is
        productive, L >= 0) if and only if some z > 0 has (I - A) z > 0, and
        then z = L 1 >= 1 (Hawkins-Simon; Miller & Blair 2009, app. 2.1).
        """
        xp = self.backend.xp
        ones = xp.ones((self.n, 1), dtype=self.backend.dtype, device=self.backend.device)
        z = self.solve(ones)
        bad = z[:, 0] <= 0
        if bool(xp.any(bad)):
            count = int(xp.sum(xp.astype(bad, xp.int32)))
            raise NonProductiveError(
                f"A is not productive: (I - A)^-1 has negative entries ({count} of {self.n} "
                "rows of (I - A)^-1 1 are <= 0); some sectors use more inputs than they produce"
            )

    def solve(self, B, *, transpose: bool = False):
        """(I - A)^-1 B, or (I - A)^-T B; raises if the result is not finite."""
        out = self.lu.solve(B, transpose=transpose)
        self.check_finite(out, "the Leontief solve")
        return out

    def check_finite(self, a, what: str) -> None:
        xp = self.backend.xp
        if not bool(xp.all(xp.isfinite(a))):
            raise SingularSystemError(
                f"{what} returned non-finite values: (I - A) is singular or ill-conditioned"
            )

    def output(self, Yr):
        """X = L Yr, the output driven by each column of final demand."""
        X = solve_X(self.lu, Yr)
        self.check_finite(X, "the Leontief solve X = L Yr")
        return X

    def multipliers(self, S):
        """M = S L by one transposed solve."""
        M = solve_M(self.lu, S)
        self.check_finite(M, "the multiplier solve M = S L")
        return M
