"""`mrioflow run` on real-data inputs: Eora26 with EDGAR methane, and pymrio folders, end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
from cli_runner import run_cli as mrioflow
from edgar_layout import HEADER, YEARS

import mrioflow as mf

SOURCES = ["3.A.1", "1.B.2", "4.A", "1.A.2", "1.A.4"]  # enteric, fugitive gas, landfills, industry, households


def _edgar_csv(path, codes, rng):
    rows = []
    for code in [*codes, "XKX", "AIR"]:  # Kosovo has no Eora country; AIR is international aviation
        for src in SOURCES if code != "AIR" else ["1.A.3.a"]:
            rows.append(["Non-Annex_I", "Rest", code, code, src, src, "CH4", "bio", *rng.gamma(2.0, 40.0, len(YEARS))])
    table = pd.DataFrame(rows, columns=HEADER)
    path.write_text("\n" * 9 + table.to_csv(index=False))  # EDGAR's title block, header on row 10
    return table


def test_edgar_methane_replaces_eora_methane(tmp_path):
    codes = list(mf.regions.bri().countries) + ["USA", "DEU"]
    world = mf.datasets.synthetic(2021, countries=codes)
    mf.io.write_eora26(world, tmp_path / "eora", 2021, zip=True)
    table = _edgar_csv(tmp_path / "edgar.csv", codes, np.random.default_rng(3))
    mapping = tmp_path / "all_to_agriculture.csv"
    bundled = pd.read_csv(mf.data.path("edgar_ch4_to_eora26.csv"))
    bundled.assign(
        eora26_sector=np.where(bundled["eora26_sector"] == "final_demand_households", "final_demand_households", "1"),
        weight_rule="all",
    ).to_csv(mapping, index=False)

    for extra, out in [([], tmp_path / "o1"), (["--edgar-mapping", mapping], tmp_path / "o2")]:
        proc = mrioflow(
            "run",
            "-q",
            "--eora26",
            tmp_path / "eora",
            "--years",
            2021,
            "--edgar",
            tmp_path / "edgar.csv",
            *extra,
            "--no-cache",
            "--backend",
            "numpy",
            "-o",
            out,
        )
        assert proc.returncode == 0, proc.stderr
        assert "XKX" in proc.stderr  # a country in EDGAR but not in the table is reported by code
        acc = pd.read_csv(out / "tables" / "accounts_country_2021.csv")
        acc = acc[acc["stressor"] == "CH4"].set_index("country")
        # production-based methane (direct household emissions included) is EDGAR's country total
        edgar_total = table[table["Country_code_A3"].isin(codes)].groupby("Country_code_A3")["Y_2021"].sum()
        np.testing.assert_allclose(acc.loc[codes, "pba"].to_numpy(), edgar_total.loc[codes].to_numpy(), rtol=1e-9)
        # global balance and conservation: what is consumed is what was emitted
        assert np.isclose(acc["cba"].sum(), acc["pba"].sum(), rtol=1e-9)
        households = table[
            (table["ipcc_code_2006_for_standard_report"] == "1.A.4") & table["Country_code_A3"].isin(codes)
        ]
        np.testing.assert_allclose(acc["direct"].sum(), households["Y_2021"].sum(), rtol=1e-9)

    sectors = pd.read_csv(tmp_path / "o2" / "tables" / "sectors_country_2021.csv")
    production = sectors[(sectors["stressor"] == "CH4") & (sectors["perspective"] == "production")]
    by_sector = production.groupby("sector")["value"].sum()
    non_agri = by_sector.drop(["Agriculture", "Direct (final demand)"], errors="ignore")
    assert np.allclose(non_agri.to_numpy(), 0.0) and by_sector["Agriculture"] > 0  # the user's mapping was used


def test_edgar_mapping_needs_edgar(tmp_path):
    proc = mrioflow("run", "-q", "--edgar-mapping", tmp_path / "m.csv", "-o", tmp_path / "o")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "mrioflow: error: edgar_mapping maps an EDGAR file's sources: give edgar as well"
    ]


def test_run_on_pymrio_folders(tmp_path):
    """`mrioflow run --pymrio A --pymrio B`: each folder is one year's table, read back exactly."""
    codes = list(mf.regions.bri().countries) + ["USA"]
    worlds = {y: mf.datasets.synthetic(y, countries=codes) for y in (2013, 2021)}
    for y, w in worlds.items():
        mf.io.write_pymrio_folder(w, tmp_path / f"pm{y}", table_format="parquet")
    out = tmp_path / "o"
    proc = mrioflow(
        "run", "-q", "--pymrio", tmp_path / "pm2013", "--pymrio", tmp_path / "pm2021", "--backend", "numpy", "-o", out
    )
    assert proc.returncode == 0, proc.stderr
    for y, w in worlds.items():
        gmi = pd.read_csv(out / "tables" / f"gmi_region_{y}.csv", index_col=0)["GMI"]
        ref = mf.indices.gmi(mf.Engine("numpy").run(w), "CH4", mf.regions.bri())
        np.testing.assert_allclose(gmi.to_numpy(), ref.to_numpy(), rtol=1e-10, atol=1e-12)
