"""mf.aggregate against pymrio's IOSystem.aggregate + calc_all on pymrio's test system."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mrioflow as mf
from mrioflow.errors import LabelError, OptionError, ReaderError

pymrio = pytest.importorskip("pymrio", reason="pymrio is a test dependency: pip install '.[test]'")

REGIONS = {"reg1": "A", "reg2": "A", "reg3": "B", "reg4": "C", "reg5": "B", "reg6": "C"}


def _sectors(labels):
    return {s: ("X" if i < 3 else "Y" if i < 6 else "W") for i, s in enumerate(labels)}


@pytest.fixture(scope="module")
def both():
    io = pymrio.load_test()
    mrio = mf.io.from_pymrio(io)
    sectors = _sectors(mrio.sectors)
    ref = io.copy()
    ref.aggregate(region_agg=[REGIONS[r] for r in io.get_regions()], sector_agg=[sectors[s] for s in io.get_sectors()])
    ref.calc_all()
    return ref, mf.aggregate(mrio, regions=REGIONS, sectors=sectors)


def _order(agg):
    return [(r, s) for r in agg.countries for s in agg.sectors]


def test_aggregated_tables_equal_pymrio(both):
    ref, agg = both
    idx = _order(agg)
    np.testing.assert_allclose(agg.Z, ref.Z.loc[idx, idx].to_numpy(float), rtol=1e-12)
    fd = [(r, c) for r in agg.countries for c in agg.fd_categories]
    np.testing.assert_allclose(agg.Y, ref.Y.loc[idx, fd].to_numpy(float), rtol=1e-12)
    F = pd.concat([ref.factor_inputs.F, ref.emissions.F])
    names = [" - ".join(x) if isinstance(x, tuple) else x for x in F.index]
    F.index = names
    np.testing.assert_allclose(agg.F, F.loc[list(agg.stressors), idx].to_numpy(float), rtol=1e-12)


@pytest.mark.parametrize("backend", ["numpy", "array_api_strict"])
def test_accounts_of_the_aggregate_equal_pymrio(both, backend):
    ref, agg = both
    res = mf.Engine(backend).run(agg, sector_flows=False)
    for label in ref.emissions.F.index:
        acc = res.accounts(" - ".join(label))
        for ours, theirs in (("cba", ref.emissions.D_cba_reg), ("pba", ref.emissions.D_pba_reg)):
            expected = theirs.loc[label, list(acc.index)].to_numpy(float)
            np.testing.assert_allclose(acc[ours].to_numpy(), expected, rtol=1e-10)


def test_a_split_by_shares_keeps_every_total():
    world = mf.datasets.synthetic(2013, seed=1, n_countries=4)
    first = world.countries[0]
    split = {first: {"P": 0.25, "Q": 0.75}, **{c: c for c in world.countries[1:]}}
    out = mf.aggregate(world, regions=split)
    assert out.countries == ("P", "Q", *world.countries[1:])
    for name in ("Z", "Y", "F", "F_Y"):
        np.testing.assert_allclose(getattr(out, name).sum(), getattr(world, name).sum(), rtol=1e-12)
    # P holds a quarter of the original country (rows and columns), the rest of the world is untouched
    S = world.n_sectors
    np.testing.assert_allclose(out.x[:S], 0.25 * world.x[:S], rtol=1e-12)
    np.testing.assert_allclose(out.Z[:S, S : 2 * S], 0.25 * 0.75 * world.Z[:S, :S], rtol=1e-12)
    np.testing.assert_array_equal(out.Z[2 * S :, 2 * S :], world.Z[S:, S:])


def test_concordance_from_a_csv_and_a_grouping(tmp_path):
    world = mf.datasets.synthetic(2013, seed=1, countries=["CHN", "IND", "PAK", "USA", "ROW"])
    path = tmp_path / "conc.csv"
    path.write_text("original,aggregated\nCHN,Asia\nIND,Asia\nPAK,Asia\nUSA,America\nROW,Other\n", encoding="utf-8")
    from_csv = mf.aggregate(world, regions=path)
    from_grouping = mf.aggregate(
        world, regions=mf.regions.from_dict({"CHN": "Asia", "IND": "Asia", "PAK": "Asia"}), other="Rest"
    )
    assert from_csv.countries == ("Asia", "America", "Other")
    assert from_grouping.countries == ("Asia", "Rest")
    np.testing.assert_allclose(from_grouping.Z[:26, :26], from_csv.Z[:26, :26], rtol=1e-14)


def test_bad_concordances_are_named(tmp_path):
    world = mf.datasets.synthetic(2013, seed=1, n_countries=3)
    with pytest.raises(LabelError, match=r"names 1 region\(s\) the table does not have: XXX"):
        mf.aggregate(world, regions={"XXX": "A", **{c: "A" for c in world.countries}})
    with pytest.raises(LabelError, match=r"leaves out 2 of the table's regions: .*other="):
        mf.aggregate(world, regions={world.countries[0]: "A"})
    with pytest.raises(OptionError, match=r"shares for .* sum to 0\.9, not 1"):
        mf.aggregate(world, sectors={s: {"a": 0.5, "b": 0.4} for s in world.sectors})
    bad = tmp_path / "bad.csv"
    bad.write_text("from,to,share\nA,B,x\n", encoding="utf-8")
    with pytest.raises(ReaderError, match=r"bad\.csv: row 2 \('A' -> 'B'\) has share 'x'"):
        mf.aggregate(world, regions=bad)
    none = tmp_path / "none.csv"
    none.write_text("country,group\nA,B\n", encoding="utf-8")
    with pytest.raises(ReaderError, match=r"none\.csv: a concordance needs a column named one of"):
        mf.aggregate(world, regions=none)
