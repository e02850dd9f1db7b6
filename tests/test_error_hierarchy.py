"""The error classes: all in mrioflow.errors, never the bare base class, and picklable.

An error raised in a worker process (``--scheduler processes``, a Dask cluster)
travels back pickled; it must reach the user with its type and message intact.
"""

from __future__ import annotations

import ast
import concurrent.futures
import pickle
from pathlib import Path

import numpy as np
import pytest

import mrioflow as mf
import mrioflow.analysis
import mrioflow.bench  # every module that could define an error class is imported
from mrioflow import errors
from mrioflow.errors import MrioflowError, OptionError, OutputError

SRC = Path(mf.__file__).parent
MESSAGE = "data/eora26/Eora26_2013_bp.zip: labels_T.txt, line 3: expected 'CHN'"


def all_error_classes() -> list[type]:
    found, todo = [], [MrioflowError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return sorted(set(found), key=lambda c: c.__name__)


ERRORS = [c for c in all_error_classes() if c is not MrioflowError]


def _parsed_sources():
    for path in sorted(SRC.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_every_error_class_lives_in_errors_and_is_exported():
    assert len(ERRORS) >= 10
    for cls in all_error_classes():
        assert cls.__module__ == "mrioflow.errors", cls
        assert cls.__name__ in errors.__all__, cls
    assert mrioflow.analysis.OutputError is OutputError  # the old import path still works


def test_no_exception_class_is_defined_outside_errors():
    for path, tree in _parsed_sources():
        if path.name == "errors.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases = [ast.unparse(b) for b in node.bases]
                assert not any(b.endswith(("Error", "Exception")) for b in bases), f"{path}: class {node.name}{bases}"


def test_the_base_class_is_never_raised():
    for path, tree in _parsed_sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                name = ast.unparse(node.exc.func)
                assert name.split(".")[-1] != "MrioflowError", f"{path}, line {node.lineno}: raise {name}(...)"


@pytest.mark.parametrize("cls", ERRORS, ids=lambda c: c.__name__)
def test_each_error_is_also_a_builtin_exception(cls):
    builtin = [b for b in cls.__mro__ if b.__module__ == "builtins" and b not in (Exception, BaseException, object)]
    assert builtin, f"{cls.__name__} must also subclass a built-in exception (ValueError, OSError, ...)"


def _raise(cls_name: str, message: str, dask_like: bool):
    if dask_like:  # Dask's process workers pickle errors through tblib (dask.multiprocessing installs it)
        import tblib.pickling_support

        tblib.pickling_support.install()
    raise getattr(errors, cls_name)(message)


@pytest.mark.parametrize("dask_like", [False, True], ids=["plain", "tblib"])
def test_every_error_survives_a_process_pool(dask_like):
    """With tblib (as in Dask's workers) MissingDataError used to come back as
    ``TypeError: ValueError.__new__(MissingDataError) is not safe``."""
    with concurrent.futures.ProcessPoolExecutor(max_workers=1) as pool:
        futures = {cls: pool.submit(_raise, cls.__name__, MESSAGE, dask_like) for cls in ERRORS}
        for cls, future in futures.items():
            with pytest.raises(cls) as info:
                future.result(timeout=60)
            assert type(info.value) is cls
            assert str(info.value) == MESSAGE
            assert info.value.args == (MESSAGE,)


@pytest.mark.parametrize("cls", ERRORS, ids=lambda c: c.__name__)
def test_pickle_round_trip_keeps_attributes(cls):
    exc = cls(MESSAGE)
    exc.add_note("while reading 2013")
    again = pickle.loads(pickle.dumps(exc))
    assert type(again) is cls and str(again) == MESSAGE and again.__notes__ == ["while reading 2013"]


def test_a_bad_level_is_an_option_error_everywhere():
    world = mf.datasets.synthetic(year=2013, n_countries=6)
    groups = {"A": list(world.countries[:2]), "B": list(world.countries[2:4])}
    with pytest.raises(OptionError, match="level must be"):
        mf.indices.gmi(mf.Engine("numpy").run(world), "CH4", groups, level="planet")
    ens = mf.montecarlo(world, samples=2, backend="numpy", progress=False, indices={"groups": groups})
    with pytest.raises(OptionError, match="level must be"):
        ens.gmi_summary(level="planet")
    with pytest.raises(OptionError, match="stat must be"):
        ens.bmi_summary("median")
    with pytest.raises(OptionError, match="account must be one of"):
        ens.summary("CH4", "gdp")
    res = mf.Engine("numpy").run(world)
    with pytest.raises(OptionError, match="perspective must be"):
        res.sector_flows("CH4", perspective="consumer")
    assert np.isfinite(ens.gmi).all()
