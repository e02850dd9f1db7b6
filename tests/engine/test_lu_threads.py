"""Many threads solving on one Factorization at once get what one thread gets (issue 19,
defect 1: SciPy's getrs wrapper shifts a shared piv in place with the GIL released)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np


def _system(n: int, seed: int):
    rng = np.random.default_rng(seed)
    M = np.eye(n) * n + rng.random((n, n))  # diagonally dominant, but pivoting still swaps rows
    M[[0, n - 1]] = M[[n - 1, 0]]  # a swap the pivots must undo
    return M, rng.random((n, 3))


def test_many_threads_solving_on_one_factorization_get_one_threads_results(backend, to_device, to_host):
    n, threads, rounds = 60, 4, 200
    M, B = _system(n, 1)
    lu = backend.lu_factor(to_device(M))
    Bd = to_device(B)
    ref, ref_t = to_host(lu.solve(Bd)), to_host(lu.solve(Bd, transpose=True))
    np.testing.assert_allclose(M @ ref, B, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(M.T @ ref_t, B, rtol=1e-12, atol=1e-12)
    start = threading.Barrier(threads)

    def solve_many(_):
        start.wait()  # all threads solve at the same time
        wrong = 0
        for _ in range(rounds):
            wrong += not np.array_equal(to_host(lu.solve(Bd)), ref)
            wrong += not np.array_equal(to_host(lu.solve(Bd, transpose=True)), ref_t)
        return wrong

    with ThreadPoolExecutor(threads) as pool:
        wrong = sum(pool.map(solve_many, range(threads)))
    assert wrong == 0, f"{wrong} of {2 * threads * rounds} solves from {threads} threads differ from one thread's"
    # the factorisation itself is unchanged by the solves
    np.testing.assert_array_equal(to_host(lu.solve(Bd)), ref)
