"""Leontief quantities: gross output, coefficients, intensities, solves.

Pure array functions written against the array API standard: the namespace is
inferred from the inputs, so the same code runs on NumPy, CuPy and
array-api-strict. Every function accepts leading batch axes (Monte Carlo samples)
in front of the matrix axes where that is natural. The Leontief inverse is never
formed unless asked for: solves go through a factorisation object with a
``solve(B, transpose=False)`` method (see ``mrioflow.engine.backend``).

Notation follows docs/method.md section 1 (Miller & Blair, 2009, ch. 2-3).
"""

from __future__ import annotations

from array_api_compat import array_namespace


def _safe_reciprocal(x, *, xp):
    """1 / x where x != 0, and 0 where x == 0 (zero-output sectors)."""
    zero = x == 0
    return xp.where(zero, xp.zeros_like(x), 1 / xp.where(zero, xp.ones_like(x), x))


def calc_x(Z, Y):
    """Gross output x = Z 1 + Y 1.

    Parameters
    ----------
    Z : array (..., n, n)
        Intermediate transactions, row = selling sector.
    Y : array (..., n, m)
        Final demand (any number of columns).

    Returns
    -------
    x : array (..., n)
    """
    xp = array_namespace(Z, Y)
    return xp.sum(Z, axis=-1) + xp.sum(Y, axis=-1)


def calc_A(Z, x):
    """Technical coefficients A = Z diag(x)^-1; columns with x = 0 are 0.

    Parameters
    ----------
    Z : array (..., n, n)
    x : array (..., n)

    Returns
    -------
    A : array (..., n, n)
    """
    xp = array_namespace(Z, x)
    return Z * _safe_reciprocal(x, xp=xp)[..., None, :]


def calc_S(F, x):
    """Stressor intensities S = F diag(x)^-1 (docs/method.md's s_f; 0 where x = 0).

    Parameters
    ----------
    F : array (..., k, n)
        Satellite account, stressor by sector (e.g. CH4 in Gg, value added).
    x : array (..., n)

    Returns
    -------
    S : array (..., k, n)
    """
    xp = array_namespace(F, x)
    return F * _safe_reciprocal(x, xp=xp)[..., None, :]


def calc_by_country(Y, n_countries: int):
    """Sum blocks of columns per country: Yr from Y, or F_Y per country.

    Parameters
    ----------
    Y : array (..., m, R * c)
        Columns ordered country-major: (country 0, category 0..c-1), (country 1, ...).
    n_countries : int
        R.

    Returns
    -------
    array (..., m, R)
    """
    xp = array_namespace(Y)
    c = Y.shape[-1] // n_countries
    if c == 1:
        return xp.asarray(Y, copy=True)
    # c strided column slices added up: several times faster than a sum over a last axis of c
    out = Y[..., 0::c] + Y[..., 1::c]
    for j in range(2, c):
        out += Y[..., j::c]
    return out


def solve_X(lu, Yr):
    """Output driven by each country's final demand, X = L Yr = (I - A)^-1 Yr.

    Parameters
    ----------
    lu : Factorization
        LU of (I - A), from ``Backend.lu_factor``.
    Yr : array (n, R)

    Returns
    -------
    X : array (n, R)

    Notes
    -----
    One LU solve with R right-hand sides, 2 n^2 R flops; no explicit inverse.
    """
    return lu.solve(Yr)


def solve_M(lu, S):
    """Multipliers M = S L = S (I - A)^-1 by one transposed solve.

    Parameters
    ----------
    lu : Factorization
        LU of (I - A).
    S : array (k, n)

    Returns
    -------
    M : array (k, n)
        Total (direct + indirect) stressor per unit of final demand.

    Notes
    -----
    M^T = (I - A)^-T S^T: k right-hand sides, 2 n^2 k flops (pymrio's calc_M).
    """
    xp = array_namespace(S)
    return xp.matrix_transpose(lu.solve(xp.matrix_transpose(S), transpose=True))


def calc_L(lu, n: int, *, like):
    """The Leontief inverse L = (I - A)^-1, formed explicitly (n solves).

    Only for users who ask for L: everything else uses solves.
    """
    xp = array_namespace(like)
    return lu.solve(xp.eye(n, dtype=like.dtype, device=like.device))


def solve_D_iba(lu, F, w, x):
    """Income-based stressors by primary-input sector, D_iba = v-hat (L F^T), v = w / x.

    Parameters
    ----------
    lu : Factorization
        LU of (I - A).
    F : array (k, n)
        Direct stressors by sector.
    w : array (n,)
        Primary inputs by sector (everything a sector buys that is not an intermediate
        input of the table: w = x - Z^T 1, value added, taxes, imports from outside).
    x : array (n,)
        Gross output.

    Returns
    -------
    D_iba : array (k, n)
        The stressors enabled downstream by each sector's primary inputs (Marques et al.
        2012, "income-based environmental responsibility"); row sums equal F's row sums when
        w = x - Z^T 1.

    Notes
    -----
    The Ghosh (supply-side) model: B = x-hat^-1 Z, G = (I - B)^-1 = x-hat^-1 L x-hat, and the
    income-based account of sector i is w_i (G s^T)_i with s = F x-hat^-1, i.e.
    (w_i / x_i) (L F^T)_i: one LU solve of (I - A) with k right-hand sides on the Leontief
    factorisation; the Ghosh inverse is never formed. Sectors with x = 0 have v = 0.
    """
    xp = array_namespace(F, w, x)
    v = w * _safe_reciprocal(x, xp=xp)
    return xp.matrix_transpose(lu.solve(xp.matrix_transpose(F))) * v[None, :]
