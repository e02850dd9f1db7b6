"""The test session never touches the user's own cache folder (issue #20)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mrioflow.io.cache import default_cache_dir


def test_the_cache_folder_is_private_to_the_test(tmp_path_factory):
    folder = default_cache_dir()
    assert folder.parent == Path(os.environ["XDG_CACHE_HOME"])
    assert folder.is_relative_to(tmp_path_factory.getbasetemp())
    assert not folder.is_relative_to(Path.home() / ".cache")


def test_processes_the_tests_start_use_it_too():
    out = subprocess.run(
        [sys.executable, "-c", "from mrioflow.io.cache import default_cache_dir; print(default_cache_dir())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(out) == default_cache_dir()
