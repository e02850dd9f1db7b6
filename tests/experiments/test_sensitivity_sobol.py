"""Sobol indices: analytic values on a table where a country's CBA is linear in independent
region-level intensity factors; SALib's Ishigami function through the same design path."""

from __future__ import annotations

import numpy as np
import pytest

import mrioflow as mf
from mrioflow.sensitivity import analyse_design, groups_by
from mrioflow.sensitivity.sobol_ import LINEAR_PATH


@pytest.fixture(scope="module")
def world():
    return mf.datasets.synthetic(year=2013, seed=3, n_countries=6)


@pytest.fixture(scope="module")
def groups(world):
    c = world.countries
    return {c[0]: "A", c[1]: "A", c[2]: "B", c[3]: "B", c[4]: "C", c[5]: "C"}


def test_linear_cba_matches_analytic_indices(world, groups):
    gs = groups_by(world, "intensity", "region", groups=groups)
    bounds = {"intensity:A": (0.5, 1.5), "intensity:B": (0.9, 1.1), "intensity:C": (0.7, 1.6)}
    res = mf.sensitivity.sobol(world, gs, bounds=bounds, samples=2**12, outputs=("cba",), regions=groups, seed=1)
    assert res.evaluations == 2**12 * (len(gs) + 2) and res.paths == [LINEAR_PATH]
    # CBA_s = sum_g theta_g a_g + direct: a_g = the base flows from region g's producers to s.
    base = mf.Engine("numpy").run(world, sector_flows=False)
    k = world.stressor_position("CH4")
    P = mf.regions.as_regions(groups).membership(world.countries)
    checked = 0
    for s, consumer in enumerate(world.countries):
        a = P @ base.E[k][:, s]
        var = np.array([(hi - lo) ** 2 / 12 for lo, hi in bounds.values()])
        analytic = a**2 * var / np.sum(a**2 * var)
        t = res.table[(res.table["level"] == "country") & (res.table["target"] == consumer)]
        for col in ("S1", "ST"):
            err = np.abs(t[col].to_numpy() - analytic)
            conf = t[f"{col}_conf"].to_numpy()
            assert (err <= conf).all(), (consumer, col, err, conf)
            assert conf.max() < 0.1  # the intervals are tight enough to mean something
        checked += 1
    assert checked == world.n_countries


def test_ishigami_through_the_design_path():
    from SALib.test_functions import Ishigami

    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    Y, (r,) = analyse_design(problem, lambda X: Ishigami.evaluate(X)[:, None], samples=2**13, seed=2, chunk=1000)
    assert Y.shape == (2**13 * 5, 1)
    a, b = 7.0, 0.1
    v = a**2 / 8 + b * np.pi**4 / 5 + b**2 * np.pi**8 / 18 + 0.5
    v1 = 0.5 * (1 + b * np.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * np.pi**8 * (1 / 18 - 1 / 50)
    S1 = np.array([v1, v2, 0]) / v
    ST = np.array([v1 + v13, v2, v13]) / v
    assert (np.abs(r["S1"] - S1) <= r["S1_conf"]).all(), (r["S1"], S1, r["S1_conf"])
    assert (np.abs(r["ST"] - ST) <= r["ST_conf"]).all(), (r["ST"], ST, r["ST_conf"])


def test_final_demand_and_indices_and_figure(world, groups):
    gs = groups_by(world, "final_demand", "region", groups=groups) + groups_by(
        world, "intensity", "region", groups=groups
    )
    res = mf.sensitivity.sobol(world, gs, samples=64, indices={"groups": groups})
    assert res.paths == [LINEAR_PATH]
    g = res.table[(res.table["output"] == "gmi") & (res.table["level"] == "region")]
    assert set(g["target"]) == {"A", "B", "C"} and np.isfinite(g["ST"]).all()
    fig = res.figure("cba", "A")
    assert len(fig.axes[0].patches) == 2 * len(gs)
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_bad_options(world):
    gs = groups_by(world, "intensity", "country")[:2]
    with pytest.raises(mf.errors.OptionError, match="power of 2"):
        mf.sensitivity.sobol(world, gs, samples=100)
    with pytest.raises(mf.errors.OptionError, match="0 <= low < high"):
        mf.sensitivity.sobol(world, gs, bounds=(1.2, 0.8))


def test_linear_rows_equal_the_evaluators_rows(world, groups):
    """The no-solve-per-row form of intensity and final-demand groups gives the Evaluator's numbers."""
    from mrioflow.experiments import Evaluator, Scenario
    from mrioflow.sensitivity.sobol_ import _linear_plan

    gs = groups_by(world, "final_demand", "region", groups=groups) + groups_by(world, "intensity", "sector")[:4]
    ev = Evaluator(mf.Engine("numpy").prepare(world), indices={"groups": groups})
    F = np.random.default_rng(0).uniform(0.7, 1.4, (5, len(gs)))
    rows = []
    for i, theta in enumerate(F):
        sc = Scenario(f"r{i}")
        for g, f in zip(gs, theta, strict=True):
            sc = sc + g.scenario(float(f))
        rows.append(ev.resolve(sc))
    ref = ev.evaluate(rows, outputs=("flows",)).rows["E"]
    got = np.asarray(_linear_plan(ev, gs).flows(F))
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12 * np.abs(ref).max())
    kw = dict(samples=8, indices={"groups": groups}, bounds=(0.7, 1.4), num_resamples=20, outputs=("cba", "pba"))
    fast = mf.sensitivity.sobol(world, gs, **kw)
    slow = mf.sensitivity.sobol(world, gs, fast=False, **kw)
    assert fast.paths == [LINEAR_PATH]
    assert set(slow.paths) == {"final demand"}
    for col in ("S1", "ST", "S1_conf", "ST_conf"):  # accounts: smooth in the factors, so equal to rounding
        np.testing.assert_allclose(fast.table[col], slow.table[col], rtol=1e-7, atol=1e-9, err_msg=col)
    # Overlapping groups (their factors multiply) take the Evaluator's path.
    overlap = groups_by(world, "intensity", "region", groups=groups)[:1] + groups_by(world, "intensity", "sector")[:1]
    res = mf.sensitivity.sobol(world, overlap, samples=4, outputs=("cba",), num_resamples=10)
    assert res.paths == ["intensity"]
