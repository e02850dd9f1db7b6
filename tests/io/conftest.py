"""Fixtures of the io tests (the file writers live in io_fixtures.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from io_fixtures import EoraFiles, write_eora_files


@pytest.fixture
def eora(tmp_path) -> EoraFiles:
    return write_eora_files(tmp_path / "eora")


@pytest.fixture
def cache_dir(tmp_path) -> Path:
    return tmp_path / "cache"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Never touch the user's real cache from the tests."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
