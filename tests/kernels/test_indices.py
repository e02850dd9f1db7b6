"""BMI and GMI kernels against small cases worked out by hand (docs/method.md sections 3-7).

Every test runs on NumPy and on array-api-strict (the portability gate that
stands in for CuPy), and the results must agree to 1e-12.

The four-country case
---------------------
Countries A, B, C, D (indices 0-3). The embodied flows are built from chosen
net flows: E = max(Ebar, 0) + 1 and V = max(Vbar, 0) + 3, so that
E - E^T = Ebar and V - V^T = Vbar (the symmetric +1 / +3 cancel)::

    Ebar =  A [ 0   1   2   3]        Vbar =  A [ 0  -2   1  -1]
            B [-1   0   1   2]                B [ 2   0   2  -2]
            C [-2  -1   0  -1]                C [-1  -2   0   2]
            D [-3  -2   1   0]                D [ 1   2  -2   0]

EN = max(Ebar, 0) is positive at (A,B)=1, (A,C)=2, (A,D)=3, (B,C)=1,
(B,D)=2, (D,C)=1.

BMI, norm_set="all", norm_sign="signed"
  B for EN: all 16 entries (diagonal included) -> min 0, max 3: f(EN) = EN / 3.
  B for |Vbar|: all 16 entries -> min 0 (the diagonal), max 2: f = |Vbar| / 2.
  (Without the diagonal min |Vbar| would be 1: the test would see it.)
  B for the ratio EN / Vbar (off-diagonal, all finite here):
      row A: -0.5, 2, -3;  row B: 0, 0.5, -1;  row C: 0, 0, 0;  row D: 0, 0, -0.5
      -> min -3, max 2: f(ratio) = (ratio + 3) / 5.

  printed (Vbar < 0: ratio case, Vbar > 0: severe case):
      (A,B): Vbar -2 -> f(-0.5) = 2.5/5 = 0.5
      (A,C): Vbar  1 -> 2/3 + 1/2 + 1 = 13/6
      (A,D): Vbar -1 -> f(-3) = 0
      (B,C): Vbar  2 -> 1/3 + 2/2 + 1 = 7/3
      (B,D): Vbar -2 -> f(-1) = 2/5
      (D,C): Vbar -2 -> f(-0.5) = 1/2
  victim_row (cases swapped):
      (A,B): 1/3 + 1 + 1 = 7/3;  (A,C): f(2) = 1;  (A,D): 1 + 1/2 + 1 = 5/2
      (B,C): f(0.5) = 3.5/5 = 0.7;  (B,D): 2/3 + 1 + 1 = 8/3;  (D,C): 1/3 + 1 + 1 = 7/3
  beneficiary_row: the transpose of victim_row.

BMI, printed, norm_sign="abs": |ratio| off-diagonal has min 0, max 3, f = |ratio| / 3:
      (A,B) 1/6, (A,C) 13/6 (EN and |Vbar| are already >= 0), (A,D) 1, (B,C) 7/3,
      (B,D) 1/3, (D,C) 1/6.

BMI, printed, norm_set="scope" with scope {A, B, C} (D is in the table, not in the grouping):
  EN on {A,B,C}^2: max 2 -> f = EN / 2;  |Vbar|: max 2 -> /2;
  ratio off-diagonal: -0.5, 2, 0, 0.5, 0, 0 -> min -0.5, max 2, span 2.5.
      (A,B): f(-0.5) = 0;  (A,C): 2/2 + 1/2 + 1 = 5/2;  (B,C): 1/2 + 2/2 + 1 = 5/2;
      every pair with D: 0 (not computed).

GMI: E^r = row sums of Ebar = [6, 2, -4, -4]; V^r = [-2, 2, -1, 1];
  E^r / V^r = [-3, 1, 4, -4]. A: E+ V- (worst), B: E+ V+, C: E- V-, D: E- V+ (best).
  signed, all: f(E) over [6,2,-4,-4] = (E + 4)/10 = [1, .6, 0, 0];
      f(V) over [-2,2,-1,1] = (V + 2)/4 = [0, 1, .25, .75];
      f(ratio) over [-3,1,4,-4] = (ratio + 4)/8 = [1/8, 5/8, 1, 0].
      GMI = [-1 - 0 - 1, -5/8, +1, 0 + 3/4 + 1] = [-2, -0.625, 1, 1.75]
  abs, all: |E| = [6,2,4,4] -> (|E| - 2)/4 = [1, 0, .5, .5];
      |V| = [2,2,1,1] -> [1, 1, 0, 0]; |ratio| = [3,1,4,4] -> (x - 1)/3 = [2/3, 0, 1, 1].
      GMI = [-1 - 1 - 1, -0, 1, .5 + 0 + 1] = [-3, 0, 1, 1.5]
  signed, scope {A,B,C}: f(E) over [6,2,-4] = same as above [1, .6, 0];
      f(V) over [-2,2,-1] = [0, 1, .25]; ratio over [-3,1,4]: (x + 3)/7 = [0, 4/7, 1].
      GMI = [-2, -4/7, 1, 0 (D not computed)]

Regions G1 = {A, B}, G2 = {C, D} (printed, all):
  BMI G1->G1 = (A,B) + (B,A) = 0.5;  G1->G2 = 13/6 + 0 + 7/3 + 2/5 = 4.9;
  G2->G1 = 0;  G2->G2 = (C,D) + (D,C) = 0.5.  Totals (row sums): G1 5.4, G2 0.5.
  GMI G1 = -2 - 0.625 = -2.625;  G2 = 1 + 1.75 = 2.75.

The zero cases (three countries X, Y, Z)
----------------------------------------
    Ebar = X [0 1 -1; Y -1 0 2; Z 1 -2 0]     Vbar = X [0 0 1; Y 0 0 -1; Z -1 1 0]

  EN > 0 at (X,Y)=1, (Y,Z)=2, (Z,X)=1.  (X,Y) has Vbar = 0: neither case, BMI 0.
  Ratio B (Vbar != 0, off-diagonal): (X,Z) 0/1 = 0, (Z,X) 1/-1 = -1,
  (Y,Z) 2/-1 = -2, (Z,Y) 0/1 = 0 (the pairs (X,Y), (Y,X) are excluded: not
  finite) -> min -2, max 0.
  printed: (Z,X) f(-1) = 0.5;  (Y,Z) f(-2) = 0;  everything else 0.
  victim_row: f(EN) = EN/2, f(|Vbar|) = |Vbar|/1:
      (Z,X) = 1/2 + 1 + 1 = 2.5;  (Y,Z) = 1 + 1 + 1 = 3;  (X,Y) = 0 (Vbar = 0).
  E^r = [0, 1, -1], V^r = [1, -1, 0]: X has E^r = 0 -> 0; Z has V^r = 0 -> 0;
  Y: E+ V- -> -f(1) - f(-1) - 1 with f(E) over [0,1,-1] giving 1 and f(V) over
  [1,-1,0] giving 0 -> -2.

max B = min B: two countries with E^r = [1, -1], V^r = [-1, 1]; normalised
over {country 0} only, each set has one value, f = 0 and GMI_0 = -0 - 0 - 1 = -1.
"""

from __future__ import annotations

import numpy as np
import pytest

from mrioflow.errors import OptionError, ShapeError
from mrioflow.kernels import indices as K

array_api_strict = pytest.importorskip("array_api_strict")

EBAR4 = np.array([[0, 1, 2, 3], [-1, 0, 1, 2], [-2, -1, 0, -1], [-3, -2, 1, 0]], dtype=float)
VBAR4 = np.array([[0, -2, 1, -1], [2, 0, 2, -2], [-1, -2, 0, 2], [1, 2, -2, 0]], dtype=float)
A, B, C, D = range(4)

EBAR3 = np.array([[0, 1, -1], [-1, 0, 2], [1, -2, 0]], dtype=float)
VBAR3 = np.array([[0, 0, 1], [0, 0, -1], [-1, 1, 0]], dtype=float)
X, Y, Z = range(3)


def _flows(Ebar, Vbar):
    return np.maximum(Ebar, 0) + 1.0, np.maximum(Vbar, 0) + 3.0


def _matrix(entries, R=4):
    out = np.zeros((R, R))
    for (r, s), v in entries.items():
        out[r, s] = v
    return out


PRINTED = _matrix({(A, B): 0.5, (A, C): 13 / 6, (A, D): 0.0, (B, C): 7 / 3, (B, D): 0.4, (D, C): 0.5})
VICTIM = _matrix({(A, B): 7 / 3, (A, C): 1.0, (A, D): 2.5, (B, C): 0.7, (B, D): 8 / 3, (D, C): 7 / 3})
PRINTED_ABS = _matrix({(A, B): 1 / 6, (A, C): 13 / 6, (A, D): 1.0, (B, C): 7 / 3, (B, D): 1 / 3, (D, C): 1 / 6})
PRINTED_SCOPE = _matrix({(A, C): 2.5, (B, C): 2.5})
SCOPE = np.array([True, True, True, False])


class Namespace:
    """One array namespace under test plus how to move arrays in and out."""

    def __init__(self, name, xp, device=None):
        self.name, self.xp, self.device = name, xp, device

    def asarray(self, a):
        a = np.asarray(a)
        if self.device is None:
            return self.xp.asarray(a)
        return self.xp.asarray(a, device=self.device)

    def to_host(self, a):
        if self.name.startswith("array_api_strict"):
            assert a.device == (self.device or array_api_strict.Device("CPU_DEVICE"))
            a = a.to_device(array_api_strict.Device("CPU_DEVICE"))
            return np.asarray(a)
        return np.asarray(a)


def _numpy_ns():
    import array_api_compat.numpy as xp

    return Namespace("numpy", xp)


class _CupyNamespace(Namespace):
    def asarray(self, a):
        return self.xp.asarray(np.asarray(a))

    def to_host(self, a):
        import cupy

        assert isinstance(a, cupy.ndarray)
        return cupy.asnumpy(a)


@pytest.fixture(params=["numpy", "array_api_strict", "cupy"])
def xp(request):
    if request.param == "numpy":
        return _numpy_ns()
    if request.param == "cupy":
        from mrioflow.engine.backend import cupy_usable

        ok, why = cupy_usable()
        if not ok:
            pytest.skip(f"cupy backend not tested here: {why}")
        import array_api_compat.cupy as cxp

        return _CupyNamespace("cupy", cxp)
    return Namespace("array_api_strict", array_api_strict)


@pytest.fixture
def strict_device1():
    return Namespace("array_api_strict@device1", array_api_strict, array_api_strict.Device("device1"))


def _run(ns, fn, *arrays, **kw):
    kw = {k: ns.asarray(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    out = fn(*[ns.asarray(a) for a in arrays], **kw)
    return ns.to_host(out)


def _on_both(fn, *arrays, **kw):
    """Run fn on numpy and array-api-strict; they must agree to 1e-12."""
    ref = _run(_numpy_ns(), fn, *arrays, **kw)
    other = _run(Namespace("array_api_strict", array_api_strict), fn, *arrays, **kw)
    np.testing.assert_allclose(other, ref, rtol=0, atol=1e-12)
    return ref


# -- the four-country case: BMI ------------------------------------------------------


@pytest.mark.parametrize(
    "convention, expected",
    [("printed", PRINTED), ("victim_row", VICTIM), ("beneficiary_row", VICTIM.T)],
)
def test_bmi_conventions_by_hand(xp, convention, expected):
    E, V = _flows(EBAR4, VBAR4)
    got = _run(xp, K.calc_bmi, E, V, convention=convention)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_bmi_default_is_printed_signed_all(xp):
    E, V = _flows(EBAR4, VBAR4)
    np.testing.assert_allclose(_run(xp, K.calc_bmi, E, V), PRINTED, rtol=0, atol=1e-12)


def test_bmi_abs_normalisation_by_hand(xp):
    E, V = _flows(EBAR4, VBAR4)
    got = _run(xp, K.calc_bmi, E, V, norm_sign="abs")
    np.testing.assert_allclose(got, PRINTED_ABS, rtol=0, atol=1e-12)


def test_bmi_scope_normalisation_by_hand(xp):
    E, V = _flows(EBAR4, VBAR4)
    ns = xp
    got = ns.to_host(K.calc_bmi(ns.asarray(E), ns.asarray(V), norm_mask=ns.asarray(SCOPE)))
    np.testing.assert_allclose(got, PRINTED_SCOPE, rtol=0, atol=1e-12)


def test_bmi_both_cases_present_in_hand_case():
    """The hand case exercises the ratio case (values in [0, 1]) and the severe case ([1, 3])."""
    severe = PRINTED[(PRINTED >= 1)]
    ratio = PRINTED[(PRINTED > 0) & (PRINTED < 1)]
    assert severe.size == 2 and ratio.size == 3


def test_bmi_symmetric_part_cancels(xp):
    """Only E - E^T matters: adding a symmetric matrix to E and V changes nothing."""
    E, V = _flows(EBAR4, VBAR4)
    W = np.arange(16.0).reshape(4, 4)
    W = W + W.T
    got = _run(xp, K.calc_bmi, E + W, V + 2 * W)
    np.testing.assert_allclose(got, PRINTED, rtol=0, atol=1e-12)


def test_bmi_on_device1(strict_device1):
    """array-api-strict on a non-default device: no array may fall back to the CPU device."""
    ns = strict_device1
    E, V = _flows(EBAR4, VBAR4)
    got = ns.to_host(K.calc_bmi(ns.asarray(E), ns.asarray(V), convention="victim_row", norm_mask=ns.asarray(SCOPE)))
    ref = K.calc_bmi(E, V, convention="victim_row", norm_mask=SCOPE)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)
    g = ns.to_host(K.calc_gmi(ns.asarray(E), ns.asarray(V), norm_mask=ns.asarray(SCOPE)))
    np.testing.assert_allclose(g, [-2.0, -4 / 7, 1.0, 0.0], rtol=0, atol=1e-12)


# -- the four-country case: GMI ------------------------------------------------------


def test_net_totals_by_hand(xp):
    E, V = _flows(EBAR4, VBAR4)
    np.testing.assert_allclose(_run(xp, K.calc_net_totals, E), [6, 2, -4, -4], rtol=0, atol=1e-12)
    np.testing.assert_allclose(_run(xp, K.calc_net_totals, V), [-2, 2, -1, 1], rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "norm_sign, expected",
    [("signed", [-2.0, -0.625, 1.0, 1.75]), ("abs", [-3.0, 0.0, 1.0, 1.5])],
)
def test_gmi_four_cases_by_hand(xp, norm_sign, expected):
    E, V = _flows(EBAR4, VBAR4)
    got = _run(xp, K.calc_gmi, E, V, norm_sign=norm_sign)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_gmi_scope_by_hand(xp):
    E, V = _flows(EBAR4, VBAR4)
    got = xp.to_host(K.calc_gmi(xp.asarray(E), xp.asarray(V), norm_mask=xp.asarray(SCOPE)))
    np.testing.assert_allclose(got, [-2.0, -4 / 7, 1.0, 0.0], rtol=0, atol=1e-12)


# -- regions ---------------------------------------------------------------------------

P2 = np.array([[1, 1, 0, 0], [0, 0, 1, 1]], dtype=float)  # G1 = {A, B}, G2 = {C, D}


def test_region_sums_by_hand(xp):
    E, V = _flows(EBAR4, VBAR4)
    Bc = K.calc_bmi(xp.asarray(E), xp.asarray(V))
    G = xp.to_host(K.calc_group_matrix(Bc, xp.asarray(P2)))
    np.testing.assert_allclose(G, [[0.5, 4.9], [0.0, 0.5]], rtol=0, atol=1e-12)
    np.testing.assert_allclose(G.sum(axis=1), [5.4, 0.5], rtol=0, atol=1e-12)
    g = xp.to_host(K.calc_group_vector(K.calc_gmi(xp.asarray(E), xp.asarray(V)), xp.asarray(P2)))
    np.testing.assert_allclose(g, [-2.625, 2.75], rtol=0, atol=1e-12)


def test_region_sum_of_country_outside_every_group_is_dropped(xp):
    P = np.array([[1, 1, 0, 0], [0, 0, 1, 0]], dtype=float)  # D in no group
    E, V = _flows(EBAR4, VBAR4)
    g = xp.to_host(K.calc_group_vector(K.calc_gmi(xp.asarray(E), xp.asarray(V)), xp.asarray(P)))
    np.testing.assert_allclose(g, [-2.625, 1.0], rtol=0, atol=1e-12)


# -- zero cases -------------------------------------------------------------------------


def test_bmi_zero_cases_by_hand(xp):
    E, V = _flows(EBAR3, VBAR3)
    got = _run(xp, K.calc_bmi, E, V)
    expected = np.zeros((3, 3))
    expected[Z, X] = 0.5
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    victim = _run(xp, K.calc_bmi, E, V, convention="victim_row")
    expected = np.zeros((3, 3))
    expected[Z, X], expected[Y, Z] = 2.5, 3.0
    np.testing.assert_allclose(victim, expected, rtol=0, atol=1e-12)


def test_gmi_zero_cases_by_hand(xp):
    E, V = _flows(EBAR3, VBAR3)
    got = _run(xp, K.calc_gmi, E, V)
    np.testing.assert_allclose(got, [0.0, -2.0, 0.0], rtol=0, atol=1e-12)


def test_no_net_flow_gives_zero_everywhere(xp):
    """A symmetric E has Ebar = 0: every BMI and GMI is 0 (and nothing is NaN)."""
    W = np.array([[1.0, 2.0, 3.0], [2.0, 5.0, 4.0], [3.0, 4.0, 0.5]])
    _, V = _flows(EBAR3, VBAR3)
    for conv in K.CONVENTIONS:
        assert np.array_equal(_run(xp, K.calc_bmi, W, V, convention=conv), np.zeros((3, 3)))
    assert np.array_equal(_run(xp, K.calc_gmi, W, V), np.zeros(3))


def test_degenerate_normalisation_set_gives_zero(xp):
    E, V = _flows(np.array([[0.0, 1.0], [-1.0, 0.0]]), np.array([[0.0, -1.0], [1.0, 0.0]]))
    full = _run(xp, K.calc_gmi, E, V)
    np.testing.assert_allclose(full, [-2.0, 2.0], rtol=0, atol=1e-12)
    one = xp.to_host(K.calc_gmi(xp.asarray(E), xp.asarray(V), norm_mask=xp.asarray(np.array([True, False]))))
    np.testing.assert_allclose(one, [-1.0, 0.0], rtol=0, atol=1e-12)


def test_minmax_by_hand(xp):
    q = np.array([[2.0, 4.0], [np.inf, 6.0]])
    valid = np.array([[True, True], [False, True]])
    got = xp.to_host(K.calc_minmax(xp.asarray(np.where(valid, q, 0.0)), xp.asarray(valid)))
    np.testing.assert_allclose(got[valid], [0.0, 0.5, 1.0], rtol=0, atol=1e-12)
    none = xp.to_host(K.calc_minmax(xp.asarray(np.ones((2, 2))), xp.asarray(np.zeros((2, 2), dtype=bool))))
    assert np.array_equal(none, np.zeros((2, 2)))


# -- batches and the synthetic world ---------------------------------------------------


def test_batch_axes_normalise_per_item(xp):
    E, V = _flows(EBAR4, VBAR4)
    E2 = np.stack([E, 2.0 * E])  # scaling E leaves every normalised value unchanged
    V2 = np.stack([V, V])
    got = _run(xp, K.calc_bmi, E2, V2)
    np.testing.assert_allclose(got[0], PRINTED, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got[1], PRINTED, rtol=0, atol=1e-12)
    g = _run(xp, K.calc_gmi, E2, V2)
    np.testing.assert_allclose(g[1], [-2.0, -0.625, 1.0, 1.75], rtol=0, atol=1e-12)


@pytest.fixture(scope="module")
def world_flows():
    import mrioflow as mf

    res = mf.Engine("numpy").run(mf.datasets.synthetic(2013, n_countries=30), sector_flows=False)
    return res


@pytest.mark.parametrize("convention", K.CONVENTIONS)
@pytest.mark.parametrize("norm_sign", K.NORM_SIGNS)
def test_identities_on_synthetic_world(world_flows, convention, norm_sign):
    res = world_flows
    E, V = res.E[res.stressor_index("CH4")], res.E[res.stressor_index("VA")]
    Bm = _on_both(K.calc_bmi, E, V, convention=convention, norm_sign=norm_sign)
    assert np.all(Bm >= 0) and np.all(Bm <= 3 + 1e-12)
    assert np.all(np.diag(Bm) == 0)
    assert not np.any((Bm != 0) & (Bm.T != 0)), "BMI[r, s] and BMI[s, r] both non-zero"
    assert np.count_nonzero(Bm) > 0
    g = _on_both(K.calc_gmi, E, V, norm_sign=norm_sign)
    assert np.all(np.abs(g) <= 3 + 1e-12)
    EN = np.maximum(E - E.T, 0)
    assert np.all(EN >= 0)
    acc = res.accounts("CH4", direct=False)
    np.testing.assert_allclose(
        _on_both(K.calc_net_totals, E), (acc["pba"] - acc["cba"]).to_numpy(), rtol=1e-10, atol=1e-9
    )


def test_scope_mask_on_synthetic_world(world_flows):
    res = world_flows
    E, V = res.E[0], res.E[1]
    mask = np.zeros(E.shape[0], dtype=bool)
    mask[::3] = True
    Bm = _on_both(K.calc_bmi, E, V, norm_mask=mask)
    assert np.all(Bm[~mask] == 0) and np.all(Bm[:, ~mask] == 0)
    assert np.all(Bm <= 3 + 1e-12)


# -- errors ---------------------------------------------------------------------------


def test_unknown_convention_lists_valid_ones(xp):
    E, V = _flows(EBAR4, VBAR4)
    with pytest.raises(
        OptionError, match=r"convention must be one of 'printed', 'victim_row', 'beneficiary_row'; got 'victim'"
    ):
        K.calc_bmi(xp.asarray(E), xp.asarray(V), convention="victim")


def test_unknown_norm_sign(xp):
    E, V = _flows(EBAR4, VBAR4)
    with pytest.raises(OptionError, match=r"norm_sign must be one of 'signed', 'abs'; got 'absolute'"):
        K.calc_gmi(xp.asarray(E), xp.asarray(V), norm_sign="absolute")


def test_shape_mismatch(xp):
    with pytest.raises(ShapeError, match=r"E and V must have the same shape"):
        K.calc_bmi(xp.asarray(np.ones((3, 3))), xp.asarray(np.ones((4, 4))))
    with pytest.raises(ShapeError, match=r"square"):
        K.calc_gmi(xp.asarray(np.ones((3, 4))), xp.asarray(np.ones((3, 4))))


# -- robust normalisation (quantile bounds, clipped) ---------------------------------------
#
# Quantiles by linear interpolation between order statistics at position p (n - 1):
#   q = [0, 1, 2, 3, 100], (0.25, 0.75): positions 1 and 3 -> lo 1, hi 3:
#       f = clip((q - 1) / 2) = [0, 0, 0.5, 1, 1]
#   (0.1, 0.9): positions 0.4 and 3.6 -> lo 0.4, hi 3 + 0.6 * 97 = 61.2, span 60.8:
#       f = [0, 0.6/60.8, 1.6/60.8, 2.6/60.8, 1]
#   a second batch row [10, 20, 30, 40, 50], (0.25, 0.75): lo 20, hi 40 -> [0, 0, 0.5, 1, 1]
#   an entry outside B (5, first) is normalised with the same bounds and clipped: (5 - 1)/2 -> 1
#   matrix [[0, 1], [2, 3]], (0.25, 0.75): positions 0.75, 2.25 -> lo 0.75, hi 2.25:
#       f = [[0, 1/6], [5/6, 1]]
#
# BMI, printed, (0.1, 0.9), four-country case. The 12 off-diagonal ratios sorted:
#   -3, -1, -0.5, -0.5, 0, 0, 0, 0, 0, 0, 0.5, 2: positions 1.1 and 9.9 ->
#   lo = -1 + 0.1 * 0.5 = -0.95, hi = 0 + 0.9 * 0.5 = 0.45, span 1.4.
#   EN (16 entries: ten 0, three 1, two 2, one 3): positions 1.5, 13.5 -> lo 0, hi 2: f = clip(EN / 2).
#   |Vbar| (four 0, four 1, eight 2): lo 0, hi 2: f = |Vbar| / 2.
#   (A,B) f(-0.5) = 0.45/1.4 = 9/28; (A,C) 1 + 1/2 + 1 = 2.5; (A,D) f(-3) -> 0;
#   (B,C) 1/2 + 1 + 1 = 2.5; (B,D) f(-1) = -0.05/1.4 -> 0; (D,C) 9/28.
#
# GMI, (0.25, 0.75): E^r = [6, 2, -4, -4] sorted [-4, -4, 2, 6], positions 0.75, 2.25 ->
#   lo -4, hi 3: f(E) = clip((E + 4)/7) = [1, 6/7, 0, 0];
#   V^r = [-2, 2, -1, 1] sorted [-2, -1, 1, 2] -> lo -1.25, hi 1.25: f(V) = [0, 1, 0.1, 0.9];
#   ratio [-3, 1, 4, -4] sorted [-4, -3, 1, 4] -> lo -3.25, hi 1.75: f = [0.05, 0.85, 1, 0].
#   GMI = [-1 - 0 - 1, -0.85, 1, 0 + 0.9 + 1] = [-2, -0.85, 1, 1.9]

PRINTED_ROBUST = _matrix({(A, B): 9 / 28, (A, C): 2.5, (B, C): 2.5, (D, C): 9 / 28})


def test_minmax_quantiles_by_hand(xp):
    q = np.array([[5, 0, 1, 2, 3, 100], [0, 10, 20, 30, 40, 50]], dtype=float)
    valid = np.array([[False, True, True, True, True, True]] * 2)
    got = _run(xp, K.calc_minmax, q, valid, ndim=1, quantiles=(0.25, 0.75))
    np.testing.assert_allclose(got, [[1, 0, 0, 0.5, 1, 1], [0, 0, 0, 0.5, 1, 1]], rtol=0, atol=1e-12)
    got = _run(xp, K.calc_minmax, q[:1], valid[:1], ndim=1, quantiles=(0.1, 0.9))
    np.testing.assert_allclose(got[0, 1:], [0, 0.6 / 60.8, 1.6 / 60.8, 2.6 / 60.8, 1], rtol=0, atol=1e-12)
    m = np.array([[0.0, 1.0], [2.0, 3.0]])
    got = _run(xp, K.calc_minmax, m, np.ones((2, 2), dtype=bool), quantiles=(0.25, 0.75))
    np.testing.assert_allclose(got, [[0, 1 / 6], [5 / 6, 1]], rtol=0, atol=1e-12)


def test_minmax_quantiles_agree_with_numpy_quantile(xp, rng):
    q = rng.lognormal(0.0, 2.0, (3, 40))
    lo, hi = np.quantile(q, [0.05, 0.95], axis=-1, keepdims=True)
    got = _run(xp, K.calc_minmax, q, np.ones_like(q, dtype=bool), ndim=1, quantiles=(0.05, 0.95))
    np.testing.assert_allclose(got, np.clip((q - lo) / (hi - lo), 0, 1), rtol=0, atol=1e-12)


def test_minmax_full_range_quantiles_are_the_literal_minmax(xp, rng):
    q = rng.normal(size=(5, 5))
    valid = rng.random((5, 5)) < 0.7
    a = _run(xp, K.calc_minmax, q, valid)
    b = _run(xp, K.calc_minmax, q, valid, quantiles=(0, 1))
    np.testing.assert_array_equal(a, b)


def test_bmi_robust_normalisation_by_hand(xp):
    E, V = _flows(EBAR4, VBAR4)
    got = _run(xp, K.calc_bmi, E, V, norm_quantiles=(0.1, 0.9))
    np.testing.assert_allclose(got, PRINTED_ROBUST, rtol=0, atol=1e-12)


def test_gmi_robust_normalisation_by_hand(xp):
    E, V = _flows(EBAR4, VBAR4)
    got = _run(xp, K.calc_gmi, E, V, norm_quantiles=(0.25, 0.75))
    np.testing.assert_allclose(got, [-2, -0.85, 1, 1.9], rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "bad, message",
    [
        ((0.9, 0.1), r"norm_quantiles must satisfy 0 <= lo < hi <= 1, got \(0.9, 0.1\)"),
        ((-0.1, 1.0), r"norm_quantiles must satisfy 0 <= lo < hi <= 1, got \(-0.1, 1\)"),
        (("a", "b"), r"norm_quantiles must be two numbers \(lo, hi\), got \('a', 'b'\)"),
        (0.05, r"norm_quantiles must be two numbers \(lo, hi\), got 0.05"),
    ],
)
def test_bad_norm_quantiles(xp, bad, message):
    E, V = _flows(EBAR4, VBAR4)
    with pytest.raises(OptionError, match=message):
        K.calc_bmi(xp.asarray(E), xp.asarray(V), norm_quantiles=bad)


def _nonzero_reference(E, V, quantiles):
    """Printed-convention BMI with robust quantiles taken over the non-zero entries of each set."""
    Ebar, Vbar = E - E.T, V - V.T
    EN, absV = np.maximum(Ebar, 0), np.abs(Vbar)
    R = E.shape[0]
    off = ~np.eye(R, dtype=bool)
    ratio = np.divide(EN, Vbar, out=np.zeros_like(EN), where=Vbar != 0)

    def f(q, valid):
        lo, hi = np.quantile(q[valid & (q != 0)], quantiles)
        return np.clip((q - lo) / (hi - lo), 0, 1)

    f_EN, f_V, f_ratio = f(EN, np.ones_like(off)), f(absV, np.ones_like(off)), f(ratio, off & (Vbar != 0))
    out = np.where((EN > 0) & (Vbar > 0), f_EN + f_V + 1, 0.0)
    return np.where((EN > 0) & (Vbar < 0), f_ratio, out)


def test_bmi_quantiles_over_nonzero_entries(xp, rng):
    E, V = rng.lognormal(0, 1, (7, 7)), rng.lognormal(0, 1, (7, 7))
    got = _run(xp, K.calc_bmi, E, V, norm_quantiles=(0.1, 0.9), norm_nonzero=True)
    np.testing.assert_allclose(got, _nonzero_reference(E, V, (0.1, 0.9)), rtol=0, atol=1e-12)
    # With the zeros of EN in the sets (the default), the ratio case normalises differently.
    default = _run(xp, K.calc_bmi, E, V, norm_quantiles=(0.1, 0.9))
    assert np.abs(default - got).max() > 1e-3
    # GMI: the sets hold one value per country; zeros left out the same way (none here: equal).
    g0 = _run(xp, K.calc_gmi, E, V, norm_quantiles=(0.1, 0.9))
    g1 = _run(xp, K.calc_gmi, E, V, norm_quantiles=(0.1, 0.9), norm_nonzero=True)
    np.testing.assert_allclose(g0, g1, rtol=0, atol=1e-12)
