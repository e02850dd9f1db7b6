"""The synthetic Eora26-shaped world: shape, structure, determinism, honesty."""

from __future__ import annotations

import numpy as np
import pytest

import mrioflow as mf
from mrioflow import data
from mrioflow.errors import LabelError, OptionError


@pytest.fixture(scope="module")
def full():
    return mf.datasets.synthetic(year=2013, seed=0)


def test_full_size_has_eora26_labels(full):
    assert full.n == 4940 and full.n_countries == 190 and full.n_sectors == 26
    assert list(full.countries[:-1]) == data.eora26_countries()["iso3"].tolist()
    assert full.countries[-1] == "ROW"
    assert list(full.sectors) == data.eora26_sectors()
    assert len(full.fd_categories) == 6 and full.Y.shape == (4940, 1140)
    assert full.stressors == ("CH4", "VA") and full.units == ("Gg", "kUSD")


def test_says_it_is_synthetic(full):
    assert full.synthetic and "NOT real data" in full.source and "synthetic" in repr(full)


def test_plausible_structure(full):
    A = full.Z / full.x
    colsum = A.sum(axis=0)
    assert colsum.max() < 0.8 and colsum.min() > 0.1
    R, S = full.n_countries, full.n_sectors
    blocks = full.Z.reshape(R, S, R, S)
    domestic_density = np.mean([np.mean(blocks[r, :, r, :] > 0) for r in range(R)])
    import_density = np.mean(blocks[0, :, 1:, :] > 0)
    assert domestic_density > 0.99 and import_density < 0.6
    size = full.x.reshape(R, S).sum(axis=1)
    assert size.max() / size.min() > 1e3  # orders of magnitude between countries
    assert (full.Y < 0).any()  # inventory changes of either sign, as in Eora
    assert (full.F[1] > 0).all()  # value added positive


def test_methane_concentrated_in_agriculture_mining_gas_waste(full):
    ch4 = full.F[0].reshape(full.n_countries, -1).sum(axis=0)
    key = [
        full.sectors.index(s)
        for s in (
            "Agriculture",
            "Mining and Quarrying",
            "Electricity, Gas and Water",
            "Education, Health and Other Services",
        )
    ]
    assert ch4[key].sum() / ch4.sum() > 0.8


def test_deterministic_and_years_differ():
    a = mf.datasets.synthetic(2013, seed=1, n_countries=6)
    b = mf.datasets.synthetic(2013, seed=1, n_countries=6)
    c = mf.datasets.synthetic(2021, seed=1, n_countries=6)
    np.testing.assert_array_equal(a.Z, b.Z)
    assert not np.allclose(a.Z, c.Z)
    assert c.x.sum() == pytest.approx(a.x.sum() * 1.03**8, rel=1e-12)  # world output grows 3 % a year
    total = lambda w: w.F[0].sum() + w.F_Y[0].sum()  # noqa: E731
    assert total(c) == pytest.approx(total(a) * 1.005**8, rel=1e-12)  # methane grows 0.5 % a year
    assert a.countries == c.countries


def test_named_countries():
    w = mf.datasets.synthetic(countries=["CHN", "IND", "USA", "ROW"])
    assert w.countries == ("CHN", "IND", "USA", "ROW") and w.country_names[0] == "China"


def test_bad_options():
    with pytest.raises(LabelError, match="unknown Eora26 country code.*XXX"):
        mf.datasets.synthetic(countries=["CHN", "XXX"])
    with pytest.raises(OptionError, match="n_countries must be between 2 and 190, got 1"):
        mf.datasets.synthetic(n_countries=1)


def test_plausible_story(full):
    """Emission and consumption shares of the right order of magnitude (METHOD: the demo world)."""
    acc = mf.Engine("numpy").run(full, sector_flows=False).accounts("CH4")
    share = acc[["pba", "cba"]] / acc[["pba", "cba"]].sum()
    top_emitters = share["pba"].nlargest(5).index
    assert {"CHN", "IND"} <= set(top_emitters)
    west_asia = ["IRN", "SAU", "IRQ", "TUR", "ARE", "KWT", "QAT", "OMN", "SYR", "YEM", "JOR", "ISR"]
    assert share.loc[west_asia, "pba"].sum() > 0.03
    europe = [
        "AUT",
        "BEL",
        "DEU",
        "DNK",
        "ESP",
        "FIN",
        "FRA",
        "GBR",
        "GRC",
        "IRL",
        "ITA",
        "NLD",
        "POL",
        "PRT",
        "SWE",
        "CZE",
        "HUN",
        "ROU",
    ]
    assert {"USA", "CHN"} <= set(share["cba"].nlargest(3).index)
    assert share.loc[europe, "cba"].sum() > share.loc[europe, "pba"].sum()  # Europe imports methane
    assert share.loc["USA", "cba"] > share.loc["USA", "pba"]


@pytest.mark.parametrize("shape", [(3, 7, 2), (5, 30, 7), (4, 26, 6)])
def test_any_shape(shape):
    R, S, c = shape
    w = mf.datasets.synthetic(2013, seed=2, shape=shape)
    assert (w.n_countries, w.n_sectors, len(w.fd_categories)) == shape
    assert w.Z.shape == (R * S, R * S) and w.Y.shape == (R * S, R * c)
    assert w.countries[-1] == "ROW" and w.synthetic
    np.testing.assert_allclose(w.Z.sum(axis=1) + w.Y.sum(axis=1), w.x)
    colsum = (w.Z / w.x).sum(axis=0)
    assert colsum.max() < 0.8 and colsum.min() > 0.1
    assert (w.F[1] > 0).all() and (w.F[0] >= 0).all()
    assert len(set(w.sectors)) == S  # names made unique when one Eora26 sector is split


def test_many_countries_are_numbered():
    w = mf.datasets.synthetic(shape=(200, 2, 1))
    assert w.n_countries == 200 and w.countries[0] == "C0001" and w.countries[-1] == "C0200"


def test_presets_have_the_databases_shapes():
    from mrioflow.datasets.synthetic import PRESETS

    n = {name: R * S for name, (R, S, _) in PRESETS.items()}
    assert n["eora26"] == 4940 and n["exiobase3"] == 49 * 200
    assert abs(n["eora_full"] - 15_900) < 100
    assert n["gloria"] == 164 * 120 and n["gloria_sut"] == 2 * n["gloria"]


def test_generation_makes_no_n_by_n_temporaries():
    import tracemalloc

    R, S = 30, 40
    tracemalloc.start()
    try:
        w = mf.datasets.synthetic(shape=(R, S, 3))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    nn = 8 * w.n**2
    assert peak < 1.3 * nn, peak / nn  # Z itself, the finiteness check (1/8) and small blocks


def test_bad_shapes():
    with pytest.raises(OptionError, match="unknown synthetic shape 'gloria2'; presets: eora26"):
        mf.datasets.synthetic(shape="gloria2")
    with pytest.raises(OptionError, match=r"at least 2 countries.*\(1, 3, 1\)"):
        mf.datasets.synthetic(shape=(1, 3, 1))
    with pytest.raises(OptionError, match="shape must be a preset name or"):
        mf.datasets.synthetic(shape=(3, 4))
