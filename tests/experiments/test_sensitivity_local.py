"""Local sensitivity: every elasticity equals central finite differences of full Engine runs of
perturbed tables (intensities, final demand, technology; accounts and indices)."""

from __future__ import annotations

import numpy as np
import pytest

import mrioflow as mf
from mrioflow.kernels import calc_accounts
from mrioflow.sensitivity import InputGroup, groups_by
from mrioflow.sensitivity.local import DERIVATIVE, EXACT

H = 1e-3


@pytest.fixture(scope="module")
def world():
    return mf.datasets.synthetic(year=2013, seed=3, n_countries=5)


@pytest.fixture(scope="module")
def groups(world):
    c = world.countries
    return {c[0]: "East", c[1]: "East", c[2]: "West", c[3]: "West"}


def input_groups(world, groups):
    c, s = world.countries, world.sectors
    return [
        InputGroup("east-ch4", "intensity", {"stressor": "CH4", "region": "East"}, groups=groups),
        InputGroup("ag-ch4", "intensity", {"stressor": "CH4", "sector": "Agriculture"}),
        InputGroup("va-c2", "intensity", {"stressor": "VA", "country": c[2]}),  # GMI moves, CH4 accounts do not
        InputGroup("fd-c1", "final_demand", {"consumer": c[1]}),
        InputGroup("fd-food", "final_demand", {"product": s[3], "origin_region": "West"}, groups=groups),
        InputGroup("tech-c3", "technology", {"buyer": c[3]}),
        InputGroup("tech-ag", "technology", {"product": s[0], "buyer_region": "East"}, groups=groups),
    ]


def _runs(world, group, spec):
    out = []
    for f in (1 + H, 1 - H):
        res = mf.Engine("numpy").run(group.scenario(f).apply(world), sector_flows=False)
        acc = calc_accounts(res.E, res.F_Y)
        gmi, bmi = spec.compute(res.E, mf.engine.backend.get_backend("numpy"))
        out.append((acc, gmi, bmi))
    return out


def test_elasticities_equal_finite_differences_of_full_runs(world, groups):
    gs = input_groups(world, groups)
    loc = mf.sensitivity.local(world, gs, indices={"groups": groups}, h=H)
    t = loc.table
    spec = mf.indices.IndexSpec.resolve({"groups": groups}, world.countries, world.stressor_position)
    k = world.stressor_position("CH4")
    base = mf.Engine("numpy").run(world, sector_flows=False)
    base_acc = calc_accounts(base.E, base.F_Y)
    for g in gs:
        (ap, gp, bp), (am, gm, bm) = _runs(world, g, spec)
        rows = t[t["group"] == g.name]
        for a in ("pba", "cba", "net"):
            got = rows[(rows["output"] == a) & (rows["level"] == "country")]
            fd = (ap[a][k] - am[a][k]) / (2 * H)
            scale = max(1.0, np.abs(base_acc[a][k]).max())
            # O(h^2) error of the finite difference against the exact derivative (linear: none).
            np.testing.assert_allclose(got["derivative"], fd, rtol=0, atol=1e-6 * scale, err_msg=f"{g.name} {a}")
            np.testing.assert_allclose(got["value"], base_acc[a][k], rtol=0, atol=1e-9 * scale)
            el = np.where(base_acc[a][k] != 0, fd / base_acc[a][k], np.nan)
            np.testing.assert_allclose(got["elasticity"], el, rtol=1e-5, atol=1e-9, err_msg=f"{g.name} {a}")
            assert set(got["method"]) == {DERIVATIVE if g.kind == "technology" else EXACT}
            reg = rows[(rows["output"] == a) & (rows["level"] == "region")]
            np.testing.assert_allclose(reg["derivative"], spec.P @ fd, rtol=0, atol=1e-6 * scale)
        gmi = rows[(rows["output"] == "gmi") & (rows["level"] == "country")]
        np.testing.assert_allclose(gmi["derivative"], (gp - gm) / (2 * H), rtol=0, atol=1e-7, err_msg=g.name)
        assert gmi["method"].str.startswith("central difference").all()
        bmi = rows[rows["output"] == "bmi"]
        np.testing.assert_allclose(bmi["derivative"], ((bp - bm) / (2 * H)).ravel(), rtol=0, atol=1e-7)
    # A VA group leaves the CH4 accounts alone but moves GMI.
    va = t[t["group"] == "va-c2"]
    assert np.abs(va[va["output"] == "cba"]["derivative"]).max() == 0
    assert np.abs(va[va["output"] == "gmi"]["derivative"]).max() > 0


def test_intensity_elasticity_of_pba_is_the_share(world):
    """PBA is linear in own intensities: a country's whole CH4 intensity has elasticity 1 on its PBA
    net of direct household emissions' share."""
    c = world.countries
    loc = mf.sensitivity.local(world, [InputGroup("c0", "intensity", {"stressor": "CH4", "country": c[0]})])
    t = loc.table
    pba = t[(t["output"] == "pba") & (t["target"] == c[0])].iloc[0]
    k = world.stressor_position("CH4")
    direct = world.F_Y[k].reshape(world.n_countries, -1).sum(axis=1)[0]
    assert pba["elasticity"] == pytest.approx((pba["value"] - direct) / pba["value"], rel=1e-12)


def test_groups_by_and_tornado(world, groups):
    gs = groups_by(world, "intensity", "region", groups=groups)
    assert [g.name for g in gs] == ["intensity:East", "intensity:West"]
    gs += groups_by(world, "final_demand", "country")[:2] + groups_by(world, "technology", "region", groups=groups)
    loc = mf.sensitivity.local(world, gs, indices={"groups": groups})
    fig = loc.tornado("cba", "East")
    assert len(fig.axes[0].patches) == len(gs)
    import matplotlib.pyplot as plt

    plt.close(fig)
    assert loc.elasticities("gmi").shape == (2, len(gs))
