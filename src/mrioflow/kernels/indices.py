"""Methane-inequality indices BMI and GMI (docs/method.md sections 4-7).

Pure array functions against the array API standard: arrays in, arrays out,
the namespace inferred from the inputs, so the same code runs on NumPy, CuPy
and array-api-strict. Leading batch axes are allowed everywhere (one index per
Monte Carlo sample or per year), with the normalisation taken per batch item.

Symbols (docs/method.md section 1): E (R x R) embodied flows of one stressor (row =
producing country, column = consuming country), V (R x R) embodied value
added, Ebar = E - E^T, EN = max(Ebar, 0), Vbar = V - V^T.

Normalisation (eq. 6): f_B(b) = (b - min B) / (max B - min B), and 0 when
max B = min B (or when B is empty). B holds the finite values of the quantity
being normalised over the normalisation countries (``norm_mask``): every
(r, s) pair with both r and s in the mask for matrices, the diagonal included
except for the ratio matrix EN / Vbar; every r in the mask for vectors.
Entries whose denominator is zero are not finite and are left out of B.
``norm_sign="abs"`` normalises |q| against {|q|} instead of q against {q}.
``norm_quantiles=(lo, hi)`` other than (0, 1) takes min and max at those
quantiles of B and clips into [0, 1] (robust to outliers, docs/method.md section 5).
"""

from __future__ import annotations

from array_api_compat import array_namespace

from ..errors import OptionError, ShapeError
from .flows import calc_EN, calc_net_flows

__all__ = [
    "CONVENTIONS",
    "NORM_SIGNS",
    "calc_bmi",
    "calc_gmi",
    "calc_group_matrix",
    "calc_group_vector",
    "calc_minmax",
    "calc_net_totals",
    "check_option",
    "check_quantiles",
]

CONVENTIONS = ("printed", "victim_row", "beneficiary_row")
NORM_SIGNS = ("signed", "abs")


def check_option(name: str, value, valid) -> None:
    """Raise OptionError unless ``value`` is one of ``valid`` (the message lists them)."""
    if not isinstance(value, str) or value not in valid:
        raise OptionError(f"{name} must be one of {', '.join(repr(v) for v in valid)}; got {value!r}")


def check_quantiles(quantiles) -> tuple[float, float]:
    """Validate ``norm_quantiles``: two numbers 0 <= lo < hi <= 1 (OptionError otherwise)."""
    try:
        lo, hi = (float(v) for v in quantiles)
    except (TypeError, ValueError):
        raise OptionError(f"norm_quantiles must be two numbers (lo, hi), got {quantiles!r}") from None
    if not 0.0 <= lo < hi <= 1.0:
        raise OptionError(f"norm_quantiles must satisfy 0 <= lo < hi <= 1, got ({lo:g}, {hi:g})")
    return lo, hi


def _quantile(sorted_q, n, p: float, xp):
    """The p-quantile (linear interpolation, NumPy's default) of the first n entries of
    ``sorted_q`` along its last axis; picks entries by comparison (no gather)."""
    last = xp.maximum(n - 1, xp.zeros_like(n))
    pos = p * last
    i0 = xp.floor(pos)
    i1 = xp.minimum(i0 + 1, last)
    idx = xp.arange(sorted_q.shape[-1], dtype=sorted_q.dtype, device=sorted_q.device)
    zero = xp.zeros_like(sorted_q)
    v0 = xp.sum(xp.where(idx == i0, sorted_q, zero), axis=-1, keepdims=True)
    v1 = xp.sum(xp.where(idx == i1, sorted_q, zero), axis=-1, keepdims=True)
    return v0 + (pos - i0) * (v1 - v0)


def calc_minmax(q, valid, *, ndim: int = 2, quantiles=(0.0, 1.0)):
    """Min-max normalisation f_B(q) over the set B = q[valid] (docs/method.md eq. 6).

    Parameters
    ----------
    q : array (..., *core)
        Values to normalise; entries outside ``valid`` may be anything finite
        (their normalised value is computed but they do not enter B).
    valid : bool array broadcastable to q
        Which entries form B.
    ndim : int
        Number of trailing axes that form one set B (2 for a matrix, 1 for a
        vector); leading axes are batch axes with a B each.
    quantiles : (float, float)
        (0, 1), the default: the literal min-max, lo = min B, hi = max B. Other
        values (0 <= lo_q < hi_q <= 1): the robust normalisation of docs/method.md
        section 5, lo and hi the lo_q- and hi_q-quantiles of B (linear
        interpolation between order statistics, as ``numpy.quantile``) and
        the result clipped into [0, 1].

    Returns
    -------
    array, shape of q
        (q - lo) / (hi - lo); all zeros where hi = lo or B is empty.

    Notes
    -----
    Computed without boolean indexing (no data-dependent shapes): the extrema
    are taken over ``where(valid, q, +-inf)``; quantiles over the sorted
    values, the invalid ones sorted last as +inf.
    """
    xp = array_namespace(q, valid)
    q_lo, q_hi = check_quantiles(quantiles)
    axes = tuple(range(-ndim, 0))
    inf = xp.full_like(q, float("inf"))
    if (q_lo, q_hi) == (0.0, 1.0):
        lo = xp.min(xp.where(valid, q, inf), axis=axes, keepdims=True)
        hi = xp.max(xp.where(valid, q, -inf), axis=axes, keepdims=True)
    else:
        batch = tuple(q.shape[: q.ndim - ndim])
        flat = xp.reshape(xp.where(valid, q, inf), (*batch, -1))
        n = xp.sum(
            xp.astype(xp.reshape(xp.broadcast_to(valid, q.shape), (*batch, -1)), q.dtype), axis=-1, keepdims=True
        )
        ordered = xp.sort(flat, axis=-1)
        keep = (*batch, *([1] * ndim))
        lo = xp.reshape(_quantile(ordered, n, q_lo, xp), keep)
        hi = xp.reshape(_quantile(ordered, n, q_hi, xp), keep)
    span = hi - xp.where(xp.isfinite(lo), lo, xp.zeros_like(lo))
    ok = xp.isfinite(span) & xp.isfinite(lo) & (span > 0)
    lo = xp.where(ok, lo, xp.zeros_like(lo))
    span = xp.where(ok, span, xp.ones_like(span))
    out = xp.where(ok, (q - lo) / span, xp.zeros_like(q))
    if (q_lo, q_hi) != (0.0, 1.0):
        out = xp.clip(out, 0.0, 1.0)
    return out


def _safe_ratio(num, den, xp):
    """num / den where den != 0, else 0; and the mask den != 0 (no division warnings)."""
    nonzero = den != 0
    ratio = num / xp.where(nonzero, den, xp.ones_like(den))
    return xp.where(nonzero, ratio, xp.zeros_like(ratio)), nonzero


def _entering(q, xp, nonzero_only: bool):
    """The entries of q that may enter a normalisation set: finite (and non-zero if asked)."""
    ok = xp.isfinite(q)
    return ok & (q != 0) if nonzero_only else ok


def _check_pair(E, V, name: str, core: int):
    if E.ndim < core or tuple(E.shape) != tuple(V.shape):
        raise ShapeError(f"{name}: E and V must have the same shape (..., R, R), got {E.shape} and {V.shape}")
    if E.shape[-1] != E.shape[-2]:
        raise ShapeError(f"{name}: E must be square in its last two axes, got shape {E.shape}")


def _pair_mask(norm_mask, R: int, xp, device):
    if norm_mask is None:
        return xp.ones((R, R), dtype=xp.bool, device=device)
    if norm_mask.shape[-1] != R:
        raise ShapeError(f"norm_mask must have {R} entries (one per country), got shape {norm_mask.shape}")
    return norm_mask[..., :, None] & norm_mask[..., None, :]


def calc_bmi(
    E,
    V,
    *,
    convention: str = "printed",
    norm_mask=None,
    norm_sign: str = "signed",
    norm_quantiles=(0.0, 1.0),
    norm_nonzero: bool = False,
):
    """Bilateral methane inequality index BMI[r, s] between countries (docs/method.md eq. 7).

    Parameters
    ----------
    E : array (..., R, R)
        Embodied flows of the stressor (CH4), row = producing country.
    V : array (..., R, R)
        Embodied value added, same layout.
    convention : {"printed", "victim_row", "beneficiary_row"}
        Which sign of Vbar is the severe case (see Notes).
    norm_mask : bool array (..., R), optional
        The countries the index is computed over and normalised against
        (docs/method.md section 4's ``norm_set``); default: all R countries.
        Pairs with a country outside the mask get BMI = 0.
    norm_sign : {"signed", "abs"}
        Normalise the signed values (default) or their absolute values.
    norm_quantiles : (float, float)
        (0, 1): literal min-max (default); else the robust normalisation of
        :func:`calc_minmax` (bounds at these quantiles of each B, clipped).
    norm_nonzero : bool
        Leave the entries equal to 0 out of every set B (default False: they enter;
        with robust quantiles the many zero pairs of EN then pull the low quantile to 0).

    Returns
    -------
    BMI : array (..., R, R)
        0 on the diagonal and wherever EN[r, s] = 0 or Vbar[r, s] = 0; in
        [0, 1] in the ratio case and in [1, 3] in the severe case. At most one
        of BMI[r, s] and BMI[s, r] is non-zero.

    Notes
    -----
    With Ebar = E - E^T, EN = max(Ebar, 0), Vbar = V - V^T, for r != s and
    EN[r, s] > 0:

    - printed (the report's formula, default):
      Vbar < 0: BMI = f(EN / Vbar); Vbar > 0: BMI = f(EN) + f(|Vbar|) + 1
    - victim_row (the two cases swapped): Vbar < 0: f(EN) + f(|Vbar|) + 1;
      Vbar > 0: f(EN / Vbar)
    - beneficiary_row: the transpose of victim_row (row = the country for
      which the other bears methane).

    f is the min-max normalisation of eq. 6; the three sets B are the finite
    entries of the matrices EN, |Vbar| (diagonal included) and EN / Vbar
    (diagonal excluded; entries with Vbar = 0 are not finite and excluded),
    each over the pairs of ``norm_mask`` countries. Vbar = 0 with EN > 0
    fits neither case and gives 0.

    Raises
    ------
    OptionError
        Unknown ``convention`` or ``norm_sign``.
    ShapeError
        E and V differ in shape or are not square.
    """
    check_option("convention", convention, CONVENTIONS)
    check_option("norm_sign", norm_sign, NORM_SIGNS)
    xp = array_namespace(E, V) if norm_mask is None else array_namespace(E, V, norm_mask)
    _check_pair(E, V, "calc_bmi", 2)
    R = E.shape[-1]
    pair = _pair_mask(norm_mask, R, xp, E.device)
    off_diag = xp.logical_not(xp.eye(R, dtype=xp.bool, device=E.device))

    EN = calc_EN(E)
    Vbar = calc_net_flows(V)
    absV = xp.abs(Vbar)
    ratio, nonzero = _safe_ratio(EN, Vbar, xp)
    if norm_sign == "abs":
        ratio = xp.abs(ratio)

    qs = check_quantiles(norm_quantiles)
    f_EN = calc_minmax(EN, pair & _entering(EN, xp, norm_nonzero), quantiles=qs)
    f_V = calc_minmax(absV, pair & _entering(absV, xp, norm_nonzero), quantiles=qs)
    f_ratio = calc_minmax(ratio, pair & off_diag & nonzero & _entering(ratio, xp, norm_nonzero), quantiles=qs)

    severe = f_EN + f_V + 1
    positive = (EN > 0) & pair
    if convention == "printed":
        severe_cell, ratio_cell = positive & (Vbar > 0), positive & (Vbar < 0)
    else:
        severe_cell, ratio_cell = positive & (Vbar < 0), positive & (Vbar > 0)
    zero = xp.zeros_like(EN)
    out = xp.where(severe_cell, severe, xp.where(ratio_cell, f_ratio, zero))
    if convention == "beneficiary_row":
        out = xp.matrix_transpose(out)
    return out


def calc_net_totals(E):
    """Net transfer of each country, E^r = sum over s != r of Ebar[r, s] (docs/method.md eq. 8).

    Parameters
    ----------
    E : array (..., R, R)

    Returns
    -------
    array (..., R)
        Equal to PBA_r - CBA_r without direct final-demand emissions.
    """
    xp = array_namespace(E)
    return xp.sum(calc_net_flows(E), axis=-1)  # the diagonal of Ebar is 0


def calc_gmi(E, V, *, norm_mask=None, norm_sign: str = "signed", norm_quantiles=(0.0, 1.0), norm_nonzero: bool = False):
    """Global methane inequality index GMI_r of each country (docs/method.md eqs. 8-10).

    Parameters
    ----------
    E, V : array (..., R, R)
        Embodied stressor flows and embodied value added of the whole table
        (the sums run over every partner country: the global network).
    norm_mask : bool array (..., R), optional
        Countries the index is computed over and normalised against; others
        get GMI = 0. Default: all.
    norm_sign : {"signed", "abs"}
    norm_quantiles : (float, float)
        As :func:`calc_bmi`.
    norm_nonzero : bool
        As :func:`calc_bmi`: leave zero entries out of every set B.

    Returns
    -------
    GMI : array (..., R)
        In [-3, 3]: [-3, -1] worst case, [-1, 0] and [0, 1] ratio cases,
        [1, 3] best case, 0 when E^r or V^r is zero.

    Notes
    -----
    E^r = sum_{s != r} Ebar[r, s], V^r = sum_{s != r} Vbar[r, s]:

    - E^r > 0, V^r < 0: GMI = -f(E^r) - f(V^r) - 1
    - E^r > 0, V^r > 0: GMI = -f(E^r / V^r)
    - E^r < 0, V^r < 0: GMI =  f(E^r / V^r)
    - E^r < 0, V^r > 0: GMI =  f(E^r) + f(V^r) + 1
    - E^r = 0 or V^r = 0: GMI = 0

    Each f normalises over the finite values of its vector (E^r, V^r or
    E^r / V^r; a zero V^r makes the ratio non-finite and leaves it out) for the
    countries of ``norm_mask``.

    Raises
    ------
    OptionError
        Unknown ``norm_sign``.
    ShapeError
        E and V differ in shape or are not square.
    """
    check_option("norm_sign", norm_sign, NORM_SIGNS)
    xp = array_namespace(E, V) if norm_mask is None else array_namespace(E, V, norm_mask)
    _check_pair(E, V, "calc_gmi", 2)
    R = E.shape[-1]
    Er = calc_net_totals(E)
    Vr = calc_net_totals(V)
    if norm_mask is None:
        mask = xp.ones((R,), dtype=xp.bool, device=E.device)
    else:
        if norm_mask.shape[-1] != R:
            raise ShapeError(f"norm_mask must have {R} entries (one per country), got shape {norm_mask.shape}")
        mask = norm_mask
    ratio, nonzero = _safe_ratio(Er, Vr, xp)
    qE, qV = Er, Vr
    if norm_sign == "abs":
        qE, qV, ratio = xp.abs(Er), xp.abs(Vr), xp.abs(ratio)
    qs = check_quantiles(norm_quantiles)
    f_E = calc_minmax(qE, mask & _entering(qE, xp, norm_nonzero), ndim=1, quantiles=qs)
    f_V = calc_minmax(qV, mask & _entering(qV, xp, norm_nonzero), ndim=1, quantiles=qs)
    f_ratio = calc_minmax(ratio, mask & nonzero & _entering(ratio, xp, norm_nonzero), ndim=1, quantiles=qs)

    zero = xp.zeros_like(Er)
    e_pos, e_neg, v_pos, v_neg = Er > 0, Er < 0, Vr > 0, Vr < 0
    out = xp.where(e_pos & v_neg, -f_E - f_V - 1, zero)
    out = xp.where(e_pos & v_pos, -f_ratio, out)
    out = xp.where(e_neg & v_neg, f_ratio, out)
    out = xp.where(e_neg & v_pos, f_E + f_V + 1, out)
    return xp.where(mask, out, zero)


def calc_group_matrix(M, P):
    """Sum a country x country matrix to groups: P M P^T (docs/method.md section 7).

    Parameters
    ----------
    M : array (..., R, R)
    P : array (G, R)
        Membership matrix, P[g, r] = 1 when country r is in group g.

    Returns
    -------
    array (..., G, G)
        Cell (g, h) sums M[r, s] over r in g, s in h. For BMI (zero diagonal)
        the diagonal cell g = h is the sum over ordered distinct member pairs.
    """
    xp = array_namespace(M, P)
    return xp.matmul(xp.matmul(P, M), xp.matrix_transpose(P))


def calc_group_vector(v, P):
    """Sum a per-country vector to groups: out[g] = sum over r in g of v[r].

    Parameters
    ----------
    v : array (..., R)
    P : array (G, R)

    Returns
    -------
    array (..., G)
    """
    xp = array_namespace(v, P)
    return xp.sum(v[..., None, :] * P, axis=-1)
