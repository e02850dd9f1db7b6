"""How well conditioned a factored system is: 1-norm condition estimates from an LU.

kappa_1(M) = ||M||_1 ||M^-1||_1. ||M||_1 (the largest column sum of |M|) is read
from M before it is factored; ||M^-1||_1 is estimated from the factorisation
with a few solves (Hager 1984; Higham 1988, the algorithm of LAPACK's xLACN2):
never an inverse, O(n^2) per solve. Written against the array API standard, so
it runs on NumPy, CuPy and array-api-strict alike.
"""

from __future__ import annotations

from array_api_compat import array_namespace

#: Rows of M per block when summing |M| (a block is at most this many elements: 2 MB in float64,
#: so that the estimate adds nothing noticeable to a run's peak memory).
_BLOCK_ELEMENTS = 1 << 18


def norm1(M) -> float:
    """||M||_1, the largest column sum of |M|, one block of rows at a time (no n x n temporary)."""
    xp = array_namespace(M)
    n_rows, n_cols = M.shape
    step = max(1, _BLOCK_ELEMENTS // max(n_cols, 1))
    sums = xp.zeros(n_cols, dtype=M.dtype, device=M.device)
    for i in range(0, n_rows, step):
        sums += xp.sum(xp.abs(M[i : min(i + step, n_rows), :]), axis=0)
    return float(xp.max(sums)) if n_cols else 0.0


def _signs(xp, y):
    s = xp.sign(y)
    return xp.where(s == 0, xp.ones_like(s), s)


def estimate_inverse_norm1(lu, n: int, *, like, max_iter: int = 5) -> float:
    """An estimate of ||M^-1||_1 from a factorisation of M (a lower bound, usually exact).

    Parameters
    ----------
    lu : Factorization
        ``lu.solve(B)`` = M^-1 B and ``lu.solve(B, transpose=True)`` = M^-T B.
    n : int
        The order of M.
    like : array
        Gives the namespace, dtype and device of the right-hand sides.
    max_iter : int
        Iterations of Hager's method after the first (LAPACK uses 5).

    Returns
    -------
    float
        max over the vectors tried of ||M^-1 v||_1 / ||v||_1 (Hager's estimate,
        and Higham's alternating vector as a safeguard): between 2 and 2 *
        (max_iter + 2) solves of one column.
    """
    xp = array_namespace(like)
    if n == 0:
        return 0.0
    dtype, device = like.dtype, like.device
    v = xp.full((n, 1), 1.0 / n, dtype=dtype, device=device)
    y = lu.solve(v)
    est = float(xp.sum(xp.abs(y)))
    if n > 1:
        xi = _signs(xp, y)
        z = lu.solve(xi, transpose=True)
        previous = -1
        for k in range(max_iter):
            j = int(xp.argmax(xp.abs(z[:, 0])))
            if k > 0 and (j == previous or float(xp.abs(z[j, 0])) <= float(xp.sum(z * v))):
                break
            v = xp.zeros((n, 1), dtype=dtype, device=device)
            v[j, 0] = 1.0
            y = lu.solve(v)
            new = float(xp.sum(xp.abs(y)))
            signs = _signs(xp, y)
            if new <= est or bool(xp.all(signs == xi)):
                est = max(est, new)
                break
            est, xi, previous = new, signs, j
            z = lu.solve(xi, transpose=True)
        # Higham's safeguard: b_i = (-1)^i (1 + i / (n - 1)), ||b||_1 = 3n/2 (catches what Hager misses)
        i = xp.astype(xp.arange(n, device=device), dtype)
        alternating = (1.0 - 2.0 * (i % 2)) * (1.0 + i / (n - 1))
        t = float(xp.sum(xp.abs(lu.solve(xp.reshape(alternating, (n, 1)))))) * 2.0 / (3.0 * n)
        est = max(est, t)
    return est


def estimate_condition1(lu, n: int, norm: float, *, like, max_iter: int = 5) -> float:
    """kappa_1(M) ~ ||M||_1 ||M^-1||_1, with ``norm`` = ||M||_1 taken before M was factored
    (:func:`norm1`) and ||M^-1||_1 from :func:`estimate_inverse_norm1` (inf when not finite)."""
    inv = estimate_inverse_norm1(lu, n, like=like, max_iter=max_iter)
    cond = norm * inv
    return cond if cond == cond else float("inf")  # NaN (an overflow in the solves): unbounded
