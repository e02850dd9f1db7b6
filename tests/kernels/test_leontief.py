"""Leontief kernels on every backend, against textbook and hand-worked cases."""

from __future__ import annotations

import numpy as np
import pytest

from mrioflow import kernels as K

# Miller & Blair (2009), Input-Output Analysis, 2nd ed., section 2.3, the two-sector example:
# Z = [[150, 500], [200, 100]], f = [350, 1700], x = [1000, 2000].
MB_Z = np.array([[150.0, 500.0], [200.0, 100.0]])
MB_f = np.array([[350.0], [1700.0]])
MB_A = np.array([[0.15, 0.25], [0.20, 0.05]])
# L = (I - A)^-1 = 1/0.7575 [[0.95, 0.25], [0.20, 0.85]], printed as 1.254, 0.330 / 0.264, 1.122.
MB_L = np.array([[0.95, 0.25], [0.20, 0.85]]) / 0.7575


def test_miller_blair_two_sector(backend, to_device, to_host):
    Z, f = to_device(MB_Z), to_device(MB_f)
    x = K.calc_x(Z, f)
    np.testing.assert_allclose(to_host(x), [1000.0, 2000.0], rtol=1e-14)
    A = K.calc_A(Z, x)
    np.testing.assert_allclose(to_host(A), MB_A, rtol=1e-14)
    lu = backend.lu_factor(backend.eye_minus(A))
    np.testing.assert_allclose(to_host(K.calc_L(lu, 2, like=f)), MB_L, rtol=1e-13)
    np.testing.assert_allclose(to_host(K.solve_X(lu, f)), [[1000.0], [2000.0]], rtol=1e-13)
    # the textbook's printed 4-decimal values
    np.testing.assert_allclose(to_host(K.calc_L(lu, 2, like=f)), [[1.2541, 0.3300], [0.2640, 1.1221]], atol=1e-4)


def test_miller_blair_new_final_demand(backend, to_device, to_host):
    """M&B section 2.3: f_new = [600, 1500] needs x_new = [1247.52, 1841.58]."""
    A = to_device(MB_A.copy())
    lu = backend.lu_factor(backend.eye_minus(A))
    x_new = to_host(K.solve_X(lu, to_device(np.array([[600.0], [1500.0]]))))
    np.testing.assert_allclose(x_new[:, 0], [1247.52, 1841.58], atol=0.01)


def test_zero_output_columns_give_zero_coefficients(backend, to_device, to_host):
    Z = to_device(np.array([[1.0, 0.0], [2.0, 0.0]]))
    x = to_device(np.array([10.0, 0.0]))
    A = to_host(K.calc_A(Z, x))
    np.testing.assert_array_equal(A, [[0.1, 0.0], [0.2, 0.0]])
    S = to_host(K.calc_S(to_device(np.array([[5.0, 3.0]])), x))
    np.testing.assert_array_equal(S, [[0.5, 0.0]])


def test_transposed_solve_gives_multipliers(backend, to_device, to_host, rng):
    n, k = 12, 3
    A = rng.uniform(0, 0.8 / n, (n, n))
    S = rng.uniform(0, 1, (k, n))
    lu = backend.lu_factor(backend.eye_minus(to_device(A.copy())))
    M = to_host(K.solve_M(lu, to_device(S)))
    np.testing.assert_allclose(M, S @ np.linalg.inv(np.eye(n) - A), rtol=1e-12)


def test_by_country_sums_category_blocks(backend, to_device, to_host):
    Y = np.arange(12.0).reshape(2, 6)  # 3 countries x 2 categories
    np.testing.assert_array_equal(to_host(K.calc_by_country(to_device(Y), 3)), [[1, 5, 9], [13, 17, 21]])


def test_batch_axis_matches_per_sample(backend, to_device, to_host, rng):
    """calc_x, calc_A and calc_S accept a leading sample axis."""
    Z = rng.uniform(0, 1, (4, 6, 6))
    Y = rng.uniform(1, 2, (4, 6, 3))
    F = rng.uniform(0, 1, (4, 2, 6))
    x = K.calc_x(to_device(Z), to_device(Y))
    A = to_host(K.calc_A(to_device(Z), x))
    S = to_host(K.calc_S(to_device(F), x))
    for b in range(4):
        xb = Z[b].sum(1) + Y[b].sum(1)
        np.testing.assert_allclose(A[b], Z[b] / xb, rtol=1e-14)
        np.testing.assert_allclose(S[b], F[b] / xb, rtol=1e-14)


@pytest.mark.parametrize("dtype", ["float32"])
def test_float32_option(dtype):
    from mrioflow.engine.backend import NumpyBackend

    b = NumpyBackend(dtype)
    lu = b.lu_factor(b.eye_minus(b.asarray(MB_A.copy())))
    out = K.solve_X(lu, b.asarray(MB_f))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[:, 0], [1000.0, 2000.0], rtol=1e-5)
