"""Same seed, same samples (any batch size, scheduler, resume point); what a result folder
fingerprints and refuses; resource limits; Backend objects reaching the workers."""

from __future__ import annotations

import errno
import json
import pickle

import numpy as np
import pytest

import mrioflow as mf
from mrioflow.engine import ArrayApiStrictBackend, NumpyBackend
from mrioflow.ensembles import ensemble as mc_module
from mrioflow.errors import OptionError, StoreError


@pytest.fixture(scope="module")
def world():
    return mf.datasets.synthetic(year=2013, seed=2, n_countries=6)


def _same(a, b):
    for name in mc_module.ACCOUNTS:
        np.testing.assert_array_equal(a.accounts[name], b.accounts[name])


@pytest.mark.parametrize(
    "perturb",
    [
        {"intensities": 0.3, "direct": 0.2},
        {"final_demand": 0.2},  # E = W Yr
        {"final_demand": 0.2, "intensities": 0.1},  # one solve per batch
    ],
)
def test_same_seed_same_samples_whatever_the_batch_size(world, perturb):
    kw = dict(samples=64, perturb=perturb, seed=5, backend="numpy", progress=False)
    ref = mf.montecarlo(world, batch_size=64, **kw)
    for batch_size in (1, 7):
        other = mf.montecarlo(world, batch_size=batch_size, **kw)
        _same(other, ref)
        # moments combined batch by batch: equal to rounding (docs/reliability.md)
        np.testing.assert_allclose(other.flows_mean, ref.flows_mean, rtol=1e-13, atol=0)
        np.testing.assert_allclose(other.flows_std, ref.flows_std, rtol=1e-13, atol=1e-300)
    assert np.std(ref.accounts["cba"], axis=0).min() > 0


def test_normal_rows_are_standard_normal_and_block_independent():
    from scipy import stats

    from mrioflow.engine.backend import normal_rows

    z = normal_rows(np.random.default_rng(1), (1000, 1001)).astype(np.float64)  # odd rows: sin half cut
    assert z.shape == (1000, 1001) and np.all(np.isfinite(z))
    assert abs(z.mean()) < 5 / 1000 and abs(z.std() - 1) < 5e-3
    assert stats.kstest(z.ravel()[::7], "norm").pvalue > 1e-3
    assert abs(np.corrcoef(z[:, 0], z[:, 501])[0, 1]) < 0.15  # r cos and r sin of one pair: uncorrelated
    # the documented construction, recomputed in float64 from the same 64-bit words
    words = np.random.default_rng(3).bit_generator.random_raw(4 * 3).view(np.uint32).reshape(4, 2, 3)
    f = 1 + (words >> 9).astype(np.float64) / 2**23
    r, theta = np.sqrt(-2 * np.log(2 - f[:, 0])), 2 * np.pi * f[:, 1]
    expected = np.hstack([r * np.cos(theta), r * np.sin(theta)])[:, :5]
    np.testing.assert_allclose(normal_rows(np.random.default_rng(3), (4, 5)), expected, rtol=2e-6, atol=2e-6)
    whole = normal_rows(np.random.default_rng(2), (10, 7))
    rng = np.random.default_rng(2)
    np.testing.assert_array_equal(np.vstack([normal_rows(rng, (3, 7)), normal_rows(rng, (7, 7))]), whole)


def test_rows_drawn_in_parallel_runs_are_the_same_numbers():
    """split_rows jumps each run to its point of the stream: the runs give exactly the
    rows drawn in order, and the generator goes on after them as if it had drawn them."""
    from mrioflow.engine.backend import NumpyBackend, normal_rows

    b = NumpyBackend()
    in_order, split = b.rng(7), b.rng(7)
    whole = normal_rows(in_order, (11, 9))
    runs = b.split_rows(split, 11, 9, 3)
    assert [(first, last) for first, last, _ in runs] == [(0, 3), (3, 7), (7, 11)]
    np.testing.assert_array_equal(np.vstack([normal_rows(g, (last - first, 9)) for first, last, g in runs]), whole)
    np.testing.assert_array_equal(normal_rows(split, (2, 5)), normal_rows(in_order, (2, 5)))


@pytest.mark.parametrize("perturb", [{"final_demand": 0.2, "direct": 0.3}, {"Z": 0.1, "intensities": 0.2}])
def test_same_samples_whatever_the_draw_block(world, monkeypatch, perturb):
    """Factors are drawn and applied a block of rows at a time: the block size changes no sample."""
    kw = dict(samples=3, perturb=perturb, seed=7, backend="numpy", progress=False)
    ref = mf.montecarlo(world, **kw)
    for rows in (1, 5):
        monkeypatch.setattr(NumpyBackend, "draw_block_rows", lambda self, shape, rows=rows: rows)
        _same(mf.montecarlo(world, **kw), ref)


@pytest.mark.parametrize(
    "perturb",
    [{"final_demand": 0.2, "intensities": 0.1}, {"Z": 0.1, "final_demand": 0.2}],  # samples / one sample's rows
)
def test_drawing_threads_change_no_sample(world, monkeypatch, perturb):
    kw = dict(samples=5, perturb=perturb, seed=2, backend="numpy", progress=False)
    monkeypatch.setattr(mc_module, "_THREAD_DRAWS", 1 << 62)
    one = mf.montecarlo(world, **kw)
    monkeypatch.setattr(mc_module, "_THREAD_DRAWS", 0)
    monkeypatch.setattr(NumpyBackend, "draw_threads", property(lambda self: 3))
    assert mc_module.draw_threads(NumpyBackend(), world, kw["perturb"]) == 3
    _same(mf.montecarlo(world, **kw), one)


def test_same_seed_same_samples_with_fresh_lu(world):
    kw = dict(samples=4, perturb={"Z": 0.1, "direct": 0.3}, seed=9, backend="numpy", progress=False)
    _same(mf.montecarlo(world, batch_size=1, **kw), mf.montecarlo(world, batch_size=3, **kw))


def test_threads_and_processes_give_the_same_samples(world):
    kw = dict(samples=12, perturb={"intensities": 0.3}, seed=4, backend="numpy", batch_size=5, progress=False)
    here = mf.montecarlo(world, **kw)
    _same(mf.montecarlo(world, scheduler="threads", workers=2, **kw), here)
    _same(mf.montecarlo(world, scheduler="processes", workers=2, **kw), here)


def test_resumed_run_equals_an_uninterrupted_one(world, tmp_path, monkeypatch):
    kw = dict(
        samples=10,
        perturb={"intensities": 0.3, "final_demand": 0.1},
        seed=3,
        backend="numpy",
        batch_size=3,
        progress=False,
    )
    whole = mf.montecarlo(world, **kw)
    original = mc_module._BatchRunner.__call__

    def dies_at_batch_2(self, i):
        if i == 2:
            raise KeyboardInterrupt
        return original(self, i)

    monkeypatch.setattr(mc_module._BatchRunner, "__call__", dies_at_batch_2)
    with pytest.raises(KeyboardInterrupt):
        mf.montecarlo(world, out_dir=tmp_path, **kw)
    monkeypatch.setattr(mc_module._BatchRunner, "__call__", original)
    assert sorted(p.name for p in tmp_path.glob("batch_*")) == ["batch_000000.npz", "batch_000001.npz"]
    resumed = mf.montecarlo(world, out_dir=tmp_path, **kw)
    _same(resumed, whole)
    np.testing.assert_allclose(resumed.flows_mean, whole.flows_mean, rtol=1e-13)


def test_store_refuses_other_inputs_naming_them(world, tmp_path):
    kw = dict(samples=4, perturb={"intensities": 0.3}, seed=1, backend="numpy", batch_size=2, progress=False)
    mf.montecarlo(world, out_dir=tmp_path, **kw)
    other_world = mf.datasets.synthetic(year=2013, seed=3, n_countries=6)  # same shapes and labels
    with pytest.raises(StoreError, match="whose table differs from this run's"):
        mf.montecarlo(other_world, out_dir=tmp_path, **kw)
    with pytest.raises(StoreError, match="whose perturbation differs"):
        mf.montecarlo(world, out_dir=tmp_path, **{**kw, "perturb": {"intensities": 0.2}})
    with pytest.raises(StoreError, match="whose batch size, samples differ"):
        mf.montecarlo(world, out_dir=tmp_path, **{**kw, "samples": 5, "batch_size": 3})
    with pytest.raises(StoreError, match="whose dtype differs"):
        mf.montecarlo(world, out_dir=tmp_path, **{**kw, "dtype": "float32"})
    with pytest.raises(StoreError, match="whose indices differs"):
        mf.montecarlo(world, out_dir=tmp_path, **kw, indices={"groups": {c: "all" for c in world.countries}})


def test_store_refuses_another_random_number_family(world, tmp_path, monkeypatch):
    """NumPy and CuPy draw different numbers from one seed: a resume across them is refused."""
    kw = dict(samples=2, seed=1, backend="numpy", progress=False, out_dir=tmp_path)
    mf.montecarlo(world, **kw)
    monkeypatch.setattr(NumpyBackend, "rng_family", property(lambda self: "cupy"))
    with pytest.raises(StoreError, match="whose random numbers differs"):
        mf.montecarlo(world, **kw)


def test_store_refuses_another_backend(world, tmp_path):
    """NumPy and array-api-strict draw the same numbers but solve differently (their samples
    differ by about 1e-13): a resume across them is refused, not mixed."""
    kw = dict(samples=4, batch_size=2, seed=1, perturb={"final_demand": 0.2, "intensities": 0.1}, progress=False)
    strict = mf.montecarlo(world, backend="array_api_strict", **kw)
    mf.montecarlo(world, backend="numpy", out_dir=tmp_path, **kw)
    assert json.loads((tmp_path / "manifest.json").read_text())["backend"] == "numpy"
    (tmp_path / "batch_000001.npz").unlink()  # as if killed after the first batch
    with pytest.raises(StoreError, match="whose backend differs"):
        mf.montecarlo(world, backend="array_api_strict", out_dir=tmp_path, **kw)
    (tmp_path / "batch_000000.npz").unlink()
    with pytest.raises(StoreError, match="whose backend differs"):  # the folder, not its batches, decides
        mf.montecarlo(world, backend="array_api_strict", out_dir=tmp_path, **kw)
    _same(mf.montecarlo(world, backend="array_api_strict", out_dir=tmp_path / "strict", **kw), strict)


def test_store_folder_problems_are_one_line(world, tmp_path):
    kw = dict(samples=2, seed=1, backend="numpy", progress=False)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("mine")
    with pytest.raises(StoreError, match=r"foreign is not empty and has no manifest.json \(it holds thesis.tex\)"):
        mf.montecarlo(world, out_dir=foreign, **kw)
    assert [p.name for p in foreign.iterdir()] == ["thesis.tex"]

    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "manifest.json").write_bytes(b"\xff\x00{")
    with pytest.raises(StoreError, match=r"manifest.json: not a readable manifest \(UnicodeDecodeError") as err:
        mf.montecarlo(world, out_dir=corrupt, **kw)
    assert "\n" not in str(err.value)

    alien = tmp_path / "alien"
    alien.mkdir()
    (alien / "manifest.json").write_text(json.dumps([1, 2]))
    with pytest.raises(StoreError, match="not a manifest mrioflow wrote"):
        mf.montecarlo(world, out_dir=alien, **kw)

    swept = tmp_path / "swept"
    mf.sweep(
        [2013],
        backend="numpy",
        out_dir=swept,
        progress=False,
        loader=lambda y: mf.datasets.synthetic(year=y, n_countries=4),
    )
    with pytest.raises(StoreError, match="holds a sweep, not a Monte Carlo ensemble"):
        mf.montecarlo(world, out_dir=swept, **kw)


def test_disk_full_names_the_file(world, tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    mf.montecarlo(world, samples=2, seed=1, backend="numpy", progress=False, out_dir=tmp_path, batch_size=1)
    (tmp_path / "batch_000001.npz").unlink()
    monkeypatch.setattr(np, "savez", full)
    with pytest.raises(
        StoreError, match=r"cannot write \S+batch_000001.npz: No space left on device; nothing finished is lost"
    ):
        mf.montecarlo(world, samples=2, seed=1, backend="numpy", progress=False, out_dir=tmp_path, batch_size=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batch_000000.npz", "manifest.json"]


def test_work_and_time_are_estimated_before_and_after_the_first_batch(world, capsys):
    n, R, k = world.n, world.n_countries, world.F.shape[0]
    lu, nominal = 2 * n**3 / 3, 2 * n**3 / 3 + 2 * n * n * R + 2 * n * n * k
    need = mc_module.estimate(world, {"intensities": 0}, 10, 5, 8)
    assert need["flops"] == pytest.approx(lu + 2 * n * n * R + 10 * 2 * k * n * R + nominal)
    assert need["draws"] == 10 * world.F.size
    need = mc_module.estimate(world, {"Z": 0, "final_demand": 0}, 4, 1, 8)
    assert need["flops"] == pytest.approx(4 * (lu + 2 * n * n * R + 2 * k * n * R) + nominal)
    assert need["draws"] == 4 * (n * n + world.Y.size)

    mf.montecarlo(world, samples=6, batch_size=2, seed=1, backend="numpy", progress=True)
    err = capsys.readouterr().err
    before = err.index("Monte Carlo: 6 samples in 3 batches of 2; estimated")
    after = err.index("Monte Carlo: first batch")
    assert before < after and "GFLOP" in err[before:after] and "time estimated after the first batch" in err
    assert "estimated time left about" in err[after:] and "for 2 batches (1 at a time; an estimate" in err[after:]
    mf.montecarlo(world, samples=2, seed=1, backend="numpy", progress=False)
    assert "Monte Carlo:" not in capsys.readouterr().err


def test_resource_limits_refuse_unless_yes(world, tmp_path, monkeypatch):
    kw = dict(samples=3, seed=1, backend="numpy", progress=False)
    need = mc_module.estimate(world, {"intensities": 0}, 3, 3, 8)
    assert need["kept"] == 3 * 8 * 5 * world.F.shape[0] * world.n_countries
    assert need["memory"] > world.n**2 * 8 > need["kept"]
    monkeypatch.setattr(mc_module, "_machine_memory", lambda: 1000)
    with pytest.raises(OptionError, match=r"needs about 0.0 GB of memory \(this machine has 0.0 GB\).*yes=True"):
        mf.montecarlo(world, **kw)
    assert mf.montecarlo(world, yes=True, **kw).samples == 3
    monkeypatch.setattr(mc_module, "_machine_memory", lambda: None)
    monkeypatch.setattr(mc_module, "DISK_LIMIT", 100)
    with pytest.raises(OptionError, match="GB of disk in .*out"):
        mf.montecarlo(world, out_dir=tmp_path / "out", **kw)
    assert not (tmp_path / "out").exists()
    mf.montecarlo(world, **kw)  # no out_dir: no disk needed


@pytest.mark.parametrize("scheduler", [None, "threads"])
def test_a_backend_object_reaches_the_workers_intact(world, monkeypatch, scheduler):
    seen = []
    original = mc_module._BatchRunner._prepare

    def spy(self):
        st = original(self)
        seen.append((self.backend.name, self.backend.device, st["table"].S.device, st["table"].S.dtype))
        return st

    monkeypatch.setattr(mc_module._BatchRunner, "_prepare", spy)
    b = ArrayApiStrictBackend(device="device1")
    res = mf.montecarlo(world, samples=3, batch_size=2, backend=b, scheduler=scheduler, progress=False)
    assert seen and all(s[:3] == ("array_api_strict", b.device, b.device) for s in seen)
    assert all(s[3] == b.xp.float64 for s in seen)
    assert res.nominal.backend is b


def test_backends_pickle_as_the_same_kind_device_and_dtype():
    for b in (ArrayApiStrictBackend("float32", device="device1"), NumpyBackend("float32")):
        again = pickle.loads(pickle.dumps(b))
        assert (type(again), again.device_name, again.dtype_name) == (type(b), b.device_name, "float32")
        assert again.spec() == b.spec()
    assert ArrayApiStrictBackend(device="device1").spec() == {
        "name": "array_api_strict",
        "dtype": "float64",
        "device": "device1",
    }
