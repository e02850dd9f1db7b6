"""The reader registry: mf.io.read recognises every source, plugins join through entry points."""

from __future__ import annotations

import importlib
import json
import sys
import textwrap

import numpy as np
import pytest

import mrioflow as mf
from mrioflow.errors import MissingDataError, OptionError, ReaderError
from mrioflow.io import registry

COUNTRIES = ["CHN", "IND", "DEU", "USA", "ROW"]


@pytest.fixture(scope="module")
def world():
    return mf.datasets.synthetic(year=2013, seed=4, countries=COUNTRIES)


def _same(a, b):
    assert a.countries == b.countries and a.sectors == b.sectors and a.stressors == b.stressors
    for name in ("Z", "Y", "F", "F_Y"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-12, atol=0)


def test_read_recognises_every_builtin_source(eora, tmp_path, world):
    from io_fixtures import zip_folder

    by_hand = mf.io.read_eora26(eora.folder, 2013, cache=False)
    folder = mf.io.read(eora.folder, year=2013, cache_dir=tmp_path / "c")
    assert folder.meta["reader"] == "eora26" and folder.meta["cache"] == "rebuilt (missing)"
    _same(folder, by_hand)
    z = mf.io.read(zip_folder(eora, tmp_path / "zips"), year=2013, cache=False)
    assert z.meta["reader"] == "eora26" and z.meta["cache"] == "off"
    _same(z, by_hand)
    # the cache read_eora26 writes is the one mf.io.read uses: same key, options with their defaults
    assert mf.io.read_eora26(eora.folder, 2013, cache_dir=tmp_path / "c").meta["cache"] == "hit"

    sys_folder = mf.io.write_pymrio_folder(world, tmp_path / "sys", table_format="parquet")
    p = mf.io.read(sys_folder)
    assert p.meta["reader"] == "pymrio" and p.year == 2013
    _same(p, world)

    (cache_file,) = (tmp_path / "c").glob("*.mfcache")
    assert mf.io.read(cache_file).meta["reader"] == "cache"

    s = mf.io.read(format="synthetic", year=2014, seed=4, countries=COUNTRIES)
    _same(s, mf.datasets.synthetic(year=2014, seed=4, countries=COUNTRIES))


def test_read_errors(tmp_path, eora):
    with pytest.raises(MissingDataError, match="data not found: .*nowhere does not exist"):
        mf.io.read(tmp_path / "nowhere")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(
        ReaderError,
        match=r"no reader recognises .*notes.txt; give format=NAME \(--format NAME\) "
        r"with one of: eora26: Eora26 .*; pymrio: a pymrio folder .*; cache: .*; "
        r"synthetic: the synthetic",
    ):
        mf.io.read(tmp_path / "notes.txt")
    with pytest.raises(OptionError, match=r"unknown data format 'exio'; available readers: eora26: "):
        mf.io.read(tmp_path / "notes.txt", format="exio")
    with pytest.raises(
        OptionError,
        match=r"the eora26 reader takes no option colour; its options: price, "
        r"keep_row, satellites",
    ):
        mf.io.read(eora.folder, year=2013, colour="red")
    with pytest.raises(OptionError, match=r"the eora26 reader needs a year"):
        mf.io.read(eora.folder, cache=False)
    with pytest.raises(OptionError, match="give a path to read, or format='synthetic'"):
        mf.io.read()
    with pytest.raises(OptionError, match="the synthetic world reads no file"):
        mf.io.read(eora.folder, format="synthetic")


def test_ambiguous_source_names_the_readers(tmp_path, monkeypatch):
    class Everything(registry.Reader):
        name = "everything"
        description = "claims every path"

        def can_open(self, path):
            return True

    monkeypatch.setattr(registry, "_registered", {})
    mf.io.register_reader(Everything)
    folder = tmp_path / "sys"
    folder.mkdir()
    (folder / "file_parameters.json").write_text("{}")
    with pytest.raises(ReaderError, match=r"sys could be read by pymrio or everything: choose one with format=NAME"):
        mf.io.read(folder)
    with pytest.raises(OptionError, match="the reader name 'pymrio' is taken by a built-in reader"):
        mf.io.register_reader(type("Fake", (Everything,), {"name": "pymrio"}))
    with pytest.raises(OptionError, match="is not a reader"):
        mf.io.register_reader(type("Nothing", (), {}))


TOY_MODULE = '''
"""A third party's reader: a JSON file naming a seed, countries and a scale."""
import json
from pathlib import Path

import mrioflow as mf


class ToyReader:
    name = "toy"
    description = "toy tables (*.toy: JSON with seed and countries)"
    yearly = True  # cache_default and sources: the defaults of mf.io.Reader

    def can_open(self, path):
        return Path(path).suffix == ".toy"

    def read(self, path, *, year=None, scale=1.0):
        spec = json.loads(Path(path).read_text())
        m = mf.datasets.synthetic(year=year, seed=spec["seed"], countries=spec["countries"])
        return m.replace(Z=m.Z * scale, Y=m.Y * scale, F=m.F * scale, F_Y=m.F_Y * scale,
                         source=f"toy {Path(path).name}")
'''


@pytest.fixture
def toy_plugin(tmp_path, monkeypatch):
    """Install a reader the way a package does: a module and a dist-info with entry_points.txt on sys.path."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "toy_mrio.py").write_text(textwrap.dedent(TOY_MODULE), encoding="utf-8")
    info = site / "toy_mrio-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-mrio\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        f"[{registry.ENTRY_POINT_GROUP}]\ntoy = toy_mrio:ToyReader\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    yield site
    sys.modules.pop("toy_mrio", None)


def test_entry_point_reader_runs_the_pipeline(toy_plugin, tmp_path):
    from mrioflow.analysis import Settings, run

    assert "toy" in mf.io.list_readers()
    spec = tmp_path / "world.toy"
    spec.write_text(json.dumps({"seed": 4, "countries": COUNTRIES}))
    m = mf.io.read(spec, year=2013)  # recognised by the plugin's can_open
    assert m.meta["reader"] == "toy" and m.source == "toy world.toy" and m.meta["cache"] == "off"
    cached = mf.io.read(spec, year=2013, cache=True, cache_dir=tmp_path / "c", scale=3.0)  # caching wraps it
    again = mf.io.read(spec, year=2013, cache=True, cache_dir=tmp_path / "c", scale=3.0)
    assert cached.meta["cache"] == "rebuilt (missing)" and again.meta["cache"] == "hit"
    np.testing.assert_allclose(again.Z, 3.0 * m.Z, rtol=1e-15)

    groups = tmp_path / "groups.csv"
    groups.write_text("iso3,region\nCHN,East\nIND,South\nDEU,West\n", encoding="utf-8")
    settings = Settings.build(
        None,
        dict(
            data=[str(spec)],
            options={"scale": 2.0},
            years=[2013, 2014],
            groups=str(groups),
            output=str(tmp_path / "out"),
            backend="numpy",
        ),
    )
    assert settings.source == "toy"
    summary = run(settings, progress=False)
    assert summary.years == [2013, 2014] and summary.synthetic  # made from the synthetic world, still marked
    for yr in summary.results:
        ref = mf.datasets.synthetic(year=yr.year, seed=4, countries=COUNTRIES)
        acc = mf.Engine("numpy").run(ref).accounts("CH4")
        table = yr.tables["accounts_country"].query("stressor == 'CH4'").set_index("country")
        # scaling Z, Y and F by 2 leaves A and S alone and doubles x: both accounts double
        np.testing.assert_allclose(table.loc[acc.index, "pba"], 2 * acc["pba"], rtol=1e-10)
        np.testing.assert_allclose(table.loc[acc.index, "cba"], 2 * acc["cba"], rtol=1e-10)
        assert yr.source == "toy world.toy"


def test_broken_plugin_warns_and_the_rest_works(tmp_path, monkeypatch):
    site = tmp_path / "site"
    info = site / "broken-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        f"[{registry.ENTRY_POINT_GROUP}]\nbad = no_such_module:Reader\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(site))
    with pytest.warns(RuntimeWarning, match=r"the reader 'bad' \(no_such_module:Reader\) .* could not be loaded"):
        readers = mf.io.list_readers()
    assert {"eora26", "pymrio", "cache", "synthetic"} <= set(readers)


# -- issue 19 (17): a faulty or clashing plugin is named in a warning, the others go on ------------------

CLASHING_MODULE = """
import mrioflow as mf


class FakePymrio:
    name = "pymrio"
    description = "claims to be the built-in pymrio reader"

    def can_open(self, path):
        return True

    def read(self, path, *, year=None):
        raise AssertionError("never used")


class Raising:
    name = "raising"
    description = "raises in can_open"

    def can_open(self, path):
        raise OSError("the plugin's disk is gone")

    def read(self, path, *, year=None):
        raise AssertionError("never used")


class Twin(Raising):
    description = "a second plugin with the name 'raising'"
"""


@pytest.fixture
def clashing_plugins(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    (site / "clash_mrio.py").write_text(textwrap.dedent(CLASHING_MODULE), encoding="utf-8")
    info = site / "clash_mrio-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: clash-mrio\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        f"[{registry.ENTRY_POINT_GROUP}]\nfake = clash_mrio:FakePymrio\nraising = clash_mrio:Raising\n"
        f"twin = clash_mrio:Twin\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    yield site
    sys.modules.pop("clash_mrio", None)


def test_plugin_named_like_a_builtin_is_named_in_a_warning(clashing_plugins):
    with pytest.warns(RuntimeWarning) as record:
        readers = mf.io.list_readers()
    messages = [str(w.message) for w in record]
    assert any(
        "the reader 'fake' (clash_mrio:FakePymrio) of the entry-point group mrioflow.readers is ignored: "
        "its name 'pymrio' is that of a built-in reader, which stays" in m
        for m in messages
    ), messages
    # two plugins called 'raising': the first loaded stays, the other is named with the one it clashes with
    assert any(
        "is ignored: its name 'raising' is taken by the reader " in m and "clash_mrio:Twin" in m and "Raising" in m
        for m in messages
    ), messages
    assert type(readers["pymrio"]) is registry.PymrioReader
    assert type(readers["raising"]).__name__ in ("Raising", "Twin")


def test_plugin_raising_in_can_open_does_not_break_guessing(clashing_plugins, world, tmp_path):
    out = mf.io.write_pymrio_folder(world, tmp_path / "sys", table_format="parquet")
    with pytest.warns(RuntimeWarning) as record:
        m = mf.io.read(out)  # guessed: the built-in pymrio reader
    assert m.meta["reader"] == "pymrio"
    assert any(
        "the reader 'raising' (clash_mrio.Raising) failed in can_open(" in str(w.message)
        and "is skipped for this path: OSError: the plugin's disk is gone" in str(w.message)
        for w in record
    ), [str(w.message) for w in record]
