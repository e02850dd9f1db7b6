"""mrioflow against pymrio's calc_all on pymrio's bundled test system (an outside reference)."""

from __future__ import annotations

import numpy as np
import pytest

import mrioflow as mf

pymrio = pytest.importorskip("pymrio", reason="pymrio is a test dependency: pip install '.[test]'")

RTOL = 1e-10


@pytest.fixture(scope="module")
def reference():
    io = pymrio.load_test()
    mrio = mf.io.from_pymrio(io)
    io.calc_all()
    return io, mrio


def _name(label) -> str:
    return " - ".join(label) if isinstance(label, tuple) else str(label)


@pytest.fixture(params=["numpy", "array_api_strict"])
def results(request, reference):
    return mf.Engine(backend=request.param).run(reference[1])


@pytest.mark.parametrize("ext_name", ["emissions", "factor_inputs"])
def test_regional_accounts_match_pymrio(reference, results, ext_name):
    io, _ = reference
    ext = getattr(io, ext_name)
    for label in ext.F.index:
        acc = results.accounts(_name(label))
        for ours, theirs in [
            ("cba", ext.D_cba_reg),
            ("pba", ext.D_pba_reg),
            ("imports", ext.D_imp_reg),
            ("exports", ext.D_exp_reg),
        ]:
            expected = theirs.loc[label, list(acc.index)].to_numpy(dtype=float)
            np.testing.assert_allclose(acc[ours].to_numpy(), expected, rtol=RTOL, err_msg=f"{label} {ours}")


@pytest.mark.parametrize("ext_name", ["emissions", "factor_inputs"])
def test_multipliers_match_pymrio(reference, results, ext_name):
    io, _ = reference
    ext = getattr(io, ext_name)
    ours = results.multipliers().loc[[_name(s) for s in ext.M.index]]
    theirs = ext.M.loc[:, list(ours.columns)]
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(dtype=float), rtol=RTOL)


def test_flow_columns_plus_direct_equal_cba(reference, results):
    io, _ = reference
    for label in io.emissions.F.index:
        name = _name(label)
        cba = results.flows(name).sum(axis=0) + results.direct(name)
        expected = io.emissions.D_cba_reg.loc[label, list(cba.index)].to_numpy(dtype=float)
        np.testing.assert_allclose(cba.to_numpy(), expected, rtol=RTOL)


def test_sector_level_cba_matches_pymrio(reference, results):
    """Final-demand-sector form summed over origin countries = pymrio's sector D_cba."""
    io, mrio = reference
    label = io.emissions.F.index[0]
    fd = results.sector_flows(_name(label), perspective="final_demand")
    by_sector = fd.groupby(level="sector", sort=False).sum()  # sector x consuming country
    theirs = io.emissions.D_cba.loc[label]  # (region, sector)
    for region in mrio.countries:
        np.testing.assert_allclose(
            by_sector[region].to_numpy(),
            theirs.loc[region].loc[list(by_sector.index)].to_numpy(dtype=float),
            rtol=RTOL,
        )


def test_leontief_matches_pymrio_when_asked(reference):
    io, mrio = reference
    res = mf.Engine("numpy").run(mrio, keep_L=True)
    np.testing.assert_allclose(res.leontief().to_numpy(), io.L.to_numpy(dtype=float), rtol=1e-10, atol=1e-14)


def test_round_trip_through_pymrio(reference):
    _, mrio = reference
    back = mf.io.from_pymrio(mf.io.to_pymrio(mrio))
    for name in ("Z", "Y", "F", "F_Y"):
        np.testing.assert_array_equal(getattr(back, name), getattr(mrio, name))
    assert back.stressors == mrio.stressors and back.units == mrio.units
    io2 = mf.io.to_pymrio(mrio)
    assert sorted(e.name for e in io2.get_extensions(data=True)) == ["Emissions", "Factor Inputs"]
