"""A Monte Carlo ensemble on a scenario: the change per sample, P(change < 0) by country and region."""

from __future__ import annotations

import numpy as np
import pytest

import mrioflow as mf
from mrioflow.experiments import Evaluator
from mrioflow.experiments.uncertainty import _factors, scenario_montecarlo
from mrioflow.indices import IndexSpec
from mrioflow.kernels import calc_accounts


@pytest.fixture(scope="module")
def world():
    return mf.datasets.synthetic(year=2013, seed=5, n_countries=4)


@pytest.fixture(scope="module")
def groups(world):
    c = world.countries
    return {c[0]: "East", c[1]: "East", c[2]: "West", c[3]: "West"}


def test_each_sample_is_the_scenario_on_the_sampled_table(world, groups):
    """Sample i's change equals (scenario on the table with intensities S f_i) - (that table),
    each run from scratch; the shared final-demand and technology changes are solved once."""
    c, s = world.countries, world.sectors
    sc = (
        mf.Scenario("cut").scale_intensity(0.5, stressor="CH4", country=c[0])
        + mf.Scenario("fd").scale_final_demand(1.2, consumer=c[1])
        + mf.Scenario("t").scale_technology(0.8, product=s[0], buyer=c[2])
    )
    ev = Evaluator(mf.Engine("numpy").prepare(world), indices={"groups": groups}, batch_size=3)
    mc = scenario_montecarlo(ev, sc, samples=5, intensities=0.3, seed=7, batch=2)
    spec = IndexSpec.resolve({"groups": groups}, world.countries, world.stressor_position)
    eng = mf.Engine("numpy")
    for i in (0, 4):
        f = _factors(7, i, world.F.shape, 0.3)
        sampled = world.replace(F=world.F * f)  # the same x: intensities S f
        base, changed = eng.run(sampled, sector_flows=False), eng.run(sc.apply(sampled), sector_flows=False)
        want = calc_accounts(changed.E, changed.F_Y)["cba"] - calc_accounts(base.E, base.F_Y)["cba"]
        np.testing.assert_allclose(mc.change["cba"][i], want, rtol=1e-9, atol=1e-9 * np.abs(want).max())
        gmi = spec.compute(changed.E, eng.backend)[0] - spec.compute(base.E, eng.backend)[0]
        np.testing.assert_allclose(mc.change["gmi"][i], gmi, atol=1e-9)


def test_probability_by_country_and_region(world, groups):
    cut = mf.Scenario("cut").scale_intensity(0.8, stressor="CH4")
    ev = Evaluator(mf.Engine("numpy").prepare(world), indices={"groups": groups})
    mc = scenario_montecarlo(ev, cut, samples=20, intensities=0.5, seed=1)
    p = mc.probability("CH4")
    assert (p["pba"] == 1).all() and (p["cba"] == 1).all()  # every account falls in every sample
    assert list(p.columns) == ["pba", "cba", "imports", "exports", "net", "GMI"]
    assert ((p["GMI"] >= 0) & (p["GMI"] <= 1)).all()
    r = mc.probability("CH4", level="region")
    assert list(r.index) == ["East", "West"] and (r["cba"] == 1).all()
    va = mc.probability("VA")
    assert (va["cba"] == 0).all()  # value added does not change
    s = mc.summary("CH4", "cba", level="region")
    assert (s["q95"] < 0).all() and (s["q05"] <= s["mean"]).all()


def test_same_numbers_whatever_the_batching(world):
    sc = mf.Scenario("fd").scale_final_demand(0.7, consumer=world.countries[0])
    ev = Evaluator(mf.Engine("numpy").prepare(world))
    a = scenario_montecarlo(ev, sc, samples=6, seed=3, batch=6)
    b = scenario_montecarlo(ev, sc, samples=6, seed=3, batch=4)
    np.testing.assert_allclose(a.change["net"], b.change["net"], rtol=1e-12, atol=1e-12)
