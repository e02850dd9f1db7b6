"""Structural path analysis on Miller & Blair's two-sector example, checked against the hand expansion."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import mrioflow as mf
from mrioflow.errors import LabelError, OptionError
from mrioflow.paths import spa


@pytest.fixture(scope="module")
def miller_blair():
    # Miller & Blair (2009), section 2.3: Z = [[150, 500], [200, 100]], f = [350, 1700], x = [1000, 2000],
    # so A = [[0.15, 0.25], [0.20, 0.05]]. One country, two sectors; a stressor s = [0.3, 0.1] per unit output
    # (F = s x = [300, 200]).
    return mf.MRIO(
        Z=np.array([[150.0, 500.0], [200.0, 100.0]]),
        Y=np.array([[350.0], [1700.0]]),
        F=np.array([[300.0, 200.0]]),
        F_Y=np.zeros((1, 1)),
        countries=["MB"],
        sectors=["one", "two"],
        fd_categories=["f"],
        stressors=["CH4"],
        units=["Gg"],
    )


A = np.array([[0.15, 0.25], [0.20, 0.05]])
s = np.array([0.3, 0.1])
y = np.array([350.0, 1700.0])


def test_first_paths_by_hand(miller_blair):
    res = spa(miller_blair, "CH4", "MB", threshold=0, max_depth=1)
    got = {p: v for p, v in zip(res.paths["path"], res.paths["value"])}
    # depth 0: s_j y_j;  depth 1: s_i A_ij y_j
    assert got["MB/one"] == pytest.approx(0.3 * 350)  # 105
    assert got["MB/two"] == pytest.approx(0.1 * 1700)  # 170
    assert got["MB/one <- MB/two"] == pytest.approx(0.3 * 0.25 * 1700)  # 127.5
    assert got["MB/two <- MB/one"] == pytest.approx(0.1 * 0.20 * 350)  # 7
    assert got["MB/one <- MB/one"] == pytest.approx(0.3 * 0.15 * 350)  # 15.75
    assert got["MB/two <- MB/two"] == pytest.approx(0.1 * 0.05 * 1700)  # 8.5
    assert len(got) == 6


@pytest.mark.parametrize("depth", [0, 2, 5])
def test_all_paths_equal_the_expansion_and_the_coverage_their_sum(miller_blair, depth):
    res = spa(miller_blair, "CH4", "MB", threshold=0, max_depth=depth)
    # brute force: every sequence (i_0, ..., i_t), t <= depth, of s_{i_t} A_{i_t i_(t-1)} ... A_{i_1 i_0} y_{i_0}
    expected = {}
    for t in range(depth + 1):
        for seq in itertools.product(range(2), repeat=t + 1):
            value = y[seq[0]] * s[seq[-1]] * np.prod([A[seq[q + 1], seq[q]] for q in range(t)])
            expected[" <- ".join(f"MB/{('one', 'two')[i]}" for i in reversed(seq))] = value
    got = dict(zip(res.paths["path"], res.paths["value"]))
    assert got.keys() == expected.keys()
    for path, value in expected.items():
        assert got[path] == pytest.approx(value, rel=1e-12)
    # the series truncated at `depth` stages: s (I + A + ... + A^depth) y
    series = sum(s @ np.linalg.matrix_power(A, t) @ y for t in range(depth + 1))
    assert res.paths["value"].sum() == pytest.approx(series, rel=1e-12)
    assert res.total == pytest.approx(s @ np.linalg.solve(np.eye(2) - A, y), rel=1e-12)
    assert res.coverage == pytest.approx(res.paths["value"].sum() / res.total, rel=1e-14)
    assert list(res.paths["value"]) == sorted(res.paths["value"], reverse=True)


def test_threshold_prunes_and_lists_only_large_paths(miller_blair):
    full = spa(miller_blair, "CH4", "MB", threshold=0, max_depth=6)
    pruned = spa(miller_blair, "CH4", "MB", threshold=0.02, max_depth=6)
    assert (pruned.paths["share"] >= 0.02).all()
    assert pruned.nodes < full.nodes
    big = full.paths[full.paths["share"] >= 0.02]
    assert set(big["path"]) == set(pruned.paths["path"])  # no path above the threshold was pruned (A >= 0)


def test_a_region_of_several_consumers_and_errors():
    world = mf.datasets.synthetic(2013, seed=2, n_countries=5)
    a, b = world.countries[:2]
    both = spa(world, "CH4", [a, b], threshold=0, max_depth=1)
    one, two = (spa(world, "CH4", c, threshold=0, max_depth=1) for c in (a, b))
    assert both.total == pytest.approx(one.total + two.total, rel=1e-12)
    res = mf.Engine("numpy").run(world, sector_flows=False)
    assert one.total == pytest.approx(res.accounts("CH4", direct=False)["cba"][a], rel=1e-10)
    with pytest.raises(LabelError, match="unknown consuming country 'XXX'"):
        spa(world, "CH4", "XXX")
    with pytest.raises(OptionError, match="threshold must be a share"):
        spa(world, "CH4", a, threshold=2)


def test_the_figure_names_the_coverage(miller_blair, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    res = mf.paths.spa(miller_blair, "CH4", "MB", threshold=0.01, max_depth=4)
    ax = res.plot(top=5)
    assert len(ax.patches) == 5
    assert f"cover {res.coverage:.1%}" in ax.get_title()
    ax.figure.savefig(tmp_path / "paths.png")
