"""Database-aware grouping: a grouping of ISO3 countries against a table that names its regions
by its own codes and holds some countries only inside aggregate regions (EXIOBASE 3)."""

import pytest

import mrioflow.regions as rg
from mrioflow.errors import LabelError, OptionError

EXIO = ["AT", "CN", "RU", "IN", "PL", "WA", "WE", "WF", "WL", "WM"]


def grouping():
    return rg.from_dict({"East": ["CHN", "RUS", "PAK"], "West": ["POL", "UKR"], "Gulf": ["SAU"]}, name="demo")


def test_the_bundled_exiobase_concordance_lists_countries_and_five_aggregates():
    c = rg.concordance("exiobase3")
    assert c is not None
    assert c.code_of["CHN"] == "CN" and c.code_of["PAK"] == "WA" and c.code_of["SAU"] == "WM"
    assert c.aggregates == frozenset({"WA", "WE", "WF", "WL", "WM"})
    assert len({code for code in c.code_of.values() if code not in c.aggregates}) == 44
    assert rg.concordance("no-such-database") is None


def test_resolved_countries_are_used_as_themselves_and_the_rest_named():
    r = rg.resolve_for_table(grouping(), EXIO, database="exiobase3")
    assert r.resolved == {"CHN": "CN", "RUS": "RU", "POL": "PL"}
    assert dict(zip(r.regions.countries, [r.regions.group_of(c) for c in r.regions])) == {
        "CN": "East",
        "RU": "East",
        "PL": "West",
    }
    assert [(c, a) for c, _, _, a in r.unresolved] == [("PAK", "WA"), ("UKR", "WE"), ("SAU", "WM")]
    assert r.empty_groups == ["Gulf"]
    assert r.summary()["unresolved"][0] == {"country": "PAK", "name": "Pakistan", "group": "East", "inside": "WA"}


def test_a_whole_aggregate_region_can_be_assigned_to_a_group():
    r = rg.resolve_for_table(grouping(), EXIO, database="exiobase3", assign={"WM": "Gulf", "WA": "East"})
    assert r.regions.members("Gulf") == ("WM",)
    assert set(r.regions.members("East")) == {"CN", "RU", "WA"}
    assert r.assigned == {"WM": "Gulf", "WA": "East"}
    assert r.empty_groups == []
    # the unresolved countries are still named (their aggregate now counts as a whole)
    assert ("SAU", "WM") in [(c, a) for c, _, _, a in r.unresolved]


def test_bad_assignments_are_refused_with_the_valid_choices():
    with pytest.raises(OptionError, match="not an aggregate region.*WA, WE, WF, WL, WM"):
        rg.resolve_for_table(grouping(), EXIO, database="exiobase3", assign={"CN": "East"})
    with pytest.raises(OptionError, match="'Nowhere'.*East, West, Gulf"):
        rg.resolve_for_table(grouping(), EXIO, database="exiobase3", assign={"WA": "Nowhere"})
    with pytest.raises(OptionError, match="no region concordance|has none"):
        rg.resolve_for_table(grouping(), ["CHN", "RUS", "PAK", "POL", "UKR", "SAU"], assign={"WA": "East"})


def test_without_a_concordance_every_country_must_be_in_the_table():
    with pytest.raises(LabelError, match="2 countries not in the table: UKR, SAU"):
        rg.resolve_for_table(grouping(), ["CHN", "RUS", "PAK", "POL"])
    r = rg.resolve_for_table(grouping(), ["CHN", "RUS", "PAK", "POL", "UKR", "SAU", "USA"])
    assert r.regions == grouping() and r.unresolved == []


def test_a_grouping_the_table_does_not_resolve_at_all_is_an_error():
    g = rg.from_dict({"South": ["PAK", "BGD"]})
    with pytest.raises(LabelError, match="none of the 2 countries.*assign aggregate regions"):
        rg.resolve_for_table(g, EXIO, database="exiobase3")


def test_the_bri_grouping_on_exiobase_resolves_18_countries():
    codes = sorted({c for c in rg.concordance("exiobase3").code_of.values()})
    r = rg.resolve_for_table(rg.bri(), codes, database="exiobase3")
    assert len(r.resolved) == 18 and len(r.unresolved) == 44
    assert all(a in {"WA", "WE", "WM"} for _, _, _, a in r.unresolved)
