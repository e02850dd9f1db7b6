"""A table unpickled from out-of-band buffers (pickle protocol 5, as Dask sends it) is not
overwritten by its factorisation (issue 19: a Dask worker's table became I - A and its LU, and a
copy of it sent on to another worker gave wrong samples)."""

from __future__ import annotations

import pickle

import numpy as np

import mrioflow as mf


def _as_dask_sends(obj):
    buffers: list = []
    data = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    return pickle.loads(data, buffers=[b.raw() for b in buffers])


def test_factoring_an_unpickled_table_leaves_it_intact():
    world = mf.datasets.synthetic(year=2013, seed=1, n_countries=5)
    there = _as_dask_sends(world)
    assert np.array_equal(there.Z, world.Z)
    eng = mf.Engine("numpy")
    W = eng.prepare(there).W  # the LU of (I - A) and the multipliers, as an ensemble prepares them
    assert np.all(np.isfinite(W))
    ref = eng.run(world, sector_flows=False)
    res = eng.run(there, sector_flows=False)
    np.testing.assert_array_equal(there.Z, world.Z)
    np.testing.assert_array_equal(res.E, ref.E)
    # and a copy of the used table, sent on again, gives the same results
    np.testing.assert_array_equal(eng.run(_as_dask_sends(there), sector_flows=False).E, ref.E)
