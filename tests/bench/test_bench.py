"""Benchmarks (pytest-benchmark) and the ``mrioflow bench`` harness.

Timings are never asserted: run ``pytest tests/bench --benchmark-enable`` to see
them. What is asserted is that the harness measures what it says it measures.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

import mrioflow as mf
from mrioflow.bench import format_report, run_cases
from mrioflow.errors import OptionError


@pytest.fixture(scope="module")
def world():
    return mf.datasets.synthetic(year=2013, seed=0, n_countries=40)


def test_benchmark_engine_run(benchmark, world):
    eng = mf.Engine("numpy")
    res = benchmark(eng.run, world)
    assert np.isfinite(res.E).all()
    acc = res.accounts("CH4")
    assert acc["pba"].sum() == pytest.approx(acc["cba"].sum(), rel=1e-10)


def test_benchmark_bare_lu_reference(benchmark, world):
    M = np.asfortranarray(np.eye(world.n) - world.Z / world.x)
    lu, piv = benchmark(scipy.linalg.lu_factor, M, check_finite=False)
    assert np.all(np.abs(np.diag(lu)) > 0)


def test_harness_engine_case_reports_ratios():
    report = run_cases(["engine"], n_countries=6, repeat=1, progress=False)
    figures = report["cases"]["engine"]
    assert figures["n"] == 6 * 26
    assert figures["engine_run_over_lu"] == pytest.approx(figures["engine_run_s"] / figures["bare_lu_s"])
    assert figures["pymrio_over_engine"] == pytest.approx(figures["pymrio_calc_all_s"] / figures["engine_run_s"])
    assert 0 < figures["run_added_memory_nxn"]
    text = format_report(report, command="mrioflow bench --case engine")
    assert "| engine_run_over_lu |" in text and "CPUs" in text and "`mrioflow bench --case engine`" in text


def test_harness_memory_counts_numpy_arrays():
    from mrioflow.bench.harness import peak_host_bytes

    added = peak_host_bytes(lambda: np.ones((500, 500)))
    assert 500 * 500 * 8 <= added < 2 * 500 * 500 * 8


def test_unknown_case():
    with pytest.raises(OptionError, match=r"unknown benchmark case\(s\) \['nope'\]; available: .*engine"):
        run_cases(["nope"])


def test_harness_montecarlo_case():
    figures = run_cases(["montecarlo"], n_countries=5, samples=4, progress=False)["cases"]["montecarlo"]
    for target in ("intensities", "final_demand", "intensities_and_final_demand", "Z"):
        assert figures[f"{target}_samples_per_s"] > 0
        assert figures[f"{target}_sample_over_run"] == pytest.approx(
            1 / figures[f"{target}_samples_per_s"] / figures["engine_run_s"])


def test_gpu_case_says_why_it_skips_without_a_gpu():
    from mrioflow.engine.backend import cupy_usable

    ok, why = cupy_usable()
    figures = run_cases(["gpu"], n_countries=5, repeat=1, progress=False)["cases"]["gpu"]
    if ok:
        assert figures["cpu_over_gpu"] > 0
    else:
        assert figures == {"skipped": why}
