"""pymrio folders (IOSystem.save_all / pymrio.load_all) in and out."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import mrioflow as mf
from mrioflow.errors import MissingDataError, ReaderError
from mrioflow.io import read_pymrio_folder, write_pymrio_folder

pymrio = pytest.importorskip("pymrio")


@pytest.fixture(scope="module")
def world():
    return mf.datasets.synthetic(year=2013, seed=2, countries=["AFG", "CHN", "IND", "ROW"])


@pytest.mark.parametrize("fmt,rtol", [("txt", 1e-10), ("parquet", 0.0)])
def test_round_trip(world, tmp_path, fmt, rtol):
    out = write_pymrio_folder(world, tmp_path / "sys", table_format=fmt)
    assert (out / "file_parameters.json").is_file() and (out / "mrioflow.json").is_file()
    back = read_pymrio_folder(out)
    assert back.countries == world.countries and back.sectors == world.sectors
    assert back.fd_categories == world.fd_categories
    assert back.stressors == world.stressors and back.units == world.units
    assert back.year == 2013 and back.country_names == world.country_names
    assert back.source == world.source and back.meta["synthetic"] is True
    for name in ("Z", "Y", "F", "F_Y"):
        np.testing.assert_allclose(getattr(back, name), getattr(world, name), rtol=rtol, atol=0)
    # what pymrio itself reads from the folder
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        io = pymrio.load_all(out)
    np.testing.assert_allclose(io.Z.to_numpy(), world.Z, rtol=rtol, atol=0)


def test_reads_a_folder_pymrio_wrote(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pymrio.load_test()
        ref.save_all(tmp_path / "test_mrio")
    m = read_pymrio_folder(tmp_path / "test_mrio")
    direct = mf.io.from_pymrio(ref)
    assert m.countries == direct.countries and m.stressors == direct.stressors
    np.testing.assert_allclose(m.Z, direct.Z, rtol=1e-10)
    np.testing.assert_allclose(m.F, direct.F, rtol=1e-10)
    assert m.year is None  # no mrioflow.json: pymrio does not keep the year


def test_overwrite_is_atomic_and_clean(world, tmp_path):
    target = tmp_path / "sys"
    write_pymrio_folder(world, target)
    other = mf.datasets.synthetic(year=2014, seed=2, countries=["AFG", "CHN", "IND", "ROW"])
    write_pymrio_folder(other, target)
    assert read_pymrio_folder(target).year == 2014
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sys"], "no temporary folders left"


def test_errors(tmp_path):
    with pytest.raises(MissingDataError, match="pymrio folder not found"):
        read_pymrio_folder(tmp_path / "none")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReaderError, match=r"is not a pymrio folder: file_parameters.json is missing"):
        read_pymrio_folder(tmp_path / "empty")
