"""Nothing executable reaches report.html: hostile region and sector names, units, sources and
metadata are escaped; a year that is not a whole number is refused before it names a file."""

from __future__ import annotations

import re

import pytest

import mrioflow as mf
from mrioflow.analysis import Settings, pipeline, run
from mrioflow.errors import ReaderError

EVIL = "<img src=x onerror=alert(1)>"
SCRIPT = "</table><script>alert('x')</script>"
CODES = ["CHN", "JPN", "KOR", "IND", "PAK", "DEU", "FRA", "GBR", "USA", "ROW"]


def _hostile_world(year):
    w = mf.datasets.synthetic(2013, countries=CODES)
    sectors = list(w.sectors)
    sectors[0] = EVIL
    return w.replace(
        year=year,
        units=tuple(f"Gg{SCRIPT}" if s == "CH4" else f"kUSD{EVIL}" for s in w.stressors),
        source=f"pymrio folder {EVIL}",
        country_names=tuple(f"{c}{EVIL}" for c in w.countries),
        sectors=tuple(sectors),
        meta={"synthetic": False, "description": SCRIPT, "name": EVIL},
    )


def _settings(tmp_path, groups):
    return Settings.build(overrides=dict(groups=str(groups), years=[2013], output=str(tmp_path / "o"), backend="numpy"))


@pytest.fixture
def hostile_groups(tmp_path):
    p = tmp_path / "groups.csv"
    p.write_text(f'iso3,region\nCHN,"{EVIL}"\nJPN,"{EVIL}"\nIND,"{SCRIPT}"\nDEU,West\n', encoding="utf-8")
    return p


def test_hostile_labels_are_escaped(tmp_path, hostile_groups, monkeypatch):
    monkeypatch.setattr(
        pipeline, "_tables", lambda s, r: [(None, lambda: _hostile_world(2013)), (None, lambda: _hostile_world(2021))]
    )
    summary = run(_settings(tmp_path, hostile_groups), progress=False)
    html = (summary.output / "report.html").read_text(encoding="utf-8")
    assert "<img src=x" not in html and "<script" not in html and "onerror=alert(1)>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # the label is shown, escaped
    assert "&lt;/table&gt;&lt;script&gt;" in html
    tags = set(re.findall(r"<\s*([a-zA-Z][a-zA-Z0-9]*)", html))
    assert tags <= {
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "div",
        "h1",
        "h2",
        "h3",
        "p",
        "b",
        "code",
        "figure",
        "img",
        "figcaption",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "dl",
        "dt",
        "dd",
        "pre",
    }
    assert html.count("<img ") == len(list((summary.output / "figures").glob("*.png")))


@pytest.mark.parametrize("year", ["<script>alert(1)</script>", 2013.5, -4, True, "2013"])
def test_a_year_that_is_not_a_whole_number_is_refused(tmp_path, hostile_groups, monkeypatch, year):
    world = _hostile_world(2013)
    object.__setattr__(world, "year", year)  # as a reader that does not check it would return
    monkeypatch.setattr(pipeline, "_tables", lambda s, r: [(None, lambda: world)])
    with pytest.raises(ReaderError, match=r"the table's year must be a whole number between 1 and 9999, got"):
        run(_settings(tmp_path, hostile_groups), progress=False)
    assert not (tmp_path / "o").exists()


def test_hostile_stressor_names_are_escaped_and_get_safe_file_names(tmp_path, hostile_groups, monkeypatch):
    """The analysed stressor and value added named by the data (any name is accepted: issue 20):
    escaped everywhere in the report, and written under slugs that are plain file names."""
    stressor, va = f"CH4 {EVIL}", f"../VA {SCRIPT} $\\bad$"

    def world(year):
        w = _hostile_world(year)
        return w.replace(stressors=tuple(stressor if s == "CH4" else va for s in w.stressors))

    monkeypatch.setattr(pipeline, "_tables", lambda s, r: [(None, lambda: world(2013)), (None, lambda: world(2021))])
    settings = Settings.build(
        overrides=dict(
            groups=str(hostile_groups),
            years=[2013],
            output=str(tmp_path / "o"),
            backend="numpy",
            stressor=stressor,
            value_added=va,
        )
    )
    summary = run(settings, progress=False)
    html = (summary.output / "report.html").read_text(encoding="utf-8")
    assert "<img src=x" not in html and "<script" not in html
    assert "CH4 &lt;img src=x onerror=alert(1)&gt;" in html
    files = [p for p in summary.output.rglob("*") if p.is_file()]
    assert all(p.parent in (summary.output, summary.output / "tables", summary.output / "figures") for p in files)
    assert not [p for p in files if any(c in p.name for c in "<>/ '()")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["groups.csv", "o"]
