"""The compiled tab-separated parser (mrioflow.io._tsv) on its own.

It is a fast path: it must give bit-for-bit the numbers Python's float() gives
(both round correctly), and answer False (never a wrong number) on anything else.
"""

from __future__ import annotations

import numpy as np
import pytest

_tsv = pytest.importorskip("mrioflow.io._tsv", reason="compiled parser not built")


def _parse(text: bytes, shape, *, rowmap=None, colmap=None, out_shape=None, trailing=False, threads=2):
    nrows, ncols = shape
    rowmap = np.arange(nrows, dtype=np.int64) if rowmap is None else np.asarray(rowmap, dtype=np.int64)
    colmap = np.arange(ncols, dtype=np.int64) if colmap is None else np.asarray(colmap, dtype=np.int64)
    out = np.zeros(out_shape or shape)
    return _tsv.parse(text, out, rowmap, colmap, ncols, trailing, threads), out


def _random_cells(rng, shape) -> np.ndarray:
    """Text cells in the forms real files hold: 0, integers, decimals, exponents, negatives."""
    vals = rng.lognormal(0, 8, shape) * rng.choice([-1, 1], shape)
    kinds = rng.integers(0, 6, shape)
    cells = np.empty(shape, dtype=object)
    for idx, v in np.ndenumerate(vals):
        k = kinds[idx]
        cells[idx] = ["0", repr(float(v)), f"{v:.6E}", f"{v:.3f}", str(int(v)), f"{v:.17g}"][k]
    return cells


@pytest.mark.parametrize("threads", [1, 2, 7])
@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_same_bits_as_python_float(threads, eol):
    rng = np.random.default_rng(1)
    cells = _random_cells(rng, (300, 40))
    text = "".join("\t".join(row) + eol for row in cells).encode()
    ok, out = _parse(text, cells.shape, threads=threads)
    assert ok
    expected = np.vectorize(float, otypes=[float])(cells)
    np.testing.assert_array_equal(out, expected)
    assert np.array_equal(out.view(np.int64), expected.view(np.int64))  # -0.0 and last bits too


def test_places_rows_and_columns_by_the_maps():
    cells = np.arange(20, dtype=float).reshape(4, 5)
    text = "".join("\t".join(repr(float(v)) for v in row) + "\n" for row in cells).encode()
    rowmap = [2, -1, 0, 1]  # row 1 dropped, the others permuted
    colmap = [-1, 0, 1, 2, 3]  # column 0 dropped
    ok, out = _parse(text, (4, 5), rowmap=rowmap, colmap=colmap, out_shape=(3, 4))
    assert ok
    np.testing.assert_array_equal(out, [cells[2, 1:], cells[3, 1:], cells[0, 1:]])


def test_empty_lines_and_trailing_tab():
    ok, out = _parse(b"\n1\t2\t\n\r\n3\t4\t\r\n\n", (2, 2), trailing=True)
    assert ok
    np.testing.assert_array_equal(out, [[1, 2], [3, 4]])


@pytest.mark.parametrize(
    "text, shape, trailing",
    [
        (b"1\t2\n3\n", (2, 2), False),  # too few fields
        (b"1\t2\n3\t4\t5\n", (2, 2), False),  # too many
        (b"1\t2\n3\t4\t\n", (2, 2), False),  # a trailing tab where none is expected
        (b"1\t2\t\n3\t4\n", (2, 2), True),  # a trailing tab missing
        (b"1\t2\t\n3\t4\t9\n", (2, 2), True),  # a non-empty trailing field
        (b"1\t2\n3\t4\n5\t6\n", (2, 2), False),  # too many lines
        (b"1\t2\n", (2, 2), False),  # too few
        (b"1\t\n3\t4\n", (2, 2), False),  # an empty cell
        (b"1\t12,5\n3\t4\n", (2, 2), False),  # a decimal comma
        (b"1\t2x\n3\t4\n", (2, 2), False),  # junk after a number
        (b"1\tNaN\n3\t4\n", (2, 2), False),  # non-finite
        (b"1\tinf\n3\t4\n", (2, 2), False),
        (b"1\t1e400\n3\t4\n", (2, 2), False),  # overflows
        (b"1\t 2\n3\t4\n", (2, 2), False),  # blank before a number (pyarrow decides)
        (b"1\t+2\n3\t4\n", (2, 2), False),  # plus sign (pyarrow decides)
    ],
)
def test_declines_what_it_does_not_accept(text, shape, trailing):
    ok, _ = _parse(text, shape, trailing=trailing)
    assert ok is False


def test_bad_arguments_raise():
    text = b"1\t2\n3\t4\n"
    with pytest.raises(ValueError, match=r"rowmap\[1\] = 5 is out of range"):
        _parse(text, (2, 2), rowmap=[0, 5])
    with pytest.raises(ValueError, match=r"colmap\[0\] = -2 is out of range"):
        _parse(text, (2, 2), colmap=[-2, 1])
    with pytest.raises(TypeError, match="out must be a C-contiguous 2-d float64 array"):
        _tsv.parse(text, np.zeros((2, 2), dtype=np.float32), np.arange(2), np.arange(2), 2, False, 1)
    with pytest.raises(TypeError, match="rowmap must be a contiguous int64 array"):
        _tsv.parse(text, np.zeros((2, 2)), np.arange(2, dtype=np.int32), np.arange(2), 2, False, 1)
    with pytest.raises(ValueError, match="colmap must have ncols entries"):
        _tsv.parse(text, np.zeros((2, 2)), np.arange(2), np.arange(3), 2, False, 1)


def _reference(text: bytes, ncols: int, trailing: bool) -> np.ndarray:
    """What an accepted text must mean: non-empty lines (one trailing CR dropped), tab-separated cells, float()."""
    rows = []
    for line in text.split(b"\n"):
        line = line[:-1] if line.endswith(b"\r") else line
        if not line:
            continue
        cells = line.split(b"\t")
        if trailing:
            assert cells[-1] == b""
            cells = cells[:-1]
        assert len(cells) == ncols
        rows.append([float(c) for c in cells])
    return np.array(rows, dtype=float).reshape(-1, ncols)


@pytest.mark.parametrize("trailing", [False, True])
def test_mutated_text_is_declined_or_read_exactly(trailing):
    """Random edits to well-formed text: whatever the parser accepts, it reads as float() does."""
    rng = np.random.default_rng(7 + trailing)
    alphabet = list(b"0123456789.eE-+\t\n\r xnaif")
    base = _random_cells(rng, (12, 5))
    end = "\t\n" if trailing else "\n"
    text = "".join("\t".join(row) + end for row in base).encode()
    accepted = 0
    for _ in range(3000):
        b = bytearray(text)
        for _ in range(rng.integers(1, 4)):
            k = int(rng.integers(0, len(b)))
            op = rng.integers(0, 3)
            if op == 0:
                b[k] = alphabet[rng.integers(len(alphabet))]
            elif op == 1:
                del b[k]
            else:
                b.insert(k, alphabet[rng.integers(len(alphabet))])
        ok, out = _parse(bytes(b), base.shape, trailing=trailing, threads=int(rng.integers(1, 4)))
        if ok:
            accepted += 1
            expected = _reference(bytes(b), base.shape[1], trailing)
            assert expected.shape == base.shape
            assert np.array_equal(out.view(np.int64), expected.view(np.int64)), bytes(b)
    assert 0 < accepted < 3000  # some edits keep the text valid (a digit for a digit), most do not


@pytest.mark.parametrize("threads", [2, 3])
def test_blocks_split_at_line_ends(threads):
    # Blocks are at least 1 MiB: a text of several MiB is cut into ``threads`` blocks,
    # here with empty lines and CRLF ends where the cuts may fall.
    rng = np.random.default_rng(threads)
    vals = rng.lognormal(0, 5, (6000, 60)) * (rng.random((6000, 60)) < 0.5)
    lines = ["\t".join(map(repr, row.tolist())) for row in vals]
    eols = rng.choice(["\n", "\r\n", "\n\n", "\r\n\r\n"], len(lines))
    text = "".join(ln + e for ln, e in zip(lines, eols)).encode()
    assert len(text) > 3 * (1 << 20)
    ok, out = _parse(text, vals.shape, threads=threads)
    assert ok
    np.testing.assert_array_equal(out, vals)
    ok, _ = _parse(text + b"1" + b"\t0" * 59 + b"\n", vals.shape, threads=threads)  # one row too many
    assert ok is False


def test_label_fields_are_skipped_and_the_separator_chosen():
    """EXIOBASE's rows start with (region, sector) labels; GLORIA's files are comma-separated."""
    out = np.zeros((2, 3))
    text = b"AT\tPaddy rice\t1\t2.5\t-3e-2\nWA\tCattle, live\t4\t5\t6\n"
    assert _tsv.parse(text, out, np.arange(2), np.arange(3), 3, False, 2, 2)
    np.testing.assert_array_equal(out, [[1, 2.5, -0.03], [4, 5, 6]])
    out[:] = 0
    assert _tsv.parse(b"x,1,2,3\r\ny,4,5,6\r\n", out, np.arange(2), np.arange(3), 3, False, 2, 1, ",")
    np.testing.assert_array_equal(out, [[1, 2, 3], [4, 5, 6]])
    # a line with fewer label fields than skip, or labels but a short row: refused
    assert not _tsv.parse(b"AT\n", np.zeros((1, 3)), np.arange(1), np.arange(3), 3, False, 1, 2)
    assert not _tsv.parse(b"AT\tx\t1\t2\n", np.zeros((1, 3)), np.arange(1), np.arange(3), 3, False, 1, 2)
    with pytest.raises(ValueError, match="skip must be >= 0"):
        _tsv.parse(text, out, np.arange(2), np.arange(3), 3, False, 2, -1)
    with pytest.raises(ValueError, match="sep one ASCII character"):
        _tsv.parse(text, out, np.arange(2), np.arange(3), 3, False, 2, 0, "\n")
