"""docs/method.md section 10 says how every sample is drawn, exactly enough to redraw it.

These tests redraw samples from that description with NumPy alone (no mrioflow drawing code)
and compare them with what ``mf.montecarlo`` computed: if the code or the page drifts, they fail.
"""

from __future__ import annotations

import numpy as np
import pytest

import mrioflow as mf
from mrioflow import kernels as K

CELL_ROW = 4096  # "padded with zero cells to a multiple of 4,096 and drawn as rows of 4,096"


def _generator(seed: int, sample: int) -> np.random.Generator:
    """Step 1 of the page."""
    state = np.random.SeedSequence([seed, sample]).generate_state(1, dtype=np.uint64)[0]
    return np.random.default_rng(int(state >> np.uint64(1)))


def _normals(rng: np.random.Generator, rows: int, m: int) -> np.ndarray:
    """Step 3 of the page, one row after another."""
    h = -(-m // 2)
    out = np.empty((rows, m), dtype=np.float32)
    for row in range(rows):
        words = rng.bit_generator.random_raw(h).astype("<u8").view("<u4")  # 2 h halves, memory order
        f = (np.uint32(0x3F800000) | (words >> np.uint32(9))).view(np.float32)  # 1 + (w >> 9) 2^-23
        r = np.sqrt(np.float32(-2) * np.log(np.float32(2) - f[:h]))
        t = np.float32(2 * np.pi) * f[h:]
        out[row] = np.concatenate([r * np.cos(t), r * np.sin(t)])[:m]
    return out


def _factors(rng, rsd: float, rows: int, m: int) -> np.ndarray:
    """Step 4: exp(sigma z) in float32."""
    sigma = np.float32(np.sqrt(np.log1p(rsd**2)))
    return np.exp(sigma * _normals(rng, rows, m))


@pytest.fixture(scope="module")
def world():
    # 8 countries x 26 sectors: Z has more than 4,096 non-zero cells, so its draws span two padded rows
    w = mf.datasets.synthetic(year=2013, seed=3, n_countries=8)
    assert np.count_nonzero(w.Z) > CELL_ROW
    return w


def test_intensities_direct_and_final_demand_redrawn_from_the_page(world):
    rsd = {"intensities": 0.3, "direct": 0.2, "final_demand": 0.1}
    seed, samples = 11, 3
    mc = mf.montecarlo(world, samples=samples, perturb=rsd, seed=seed, backend="numpy", progress=False, batch_size=2)
    table = mf.Engine("numpy").prepare(world)
    R = world.n_countries
    for i in range(samples):
        rng = _generator(seed, i)  # step 2: intensities (S), direct (F_Y), final demand (Y), in that order
        S = table.S * _factors(rng, rsd["intensities"], *world.F.shape)
        FYr = K.calc_by_country(world.F_Y * _factors(rng, rsd["direct"], *world.F_Y.shape), R)
        Yr = K.calc_by_country(world.Y * _factors(rng, rsd["final_demand"], *world.Y.shape), R)
        accounts = K.calc_accounts(K.calc_E(S, table.system.output(Yr), R), FYr)
        for name in ("pba", "cba", "net"):
            np.testing.assert_allclose(
                mc.accounts[name][i], accounts[name], rtol=1e-10, atol=1e-12 * np.abs(accounts[name]).max()
            )


def test_transactions_redrawn_from_the_page(world):
    rsd = {"intensities": 0.2, "Z": 0.15}
    seed, samples = 4, 2
    mc = mf.montecarlo(world, samples=samples, perturb=rsd, seed=seed, backend="numpy", progress=False)
    cells = world.Z != 0
    count = int(cells.sum())
    for i in range(samples):
        rng = _generator(seed, i)  # intensities (as F when Z is perturbed), then Z's cells
        F = world.F * _factors(rng, rsd["intensities"], *world.F.shape)
        padded = _factors(rng, rsd["Z"], -(-count // CELL_ROW), CELL_ROW).reshape(-1)
        Z = np.zeros_like(world.Z)
        Z[cells] = world.Z[cells] * padded[:count]  # row-major order of the non-zero cells
        run = mf.Engine("numpy").run(world.replace(Z=Z, F=F), sector_flows=False)
        for name in ("pba", "cba"):
            expected = np.stack([run.accounts(s)[name].to_numpy() for s in world.stressors])
            np.testing.assert_allclose(mc.accounts[name][i], expected, rtol=1e-9)
