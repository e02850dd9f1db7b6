"""Embodied flows and accounts on every backend, against a hand-worked case."""

from __future__ import annotations

import numpy as np

from mrioflow import kernels as K

# Hand-worked three-country, one-sector world (countries a, b, c).
#   A = [[0, .5, 0], [0, 0, .5], [0, 0, 0]] is nilpotent, so L = I + A + A^2
#     = [[1, .5, .25], [0, 1, .5], [0, 0, 1]].
#   Each country buys only its own product for final use: Yr = diag(10, 20, 40).
#   X = L Yr = [[10, 10, 10], [0, 20, 20], [0, 0, 40]]; x = X 1 = [30, 40, 40],
#   and indeed A x + y = [20, 20, 0] + [10, 20, 40] = x. Z = A diag(x).
#   CH4: F = [3, 8, 4] -> s = F / x = [.1, .2, .1];
#   E[r, s] = s_r X[r, s] = [[1, 1, 1], [0, 4, 4], [0, 0, 4]].
#   PBA = row sums = [3, 8, 4] (= F), CBA = column sums = [1, 5, 9],
#   exports = PBA - diag = [2, 4, 0], imports = CBA - diag = [0, 1, 5].
#   M = s L = [.1, .05 + .2, .025 + .1 + .1] = [.1, .25, .225]; M Yr = CBA.
#   Direct household emissions F_Y = [1, 0, 2] add to both PBA and CBA.
Z = np.array([[0.0, 20.0, 0.0], [0.0, 0.0, 20.0], [0.0, 0.0, 0.0]])
Yr = np.diag([10.0, 20.0, 40.0])
F = np.array([[3.0, 8.0, 4.0]])
F_Y = np.array([[1.0, 0.0, 2.0]])
E_HAND = np.array([[[1.0, 1.0, 1.0], [0.0, 4.0, 4.0], [0.0, 0.0, 4.0]]])


def _solve(backend, to_device):
    Zd, Yd = to_device(Z), to_device(Yr)
    x = K.calc_x(Zd, Yd)
    lu = backend.lu_factor(backend.eye_minus(K.calc_A(Zd, x)))
    S = K.calc_S(to_device(F), x)
    return lu, S, K.solve_X(lu, Yd), x


def test_hand_worked_three_countries(backend, to_device, to_host):
    lu, S, X, x = _solve(backend, to_device)
    np.testing.assert_allclose(to_host(x), [30, 40, 40], rtol=1e-15)
    np.testing.assert_allclose(to_host(X), [[10, 10, 10], [0, 20, 20], [0, 0, 40]], atol=1e-12)
    E = K.calc_E(S, X, 3)
    np.testing.assert_allclose(to_host(E), E_HAND, atol=1e-12)
    np.testing.assert_allclose(to_host(K.solve_M(lu, S)), [[0.1, 0.25, 0.225]], rtol=1e-12)

    acc = {k: to_host(v) for k, v in K.calc_accounts(E).items()}
    np.testing.assert_allclose(acc["pba"], [[3, 8, 4]], atol=1e-12)
    np.testing.assert_allclose(acc["cba"], [[1, 5, 9]], atol=1e-12)
    np.testing.assert_allclose(acc["exports"], [[2, 4, 0]], atol=1e-12)
    np.testing.assert_allclose(acc["imports"], [[0, 1, 5]], atol=1e-12)
    np.testing.assert_allclose(acc["net"], [[2, 3, -5]], atol=1e-12)

    acc = {k: to_host(v) for k, v in K.calc_accounts(E, to_device(F_Y)).items()}
    np.testing.assert_allclose(acc["pba"], [[4, 8, 6]], atol=1e-12)
    np.testing.assert_allclose(acc["cba"], [[2, 5, 11]], atol=1e-12)
    np.testing.assert_allclose(acc["imports"], [[0, 1, 5]], atol=1e-12)


def test_net_flows_hand_worked(backend, to_device, to_host):
    E = to_device(E_HAND)
    Ebar = to_host(K.calc_net_flows(E))
    np.testing.assert_allclose(Ebar, [[[0, 1, 1], [-1, 0, 4], [-1, -4, 0]]], atol=0)
    np.testing.assert_allclose(to_host(K.calc_EN(E)), [[[0, 1, 1], [0, 0, 4], [0, 0, 0]]], atol=0)


def test_sector_forms_sum_to_country_flows(backend, to_device, to_host, rng):
    """Two countries x three sectors: sector forms add up to E and to the accounts."""
    R, S_, n = 2, 3, 6
    A = rng.uniform(0, 0.15, (n, n))
    Yr = rng.uniform(1, 5, (n, R))
    F = rng.uniform(0, 2, (2, n))
    lu = backend.lu_factor(backend.eye_minus(to_device(A.copy())))
    Yd = to_device(Yr)
    X = K.solve_X(lu, Yd)
    x = np.linalg.solve(np.eye(n) - A, Yr.sum(1))
    S = K.calc_S(to_device(F), to_device(x))
    E = to_host(K.calc_E(S, X, R))
    E_sec = to_host(K.calc_E_sector(S, X))
    M = K.solve_M(lu, S)
    E_fd = to_host(K.calc_E_final_demand_sector(M, Yd))
    # by hand: E[k, r, s] = sum over the sectors i of r of S[k, i] X[i, s]
    Sh, Xh = F / x, np.linalg.solve(np.eye(n) - A, Yr)
    for r in range(R):
        block = slice(r * S_, (r + 1) * S_)
        np.testing.assert_allclose(E[:, r, :], Sh[:, block] @ Xh[block], rtol=1e-12)
        np.testing.assert_allclose(E_sec[:, block, :].sum(axis=1), E[:, r, :], rtol=1e-12)
    np.testing.assert_allclose(E_sec.sum(axis=2), F, rtol=1e-12)  # production side gives F
    np.testing.assert_allclose(E_fd.sum(axis=1), E.sum(axis=1), rtol=1e-12)  # consumption side gives CBA


def test_calc_E_batch_axis(backend, to_device, to_host, rng):
    S = rng.uniform(0, 1, (5, 2, 6))
    X = rng.uniform(0, 1, (5, 6, 3))
    E = to_host(K.calc_E(to_device(S), to_device(X), 3))
    assert E.shape == (5, 2, 3, 3)
    for b in range(5):
        single = to_host(K.calc_E(to_device(S[b]), to_device(X[b]), 3))
        np.testing.assert_allclose(E[b], single, rtol=1e-14)


def test_calc_E_broadcasts_one_X_against_a_batch_of_intensities(backend, to_device, to_host, rng):
    S = rng.uniform(0, 1, (4, 2, 6))
    X = rng.uniform(0, 1, (6, 3))
    E = to_host(K.calc_E(to_device(S), to_device(X), 2))
    assert E.shape == (4, 2, 2, 3)
    for b in range(4):
        np.testing.assert_allclose(E[b], to_host(K.calc_E(to_device(S[b]), to_device(X), 2)), rtol=1e-14)


def test_split_by_country_gives_flows_by_one_product(backend, to_device, to_host, rng):
    # E = (B L) Yr, with B L from one transposed solve, equals calc_E(S, L Yr)
    R, S_, k, n = 3, 2, 2, 6
    A = rng.random((n, n)) * 0.1
    S = rng.random((k, n))
    Yr = rng.random((4, n, R))  # a batch of final demands
    lu = backend.lu_factor(backend.eye_minus(to_device(A.copy())))
    B = K.split_by_country(to_device(S), R)
    assert tuple(B.shape) == (k, R, n)
    Bh = to_host(B)
    for r in range(R):
        np.testing.assert_array_equal(Bh[:, r, r * S_ : (r + 1) * S_], S[:, r * S_ : (r + 1) * S_])
        assert np.count_nonzero(Bh[:, r, :]) == np.count_nonzero(S[:, r * S_ : (r + 1) * S_])
    W = K.solve_M(lu, backend.xp.reshape(B, (k * R, n)))
    E = to_host(backend.xp.reshape(backend.xp.matmul(W, to_device(Yr)), (4, k, R, R)))
    for b in range(4):
        X = lu.solve(to_device(Yr[b]))
        np.testing.assert_allclose(E[b], to_host(K.calc_E(to_device(S), X, R)), rtol=1e-12)
