"""Bad options and failing writes give one line naming the option or the file, through ``cli.main``.

Option errors are found before anything is computed or any folder is created.
"""

from __future__ import annotations

import errno

import numpy as np
import pandas as pd
import pytest
from cli_runner import assert_one_line_error
from cli_runner import run_cli as mrioflow

SMALL = ["--synthetic-countries", "4", "--backend", "numpy", "-q"]


@pytest.mark.parametrize("command", [["mc"], ["sweep", "--years", "2013"]])
def test_scheduler_typo_lists_the_valid_names(tmp_path, command):
    out = tmp_path / "out"
    proc = mrioflow(*command, "--scheduler", "process", *SMALL, "-o", out)
    assert proc.returncode == 2
    assert_one_line_error(
        proc,
        r"argument --scheduler: unknown scheduler 'process': choose sync, synchronous, threads, processes, "
        r"or a scheduler address like tcp://host:8786",
    )
    assert not out.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["mc", "--seed", "-1"], r"--seed: -1 is not a whole number >= 0"),
        (["mc", "--seed-world", "-1"], r"--seed-world: -1 is not a whole number >= 0"),
        (["run", "--seed", "-1"], r"seed: -1 is not a whole number >= 0"),
        (["mc", "--year", "-1"], r"--year: -1 is not a 4-digit year"),
        (["mc", "--year", "99999"], r"--year: 99999 is not a 4-digit year"),
        (["sweep", "--years", "2013", "10"], r"--years: 10 is not a 4-digit year"),
        (["run", "--years", "10"], r"years: 10 is not a 4-digit year"),  # the synthetic world
    ],
)
def test_bad_seeds_and_years(tmp_path, args, message):
    out = tmp_path / "out"
    proc = mrioflow(*args, *SMALL, "-o", out)
    assert proc.returncode == 1
    assert_one_line_error(proc, message)
    assert not out.exists()


def test_config_file_that_is_not_utf8(tmp_path):
    cfg = tmp_path / "study.toml"
    cfg.write_bytes('[run]\nyears = [2013]\noutput = "r\u00e9sultats"\n'.encode("latin-1"))
    proc = mrioflow("run", "--config", cfg)
    assert_one_line_error(proc, rf"{cfg}: not UTF-8 text \(byte 32\); a configuration file is UTF-8 TOML")
    assert not (tmp_path / "r\u00e9sultats").exists()


def test_no_command_shows_the_usage():
    proc = mrioflow()
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("usage: mrioflow ")
    assert proc.stderr.splitlines()[-1] == "mrioflow: error: a command is required (see 'mrioflow --help')"


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_disk_full_while_writing_a_table(tmp_path, monkeypatch):
    monkeypatch.setattr(pd.DataFrame, "to_parquet", _disk_full)
    out = tmp_path / "out"
    proc = mrioflow("run", *SMALL, "--groups", _groups(tmp_path), "--years", "2013", "-o", out)
    assert proc.returncode == 1
    assert_one_line_error(
        proc, rf"cannot write {tmp_path}/\.mrioflow-stage-out-\S+/tables/\w+_2013\.parquet: No space left on device$"
    )
    assert not list(out.rglob(".mrioflow-tmp-*"))  # the temporary file is gone


def test_disk_full_while_storing_a_finished_year(tmp_path, monkeypatch):
    monkeypatch.setattr(np, "savez", _disk_full)
    out = tmp_path / "out"
    proc = mrioflow("sweep", "--years", "2013", *SMALL, "-o", out)
    assert_one_line_error(
        proc, rf"cannot write {out}\.years/\S+\.npz: No space left on device; nothing finished is lost"
    )
    assert not list(out.rglob(".mrioflow-tmp-*"))


def _groups(tmp_path):
    path = tmp_path / "groups.csv"
    path.write_text("iso3,region\nCHN,East\nJPN,East\n", encoding="utf-8")
    return path
