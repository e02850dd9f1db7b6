"""Method sensitivity: the literal y-hat reading against an explicit Leontief inverse; the project's
reading against Engine.run; every option combination present; the summary's signs and ranks."""

from __future__ import annotations

import numpy as np
import pytest

import mrioflow as mf
from mrioflow.sensitivity.method import METHOD_OUTPUTS


@pytest.fixture(scope="module")
def world():
    return mf.datasets.synthetic(year=2013, seed=4, n_countries=6)


@pytest.fixture(scope="module")
def groups(world):
    c = world.countries
    return {c[0]: "A", c[1]: "A", c[2]: "B", c[3]: "B", c[4]: "C"}


@pytest.fixture(scope="module")
def result(world, groups):
    return mf.sensitivity.method_sensitivity(world, groups=groups)


def test_readings_against_explicit_formulas(world, groups, result):
    R, n = world.n_countries, world.n
    k = world.stressor_position("CH4")
    x = world.x
    A = world.Z / np.where(x != 0, x, 1)[None, :]
    L = np.linalg.inv(np.eye(n) - A)
    s = world.F[k] / np.where(x != 0, x, 1)
    y = world.Y.sum(axis=1)
    owner = np.arange(n) // world.n_sectors
    # Eq. 1 literally: E = s L diag(y), summed by producing country (rows) and by the country of
    # the final producer (columns).
    full = s[:, None] * L * y[None, :]
    E_lit = np.zeros((R, R))
    np.add.at(E_lit, (owner[:, None].repeat(n, 1), owner[None, :].repeat(n, 0)), full)
    P = mf.regions.as_regions(groups).membership(world.countries)
    direct = world.F_Y[k].reshape(R, -1).sum(axis=1)
    lit = result.table[(result.table["final_demand"] == "by_final_producer")].groupby("region", sort=False).first()
    np.testing.assert_allclose(lit["cba"].to_numpy(), P @ (E_lit.sum(axis=0) + direct), rtol=1e-10)
    np.testing.assert_allclose(lit["pba"].to_numpy(), P @ (E_lit.sum(axis=1) + direct), rtol=1e-10)
    run = mf.Engine("numpy").run(world, sector_flows=False)
    own = result.table[(result.table["final_demand"] == "by_consumer")].groupby("region", sort=False).first()
    np.testing.assert_allclose(own["cba"].to_numpy(), P @ (run.E[k].sum(axis=0) + run.F_Y[k]), rtol=1e-10)
    np.testing.assert_allclose(own["pba"].to_numpy(), lit["pba"].to_numpy(), rtol=1e-10)  # PBA: same x
    assert np.abs(own["cba"].to_numpy() - lit["cba"].to_numpy()).max() > 1e-3 * np.abs(own["cba"]).max()


def test_every_combination_and_summary(result):
    t = result.table
    assert len(t) == 2 * 3 * 2 * 3 * 3  # readings x conventions x norm sets x quantile options x regions
    summary = result.summary()
    for (region, output), row in summary.iterrows():
        v = t[t["region"] == region][output].to_numpy()
        assert row["sign robust"] == bool((np.sign(v) == np.sign(v[0])).all())
        assert row["min"] == v.min() and row["max"] == v.max()
    for o in METHOD_OUTPUTS:  # ranks are a permutation of 1..G in every combination
        per = t.groupby(["final_demand", "convention", "norm_set", "norm_quantiles"])[f"{o}_rank"]
        assert (per.apply(lambda r: sorted(r) == [1, 2, 3])).all()
    fig = result.figure()
    assert len(fig.axes) == len(METHOD_OUTPUTS)
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_unknown_reading(world, groups):
    with pytest.raises(mf.errors.OptionError, match="final_demand"):
        mf.sensitivity.method_sensitivity(world, groups=groups, final_demand=["literal"])


def test_ratio_pairs_at_zero_are_stated(result):
    t = result.table
    literal = t[t["norm_quantiles"] == "0-1"]["ratio_pairs_at_zero"]
    robust = t[t["norm_quantiles"] == "0.05-0.95"]["ratio_pairs_at_zero"]
    nonzero = t[t["norm_quantiles"] == "0.05-0.95 nonzero"]["ratio_pairs_at_zero"]
    assert literal.between(0, 1).all() and robust.between(0, 1).all()
    # Clipping at the robust low quantile puts more ratio pairs at exactly 0 than the literal
    # min-max (which puts only the set's minimum there); over the non-zero entries, fewer.
    assert robust.mean() > literal.mean()
    assert nonzero.mean() < robust.mean()
