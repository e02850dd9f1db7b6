"""--data PATH [--format NAME] for run, mc and sweep; --eora26 and --pymrio as aliases (in process)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import mrioflow as mf
from mrioflow.cli import main

COUNTRIES = ["CHN", "JPN", "IND", "PAK", "DEU", "FRA", "USA", "ROW"]
GROUPS = "iso3,region\nCHN,East\nJPN,East\nIND,South\nPAK,South\nDEU,West\nFRA,West\n"


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    world = mf.datasets.synthetic(year=2013, seed=3, countries=COUNTRIES)
    (d / "groups.csv").write_text(GROUPS, encoding="utf-8")
    return {
        "world": world,
        "groups": d / "groups.csv",
        "pymrio": mf.io.write_pymrio_folder(world, d / "sys", table_format="parquet"),
        "eora": mf.io.write_eora26(world, d / "eora", 2013),
    }


def test_run_data_is_recognised_and_aliases_agree(sources, tmp_path, capsys):
    common = ["run", "-q", "--groups", str(sources["groups"]), "--backend", "numpy", "--years", "2013"]
    assert main([*common, "--data", str(sources["pymrio"]), "-o", str(tmp_path / "a")]) == 0
    assert main([*common, "--pymrio", str(sources["pymrio"]), "-o", str(tmp_path / "b")]) == 0
    assert (
        main([*common, "--data", str(sources["eora"]), "--format", "eora26", "--no-cache", "-o", str(tmp_path / "c")])
        == 0
    )
    capsys.readouterr()
    for out, reader in ((tmp_path / "a", "pymrio"), (tmp_path / "b", "pymrio"), (tmp_path / "c", "eora26")):
        prov = json.loads((out / "provenance.json").read_text())
        assert prov["data"] == reader
    a, b, c = (pd.read_parquet(next((tmp_path / k).rglob("accounts_country_2013.parquet"))) for k in "abc")
    pd.testing.assert_frame_equal(a, b)
    ref = mf.Engine("numpy").run(sources["world"]).accounts("CH4")
    ch4 = a[a.stressor == "CH4"].set_index("country")
    np.testing.assert_allclose(ch4.loc[ref.index, "cba"], ref["cba"], rtol=1e-9)
    assert "ROW" not in set(c.country)  # Eora26's RoW row is dropped by default


def test_mc_and_sweep_take_data(sources, tmp_path, capsys):
    assert (
        main(
            [
                "mc",
                "-q",
                "--data",
                str(sources["pymrio"]),
                "--samples",
                "4",
                "--backend",
                "numpy",
                "-o",
                str(tmp_path / "mc"),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "sweep",
                "-q",
                "--data",
                str(sources["eora"]),
                "--years",
                "2013",
                "--backend",
                "numpy",
                "-o",
                str(tmp_path / "sw"),
            ]
        )
        == 0
    )
    assert "wrote" in capsys.readouterr().out
    assert any((tmp_path / "mc").rglob("mc_summary_CH4_cba*")) and any((tmp_path / "sw").rglob("*"))


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "--data", "{eora}", "--eora26", "{eora}"], "give one data source, not eora26 and data"),
        (
            ["run", "--data", "{groups}"],
            r"no reader recognises .*groups.csv; give format=NAME \(--format NAME\) with one "
            r"of: eora26: ",
        ),
        (["run", "--data", "{eora}", "--format", "exiobase"], "unknown data format 'exiobase'; available readers: "),
        (
            ["mc", "--eora26", "{eora}", "--seed-world", "3"],
            "the eora26 reader takes no option seed; its options: price",
        ),
        (["sweep", "--years", "2013", "--data", "{eora}", "--data", "{eora}"], "sweep reads one data source, got 2"),
    ],
)
def test_data_errors_are_one_line(sources, tmp_path, capsys, args, message):
    import re

    argv = [a.format(eora=sources["eora"], groups=sources["groups"]) for a in args]
    assert main([*argv, "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("mrioflow: error: ") and re.search(message, err[0]), err
