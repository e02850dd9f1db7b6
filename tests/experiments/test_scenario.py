"""mf.Scenario: building, printing, composing, labels, TOML and its one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import mrioflow as mf
from mrioflow.errors import InvalidValueError, LabelError, MissingDataError, OptionError, ReaderError
from mrioflow.experiments import load_scenarios

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples" / "bri-scenarios.toml"


@pytest.fixture(scope="module")
def world():
    return mf.datasets.synthetic(year=2013, seed=1, n_countries=4)


def test_print_and_compose():
    a = mf.Scenario("a", description="less methane").scale_intensity(0.8, stressor="CH4", sector="Agriculture")
    b = mf.Scenario("b").scale_final_demand(1.1, consumer=["CHN", "IND"])
    both = a + b
    assert both.name == "a+b" and len(both.changes) == 2
    text = str(both)
    assert text.splitlines()[0] == "Scenario 'a+b': 2 changes"
    assert "intensity: scale 0.8 where stressor=CH4, sector=Agriculture" in text
    assert "final_demand: scale 1.1 where consumer=['CHN', 'IND']" in text
    assert a.changes[0] in both.changes and a != both


def test_unknown_label_is_one_line_listing_the_valid_ones(world):
    sc = mf.Scenario("x").scale_intensity(0.5, stressor="CH4", country="XYZ")
    with pytest.raises(LabelError) as err:
        sc.resolve(world)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("scenario 'x', key 'country': unknown country 'XYZ'; valid: ")
    assert ", ".join(world.countries) in msg
    with pytest.raises(LabelError, match="key 'buyer_sector': unknown sector 'Farming'"):
        mf.Scenario("y").scale_technology(0.5, buyer_sector="Farming").resolve(world)
    with pytest.raises(LabelError, match="key 'stressor': unknown stressor 'CO2'; valid: CH4, VA"):
        mf.Scenario("z").scale_intensity(0.5, stressor="CO2").resolve(world)
    with pytest.raises(LabelError, match="key 'region': unknown region 'Mars'"):
        mf.Scenario("r").scale_intensity(0.5, stressor="CH4", region="Mars").resolve(world)


def test_negative_values_refused():
    with pytest.raises(InvalidValueError, match="negative"):
        mf.Scenario("n").scale_intensity(-1.0, stressor="CH4")
    with pytest.raises(InvalidValueError, match="share"):
        mf.Scenario("n").shift_final_demand(1.5, from_="CHN", to="IND")


def test_region_selector(world):
    groups = {world.countries[0]: "East", world.countries[1]: "East", world.countries[2]: "West"}
    sc = mf.Scenario("r", groups=groups).scale_intensity(0.0, stressor="CH4", region="East")
    row = sc.resolve(world)
    S0 = world.F / world.x
    n_s = world.n_sectors
    assert np.all(row.S[0, : 2 * n_s] == 0)
    np.testing.assert_allclose(row.S[0, 2 * n_s :], S0[0, 2 * n_s :], rtol=1e-15)
    np.testing.assert_allclose(row.S[1], S0[1], rtol=1e-15)  # VA untouched
    every = mf.Scenario("all", groups=groups).scale_intensity(0.0, stressor="CH4", region="*").resolve(world)
    assert np.all(every.S[0, : 3 * n_s] == 0) and np.allclose(every.S[0, 3 * n_s :], S0[0, 3 * n_s :], rtol=1e-15)


def test_shifts_keep_totals(world):
    c, s = world.countries, world.sectors
    moved = mf.Scenario("f").shift_final_demand(0.3, consumer=c[0], product=s[0], from_=c[1], to=c[2]).apply(world)
    np.testing.assert_allclose(moved.Y.sum(axis=0), world.Y.sum(axis=0), rtol=1e-12)
    row = mf.Scenario("t").shift_technology(0.3, buyer=c[0], product=s[0], from_=c[1], to=c[2]).resolve(world)
    np.testing.assert_allclose(row.dA.sum(axis=0), 0, atol=1e-15)  # column totals of A kept
    assert row.rank == 2  # two rows (from, to) x 26 columns


def test_examples_file_loads():
    scenarios = load_scenarios(EXAMPLES)
    assert [s.name for s in scenarios] == [
        "bri-agriculture-ch4-20",
        "china-food-from-southeast-asia",
        "india-power-less-fossil",
    ]
    assert scenarios[0].changes[0].selectors == {"stressor": "CH4", "region": "*", "sector": "Agriculture"}


@pytest.mark.parametrize(
    "body, error, message",
    [
        ('kind = "intensity"\nstressor = "CH4"\nscale = "abc"', OptionError, "change 1: key 'scale'"),
        ('kind = "intensity"\nstressor = "CH4"\nscale = 0.5\nsector = 3', OptionError, "change 1: key 'sector'"),
        ('kind = "intensity"\nstressor = "CH4"\nscale = 0.5\ncolour = "red"', OptionError, "key 'colour'"),
        ('kind = "weather"\nscale = 0.5', OptionError, "key 'kind'"),
        ('kind = "technology"\nscale = -2', InvalidValueError, "key 'scale'"),
        ('kind = "final_demand_sourcing"\nshare = 0.5\nto = "CHN"', OptionError, "key 'from'"),
    ],
)
def test_bad_file_is_one_line_naming_file_scenario_key(tmp_path, body, error, message):
    path = tmp_path / "bad.toml"
    path.write_text(f'[[scenario]]\nname = "s1"\n[[scenario.change]]\n{body}\n', encoding="utf-8")
    with pytest.raises(error) as err:
        load_scenarios(path)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"{path}: scenario 's1', ")
    assert message in msg


def test_bad_file_structure(tmp_path):
    with pytest.raises(MissingDataError, match="no such scenario file"):
        load_scenarios(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[scenario]\n", encoding="utf-8")
    with pytest.raises(ReaderError, match="not valid TOML"):
        load_scenarios(bad)
    bad.write_text('title = "x"\n', encoding="utf-8")
    with pytest.raises(ReaderError, match="unknown top-level key"):
        load_scenarios(bad)


def test_label_error_from_a_file_names_it(tmp_path, world):
    path = tmp_path / "s.toml"
    path.write_text(
        '[[scenario]]\nname = "s1"\n[[scenario.change]]\nkind = "final_demand"\nconsumer = "XYZ"\nscale = 2\n'
    )
    (sc,) = load_scenarios(path)
    with pytest.raises(LabelError, match=rf"^{path}: scenario 's1', key 'consumer': unknown country 'XYZ'"):
        sc.resolve(world, where=str(path))
