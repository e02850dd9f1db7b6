"""Monte Carlo ensembles: statistics, invariants, reproducibility, resuming, errors."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

import mrioflow as mf
from mrioflow.engine import ArrayApiStrictBackend
from mrioflow.ensembles import ensemble as mc_module
from mrioflow.errors import DependencyError, LabelError, OptionError, ShapeError, StoreError


@pytest.fixture(scope="module")
def world():
    return mf.datasets.synthetic(year=2013, seed=2, n_countries=8)


def _by_country(world, k):
    return world.F[k].reshape(world.n_countries, -1).sum(axis=1)


def test_intensity_mean_matches_lognormal_expectation(world):
    """E is linear in S, and E[exp(sigma eps)] = exp(sigma^2 / 2), so the ensemble
    mean of E is the nominal E times exp(sigma^2 / 2), within sampling error."""
    rsd = 0.3
    res = mf.montecarlo(world, samples=400, perturb={"intensities": rsd}, seed=1, backend="numpy", progress=False)
    sigma2 = np.log1p(rsd**2)
    expected = res.nominal.E * np.exp(sigma2 / 2)
    # standard error of the mean of one entry: nominal * sqrt(exp(2s2) - exp(s2)) / sqrt(N),
    # but E[r, s] sums several independent sectors, so this bound is conservative
    se = np.abs(res.nominal.E) * np.sqrt(np.exp(2 * sigma2) - np.exp(sigma2)) / np.sqrt(400)
    mask = np.abs(res.nominal.E) > 0
    assert np.all(np.abs(res.flows_mean - expected)[mask] <= 5 * se[mask])
    # the spread is there and of the right order: relative std of a single sector's lognormal
    # is rsd, and a sum of several sectors has a smaller relative spread
    rel = res.flows_std[mask] / res.flows_mean[mask]
    assert 0.02 < np.median(rel) < rsd * 1.2


def test_moments_match_samples(world):
    """Batch-wise reduced moments equal moments of the kept account samples."""
    res = mf.montecarlo(
        world, samples=50, perturb={"intensities": 0.2}, seed=3, backend="numpy", batch_size=7, progress=False
    )
    cba_from_flows = res.flows_mean.sum(axis=1) + res.nominal.F_Y  # mean over samples of column sums
    np.testing.assert_allclose(cba_from_flows, res.accounts["cba"].mean(axis=0), rtol=1e-10)


def test_zero_rsd_reproduces_the_nominal_run(world):
    res = mf.montecarlo(
        world,
        samples=3,
        perturb={"intensities": 0.0, "final_demand": 0.0, "Z": 0.0, "direct": 0.0},
        backend="numpy",
        progress=False,
    )
    for name in ("pba", "cba", "imports", "exports"):
        for k, s in enumerate(world.stressors):
            np.testing.assert_allclose(
                res.accounts[name][:, k], np.broadcast_to(res.nominal.accounts(s)[name].to_numpy(), (3, 8)), rtol=1e-10
            )


def test_perturbed_transactions_keep_the_table_balanced(world):
    """With Z perturbed, x, A and S are recomputed per sample: production-based
    emissions (without direct ones) stay exactly F, and sum PBA = sum CBA."""
    res = mf.montecarlo(world, samples=6, perturb={"Z": 0.2}, seed=5, backend="numpy", progress=False)
    k = world.stressors.index("CH4")
    pba_no_direct = res.accounts["pba"][:, k] - res.nominal.F_Y[k]
    np.testing.assert_allclose(pba_no_direct, np.broadcast_to(_by_country(world, k), (6, 8)), rtol=1e-9)
    np.testing.assert_allclose(res.accounts["pba"].sum(axis=2), res.accounts["cba"].sum(axis=2), rtol=1e-10)
    # while consumption-based accounts do move
    assert np.std(res.accounts["cba"][:, k], axis=0).min() > 0


def test_final_demand_shock_scales_with_demand(world):
    """A and S fixed: world PBA per sample = sum over sectors of M * perturbed y."""
    res = mf.montecarlo(world, samples=5, perturb={"final_demand": 0.1}, seed=8, backend="numpy", progress=False)
    np.testing.assert_allclose(res.accounts["pba"].sum(axis=2), res.accounts["cba"].sum(axis=2), rtol=1e-10)
    assert not np.allclose(res.accounts["pba"][0], res.accounts["pba"][1])


def test_final_demand_by_W_equals_the_solve_per_batch(world, monkeypatch):
    kw = dict(
        samples=7, perturb={"final_demand": 0.3, "direct": 0.2}, seed=3, batch_size=3, backend="numpy", progress=False
    )
    by_w = mf.montecarlo(world, **kw)
    monkeypatch.setattr(mc_module, "_W_SHARE", 0.0)  # W never small enough: a solve per batch
    by_solve = mf.montecarlo(world, **kw)
    for name in mc_module.ACCOUNTS:
        np.testing.assert_allclose(by_w.accounts[name], by_solve.accounts[name], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(by_w.flows_mean, by_solve.flows_mean, rtol=1e-10)
    np.testing.assert_allclose(by_w.flows_std, by_solve.flows_std, rtol=1e-8)
    assert np.std(by_w.accounts["cba"], axis=0).min() > 0


def test_z_samples_built_from_cells_equal_the_generic_construction(world, monkeypatch):
    """NumPy builds a Z sample's I - A from Z's cells a block of rows at a time; the
    generic backend code (scatter, row sums, scale) gives the same samples."""
    kw = dict(samples=3, perturb={"Z": 0.3, "final_demand": 0.2}, seed=8, backend="numpy", progress=False)
    fast = mf.montecarlo(world, **kw)
    monkeypatch.setattr(mf.engine.backend.NumpyBackend, "eye_minus_cells", mf.engine.backend.Backend.eye_minus_cells)
    generic = mf.montecarlo(world, **kw)
    for name in mc_module.ACCOUNTS:
        np.testing.assert_allclose(fast.accounts[name], generic.accounts[name], rtol=1e-12, atol=1e-9)


def test_z_samples_of_a_table_with_negative_cells(world):
    """Negative cells (e.g. subsidies) keep their sign in every sample; such a table's
    samples are checked by A's spectral radius and stay balanced."""
    Z = world.Z.copy()
    Z[0, 1] = -0.01 * Z[0, 1]
    signed = world.replace(Z=Z)
    res = mf.montecarlo(signed, samples=3, perturb={"Z": 0.2}, seed=5, backend="numpy", progress=False)
    np.testing.assert_allclose(res.accounts["pba"].sum(axis=2), res.accounts["cba"].sum(axis=2), rtol=1e-10)
    strict = mf.montecarlo(signed, samples=3, perturb={"Z": 0.2}, seed=5, backend="array_api_strict", progress=False)
    np.testing.assert_allclose(strict.accounts["cba"], res.accounts["cba"], rtol=1e-11)


@pytest.mark.parametrize("perturb", [{"final_demand": 0.5, "direct": 0.5}, {"Z": 0.3, "intensities": 0.5}])
def test_float32_factors_agree_with_float64_factors_of_the_same_normals(world, perturb, monkeypatch):
    """exp(sigma z) is computed in float32 (the normals' dtype): against the same normals
    transformed in float64 every account moves by a few float32 roundings, no more."""
    kw = dict(samples=6, perturb=perturb, seed=5, batch_size=4, backend="numpy", progress=False)
    f32 = mf.montecarlo(world, **kw)
    monkeypatch.setattr(mf.engine.backend.Backend, "normal_dtype", property(lambda self: self.xp.float64))
    f64 = mf.montecarlo(world, **kw)
    for name in ("pba", "cba", "imports", "exports"):
        np.testing.assert_allclose(f32.accounts[name], f64.accounts[name], rtol=1e-6)
        assert not np.array_equal(f32.accounts[name], f64.accounts[name])  # the dtypes did differ
    net = np.abs(f64.accounts["cba"]) + np.abs(f64.accounts["pba"])
    assert np.all(np.abs(f32.accounts["net"] - f64.accounts["net"]) <= 1e-6 * net)


@pytest.mark.parametrize("perturb", [{"intensities": 0.3, "direct": 0.5}, {"final_demand": 0.2}, {"Z": 0.1}])
def test_array_api_strict_gives_identical_samples(world, perturb):
    kw = dict(samples=4, perturb=perturb, seed=11, batch_size=3, progress=False)
    a = mf.montecarlo(world, backend="numpy", **kw)
    b = mf.montecarlo(world, backend="array_api_strict", **kw)
    for name in mc_module.ACCOUNTS:
        np.testing.assert_allclose(b.accounts[name], a.accounts[name], rtol=1e-11, atol=1e-9)
    np.testing.assert_allclose(b.flows_std, a.flows_std, rtol=1e-9, atol=1e-9)


def test_reproducible_and_independent_of_scheduler(world):
    kw = dict(samples=10, perturb={"intensities": 0.3}, seed=4, backend="numpy", batch_size=3, progress=False)
    a = mf.montecarlo(world, **kw)
    b = mf.montecarlo(world, **kw)
    c = mf.montecarlo(world, scheduler="threads", **kw)
    for name in mc_module.ACCOUNTS:
        np.testing.assert_array_equal(a.accounts[name], b.accounts[name])
        np.testing.assert_allclose(c.accounts[name], a.accounts[name], rtol=1e-14)
    other = mf.montecarlo(world, **{**kw, "seed": 5})
    assert not np.allclose(other.accounts["cba"], a.accounts["cba"])


def test_resume_computes_only_missing_batches(world, tmp_path, monkeypatch):
    kw = dict(
        samples=9, perturb={"intensities": 0.3}, seed=2, backend="numpy", batch_size=3, out_dir=tmp_path, progress=False
    )
    first = mf.montecarlo(world, **kw)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["batch_000000.npz", "batch_000001.npz", "batch_000002.npz", "manifest.json"]
    (tmp_path / "batch_000001.npz").unlink()
    (tmp_path / "batch_000002.npz").write_bytes(b"truncated")  # a damaged batch is recomputed

    calls = []
    original = mc_module._BatchRunner.__call__
    monkeypatch.setattr(mc_module._BatchRunner, "__call__", lambda self, i: calls.append(i) or original(self, i))
    second = mf.montecarlo(world, **kw)
    assert calls == [1, 2]
    np.testing.assert_array_equal(second.accounts["cba"], first.accounts["cba"])
    from mrioflow._files import leftover_temporaries

    assert leftover_temporaries(tmp_path) == []

    with pytest.raises(StoreError, match="holds a Monte Carlo ensemble whose seed differs"):
        mf.montecarlo(world, **{**kw, "seed": 3})


def test_summary_and_probability(world):
    res = mf.montecarlo(world, samples=30, perturb={"intensities": 1e-9}, seed=0, backend="numpy", progress=False)
    summary = res.summary("CH4", "cba")
    assert list(summary.columns) == ["nominal", "mean", "std", "q05", "q50", "q95"]
    np.testing.assert_allclose(summary["mean"], summary["nominal"], rtol=1e-6)
    # with a negligible spread, P(net < 0) is 1 exactly where the nominal net is negative
    p = res.probability("CH4", "net")
    np.testing.assert_array_equal(p.to_numpy(), (res.nominal.accounts("CH4")["net"] < 0).to_numpy().astype(float))
    assert res.flows("CH4", "std").shape == (8, 8)


def test_per_sector_rsd(world):
    rsd = np.zeros(world.n_sectors)
    rsd[0] = 0.5  # only agriculture is uncertain
    sig = mc_module._expand_rsd("intensities", rsd, world)
    assert sig.shape == world.F.shape
    assert np.all(sig[:, 0 :: world.n_sectors] > 0) and np.count_nonzero(sig) == world.F.shape[0] * world.n_countries


def test_per_sector_rsd_by_name(world):
    rsd = np.linspace(0.0, 0.5, world.n_sectors)
    by_name = pd.Series(rsd[::-1], index=world.sectors[::-1])  # any order
    np.testing.assert_array_equal(mc_module._expand_rsd("Z", by_name, world), mc_module._expand_rsd("Z", rsd, world))
    wrong = by_name.rename(index={world.sectors[0]: "Agricultur"})
    with pytest.raises(LabelError, match=r"each of the \d+ sectors once \(unknown: 'Agricultur'; missing: '"):
        mf.montecarlo(world, samples=2, perturb={"intensities": wrong}, backend="numpy")
    with pytest.raises(LabelError, match=r"repeated: "):
        mf.montecarlo(
            world, samples=2, perturb={"intensities": pd.concat([by_name, by_name.iloc[:1]])}, backend="numpy"
        )
    text = by_name.astype(object)
    text.iloc[2] = "high"
    with pytest.raises(OptionError, match=r"rsd for 'intensities': sector .* has value 'high', not a number"):
        mf.montecarlo(world, samples=2, perturb={"intensities": text}, backend="numpy")


def test_errors(world):
    with pytest.raises(OptionError, match=r"unknown perturbation target\(s\) \['A'\]"):
        mf.montecarlo(world, samples=2, perturb={"A": 0.1}, backend="numpy")
    with pytest.raises(ShapeError, match=r"rsd for 'intensities' must be .* got shape \(3,\)"):
        mf.montecarlo(world, samples=2, perturb={"intensities": [0.1, 0.2, 0.3]}, backend="numpy")
    with pytest.raises(OptionError, match="finite and >= 0"):
        mf.montecarlo(world, samples=2, perturb={"Z": -0.1}, backend="numpy")
    with pytest.raises(OptionError, match="samples must be an integer >= 1, got 0"):
        mf.montecarlo(world, samples=0, backend="numpy")
    with pytest.raises(OptionError, match="seed must be an integer >= 0, got 'abc'"):
        mf.montecarlo(world, samples=2, seed="abc", backend="numpy")
    with pytest.raises(OptionError, match="seed must be an integer >= 0, got -1"):
        mf.montecarlo(world, samples=2, seed=-1, backend="numpy")
    with pytest.raises(OptionError, match="batch_size must be an integer >= 1, got 2.5"):
        mf.montecarlo(world, samples=2, batch_size=2.5, backend="numpy")
    with pytest.raises(
        OptionError,
        match=r"scheduler must be None, one of \('sync', 'synchronous', 'threads', "
        r"'processes'\), a Dask scheduler address .* got 'process'",
    ):
        mf.montecarlo(world, samples=2, scheduler="process", backend="numpy")
    with pytest.raises(OptionError, match="dtype 'float32' disagrees with the backend's dtype 'float64'"):
        mf.montecarlo(world, samples=2, backend=ArrayApiStrictBackend(), dtype="float32")


@pytest.fixture(scope="module")
def bri_world():
    return mf.datasets.synthetic(year=2021, seed=1, countries=list(mf.regions.bri().countries) + ["USA", "ROW"])


def test_indices_per_sample(bri_world):
    opts = {"convention": "victim_row", "norm_set": "scope"}
    res = mf.montecarlo(
        bri_world,
        samples=12,
        perturb={"intensities": 0.3},
        seed=2,
        backend="numpy",
        batch_size=5,
        progress=False,
        indices=opts,
    )
    groups = mf.regions.bri()
    nominal = res.nominal
    # the nominal indices are those of the labelled API on the unperturbed run
    gmi = res.gmi_summary("region")
    np.testing.assert_allclose(
        gmi["nominal"].to_numpy(), mf.indices.gmi(nominal, "CH4", groups, norm_set="scope").to_numpy(), rtol=1e-12
    )
    np.testing.assert_allclose(
        res.bmi_summary("nominal").to_numpy(), mf.indices.bmi(nominal, "CH4", groups, **opts).to_numpy(), rtol=1e-12
    )
    # every sample obeys the index ranges; regions are sums of their members
    assert res.gmi.shape == (12, bri_world.n_countries) and res.bmi_region.shape == (12, 9, 9)
    assert np.all(np.abs(res.gmi) <= 3) and np.all(res.bmi_region >= 0)
    country = res.gmi_summary("country")
    assert list(country.index) == [c for c in bri_world.countries if c in set(groups.countries)]
    assert ((country["P(GMI < 0)"] >= 0) & (country["P(GMI < 0)"] <= 1)).all()
    assert res.bmi_summary("q95").shape == (9, 9)
    # the samples really differ
    assert np.std(res.gmi, axis=0).max() > 0


def test_indices_without_spread_equal_the_nominal(bri_world):
    res = mf.montecarlo(
        bri_world, samples=4, perturb={"intensities": 1e-12}, backend="numpy", progress=False, indices={}
    )
    np.testing.assert_allclose(res.gmi, np.broadcast_to(res.nominal_gmi, res.gmi.shape), atol=1e-9)
    s = res.gmi_summary("country")
    np.testing.assert_array_equal(s["P(GMI < 0)"].to_numpy(), (s["nominal"] < 0).to_numpy().astype(float))


@pytest.mark.parametrize("backend", ["numpy", "array_api_strict"])
def test_every_index_option_of_mf_indices_applies_to_the_ensembles(bri_world, backend):
    """The ensembles compute their indices through mf.indices's spec: every option of
    mf.indices.OPTIONS, the robust quantiles included, gives each sample what the labelled
    API gives on that sample's run (with no spread, the nominal run)."""
    opts = {"norm_quantiles": (0.05, 0.95), "norm_set": "scope", "convention": "beneficiary_row", "norm_sign": "abs"}
    assert set(mf.indices.OPTIONS) >= set(opts)
    res = mf.montecarlo(
        bri_world, samples=3, perturb={"intensities": 0.0}, backend=backend, progress=False, indices=opts
    )
    groups, nominal = mf.regions.bri(), res.nominal
    gmi_opts = {k: v for k, v in opts.items() if k != "convention"}
    gmi = mf.indices.gmi(nominal, "CH4", groups, level="country", **gmi_opts)
    bmi = mf.indices.bmi(nominal, "CH4", groups, **opts)
    pos = [bri_world.countries.index(c) for c in gmi.index]
    for sample in range(3):
        np.testing.assert_allclose(res.gmi[sample, pos], gmi.to_numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(res.bmi_region[sample], bmi.to_numpy(), rtol=1e-12, atol=1e-14)
    # and the robust option changed the numbers (it was not ignored)
    literal = mf.indices.bmi(nominal, "CH4", groups, **{**opts, "norm_quantiles": (0, 1)})
    assert np.abs(literal.to_numpy() - bmi.to_numpy()).max() > 1e-3


def test_indices_identical_on_array_api_strict(bri_world):
    kw = dict(samples=3, perturb={"final_demand": 0.2}, seed=6, progress=False, indices={"norm_sign": "abs"})
    a = mf.montecarlo(bri_world, backend="numpy", **kw)
    b = mf.montecarlo(bri_world, backend="array_api_strict", **kw)
    np.testing.assert_allclose(b.gmi, a.gmi, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.bmi_region, a.bmi_region, rtol=1e-10, atol=1e-12)


def test_index_option_errors(world, bri_world):
    from mrioflow.errors import LabelError

    with pytest.raises(OptionError, match=r"unknown indices option\(s\) \['level'\]"):
        mf.montecarlo(bri_world, samples=2, backend="numpy", indices={"level": "country"})
    with pytest.raises(OptionError, match="convention must be one of"):
        mf.montecarlo(bri_world, samples=2, backend="numpy", indices={"convention": "upside_down"})
    with pytest.raises(LabelError, match="countries not in the table"):
        mf.montecarlo(world, samples=2, backend="numpy", indices={})
    res = mf.montecarlo(world, samples=2, backend="numpy", progress=False)
    with pytest.raises(LabelError, match="indices were not computed"):
        res.gmi_summary()


def test_to_xarray_labels_the_samples_the_summaries_are_taken_from(bri_world):
    """The Dataset's dims, coords and values are those of the pandas summaries."""
    res = mf.montecarlo(
        bri_world, samples=6, perturb={"intensities": 0.3}, seed=5, backend="numpy", progress=False, indices={}
    )
    ds = res.to_xarray()
    R, k = bri_world.n_countries, len(bri_world.stressors)
    assert dict(ds.sizes) == {"sample": 6, "account": 5, "stressor": k, "country": R, "region": 9, "partner region": 9}
    assert ds["accounts"].dims == ("sample", "account", "stressor", "country")
    assert ds["gmi"].dims == ("sample", "country") and ds["bmi_region"].dims == ("sample", "region", "partner region")
    assert list(ds["country"].values) == list(bri_world.countries)
    assert list(ds["region"].values) == list(mf.regions.bri().groups)
    for account in mc_module.ACCOUNTS:
        pd.testing.assert_frame_equal(
            ds["accounts"].sel(stressor="VA", account=account).to_pandas(), res.sample_table("VA", account)
        )
    cba, summary = ds["accounts"].sel(stressor="CH4", account="cba"), res.summary("CH4", "cba")
    np.testing.assert_allclose(cba.mean("sample"), summary["mean"], rtol=1e-12)
    np.testing.assert_allclose(cba.quantile(0.95, "sample"), summary["q95"], rtol=1e-12)
    country = res.gmi_summary("country")
    np.testing.assert_allclose(ds["gmi"].sel(country=list(country.index)).std("sample", ddof=1), country["std"])
    q05 = ds["bmi_region"].quantile(0.05, "sample").drop_vars("quantile").to_pandas()
    pd.testing.assert_frame_equal(q05, res.bmi_summary("q05"))


def test_to_xarray_without_indices_or_without_xarray(world, monkeypatch):
    res = mf.montecarlo(world, samples=2, backend="numpy", progress=False)
    assert set(res.to_xarray().data_vars) == {"accounts"}
    monkeypatch.setitem(sys.modules, "xarray", None)  # as if not installed
    with pytest.raises(DependencyError, match=r"to_xarray needs the optional package xarray: pip install xarray"):
        res.to_xarray()
