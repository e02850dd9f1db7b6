"""Read and write the Eora26 multi-regional input-output table (worldmrio.com).

The layout (docs/method.md section 8): per year and price (``bp`` basic, ``pp``
purchasers' prices) a zip ``Eora26_{year}_{price}.zip`` holding tab-separated,
header-less text files

==========================  =====================================================
``Eora26_{y}_{p}_T.txt``    transactions, n x n (Eora26: 189 countries x 26 sectors + 1 RoW)
``Eora26_{y}_{p}_FD.txt``   final demand, n x m (Eora26: 6 categories per country + 1 RoW)
``Eora26_{y}_{p}_VA.txt``   value added, v rows x n (Eora26: 6)
``Eora26_{y}_{p}_Q.txt``    satellite accounts, q rows x n
``Eora26_{y}_{p}_QY.txt``   satellite accounts of final demand, q rows x m
``labels_T.txt``            n rows: country name, code, "Industries", sector
``labels_FD.txt``           m rows: country name, code, "Final Demand", category
``labels_VA.txt``           v rows: "Primary Inputs", the value-added item
``labels_Q.txt``            q rows: indicator with its unit in brackets, category
==========================  =====================================================

Labels may also sit next to the zip (loose, or in an ``indices.zip``). Every
count (countries, sectors, categories, VA and Q rows, a RoW row or none) comes
from the label files, so any table in this layout reads, such as pymrio's
Eora26 test files (6 regions x 8 sectors, no RoW).

T and FD are parsed by mrioflow's compiled parser (``_tsv.cpp``: one block of
lines per core, each cell converted with ``std::from_chars`` and written straight
to its place in the result), or, where it is not built or does not accept the
text, by pyarrow's multi-threaded CSV reader, which also names any bad cell.
Only the satellite rows that are needed are parsed.
"""

from __future__ import annotations

import contextlib
import io
import re
import zipfile
import zlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._checks import check_year
from .._files import atomic_write
from ..errors import LabelError, MissingDataError, OptionError, ReaderError
from ..mrio import MRIO
from ._pattern import LabelPattern, compile_label_pattern

try:  # the compiled parser (setup.py builds it when a C++17 compiler is there)
    from . import _tsv
except ImportError:  # pragma: no cover - depends on the install
    _tsv = None  # type: ignore[assignment]

PARSER = "pyarrow" if _tsv is None else "compiled"
"""Which parser reads the big matrices: ``"compiled"`` (mrioflow's own, multi-threaded) or ``"pyarrow"``."""

__all__ = [
    "EORA26_VA_ITEMS",
    "METHANE",
    "PARSER",
    "describe_indicators",
    "missing_stressor_message",
    "read_eora26",
    "satellite_option",
    "write_eora26",
]

_PRICES = ("bp", "pp")
_DATA_KINDS = ("T", "FD", "VA", "Q", "QY")
_LABEL_FILES = ("labels_T.txt", "labels_FD.txt", "labels_VA.txt", "labels_Q.txt")
ROW_CODE = "ROW"
METHANE = "I-GHG-CH4 emissions"
"""The indicator of Eora26's methane rows in ``labels_Q.txt`` (their unit follows in brackets: "(Gg)")."""

EORA26_VA_ITEMS = (
    "Compensation of employees D.1",
    "Taxes on production D.29",
    "Subsidies on production D.39",
    "Net operating surplus B.2n",
    "Net mixed income B.3n",
    "Consumption of fixed capital K.1",
)
"""The six value-added rows of Eora26, in order (``labels_VA.txt``)."""

_NUMBER = re.compile(rb"^\s*[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|nan|inf|infinity)\s*$", re.IGNORECASE)
_UNIT = re.compile(r"\(([^()]*)\)\s*$")


def _data_name(year: int, price: str, kind: str) -> str:
    return f"Eora26_{year}_{price}_{kind}.txt"


# -- locating the files ----------------------------------------------------------------------


@dataclass(frozen=True)
class _File:
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
        with _open_zip(self.path) as zf:
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


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise ReaderError(f"corrupt zip file {path}: {exc}; expected an Eora26 zip archive") from None


def _zip_members(path: Path) -> dict[str, list[str]]:
    """File name -> the members of that name, wherever they sit in the zip."""
    members: dict[str, list[str]] = {}
    with _open_zip(path) as zf:
        for n in zf.namelist():
            if not n.endswith("/"):
                members.setdefault(Path(n).name, []).append(n)
    return members


def _member(path: Path, members: dict[str, list[str]], name: str) -> _File:
    """The one member called ``name``; a name held twice (e.g. at the root and in a folder) is refused."""
    found = members[name]
    if len(found) > 1:
        raise ReaderError(
            f"{path} holds {name} {len(found)} times ({', '.join(found)}); cannot tell which one to read: "
            "remove the others"
        )
    return _File(path, found[0])


_YEAR_NAME = re.compile(r"^Eora26_(\d{4})_(bp|pp)(?:\.zip|_T\.txt)$")


def _years_in(folder: Path, price: str) -> list[int]:
    years: set[int] = set()
    for entry in folder.iterdir():
        m = _YEAR_NAME.match(entry.name)
        if m and m.group(2) == price:
            years.add(int(m.group(1)))
        elif entry.is_dir() and (re.fullmatch(r"\d{4}", entry.name) or entry.name.startswith("Eora26_")):
            with contextlib.suppress(OSError):
                for sub in entry.iterdir():
                    m = _YEAR_NAME.match(sub.name)
                    if m and m.group(2) == price:
                        years.add(int(m.group(1)))
        elif entry.suffix == ".zip" and entry.is_file():
            with contextlib.suppress(ReaderError):
                for name in _zip_members(entry):
                    m = _YEAR_NAME.match(name)
                    if m and m.group(2) == price:
                        years.add(int(m.group(1)))
    return sorted(years)


def _find_labels(name: str, zip_members: dict[str, list[str]] | None, zip_path: Path | None, dirs: list[Path]):
    if zip_members is not None and zip_path is not None and name in zip_members:
        return _member(zip_path, zip_members, name)
    for d in dirs:
        if (d / name).is_file():
            return _File(d / name)
        idx = d / "indices.zip"
        if idx.is_file():
            members = _zip_members(idx)
            if name in members:
                return _member(idx, members, name)
    return None


def _zip_files(z: Path, year: int, price: str):
    members = _zip_members(z)
    want = [_data_name(year, price, k) for k in _DATA_KINDS]
    missing = [n for n in want if n not in members]
    if missing:
        found = sorted({int(m.group(1)) for n in members if (m := _YEAR_NAME.match(n)) and m.group(2) == price})
        raise MissingDataError(
            f"{z} holds no Eora26 {year} ({price}) data: missing {', '.join(missing)}; "
            f"years in it: {', '.join(map(str, found)) or 'none'}"
        )
    return {n: _member(z, members, n) for n in want}, members


def _locate(path, year: int, price: str) -> tuple[dict[str, _File], Path | None]:
    """Map every needed file name to where it is; second item: the data location."""
    p = Path(path).expanduser()
    if not p.exists():
        raise MissingDataError(f"Eora26 data not found: {p} does not exist")
    want = [_data_name(year, price, k) for k in _DATA_KINDS]
    zip_name = f"Eora26_{year}_{price}.zip"
    files = members = zpath = location = None
    if p.is_file():
        files, members = _zip_files(p, year, price)
        zpath, location, dirs = p, p, [p.parent]
    else:
        for d in (p, p / str(year), p / f"Eora26_{year}_{price}"):
            if not d.is_dir():
                continue
            if (d / want[0]).is_file():
                missing = [n for n in want if not (d / n).is_file()]
                if missing:
                    raise MissingDataError(f"{d}: the Eora26 {year} ({price}) files {', '.join(missing)} are missing")
                files, location, dirs = {n: _File(d / n) for n in want}, d, [d, p]
                break
            if (d / zip_name).is_file():
                zpath = d / zip_name
                files, members = _zip_files(zpath, year, price)
                location, dirs = zpath, [d, p]
                break
        if files is None:
            years = _years_in(p, price)
            raise MissingDataError(
                f"no Eora26 data for {year} ({price} prices) in {p}; years found: "
                f"{', '.join(map(str, years)) or 'none'} (expected {zip_name}, or a folder with {want[0]})"
            )
    for name in _LABEL_FILES:
        f = _find_labels(name, members, zpath, dirs)
        if f is None:
            where = zpath if zpath is not None else dirs[0]
            raise MissingDataError(
                f"label file {name} not found in {where} (also looked for it loose or in indices.zip "
                f"in {', '.join(map(str, dirs))})"
            )
        files[name] = f
    return files, location


# -- parsing ----------------------------------------------------------------------------------


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


_MAX_LABEL_BYTES = 64 << 20  # Eora's largest label file (labels_Q.txt) holds well under 1 MB
_MAX_CELL_BYTES = 64  # a number written in full ("-1.2345678901234567e-308") and its tab take 25


def _read_labels(f: _File, min_fields: int, what: str) -> list[list[str]]:
    f.check_size(_MAX_LABEL_BYTES, "a label file may hold")
    rows = []
    for lineno, line in enumerate(_decode(f.read_bytes()).splitlines(), 1):
        if not line.strip():
            continue
        fields = [s.strip() for s in line.split("\t")]
        while fields and fields[-1] == "":
            fields.pop()
        if len(fields) < min_fields:
            raise ReaderError(
                f"{f}: line {lineno} has {len(fields)} tab-separated field(s), expected at least {min_fields} ({what})"
            )
        rows.append(fields)
    if not rows:
        raise ReaderError(f"{f}: the label file is empty")
    return rows


def _count_rows(raw: bytes) -> int:
    return sum(1 for line in raw.splitlines() if line.strip())


def _shape_error(f: _File, found: tuple, expected: tuple, labels: str) -> ReaderError:
    return ReaderError(
        f"{f}: the matrix has shape {found} but {labels} give shape {expected}; "
        "the data file and its labels do not belong together"
    )


def _diagnose(
    f: _File, lines: list[bytes], line_numbers: list[int], ncols: int, trailing: bool, exc, *, column_hint: bool = True
) -> ReaderError:
    """Find the first bad cell (error path only: a Python scan is fine here)."""
    m = re.search(r"column #(\d+)", str(exc)) if column_hint else None
    hint = int(m.group(1)) if m else None
    for line, lineno in zip(lines, line_numbers):
        fields = line.rstrip(b"\r\n").split(b"\t")
        if trailing and fields and fields[-1].strip() == b"":
            fields = fields[:-1]
        if len(fields) != ncols:
            return ReaderError(f"{f}: line {lineno} has {len(fields)} values, expected {ncols}")
        cols = [hint] if hint is not None and hint < ncols else range(ncols)
        for j in cols:
            if not _NUMBER.match(fields[j]):
                value = fields[j].decode("utf-8", "replace")
                return ReaderError(
                    f"{f}: non-numeric cell {value!r} at line {lineno}, column {j + 1}; expected a number"
                )
    return ReaderError(f"{f}: cannot parse the numbers: {exc}")


@dataclass(frozen=True)
class _Place:
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
    def identity(nrows: int, ncols: int) -> _Place:
        r, c = np.arange(nrows), np.arange(ncols)
        return _Place((nrows, ncols), r, r, c, c)


def _as_slice(a: np.ndarray):
    """A slice equal to the index array ``a`` when it is a run of consecutive integers."""
    if a.size and a[-1] - a[0] == a.size - 1 and bool(np.all(np.diff(a) == 1)):
        return slice(int(a[0]), int(a[-1]) + 1)
    return a


def _first_line(data) -> bytes:
    """The first line of a pyarrow Buffer, without its end-of-line."""
    size = 1 << 20
    while True:
        head = data[: min(size, data.size)].to_pybytes()
        end = head.find(b"\n")
        if end >= 0 or size >= data.size:
            return (head if end < 0 else head[:end]).rstrip(b"\r")
        size *= 4


def _parse_compiled(data, nrows: int, ncols: int, trailing: bool, place: _Place) -> np.ndarray | None:
    """The compiled parser's result, or None when it is not built or does not accept the text.

    It accepts only well-formed text (``nrows`` non-empty lines of ``ncols`` finite
    numbers) and writes each cell straight to its place; on anything else the
    caller's pyarrow parse runs, which either accepts the text or names the bad cell.
    """
    if _tsv is None:
        return None
    import pyarrow as pa

    rowmap = np.full(nrows, -1, dtype=np.int64)
    rowmap[place.r_old] = place.r_new
    colmap = np.full(ncols, -1, dtype=np.int64)
    colmap[place.c_old] = place.c_new
    out = place.empty()
    return out if _tsv.parse(data, out, rowmap, colmap, ncols, trailing, pa.cpu_count()) else None


def _parse(
    f: _File,
    raw,
    nrows: int,
    ncols: int,
    labels: str,
    line_numbers=None,
    place: _Place | None = None,
    on_parsed=None,
) -> np.ndarray:
    """Parse tab-separated numbers strictly into float64, placed by ``place`` (default: as is).

    The file must have exactly (nrows, ncols) numbers (a trailing tab on every line
    is tolerated). The compiled parser reads it when built and the text is well
    formed; otherwise pyarrow parses it on all cores, in about one block per core,
    each parsed column is copied to its place in a C-ordered result, and a bad
    cell is reported by file, line and column.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    place = place or _Place.identity(nrows, ncols)
    data = raw if isinstance(raw, pa.Buffer) else pa.py_buffer(raw)
    first = _first_line(data)
    n_first = first.count(b"\t") + 1 if first.strip() else 0
    trailing = n_first == ncols + 1 and first.endswith(b"\t")
    if not trailing and n_first != ncols:
        raise _shape_error(f, (_count_rows(data.to_pybytes()), n_first), (nrows, ncols), labels)
    fast = _parse_compiled(data, nrows, ncols, trailing, place)
    if fast is not None:
        if on_parsed is not None:
            on_parsed()
        return fast
    types = {f"f{j}": pa.float64() for j in range(ncols)}
    if trailing:
        types[f"f{ncols}"] = pa.string()
    # Few large blocks parse fastest for thousands of columns (the per-column cost
    # is paid per block): one block per core.
    block = max(1 << 20, data.size // max(1, pa.cpu_count()) + (1 << 16))
    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True, block_size=block),
            parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(
                column_types=types, null_values=[], strings_can_be_null=False, quoted_strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid as exc:
        raw = data.to_pybytes()
        lines = [ln for ln in raw.splitlines() if ln.strip()]
        nums = line_numbers or [i + 1 for i, ln in enumerate(raw.splitlines()) if ln.strip()]
        raise _diagnose(f, lines, nums, ncols, trailing, exc) from None
    if on_parsed is not None:  # the cores are free again: let the caller start other work
        on_parsed()
    if table.num_rows != nrows:
        raise _shape_error(f, (table.num_rows, ncols), (nrows, ncols), labels)
    if trailing:
        extra = table.column(ncols)
        if any(len(s.as_py().strip()) for s in extra if s.as_py()):
            raise _shape_error(f, (nrows, ncols + 1), (nrows, ncols), labels)
    out = place.empty()
    r_new, r_old = _as_slice(place.r_new), _as_slice(place.r_old)
    # Columns are copied in blocks of B into a small row-major buffer, then each
    # block is written transposed into the C-ordered result: a cache-friendly
    # blocked transpose (one strided write per column is several times slower).
    B = 128
    buf = np.empty((min(B, max(1, len(place.c_new))), nrows))
    for b0 in range(0, len(place.c_new), B):
        c_new = place.c_new[b0 : b0 + B]
        c_old = place.c_old[b0 : b0 + B]
        k = len(c_new)
        for i, jo in enumerate(c_old.tolist()):
            pos = 0
            for chunk in table.column(jo).chunks:
                size = len(chunk)
                buf[i, pos : pos + size] = chunk.to_numpy()
                pos += size
        block = buf[:k]
        bad = ~np.isfinite(block)
        if bad.any():
            i, row = np.argwhere(bad)[0]
            lineno = line_numbers[row] if line_numbers else row + 1
            raise ReaderError(
                f"{f}: non-finite value {block[i, row]} at line {lineno}, column {c_old[i] + 1}; "
                "expected a finite number"
            )
        cols = _as_slice(c_new)
        if isinstance(r_new, slice) and isinstance(cols, slice):
            out[r_new, cols] = block[:, r_old].T
        else:
            out[np.ix_(place.r_new, c_new)] = block[:, place.r_old].T
    return out


_SMALL_ROWS = 256  # wide, short matrices (VA, the chosen Q rows) take the one-column path


def _parse_small(f: _File, pick: list[tuple[int, bytes]], ncols: int, place: _Place | None) -> np.ndarray:
    """Parse a few long lines (already checked to hold ``ncols`` fields each).

    pyarrow's per-column cost dominates for a few rows of thousands of columns,
    so the cells are parsed as ONE column (tabs turned into line breaks) and
    reshaped; an empty cell then vanishes, which the count check catches.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    nrows = len(pick)
    lines = [ln for _, ln in pick]
    numbers = [n for n, _ in pick]
    blob = b"\n".join(lines).replace(b"\t", b"\n") + b"\n"
    try:
        table = pacsv.read_csv(
            pa.py_buffer(blob),
            read_options=pacsv.ReadOptions(column_names=["v"], block_size=max(1 << 20, len(blob) // 2 + 1024)),
            parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(
                column_types={"v": pa.float64()}, null_values=[], strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid as exc:
        raise _diagnose(f, lines, numbers, ncols, False, exc, column_hint=False) from None
    chunks = table.column(0).chunks
    vals = np.concatenate([c.to_numpy() for c in chunks]) if chunks else np.zeros(0)
    if vals.size != nrows * ncols:
        raise _diagnose(
            f, lines, numbers, ncols, False, f"{vals.size} numbers, expected {nrows * ncols}", column_hint=False
        )
    arr = vals.reshape(nrows, ncols)
    bad = ~np.isfinite(arr)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ReaderError(
            f"{f}: non-finite value {arr[i, j]} at line {numbers[i]}, column {j + 1}; expected a finite number"
        )
    if place is None:
        return arr
    out = np.zeros(place.shape)
    out[np.ix_(place.r_new, place.c_new)] = arr[np.ix_(place.r_old, place.c_old)]
    return out


def _read_matrix(
    f: _File, nrows: int, ncols: int, labels: str, rows=None, place: _Place | None = None, on_parsed=None
) -> np.ndarray:
    """Read a whole matrix, or only the listed rows (0-based) of it, placed by ``place``.

    ``on_parsed`` (tall matrices only) is called once the text is parsed, before
    the numbers are copied into place.
    """
    if rows is None and nrows > _SMALL_ROWS:
        return _parse(f, f.buffer(), nrows, ncols, labels, place=place, on_parsed=on_parsed)
    raw = f.read_bytes()
    numbered = [(i + 1, ln) for i, ln in enumerate(raw.splitlines()) if ln.strip()]
    if len(numbered) != nrows:
        first = numbered[0][1] if numbered else b""
        width = first.count(b"\t") + 1 - (first.endswith(b"\t") and first.count(b"\t") == ncols) if first else 0
        raise _shape_error(f, (len(numbered), width), (nrows, ncols), labels)
    cleaned = []
    for lineno, ln in numbered:
        if ln.endswith(b"\t") and ln.count(b"\t") == ncols:  # a trailing tab, as some Eora files have
            ln = ln[:-1]
        cleaned.append((lineno, ln))
    widths = [ln.count(b"\t") + 1 for _, ln in cleaned]
    if set(widths) != {ncols}:
        if len(set(widths)) == 1:  # every line: the file does not belong to these labels
            raise _shape_error(f, (nrows, widths[0]), (nrows, ncols), labels)
        k = next(i for i, w in enumerate(widths) if w != ncols)
        raise ReaderError(
            f"{f}: line {cleaned[k][0]} has {widths[k]} values, expected {ncols} (the matrix must have shape "
            f"({nrows}, {ncols}) to match {labels})"
        )
    pick = cleaned if rows is None else [cleaned[i] for i in rows]
    if not pick:
        return np.zeros((0, ncols)) if place is None else np.zeros(place.shape)
    return _parse_small(f, pick, ncols, place)


# -- labels -> layout ----------------------------------------------------------------------------


@dataclass
class _Axis:
    codes: list[str]  # country codes in order (ROW excluded)
    names: list[str]
    items: list[str]  # sectors or categories of one country
    keep: np.ndarray  # file positions of the regular countries' entries (country-major)
    row: np.ndarray  # file positions of ROW's entries (empty: none)
    row_name: str


def _axis(rows: list[list[str]], f: _File, what: str) -> _Axis:
    order: list[str] = []
    pos: dict[str, list[int]] = {}
    names: dict[str, str] = {}
    for i, r in enumerate(rows):
        code = r[1]
        if code not in pos:
            order.append(code)
            pos[code] = []
            names[code] = r[0]
        elif pos[code][-1] != i - 1:
            raise LabelError(f"{f}: the {what} of country {code} are not contiguous (line {i + 1})")
        pos[code].append(i)
    regular = [c for c in order if c != ROW_CODE]
    if not regular:
        raise LabelError(f"{f}: no countries found")
    first = regular[0]
    items = [rows[i][3] for i in pos[first]]
    for c in regular[1:]:
        got = [rows[i][3] for i in pos[c]]
        if got != items:
            raise LabelError(
                f"{f}: country {c} has {len(got)} {what} ({', '.join(got[:3])}...), expected the "
                f"{len(items)} of {first} in the same order"
            )
    keep = np.array([i for c in regular for i in pos[c]], dtype=np.intp)
    row = np.array(pos.get(ROW_CODE, []), dtype=np.intp)
    if row.size not in (0, 1, len(items)):
        raise LabelError(f"{f}: RoW ({ROW_CODE}) has {row.size} {what}, expected 1 or {len(items)}")
    row_name = names.get(ROW_CODE, "Rest of the World")
    return _Axis(regular, [names[c] for c in regular], items, keep, row, row_name)


def _household(categories: list[str]) -> int:
    for j, c in enumerate(categories):
        if "household" in c.lower():
            return j
    return 0


def _indicator_name(indicator: str) -> str:
    """The indicator without its unit: ``"I-GHG-CH4 emissions (Gg)"`` -> ``"I-GHG-CH4 emissions"``."""
    return " ".join(_UNIT.sub("", indicator).split())


def _is_memo(category: str) -> bool:
    return "memo:" in category.lower()


def _compile(name, what: str, pattern) -> LabelPattern | None:
    if pattern is None or pattern == "":
        return None
    return compile_label_pattern(pattern, f"satellites[{name!r}]", what)  # RE2: linear time, never hangs


def _satellite_spec(name, spec) -> tuple[LabelPattern | None, LabelPattern | None]:
    """(indicator pattern, category pattern) of one ``satellites`` entry; None matches anything."""
    if isinstance(spec, str):
        indicator, sep, category = spec.partition(" | ")
        spec = (indicator, category if sep else None)
    elif isinstance(spec, re.Pattern):
        spec = (spec, None)
    if not (isinstance(spec, tuple) and len(spec) == 2):
        raise OptionError(
            f"satellites[{name!r}] must be a pattern string ('INDICATOR' or 'INDICATOR | CATEGORY') or a "
            f"pair (indicator pattern, category pattern), got {spec!r}"
        )
    ind, cat = _compile(name, "indicator", spec[0]), _compile(name, "category", spec[1])
    if ind is None and cat is None:
        raise OptionError(f"satellites[{name!r}]: give an indicator pattern, a category pattern or both")
    return ind, cat


def _indicators(lq: list[tuple[str, str]]) -> dict[str, int]:
    """Each indicator of labels_Q.txt (with its unit) -> its number of rows, in file order."""
    counts: dict[str, int] = {}
    for indicator, _ in lq:
        counts[indicator] = counts.get(indicator, 0) + 1
    return counts


def describe_indicators(indicators: Mapping[str, int], limit: int = 12) -> str:
    """``"I-GHG-CO2 emissions (Gg) (55 rows), ..."``: the indicators of a table, for messages."""
    items = [f"{k} ({n} row{'s' if n != 1 else ''})" for k, n in list(indicators.items())[:limit]]
    more = len(indicators) - limit
    return ", ".join(items) + (f" and {more} more" if more > 0 else "") if items else "none"


_SAFE_NAME = re.compile(r"[A-Za-z0-9][\w.+-]*")


def satellite_option(text: str) -> tuple[str, str]:
    """Split the ``--satellite`` option ``"NAME=PATTERN"`` (or a bare ``"PATTERN"``) into (name, pattern).

    PATTERN is a ``satellites`` pattern of :func:`read_eora26` (``"INDICATOR"`` or
    ``"INDICATOR | CATEGORY"``); NAME names the stressor it selects. A bare
    pattern names itself, when it is a plain name (e.g. ``I-GHG-CO2``). Names
    go into file names: letters, digits and ``_ . + -``.

    Raises
    ------
    OptionError
        An empty option, or a pattern that is no plain name given without NAME.
    """
    if not isinstance(text, str) or not text.strip():
        raise OptionError(f"satellite must be a pattern such as 'CO2=I-GHG-CO2', got {text!r}")
    name, sep, pattern = text.partition("=")
    if sep and _SAFE_NAME.fullmatch(name.strip()) and pattern.strip():
        return name.strip(), pattern
    if _SAFE_NAME.fullmatch(text.strip()):
        return text.strip(), text.strip()
    raise OptionError(
        f"satellite {text!r}: name the stressor it selects as NAME=PATTERN, e.g. 'CO2=I-GHG-CO2' or "
        "'N2O_soils=I-GHG-N2O | Agricultural soils' (NAME: letters, digits, _ . + -)"
    )


def missing_stressor_message(mrio: MRIO, stressor: str = "CH4") -> str:
    """One line for a table read without ``stressor``: the indicators it has and how to pick one."""
    found = mrio.meta.get("q_indicators") or {}
    example = next((f"{m.group(1)}={m.group(0)}" for k in found if (m := re.match(r"I-GHG-(\w+)", k))), "NAME=PATTERN")
    methane = f" (Eora's methane rows are the indicator '{METHANE} (Gg)')" if stressor == "CH4" else ""
    return (
        f"{mrio.source}: the table has no {stressor}{methane}; indicators found: {describe_indicators(found)}; "
        f"analyse one with --satellite NAME=PATTERN (e.g. --satellite '{example}'), or attach EDGAR methane "
        "with --edgar FILE"
    )


def _q_selection(lq: list[tuple[str, str]], satellites) -> list[tuple[str, list[int], str]]:
    """(stressor, Q row indices, unit) for methane (when the table has it) and each user satellite."""
    specs: dict[str, tuple | None] = {"CH4": None}
    if satellites is not None:
        if not isinstance(satellites, Mapping):
            raise OptionError(f"satellites must be a mapping name -> label pattern, got {type(satellites).__name__}")
        for name, spec in satellites.items():
            if name == "VA":
                raise OptionError('"VA" is reserved for value added (the sum of the VA rows); choose another name')
            specs[str(name)] = _satellite_spec(name, spec)
    out = []
    for name, spec in specs.items():
        if spec is None:  # Eora's methane: the non-Memo rows of "I-GHG-CH4 emissions (unit)"
            idx = [i for i, (ind, cat) in enumerate(lq) if _indicator_name(ind) == METHANE and not _is_memo(cat)]
            if not idx:
                continue  # a table without methane is still a table
        else:
            ind_pat, cat_pat = spec
            memo_ok = cat_pat is not None and "memo" in cat_pat.pattern.lower()
            idx = [
                i
                for i, (ind, cat) in enumerate(lq)
                if (ind_pat is None or ind_pat.search(ind))
                and (cat_pat is None or cat_pat.search(cat))
                and (memo_ok or not _is_memo(cat))
            ]
            if not idx:
                pats = " and ".join(
                    f"{what} pattern {p.pattern!r}" for what, p in (("indicator", ind_pat), ("category", cat_pat)) if p
                )
                raise LabelError(
                    f"labels_Q.txt: no row matches satellite {name!r} ({pats}; Memo rows excluded); "
                    f"indicators found: {describe_indicators(_indicators(lq))}"
                )
        units = sorted({(m.group(1).strip() if (m := _UNIT.search(lq[i][0])) else "") for i in idx})
        if len(units) > 1:
            raise LabelError(
                f"labels_Q.txt: the rows selected for {name} have different units {units}; cannot sum them"
            )
        out.append((name, idx, units[0]))
    return out


def _parse_year(files: dict[str, _File], year: int, price: str, keep_row: bool, satellites) -> MRIO:
    name = {k: _data_name(year, price, k) for k in _DATA_KINDS}
    lt = _read_labels(files["labels_T.txt"], 4, "country name, code, 'Industries', sector")
    lfd = _read_labels(files["labels_FD.txt"], 4, "country name, code, 'Final Demand', category")
    lva = _read_labels(files["labels_VA.txt"], 1, "value-added item")
    lq = [
        (r[0], r[1] if len(r) > 1 else "") for r in _read_labels(files["labels_Q.txt"], 1, "indicator (unit), category")
    ]
    t = _axis(lt, files["labels_T.txt"], "sectors")
    fd = _axis(lfd, files["labels_FD.txt"], "final-demand categories")
    if t.codes != fd.codes:
        diff = sorted(set(t.codes) ^ set(fd.codes))
        raise LabelError(
            "labels_FD.txt and labels_T.txt list different countries"
            + (f" (in one only: {', '.join(diff[:10])})" if diff else " (same codes, different order)")
        )
    selection = _q_selection(lq, satellites)
    nT, nFD, nVA, nQ = len(lt), len(lfd), len(lva), len(lq)

    # Where each file row/column goes in the MRIO (RoW dropped, or kept as a country).
    R, S, c = len(t.codes), len(t.items), len(fd.items)
    countries, cnames = list(t.codes), list(t.names)
    t_new, t_old = np.arange(R * S), t.keep
    f_new, f_old = np.arange(R * c), fd.keep
    has_row = t.row.size > 0 or fd.row.size > 0
    if has_row and keep_row:
        countries.append(ROW_CODE)
        cnames.append(t.row_name)
        if t.row.size == 1:  # single RoW row/column -> the last sector of its block
            t_new, t_old = np.append(t_new, R * S + S - 1), np.append(t_old, t.row)
        elif t.row.size:
            t_new, t_old = np.append(t_new, R * S + np.arange(S)), np.append(t_old, t.row)
        if fd.row.size == 1:  # single RoW final-demand column -> its household category
            f_new, f_old = np.append(f_new, R * c + _household(fd.items)), np.append(f_old, fd.row)
        elif fd.row.size:
            f_new, f_old = np.append(f_new, R * c + np.arange(c)), np.append(f_old, fd.row)
        R += 1
        row_note = f"kept as country {ROW_CODE}"
        if t.row.size == 1:
            row_note += (
                f"; Eora's single RoW row/column is its last sector ({t.items[-1]}), the other {S - 1} sectors are zero"
            )
        if fd.row.size == 1:
            row_note += f"; its single final-demand column is category {fd.items[_household(fd.items)]!r}"
    elif has_row:
        row_note = f"dropped (as pymrio does): {t.row.size} row(s)/column(s) of T, {fd.row.size} column(s) of FD"
    else:
        row_note = "none in the files"
    n, m = R * S, R * c

    for kind, rows, cols, labels in (
        ("T", nT, nT, "labels_T.txt x labels_T.txt"),
        ("FD", nT, nFD, "labels_T.txt x labels_FD.txt"),
        ("VA", nVA, nT, "labels_VA.txt x labels_T.txt"),
        ("Q", nQ, nT, "labels_Q.txt x labels_T.txt"),
        ("QY", nQ, nFD, "labels_Q.txt x labels_FD.txt"),
    ):
        files[name[kind]].check_size(
            rows * cols * _MAX_CELL_BYTES + 1024,
            f"the {rows} x {cols} cells of {labels} take at {_MAX_CELL_BYTES} bytes per cell",
        )

    va_all = np.arange(nVA)
    q_rows = sorted({i for _, idx, _ in selection for i in idx})
    q_all = np.arange(len(q_rows))
    jobs = [  # T first: the biggest; the others are parsed alongside it
        (files[name["T"]], nT, nT, "labels_T.txt x labels_T.txt", None, _Place((n, n), t_new, t_old, t_new, t_old)),
        (files[name["FD"]], nT, nFD, "labels_T.txt x labels_FD.txt", None, _Place((n, m), t_new, t_old, f_new, f_old)),
        (
            files[name["VA"]],
            nVA,
            nT,
            "labels_VA.txt x labels_T.txt",
            None,
            _Place((nVA, n), va_all, va_all, t_new, t_old),
        ),
        (
            files[name["Q"]],
            nQ,
            nT,
            "labels_Q.txt x labels_T.txt",
            q_rows,
            _Place((len(q_rows), n), q_all, q_all, t_new, t_old),
        ),
        (
            files[name["QY"]],
            nQ,
            nFD,
            "labels_Q.txt x labels_FD.txt",
            q_rows,
            _Place((len(q_rows), m), q_all, q_all, f_new, f_old),
        ),
    ]
    # T is parsed first on all cores; the other files are parsed next, without the
    # GIL (with pyarrow, already while T's numbers are copied into place). Errors are
    # raised in file order.
    with ThreadPoolExecutor(max_workers=1) as pool:
        futures: list = []

        def start_others():
            if not futures:
                futures.extend(pool.submit(_read_matrix, *job[:4], rows=job[4], place=job[5]) for job in jobs[1:])

        try:
            Z = _read_matrix(*jobs[0][:4], rows=jobs[0][4], place=jobs[0][5], on_parsed=start_others)
            start_others()
            Y, VA, Q, QY = (fut.result() for fut in futures)
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
    va = VA.sum(axis=0)
    del VA
    where = {r: k for k, r in enumerate(q_rows)}
    F_rows, FY_rows, stressors, units, used = [], [], [], [], {}
    for sname, idx, unit in selection:
        k = [where[i] for i in idx]
        F_rows.append(Q[k].sum(axis=0))
        FY_rows.append(QY[k].sum(axis=0))
        stressors.append(sname)
        units.append(unit)
        used[sname] = [" | ".join(lq[i]) for i in idx]
    at = 1 if stressors[:1] == ["CH4"] else 0  # VA right after methane, or first
    F_rows.insert(at, va)
    FY_rows.insert(at, np.zeros(m))
    stressors.insert(at, "VA")
    units.insert(at, "kUSD")
    meta = {
        "reader": "mrioflow.io.read_eora26",
        "price": price,
        "files": {k: str(f) for k, f in files.items()},
        "satellite_rows": used,
        "q_indicators": _indicators(lq),
        "va_rows": [" | ".join(r) for r in lva],
        "keep_row": bool(keep_row),
        "row": row_note,
    }
    label = "basic" if price == "bp" else "purchasers'"
    return MRIO(
        Z=Z,
        Y=Y,
        F=np.vstack(F_rows),
        F_Y=np.vstack(FY_rows),
        countries=countries,
        country_names=cnames,
        sectors=t.items,
        fd_categories=fd.items,
        stressors=stressors,
        units=units,
        year=year,
        source=f"Eora26 {year}, {label} prices ({files[name['T']].path})",
        meta=meta,
    )


def _check_price(price) -> str:
    if price not in _PRICES:
        raise OptionError(f"price must be 'bp' (basic prices) or 'pp' (purchasers' prices), got {price!r}")
    return price


def read_eora26(
    path,
    year,
    *,
    price: str = "bp",
    keep_row: bool = False,
    cache: bool = True,
    cache_dir=None,
    satellites: Mapping[str, str | tuple] | None = None,
) -> MRIO:
    """Read one year of Eora26, or any table in its layout, into an MRIO.

    Parameters
    ----------
    path : str or path-like
        The year's zip ``Eora26_{year}_{price}.zip``; a folder holding the unpacked
        files; or a folder of several years holding such zips or sub-folders
        (named ``{year}`` or ``Eora26_{year}_{price}``). Label files missing from
        a zip are also looked for beside it, loose or in ``indices.zip``.
    year : int
        The year to read.
    price : {"bp", "pp"}
        Basic prices (default) or purchasers' prices.
    keep_row : bool
        Eora26 has the rest of the world (RoW, code ``"ROW"``) as ONE row and
        column. By default it is dropped, as pymrio does. With ``keep_row=True``
        it becomes a country ``"ROW"`` with the usual sectors: its last sector
        holds the single RoW row and column, the others are zero (zero-output
        sectors are handled by the engine), and the single RoW final-demand
        column becomes its household category. A table without a RoW row
        (``meta["row"]`` says "none in the files") reads the same either way.
    cache : bool
        Keep a binary copy of the parsed year in ``cache_dir`` and load it on
        later reads when it still matches the source files (names, sizes and
        content hashes, wherever the files are), the options and the cache
        format; otherwise it is rebuilt (:func:`mrioflow.io.cache.cached_read`).
        ``False`` neither reads nor writes the cache.
    cache_dir : str or path-like, optional
        Default: ``$XDG_CACHE_HOME/mrioflow`` or ``~/.cache/mrioflow``.
    satellites : mapping of str to str or pair, optional
        More stressors from the satellite rows. ``labels_Q.txt`` has two columns,
        the indicator with its unit and the source category, e.g.
        ``I-GHG-CO2 emissions (Gg)`` + ``Road transportation``. Each entry
        ``name: spec`` sums the matching rows into stressor ``name``:

        - ``"INDICATOR"``: a regular expression searched in the indicator, e.g.
          ``{"CO2": "I-GHG-CO2 emissions"}`` (every CO2 category). Patterns are
          matched with RE2 (linear time: no pattern can hang the reader), which
          has no look-around or backreferences (see ``mrioflow.io._pattern``);
        - ``"INDICATOR | CATEGORY"`` or the pair ``("INDICATOR", "CATEGORY")``:
          both must match, e.g. ``{"N2O_soils": ("I-GHG-N2O", "Agricultural
          soils")}``; ``None`` (pair) or ``""`` matches anything.

        Rows whose category is a "Memo:" item (international aviation and
        navigation, which belong to no country) are left out unless the category
        pattern itself names "Memo". The unit comes from the indicator's
        brackets; rows of different units are refused. A key "CH4" replaces the
        default methane selection; "VA" is reserved.

    Returns
    -------
    MRIO
        The countries, sectors, final-demand categories and value-added rows
        the label files list (Eora26: 189 countries x 26 sectors, 6 categories,
        6 VA rows). Stressors: "CH4" when the table has methane rows -- every
        row of indicator ``I-GHG-CH4 emissions (Gg)`` summed over its categories,
        the "Memo:" categories excluded; direct household emissions from the same
        rows of QY in F_Y --, "VA" (the sum of the VA rows, kUSD = thousand
        current US dollars; negative items are legal), then the ``satellites`` in
        order. A table without methane rows has no "CH4" (``meta["q_indicators"]``
        lists the indicators it has). ``meta`` records the files, the exact Q rows
        used (``meta["satellite_rows"]``, ``"indicator | category"``), the RoW
        handling and ``meta["cache"]`` (``"hit"``, ``"off"`` or why it was rebuilt).

    Raises
    ------
    MissingDataError
        The path, the year (the message lists the years found) or a file is missing.
    ReaderError
        A corrupt zip, a zip holding a needed file twice (both named), a file
        larger than its labels allow (a zip bomb: sizes are checked before
        anything is decompressed), a matrix whose shape disagrees with its
        labels (both shapes and the file named), a non-numeric or non-finite
        cell (file, line and column).
    LabelError
        Inconsistent label files, or no Q row matches a ``satellites`` entry.
    OptionError
        An unknown price, a bad year or a bad ``satellites`` mapping.

    Examples
    --------
    Methane and value added (the default), then CO2 and agricultural N2O too:

    >>> m = read_eora26("~/data/eora26", 2015)  # doctest: +SKIP
    >>> m = read_eora26("~/data/eora26", 2015, satellites={  # doctest: +SKIP
    ...     "CO2": "I-GHG-CO2 emissions", "N2O_agri": ("I-GHG-N2O", "Agricultural soils|Manure")})
    >>> m.meta["satellite_rows"]["N2O_agri"]  # doctest: +SKIP
    ['I-GHG-N2O emissions (Gg) | Agricultural soils', 'I-GHG-N2O emissions (Gg) | Manure management']

    Notes
    -----
    T and FD are parsed on all cores by the compiled parser (``PARSER`` says
    whether it is built; pyarrow's CSV reader otherwise), each number correctly
    rounded and written straight to its place; only the needed Q and QY rows are
    parsed. Nothing is returned or cached unless every file parsed and the MRIO
    validated.
    """
    year = check_year(year)
    price = _check_price(price)
    if satellites is not None and not isinstance(satellites, Mapping):
        raise OptionError(f"satellites must be a mapping name -> label pattern, got {type(satellites).__name__}")
    if cache:  # the generic cache wraps the registry's Eora26 reader, which calls back with cache=False
        from .cache import cached_read
        from .registry import Eora26Reader

        options = {"price": price, "keep_row": bool(keep_row), "satellites": satellites}
        return cached_read(Eora26Reader(), path, year=year, options=options, cache_dir=cache_dir)
    files, _ = _locate(path, year, price)
    mrio = _parse_year(files, year, price, keep_row, satellites)
    mrio.meta["cache"] = "off"
    return mrio


# -- writing ----------------------------------------------------------------------------------


def _format_matrix(mat: np.ndarray) -> bytes:
    """Tab-separated, header-less, shortest round-trip float formatting."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    mat = np.asfortranarray(mat, dtype=np.float64)
    if mat.shape[0] == 0:
        return b""
    table = pa.table({f"c{j}": mat[:, j] for j in range(mat.shape[1])})
    sink = io.BytesIO()
    pacsv.write_csv(
        table, sink, write_options=pacsv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none")
    )
    return sink.getvalue()


def _atomic_write(path: Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(data), fsync=True)


def _eora_layout(mrio: MRIO):
    """Arrays and labels of ``mrio`` in Eora's file layout (RoW as one row/column, last)."""
    S, c = mrio.n_sectors, len(mrio.fd_categories)
    codes = list(mrio.countries)
    regular = [i for i, code in enumerate(codes) if code != ROW_CODE]
    row = [i for i, code in enumerate(codes) if code == ROW_CODE]
    sec = np.concatenate([np.arange(i * S, (i + 1) * S) for i in regular]) if regular else np.zeros(0, int)
    cat = np.concatenate([np.arange(i * c, (i + 1) * c) for i in regular]) if regular else np.zeros(0, int)
    # aggregation matrices: regular entries copied, RoW's block summed into one entry
    n_out, m_out = len(sec) + len(row), len(cat) + len(row)
    Pn = np.zeros((n_out, mrio.n))
    Pn[np.arange(len(sec)), sec] = 1.0
    Pm = np.zeros((m_out, mrio.n_countries * c))
    Pm[np.arange(len(cat)), cat] = 1.0
    if row:
        r = row[0]
        Pn[-1, r * S : (r + 1) * S] = 1.0
        Pm[-1, r * c : (r + 1) * c] = 1.0
    if row:
        T = Pn @ mrio.Z @ Pn.T
        FD = Pn @ mrio.Y @ Pm.T
        F = mrio.F @ Pn.T
        F_Y = mrio.F_Y @ Pm.T
    else:  # plain reordering: no float arithmetic, exact copies
        T, FD, F, F_Y = mrio.Z[np.ix_(sec, sec)], mrio.Y[np.ix_(sec, cat)], mrio.F[:, sec], mrio.F_Y[:, cat]
    names = dict(zip(mrio.countries, mrio.country_names or mrio.countries))
    lt = [f"{names[codes[i]]}\t{codes[i]}\tIndustries\t{s}" for i in regular for s in mrio.sectors]
    lfd = [f"{names[codes[i]]}\t{codes[i]}\tFinal Demand\t{k}" for i in regular for k in mrio.fd_categories]
    if row:
        lt.append(f"{names[ROW_CODE]}\t{ROW_CODE}\tIndustries\tTotal")
        lfd.append(f"{names[ROW_CODE]}\t{ROW_CODE}\tFinal Demand\tTotal")
    return T, FD, F, F_Y, lt, lfd


_GASES = ("CH4", "CO2", "N2O")
# Source categories as Eora26's greenhouse-gas rows name them (an excerpt of the ~55 it has), and its
# two "Memo:" items, which belong to no country.
_GHG_CATEGORIES = (
    "Public electricity and heat production",
    "Manufacturing industries and construction",
    "Road transportation",
    "Residential and other sectors",
    "Fugitive emissions from solid fuels",
    "Fugitive emissions from oil and gas",
    "Enteric fermentation",
    "Manure management",
    "Rice cultivation",
    "Agricultural soils",
    "Solid waste disposal",
    "Wastewater handling",
)
_HOUSEHOLD_CATEGORY = "Residential and other sectors"
_MEMO_CATEGORIES = ("Memo: International aviation", "Memo: International navigation")


def _q_rows(mrio: MRIO, F: np.ndarray, F_Y: np.ndarray, made_up: bool):
    """labels_Q.txt lines and the Q and QY rows, in Eora's layout (see :func:`write_eora26`)."""
    labels, q, qy = [], [], []
    cat_of_col = np.arange(F.shape[1]) % mrio.n_sectors % len(_GHG_CATEGORIES)  # by sector position
    household = _GHG_CATEGORIES.index(_HOUSEHOLD_CATEGORY)

    def gas(indicator, f, fy):
        for k, category in enumerate(_GHG_CATEGORIES):  # one category per column: the sum is exact
            labels.append(f"{indicator}\t{category}")
            q.append(np.where(cat_of_col == k, f, 0.0))
            qy.append(fy if k == household else np.zeros_like(fy))

    rows = {s: i for i, s in enumerate(mrio.stressors) if s != "VA"}
    for s, i in rows.items():
        if s in _GASES:
            gas(f"I-GHG-{s} emissions ({mrio.units[i]})", F[i], F_Y[i])
        else:
            labels.append(f"{s} ({mrio.units[i]})\tTotal")
            q.append(F[i])
            qy.append(F_Y[i])
        if s == "CH4" and made_up:
            for share, category in zip((0.03, 0.02), _MEMO_CATEGORIES):
                labels.append(f"I-GHG-CH4 emissions ({mrio.units[i]})\t{category}")
                q.append(share * F[i])
                qy.append(np.zeros(F_Y.shape[1]))
    if made_up and "CH4" in rows:
        ch4 = rows["CH4"]
        for s, factor in (("CO2", 250.0), ("N2O", 0.03)):
            if s not in rows:
                gas(f"I-GHG-{s} emissions ({mrio.units[ch4]})", factor * F[ch4][::-1], factor * F_Y[ch4][::-1])
    width = (F.shape[1], F_Y.shape[1])
    return labels, np.array(q).reshape(-1, width[0]), np.array(qy).reshape(-1, width[1])


def write_eora26(mrio: MRIO, folder, year, *, price: str = "bp", zip: bool = False, made_up_rows=None) -> Path:
    """Write an MRIO in the Eora26 file layout as Eora releases it (for tests, benchmarks and exchange).

    Parameters
    ----------
    mrio : MRIO
        The table, of any shape. A country ``"ROW"`` is written in Eora's
        single-row form, last: its sectors are summed into one row and one
        column, its final-demand categories into one column. Without one, the
        files have no RoW row.
    folder : str or path-like
        Where to write (created if needed).
    year : int
    price : {"bp", "pp"}
    zip : bool
        Write ``Eora26_{year}_{price}.zip`` (deflate) holding the nine files,
        instead of the loose files.
    made_up_rows : bool, optional
        Also write what Eora ships beside the methane rows, with made-up values:
        its two "Memo:" categories of methane (3 % and 2 % of each column's
        methane) and CO2 and N2O rows (multiples of the methane of the
        mirrored column), so that a reader must pick the right rows. Default:
        only for a synthetic MRIO (``mrio.synthetic``), whose numbers are made
        up anyway; never fabricated for a real table unless asked.

    Returns
    -------
    pathlib.Path
        The zip, or the folder holding the files.

    Notes
    -----
    Labels as Eora writes them: ``labels_T.txt`` "country name, code,
    Industries, sector"; ``labels_FD.txt`` "country name, code, Final Demand,
    category"; ``labels_VA.txt`` "Primary Inputs, item" (the six Eora26 items);
    ``labels_Q.txt`` "indicator (unit), category". Stressor "VA" becomes the
    first VA row (Compensation of employees), the other five rows zero, so that
    their sum is VA. A gas stressor (CH4, CO2, N2O) becomes Eora's rows
    ``I-GHG-{gas} emissions ({unit})`` by source category: each sector's
    emissions in one category (the sector's position within its country picks
    it), so that the categories sum to the stressor exactly; direct household
    emissions (F_Y) are in "Residential and other sectors". Any other stressor
    becomes one row ``{name} ({unit})`` + "Total". Numbers are written with the
    shortest repr that round-trips float64 exactly. Each file is written under
    a temporary name and renamed into place.

    Raises
    ------
    OptionError
        An unknown price or a bad year.
    """
    year = check_year(year)
    price = _check_price(price)
    out = Path(folder).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    T, FD, F, F_Y, lt, lfd = _eora_layout(mrio)
    va_row = mrio.stressors.index("VA") if "VA" in mrio.stressors else None
    VA = np.zeros((len(EORA26_VA_ITEMS), T.shape[0]))
    if va_row is not None:
        VA[0] = F[va_row]
    made_up = mrio.synthetic if made_up_rows is None else bool(made_up_rows)
    lq, Q, QY = _q_rows(mrio, F, F_Y, made_up)
    lva = [f"Primary Inputs\t{item}" for item in EORA26_VA_ITEMS]
    contents = {
        _data_name(year, price, "T"): lambda: _format_matrix(T),
        _data_name(year, price, "FD"): lambda: _format_matrix(FD),
        _data_name(year, price, "VA"): lambda: _format_matrix(VA),
        _data_name(year, price, "Q"): lambda: _format_matrix(Q),
        _data_name(year, price, "QY"): lambda: _format_matrix(QY),
        "labels_T.txt": lambda: ("\n".join(lt) + "\n").encode(),
        "labels_FD.txt": lambda: ("\n".join(lfd) + "\n").encode(),
        "labels_VA.txt": lambda: ("\n".join(lva) + "\n").encode(),
        "labels_Q.txt": lambda: ("\n".join(lq) + "\n").encode(),
    }
    if not zip:
        for fname, make in contents.items():
            _atomic_write(out / fname, make())
        return out
    target = out / f"Eora26_{year}_{price}.zip"

    def write_zip(tmp):
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for fname, make in contents.items():
                zf.writestr(fname, make())

    atomic_write(target, write_zip, fsync=True)
    return target
