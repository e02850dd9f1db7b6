"""Year sweeps: one task per year, same numbers as single runs, resumable."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import mrioflow as mf
from mrioflow.ensembles import sweeps as sweep_module
from mrioflow.errors import LabelError, OptionError, StoreError

small = functools.partial(mf.datasets.synthetic, seed=1, n_countries=6)


def loader(year):
    return small(year=year)


def test_sweep_matches_single_runs():
    out = mf.sweep([2013, 2021], loader, backend="numpy", progress=False)
    assert out.years == [2013, 2021]
    for year in out.years:
        ref = mf.Engine("numpy").run(loader(year))
        np.testing.assert_allclose(out[year].E, ref.E, rtol=1e-14)
        np.testing.assert_allclose(out.flows("CH4", year).to_numpy(), ref.flows("CH4").to_numpy(), rtol=1e-14)
    acc = out.accounts("CH4")
    assert list(acc.index.names) == ["year", "country"] and len(acc) == 12
    # the synthetic world's methane grows 0.5 % a year
    total = acc.groupby(level="year")["pba"].sum()
    assert total[2021] == pytest.approx(total[2013] * 1.005**8, rel=1e-9)


def test_sweep_on_dask_threads_and_strict_backend():
    a = mf.sweep([2013, 2014, 2015], loader, backend="numpy", progress=False)
    b = mf.sweep([2013, 2014, 2015], loader, backend="array_api_strict", scheduler="threads", progress=False)
    for year in a.years:
        np.testing.assert_allclose(b[year].E, a[year].E, rtol=1e-12)


def test_resume_skips_finished_years(tmp_path, monkeypatch):
    mf.sweep([2013, 2014], loader, backend="numpy", out_dir=tmp_path, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json", "year_2013.npz", "year_2014.npz"]
    seen = []
    monkeypatch.setattr(
        sweep_module._YearRunner,
        "__call__",
        lambda self, y, f=sweep_module._YearRunner.__call__: seen.append(y) or f(self, y),
    )
    again = mf.sweep([2013, 2014, 2015], loader, backend="numpy", out_dir=tmp_path, progress=False)
    assert seen == [2015]
    ref = mf.Engine("numpy").run(loader(2013))
    np.testing.assert_allclose(again[2013].accounts("CH4").to_numpy(), ref.accounts("CH4").to_numpy(), rtol=1e-14)
    assert again[2013].synthetic and again[2013].mrio.year == 2013
    with pytest.raises(StoreError, match="holds a sweep whose stressors differs"):
        mf.sweep([2013], loader, stressors=["CH4"], backend="numpy", out_dir=tmp_path, progress=False)


def test_errors():
    with pytest.raises(OptionError, match="at least one year"):
        mf.sweep([], loader)
    with pytest.raises(OptionError, match="years repeat"):
        mf.sweep([2013, 2013], loader)
    with pytest.raises(OptionError, match="the loader must return an MRIO for year 2013, got dict"):
        mf.sweep([2013], lambda y: {}, backend="numpy", progress=False)
    out = mf.sweep([2013], loader, backend="numpy", progress=False)
    with pytest.raises(LabelError, match=r"year 1999 is not in this sweep; it has \[2013\]"):
        out[1999]


def test_resume_refuses_another_table_for_a_finished_year(tmp_path):
    """Same loader function, other arguments (another world): refused, naming the loader;
    same description but another table (a loader whose data changed): refused, naming the year."""
    mf.sweep(
        [2013],
        functools.partial(mf.datasets.synthetic, n_countries=5, seed=1),
        backend="numpy",
        out_dir=tmp_path,
        progress=False,
    )
    with pytest.raises(StoreError, match="whose loader differs"):
        mf.sweep(
            [2013],
            functools.partial(mf.datasets.synthetic, n_countries=5, seed=2),
            backend="numpy",
            out_dir=tmp_path,
            progress=False,
        )
    data = {"seed": 1}

    def changing(year):
        return mf.datasets.synthetic(year=year, n_countries=5, seed=data["seed"])

    other = tmp_path / "other"
    mf.sweep([2013], changing, backend="numpy", out_dir=other, progress=False)
    data["seed"] = 2
    with pytest.raises(StoreError, match=r"year_2013.npz was computed from another table of 2013"):
        mf.sweep([2013], changing, backend="numpy", out_dir=other, progress=False)


def test_a_backend_object_runs_every_year():
    b = mf.engine.ArrayApiStrictBackend(device="device1")
    out = mf.sweep([2013, 2014], loader, backend=b, scheduler="threads", progress=False)
    assert all(out[y].backend is b for y in out.years)
    assert mf.indices.gmi(out[2013], "CH4", {c: "x" for c in out[2013].countries}).attrs["backend"] == b.name
