"""Country groupings: the built-in BRI regions, CSV and dict groupings, checks against a table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mrioflow as mf
from mrioflow import data
from mrioflow.errors import LabelError, MissingDataError, ReaderError


def test_bri_has_62_countries_in_9_regions():
    g = mf.regions.bri()
    assert len(g) == 62 and len(g.groups) == 9
    assert g.name == "BRI"
    assert g.group_of("CHN") == "China"
    assert g.group_of("RUS") == "Mongolia-Russia"
    assert g.group_of("USA") is None
    assert g.groups[0] == "China"
    assert sum(len(g.members(r)) for r in g.groups) == 62
    assert g.country_names["VNM"] == "Viet Nam"
    assert g.country_names_zh["CHN"] == "中国"
    assert g.group_names_zh["West Asia"] == "西亚"


def test_bri_countries_are_eora26_codes():
    eora = set(data.eora26_countries()["iso3"])
    g = mf.regions.bri()
    assert set(g.countries) <= eora


def test_bri_matches_the_bundled_file():
    table = pd.read_csv(data.path("bri_regions.csv"), keep_default_na=False)
    g = mf.regions.bri()
    assert list(g.countries) == table["iso3"].tolist()
    assert dict(g.to_series()) == dict(zip(table["iso3"], table["region_en"]))


def test_from_dict_both_forms():
    a = mf.regions.from_dict({"CHN": "East", "JPN": "East", "DEU": "West"})
    b = mf.regions.from_dict({"East": ["CHN", "JPN"], "West": ["DEU"]})
    assert a == b
    assert a.members("East") == ("CHN", "JPN")
    with pytest.raises(LabelError, match=r"unknown group 'North'; the groups are: East, West"):
        a.members("North")


def test_from_dict_country_in_two_groups():
    with pytest.raises(LabelError, match=r"country 'CHN' is in two groups: 'East' and 'West'"):
        mf.regions.from_dict({"East": ["CHN"], "West": ["CHN", "DEU"]})


def test_empty_grouping():
    with pytest.raises(LabelError, match="at least one country"):
        mf.regions.from_dict({})


def test_from_csv_default_and_explicit_column(tmp_path):
    p = tmp_path / "g.csv"
    p.write_text("iso3,bloc,region\nCHN,A,East\nDEU,B,West\nFRA,B,West\n", encoding="utf-8")
    g = mf.regions.from_csv(p)  # "region" is a known group column
    assert g.groups == ("East", "West") and g.name == "g"
    h = mf.regions.from_csv(p, group_column="bloc")
    assert h.members("B") == ("DEU", "FRA")
    two = tmp_path / "two.csv"
    two.write_text("iso3,club\nCHN,x\nIND,y\n", encoding="utf-8")
    assert mf.regions.from_csv(two).group_of("IND") == "y"


def test_from_csv_duplicate_same_group_is_fine(tmp_path):
    p = tmp_path / "g.csv"
    p.write_text("iso3,group\nCHN,A\nCHN,A\nDEU,B\n", encoding="utf-8")
    assert len(mf.regions.from_csv(p)) == 2


def test_from_csv_errors(tmp_path):
    with pytest.raises(MissingDataError, match="grouping file not found: .*nope.csv"):
        mf.regions.from_csv(tmp_path / "nope.csv")
    p = tmp_path / "noiso.csv"
    p.write_text("code,group\nCHN,A\n", encoding="utf-8")
    with pytest.raises(ReaderError, match=r"noiso.csv: expected a column 'iso3'.*found columns: code, group"):
        mf.regions.from_csv(p)
    p = tmp_path / "which.csv"
    p.write_text("iso3,a,b\nCHN,1,2\n", encoding="utf-8")
    with pytest.raises(ReaderError, match="cannot tell which column holds the groups"):
        mf.regions.from_csv(p)
    with pytest.raises(ReaderError, match="no group column 'c'"):
        mf.regions.from_csv(p, group_column="c")
    p = tmp_path / "empty.csv"
    p.write_text("iso3,group\nCHN,A\nDEU,\n", encoding="utf-8")
    with pytest.raises(ReaderError, match=r"empty.csv, line 3: country DEU has an empty 'group'"):
        mf.regions.from_csv(p)
    p = tmp_path / "twice.csv"
    p.write_text("iso3,group\nCHN,A\nCHN,B\n", encoding="utf-8")
    with pytest.raises(LabelError, match=r"line 3: country CHN is in two groups: 'A' and 'B'"):
        mf.regions.from_csv(p)


def test_check_lists_every_missing_country():
    g = mf.regions.from_dict({"A": ["CHN", "XXX"], "B": ["DEU", "YYY"]}, name="mine")
    with pytest.raises(LabelError, match=r"grouping 'mine' has 2 countries not in the table: XXX, YYY"):
        g.check(["CHN", "DEU", "USA"])
    g.check(["CHN", "XXX", "DEU", "YYY", "USA"])  # extra table countries are fine


def test_membership_and_mask():
    g = mf.regions.from_dict({"A": ["DEU", "CHN"], "B": ["IND"]})
    countries = ["CHN", "DEU", "USA", "IND"]
    P = g.membership(countries)
    np.testing.assert_array_equal(P, [[1, 1, 0, 0], [0, 0, 0, 1]])
    np.testing.assert_array_equal(g.mask(countries), [True, True, False, True])


def test_as_regions(tmp_path):
    assert mf.regions.as_regions(None) == mf.regions.bri()
    g = mf.regions.from_dict({"CHN": "A"})
    assert mf.regions.as_regions(g) is g
    assert mf.regions.as_regions({"CHN": "A"}) == g
    p = tmp_path / "g.csv"
    p.write_text("iso3,group\nCHN,A\n", encoding="utf-8")
    assert mf.regions.as_regions(str(p)) == g
    with pytest.raises(LabelError, match="groups must be a Regions object, a dict, a CSV path or None"):
        mf.regions.as_regions(42)


def test_to_frame_roundtrip(tmp_path):
    g = mf.regions.bri()
    p = tmp_path / "bri.csv"
    g.to_frame().to_csv(p, index=False)
    assert mf.regions.from_csv(p) == g
