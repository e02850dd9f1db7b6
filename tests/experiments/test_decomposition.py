"""Structural decomposition: effects sum to the change, the Shapley average equals a brute-force
enumeration of the 120 orderings, both methods, every backend, a clear error on two classifications."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import mrioflow as mf
from mrioflow.errors import LabelError, OptionError
from mrioflow.experiments.decomposition import FACTORS, _factors, _flows_at_subsets, combine


@pytest.fixture(scope="module")
def years():
    return [mf.datasets.synthetic(year=y, seed=5, n_countries=6) for y in (2013, 2017, 2021)]


@pytest.fixture(scope="module")
def groups(years):
    c = years[0].countries
    return {c[0]: "East", c[1]: "East", c[2]: "West", c[3]: "West", c[4]: "West"}  # c[5]: "Other"


def _close(a, b, what, tol=1e-10):
    scale = max(1.0, float(np.abs(b).max()))
    np.testing.assert_allclose(a, b, rtol=0, atol=tol * scale, err_msg=what)


def brute_force(values, F):
    """The average over all F! orderings of the sequential (one factor at a time) effects."""
    first = next(iter(values.values()))
    effects = np.zeros((F, *np.shape(first)))
    orders = list(itertools.permutations(range(F)))
    for order in orders:
        mask = [0] * F
        for j in order:
            before = values[tuple(mask)]
            mask[j] = 1
            effects[j] += values[tuple(mask)] - before
    return effects / len(orders)


@pytest.mark.parametrize("method", ["shapley", "polar"])
def test_effects_sum_to_the_change(backend, years, groups, method):
    d = mf.decompose(years[0], years[2], method=method, backend=backend, groups=groups)
    ref0 = mf.Engine("numpy").run(years[0], sector_flows=False)
    ref1 = mf.Engine("numpy").run(years[2], sector_flows=False)
    for stressor in ("CH4", "VA"):
        k = years[0].stressor_position(stressor)
        _close(d.E0[k], ref0.E[k], "start flows = a run of the first table")
        _close(d.E1[k], ref1.E[k], "end flows = a run of the second table")
        _close(d.effects[:, k].sum(axis=0), ref1.E[k] - ref0.E[k], "flows: effects sum to the change")
        for level in ("country", "region"):
            t = d.accounts(stressor, level=level)
            _close(t[[*FACTORS, "direct"]].sum(axis=1).to_numpy(), t["change"].to_numpy(), f"{level} accounts")
            _close((t["end"] - t["start"]).to_numpy(), t["change"].to_numpy(), level)
        country = d.accounts(stressor)
        region = d.accounts(stressor, level="region")
        # Regions cover every country ("Other" holds the rest): world totals agree.
        for a in ("pba", "cba"):
            _close(region.loc[a].sum().to_numpy(), country.loc[a].sum().to_numpy(), "regions sum to the world")
        pba_ref = ref1.E[k].sum(axis=1) + ref1.F_Y[k] - ref0.E[k].sum(axis=1) - ref0.F_Y[k]
        _close(country.loc["pba", "change"].to_numpy(), pba_ref, "PBA change = the runs' difference")
    assert list(region.loc["pba"].index) == ["East", "West", "Other"]


def test_shapley_equals_brute_force_enumeration(years):
    b = mf.engine.backend.get_backend("numpy")
    engine = mf.Engine(b)
    f0, f1 = (_factors(t, b, engine) for t in (years[0], years[1]))
    values = _flows_at_subsets(f0, f1, years[0].n_countries, b)
    expected = brute_force(values, len(FACTORS))
    got = combine(values, len(FACTORS), "shapley")
    _close(got, expected, "all-orderings average")
    # The polar average is a different (two-ordering) average: it must not coincide here.
    assert np.abs(combine(values, len(FACTORS), "polar") - expected).max() > 1e-6 * np.abs(expected).max()


def test_polar_is_the_mean_of_forward_and_backward(years):
    b = mf.engine.backend.get_backend("numpy")
    engine = mf.Engine(b)
    f0, f1 = (_factors(t, b, engine) for t in (years[0], years[1]))
    values = _flows_at_subsets(f0, f1, years[0].n_countries, b)
    F = len(FACTORS)
    expected = np.zeros_like(combine(values, F, "polar"))
    for order in (tuple(range(F)), tuple(reversed(range(F)))):
        mask = [0] * F
        for j in order:
            before = values[tuple(mask)]
            mask[j] = 1
            expected[j] += 0.5 * (values[tuple(mask)] - before)
    _close(combine(values, F, "polar"), expected, "polar")


def test_single_factor_change_goes_to_that_factor(years):
    """Only the intensities differ: all of the change is the intensity effect."""
    a = years[0]
    b = a.replace(F=a.F * np.linspace(0.5, 1.5, a.n)[None, :], year=2014)
    d = mf.decompose(a, b)
    t = d.accounts("CH4")
    _close(t["intensity"].to_numpy(), t["change"].to_numpy(), "intensity effect")
    for f in FACTORS[1:]:
        assert np.abs(t[f]).max() < 1e-9 * np.abs(t["change"]).max(), f
    # Doubling all final demand: all of it is the level effect (mix unchanged).
    c = a.replace(Y=2 * a.Y, F=2 * a.F, Z=2 * a.Z, year=2015)  # same A and s, twice the output
    d2 = mf.decompose(a, c).accounts("CH4")
    _close(d2["fd_level"].to_numpy(), d2["change"].to_numpy() - d2["direct"].to_numpy(), "level effect")


def test_chained_decomposition(years):
    chain = mf.decompose(*years)
    assert len(chain.steps) == 2 and chain.steps[1].years == (2017, 2021)
    t = chain.accounts("CH4")
    whole = t.loc["2013-2021 (chained)"]
    _close(whole[[*FACTORS, "direct"]].sum(axis=1).to_numpy(), whole["change"].to_numpy(), "chained sums")
    ref = mf.decompose(years[0], years[2]).accounts("CH4")
    _close(whole["change"].to_numpy(), ref["change"].to_numpy(), "chained total change = direct change")
    _close(whole["start"].to_numpy(), ref["start"].to_numpy(), "start")


def test_two_classifications_are_refused(years):
    other = mf.datasets.synthetic(year=2021, seed=5, n_countries=7)
    with pytest.raises(LabelError, match="do not share one classification: their countries differ"):
        mf.decompose(years[0], other)
    renamed = years[1].replace(stressors=("CH4", "value added"))
    with pytest.raises(LabelError, match="stressors differ"):
        mf.decompose(years[0], renamed)
    with pytest.raises(OptionError, match="method"):
        mf.decompose(years[0], years[1], method="midpoint")
    with pytest.raises(OptionError, match="at least two"):
        mf.decompose(years[0])
