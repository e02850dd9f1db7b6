"""The labelled index API (mf.indices.bmi / gmi) on the hand-worked case and the synthetic world.

The four-country case is the one of tests/kernels/test_indices.py (worked out
by hand there): countries A, B, C, D become the codes AAA, BBB, CCC, DDD.
With groups G1 = {AAA, BBB}, G2 = {CCC, DDD} (printed, all, signed):
BMI = [[0.5, 4.9], [0, 0.5]], GMI = [-2.625, 2.75].
With the grouping {AAA, BBB, CCC} only (DDD stays in the table, outside the
grouping): under norm_set="all" the country values are unchanged, so
G1 -> G1 = 0.5, G1 -> G2' (= {CCC}) = 13/6 + 7/3 = 4.5, GMI(G1) = -2.625,
GMI({CCC}) = 1; under norm_set="scope" the country values are the scope
ones: BMI (A,C) = (B,C) = 2.5, GMI = [-2, -4/7, 1].
"""

from __future__ import annotations

import numpy as np
import pytest

import mrioflow as mf
from mrioflow.engine import Results
from mrioflow.errors import LabelError, OptionError

EBAR4 = np.array([[0, 1, 2, 3], [-1, 0, 1, 2], [-2, -1, 0, -1], [-3, -2, 1, 0]], dtype=float)
VBAR4 = np.array([[0, -2, 1, -1], [2, 0, 2, -2], [-1, -2, 0, 2], [1, 2, -2, 0]], dtype=float)
CODES = ["AAA", "BBB", "CCC", "DDD"]


@pytest.fixture(scope="module")
def hand_results():
    R = 4
    mrio = mf.MRIO(
        Z=np.zeros((R, R)),
        Y=np.eye(R),
        F=np.ones((2, R)),
        F_Y=np.zeros((2, R)),
        countries=CODES,
        sectors=["all"],
        fd_categories=["hh"],
        stressors=["CH4", "VA"],
        units=["Gg", "kUSD"],
        year=2013,
    )
    E = np.stack([np.maximum(EBAR4, 0) + 1.0, np.maximum(VBAR4, 0) + 3.0])
    return Results(mrio=mrio, E=E, M=np.ones((2, R)), F=mrio.F, F_Y=np.zeros((2, R)), x=np.ones(R))


GROUPS = {"G1": ["AAA", "BBB"], "G2": ["CCC", "DDD"]}


@pytest.mark.parametrize("backend", [None, "numpy", "array_api_strict"])
def test_bmi_gmi_regions_by_hand(hand_results, backend):
    b = mf.indices.bmi(hand_results, "CH4", GROUPS, backend=backend)
    assert list(b.index) == ["G1", "G2"] and b.index.name == "region"
    assert b.columns.name == "partner region"
    np.testing.assert_allclose(b.to_numpy(), [[0.5, 4.9], [0.0, 0.5]], rtol=0, atol=1e-12)
    np.testing.assert_allclose(mf.indices.bmi_totals(b).to_numpy(), [5.4, 0.5], rtol=0, atol=1e-12)
    g = mf.indices.gmi(hand_results, "CH4", GROUPS, backend=backend)
    np.testing.assert_allclose(g.to_numpy(), [-2.625, 2.75], rtol=0, atol=1e-12)
    assert b.attrs["convention"] == "printed" and b.attrs["norm_set"] == "all"
    assert g.attrs["year"] == 2013 and g.attrs["index"] == "GMI"


def test_country_level_in_grouping_order(hand_results):
    groups = {"G1": ["BBB", "AAA"], "G2": ["CCC", "DDD"]}
    b = mf.indices.bmi(hand_results, groups=groups, level="country", convention="victim_row")
    assert list(b.index) == ["BBB", "AAA", "CCC", "DDD"]
    assert b.loc["AAA", "DDD"] == pytest.approx(2.5, abs=1e-12)
    assert b.loc["BBB", "CCC"] == pytest.approx(0.7, abs=1e-12)
    g = mf.indices.gmi(hand_results, groups=groups, level="country", norm_sign="abs")
    np.testing.assert_allclose(g.loc[["AAA", "BBB", "CCC", "DDD"]], [-3.0, 0.0, 1.0, 1.5], rtol=0, atol=1e-12)


def test_country_outside_grouping_stays_in_network(hand_results):
    groups = {"G1": ["AAA", "BBB"], "G2": ["CCC"]}
    b = mf.indices.bmi(hand_results, groups=groups)
    np.testing.assert_allclose(b.to_numpy(), [[0.5, 13 / 6 + 7 / 3], [0.0, 0.0]], rtol=0, atol=1e-12)
    g = mf.indices.gmi(hand_results, groups=groups)
    np.testing.assert_allclose(g.to_numpy(), [-2.625, 1.0], rtol=0, atol=1e-12)
    gs = mf.indices.gmi(hand_results, groups=groups, norm_set="scope", level="country")
    np.testing.assert_allclose(gs.to_numpy(), [-2.0, -4 / 7, 1.0], rtol=0, atol=1e-12)
    bs = mf.indices.bmi(hand_results, groups=groups, norm_set="scope", level="country")
    np.testing.assert_allclose(bs.loc[["AAA", "BBB"], "CCC"], [2.5, 2.5], rtol=0, atol=1e-12)
    assert bs.loc["AAA", "BBB"] == 0.0


@pytest.mark.parametrize(
    "kw, message",
    [
        (
            {"convention": "printd"},
            "convention must be one of 'printed', 'victim_row', 'beneficiary_row'; got 'printd'",
        ),
        ({"norm_set": "bri"}, "norm_set must be one of 'all', 'scope'; got 'bri'"),
        ({"norm_sign": "positive"}, "norm_sign must be one of 'signed', 'abs'; got 'positive'"),
        ({"level": "world"}, "level must be one of 'region', 'country'; got 'world'"),
    ],
)
def test_unknown_options(hand_results, kw, message):
    with pytest.raises(OptionError, match=message):
        mf.indices.bmi(hand_results, groups=GROUPS, **kw)


def test_gmi_unknown_option(hand_results):
    with pytest.raises(OptionError, match="norm_set must be one of"):
        mf.indices.gmi(hand_results, groups=GROUPS, norm_set="none")


def test_unknown_country_and_stressor(hand_results):
    with pytest.raises(LabelError, match="has 1 country not in the table: XXX"):
        mf.indices.bmi(hand_results, groups={"G": ["AAA", "XXX"]})
    with pytest.raises(LabelError, match="unknown stressor 'N2O'; this table has: CH4, VA"):
        mf.indices.gmi(hand_results, "N2O", groups=GROUPS)


# -- the synthetic world with the BRI grouping ------------------------------------------


@pytest.fixture(scope="module")
def bri_results():
    groups = mf.regions.bri()
    world = list(groups.countries) + ["USA", "DEU", "JPN", "BRA", "ROW"]
    return mf.Engine("numpy").run(mf.datasets.synthetic(2013, countries=world), sector_flows=False)


def test_bri_country_identities(bri_results):
    res = bri_results
    groups = mf.regions.bri()
    for conv in mf.indices.CONVENTIONS:
        b = mf.indices.bmi(res, groups=groups, level="country", convention=conv)
        a = b.to_numpy()
        assert a.shape == (62, 62)
        assert not np.any((a != 0) & (a.T != 0))
        assert a.min() >= 0 and a.max() <= 3
        region = mf.indices.bmi(res, groups=groups, convention=conv)
        # region cells are sums of the member pairs
        members = {r: list(groups.members(r)) for r in groups.groups}
        for r in ("China", "West Asia"):
            for s in ("South Asia", "West Asia"):
                assert region.loc[r, s] == pytest.approx(b.loc[members[r], members[s]].to_numpy().sum(), rel=1e-12)
    g = mf.indices.gmi(res, groups=groups, level="country")
    assert g.between(-3, 3).all() and (g != 0).any()
    gr = mf.indices.gmi(res, groups=groups)
    assert gr.loc["West Asia"] == pytest.approx(g.loc[list(groups.members("West Asia"))].sum(), rel=1e-12)


def test_net_transfer_is_pba_minus_cba(bri_results):
    res = bri_results
    from mrioflow.kernels.indices import calc_net_totals

    acc = res.accounts("CH4", direct=False)
    np.testing.assert_allclose(calc_net_totals(res.E[0]), acc["pba"] - acc["cba"], rtol=1e-10, atol=1e-9)


def test_backends_agree_on_world(bri_results):
    a = mf.indices.bmi(bri_results, norm_set="scope", norm_sign="abs")
    b = mf.indices.bmi(bri_results, norm_set="scope", norm_sign="abs", backend="array_api_strict")
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("backend", ["numpy", "array_api_strict"])
def test_robust_normalisation_option(hand_results, backend):
    """The hand-worked robust cases of tests/kernels/test_indices.py through the labelled API:
    BMI (0.1, 0.9): (A,B) = (D,C) = 9/28, (A,C) = (B,C) = 2.5; GMI (0.25, 0.75): [-2, -0.85, 1, 1.9]."""
    b = mf.indices.bmi(hand_results, "CH4", GROUPS, level="country", norm_quantiles=(0.1, 0.9), backend=backend)
    assert b.loc["AAA", "BBB"] == pytest.approx(9 / 28, abs=1e-12) and b.loc["DDD", "CCC"] == pytest.approx(9 / 28)
    assert b.loc["AAA", "CCC"] == pytest.approx(2.5, abs=1e-12) and b.loc["AAA", "DDD"] == 0
    assert b.attrs["norm_quantiles"] == (0.1, 0.9)
    g = mf.indices.gmi(hand_results, "CH4", GROUPS, level="country", norm_quantiles=(0.25, 0.75), backend=backend)
    np.testing.assert_allclose(g.to_numpy(), [-2, -0.85, 1, 1.9], rtol=0, atol=1e-12)
    with pytest.raises(OptionError, match="norm_quantiles must satisfy"):
        mf.indices.gmi(hand_results, "CH4", GROUPS, norm_quantiles=(1, 1))
