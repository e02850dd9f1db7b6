"""The scenario figure draws a stressor name that matplotlib cannot read as math as plain text."""

from __future__ import annotations

import matplotlib

import mrioflow as mf
from mrioflow.experiments import Evaluator
from mrioflow.experiments.study import _changes_figure

matplotlib.use("Agg")


def test_a_name_with_bad_math_is_drawn(tmp_path):
    name = "a $\\bad$"
    world = mf.datasets.synthetic(2013, n_countries=4)
    world = world.replace(stressors=[name, "VA"])
    res = Evaluator(mf.Engine("numpy").prepare(world), indices=None).evaluate(
        [mf.Scenario("cut").scale_intensity(0.8, stressor=name)]
    )
    fig = _changes_figure(res, name, 2013)  # fig.tight_layout alone raised a ValueError from mathtext
    fig.savefig(tmp_path / "changes.png")
    assert any(name in t.get_text() for t in fig.findobj(matplotlib.text.Text))
