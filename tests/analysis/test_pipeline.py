"""The analysis pipeline on a small synthetic world: files, identities between tables, report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from expected_output import expected_files, listing

import mrioflow as mf
from mrioflow.analysis import OutputError, OutputFolder, Settings, atomic_write, run
from mrioflow.analysis.figures import SYNTHETIC_MARK

YEARS = (2013, 2021)


def _t(summary, name):
    return pd.read_csv(summary.output / "tables" / f"{name}.csv")


def test_every_file_is_written(small_run):
    assert listing(small_run.output) == expected_files(YEARS)
    assert sorted(map(str, small_run.files)) == sorted(str(small_run.output / f) for f in expected_files(YEARS))


def test_csv_and_parquet_agree(small_run):
    for name in ("accounts_region_2013", "bmi_region_2021", "gmi_country", "flows_region", "bmi_region_diff_2013_2021"):
        csv = pd.read_csv(small_run.output / "tables" / f"{name}.csv")
        pq = pd.read_parquet(small_run.output / "tables" / f"{name}.parquet")
        pq = pq.reset_index() if not isinstance(pq.index, pd.RangeIndex) else pq
        assert list(csv.columns) == list(pq.columns)
        num = csv.select_dtypes("number").columns
        np.testing.assert_allclose(csv[num].to_numpy(float), pq[num].to_numpy(float), rtol=1e-12)


def test_the_world_has_the_grouping_and_others(small_run):
    acc = _t(small_run, "accounts_country_2013")
    countries = set(acc["country"])
    assert {"CHN", "JPN", "KOR", "IND", "PAK", "DEU", "FRA", "GBR", "ROW"} <= countries
    assert len(countries) == 14


def test_region_accounts_are_member_sums(small_run):
    acc = _t(small_run, "accounts_country_2021")
    reg = _t(small_run, "accounts_region_2021").set_index(["stressor", "region"])
    east = acc[acc["country"].isin(["CHN", "JPN", "KOR"])].groupby("stressor")[["pba", "cba", "direct"]].sum()
    for st in ("CH4", "VA"):
        for col in ("pba", "cba", "direct"):
            assert reg.loc[(st, "East"), col] == pytest.approx(east.loc[st, col], rel=1e-12)
    # the grouping's regions plus "Other countries" cover the world
    for st in ("CH4", "VA"):
        world = acc[acc["stressor"] == st][["pba", "cba"]].sum()
        regions = reg.loc[st][["pba", "cba"]].sum()
        np.testing.assert_allclose(regions.to_numpy(), world.to_numpy(), rtol=1e-12)
        np.testing.assert_allclose(world["pba"], world["cba"], rtol=1e-9)
    assert list(reg.loc["CH4"].index) == ["East", "South", "West", "Other countries"]


def test_sector_tables_add_up_to_the_accounts(small_run):
    """Production-perspective sectors of a country sum to its PBA, consumption ones to its CBA
    (direct final-demand emissions are their own 'sector')."""
    sec = _t(small_run, "sectors_country_2013")
    acc = _t(small_run, "accounts_country_2013").set_index(["stressor", "country"])
    for persp, col in (("production", "pba"), ("consumption", "cba")):
        tot = sec[sec["perspective"] == persp].groupby(["stressor", "country"])["value"].sum()
        np.testing.assert_allclose(tot.sort_index().to_numpy(), acc[col].sort_index().to_numpy(), rtol=1e-9)
    reg = _t(small_run, "sectors_region_2013")
    assert set(reg["region"]) == {"East", "South", "West"}
    assert set(reg["perspective"]) == {"production", "consumption"}


def test_region_flows_match_accounts(small_run):
    flows = pd.read_csv(small_run.output / "tables" / "flows_region_CH4_2013.csv", index_col=0)
    acc = _t(small_run, "accounts_region_2013").set_index(["stressor", "region"]).loc["CH4"]
    np.testing.assert_allclose(flows.sum(axis=1), acc["pba"] - acc["direct"], rtol=1e-9)
    np.testing.assert_allclose(flows.sum(axis=0), acc["cba"] - acc["direct"], rtol=1e-9)


def test_index_tables_are_consistent(small_run):
    tables = small_run.output / "tables"
    b13 = pd.read_csv(tables / "bmi_region_2013.csv", index_col=0)
    b21 = pd.read_csv(tables / "bmi_region_2021.csv", index_col=0)
    diff = pd.read_csv(tables / "bmi_region_diff_2013_2021.csv", index_col=0)
    np.testing.assert_allclose(diff.to_numpy(), b21.to_numpy() - b13.to_numpy(), atol=1e-12)
    tot = pd.read_csv(tables / "bmi_region_total.csv", index_col=0)
    np.testing.assert_allclose(tot["2013"], b13.sum(axis=1), rtol=1e-12)
    bc = pd.read_csv(tables / "bmi_country_2013.csv", index_col=0)
    assert b13.loc["East", "West"] == pytest.approx(
        bc.loc[["CHN", "JPN", "KOR"], ["DEU", "FRA", "GBR"]].to_numpy().sum()
    )
    assert not np.any((bc.to_numpy() != 0) & (bc.to_numpy().T != 0))
    gc = pd.read_csv(tables / "gmi_country.csv", index_col=0)
    gr = pd.read_csv(tables / "gmi_region.csv", index_col=0)
    assert gc["2021"].between(-3, 3).all()
    assert gr.loc["South", "2021"] == pytest.approx(gc.loc[["IND", "PAK"], "2021"].sum(), rel=1e-12)
    long = pd.read_csv(tables / "bmi_region.csv")
    assert set(long["year"]) == set(YEARS) and len(long) == 2 * 9


def test_report_is_self_contained_and_says_synthetic(small_run):
    html = (small_run.output / "report.html").read_text(encoding="utf-8")
    assert html.count(SYNTHETIC_MARK) >= 2
    assert html.count('src="data:image/png;base64,') == 9
    assert 'src="http' not in html and "<link" not in html
    for needle in ("Provenance", "Package versions", "Timings", "numpy", np.__version__, "convention=printed"):
        assert needle in html
    prov = json.loads((small_run.output / "provenance.json").read_text())
    assert prov["synthetic"] is True and prov["years"] == list(YEARS)
    assert prov["options"]["norm_set"] == "all"
    assert prov["backend"].startswith("numpy")


def test_pngs_are_pngs(small_run):
    for p in (small_run.output / "figures").glob("*.png"):
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert p.stat().st_size > 20_000


def test_every_figure_carries_the_synthetic_mark(small_run, monkeypatch, tmp_path):
    from mrioflow.analysis import figures

    seen = {}

    class Recorder:
        def figure(self, name, fig):
            seen[name] = [t.get_text() for t in fig.texts]
            return tmp_path / f"{name}.png"

    groups = mf.regions.from_csv(small_run.settings.groups)
    made = figures.make_all(small_run.results, small_run.tables, small_run.settings, groups, Recorder())
    assert len(made) == 9
    assert all(any(SYNTHETIC_MARK in t for t in texts) for texts in seen.values()), seen


def test_no_mark_on_real_data(small_run, tmp_path):
    from dataclasses import replace

    from mrioflow.analysis import figures

    seen = []

    class Recorder:
        def figure(self, name, fig):
            seen.extend(t.get_text() for t in fig.texts)
            return tmp_path / f"{name}.png"

    real = [replace(r, synthetic=False) for r in small_run.results]
    groups = mf.regions.from_csv(small_run.settings.groups)
    figures.make_all(real, small_run.tables, small_run.settings, groups, Recorder())
    assert not any(SYNTHETIC_MARK in t for t in seen)


# -- failures leave finished files and no partial ones -----------------------------------


def test_failed_run_publishes_nothing(tmp_path, groups_csv, monkeypatch):
    """A run that fails after writing every table publishes none of them (issue 19, defect 5:
    no half-written output); docs/reliability.md, "Output folders"."""
    from mrioflow.analysis import figures

    def boom(*a, **k):
        raise RuntimeError("figure failed")

    monkeypatch.setattr(figures, "make_all", boom)
    out = tmp_path / "out"
    s = Settings.build(overrides=dict(groups=str(groups_csv), synthetic_countries=12, output=str(out), backend="numpy"))
    with pytest.raises(RuntimeError, match="figure failed"):
        run(s, progress=False)
    assert list(tmp_path.iterdir()) == []  # no output, no staging folder, no lock


def test_atomic_write_removes_partial_file(tmp_path):
    target = tmp_path / "t.csv"
    target.write_text("old")

    def half(p):
        with open(p, "w") as fh:
            fh.write("partial")
        raise ValueError("disk on fire")

    with pytest.raises(ValueError, match="disk on fire"):
        atomic_write(target, half)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]


def test_unwritable_output_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match=r"cannot write the output folder .*file"):
        OutputFolder(blocker / "out")
    s = Settings.build(overrides=dict(output=str(blocker / "out"), synthetic_countries=70))
    with pytest.raises(OutputError, match="cannot write the output folder"):
        run(s, progress=False)


def test_unknown_country_in_grouping_fails_before_work(tmp_path):
    p = tmp_path / "g.csv"
    p.write_text("iso3,group\nCHN,A\nXXX,B\nQQQ,B\n")
    s = Settings.build(overrides=dict(groups=str(p), output=str(tmp_path / "out")))
    with pytest.raises(mf.errors.LabelError, match="grouping 'g' has 2 countries not in the table: XXX, QQQ"):
        run(s, progress=False)
    assert listing(tmp_path / "out") == set()


def test_one_year(tmp_path, groups_csv):
    s = Settings.build(
        overrides=dict(
            groups=str(groups_csv),
            synthetic_countries=10,
            years=[2013],
            output=str(tmp_path / "o"),
            convention="victim_row",
            norm_set="scope",
        )
    )
    summary = run(s, progress=False)
    assert listing(summary.output) == expected_files((2013,))
    b = pd.read_csv(summary.output / "tables" / "bmi_country_2013.csv", index_col=0)
    assert b.to_numpy().max() <= 3 and b.shape == (8, 8)


def test_run_tables_report_the_stressors_of_zero_output_sectors():
    """Issue 19, defect 13: emissions of sectors with x = 0 are in no account; run's accounts tables
    carry them in a column of their own (and Engine.run's warning names them)."""
    import mrioflow as mf
    from mrioflow.analysis.pipeline import _accounts
    from mrioflow.engine.results import ZeroOutputWarning

    world = mf.datasets.synthetic(2013, seed=1, n_countries=3)
    j = 5
    Z, Y, F = world.Z.copy(), world.Y.copy(), world.F.copy()
    Z[j, :], Z[:, j], Y[j, :], F[:, j] = 0.0, 0.0, 0.0, 0.0
    F[world.stressor_position("CH4"), j] = 1000.0
    m = world.replace(Z=Z, Y=Y, F=F)
    with pytest.warns(ZeroOutputWarning):
        res = mf.Engine("numpy").run(m)
    groups = mf.regions.from_dict({c: "all" for c in m.countries})
    country, region = _accounts(res, groups, ["CH4", "VA"], 2013)
    ch4 = country[country["stressor"] == "CH4"].set_index("country")
    assert ch4.loc[m.countries[0], "zero_output"] == 1000.0 and ch4["zero_output"].sum() == 1000.0
    assert region.set_index("stressor").loc["CH4", "zero_output"].sum() == 1000.0
    plain, _ = _accounts(mf.Engine("numpy").run(world), groups, ["CH4", "VA"], 2013)
    assert "zero_output" not in plain.columns  # only when there are such sectors
