"""Every error of the core, triggered through the public API, message matched."""

from __future__ import annotations

import numpy as np
import pytest

import mrioflow as mf
from mrioflow.engine.backend import cupy_usable
from mrioflow.errors import (
    BackendError,
    InvalidValueError,
    LabelError,
    NonProductiveError,
    OptionError,
    ShapeError,
    SingularSystemError,
)


def table(Z, Y, F=None, countries=("a", "b"), **kw):
    """Two countries, one sector, one final-demand category, one stressor."""
    F = np.ones((1, 2)) if F is None else F
    args = dict(
        Z=Z,
        Y=Y,
        F=F,
        F_Y=np.zeros((1, 2)),
        countries=countries,
        sectors=["s"],
        fd_categories=["hh"],
        stressors=["CH4"],
        units=["Gg"],
    )
    args.update(kw)
    return mf.MRIO(**args)


GOOD_Z = np.array([[1.0, 2.0], [3.0, 1.0]])
GOOD_Y = np.array([[5.0, 1.0], [1.0, 5.0]])


def test_good_table_builds():
    assert table(GOOD_Z, GOOD_Y).n == 2


def test_non_square_Z():
    with pytest.raises(ShapeError, match=r"Z must be square, got shape \(2, 3\)"):
        table(np.ones((2, 3)), GOOD_Y)


def test_mismatched_Y():
    with pytest.raises(ShapeError, match=r"Y must have shape \(2, 2\).*got \(2, 3\)"):
        table(GOOD_Z, np.ones((2, 3)))


def test_mismatched_satellite():
    with pytest.raises(ShapeError, match=r"F must have shape \(1, 2\).*got \(1, 3\)"):
        table(GOOD_Z, GOOD_Y, F=np.ones((1, 3)))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite(bad):
    Z = GOOD_Z.copy()
    Z[1, 0] = bad
    with pytest.raises(InvalidValueError, match=r"Z contains 1 non-finite value.*row 1, column 0"):
        table(Z, GOOD_Y)


def test_non_numeric():
    with pytest.raises(InvalidValueError, match="Z must be numeric"):
        table(np.array([["1", "x"], ["2", "3"]]), GOOD_Y)


def test_negative_output():
    Y = GOOD_Y.copy()
    Y[0] = [-20.0, 0.0]
    with pytest.raises(InvalidValueError, match=r"gross output .* negative for 1 sector\(s\): a/s \(-17\)"):
        table(GOOD_Z, Y)


def test_duplicate_labels():
    with pytest.raises(LabelError, match="countries labels must be unique, duplicated: a"):
        table(GOOD_Z, GOOD_Y, countries=("a", "a"))


def test_units_must_match_stressors():
    with pytest.raises(LabelError, match=r"units must give one unit per stressor \(1\), got 2"):
        table(GOOD_Z, GOOD_Y, units=["Gg", "kt"])


def test_unknown_stressor_lists_available():
    res = mf.Engine("numpy").run(table(GOOD_Z, GOOD_Y))
    with pytest.raises(LabelError, match="unknown stressor 'CO2'; this table has: CH4"):
        res.flows("CO2")
    with pytest.raises(OptionError, match="perspective must be"):
        res.sector_flows("CH4", perspective="consumer")
    with pytest.raises(LabelError, match="keep_L=True"):
        res.leontief()


@pytest.mark.parametrize("backend", ["numpy", "array_api_strict"])
def test_singular_system(backend):
    """A = [[0, 1], [1, 0]]: (I - A) = [[1, -1], [-1, 1]] is singular."""
    Z = np.array([[0.0, 10.0], [10.0, 0.0]])
    with pytest.raises(SingularSystemError, match="singular"):
        mf.Engine(backend).run(table(Z, np.zeros((2, 2))))


@pytest.mark.parametrize("backend", ["numpy", "array_api_strict"])
def test_non_productive_system(backend):
    """x = [10, 5], Z = [[0, 10], [10, 0]] gives A = [[0, 2], [1, 0]], spectral radius sqrt(2) > 1:
    (I - A)^-1 = -[[1, 2], [1, 1]] has negative entries although (I - A) is regular."""
    Z = np.array([[0.0, 10.0], [10.0, 0.0]])
    Y = np.array([[0.0, 0.0], [0.0, -5.0]])
    with pytest.raises(NonProductiveError, match="A is not productive"):
        mf.Engine(backend).run(table(Z, Y))


def test_unknown_backend_and_dtype():
    with pytest.raises(OptionError, match=r"backend must be one of .*'numpy'.*got 'tpu'"):
        mf.Engine("tpu")
    with pytest.raises(OptionError, match=r"dtype must be one of .* got 'float16'"):
        mf.Engine("numpy", dtype="float16")


def test_cupy_without_gpu_is_a_clear_error():
    ok, why = cupy_usable()
    if ok:
        pytest.skip("a GPU is usable here, so backend='cupy' succeeds")
    with pytest.raises(BackendError, match="backend 'cupy'"):
        mf.Engine("cupy")
