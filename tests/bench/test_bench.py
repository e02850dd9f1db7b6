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
            1 / figures[f"{target}_samples_per_s"] / figures["engine_run_s"]
        )
    assert figures["bare_lu_s"] > 0
    assert figures["Z_sample_over_lu"] == pytest.approx(1 / figures["Z_samples_per_s"] / figures["bare_lu_s"])
    assert figures["Z_sample_over_lu_median"] > 0  # of the ratios of rounds timed side by side


def test_gpu_case_says_why_it_skips_without_a_gpu():
    from mrioflow.engine.backend import cupy_usable

    ok, why = cupy_usable()
    figures = run_cases(["gpu"], n_countries=5, repeat=1, progress=False)["cases"]["gpu"]
    if ok:
        assert figures["cpu_over_gpu"] > 0
    else:
        assert figures == {"skipped": why}


# -- the hardware benchmark: ladder, JSON record, compare, plot (tiny sizes, no time asserted) --------------


@pytest.fixture(scope="module")
def quick_record(tmp_path_factory):
    """`mrioflow bench` at two tiny sizes, one of them too big for the memory limit given."""
    from mrioflow.cli import main

    folder = tmp_path_factory.mktemp("bench")
    from mrioflow.bench.ladder import memory_estimate

    limit_gb = 1.1 * memory_estimate(200, 30, in_place=False) / 1e9  # fits n = 200, not n = 2,000
    rc = main(
        [
            "bench",
            "--sizes",
            "10x20x3",
            "100x20x3",
            "--repeat",
            "1",
            "--samples",
            "2",
            "--memory-limit",
            str(limit_gb),
            "--json",
            str(folder / "a.json"),
            "--plot",
            str(folder / "a.png"),
        ]
    )
    assert rc == 0
    return folder


def test_ladder_record_schema_and_skipping(quick_record):
    import json

    from mrioflow.bench.ladder import SCHEMA

    record = json.loads((quick_record / "a.json").read_text())
    assert record["schema"] == SCHEMA and record["command"].startswith("mrioflow")
    m = record["machine"]
    assert {"cpu_model", "cpu_count", "memory_bytes", "numpy", "scipy", "blas", "threads", "gpu"} <= set(m)
    ladder = record["cases"]["ladder"]
    assert ladder["peak"]["gflops"] > 0 and ladder["peak"]["operation"] == "matmul"
    small, big = ladder["sizes"]
    assert small["n"] == 200 and small["skipped"] is None and small["shape"] == [10, 20, 3]
    assert big["n"] == 2000 and "needs about" in big["skipped"] and "--in-place" in big["skipped"]
    assert "operations" not in big
    ops = small["operations"]
    assert set(ops) == {"year", "lu", "solve", "montecarlo"}
    for name in ("year", "lu", "solve"):
        t = ops[name]
        assert t["min_s"] <= t["median_s"] and len(t["runs"]) == 1
        assert t["gflops"] == pytest.approx(t["flops"] / t["min_s"] / 1e9)
        assert t["fraction_of_peak"] == pytest.approx(t["gflops"] / ladder["peak"]["gflops"])
    assert ops["lu"]["flops"] == pytest.approx(2 / 3 * 200**3)
    assert ops["solve"]["flops"] == pytest.approx(2 * 200**2 * 10)
    assert ops["montecarlo"]["samples"] == 2
    assert small["peak_memory_nxn"] > small["inputs_nxn"] > 0
    assert (quick_record / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_table(quick_record, capsys):
    import json

    from mrioflow.cli import main

    record = json.loads((quick_record / "a.json").read_text())
    for size in record["cases"]["ladder"]["sizes"]:
        for t in (size.get("operations") or {}).values():
            t["min_s"] *= 2  # machine B: twice as slow
    (quick_record / "b.json").write_text(json.dumps(record))
    assert (
        main(
            [
                "bench",
                "compare",
                str(quick_record / "a.json"),
                str(quick_record / "b.json"),
                "--plot",
                str(quick_record / "ab.png"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith("10x20x3")]
    assert {r[2] for r in rows} == {"year", "lu", "solve", "montecarlo"}
    assert all(r[-1] == "2.000" for r in rows)
    assert (quick_record / "ab.png").exists()


def test_compare_refuses_what_is_not_a_record(tmp_path, capsys):
    from mrioflow.cli import main

    (tmp_path / "x.json").write_text("{}")
    assert main(["bench", "compare", str(tmp_path / "x.json"), str(tmp_path / "x.json")]) == 1
    assert "holds no ladder" in capsys.readouterr().err
    assert main(["bench", "compare", str(tmp_path / "x.json")]) == 1
    assert main(["bench", "--sizes", "big"]) == 1
    assert "neither a preset" in capsys.readouterr().err


def test_case_selection_runs_only_the_named_cases(monkeypatch):
    from mrioflow.bench import harness

    called = []
    monkeypatch.setitem(harness.CASES, "ladder", lambda **kw: called.append("ladder") or {})
    report = run_cases(["engine"], n_countries=3, repeat=1, progress=False, pymrio=False)
    assert set(report["cases"]) == {"engine"} and called == []


def test_in_place_ladder_runs_only_the_year():
    from mrioflow.bench.ladder import run_ladder

    ladder = run_ladder(["8x10x2"], repeat=1, in_place=True, peak_n=64, progress=False)
    size = ladder["sizes"][0]
    assert set(size["operations"]) == {"year"} and ladder["in_place"]


def test_ladder_precision_both_times_float64_and_mixed_side_by_side():
    """`--precision both`: every operation in both precisions in one worker, a Z sample
    in each, and the ratios table (no time asserted, only that each was measured)."""
    from mrioflow.bench.ladder import format_ladder, run_ladder

    ladder = run_ladder(["6x10x2"], repeat=1, samples=2, peak_n=64, progress=False, precision="both")
    assert ladder["precisions"] == ["double", "mixed"]
    ops = ladder["sizes"][0]["operations"]
    for name in ("year", "lu", "solve", "z_sample"):
        for op in (name, f"{name} (mixed)"):
            assert ops[op]["min_s"] > 0 and len(ops[op]["runs"]) == 1, op
    assert "montecarlo" in ops and "montecarlo (mixed)" not in ops
    text = "\n".join(format_ladder(ladder))
    assert "| Z sample mixed / LU float64 |" in text and "| 6x10x2 | 60 |" in text
    with pytest.raises(mf.errors.OptionError, match="precision must be double, mixed or both"):
        run_ladder(["6x10x2"], precision="single", progress=False)
