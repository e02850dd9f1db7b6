"""The native cache of read_eora26: used when valid, rebuilt when stale or damaged."""

from __future__ import annotations

import json
import os
import struct
import warnings

import numpy as np
import pytest

from mrioflow.io import cache as cache_mod
from mrioflow.io import eora26 as eora_mod
from mrioflow.io import read_eora26


@pytest.fixture
def parses(monkeypatch):
    """Count the text parses read_eora26 does."""
    calls = []
    real = eora_mod._parse_year

    def counting(*args, **kw):
        calls.append(args[1:])
        return real(*args, **kw)

    monkeypatch.setattr(eora_mod, "_parse_year", counting)
    return calls


def _fail(*args, **kw):
    raise AssertionError("the text files were parsed although a valid cache exists")


def _cache_files(d):
    return sorted(p for p in d.iterdir() if p.suffix == cache_mod.SUFFIX)


def _same(a, b):
    for name in ("Z", "Y", "F", "F_Y"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    for name in ("countries", "country_names", "sectors", "fd_categories", "stressors", "units", "year", "source"):
        assert getattr(a, name) == getattr(b, name)


def test_second_read_loads_the_cache(eora, cache_dir, monkeypatch):
    first = read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    assert first.meta["cache"] == "rebuilt (missing)"
    files = _cache_files(cache_dir)
    assert len(files) == 1 and files[0].name.startswith("eora26_2013_bp-")
    monkeypatch.setattr(eora_mod, "_parse_year", _fail)
    second = read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    assert second.meta["cache"] == "hit"
    _same(first, second)
    assert second.meta["satellite_rows"] == first.meta["satellite_rows"]
    assert cache_mod.leftover_temporaries(cache_dir) == []


def test_loaded_arrays_are_aligned_and_writes_stay_in_memory(eora, cache_dir, monkeypatch):
    first = read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    (f,) = _cache_files(cache_dir)
    before = f.read_bytes()
    monkeypatch.setattr(eora_mod, "_parse_year", _fail)
    m = read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    for name in ("Z", "Y", "F", "F_Y"):
        a = getattr(m, name)
        assert a.flags.c_contiguous and a.flags.writeable and a.ctypes.data % 4096 == 0
    m.Z[:] = -1.0  # copy-on-write: the file is untouched
    assert f.read_bytes() == before
    again = read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    assert again.meta["cache"] == "hit"
    _same(first, again)


def test_default_cache_dir_is_xdg(eora, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    m = read_eora26(eora.folder, 2013)
    assert cache_mod.default_cache_dir() == tmp_path / "xdg" / "mrioflow"
    assert os.path.dirname(m.meta["cache_file"]) == str(tmp_path / "xdg" / "mrioflow")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_mod.default_cache_dir() == cache_mod.Path.home() / ".cache" / "mrioflow"


def test_cache_false_neither_reads_nor_writes(eora, cache_dir, parses):
    read_eora26(eora.folder, 2013, cache=False, cache_dir=cache_dir)
    read_eora26(eora.folder, 2013, cache=False, cache_dir=cache_dir)
    assert len(parses) == 2 and not cache_dir.exists()


def test_touching_the_source_rebuilds(eora, cache_dir, parses):
    read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    assert len(parses) == 1
    t = eora.folder / "Eora26_2013_bp_T.txt"
    st = t.stat()
    os.utime(t, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    m = read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    assert len(parses) == 2 and m.meta["cache"] == "rebuilt (stale: source files changed)"
    assert read_eora26(eora.folder, 2013, cache_dir=cache_dir).meta["cache"] == "hit"
    assert len(_cache_files(cache_dir)) == 1


def test_changed_source_content_is_read(eora, cache_dir):
    read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    t = eora.folder / "Eora26_2013_bp_T.txt"
    lines = [ln.split("\t") for ln in t.read_text().splitlines()]
    lines[0][0] = "123456.5"  # same file, new content (and size)
    t.write_text("\n".join("\t".join(r) for r in lines) + "\n")
    m = read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    assert m.meta["cache"].startswith("rebuilt (stale")
    assert m.Z[0, 0] == 123456.5


def test_options_have_their_own_cache(eora, cache_dir, parses):
    a = read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    b = read_eora26(eora.folder, 2013, cache_dir=cache_dir, keep_row=True)
    c = read_eora26(eora.folder, 2013, cache_dir=cache_dir, satellites={"CO2": "CO2"})
    assert len(parses) == 3 and len(_cache_files(cache_dir)) == 3
    assert a.n != b.n and c.stressors[-1] == "CO2"
    assert read_eora26(eora.folder, 2013, cache_dir=cache_dir, keep_row=True).meta["cache"] == "hit"
    assert len(parses) == 3


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_damaged_cache_is_rebuilt(eora, cache_dir, parses, damage):
    first = read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    (f,) = _cache_files(cache_dir)
    raw = f.read_bytes()
    if damage == "truncate":
        f.write_bytes(raw[: len(raw) * 2 // 3])
    elif damage == "flip":  # a flipped byte inside the Z array: caught by Z's checksum
        b = bytearray(raw)
        (length,) = struct.unpack("<Q", raw[16:24])
        z_at = json.loads(raw[24 : 24 + length])["arrays"]["Z"]["offset"]
        k = cache_mod._aligned(24 + length) + z_at + 2000
        b[k] ^= 0x55
        f.write_bytes(bytes(b))
    elif damage == "garbage":
        f.write_bytes(b"\x00garbage" * 100)
    else:
        f.write_bytes(b"")
    m = read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    assert len(parses) == 2
    assert m.meta["cache"].startswith("rebuilt (corrupt:")
    if damage == "flip":
        assert "checksum of Z differs" in m.meta["cache"]
    _same(first, m)
    assert read_eora26(eora.folder, 2013, cache_dir=cache_dir).meta["cache"] == "hit"


def test_format_version_change_rebuilds(eora, cache_dir, parses, monkeypatch):
    read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    monkeypatch.setattr(cache_mod, "CACHE_FORMAT", cache_mod.CACHE_FORMAT + 1)
    m = read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    assert len(parses) == 2 and m.meta["cache"].startswith("rebuilt (stale: format")


def test_interrupted_write_leaves_nothing_that_loads(eora, cache_dir, monkeypatch, parses):
    real = cache_mod._write_array
    written = []

    def crash(fh, a):
        if len(written) == 2:  # part of the file...
            raise KeyboardInterrupt  # ...then the process is interrupted
        written.append(real(fh, a))

    monkeypatch.setattr(cache_mod, "_write_array", crash)
    with pytest.raises(KeyboardInterrupt):
        read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    assert _cache_files(cache_dir) == [] and cache_mod.leftover_temporaries(cache_dir) == []
    monkeypatch.setattr(cache_mod, "_write_array", real)
    assert read_eora26(eora.folder, 2013, cache_dir=cache_dir).meta["cache"] == "rebuilt (missing)"
    assert read_eora26(eora.folder, 2013, cache_dir=cache_dir).meta["cache"] == "hit"


def test_unwritable_cache_dir_warns_and_reads(eora, tmp_path):
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    with pytest.warns(RuntimeWarning, match="could not write the Eora26 cache"):
        m = read_eora26(eora.folder, 2013, cache_dir=blocker / "sub")
    assert m.meta["cache"].startswith("not written")
    assert m.Z.shape == (eora.n, eora.n)


def test_zip_source_is_fingerprinted(eora, tmp_path, cache_dir, parses):
    from io_fixtures import zip_folder

    z = zip_folder(eora, tmp_path / "zips")
    read_eora26(z, 2013, cache_dir=cache_dir)
    assert read_eora26(z, 2013, cache_dir=cache_dir).meta["cache"] == "hit"
    st = z.stat()
    os.utime(z, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000_000))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_eora26(z, 2013, cache_dir=cache_dir).meta["cache"].startswith("rebuilt (stale")
    assert len(parses) == 2


def test_list_and_clear_the_cache(eora, cache_dir, tmp_path):
    from io_fixtures import write_eora_files

    other = write_eora_files(tmp_path / "other", year=2014, seed=1)
    read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    read_eora26(eora.folder, 2013, cache_dir=cache_dir, keep_row=True)
    read_eora26(other.folder, 2014, cache_dir=cache_dir)
    (cache_dir / "eora26_2012_bp-0123456789abcdef.npz").write_bytes(b"PK old")  # an older mrioflow's cache
    (cache_dir / f"broken-0123456789abcdef{cache_mod.SUFFIX}").write_bytes(b"nonsense")
    (cache_dir / "notes.txt").write_text("not ours")

    table = cache_mod.list_cache(cache_dir)
    assert len(table) == 5 and list(table.columns) == ["file", "year", "source", "options", "size_mb", "state"]
    state = dict(zip(table["file"].map(lambda f: os.path.basename(f)), table["state"]))
    assert sorted(state.values()) == ["current", "current", "current", "old format",
                                      "unreadable: not a mrioflow cache file"]
    assert sorted(table["year"].dropna().astype(int)) == [2013, 2013, 2014]
    assert (table["size_mb"] > 0).all() and table["options"].str.contains("keep_row").sum() == 3

    t = eora.folder / "Eora26_2013_bp_T.txt"  # a changed source: its two tables go stale
    st = t.stat()
    os.utime(t, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    (other.folder / "labels_T.txt").unlink()  # and a vanished one
    states = sorted(cache_mod.list_cache(cache_dir)["state"])
    assert states == ["old format", "source missing", "stale: source files changed", "stale: source files changed",
                      "unreadable: not a mrioflow cache file"]

    read_eora26(eora.folder, 2013, cache_dir=cache_dir)  # rebuilds one of the stale two
    gone = cache_mod.clear_cache(cache_dir, stale_only=True)
    assert len(gone) == 4 and cache_mod.list_cache(cache_dir)["state"].tolist() == ["current"]
    assert len(cache_mod.clear_cache(cache_dir)) == 1 and cache_mod.list_cache(cache_dir).empty
    assert (cache_dir / "notes.txt").exists()  # only mrioflow's own files are touched
    assert cache_mod.list_cache(tmp_path / "nowhere").empty
