"""Income-based (Ghosh) accounts: a hand-worked case, an explicit Ghosh inverse, pymrio's system."""

from __future__ import annotations

import numpy as np
import pytest

import mrioflow as mf

BACKENDS = ["numpy", "array_api_strict"]


def _two_countries() -> mf.MRIO:
    # Two countries A and B, one sector each, one final-demand category:
    #   Z = [[0, 10], [20, 0]], Y = [[30, 20], [10, 30]]  ->  x = Z 1 + Y 1 = [60, 60]
    #   primary inputs w = x - Z^T 1 = [60 - 20, 60 - 10] = [40, 50]
    #   CH4 F = [6, 12]  ->  s = F / x = [0.1, 0.2]
    return mf.MRIO(
        Z=np.array([[0.0, 10.0], [20.0, 0.0]]),
        Y=np.array([[30.0, 20.0], [10.0, 30.0]]),
        F=np.array([[6.0, 12.0]]),
        F_Y=np.zeros((1, 2)),
        countries=["A", "B"],
        sectors=["s"],
        fd_categories=["hh"],
        stressors=["CH4"],
        units=["Gg"],
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_hand_worked_two_country_case(backend):
    # Ghosh: B = x-hat^-1 Z = [[0, 1/6], [1/3, 0]], I - B = [[1, -1/6], [-1/3, 1]], det = 17/18,
    # G = (I - B)^-1 = [[18/17, 3/17], [6/17, 18/17]];  G s = [2.4/17, 4.2/17];
    # iba = w * G s = [40 * 2.4 / 17, 50 * 4.2 / 17] = [96/17, 210/17], summing to 18 = 6 + 12.
    res = mf.Engine(backend).run(_two_countries(), income_based=True)
    acc = res.income_accounts("CH4")
    np.testing.assert_allclose(acc["iba"].to_numpy(), [96 / 17, 210 / 17], rtol=1e-14)
    assert acc["iba"].sum() == pytest.approx(acc["pba"].sum(), rel=1e-14) == pytest.approx(18.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_equal_to_an_explicit_ghosh_inverse(backend):
    world = mf.datasets.synthetic(2013, seed=5, n_countries=6)
    res = mf.Engine(backend).run(world, income_based=True, sector_flows=False)
    x = world.x
    w = x - world.Z.sum(axis=0)
    G = np.linalg.inv(np.eye(world.n) - world.Z / x[:, None])  # Ghosh inverse (I - x-hat^-1 Z)^-1
    s = world.F / x[None, :]
    expected = w[None, :] * (G @ s.T).T  # (k, n)
    np.testing.assert_allclose(res.D_iba, expected, rtol=1e-10, atol=1e-12 * np.abs(expected).max())
    for stressor in world.stressors:  # world totals: iba, pba and cba account for the same stressor
        acc = res.income_accounts(stressor)
        np.testing.assert_allclose(acc.sum().to_numpy(), np.full(3, acc["pba"].sum()), rtol=1e-10)


def test_pymrio_system_totals_and_the_error_without_it():
    pymrio = pytest.importorskip("pymrio")
    mrio = mf.io.from_pymrio(pymrio.load_test())
    res = mf.Engine("numpy").run(mrio, income_based=True)
    for stressor in mrio.stressors:
        acc = res.income_accounts(stressor)
        np.testing.assert_allclose(acc["iba"].sum(), acc["cba"].sum(), rtol=1e-10)
    with pytest.raises(mf.errors.LabelError, match="income_based=True"):
        mf.Engine("numpy").run(mrio).income_accounts(mrio.stressors[0])


def test_kernel_on_a_consumed_table_matches():
    world = mf.datasets.synthetic(2013, seed=5, n_countries=4)
    a = mf.Engine("numpy").run(world, income_based=True, sector_flows=False).D_iba
    b = mf.Engine("numpy").run(world.replace(Z=world.Z.copy()), income_based=True, consume=True).D_iba
    np.testing.assert_allclose(a, b, rtol=1e-13)
