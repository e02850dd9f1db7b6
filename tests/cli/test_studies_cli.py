"""``mrioflow mc``, ``mrioflow sweep`` and ``mrioflow bench`` from the command line."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from cli_runner import run_cli as mrioflow

import mrioflow as mf


def test_mc_writes_summaries_samples_and_figure_and_resumes(tmp_path):
    out = tmp_path / "mc"
    args = [
        "mc",
        "--synthetic-countries",
        "7",
        "--samples",
        "12",
        "--batch-size",
        "5",
        "--intensities",
        "0.3",
        "--final-demand",
        "0.1",
        "--backend",
        "numpy",
        "--seed",
        "4",
        "-q",
        "-o",
        out,
    ]
    proc = mrioflow(*args)
    assert proc.returncode == 0, proc.stderr
    assert "SYNTHETIC DATA" in proc.stdout
    tables = {p.name for p in (out / "tables").iterdir()}
    for s in ("CH4", "VA"):
        for name in [
            f"mc_summary_{s}_pba",
            f"mc_summary_{s}_cba",
            f"mc_summary_{s}_net",
            f"mc_probability_net_below_0_{s}",
            f"mc_samples_{s}",
        ]:
            assert {name + ".csv", name + ".parquet"} <= tables
        assert (out / "figures" / f"mc_cba_{s}.png").stat().st_size > 10_000
    store = tmp_path / "mc.batches"  # the resumable store lives beside the published output
    assert sorted(p.name for p in store.iterdir()) == [
        "batch_000000.npz",
        "batch_000001.npz",
        "batch_000002.npz",
        "manifest.json",
    ]
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["mrioflow command"] == "mc" and prov["command line"].startswith("mrioflow mc --synthetic-countries 7")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "mrioflow mc --synthetic-countries 7" in html and html.count("data:image/png;base64,") == 2

    # the tables hold what the Python API computes for the same ensemble
    world = mf.datasets.synthetic(year=2013, seed=0, n_countries=7)
    ref = mf.montecarlo(
        world,
        samples=12,
        perturb={"intensities": 0.3, "final_demand": 0.1},
        seed=4,
        backend="numpy",
        batch_size=5,
        progress=False,
    )
    summary = pd.read_parquet(out / "tables" / "mc_summary_CH4_cba.parquet")
    np.testing.assert_allclose(summary["mean"].to_numpy(), ref.summary("CH4", "cba")["mean"].to_numpy(), rtol=1e-12)
    samples = pd.read_csv(out / "tables" / "mc_samples_CH4.csv")
    assert len(samples) == 3 * 12 * 7 and set(samples["account"]) == {"pba", "cba", "net"}

    # a rerun into a finished output is refused; with --overwrite, a batch missing is recomputed
    (store / "batch_000001.npz").unlink()
    proc = mrioflow(*args)
    assert proc.returncode == 1 and "--overwrite" in proc.stderr
    assert mrioflow(*args, "--overwrite").returncode == 0
    again = pd.read_parquet(out / "tables" / "mc_summary_CH4_cba.parquet")
    pd.testing.assert_frame_equal(again, summary)


def test_sweep_writes_accounts_by_year(tmp_path):
    out = tmp_path / "sweep"
    proc = mrioflow(
        "sweep",
        "--synthetic-countries",
        "6",
        "--years",
        "2013",
        "2021",
        "--backend",
        "numpy",
        "--stressor",
        "CH4",
        "-q",
        "-o",
        out,
    )
    assert proc.returncode == 0, proc.stderr
    acc = pd.read_csv(out / "tables" / "sweep_accounts_CH4.csv")
    assert sorted(set(acc["year"])) == [2013, 2021] and len(acc) == 12
    assert not (out / "tables" / "sweep_accounts_VA.csv").exists()
    ref = mf.Engine("numpy").run(mf.datasets.synthetic(year=2021, n_countries=6)).accounts("CH4")
    got = acc[acc["year"] == 2021].set_index("country")[["pba", "cba", "imports", "exports", "net"]]
    np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), rtol=1e-12)
    wide = pd.read_parquet(out / "tables" / "sweep_cba_CH4.parquet")  # country x year
    assert list(wide.columns) == ["2013", "2021", "unit"]  # Parquet column names are text
    assert set(wide["unit"]) == {"Gg"} and set(acc["unit"]) == {"Gg"}  # every table says its unit
    np.testing.assert_allclose(wide.iloc[:, 1].to_numpy(), ref["cba"].to_numpy(), rtol=1e-12)
    assert (out / "figures" / "sweep_CH4.png").stat().st_size > 10_000
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["mrioflow command"] == "sweep" and "--years 2013 2021" in prov["command line"]
    assert "--years 2013 2021" in (out / "report.html").read_text(encoding="utf-8")
    assert (tmp_path / "sweep.years").is_dir()  # the resumable store, beside the output


def test_bench_writes_markdown_and_json(tmp_path):
    md, js = tmp_path / "bench.md", tmp_path / "bench.json"
    proc = mrioflow(
        "bench", "--case", "engine", "--countries", "5", "--repeat", "1", "--no-pymrio", "--markdown", md, "--json", js
    )
    assert proc.returncode == 0, proc.stderr
    text = md.read_text()
    assert text.startswith("# mrioflow benchmarks") and "| engine_run_over_lu |" in text
    assert "Produced by `mrioflow bench --case engine" in text
    figures = json.loads(js.read_text())["cases"]["engine"]
    assert figures["n"] == 130 and "pymrio_calc_all_s" not in figures


@pytest.mark.parametrize(
    "args, message",
    [
        (["mc", "--samples", "3", "--intensities", "-1"], "relative standard deviations must be finite and >= 0"),
        (["mc", "--samples", "0"], "samples must be an integer >= 1, got 0"),
        (["sweep", "--years", "2013", "--eora26", "/nonexistent/eora"], "/nonexistent/eora"),
        (["bench", "--case", "warp-drive"], r"unknown benchmark case(s) ['warp-drive']"),
        (["mc", "--backend", "tpu"], "backend must be one of"),
    ],
)
def test_errors_are_one_line(tmp_path, args, message):
    proc = mrioflow(*args, "-q", "-o", tmp_path / "out") if args[0] != "bench" else mrioflow(*args)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mrioflow: error:") and message in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_mc_per_sector_rsd_from_a_csv(tmp_path):
    world = mf.datasets.synthetic(year=2013, seed=0, n_countries=5)
    rsd = pd.Series(0.0, index=world.sectors)
    rsd.iloc[3] = 0.4  # one uncertain sector; the file lists the sectors in reverse order
    table = tmp_path / "rsd.csv"
    pd.DataFrame({"sector": rsd.index[::-1], "rsd": rsd.to_numpy()[::-1]}).to_csv(table, index=False)
    out = tmp_path / "mc"
    proc = mrioflow(
        "mc",
        "--synthetic-countries",
        "5",
        "--samples",
        "6",
        "--intensities",
        table,
        "--backend",
        "numpy",
        "-q",
        "-o",
        out,
    )
    assert proc.returncode == 0, proc.stderr
    ref = mf.montecarlo(
        world, samples=6, perturb={"intensities": rsd.to_numpy()}, seed=0, backend="numpy", progress=False
    )
    pba = pd.read_parquet(out / "tables" / "mc_summary_CH4_pba.parquet")
    np.testing.assert_allclose(pba["std"].to_numpy(), ref.summary("CH4", "pba")["std"].to_numpy(), rtol=1e-12)
    assert (pba["std"] > 0).all()  # every country has the uncertain sector

    out = tmp_path / "mc-errors"  # failed runs publish nothing: the folder stays absent
    table.write_text(table.read_text().replace(world.sectors[0], "Agricultur"))
    proc = mrioflow("mc", "--synthetic-countries", "5", "--samples", "2", "--intensities", table, "-q", "-o", out)
    assert proc.returncode == 1
    assert f"rsd for 'intensities' ({table})" in proc.stderr and "unknown: 'Agricultur'" in proc.stderr
    table.write_text("sector,sigma\nAgriculture,0.1\n")
    proc = mrioflow("mc", "--samples", "2", "--transactions", table, "-q", "-o", out)
    assert proc.returncode == 1 and "needs the columns 'sector' and 'rsd'" in proc.stderr
    table.write_text("")
    proc = mrioflow("mc", "--samples", "2", "--intensities", table, "-q", "-o", out)
    assert proc.returncode == 1 and f"{table}: cannot read the rsd table" in proc.stderr
    proc = mrioflow("mc", "--samples", "2", "--final-demand", "high", "-q", "-o", out)
    assert proc.returncode == 2 and "'high' is neither a number nor a CSV file" in proc.stderr
    assert not out.exists()


def test_mc_with_indices_on_a_grouping(tmp_path):
    groups = tmp_path / "groups.csv"
    groups.write_text("iso3,region\nAFG,South\nIND,South\nCHN,East\nJPN,East\n")
    out = tmp_path / "mc"
    proc = mrioflow(
        "mc",
        "--synthetic-countries",
        "6",
        "--samples",
        "8",
        "--backend",
        "numpy",
        "--indices",
        "--groups",
        groups,
        "--norm-set",
        "scope",
        "-q",
        "-o",
        out,
    )
    # a 6-country synthetic world lacks these countries: a clear error; the full world has them
    assert proc.returncode == 1 and "countries not in the table" in proc.stderr
    proc = mrioflow(
        "mc",
        "--synthetic-countries",
        "190",
        "--samples",
        "4",
        "--backend",
        "numpy",
        "--indices",
        "--groups",
        groups,
        "--norm-set",
        "scope",
        "-q",
        "-o",
        out,
    )
    assert proc.returncode == 0, proc.stderr
    gmi = pd.read_csv(out / "tables" / "mc_gmi_region.csv", index_col=0)
    assert list(gmi.index) == ["South", "East"] and "P(GMI < 0)" in gmi.columns
    bmi = pd.read_parquet(out / "tables" / "mc_bmi_region_mean.parquet")
    assert bmi.shape == (2, 2) and (bmi.to_numpy() >= 0).all()
    world = mf.datasets.synthetic(2013)
    nominal = mf.indices.gmi(mf.Engine("numpy").run(world), "CH4", mf.regions.from_csv(groups), norm_set="scope")
    np.testing.assert_allclose(gmi["nominal"].to_numpy(), nominal.to_numpy(), rtol=1e-10)
