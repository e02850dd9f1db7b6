"""The CuPy backend on a real GPU: same results as NumPy, errors raised the same way.

Runs only where CuPy can use a GPU; elsewhere every test here is skipped and says why.
"""

from __future__ import annotations

import numpy as np
import pytest

import mrioflow as mf
from mrioflow.engine.backend import cupy_usable
from mrioflow.errors import NonProductiveError, SingularSystemError

_OK, _WHY = cupy_usable()
pytestmark = pytest.mark.skipif(not _OK, reason=f"no GPU for the cupy backend: {_WHY}")


@pytest.fixture(scope="module")
def world():
    return mf.datasets.synthetic(year=2013, seed=5, n_countries=40)


def test_cupy_matches_numpy(world):
    ref = mf.Engine("numpy").run(world)
    res = mf.Engine("cupy").run(world)
    assert res.backend.name == "cupy" and res.backend.rng_family == "cupy"
    for name in ("E", "M", "F_Y", "x", "E_sector", "E_fd_sector"):
        np.testing.assert_allclose(
            getattr(res, name),
            getattr(ref, name),
            rtol=1e-10,
            atol=1e-12 * np.abs(getattr(ref, name)).max(),
            err_msg=name,
        )


def test_cupy_float32(world):
    ref = mf.Engine("numpy").run(world, sector_flows=False)
    res = mf.Engine("cupy", dtype="float32").run(world, sector_flows=False)
    np.testing.assert_allclose(res.E, ref.E, rtol=5e-3, atol=1e-5 * np.abs(ref.E).max())


def test_cupy_pymrio_agreement():
    pymrio = pytest.importorskip("pymrio")
    io = pymrio.load_test()
    io.calc_all()
    res = mf.Engine("cupy").run(mf.io.from_pymrio(io))
    label = io.emissions.F.index[0]
    acc = res.accounts(" - ".join(label))
    np.testing.assert_allclose(
        acc["cba"].to_numpy(), io.emissions.D_cba_reg.loc[label].to_numpy(dtype=float), rtol=1e-10
    )


def _two_sector(Z, Y):
    return mf.MRIO(
        Z=Z,
        Y=Y,
        F=np.ones((1, 2)),
        F_Y=np.zeros((1, 2)),
        countries=["a", "b"],
        sectors=["s"],
        fd_categories=["hh"],
        stressors=["CH4"],
        units=["Gg"],
    )


def test_cupy_singular_raises_not_nan():
    with pytest.raises(SingularSystemError):
        mf.Engine("cupy").run(_two_sector(np.array([[0.0, 10.0], [10.0, 0.0]]), np.zeros((2, 2))))


def test_cupy_non_productive_raises():
    Z = np.array([[0.0, 10.0], [10.0, 0.0]])
    with pytest.raises(NonProductiveError):
        mf.Engine("cupy").run(_two_sector(Z, np.array([[0.0, 0.0], [0.0, -5.0]])))


def test_cupy_ensemble_samples_fixed_by_the_seed(world):
    """CuPy draws from its own generator, one stream per sample like NumPy: the batch size
    changes no sample, and a float32 CuPy backend object keeps its dtype in the workers."""
    kw = dict(samples=6, perturb={"intensities": 0.3, "final_demand": 0.1}, seed=3, progress=False)
    a = mf.montecarlo(world, backend="cupy", batch_size=1, **kw)
    b = mf.montecarlo(world, backend="cupy", batch_size=4, **kw)
    for name in ("pba", "cba", "net"):
        np.testing.assert_allclose(b.accounts[name], a.accounts[name], rtol=1e-12)
    f32 = mf.engine.get_backend("cupy", "float32")
    res = mf.montecarlo(world, backend=f32, scheduler="threads", workers=1, **kw)
    assert res.nominal.backend is f32 and res.nominal.E.dtype == np.float32
