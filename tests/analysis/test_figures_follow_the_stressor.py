"""Figures name the stressor they show and keep readable units (issue 20: a CO2 run was titled methane)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mrioflow.analysis import figures
from mrioflow.analysis.settings import Settings


@pytest.mark.parametrize(("stressor", "word"), [("CH4", "methane"), ("CO2", "CO2"), ("CO2e (GWP100)", "CO2e (GWP100)")])
def test_index_figures_are_titled_after_the_stressor(stressor, word):
    settings = Settings(stressor=stressor)
    m = pd.DataFrame(np.eye(3), index=list("abc"), columns=list("abc"))
    bmi = figures._bmi_figure(m, 2013, settings, 1.0, synthetic=False)
    assert f"Bilateral {word} inequality index (BMI), {stressor}" in bmi.axes[0].get_title()
    g = pd.DataFrame({2013: [0.5, -0.2, 0.1]}, index=pd.Index(list("abc"), name="region"))
    gmi = figures._gmi_figure(g, settings, synthetic=False)
    assert f"Global {word} inequality index (GMI)" in gmi.axes[0].get_title()
    assert ("methane" in gmi.axes[0].get_title()) == (word == "methane")


@pytest.mark.parametrize(
    ("unit", "largest", "factor", "label"),
    [
        ("Gg", 5e3, 1.0, "Gg"),
        ("Gg", 5e4, 1e-3, "Tg = 1,000 Gg"),
        ("kg", 3e12, 1e-9, "Mt = 1,000,000,000 kg"),  # CO2 in kg: no 1e9 offset on the axis
        ("kt CO2e", 2e6, 1e-3, "Mt CO2e = 1,000 kt CO2e"),
        ("kUSD", 1e9, 1e-6, "billion USD = 10^6 kUSD"),
        ("m3", 2e9, 1e-6, "10^6 m3"),
    ],
)
def test_axes_are_scaled_to_readable_numbers(unit, largest, factor, label):
    got_factor, got_label = figures._scale(unit, np.array([1.0, largest]))
    assert (got_factor, got_label) == (pytest.approx(factor), label)
    assert largest * got_factor < 1e4
