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
    key = [full.sectors.index(s) for s in ("Agriculture", "Mining and Quarrying",
                                           "Electricity, Gas and Water", "Education, Health and Other Services")]
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
