"""Text tables, shared by every reader: files on disk or in zips, and delimited numbers.

What the Eora26, EXIOBASE 3 (and other) readers share:

- :class:`SourceFile`: one input file, loose on disk or a member of a zip, read
  whole (small files), memory-mapped (loose big files) or streamed (zip members:
  decompressed block by block, never extracted to disk);
- :func:`parse_compiled`: mrioflow's compiled parser (``_tsv.cpp``: one block of
  lines per core, ``std::from_chars``, each cell written straight to its place),
  for tab- or comma-separated numbers after a fixed number of label fields;
- :func:`read_labelled`: a labelled table (header rows of column labels, index
  columns of row labels, as pandas ``read_csv(header=[...], index_col=[...])``
  reads it) streamed block by block into one float64 array, by the compiled
  parser where it accepts the text and by pyarrow otherwise, any bad cell
  reported by file, line and column.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import zipfile
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ReaderError

try:  # the compiled parser (setup.py builds it when a C++17 compiler is there)
    from . import _tsv as compiled
except ImportError:  # pragma: no cover - depends on the install
    compiled = None  # type: ignore[assignment]

__all__ = [
    "LabelledTable",
    "Place",
    "SourceFile",
    "compiled",
    "decode",
    "open_zip",
    "parse_compiled",
    "read_labelled",
    "single_member",
    "zip_members",
]


@dataclass(frozen=True)
class SourceFile:
    """One input file: loose on disk (``member`` None) or a member of a zip."""

    path: Path
    member: str | None = None

    @property
    def name(self) -> str:
        return Path(self.member).name if self.member else self.path.name

    def __str__(self) -> str:
        return f"{self.path}:{self.member}" if self.member else str(self.path)

    def buffer(self):
        """The file's bytes as a pyarrow Buffer (memory-mapped for a loose file: no copy)."""
        import pyarrow as pa

        if self.member is None:
            try:
                with pa.memory_map(str(self.path), "r") as mm:
                    return mm.read_buffer()
            except OSError as exc:
                raise ReaderError(f"cannot read {self.path}: {exc}") from None
        return pa.py_buffer(self.read_bytes())

    def size(self) -> int:
        """Bytes on disk; for a zip member, the uncompressed size its header declares."""
        if self.member is None:
            try:
                return self.path.stat().st_size
            except OSError as exc:
                raise ReaderError(f"cannot read {self.path}: {exc}") from None
        with open_zip(self.path) as zf:
            return zf.getinfo(self.member).file_size

    def check_size(self, limit: int, why: str) -> None:
        """Refuse to read a file larger than ``limit`` bytes (a zip bomb, or the wrong file)."""
        size = self.size()
        if size > limit:
            raise ReaderError(
                f"{self}: {size:,} bytes{' uncompressed' if self.member else ''}, more than {why} "
                f"({limit:,} bytes); refusing to read it (a damaged or malicious file?)"
            )

    def read_bytes(self) -> bytes:
        if self.member is None:
            try:
                return self.path.read_bytes()
            except OSError as exc:
                raise ReaderError(f"cannot read {self.path}: {exc}") from None
        try:
            with zipfile.ZipFile(self.path) as zf:
                return zf.read(self.member)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise ReaderError(
                f"corrupt zip file {self.path}: cannot read {self.member} ({exc}); download it again"
            ) from None

    @contextlib.contextmanager
    def stream(self) -> Iterator:
        """A binary file object over the file's bytes (a zip member is decompressed as it is read)."""
        try:
            if self.member is None:
                with open(self.path, "rb") as fh:
                    yield fh
            else:
                with zipfile.ZipFile(self.path) as zf, zf.open(self.member) as fh:
                    yield fh
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise ReaderError(
                f"corrupt zip file {self.path}: cannot read {self.member} ({exc}); download it again"
            ) from None
        except OSError as exc:
            raise ReaderError(f"cannot read {self}: {exc}") from None


def open_zip(path: Path) -> zipfile.ZipFile:
    """The zip at ``path``; a ReaderError naming it when it is not a readable zip."""
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise ReaderError(f"corrupt zip file {path}: {exc}; expected a zip archive") from None


def zip_members(path: Path) -> dict[str, list[str]]:
    """File name -> the members of that name, wherever they sit in the zip."""
    members: dict[str, list[str]] = {}
    with open_zip(path) as zf:
        for n in zf.namelist():
            if not n.endswith("/"):
                members.setdefault(Path(n).name, []).append(n)
    return members


def single_member(path: Path, members: dict[str, list[str]], name: str) -> SourceFile:
    """The one member called ``name``; a name held twice (e.g. at the root and in a folder) is refused."""
    found = members[name]
    if len(found) > 1:
        raise ReaderError(
            f"{path} holds {name} {len(found)} times ({', '.join(found)}); cannot tell which one to read: "
            "remove the others"
        )
    return SourceFile(path, found[0])


def decode(raw: bytes) -> str:
    """Text of a label file: UTF-8 (with or without a byte-order mark), else Latin-1."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


# -- the compiled parser -----------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """Where a parsed matrix goes: ``out[r_new, c_new] = parsed[r_old, c_old]`` in zeros of ``shape``."""

    shape: tuple[int, int]
    r_new: np.ndarray
    r_old: np.ndarray
    c_new: np.ndarray
    c_old: np.ndarray

    def empty(self) -> np.ndarray:
        """The result array: zeros where nothing is placed, uninitialised when all is covered."""
        covered = len(self.r_new) == self.shape[0] and len(self.c_new) == self.shape[1]
        return (np.empty if covered else np.zeros)(self.shape)

    @staticmethod
    def identity(nrows: int, ncols: int) -> Place:
        r, c = np.arange(nrows), np.arange(ncols)
        return Place((nrows, ncols), r, r, c, c)


def _threads() -> int:
    import os

    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def parse_compiled(
    data, nrows: int, ncols: int, trailing: bool, place: Place, *, skip: int = 0, sep: str = "\t", out=None
) -> np.ndarray | None:
    """The compiled parser's result, or None when it is not built or does not accept the text.

    It accepts only well-formed text (``nrows`` non-empty lines of ``skip``
    label fields and ``ncols`` finite numbers, separated by ``sep``) and writes
    each cell straight to its place (into ``out`` when given); on anything else
    the caller parses with pyarrow, which either accepts the text or names the bad cell.
    """
    if compiled is None:
        return None
    rowmap = np.full(nrows, -1, dtype=np.int64)
    rowmap[place.r_old] = place.r_new
    colmap = np.full(ncols, -1, dtype=np.int64)
    colmap[place.c_old] = place.c_new
    out = place.empty() if out is None else out
    return out if compiled.parse(data, out, rowmap, colmap, ncols, trailing, _threads(), skip, sep) else None


# -- labelled tables, streamed ---------------------------------------------------------------------


@dataclass
class LabelledTable:
    """A labelled matrix: ``values[i, j]`` is row ``rows[i]``, column ``columns[j]``.

    ``columns`` holds one tuple per column (one entry per header row), ``rows``
    one tuple per row (one entry per index column); ``index_names`` the names of
    the index columns as the header gives them.
    """

    rows: list[tuple[str, ...]]
    columns: list[tuple[str, ...]]
    values: np.ndarray
    index_names: list[str]


_BLOCK = 32 << 20  # bytes per streamed block: a few hundred lines of a 9,800-column table


def _blocks(fh, size: int) -> Generator[bytes, None, None]:
    """Blocks of whole lines; decompression (zlib frees the GIL) runs on a thread ahead of the parse.

    When the consumer stops early (an error in a block), the thread is told to stop and ends.
    """
    q: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        rest = b""
        try:
            while not stop.is_set():
                chunk = fh.read(size)
                if not chunk:
                    if rest:
                        put(rest)
                    break
                chunk = rest + chunk
                cut = chunk.rfind(b"\n") + 1
                if cut == 0:
                    rest = chunk
                    continue
                rest = chunk[cut:]
                if not put(chunk[:cut]):
                    return
            put(None)
        except BaseException as exc:  # handed to the consumer, which raises it
            put(exc)

    t = threading.Thread(target=produce, daemon=True, name="mrioflow-read-ahead")
    t.start()
    try:
        while True:
            item = q.get()
            if item is None:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        t.join()


def _fields(line: bytes, sep: bytes) -> list[str]:
    return [decode(x).strip() for x in line.rstrip(b"\r").split(sep)]


def _parse_block_pyarrow(f, block: bytes, ncols: int, skip: int, sep: str, first_line: int) -> np.ndarray:
    """The fallback parse of one block (pyarrow), naming the first bad cell by line and column."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    types = {f"f{j}": (pa.string() if j < skip else pa.float64()) for j in range(skip + ncols)}
    try:
        table = pacsv.read_csv(
            pa.py_buffer(block),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True, block_size=max(1 << 20, len(block) + 1)),
            parse_options=pacsv.ParseOptions(delimiter=sep, quote_char=False, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                include_columns=[f"f{j}" for j in range(skip, skip + ncols)],
                null_values=[],
                strings_can_be_null=False,
            ),
        )
        arr = np.column_stack([table.column(j).to_numpy() for j in range(ncols)]) if ncols else None
    except (pa.ArrowInvalid, KeyError):
        arr = None
    lines = block.split(b"\n")
    if arr is not None:
        bad = ~np.isfinite(arr)
        if not bad.any():
            return arr
        i, j = np.argwhere(bad)[0]
        nonempty = [k for k, ln in enumerate(lines) if ln.strip()]
        raise ReaderError(
            f"{f}: non-finite value {arr[i, j]} at line {first_line + nonempty[i]}, column {skip + j + 1}; "
            "expected a finite number"
        )
    bsep = sep.encode()
    for k, line in enumerate(lines):
        if not line.strip():
            continue
        cells = line.rstrip(b"\r").split(bsep)
        if len(cells) != skip + ncols:
            raise ReaderError(
                f"{f}: line {first_line + k} has {len(cells)} fields, expected {skip + ncols} "
                f"({skip} label(s) and {ncols} numbers, as the header gives)"
            )
        for j, cell in enumerate(cells[skip:], start=skip):
            try:
                float(cell)
            except ValueError:
                raise ReaderError(
                    f"{f}: non-numeric cell {decode(cell)!r} at line {first_line + k}, column {j + 1}; "
                    "expected a number"
                ) from None
    raise ReaderError(f"{f}: cannot parse the numbers in lines {first_line} to {first_line + len(lines) - 1}")


def read_labelled(
    f: SourceFile, *, n_index: int, n_header: int, sep: str = "\t", nrows: int | str | None = None
) -> LabelledTable:
    """Read a labelled delimited table (pandas' ``read_csv(index_col=n_index, header=n_header)`` layout).

    The first ``n_header`` lines give the column labels after ``n_index``
    fields (which hold the header's level names); a line after them whose number
    fields are all empty names the index columns (pandas writes one); every
    other line is ``n_index`` labels then one number per column. The file is
    streamed in blocks (a zip member is never extracted to disk) and each block
    parsed on all cores.

    Parameters
    ----------
    f : SourceFile
    n_index, n_header : int
        Index columns and header rows.
    sep : str
        The separator (tab or comma; no quoting).
    nrows : int or "square", optional
        The expected number of data rows, when known (the result is then filled
        in place, without a final copy, and a file with more rows is refused
        before they are held); ``"square"``: as many as the header has columns.

    Returns
    -------
    LabelledTable

    Raises
    ------
    ReaderError
        A short header, a line with the wrong number of fields, a cell that is
        not a finite number (file, line and column named), more or fewer rows
        than ``nrows``.
    """
    bsep = sep.encode()
    with f.stream() as fh, contextlib.closing(_blocks(fh, _BLOCK)) as blocks:
        head: list[bytes] = []
        pending = b""
        for block in blocks:
            pending += block
            if pending.count(b"\n") > n_header + 1:
                break
        lines = pending.split(b"\n")
        pos = 0
        lineno = 1
        while len(head) < n_header and pos < len(lines):
            if lines[pos].strip():
                head.append(lines[pos])
            pos += 1
            lineno += 1
        if len(head) < n_header:
            raise ReaderError(f"{f}: expected {n_header} header line(s) of column labels, found {len(head)}")
        header = [_fields(h, bsep) for h in head]
        widths = {len(h) for h in header}
        if len(widths) != 1 or next(iter(widths)) <= n_index:
            raise ReaderError(
                f"{f}: the {n_header} header lines have {sorted(widths)} fields; expected the same number, "
                f"more than the {n_index} index column(s)"
            )
        ncols = len(header[0]) - n_index
        columns = [tuple(h[n_index + j] for h in header) for j in range(ncols)]
        index_names = [header[-1][k] for k in range(n_index)]
        # an index-name line: labels, then nothing
        while pos < len(lines) - 1 and not lines[pos].strip():
            pos += 1
            lineno += 1
        if pos < len(lines) - 1:
            first = _fields(lines[pos], bsep)
            if all(c == "" for c in first[n_index:]) and any(first[:n_index]):
                index_names = first[:n_index] + [""] * (n_index - len(first[:n_index]))
                pos += 1
                lineno += 1
        body_start = sum(len(ln) + 1 for ln in lines[:pos])
        rest = pending[body_start:]

        rows: list[tuple[str, ...]] = []
        parts: list[np.ndarray] = []
        if nrows == "square":
            nrows = ncols
        out = np.empty((int(nrows), ncols)) if nrows is not None else None
        done = 0

        def parse(block: bytes, first_line: int) -> None:
            nonlocal done
            labels = []
            p = 0
            end = len(block)
            while p < end:
                nl = block.find(b"\n", p)
                nl = end if nl < 0 else nl
                if nl > p and block[p:nl].strip():
                    cells = block[p : min(nl, p + 4096)].split(bsep, n_index)
                    labels.append(tuple(decode(c).strip() for c in cells[:n_index]))
                p = nl + 1
            k = len(labels)
            if k == 0:
                return
            if out is not None and done + k > out.shape[0]:
                raise ReaderError(f"{f}: more than the {out.shape[0]} data rows expected (the labels give {nrows})")
            target = out[done : done + k] if out is not None else np.empty((k, ncols))
            got = parse_compiled(block, k, ncols, False, Place.identity(k, ncols), skip=n_index, sep=sep, out=target)
            if got is None:
                target[:] = _parse_block_pyarrow(f, block, ncols, n_index, sep, first_line)
            if out is None:
                parts.append(target)
            rows.extend(labels)
            done += k

        if rest:
            parse(rest, lineno)
            lineno += rest.count(b"\n")
        for block in blocks:
            parse(block, lineno)
            lineno += block.count(b"\n")
    if out is not None and done != out.shape[0]:
        raise ReaderError(f"{f}: {done} data rows, expected {out.shape[0]} (as the header gives)")
    values = out if out is not None else (np.vstack(parts) if parts else np.zeros((0, ncols)))
    return LabelledTable(rows, columns, values, index_names)
