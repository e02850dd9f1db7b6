"""Characterisation: CO2e by global warming potentials, checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

import mrioflow as mf
from mrioflow.errors import LabelError, OptionError, ReaderError


@pytest.fixture(scope="module")
def world():
    w = mf.datasets.synthetic(2013, seed=4, n_countries=5)
    rng = np.random.default_rng(0)
    n2o = rng.uniform(0, 2, w.n)  # in kt: converted to the Gg of CH4 (1 kt = 1 Gg)
    co2 = rng.uniform(0, 5e3, w.n) * 1e6  # in kg
    return w.with_stressor("N2O", n2o, unit="kt").with_stressor("co2", co2, unit="kg")


def test_the_built_in_factors_are_ipccs():
    table = mf.characterisation.factors()
    get = lambda m, g: float(table[(table.method == m) & (table.gas == g)].factor.iloc[0])  # noqa: E731
    # IPCC AR6 WG1 Table 7.15 / 7.SM.7 and AR5 WG1 Table 8.7
    assert (get("GWP100", "CH4"), get("GWP20", "CH4"), get("GWP100", "N2O")) == (27.9, 81.2, 273.0)
    assert (get("GWP100", "CH4_fossil"), get("GWP100", "CH4_non_fossil")) == (29.8, 27.0)
    assert (get("GWP100_AR5", "CH4"), get("GWP100_AR5", "N2O")) == (28.0, 265.0)
    assert all("IPCC" in s for s in table.source)


def test_co2e_is_the_hand_computation(world):
    out = mf.characterise(world, "GWP100")
    i = out.stressor_position("CO2e (GWP100)")
    ch4, n2o, co2 = (world.F[world.stressor_position(s)] for s in ("CH4", "N2O", "co2"))
    # by hand: Gg CO2e = 27.9 Gg CH4 + 273 kt N2O (1 kt = 1 Gg) + 1 * kg CO2 / 1e6
    np.testing.assert_allclose(out.F[i], 27.9 * ch4 + 273 * n2o + co2 / 1e6, rtol=1e-14)
    assert out.units[i] == "Gg CO2e"
    used = {g["stressor"]: g["factor"] for g in out.meta["characterisation"]["gases"]}
    assert used == {"co2": 1.0, "CH4": 27.9, "N2O": 273.0}
    # accounts are linear in F: the CO2e CBA is the weighted sum of the gases' CBAs
    res = mf.Engine("numpy").run(out, sector_flows=False)
    cba = sum(f * res.accounts(s)["cba"] * u for s, f, u in (("CH4", 27.9, 1), ("N2O", 273, 1), ("co2", 1, 1e-6)))
    np.testing.assert_allclose(res.accounts("CO2e (GWP100)")["cba"], cba, rtol=1e-12)


def test_gases_named_explicitly_and_gwp20(world):
    out = mf.characterise(world, "GWP20", gases={"CH4_fossil": "CH4"}, name="fossil methane CO2e")
    np.testing.assert_allclose(out.F[-1], 82.5 * world.F[world.stressor_position("CH4")], rtol=1e-14)


def test_a_user_factor_table(world, tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("method,gas,factor\nGTP100,CH4,5.7\nGTP100,N2O,233\n", encoding="utf-8")
    out = mf.characterise(world, "GTP100", table=path)
    np.testing.assert_allclose(
        out.F[-1],
        5.7 * world.F[world.stressor_position("CH4")] + 233 * world.F[world.stressor_position("N2O")],
        rtol=1e-14,
    )
    assert out.meta["characterisation"]["source"] == str(path)


def test_errors_name_the_problem(world, tmp_path):
    with pytest.raises(OptionError, match=r"unknown characterisation method 'GWP50'; .*GWP100"):
        mf.characterise(world, "GWP50")
    with pytest.raises(LabelError, match="no stressor of the table is named after a gas"):
        mf.characterise(world.select_stressors(["VA"]))
    with pytest.raises(LabelError, match=r"GWP100 has no factor for \['SF6'\]"):
        mf.characterise(world, gases={"SF6": "CH4"})
    with pytest.raises(OptionError, match=r"stressor 'VA' is in 'kUSD'.*mass units"):
        mf.characterise(world, gases={"CH4": "CH4", "N2O": "VA"})
    bad = tmp_path / "bad.csv"
    bad.write_text("method,gas,factor\nX,CH4,lots\n", encoding="utf-8")
    with pytest.raises(ReaderError, match=r"bad\.csv: row 2 \(X, CH4\): factor 'lots'"):
        mf.characterise(world, "X", table=bad)
