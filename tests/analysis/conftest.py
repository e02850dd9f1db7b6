"""A small synthetic world and grouping shared by the analysis tests (fast: ~14 countries)."""

from __future__ import annotations

import pytest
from expected_output import expected_files, listing  # noqa: F401  (tests/analysis is on sys.path)

GROUPS_CSV = "iso3,region\nCHN,East\nJPN,East\nKOR,East\nIND,South\nPAK,South\nDEU,West\nFRA,West\nGBR,West\n"


@pytest.fixture(scope="session")
def groups_csv(tmp_path_factory):
    p = tmp_path_factory.mktemp("groups") / "groups.csv"
    p.write_text(GROUPS_CSV, encoding="utf-8")
    return p


@pytest.fixture(scope="session")
def small_run(tmp_path_factory, groups_csv):
    from mrioflow.analysis import Settings, run

    out = tmp_path_factory.mktemp("run") / "out"
    settings = Settings.build(
        overrides=dict(groups=str(groups_csv), synthetic_countries=14, output=str(out), backend="numpy")
    )
    return run(settings, progress=False)
