"""The engine end to end: backends agree, identities hold, results are labelled."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mrioflow as mf
from mrioflow.engine.backend import ArrayApiStrictBackend


@pytest.fixture(scope="module")
def world():
    return mf.datasets.synthetic(year=2013, seed=3, n_countries=9)


@pytest.fixture(scope="module")
def reference(world):
    return mf.Engine("numpy").run(world, keep_L=True)


@pytest.mark.parametrize("device", ["CPU_DEVICE", "device1"])
def test_array_api_strict_matches_numpy(world, reference, device):
    res = mf.Engine(ArrayApiStrictBackend(device=device)).run(world, keep_L=True)
    for name in ("E", "M", "F_Y", "x", "E_sector", "E_fd_sector", "L"):
        np.testing.assert_allclose(
            getattr(res, name),
            getattr(reference, name),
            rtol=1e-12,
            atol=1e-12 * np.abs(getattr(reference, name)).max(),
            err_msg=name,
        )


def test_global_balance(reference):
    """sum_r PBA_r = sum_s CBA_s, and PBA without direct emissions equals F."""
    for stressor in reference.stressors:
        acc = reference.accounts(stressor)
        assert acc["pba"].sum() == pytest.approx(acc["cba"].sum(), rel=1e-12)
        k = reference.stressors.index(stressor)
        pba_no_direct = reference.accounts(stressor, direct=False)["pba"].to_numpy()
        by_country = reference.F[k].reshape(reference.mrio.n_countries, -1).sum(axis=1)
        np.testing.assert_allclose(pba_no_direct, by_country, rtol=1e-11)


def test_leontief_times_system_is_identity(world, reference):
    A = world.Z / world.x
    np.testing.assert_allclose(reference.L @ (np.eye(world.n) - A), np.eye(world.n), atol=1e-12)


def test_labelled_tables(reference, world):
    flows = reference.flows("CH4")
    assert flows.shape == (9, 9)
    assert list(flows.index) == list(world.countries) and flows.index.name == "producing country"
    assert flows.attrs["unit"] == "Gg" and flows.attrs["synthetic"] is True
    acc = reference.accounts("VA")
    assert list(acc.columns) == ["pba", "cba", "imports", "exports", "net"]
    np.testing.assert_allclose(acc["net"], acc["pba"] - acc["cba"])
    net = reference.net_flows("CH4")
    np.testing.assert_allclose(net.to_numpy(), -net.to_numpy().T)
    sec = reference.sector_flows("CH4")
    assert isinstance(sec.index, pd.MultiIndex) and sec.shape == (world.n, 9)
    mult = reference.multipliers()
    assert list(mult.index) == ["CH4", "VA"]
    everything = reference.all_accounts()
    np.testing.assert_allclose(everything.loc[("CH4", "cba")].to_numpy(), reference.accounts("CH4")["cba"].to_numpy())


def test_value_added_multipliers_are_one(reference):
    """With VA = x - Z'1, value added per unit of final demand is exactly 1 (v L = 1')."""
    np.testing.assert_allclose(reference.multipliers().loc["VA"].to_numpy(), 1.0, rtol=1e-10)


def test_stressor_subset_and_float32(world, reference):
    res = mf.Engine("numpy", dtype="float32").run(world, stressors=["CH4"], sector_flows=False)
    assert res.stressors == ("CH4",)
    assert res.E.dtype == np.float32
    np.testing.assert_allclose(res.E[0], reference.E[0], rtol=2e-3, atol=1e-6 * reference.E[0].max())


def test_factorisation_is_reused_for_many_right_hand_sides(world):
    """Engine.factor returns one LU; several final-demand vectors reuse it."""
    eng = mf.Engine("numpy")
    system = eng.factor(world)
    Y1 = world.Y.sum(axis=1, keepdims=True)
    x = system.output(Y1)
    np.testing.assert_allclose(x[:, 0], world.x, rtol=1e-10)
    doubled = system.output(2 * Y1)
    np.testing.assert_allclose(doubled, 2 * x, rtol=1e-12)


def test_auto_backend_says_what_it_picked():
    eng = mf.Engine("auto")
    assert eng.backend.name in ("numpy", "cupy")
    assert eng.backend.reason.startswith("auto:") and eng.backend.name in eng.backend.reason


@pytest.mark.parametrize("backend", ["numpy", "array_api_strict"])
def test_run_leaves_the_table_untouched(backend):
    """The engine factors in place, but never in the caller's arrays."""
    world = mf.datasets.synthetic(year=2013, seed=4, n_countries=5)
    before = {name: getattr(world, name).copy() for name in ("Z", "Y", "F", "F_Y")}
    mf.Engine(backend).run(world)
    for name, array in before.items():
        np.testing.assert_array_equal(getattr(world, name), array, err_msg=name)


def test_prepared_table_reuses_one_factorisation(world, reference):
    """Engine.prepare: X = L Yr, M = S L and E = W Yr (W = split(S) L) against the explicit L."""
    table = mf.Engine("numpy").prepare(world)
    L, R = reference.L, world.n_countries
    Yr = world.Y.reshape(world.n, R, -1).sum(axis=2)
    np.testing.assert_allclose(table.X, L @ Yr, rtol=1e-10)
    np.testing.assert_allclose(table.M, reference.M, rtol=1e-10)
    E_by_W = (table.W @ Yr).reshape(len(world.stressors), R, R)
    np.testing.assert_allclose(E_by_W, reference.E, rtol=1e-9, atol=1e-9 * np.abs(reference.E).max())
    np.testing.assert_allclose(table.flows(), reference.E, rtol=1e-12)
    assert table.system is table.system  # factored once


def test_results_carry_their_backend(world):
    b = ArrayApiStrictBackend(device="device1")
    res = mf.Engine(b).run(world, sector_flows=False)
    assert res.backend is b
    assert str(b) == "array_api_strict (array-api-strict array_api_strict.Device('device1'))"
    assert res.stressor_index("VA") == world.stressors.index("VA")
    with pytest.raises(mf.errors.LabelError, match="NOPE"):
        res.stressor_index("NOPE")
    with pytest.raises(mf.errors.OptionError, match="dtype 'float32' disagrees with the backend's dtype 'float64'"):
        mf.Engine(b, dtype="float32")


def test_indices_compute_on_the_results_backend(world, monkeypatch):
    """mf.indices.bmi/gmi default to the device the results were computed on."""
    from mrioflow.kernels import indices as KI

    devices = []
    for name in ("calc_bmi", "calc_gmi"):
        original = getattr(KI, name)
        monkeypatch.setattr(KI, name, lambda E, V, _f=original, **kw: devices.append(E.device) or _f(E, V, **kw))
    groups = {c: "all" for c in world.countries}
    b = ArrayApiStrictBackend(device="device1")
    res = mf.Engine(b).run(world, sector_flows=False)
    bmi = mf.indices.bmi(res, "CH4", groups)
    gmi = mf.indices.gmi(res, "CH4", groups)
    assert devices == [b.device, b.device]
    assert bmi.attrs["backend"] == gmi.attrs["backend"] == "array_api_strict"
    assert mf.indices.bmi(mf.Engine("numpy").run(world), "CH4", groups).attrs["backend"] == "numpy"


def test_sector_flows_of_a_large_extension_only_when_asked(world, monkeypatch):
    """Two k x n x R arrays per run: by default only when they fit in SECTOR_FLOWS_BYTES (issue 15:
    EXIOBASE's 1,200 stressors would take 9 GB)."""
    from mrioflow.engine import engine as engine_module

    default = mf.Engine("numpy").run(world)
    assert default.E_sector is not None  # two stressors: small
    monkeypatch.setattr(engine_module, "SECTOR_FLOWS_BYTES", 1)
    res = mf.Engine("numpy").run(world)
    assert res.E_sector is None and res.E_fd_sector is None
    with pytest.raises(mf.errors.LabelError, match="sector_flows=True .* at most 1 GiB"):
        res.sector_flows("CH4")
    asked = mf.Engine("numpy").run(world, sector_flows=True)
    np.testing.assert_array_equal(asked.E_sector, default.E_sector)
