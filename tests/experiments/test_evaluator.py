"""Every cost path of the evaluator equals a from-scratch Engine.run of the changed table."""

from __future__ import annotations

import numpy as np
import pytest

import mrioflow as mf
from mrioflow.errors import NonProductiveError
from mrioflow.experiments import Evaluator
from mrioflow.indices import IndexSpec
from mrioflow.kernels import calc_accounts

TOL = 1e-10


@pytest.fixture(scope="module")
def world():
    return mf.datasets.synthetic(year=2013, seed=3, n_countries=5)


@pytest.fixture(scope="module")
def groups(world):
    c = world.countries
    return {c[0]: "East", c[1]: "East", c[2]: "West", c[3]: "West"}


def _reference(mrio, scenario, spec):
    """Accounts, flows and indices of a from-scratch run of the changed table (numpy)."""
    res = mf.Engine("numpy").run(scenario.apply(mrio), sector_flows=False)
    b = mf.engine.backend.get_backend("numpy")
    gmi, bmi = spec.compute(res.E, b)
    return res.E, calc_accounts(res.E, res.F_Y), gmi, bmi


def _close(a, b, what):
    scale = max(1.0, float(np.abs(b).max()))
    np.testing.assert_allclose(a, b, rtol=0, atol=TOL * scale, err_msg=what)


def scenarios(m):
    c, s = m.countries, m.sectors
    S = mf.Scenario
    return [
        S("intensity").scale_intensity(0.8, stressor="CH4", country=[c[0], c[2]], sector="Agriculture"),
        S("intensity-set").set_intensity(0.0, stressor="CH4", country=c[1]),
        S("demand").scale_final_demand(1.3, consumer=c[1]),
        S("demand-product").scale_final_demand(0.5, product=s[3], category=m.fd_categories[0]),
        S("sourcing").shift_final_demand(0.25, consumer=c[0], product=[s[0], s[3]], from_=c[2], to=c[3]),
        S("technology").scale_technology(0.7, product=s[12], buyer=c[2]),
        S("tech-block").scale_technology(1.1, buyer=c[1]),  # rank 26: one country's whole column block
        S("tech-sourcing").shift_technology(0.5, product=s[0], buyer=c[0], from_=c[1], to=c[4]),
        S("tech-set").set_technology(0.01, origin=c[3], product=s[2], buyer=c[0], buyer_sector=s[7]),
        S("mixed").scale_intensity(1.5, stressor="VA", country=c[2])
        + S("b").scale_final_demand(0.9, consumer=c[3])
        + S("c").scale_technology(0.8, origin=c[0], buyer=c[4], buyer_sector=s[:3]),
        S("intensity+demand").scale_intensity(0.5, stressor="CH4") + S("d").scale_final_demand(1.2, consumer=c[2]),
    ]


@pytest.mark.parametrize("max_rank", [None, 0])
def test_every_path_equals_a_from_scratch_run(world, groups, backend, max_rank):
    options = {"groups": groups}
    ev = Evaluator(mf.Engine(backend).prepare(world), indices=options, max_rank=max_rank, batch_size=4)
    rows = scenarios(world)
    out = ev.evaluate(rows)
    spec = IndexSpec.resolve(options, world.countries, world.stressor_position)
    for i, sc in enumerate(rows):
        E, acc, gmi, bmi = _reference(world, sc, spec)
        _close(out.rows["E"][i], E, sc.name)
        for a in ("pba", "cba", "imports", "exports", "net"):
            _close(out.rows[a][i], acc[a], f"{sc.name} {a}")
        _close(out.rows["gmi"][i], gmi, f"{sc.name} gmi")
        _close(out.rows["bmi"][i], bmi, f"{sc.name} bmi")
    paths = dict(zip(out.names, out.paths, strict=True))
    assert paths["intensity"] == "intensity"
    assert paths["demand"] == "final demand"
    if max_rank is None:
        assert paths["tech-block"] == "low-rank update (k = 26)"
        assert paths["technology"] == "low-rank update (k = 5)"  # one product from 5 origins
    else:  # the refactor fallback
        assert all(paths[n].startswith("refactored: rank") for n in ("technology", "tech-block", "mixed+b+c"))
    assert out.solves[out.names.index("intensity")] == 0
    assert out.solves[out.names.index("demand")] == 1


def test_ill_conditioned_update_refactors(world, groups):
    sc = mf.Scenario("t").scale_technology(0.7, product=world.sectors[12], buyer=world.countries[2])
    ev = Evaluator(mf.Engine("numpy").prepare(world), cond_limit=1.0)
    out = ev.evaluate([sc])
    assert out.paths[0].startswith("refactored: the update's capacitance matrix is ill-conditioned")
    E = mf.Engine("numpy").run(sc.apply(world)).E
    _close(out.rows["E"][0], E, "refactored")


def test_base_equals_engine_run(world):
    out = Evaluator(mf.Engine("numpy").prepare(world)).evaluate([])
    _close(out.base["E"], mf.Engine("numpy").run(world).E, "base")
    assert len(out) == 0


def test_non_productive_scenario_is_refused_before_any_output(world):
    good = mf.Scenario("fine").scale_intensity(0.5, stressor="CH4")
    bad = mf.Scenario("explode").scale_technology(40.0, buyer=world.countries[1])
    ev = Evaluator(mf.Engine("numpy").prepare(world))
    with pytest.raises(NonProductiveError, match="scenario 'explode'.*non-productive"):
        ev.evaluate([good, bad])
