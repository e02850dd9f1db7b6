"""1-norm condition estimates from an LU (kernels.condition), on every backend."""

from __future__ import annotations

import numpy as np
import pytest

from mrioflow.kernels import estimate_condition1, estimate_inverse_norm1, norm1


def _matrices(rng):
    n = 30
    yield "random", rng.standard_normal((n, n)) + 0.1 * np.eye(n)
    i = np.arange(8)
    yield "hilbert", 1.0 / (i[:, None] + i[None, :] + 1.0)  # cond about 3e10
    A = rng.random((n, n))
    A *= 0.9 / A.sum(axis=0)  # a productive technical-coefficient matrix
    yield "I - A", np.eye(n) - A
    d = 1e-12
    yield "nearly singular I - A", np.array([[0.5, -(0.5 - d)], [-(0.5 - d), 0.5]])
    yield "one by one", np.array([[4.0]])


@pytest.mark.parametrize("which", ["random", "hilbert", "I - A", "nearly singular I - A", "one by one"])
def test_estimate_is_a_tight_lower_bound(backend, to_device, rng, which):
    M = dict(_matrices(rng))[which]
    n = M.shape[0]
    exact_norm = np.abs(M).sum(axis=0).max()
    exact_inverse = np.abs(np.linalg.inv(M)).sum(axis=0).max()
    Md = to_device(M.copy())
    got_norm = norm1(Md)
    assert got_norm == pytest.approx(exact_norm, rel=1e-14)
    lu = backend.lu_factor(Md, overwrite=True)
    est = estimate_inverse_norm1(lu, n, like=to_device(np.zeros(1)))
    # Hager's estimate is ||M^-1 v||_1 for unit vectors v: never above the norm, and within a factor 3 here
    assert exact_inverse / 3 <= est <= exact_inverse * (1 + 1e-6)
    cond = estimate_condition1(lu, n, got_norm, like=to_device(np.zeros(1)))
    assert cond == pytest.approx(got_norm * est, rel=1e-12)
    assert np.linalg.cond(M, 1) / 3 <= cond <= np.linalg.cond(M, 1) * (1 + 1e-6)


def test_norm1_sums_blocks_of_rows(backend, to_device, rng, monkeypatch):
    from mrioflow.kernels import condition

    M = rng.standard_normal((13, 7))
    monkeypatch.setattr(condition, "_BLOCK_ELEMENTS", 10)  # one row per block
    assert norm1(to_device(M)) == pytest.approx(np.abs(M).sum(axis=0).max(), rel=1e-14)
