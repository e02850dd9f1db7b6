"""Embodied flows between countries, accounts and net flows (docs/method.md sections 2-3).

Pure array functions against the array API standard; leading batch axes allowed.
Countries are blocks of S consecutive sectors (country-major order).
"""

from __future__ import annotations

from array_api_compat import array_namespace


def _swap_last(a, xp, i: int, j: int):
    axes = list(range(a.ndim))
    axes[i], axes[j] = axes[j], axes[i]
    return xp.permute_dims(a, tuple(axes))


def calc_E(S, X, n_countries: int):
    """Country-by-country embodied flows E[k, r, s] = sum_{i in r} S[k, i] X[i, s].

    Parameters
    ----------
    S : array (..., k, n)
        Stressor intensities (value-added intensity v gives V).
    X : array (..., n, R)
        Output driven by each consuming country's final demand, X = L Yr. The
        leading axes of S and X broadcast (a batch of intensities against one X).
    n_countries : int
        R, the number of producing countries; n = R * sectors.

    Returns
    -------
    E : array (..., k, R, R)
        Row r: country where the stressor occurs; column s: country whose final
        demand causes it.

    Notes
    -----
    One batched matrix product over producing countries:
    (R, k, S) @ (R, S, R') -> (R, k, R'), 2 k n R' flops.
    """
    xp = array_namespace(S, X)
    *lead, k, n = S.shape
    n_sectors = n // n_countries
    Sr = xp.reshape(S, (*lead, k, n_countries, n_sectors))
    Sr = _swap_last(Sr, xp, -3, -2)  # (..., R, k, S)
    Xr = xp.reshape(X, (*X.shape[:-2], n_countries, n_sectors, X.shape[-1]))  # (..., R, S, R')
    E = xp.matmul(Sr, Xr)  # (..., R, k, R')
    return _swap_last(E, xp, -3, -2)


def split_by_country(S, n_countries: int):
    """Intensities spread into one row per producing country: B[k, r, i] = S[k, i] for
    the sectors i of country r, else 0.

    Parameters
    ----------
    S : array (..., k, n)
    n_countries : int

    Returns
    -------
    B : array (..., k, R, n)

    Notes
    -----
    With W = B L (one transposed solve with k R right-hand sides, like the
    multipliers), E = W Yr for any final demand Yr: a final-demand ensemble then
    costs one matrix product per sample (2 k R n R' flops) instead of a solve
    (2 n^2 R'), since k R is much smaller than n.
    """
    xp = array_namespace(S)
    n = S.shape[-1]
    n_sectors = n // n_countries
    owner = xp.arange(n, device=S.device) // n_sectors  # producing country of each sector
    mask = xp.astype(owner[None, :] == xp.arange(n_countries, device=S.device)[:, None], S.dtype)  # (R, n)
    return S[..., :, None, :] * mask


def calc_E_sector(S, X):
    """Producing-sector form: E_sec[k, i, s] = S[k, i] X[i, s], shape (..., k, n, R)."""
    return S[..., :, :, None] * X[..., None, :, :]


def calc_E_final_demand_sector(M, Yr):
    """Final-demand-sector form: E_fd[k, j, s] = M[k, j] Yr[j, s], shape (..., k, n, R).

    Stressors anywhere in the world caused by country s buying product j for final use.
    """
    return M[..., :, :, None] * Yr[..., None, :, :]


def calc_accounts(E, F_Y=None):
    """Production-, consumption-based, import and export accounts from E.

    Parameters
    ----------
    E : array (..., k, R, R)
    F_Y : array (..., k, R), optional
        Direct final-demand stressors per country (household emissions). Added
        to PBA and CBA of the country they occur in (pymrio's D_pba_reg, D_cba_reg).

    Returns
    -------
    dict of arrays (..., k, R): ``pba`` = sum_s E[r, s] (+F_Y), ``cba`` = sum_r E[r, s]
    (+F_Y), ``exports`` = sum_{s != r} E[r, s], ``imports`` = sum_{r != s} E[r, s],
    ``net`` = pba - cba (net transfer out of the country).
    """
    xp = array_namespace(E)
    R = E.shape[-1]
    eye = xp.eye(R, dtype=E.dtype, device=E.device)
    domestic = xp.sum(E * eye, axis=-1)
    pba = xp.sum(E, axis=-1)
    cba = xp.sum(E, axis=-2)
    exports = pba - domestic
    imports = cba - domestic
    if F_Y is not None:
        pba = pba + F_Y
        cba = cba + F_Y
    return {"pba": pba, "cba": cba, "imports": imports, "exports": exports, "net": pba - cba}


def calc_net_flows(E):
    """Net embodied flows Ebar = E - E^T (docs/method.md eq. 2-3); Ebar[r, s] > 0 when r
    emits more for s than s emits for r."""
    xp = array_namespace(E)
    return E - xp.matrix_transpose(E)


def calc_EN(E):
    """Positive part of the net flows, EN = (Ebar + |Ebar|) / 2 = max(Ebar, 0)."""
    xp = array_namespace(E)
    Ebar = calc_net_flows(E)
    return (Ebar + xp.abs(Ebar)) / 2
