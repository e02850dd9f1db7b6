"""Shared fixtures: one ``backend`` fixture parametrized over every array library.

numpy and array-api-strict (on its default and on a second device) always run;
cupy runs where a GPU is usable and is skipped with the reason otherwise.
"""

from __future__ import annotations

import numpy as np
import pytest

from mrioflow.engine.backend import ArrayApiStrictBackend, CupyBackend, NumpyBackend, cupy_usable

_GPU, _GPU_WHY = cupy_usable()


def _make(name: str):
    if name == "numpy":
        return NumpyBackend()
    if name == "strict":
        return ArrayApiStrictBackend()
    if name == "strict-device1":
        return ArrayApiStrictBackend(device="device1")
    if name == "cupy":
        if not _GPU:
            pytest.skip(f"cupy backend not tested here: {_GPU_WHY}")
        return CupyBackend()
    raise AssertionError(name)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Every test reads and writes a cache folder of its own, never the user's ~/.cache/mrioflow.

    mrioflow finds its cache through ``$XDG_CACHE_HOME`` (``io.cache.default_cache_dir``);
    setting it here reaches the processes the tests start as well. The folder is made
    outside ``tmp_path``, whose contents some tests list."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))


@pytest.fixture(params=["numpy", "strict", "strict-device1", "cupy"])
def backend(request):
    """A Backend for each array library; kernel tests run on all of them."""
    return _make(request.param)


@pytest.fixture
def to_device(backend):
    return backend.asarray


@pytest.fixture
def to_host(backend):
    def convert(a):
        assert_on_backend(a, backend)
        return backend.to_host(a)

    return convert


def assert_on_backend(a, backend) -> None:
    """Results must come back in the backend's namespace and on its device."""
    from array_api_compat import array_namespace

    xp = array_namespace(a)
    assert xp.__name__.split(".")[-1] == backend.xp.__name__.split(".")[-1], (xp, backend.xp)
    if backend.device is not None:
        assert a.device == backend.device


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
