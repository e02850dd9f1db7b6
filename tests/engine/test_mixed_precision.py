"""Mixed precision (issue 18): a float32 LU of I - A, every solve refined in float64.

The accounts, flows, multipliers and indices must equal the float64 path to 1e-12
relative on pymrio's test system and on the synthetic world; a table too badly
conditioned for float32 must fall back to the float64 LU and say so.
"""

from __future__ import annotations

import numpy as np
import pytest

import mrioflow as mf
from mrioflow.engine.backend import MixedLU, get_backend
from mrioflow.engine.system import estimate_run_bytes
from mrioflow.errors import OptionError

BACKENDS = ["numpy", "array_api_strict"]
RTOL = 1e-12


def _close(ours, theirs, what: str) -> None:
    """Equal to RTOL relative to the array's largest magnitude (entries near zero included)."""
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    scale = np.abs(theirs).max()
    assert scale > 0, what
    err = np.abs(ours - theirs).max() / scale
    assert err <= RTOL, f"{what}: relative difference {err:.3g} > {RTOL}"


def _assert_same_results(mixed, double) -> None:
    for name in ("E", "M", "x", "E_sector", "E_fd_sector"):
        _close(getattr(mixed, name), getattr(double, name), name)
    for stressor in double.stressors:
        a, b = mixed.accounts(stressor), double.accounts(stressor)
        for col in b.columns:
            _close(a[col], b[col], f"{stressor} {col}")
        _close(mixed.flows(stressor), double.flows(stressor), f"{stressor} flows")


def _assert_refined(res, *, solves: set[str]) -> None:
    acc = res.precision
    assert acc["precision"] == "mixed"
    assert acc["fallback"] is None
    names = [s["solve"] for s in acc["solves"]]
    assert all(any(name.startswith(want) for name in names) for want in solves), names
    assert not any(name.startswith("Hawkins-Simon") for name in names)  # Engine.run checks it in X's solve
    for s in acc["solves"]:
        assert s["method"] == "float32 LU + float64 refinement"
        assert 0 <= s["backward_error"] <= 1e-15, s
        assert s["corrections"] >= 1, s  # a float32 solve alone is not float64-accurate


@pytest.fixture(scope="module")
def pymrio_table():
    pymrio = pytest.importorskip("pymrio", reason="pymrio is a test dependency: pip install '.[test]'")
    return mf.io.from_pymrio(pymrio.load_test())


@pytest.fixture(scope="module")
def world():
    return mf.datasets.synthetic(2013, seed=3, n_countries=24)


@pytest.mark.parametrize("backend", BACKENDS)
def test_pymrio_test_system_mixed_equals_double(pymrio_table, backend):
    double = mf.Engine(backend).run(pymrio_table)
    mixed = mf.Engine(backend, precision="mixed").run(pymrio_table)
    _assert_same_results(mixed, double)
    _assert_refined(mixed, solves={"X = L Yr", "M = S L"})
    assert double.precision == {"precision": "double", "fallback": None, "solves": []}


@pytest.mark.parametrize("backend", BACKENDS)
def test_synthetic_world_mixed_equals_double_with_indices(world, backend):
    double = mf.Engine(backend).run(world)
    mixed = mf.Engine(backend, precision="mixed").run(world)
    _assert_same_results(mixed, double)
    _assert_refined(mixed, solves={"X = L Yr (and Hawkins-Simon)", "M = S L"})
    groups = {c: f"g{i % 4}" for i, c in enumerate(world.countries)}
    _close(mf.indices.bmi(mixed, "CH4", groups), mf.indices.bmi(double, "CH4", groups), "BMI")
    _close(mf.indices.gmi(mixed, "CH4", groups), mf.indices.gmi(double, "CH4", groups), "GMI")


@pytest.mark.parametrize("precision", ["double", "mixed"])
def test_run_checks_productivity_in_the_solve_of_X(precision):
    """Engine.run makes no solve of its own for Hawkins-Simon: a non-productive table is
    still refused, by the column of ones solved beside Yr."""
    Z = np.array([[0.5, 0.9], [0.9, 0.5]])
    Y = np.array([[-0.5, 0.0], [0.0, -0.5]])  # x = Z 1 + Y 1 = 0.9: A's column sums 1.4 / 0.9 > 1
    table = mf.MRIO(
        Z=Z,
        Y=Y,
        F=np.ones((1, 2)),
        F_Y=np.zeros((1, 2)),
        countries=("a", "b"),
        sectors=["s"],
        fd_categories=["hh"],
        stressors=["CH4"],
        units=["Gg"],
    )
    with pytest.raises(mf.errors.NonProductiveError, match="Hawkins-Simon"):
        mf.Engine("numpy", precision=precision).run(table)


@pytest.mark.parametrize("backend", BACKENDS)
def test_prepared_table_W_and_keep_L_are_refined(world, backend):
    eng = mf.Engine(backend, precision="mixed")
    table = eng.prepare(world)
    ref = mf.Engine(backend).prepare(world)
    b = eng.backend
    _close(b.to_host(table.W), ref.backend.to_host(ref.W), "W")
    assert table.system.accuracy["solves"][-1]["solve"] == "W = split(S) L"
    small = mf.datasets.synthetic(2013, seed=3, n_countries=6)
    res = eng.run(small, keep_L=True)
    _close(res.L, np.linalg.inv(np.eye(small.n) - small.Z / small.x), "L")


def _ill_conditioned(delta: float) -> mf.MRIO:
    """Two countries trading almost all of their output in a loop: a_12 = a_21 = 1 - delta,
    kappa_1(I - A) about 2 / delta."""
    a = 1 - delta
    Z = np.array([[0.0, a], [a, 0.0]])  # x = 1 for both
    Y = np.array([[1 - a, 0.0], [0.0, 1 - a]])
    return mf.MRIO(
        Z=Z,
        Y=Y,
        F=np.array([[1.0, 2.0], [3.0, 1.0]]),
        F_Y=np.zeros((2, 2)),
        countries=("a", "b"),
        sectors=["s"],
        fd_categories=["hh"],
        stressors=["CH4", "VA"],
        units=["Gg", "M$"],
    )


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("delta", "why"),
    [
        (8e-8, "refinement of the float32 LU stalled"),  # kappa 2.5e7: a float32 LU resolves I - A, barely
        (1e-9, "float32"),  # 1 - 1e-9 rounds to 1 in float32: I - A is singular there
    ],
)
def test_badly_conditioned_table_falls_back_to_float64(backend, delta, why):
    table = _ill_conditioned(delta)
    double = mf.Engine(backend).run(table)
    mixed = mf.Engine(backend, precision="mixed").run(table)
    acc = mixed.precision
    assert acc["fallback"] is not None and why in acc["fallback"], acc["fallback"]
    assert acc["solves"][-1]["method"] == "float64 LU (fallback)"
    # the fallback is the float64 LU of the same I - A: the same numbers as the float64 path
    for name in ("E", "M", "x"):
        np.testing.assert_allclose(getattr(mixed, name), getattr(double, name), rtol=1e-15, atol=0, err_msg=name)


@pytest.mark.parametrize("backend", BACKENDS)
def test_refinement_transposed_vector_and_columns_converging_apart(backend):
    """Columns leave the refinement when they converge (here a zero column at once),
    the rest are put back in their places; transposed and 1-D right-hand sides too."""
    b = get_backend(backend)
    rng = np.random.default_rng(7)
    n = 60
    A = rng.uniform(0, 1, (n, n))
    A /= 1.4 * A.sum(axis=0)
    M = np.eye(n) - A
    B = rng.uniform(0, 10, (n, 5))
    B[:, 2] = 0.0
    B[:, 4] *= 1e-300  # far below float32's range: scaled before rounding
    lu = b.lu_factor(b.asarray(M), precision="mixed")
    assert isinstance(lu, MixedLU)
    for transpose in (False, True):
        ref = np.linalg.solve(M.T if transpose else M, B)
        got = b.to_host(lu.solve(b.asarray(B), transpose=transpose))
        for j in range(B.shape[1]):
            if j == 2:
                assert (got[:, j] == 0).all()
            else:
                np.testing.assert_allclose(got[:, j], ref[:, j], rtol=1e-13, atol=0)
        assert lu.records[-1]["backward_error"] <= 1e-15
    v = b.to_host(lu.solve(b.asarray(B[:, 0])))
    assert v.shape == (n,)
    np.testing.assert_allclose(v, np.linalg.solve(M, B[:, 0]), rtol=1e-13)
    assert lu.fallback is None and len(lu.records) == 3


def test_memory_model_counts_the_float32_factor(world):
    b = get_backend("numpy")
    n = world.n
    double, _ = estimate_run_bytes(world, b)
    mixed, detail = estimate_run_bytes(world, b, precision="mixed")
    assert mixed - double == 4 * n * n
    assert "float32 LU" in detail
    lean, _ = estimate_run_bytes(world, b, consume=True, precision="mixed")
    assert lean == mixed - 8 * n * n  # consumed: I - A is Z's memory, the float32 copy remains


def test_precision_options_are_checked():
    with pytest.raises(OptionError, match="precision must be one of"):
        mf.Engine("numpy", precision="half")
    with pytest.raises(OptionError, match="needs dtype float64"):
        mf.Engine("numpy", dtype="float32", precision="mixed")


@pytest.mark.parametrize("backend", BACKENDS)
def test_z_ensemble_in_mixed_precision_equals_double(backend):
    """Each Z sample's float32 LU, refined: the same samples as the float64 path."""
    world = mf.datasets.synthetic(2013, seed=5, n_countries=8)
    perturb = {"Z": 0.2, "intensities": 0.1}
    kw = dict(samples=3, perturb=perturb, seed=11, backend=backend, progress=False, batch_size=2)
    double = mf.montecarlo(world, **kw)
    mixed = mf.montecarlo(world, precision="mixed", **kw)
    for name in ("pba", "cba", "net"):
        _close(mixed.accounts[name], double.accounts[name], name)
    _close(mixed.flows_mean, double.flows_mean, "flows_mean")
    _close(mixed.flows_std, double.flows_std, "flows_std")
    _assert_refined(mixed.nominal, solves={"X = L Yr", "M = S L"})


def test_z_sample_solves_are_refined(monkeypatch):
    """Every Z sample's LU is a MixedLU and its solves reach 1e-15."""
    from mrioflow.engine import backend as backend_module

    made: list = []
    original = backend_module.MixedLU.__init__

    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(backend_module.MixedLU, "__init__", spy)
    world = mf.datasets.synthetic(2013, seed=5, n_countries=6)
    mf.montecarlo(world, samples=2, perturb={"Z": 0.2}, backend="numpy", progress=False, precision="mixed")
    assert len(made) == 2 + 1  # two samples, the nominal run (with Z the prepared table is not factored)
    for lu in made:
        assert lu.fallback is None
        assert lu.records and all(r["backward_error"] <= 1e-15 for r in lu.records)


def _small_world(year):
    return mf.datasets.synthetic(year, seed=2, n_countries=6)


def test_sweep_records_the_precision_of_each_year(tmp_path):
    kw = dict(loader=_small_world, backend="numpy", progress=False)
    res = mf.sweep([2013, 2014], precision="mixed", out_dir=tmp_path / "s", **kw)
    again = mf.sweep([2013, 2014], precision="mixed", out_dir=tmp_path / "s", **kw)
    double = mf.sweep([2013], **kw)
    _close(res[2013].E, double[2013].E, "E")
    for r in (res[2013], again[2014]):  # computed, and read back from the store
        assert r.precision["precision"] == "mixed" and r.precision["fallback"] is None
    with pytest.raises(OptionError, match="precision"):
        mf.sweep([2013], precision="single", **kw)


def test_cli_precision_reaches_the_engine_and_the_provenance(tmp_path):
    """--precision mixed on run, mc and sweep: provenance.json says how every solve was made."""
    import json

    from mrioflow.cli import main

    common = ["--synthetic-countries", "6", "-q"]
    assert main(["sweep", "--years", "2013", "--precision", "mixed", "-o", str(tmp_path / "s"), *common]) == 0
    prov = json.loads((tmp_path / "s" / "provenance.json").read_text())
    year = prov["precision by year"]["2013"]
    assert year["precision"] == "mixed" and year["fallback to float64"] is None
    assert year["refined solves"] >= 2 and 0 <= year["largest backward error"] <= 1e-15
    assert main(["mc", "--samples", "2", "--precision", "mixed", "-o", str(tmp_path / "m"), *common]) == 0
    prov = json.loads((tmp_path / "m" / "provenance.json").read_text())
    assert prov["precision of the nominal run"]["precision"] == "mixed"
    assert main(["run", "--years", "2013", "--precision", "mixed", "-o", str(tmp_path / "r"), *common]) == 0
    prov = json.loads((tmp_path / "r" / "provenance.json").read_text())
    assert prov["precision by year"]["2013"]["precision"] == "mixed"
    assert main(["run", "--precision", "half", "-o", str(tmp_path / "x"), *common]) == 1


@pytest.mark.parametrize("delta", [0.3, 8e-8])  # refined; falls back while other threads refine
def test_threads_sharing_one_mixed_factorisation(delta):
    """Solves from several threads on one MixedLU (ensembles share a prepared table): each
    gets its own answer, also when one of them falls back to float64 while the others
    are refining against I - A (the fallback then factors a copy). On array-api-strict: its
    dense solves are independent calls, while concurrent SciPy lu_solve calls on one LU are
    the thread-safety defect another change fixes in _LapackLU.solve."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    b = get_backend("array_api_strict")
    a = 1 - delta
    M = np.array([[1.0, -a], [-a, 1.0]])  # kappa about 2 / delta
    lu = b.lu_factor(b.asarray(M), precision="mixed")
    rng = np.random.default_rng(1)
    Bs = [rng.uniform(0.5, 2, (2, 4)) for _ in range(16)]
    start = threading.Barrier(8)

    def solve(B):
        try:
            start.wait(timeout=0.5)  # the first eight together
        except threading.BrokenBarrierError:
            pass
        return b.to_host(lu.solve(b.asarray(B)))

    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(solve, Bs))
    for B, X in zip(Bs, got, strict=True):
        np.testing.assert_allclose(M @ X, B, rtol=0, atol=1e-14 * np.abs(B).max() / delta)
    assert (lu.fallback is None) == (delta == 0.3)
    assert len(lu.records) == 16
