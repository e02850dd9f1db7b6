"""The measured tables of docs/method.md are what tools/method_tables.py prints today.

Section 5's spread table is float64 and checked to the printed digits; section 11's float32 table
depends on the CPU's BLAS kernels, so each figure is checked within a factor of 4 (the page says so).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
METHOD = (ROOT / "docs" / "method.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def tables():
    spec = importlib.util.spec_from_file_location("method_tables", ROOT / "tools" / "method_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_section_5_spread_table_is_current(tables):
    printed = tables.spread_table(tables.spread_rows())
    assert printed in METHOD, f"docs/method.md section 5 no longer matches tools/method_tables.py:\n{printed}"


def _figures(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"\d\.\de[-+]\d\d", text)]


@pytest.mark.slow
def test_section_11_float32_table_is_current_within_a_factor_of_4(tables):
    printed = tables.float32_table(tables.float32_rows())
    section = METHOD[METHOD.index("## 11.") :]
    documented = section[section.index("| quantity |") : section.index("Regenerate it")]
    now, then = _figures(printed), _figures(documented)
    assert len(now) == len(then) == 19
    for a, b in zip(now, then):
        assert b / 4 <= a <= 4 * b, f"docs/method.md section 11 prints {b:.1e}, the script now {a:.1e}:\n{printed}"
    sign_changes = re.search(r"\((\d+) sign changes\)", printed).group(1)
    assert f"({sign_changes} sign changes)" in documented
