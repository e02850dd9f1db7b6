"""The reader benchmark runs end to end on a small world (figures are not asserted)."""

from __future__ import annotations

import pytest

from mrioflow.bench.readers import bench_readers, main


def test_bench_readers_small(tmp_path):
    pytest.importorskip("pymrio")
    res = bench_readers(n_countries=3, repeat=1, workdir=tmp_path)
    assert res["n"] == 2 * 26 + 1  # two countries + Eora's single RoW row
    for key in (
        "parse_s",
        "pymrio_parse_s",
        "cached_load_s",
        "cache_write_s",
        "pymrio_over_parse",
        "cached_over_parse",
        "cached_over_parse_cpu",
        "content_check_s",
        "xxh3_and_sha256_s",
    ):
        assert res[key] > 0
    assert (tmp_path / "eora" / "Eora26_2013_bp_T.txt").is_file()


def test_bench_readers_entry_point(capsys):
    assert main(["--countries", "2", "--repeat", "1", "--no-pymrio"]) == 0
    out = capsys.readouterr().out
    assert "parse_s" in out and "cached_over_parse" in out and "pymrio_parse_s" not in out
