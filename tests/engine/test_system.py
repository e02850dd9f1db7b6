"""LeontiefSystem's checks: productivity of tables with negative cells, non-finite
intermediate values, the memory estimate and the in-place (consuming) run."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import mrioflow as mf
from mrioflow.engine.system import estimate_run_bytes
from mrioflow.errors import InvalidValueError, MemoryLimitError, NonProductiveError


def table(Z, Y):
    """Two countries, one sector, one final-demand category, one stressor."""
    return mf.MRIO(
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


BACKENDS = ["numpy", "array_api_strict"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_non_productive_with_one_tiny_negative_cell(backend):
    """A = [[-1e-10, 2], [1, 0]]: rho(A) is about sqrt(2) > 1. The Hawkins-Simon test
    does not apply (a negative cell), the spectral-radius criterion refuses it."""
    Z = np.array([[-1e-9, 10.0], [10.0, 0.0]])
    Y = np.array([[0.0, 0.0], [0.0, -5.0]])
    with pytest.raises(
        NonProductiveError,
        match=r"negative cells.*rho\(A\) is about 1\.414.* >= 1.*"
        r"rho\(\|A\|\) < 1 failed",
    ):
        mf.Engine(backend).run(table(Z, Y))


@pytest.mark.parametrize("backend", BACKENDS)
def test_productive_with_negative_cells_runs(backend):
    """A = 0.6 [[1, -1], [1, 1]]: rho(|A|) = 1.2 >= 1 but rho(A) = 0.6 sqrt(2) < 1 (complex pair):
    the Neumann series converges, the run goes through and matches the inverse."""
    Z = np.array([[0.6, -0.6], [0.6, 0.6]])  # x = 1, 1
    Y = np.array([[1.0, 0.0], [0.0, -0.2]])
    res = mf.Engine(backend).run(table(Z, Y), keep_L=True)
    L = np.linalg.inv(np.eye(2) - Z)
    np.testing.assert_allclose(res.leontief().to_numpy(), L, rtol=1e-12)
    assert (L < 0).any()  # a sound table whose L has a negative entry


def test_small_negative_cells_pass_the_column_sum_bound():
    world = mf.datasets.synthetic(2013, seed=1, n_countries=4)
    Z = world.Z.copy()
    Z[3, 5] = -0.01 * Z[3, 5] - 1.0
    tweaked = world.replace(Z=Z, Y=world.Y + (world.Z - Z).sum(axis=1, keepdims=True) / world.Y.shape[1])
    res = mf.Engine("numpy").run(tweaked)
    assert np.isfinite(res.E).all()


def test_check_spectral_radius_directly():
    import array_api_compat.numpy as xp

    from mrioflow.engine.system import check_spectral_radius

    rng = np.random.default_rng(0)
    A = rng.uniform(-0.01, 0.02, (50, 50))
    check_spectral_radius(xp, A)  # column sums of |A| < 1
    A[:, 0] = 0.3  # |A| column sums exceed 1 in column 0, rho(A) stays small
    check_spectral_radius(xp, A)
    with pytest.raises(NonProductiveError, match=r"rho\(A\) is about 1\.5"):
        check_spectral_radius(xp, np.diag([1.5, -0.5, 0.1]))


def test_overflowing_gross_output():
    """Finite cells near the float64 limit: x = Z 1 + Y 1 overflows to inf."""
    Z = np.array([[1e308, 1e308], [1.0, 1.0]])
    with pytest.raises(
        InvalidValueError,
        match=r"gross output x = Z 1 \+ Y 1 is not finite for 1 sector\(s\), "
        r"first a/s \(inf\)",
    ):
        mf.Engine("numpy").run(table(Z, np.ones((2, 2))))


def test_overflowing_coefficients():
    """x_b is tiny, so a_ab = z_ab / x_b overflows."""
    Z = np.array([[1.0, 1e300], [0.0, 1e-20]])
    with pytest.raises(InvalidValueError, match=r"column sum of A = Z diag\(x\)\^-1 is not finite .* first b/s"):
        mf.Engine("numpy").run(table(Z, np.array([[1.0, 0.0], [0.0, 0.0]])))


def test_memory_limit_refuses_with_the_numbers():
    world = mf.datasets.synthetic(2013, seed=1, n_countries=4)
    with pytest.raises(
        MemoryLimitError,
        match=r"needs about .* GB \(1 n x n array\(s\) of .* n = 104 .* but "
        r"1e-06 GB are the memory_limit given; consuming the input in "
        r"place \(Engine.run\(mrio, consume=True\)",
    ):
        mf.Engine("numpy", memory_limit=1000).run(world)
    need, _ = estimate_run_bytes(world, mf.Engine("numpy").backend)
    lean, _ = estimate_run_bytes(world, mf.Engine("numpy").backend, consume=True)
    assert need - lean == 8 * world.n**2
    assert mf.Engine("numpy", memory_limit=need).run(world).E.shape == (2, 4, 4)


def test_refusal_against_the_machine():
    """Without a limit, the estimate is compared with what the machine has available."""
    world = mf.datasets.synthetic(2013, seed=1, n_countries=4)
    backend = mf.Engine("numpy").backend
    backend.memory_available = lambda: 10  # a machine with 10 bytes left
    with pytest.raises(MemoryLimitError, match=r"1e-08 GB are available on CPU"):
        mf.Engine(backend).run(world)


def test_consuming_run_gives_the_same_results_and_overwrites_Z():
    world = mf.datasets.synthetic(2013, seed=1, n_countries=5)
    ref = mf.Engine("numpy").run(world)
    victim = mf.datasets.synthetic(2013, seed=1, n_countries=5)
    res = mf.Engine("numpy").run(victim, consume=True)
    np.testing.assert_allclose(res.E, ref.E, rtol=1e-12)
    np.testing.assert_allclose(res.M, ref.M, rtol=1e-12)
    assert not np.array_equal(victim.Z, world.Z)  # destroyed, as documented


def test_float32_consumes_its_own_copy():
    world = mf.datasets.synthetic(2013, seed=1, n_countries=5)
    before = world.Z.copy()
    mf.Engine("numpy", dtype="float32").run(world)
    np.testing.assert_array_equal(world.Z, before)  # the float32 copy was consumed, not the input


@pytest.mark.parametrize("consume, limit", [(False, 1.4), (True, 0.4)])
def test_peak_memory_in_a_fresh_process(consume, limit):
    """Peak resident memory a run adds to its inputs (BLAS and LAPACK buffers
    included), in units of n x n float64, at n = 3,000 in a fresh process: one
    n x n array (A) or none when consuming Z, plus fixed costs (about 20-30 MB
    of BLAS buffers, 0.3 n^2 at this size, negligible at GLORIA's). The peak is
    reset after the table is generated, so that generation does not set it."""
    from mrioflow.bench.harness import reset_rss_peak

    if not reset_rss_peak():
        pytest.skip("resetting the peak needs Linux's /proc/self/clear_refs")
    code = textwrap.dedent(f"""
        import mrioflow as mf
        from mrioflow.bench.harness import reset_rss_peak, rss_now, rss_peak
        mf.Engine("numpy").run(mf.datasets.synthetic(2013, n_countries=2))  # imports everything a run needs
        base = rss_now()
        world = mf.datasets.synthetic(2013, shape=(60, 50, 2))
        reset_rss_peak()
        inputs = rss_now()
        mf.Engine("numpy").run(world, consume={consume})
        print((rss_peak() - inputs) / (8 * world.n**2))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    peak = float(out.stdout.split()[-1])
    assert limit - 1 < peak < limit, peak


def test_large_lu_runs_on_one_blas_thread(monkeypatch):
    """SciPy's OpenBLAS crashes in its multi-threaded getrf for n >= 22,000: above the
    threshold the LU runs on one BLAS thread, and gives the same factorisation."""
    import types

    import scipy.linalg
    from threadpoolctl import threadpool_info

    from mrioflow.engine import backend as bk

    threads = []

    def lu_factor(a, **kw):
        threads.append(max(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"))
        return scipy.linalg.lu_factor(a, **kw)

    rng = np.random.default_rng(0)
    M = np.eye(60) - rng.uniform(0, 0.01, (60, 60))
    b = bk.NumpyBackend()
    b._linalg = types.SimpleNamespace(lu_factor=lu_factor, lu_solve=scipy.linalg.lu_solve)
    monkeypatch.setattr(bk, "GETRF_ONE_THREAD_ABOVE", 59)
    x = b.lu_factor(M.copy()).solve(np.ones((60, 1)))
    monkeypatch.setattr(bk, "GETRF_ONE_THREAD_ABOVE", 60)
    y = b.lu_factor(M.copy()).solve(np.ones((60, 1)))
    assert threads[0] == 1
    np.testing.assert_allclose(x, np.linalg.solve(M, np.ones((60, 1))), rtol=1e-12)
    np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("block", [1 << 15, 7])  # one block; blocks of one row, n not a multiple
def test_eye_minus_from_cells_equals_the_dense_construction(backend, to_device, to_host, block, monkeypatch):
    """I - Z diag(x)^-1 and x = Z 1 + y built from Z's non-zero cells (what a Z Monte Carlo
    sample does): rows without cells (one inside, the last), a sector with no output (its
    column of A is 0), and a reused array that held other numbers."""
    monkeypatch.setattr(mf.engine.backend, "_ASSEMBLY_BLOCK", block)
    rng = np.random.default_rng(4)
    n = 9
    Z = rng.random((n, n)) * (rng.random((n, n)) < 0.4)
    Z[3, :] = 0  # a row without cells
    Z[n - 1, :] = 0  # the last row too: and with y = 0 below, x = 0 there
    Z[:, n - 1] = 0
    y = rng.random(n) + 0.5
    y[n - 1] = 0.0
    x = Z.sum(axis=1) + y
    expected = np.eye(n) - Z * np.where(x > 0, 1 / np.where(x > 0, x, 1), 0)[None, :]
    cells = backend.cells(Z != 0)
    values = to_device(Z[Z != 0])
    for out in (None, to_device(np.full((n, n), 7.0))):
        IminusA, got_x = backend.eye_minus_cells((n, n), cells, values, to_device(y), out)
        np.testing.assert_allclose(to_host(got_x), x, rtol=1e-15)
        np.testing.assert_allclose(to_host(IminusA), expected, rtol=1e-15, atol=1e-16)
    assert expected[n - 1, n - 1] == 1.0 and x[n - 1] == 0.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_productivity_checked_in_the_solve_for_X(backend):
    """check_productive=False defers Hawkins-Simon to output(..., check_productive=True),
    which solves X and (I - A)^-1 1 together: A = [[0, 2], [2, 0]] is refused there,
    and the X it returns otherwise is the explicit inverse's."""
    b = mf.engine.get_backend(backend)
    Z, x = np.array([[0.0, 10.0], [10.0, 0.0]]), np.array([5.0, 5.0])
    Yr = np.array([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(NonProductiveError, match=r"Hawkins-Simon.*2 of 2 rows"):
        mf.engine.LeontiefSystem.from_arrays(b, b.asarray(Z), b.asarray(x))
    system = mf.engine.LeontiefSystem.from_arrays(b, b.asarray(Z), b.asarray(x), check_productive=False)
    with pytest.raises(NonProductiveError, match=r"Hawkins-Simon.*2 of 2 rows"):
        system.output(b.asarray(Yr), check_productive=True)
    Z2, x2 = np.array([[1.0, 2.0], [3.0, 1.0]]), np.array([5.0, 6.0])  # productive
    system = mf.engine.LeontiefSystem.from_arrays(b, b.asarray(Z2), b.asarray(x2), check_productive=False)
    expected = np.linalg.inv(np.eye(2) - Z2 / x2) @ Yr
    np.testing.assert_allclose(b.to_host(system.output(b.asarray(Yr), check_productive=True)), expected, rtol=1e-14)


# -- issue 19 (13): numerical problems are flagged, each with its own clear message -------------------------


def _nearly_singular(delta):
    """x = 1 in both sectors; I - A = [[0.5, -(0.5 - delta)], [-(0.5 - delta), 0.5]], condition ~ 1 / delta."""
    Z = np.array([[0.5, 0.5 - delta], [0.5 - delta, 0.5]])
    return table(Z, np.diag(1.0 - Z.sum(axis=1)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_near_singular_system_warns_with_its_condition_number(backend):
    from mrioflow.engine.system import IllConditionedWarning

    m = _nearly_singular(1e-15)
    x = m.x
    exact = np.linalg.cond(np.eye(2) - m.Z / x[None, :], 1)
    assert exact > 1e14
    with pytest.warns(IllConditionedWarning, match=r"\(I - A\) is ill conditioned: its 1-norm condition number is "):
        res = mf.Engine(backend).run(m)
    cond = res.diagnostics["condition_number_1norm"]
    assert exact / 3 <= cond <= exact * 1.000001


@pytest.mark.parametrize("backend", BACKENDS)
def test_well_conditioned_run_records_its_condition_number_without_warning(backend):
    import warnings

    world = mf.datasets.synthetic(2013, seed=1, n_countries=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = mf.Engine(backend).run(world)
    x = world.x
    exact = np.linalg.cond(np.eye(world.n) - world.Z / np.where(x == 0, 1, x)[None, :], 1)
    assert exact / 3 <= res.diagnostics["condition_number_1norm"] <= exact * 1.000001


@pytest.mark.parametrize("backend", BACKENDS)
def test_emissions_of_zero_output_sectors_are_reported(backend):
    from mrioflow.engine.results import ZeroOutputWarning

    world = mf.datasets.synthetic(2013, seed=1, n_countries=3)
    j = 5  # AFG's sixth sector: no sales, no purchases, no final demand, but 1000 Gg of CH4
    Z, Y, F = world.Z.copy(), world.Y.copy(), world.F.copy()
    Z[j, :], Z[:, j], Y[j, :], F[:, j] = 0.0, 0.0, 0.0, 0.0
    F[world.stressor_position("CH4"), j] = 1000.0
    m = world.replace(Z=Z, Y=Y, F=F)
    with pytest.warns(
        ZeroOutputWarning,
        match=rf"1 sector\(s\) with zero gross output have direct stressors that no production or consumption "
        rf"account includes \(S = F / x is 0 there\): CH4 1000; sectors {m._sector_label(j)} ",
    ):
        res = mf.Engine(backend).run(m)
    acc = res.accounts("CH4")
    assert acc.loc[m.countries[0], "zero_output"] == 1000.0 and acc["zero_output"].sum() == 1000.0
    # what the accounts and the new column hold together is all of F and F_Y
    k = m.stressor_position("CH4")
    assert acc["pba"].sum() + acc["zero_output"].sum() == pytest.approx(m.F[k].sum() + m.F_Y[k].sum(), rel=1e-12)
    assert "zero_output" not in res.accounts("VA").columns  # no VA there


@pytest.mark.parametrize("backend", BACKENDS)
def test_subnormal_table_is_called_too_small(backend):
    world = mf.datasets.synthetic(2013, seed=1, n_countries=3)
    tiny = world.replace(Z=world.Z * 1e-320, Y=world.Y * 1e-320)
    with pytest.raises(
        InvalidValueError,
        match=r"gross output x = Z 1 \+ Y 1 is subnormal for \d+ sector\(s\), first AFG/Agriculture .* below the "
        r"smallest normal 2.23e-308\): values in Z and Y are too small for the working precision",
    ):
        mf.Engine(backend).run(tiny)


@pytest.mark.parametrize("backend", BACKENDS)
def test_huge_stressors_are_called_too_large_not_singular(backend):
    world = mf.datasets.synthetic(2013, seed=1, n_countries=3)
    small = world.replace(Z=world.Z * 1e-8, Y=world.Y * 1e-8)  # some x below 1: F / x overflows
    F = small.F.copy()
    F[0, int(np.argmin(small.x))] = 1e308
    with (
        pytest.raises(
            InvalidValueError,
            match=r"the multiplier solve M = S L: its right-hand side is not finite \(e.g. S = F diag\(x\)\^-1 "
            r"overflowed",
        ),
        np.errstate(over="ignore"),
    ):
        mf.Engine(backend).run(small.replace(F=F))  # was SingularSystemError: "(I - A) is singular"
    with (
        pytest.raises(
            InvalidValueError,
            match=r"the embodied flows E = S X overflowed the float64 range: the values are too large .*\(I - A\) "
            r"is well conditioned",
        ),
        np.errstate(over="ignore"),
    ):
        mf.Engine(backend).run(world.replace(F=np.full_like(world.F, 1e308)))  # was inf in E, no error


@pytest.mark.parametrize("limit", [float("nan"), float("inf"), -1.0, 0, True, "lots"])
def test_memory_limit_must_be_a_positive_number(limit):
    from mrioflow.engine.system import LeontiefSystem
    from mrioflow.errors import OptionError

    with pytest.raises(OptionError, match=r"memory_limit must be a positive finite number of bytes \(or None\), got"):
        mf.Engine("numpy", memory_limit=limit)
    engine = mf.Engine("numpy")
    world = mf.datasets.synthetic(2013, seed=1, n_countries=3)
    with pytest.raises(OptionError, match=r"memory_limit must be a positive finite number"):
        LeontiefSystem.from_mrio(engine.backend, world, memory_limit=limit)


def test_condition_number_reaches_provenance(tmp_path):
    import json

    from mrioflow.analysis import Settings, run

    s = Settings.build(overrides=dict(synthetic_countries=6, years=[2013], backend="numpy", output=str(tmp_path / "o")))
    run(s, progress=False)
    prov = json.loads((tmp_path / "o" / "provenance.json").read_text())
    cond = prov["table meta"]["2013"]["condition number of I - A (1-norm, estimated)"]
    assert isinstance(cond, float) and 1 <= cond < 1e6
