"""The native cache of read_eora26: used when valid, rebuilt when stale or damaged."""

from __future__ import annotations

import json
import os
import re
import struct
import time
import warnings
from pathlib import Path

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
    assert len(files) == 1 and files[0].name.startswith("eora26_2013-")
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


def test_touching_or_moving_the_source_keeps_the_cache(eora, cache_dir, parses, tmp_path):
    read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    t = eora.folder / "Eora26_2013_bp_T.txt"
    st = t.stat()
    os.utime(t, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))  # same content: same table
    assert read_eora26(eora.folder, 2013, cache_dir=cache_dir).meta["cache"] == "hit"
    moved = eora.folder.rename(tmp_path / "elsewhere")  # the cache holds no path
    m = read_eora26(moved, 2013, cache_dir=cache_dir)
    assert m.meta["cache"] == "hit" and len(parses) == 1 and len(_cache_files(cache_dir)) == 1
    assert str(moved) in m.source and str(eora.folder) not in m.source  # the paths of this read
    assert str(eora.folder) not in json.dumps(m.meta, default=str)
    assert str(tmp_path) not in _cache_files(cache_dir)[0].read_bytes().decode("utf-8", "replace")


def test_changed_source_content_is_read(eora, cache_dir):
    read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    t = eora.folder / "Eora26_2013_bp_T.txt"
    lines = [ln.split("\t") for ln in t.read_text().splitlines()]
    lines[0][0] = "123456.5"  # same file, new content (and size)
    t.write_text("\n".join("\t".join(r) for r in lines) + "\n")
    m = read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    assert m.meta["cache"] == "rebuilt (stale: source files changed)"
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
        z_at = json.loads(raw[32 : 32 + length])["arrays"]["Z"]["offset"]
        k = cache_mod._aligned(32 + length) + z_at + 2000
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
        assert "hash of Z differs" in m.meta["cache"]
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
    with pytest.warns(RuntimeWarning, match="could not write the eora26 cache"):
        m = read_eora26(eora.folder, 2013, cache_dir=blocker / "sub")
    assert m.meta["cache"].startswith("not written")
    assert m.Z.shape == (eora.n, eora.n)


def test_zip_source_is_fingerprinted(eora, tmp_path, cache_dir, parses):
    from io_fixtures import zip_folder

    z = zip_folder(eora, tmp_path / "zips")
    read_eora26(z, 2013, cache_dir=cache_dir)
    assert read_eora26(z, 2013, cache_dir=cache_dir).meta["cache"] == "hit"
    with open(z, "ab") as fh:  # another zip (a comment appended): its content hash changes
        fh.write(b"x")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_eora26(z, 2013, cache_dir=cache_dir).meta["cache"] == "rebuilt (stale: source files changed)"
    assert len(parses) == 2


def _array_at(raw: bytes, name: str) -> int:
    (length,) = struct.unpack("<Q", raw[16:24])
    return cache_mod._aligned(32 + length) + json.loads(raw[32 : 32 + length])["arrays"][name]["offset"]


def test_flipped_header_byte_is_refused(eora, cache_dir, parses):
    """CHN -> CHO in the header: the header's hash no longer matches."""
    read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    (f,) = _cache_files(cache_dir)
    raw = f.read_bytes()
    assert raw.count(b'"CHN"') >= 1
    f.write_bytes(raw.replace(b'"CHN"', b'"CHO"', 1))
    m = read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    assert m.meta["cache"] == "rebuilt (corrupt: ValueError: hash of the header differs)"
    assert "CHN" in m.countries and len(parses) == 2
    f.write_bytes(raw.replace(b'"CHN"', b'"CHO"', 1))
    (row,) = cache_mod.list_cache(cache_dir).itertuples()
    assert row.state == "corrupt: hash of the header differs"


def test_swapped_words_are_refused(eora, cache_dir, parses):
    """Two 8-byte words of Z swapped: a plain sum would not see it, xxh3 does."""
    read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    (f,) = _cache_files(cache_dir)
    b = bytearray(f.read_bytes())
    k = _array_at(bytes(b), "Z")
    first, second = bytes(b[k : k + 8]), bytes(b[k + 8 : k + 16])
    assert first != second
    b[k : k + 8], b[k + 8 : k + 16] = second, first
    f.write_bytes(bytes(b))
    m = read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    assert m.meta["cache"] == "rebuilt (corrupt: ValueError: hash of Z differs)" and len(parses) == 2


def test_killed_write_leaves_a_temporary_never_listed_nor_loaded(eora, cache_dir, parses):
    read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    (f,) = _cache_files(cache_dir)
    tmp = cache_dir / f"{cache_mod.TMP_PREFIX}abc{cache_mod.SUFFIX}"  # what a kill -9 mid-write leaves
    tmp.write_bytes(f.read_bytes()[:5000])
    table = cache_mod.list_cache(cache_dir)
    assert table["file"].tolist() == [str(f)] and table["state"].tolist() == ["ok"]
    old = tmp.stat().st_mtime - 3600
    os.utime(tmp, (old, old))
    read_eora26(eora.folder, 2013, keep_row=True, cache_dir=cache_dir)  # the next write cleans up
    assert not tmp.exists() and cache_mod.leftover_temporaries(cache_dir) == []


def test_malformed_headers_are_listed_as_corrupt(cache_dir, capsys):
    from mrioflow.cli import main

    cache_dir.mkdir()
    cases = {
        "garbage": b"nonsense",
        "short": cache_mod._MAGIC + struct.pack("<QQ", 1000, 0) + b"{}",
        "list": cache_mod._MAGIC + struct.pack("<QQ", 2, __import__("xxhash").xxh3_64_intdigest(b"[]")) + b"[]",
        "badutf8": cache_mod._MAGIC
        + struct.pack("<QQ", 2, __import__("xxhash").xxh3_64_intdigest(b"\xff\xfe"))
        + b"\xff\xfe",
    }
    for name, raw in cases.items():
        (cache_dir / f"{name}{cache_mod.SUFFIX}").write_bytes(raw)
    states = dict(
        zip(cache_mod.list_cache(cache_dir)["file"].map(os.path.basename), cache_mod.list_cache(cache_dir)["state"])
    )
    assert states == {
        "badutf8.mfcache": states["badutf8.mfcache"],
        "garbage.mfcache": "corrupt: not a mrioflow cache file",
        "list.mfcache": "corrupt: the header is not a JSON object",
        "short.mfcache": "corrupt: header cut short (2 of 1000 bytes)",
    }
    assert states["badutf8.mfcache"].startswith("corrupt: 'utf-8' codec can't decode")
    assert main(["cache", "--dir", str(cache_dir)]) == 0
    assert capsys.readouterr().out.count("corrupt") == 4


def test_unreadable_cache_folder_means_no_cache(eora, tmp_path, parses):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.warns(RuntimeWarning, match=r"the cache folder .*a-file cannot be read .*: no cache used"):
        m = read_eora26(eora.folder, 2013, cache_dir=blocker)
    assert m.meta["cache"].startswith("off") and len(parses) == 1
    with pytest.warns(RuntimeWarning, match=r"the cache folder .*a-file cannot be read"):
        assert cache_mod.list_cache(blocker).empty


def test_cache_file_reads_on_its_own(eora, cache_dir):
    import mrioflow as mf

    first = read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    (f,) = _cache_files(cache_dir)
    m = mf.io.read(f)
    assert m.meta["reader"] == "cache"
    assert m.source == "Eora26 2013, basic prices (<source folder>/Eora26_2013_bp_T.txt)"  # no path kept
    _same(first, m.replace(source=first.source))
    f.write_bytes(f.read_bytes().replace(b'"CHN"', b'"CHO"', 1))
    with pytest.raises(mf.errors.ReaderError, match=r"not a usable mrioflow cache file \(hash of the header differs\)"):
        mf.io.read(f, format="cache")


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
    assert sorted(table["state"]) == ["corrupt: not a mrioflow cache file", "ok", "ok", "ok", "old format"]
    assert sorted(table["year"].dropna().astype(int)) == [2013, 2013, 2014]
    assert (table["size_mb"] > 0).all() and table["options"].str.contains("keep_row").sum() == 3

    gone = cache_mod.clear_cache(cache_dir, stale_only=True)
    assert len(gone) == 2 and cache_mod.list_cache(cache_dir)["state"].tolist() == ["ok"] * 3
    assert len(cache_mod.clear_cache(cache_dir)) == 3 and cache_mod.list_cache(cache_dir).empty
    assert (cache_dir / "notes.txt").exists()  # only mrioflow's own files are touched
    assert cache_mod.list_cache(tmp_path / "nowhere").empty


def _edit_in_place(f):
    """Change one digit of the first non-zero cell of the 5th line (a methane row of Q) and
    restore the file's size and modification time, as an editor keeping timestamps would."""
    st = f.stat()
    lines = f.read_text().split("\n")
    cells = lines[4].split("\t")
    k = next(i for i, c in enumerate(cells) if c not in ("0.0", "0"))
    old = cells[k]
    cells[k] = str(int(old[0]) ^ 1) + old[1:]  # 0.13... -> 1.13..., 2.7... -> 3.7...
    lines[4] = "\t".join(cells)
    f.write_text("\n".join(lines))
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (f.stat().st_size, f.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)


def test_an_edit_keeping_size_and_mtime_is_read(eora, cache_dir, parses):
    """Issue #19, defect 2: the cache used to trust size and time and load the old table."""
    read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    _edit_in_place(eora.folder / "Eora26_2013_bp_Q.txt")
    m = read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    assert m.meta["cache"] == "rebuilt (stale: source files changed)" and len(parses) == 2
    fresh = read_eora26(eora.folder, 2013, cache=False)
    np.testing.assert_array_equal(m.F, fresh.F)
    assert read_eora26(eora.folder, 2013, cache_dir=cache_dir).meta["cache"] == "hit"


def test_provenance_and_cache_agree_on_an_edited_file(eora, cache_dir):
    """What provenance lists is what the table was read from: after an in-place edit, the
    SHA-256 recorded is the new file's and the table is the new content."""
    import hashlib

    from mrioflow.analysis import provenance
    from mrioflow.io.registry import get_reader

    read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    q = eora.folder / "Eora26_2013_bp_Q.txt"
    _edit_in_place(q)
    with cache_mod.digest_scope():
        records = provenance.table_inputs(data=[(str(eora.folder), get_reader("eora26"))], years=[2013])
        m = read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    (rec,) = [r for r in records if r["path"] == str(q.resolve())]
    assert rec["sha256"] == hashlib.sha256(q.read_bytes()).hexdigest()
    np.testing.assert_array_equal(m.F, read_eora26(eora.folder, 2013, cache=False).F)


@pytest.fixture
def reads(monkeypatch):
    """The source files read for their digests (each name once per pass)."""
    done = []
    real = cache_mod._read_digests

    def counting(path, *, sha256):
        done.append((os.path.basename(path), sha256))
        return real(path, sha256=sha256)

    monkeypatch.setattr(cache_mod, "_read_digests", counting)
    return done


def test_every_read_hashes_the_content(eora, cache_dir, reads):
    """Outside a digest scope nothing is trusted on size and time: each read hashes its sources."""
    read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    assert len(reads) == 9  # five data files and four label files
    assert read_eora26(eora.folder, 2013, cache_dir=cache_dir).meta["cache"] == "hit"
    assert len(reads) == 18 and not any(sha for _, sha in reads)  # the cache alone needs no SHA-256


def test_a_scope_reads_each_file_once_for_cache_and_provenance(eora, cache_dir, reads):
    import hashlib

    from mrioflow.analysis import provenance
    from mrioflow.io.registry import get_reader

    with cache_mod.digest_scope():
        records = provenance.table_inputs(data=[(str(eora.folder), get_reader("eora26"))], years=[2013])
        assert len(reads) == 9 and all(sha for _, sha in reads)  # one pass: SHA-256 and xxh3 together
        assert read_eora26(eora.folder, 2013, cache_dir=cache_dir).meta["cache"] == "rebuilt (missing)"
        assert read_eora26(eora.folder, 2013, cache_dir=cache_dir).meta["cache"] == "hit"
        assert len(reads) == 9  # the cache checks used the same digests
        time.sleep(0.05)  # past the file system's clock tick: the edit gets a new change time
        _edit_in_place(eora.folder / "Eora26_2013_bp_Q.txt")
        m = read_eora26(eora.folder, 2013, cache_dir=cache_dir)
        assert m.meta["cache"] == "rebuilt (stale: source files changed)"  # a new change time: hashed again
        assert [name for name, _ in reads[9:]] == ["Eora26_2013_bp_Q.txt"]
    for rec in records:
        if rec["path"].endswith("_Q.txt"):
            continue
        assert rec["sha256"] == hashlib.sha256(open(rec["path"], "rb").read()).hexdigest()
    read_eora26(eora.folder, 2013, cache_dir=cache_dir)  # the scope is over: hashed anew
    assert len(reads) == 19


def _no_search(monkeypatch, folder):
    """Make ``folder`` mode rw- (0o600): its names can be listed, nothing in it can be opened
    or stat'ed. Root ignores modes (CI runs as root), so there the file functions raise what
    the kernel raises for anyone else: EACCES for every path inside the folder."""
    import builtins
    import errno
    import io

    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o600)
    if os.geteuid() != 0:
        return
    inside = str(folder) + os.sep

    def guard(real):
        def call(path, *args, **kwargs):
            if not isinstance(path, int):
                p = os.fsdecode(os.fspath(path))
                if not os.path.isabs(p):
                    p = os.path.join(os.getcwd(), p)
                if p.startswith(inside):
                    raise PermissionError(errno.EACCES, "Permission denied", p)
            return real(path, *args, **kwargs)

        return call

    for name in ("stat", "lstat", "open", "unlink", "remove", "replace", "rename"):
        monkeypatch.setattr(os, name, guard(getattr(os, name)))
    monkeypatch.setattr(builtins, "open", guard(builtins.open))
    monkeypatch.setattr(io, "open", guard(io.open))


def test_a_no_search_cache_folder_means_no_cache(eora, cache_dir, parses, monkeypatch):
    """Issue #19, defect 10: a cache folder of mode rw- raised a raw PermissionError."""
    first = read_eora26(eora.folder, 2013, cache_dir=cache_dir)  # a cache file the folder holds
    _no_search(monkeypatch, cache_dir)
    try:
        with pytest.warns(RuntimeWarning, match=r"the cache folder .*cache cannot be read or searched .*no cache used"):
            m = read_eora26(eora.folder, 2013, cache_dir=cache_dir)
        assert m.meta["cache"].startswith("off (") and len(parses) == 2
        _same(first, m)
        with pytest.warns(RuntimeWarning, match=r"the cache folder .*cache cannot be read or searched"):
            assert cache_mod.list_cache(cache_dir).empty
        with pytest.raises(cache_mod.OutputError, match=r"cannot clear the cache folder .*nothing was deleted"):
            cache_mod.clear_cache(cache_dir, stale_only=True)
    finally:
        os.chmod(cache_dir, 0o700)
    monkeypatch.undo()
    assert len(_cache_files(cache_dir)) == 1  # nothing deleted


def test_cache_command_on_a_no_search_folder_is_one_line(eora, cache_dir, monkeypatch):
    """Issue #19, item 14: ``mrioflow cache --clear-stale`` on a folder of mode rw-."""
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1] / "cli"))
    from cli_runner import assert_one_line_error, run_cli

    read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    _no_search(monkeypatch, cache_dir)
    try:
        proc = run_cli("cache", "--clear-stale", "--dir", cache_dir)
        assert_one_line_error(proc, r"cannot clear the cache folder .*cannot be read or searched")
        proc = run_cli("cache", "--dir", cache_dir)  # the command prints warnings as one line
        assert proc.returncode == 0 and "Traceback" not in proc.stderr
        assert re.search(r"^warning: the cache folder .*cache cannot be read or searched", proc.stderr, re.M)
        assert "no cached tables" in proc.stdout
    finally:
        os.chmod(cache_dir, 0o700)


def test_an_older_mrioflows_cache_is_stale_not_corrupt(eora, cache_dir, parses):
    """Format 3 (an earlier mrioflow) wrote the JSON header right after its length, with no hash:
    listed and treated as stale (rebuilt), not reported as corrupt."""
    read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    (cached,) = cache_dir.glob(f"*{cache_mod.SUFFIX}")
    blob = json.dumps({"format": 3, "key": {}}).encode()
    cached.write_bytes(cache_mod._MAGIC + struct.pack("<Q", len(blob)) + blob + bytes(4096))  # + its arrays
    assert list(cache_mod.list_cache(cache_dir)["state"]) == ["stale: format 3"]
    assert len(parses) == 1
    mrio = read_eora26(eora.folder, 2013, cache_dir=cache_dir)
    assert len(parses) == 2
    assert mrio.meta["cache"] == f"rebuilt (stale: format 3 != {cache_mod.CACHE_FORMAT})"


def test_a_cache_hit_has_the_fingerprint_of_a_parse(eora, cache_dir, tmp_path):
    """Issue #19, defect 3: the table fingerprint of resumable stores held meta["cache"]
    ("rebuilt" or "hit") and the cache file's path, so a real-data run refused its own rerun."""
    from io_fixtures import zip_folder

    from mrioflow.ensembles.store import table_fingerprint

    z = zip_folder(eora, tmp_path / "zips")
    parsed = read_eora26(z, 2013, cache_dir=cache_dir)
    hit = read_eora26(z, 2013, cache_dir=cache_dir)
    elsewhere = read_eora26(z.rename(tmp_path / z.name), 2013, cache_dir=tmp_path / "another-cache")
    off = read_eora26(tmp_path / z.name, 2013, cache=False)
    assert (parsed.meta["cache"], hit.meta["cache"]) == ("rebuilt (missing)", "hit")
    assert len({table_fingerprint(m) for m in (parsed, hit, elsewhere, off)}) == 1
    changed = hit.replace(F=hit.F * 1.5)
    assert table_fingerprint(changed) != table_fingerprint(hit)  # content still counts


@pytest.mark.parametrize("command", ["run", "mc"])
def test_a_command_reads_each_source_once(tmp_path, reads, command):
    """``mrioflow run`` and ``mc`` hash each input once for the cache check and provenance.json."""
    import hashlib
    import sys

    import mrioflow as mf

    sys.path.insert(0, str(Path(__file__).parents[1] / "cli"))
    from cli_runner import run_cli

    world = mf.datasets.synthetic(2013, countries=list(mf.regions.bri().countries) + ["USA"])
    z = mf.io.write_eora26(world, tmp_path / "eora", 2013, zip=True)
    extra = ["--samples", "4"] if command == "mc" else []
    for i in range(2):  # a cold cache, then a warm one
        out = tmp_path / f"out{i}"
        proc = run_cli(command, "--data", z, "--year", "2013", "--backend", "numpy", "-q", *extra, "-o", out)
        assert proc.returncode == 0, proc.stderr
        assert [name for name, _ in reads] == [z.name] * (i + 1) and all(sha for _, sha in reads)
        listed = json.loads((out / "provenance.json").read_text())["inputs"]
        assert [r["sha256"] for r in listed] == [hashlib.sha256(z.read_bytes()).hexdigest()]
    assert read_eora26(z, 2013).meta["cache"] == "hit"  # the commands wrote the cache
    assert len(reads) == 3
