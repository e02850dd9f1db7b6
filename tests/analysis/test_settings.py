"""Settings of a run and the TOML configuration file."""

from __future__ import annotations

from pathlib import Path

import pytest

from mrioflow.analysis import Settings, load_config
from mrioflow.errors import MissingDataError, OptionError, ReaderError


def test_defaults():
    s = Settings.build()
    assert s.years == (2013, 2021) and s.source == "synthetic"
    assert (s.stressor, s.value_added, s.backend, s.output) == ("CH4", "VA", "auto", "mrioflow-output")
    assert (s.convention, s.norm_set, s.norm_sign) == ("printed", "all", "signed")


def test_config_file_then_overrides(tmp_path):
    cfg = tmp_path / "study.toml"
    cfg.write_text(
        '[run]\nyears = [2015]\nconvention = "victim_row"\nnorm-set = "scope"\n'
        'groups = "regions.csv"\noutput = "out"\neora26 = "/abs/eora"\n',
        encoding="utf-8",
    )
    config = load_config(cfg)
    assert config["groups"] == str(tmp_path / "regions.csv")  # relative to the file
    assert config["output"] == str(tmp_path / "out")
    assert config["eora26"] == "/abs/eora"
    s = Settings.build(config, {"convention": "printed", "norm_set": None})
    assert s.convention == "printed"  # the flag wins
    assert s.norm_set == "scope"  # None means "not given"
    assert s.years == (2015,) and s.data == ("/abs/eora",) and s.format == "eora26" and s.source == "eora26"


def test_top_level_keys(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('stressor = "CH4"\nnorm_sign = "abs"\n', encoding="utf-8")
    assert Settings.build(load_config(cfg)).norm_sign == "abs"


def test_config_errors(tmp_path):
    with pytest.raises(MissingDataError, match="configuration file not found"):
        load_config(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("years = [2013\n", encoding="utf-8")
    with pytest.raises(ReaderError, match=r"bad.toml: not valid TOML"):
        load_config(bad)
    unk = tmp_path / "unk.toml"
    unk.write_text("[run]\nconventoin = 'printed'\n", encoding="utf-8")
    with pytest.raises(OptionError, match=r"unknown setting\(s\): conventoin; valid: years, data, format"):
        load_config(unk)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            {"convention": "victim"},
            "convention must be one of 'printed', 'victim_row', 'beneficiary_row'; got 'victim'",
        ),
        ({"norm_set": "bri"}, "norm_set must be one of 'all', 'scope'; got 'bri'"),
        ({"norm_sign": "pos"}, "norm_sign must be one of 'signed', 'abs'; got 'pos'"),
        ({"backend": "torch"}, "backend must be one of 'numpy', 'cupy', 'array_api_strict', 'auto'; got 'torch'"),
        ({"years": ["x"]}, "years: 'x' is not a 4-digit year"),
        ({"years": [2013, 2013]}, "years must not repeat"),
        ({"eora26": "a", "pymrio": ["b"]}, "give one data source, not eora26 and pymrio"),
        ({"eora26": "a", "data": ["b"]}, "give one data source, not eora26 and data"),
        ({"format": "exiobase"}, r"unknown data format 'exiobase'; available readers: eora26: Eora26 .*pymrio: "),
        ({"data": [3]}, "data must be a path or a list of paths"),
        ({"edgar": "e.xlsx"}, "edgar needs a real table"),
        ({"stressor": "VA"}, "stressor and value_added must differ"),
        ({"price": "xx"}, "price must be one of 'bp', 'pp'"),
        ({"colour": "red"}, r"unknown setting\(s\): colour"),
    ],
)
def test_invalid_settings(overrides, message):
    with pytest.raises(OptionError, match=message):
        Settings.build(None, overrides)


def test_paths_accept_pathlike():
    s = Settings.build(None, {"output": Path("x/y"), "pymrio": "folder"})
    assert s.output == str(Path("x/y")) and s.data == ("folder",) and s.source == "pymrio"


def test_data_and_format_keys(tmp_path):
    from mrioflow.io.registry import PymrioReader

    folder = tmp_path / "sys"
    folder.mkdir()
    (folder / "file_parameters.json").write_text("{}")
    cfg = tmp_path / "c.toml"
    cfg.write_text('[run]\ndata = "sys"\nprice = "pp"\n[run.options]\nkeep_row = true\n', encoding="utf-8")
    s = Settings.build(load_config(cfg))
    assert s.data == (str(folder),) and s.format is None
    ((path, reader),) = s.data_sources()  # recognised by the registry
    assert path == str(folder) and isinstance(reader, PymrioReader) and s.source == "pymrio"
    assert s.reader_options() == {"keep_row": True, "price": "pp"}
    # a data source on the command line replaces the file's, format included
    s = Settings.build({"eora26": "/e"}, {"data": [str(folder)]})
    assert s.data == (str(folder),) and s.format is None
    assert Settings.build().data_sources()[0][1].name == "synthetic"
