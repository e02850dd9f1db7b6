"""A 3-country, 1-sector table worked by hand: one scenario of each kind.

The table (countries AAA, BBB, CCC; one sector; one final-demand category; F_Y = 0):

    A = [[0, .5, 0], [0, 0, .5], [0, 0, 0]]   (AAA sells to BBB, BBB to CCC)
    A is nilpotent (A^3 = 0), so L = I + A + A^2 = [[1, .5, .25], [0, 1, .5], [0, 0, 1]].
    Y = 10 I (each country buys 10 of its own product), so X = L Yr = L Y =
        [[10, 5, 2.5], [0, 10, 5], [0, 0, 10]],  x = X 1 = [17.5, 15, 10],
    Z = A diag(x) = [[0, 7.5, 0], [0, 0, 5], [0, 0, 0]]  (x = Z 1 + Y 1: 7.5 + 10, 5 + 10, 10).
    CH4 intensities s = [2, 1, 4] Gg per unit: F = s x = [35, 15, 40].
    Value added = x - Z's column sums = [17.5, 7.5, 5].

Base flows E[r, s] = s_r X[r, s] = [[20, 10, 5], [0, 10, 5], [0, 0, 40]]:
PBA (row sums) = [35, 15, 40] = F, CBA (column sums) = [20, 20, 50].
"""

from __future__ import annotations

import numpy as np
import pytest

import mrioflow as mf
from mrioflow.experiments import Evaluator

C = ("AAA", "BBB", "CCC")


@pytest.fixture(scope="module")
def table():
    Z = np.array([[0, 7.5, 0], [0, 0, 5], [0, 0, 0]])
    Y = 10 * np.eye(3)
    F = np.array([[35.0, 15, 40], [17.5, 7.5, 5]])
    return mf.MRIO(
        Z=Z, Y=Y, F=F, F_Y=np.zeros((2, 3)), countries=C, sectors=["Agriculture"],
        fd_categories=["Households"], stressors=["CH4", "VA"], units=["Gg", "kUSD"],
    )  # fmt: skip


def _ch4(out, i):
    return out.rows["E"][i][0]


def test_base(table, backend):
    out = Evaluator(mf.Engine(backend).prepare(table)).evaluate([])
    np.testing.assert_allclose(out.base["E"][0], [[20, 10, 5], [0, 10, 5], [0, 0, 40]], atol=1e-12)
    np.testing.assert_allclose(out.base["cba"][0], [20, 20, 50], atol=1e-12)


def test_one_scenario_of_each_kind(table, backend):
    rows = [
        # Intensity: AAA's methane intensity halved, 2 -> 1: row AAA of E halves, no solve:
        # E = [[10, 5, 2.5], [0, 10, 5], [0, 0, 40]], PBA = [17.5, 15, 40], CBA = [10, 15, 47.5].
        mf.Scenario("intensity").scale_intensity(0.5, stressor="CH4", country="AAA"),
        # Sourcing: CCC buys half its product from AAA instead of itself: Y[:, CCC] = [0, 0, 10] ->
        # [5, 0, 5], dYr = [5, 0, -5]; dX = L dYr = [5 - 1.25, -2.5, -5] = [3.75, -2.5, -5],
        # X[:, CCC] = [2.5 + 3.75, 5 - 2.5, 10 - 5] = [6.25, 2.5, 5];
        # E[:, CCC] = s * X[:, CCC] = [12.5, 2.5, 20]: CBA_CCC = 35 (was 50); PBA = [42.5, 12.5, 20].
        mf.Scenario("sourcing").shift_final_demand(0.5, consumer="CCC", from_="CCC", to="AAA"),
        # Technology: BBB's input coefficient from AAA scaled by 0.6, 0.5 -> 0.3 (rank 1):
        # L' = [[1, .3, .15], [0, 1, .5], [0, 0, 1]], X' = L' Y = [[10, 3, 1.5], [0, 10, 5], [0, 0, 10]],
        # E row AAA = 2 [10, 3, 1.5] = [20, 6, 3]: PBA_AAA = 29, CBA = [20, 16, 48].
        mf.Scenario("technology").scale_technology(0.6, origin="AAA", buyer="BBB"),
    ]
    out = Evaluator(mf.Engine(backend).prepare(table)).evaluate(rows)
    assert out.paths == ["intensity", "final demand", "low-rank update (k = 1)"]
    assert out.solves == [0, 1, 1]

    np.testing.assert_allclose(_ch4(out, 0), [[10, 5, 2.5], [0, 10, 5], [0, 0, 40]], atol=1e-12)
    np.testing.assert_allclose(out.rows["pba"][0][0], [17.5, 15, 40], atol=1e-12)
    np.testing.assert_allclose(out.rows["cba"][0][0], [10, 15, 47.5], atol=1e-12)

    np.testing.assert_allclose(_ch4(out, 1), [[20, 10, 12.5], [0, 10, 2.5], [0, 0, 20]], atol=1e-12)
    np.testing.assert_allclose(out.rows["pba"][1][0], [42.5, 12.5, 20], atol=1e-12)
    np.testing.assert_allclose(out.rows["cba"][1][0], [20, 20, 35], atol=1e-12)

    np.testing.assert_allclose(_ch4(out, 2), [[20, 6, 3], [0, 10, 5], [0, 0, 40]], atol=1e-12)
    np.testing.assert_allclose(out.rows["pba"][2][0], [29, 15, 40], atol=1e-12)
    np.testing.assert_allclose(out.rows["cba"][2][0], [20, 16, 48], atol=1e-12)


def test_changed_tables_by_hand(table):
    """Scenario.apply builds the changed table the model implies (A and S held)."""
    tech = mf.Scenario("t").scale_technology(0.6, origin="AAA", buyer="BBB").apply(table)
    # x' = X' 1 = [14.5, 15, 10]; Z' = A' diag(x') = [[0, 4.5, 0], [0, 0, 5], [0, 0, 0]]; F' = s x'.
    np.testing.assert_allclose(tech.x, [14.5, 15, 10], atol=1e-12)
    np.testing.assert_allclose(tech.Z, [[0, 4.5, 0], [0, 0, 5], [0, 0, 0]], atol=1e-12)
    np.testing.assert_allclose(tech.F[0], [29, 15, 40], atol=1e-12)
    moved = mf.Scenario("s").shift_final_demand(0.5, consumer="CCC", from_="CCC", to="AAA").apply(table)
    np.testing.assert_allclose(moved.Y[:, 2], [5, 0, 5], atol=1e-12)
    np.testing.assert_allclose(moved.Y.sum(axis=0), table.Y.sum(axis=0), atol=1e-12)  # totals kept
