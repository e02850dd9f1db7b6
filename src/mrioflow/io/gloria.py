"""GLORIA (ielab.info) in its released layout: the supply-use year as a product-by-product IO table.

A GLORIA year is three things side by side in one folder:

- ``GLORIA_MRIOs_{version}_{year}`` (a zip, or its unpacked folder) holding
  ``..._T-Results_{year}_{version}_Markup00X(full).csv`` (the transaction matrix,
  2n x 2n), ``..._Y-Results_...`` (final demand, 2n x R c) and ``..._V-Results_...``
  (value added, R v x 2n), header-less comma-separated numbers;
- ``GLORIA_SatelliteAccounts_{version}_{year}`` (zip or folder) with ``..._TQ-Results_...``
  (satellites x 2n) and ``..._YQ-Results_...`` (satellites x R c);
- ``GLORIA_ReadMe_{version}.xlsx``, whose sheets give every label: ``Regions``
  (``Region_acronyms``, ``Region_names``), ``Sectors`` (``Sector_names``), ``Value added and
  final demand`` (``Value_added_names``, ``Final_demand_names``) and ``Satellites``
  (``Sat_head_indicator``, ``Sat_indicator``, ``Sat_unit``).

The rows and columns of T run region by region, each region's S industries then its S
products. The use table U (products x industries) and the supply table V (industries x
products) are its two off-diagonal blocks; nothing else of T enters the IO table. Basic
prices are ``Markup001``, purchasers' prices ``Markup005`` (T and Y; value added and
satellites are read from ``Markup001`` in both, as pymrio does).

The IO table is built as pymrio's ``parse_gloria`` builds it (its ``construct`` option;
Eurostat's manual of supply, use and IO tables, 2008, chapter 11), with q = U 1 + Y 1 the
product output and g = V 1 the industry output:

====  ==================================  ===========  =============
      A (technical coefficients)          Y            satellites, VA
====  ==================================  ===========  =============
A     U V'^-1 <q> <q>^-1                  Y            Q V'^-1 <q>
B     U <g>^-1 V <q>^-1 (default)         Y            Q <g>^-1 V
C     <g> V'^-1 U <q>^-1                  <g> V'^-1 Y  Q
D     V <q>^-1 U <q>^-1                   V <q>^-1 Y   Q
====  ==================================  ===========  =============

then x = (I - A)^-1 Y 1 and Z = A <x> (what pymrio's ``calc_all`` does). GLORIA's supply
table is diagonal: each industry makes its own product. When V = <v> with v = q > 0 every
factor above is the identity, the four constructs give the same table, Z = U, and x = q:
the reader checks this and says so in ``meta["supply"]``. It also stores only the diagonal
then; a supply table with entries off the diagonal is read too (general dense algebra, a
few more n x n arrays).

Memory: T is 2n x 2n (39,360^2 for the released 164 x 120; 12 GB as float64) and is never
held. It is read as a stream, from the zip or the file, a few megabytes of rows at a time,
and each block's use rows go straight into the one n x n array that becomes Z; the
supply diagonal, T's row and column sums by region (to find empty regions, as pymrio
does) and the off-diagonal supply entries are all that is kept besides. Regions whose
rows and columns of T are all zero (e.g. DYE in recent years) are dropped from every
array and named in ``meta["dropped_regions"]`` and in a warning.

Stressors: ``VA`` (the sum of the value-added rows, thousand US$) and ``CH4``: the rows of
the ``Emissions (EDGAR)`` block whose indicator names methane (the indicator's first
``_``-separated token is ``ch4``, case-insensitively, e.g. ``'ch4_1A1a_EDGAR_consistent'``),
summed over their IPCC categories, in their ``Sat_unit``; the rows used are listed in
``meta["ch4_rows"]``. Direct emissions of final demand come from the same YQ rows.
``satellites=`` adds satellite rows by name or pattern.
"""

from __future__ import annotations

import re
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from .._checks import check_year
from ..errors import LabelError, MissingDataError, OptionError, ReaderError
from ..mrio import MRIO
from .base import Reader

try:
    from . import _tsv
except ImportError:  # pragma: no cover - no compiler at install time
    _tsv = None  # type: ignore[assignment]

__all__ = ["CONSTRUCTS", "PRICES", "GloriaReader", "gloria_years", "read_gloria"]

#: The price layers: basic prices (Markup001) and purchasers' prices (Markup005).
PRICES = {"bp": "001", "pp": "005"}
#: pymrio's constructs of the IO table from the supply-use table (see the module's docstring).
CONSTRUCTS = ("A", "B", "C", "D")
#: The methane stressor's name and the satellite block its rows come from.
CH4 = "CH4"
EMISSIONS_BLOCK = "Emissions (EDGAR)"
VA_UNIT = "thousand US$"

_MRIO_NAME = re.compile(r"^GLORIA_MRIOs_(?P<version>[0-9A-Za-z]+)_(?P<year>\d{4})(?P<zip>\.zip)?$", re.IGNORECASE)
_SAT_NAME = re.compile(
    r"^GLORIA_SatelliteAccounts_(?P<version>[0-9A-Za-z]+)_(?P<year>\d{4})(?P<zip>\.zip)?$", re.IGNORECASE
)
_README_NAME = re.compile(r"^GLORIA_ReadMe_(?P<version>[0-9A-Za-z]+)\.xlsx$", re.IGNORECASE)
_RESULT_NAME = re.compile(
    r"_(?P<kind>T|Y|V|TQ|YQ)-Results_(?P<year>\d{4})_(?P<version>[0-9A-Za-z]+)_Markup(?P<markup>\d{3})\(full\)\.csv$"
)
_CHUNK = 16 << 20  # bytes of text parsed at a time


def _norm_version(v: str) -> str:
    """'059' and '59' name the same release (the folders and files write it both ways)."""
    return v.lstrip("0").lower() or "0"


# -- files ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Member:
    """One CSV: loose on disk (``member`` None) or a member of a zip."""

    path: Path
    member: str | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.member}" if self.member else str(self.path)

    def open(self) -> IO[bytes]:
        try:
            if self.member is None:
                return open(self.path, "rb")
            zf = zipfile.ZipFile(self.path)
            return zf.open(self.member)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ReaderError(f"cannot read {self}: {exc}") from None


@dataclass(frozen=True)
class _Year:
    """The files of one GLORIA year."""

    year: int
    version: str
    readme: Path
    mrio: Path
    satellites: Path
    files: dict[str, _Member]  # T, Y, V, TQ, YQ


def _entries(folder: Path, pattern: re.Pattern) -> list[tuple[re.Match, Path]]:
    out = []
    for p in sorted(folder.iterdir()):
        m = pattern.match(p.name)
        if m and (p.is_dir() or (m.group("zip") and p.is_file())):
            out.append((m, p))
    return out


def gloria_years(path) -> list[int]:
    """The years of GLORIA tables in ``path`` (a folder holding ``GLORIA_MRIOs_{version}_{year}``)."""
    p = Path(path)
    if not p.is_dir():
        return []
    return sorted({int(m.group("year")) for m, _ in _entries(p, _MRIO_NAME)})


def _result_files(container: Path, what: str) -> list[tuple[re.Match, _Member]]:
    """The ``*-Results_*.csv`` files of a GLORIA zip or folder."""
    found = []
    if container.is_dir():
        for f in sorted(container.rglob("*.csv")):
            m = _RESULT_NAME.search(f.name)
            if m:
                found.append((m, _Member(f)))
    else:
        try:
            with zipfile.ZipFile(container) as zf:
                names = zf.namelist()
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ReaderError(f"corrupt zip file {container}: {exc}; download the GLORIA {what} again") from None
        for n in names:
            m = _RESULT_NAME.search(Path(n).name)
            if m:
                found.append((m, _Member(container, n)))
    return found


def _pick(found, kind: str, year: int, markup: str, container: Path) -> _Member:
    hits = [
        f for m, f in found if m.group("kind") == kind and int(m.group("year")) == year and m.group("markup") == markup
    ]
    if len(hits) != 1:
        have = sorted({Path(str(f)).name for _, f in found}) or ["no *-Results_*.csv file"]
        problem = "no" if not hits else f"{len(hits)}"
        raise MissingDataError(
            f"{container}: {problem} GLORIA {kind}-Results file of {year} at Markup{markup}; "
            f"expected '..._{kind}-Results_{year}_<version>_Markup{markup}(full).csv', found: {', '.join(have)}"
        )
    return hits[0]


def _only(items: list[tuple[re.Match, Path]], what: str, folder: Path, year: int, version: str | None):
    if version is not None:
        items = [(m, p) for m, p in items if _norm_version(m.group("version")) == _norm_version(version)]
    if not items:
        v = f" version {version}" if version is not None else ""
        raise MissingDataError(f"{folder}: no {what} of {year}{v} (expected {what}_{{version}}_{year}.zip or folder)")
    versions = sorted({m.group("version") for m, _ in items})
    if len({_norm_version(v) for v in versions}) > 1:
        raise OptionError(
            f"{folder} holds the {what} of {year} in several versions ({', '.join(versions)}): choose one with version="
        )
    if len(items) > 1:
        raise ReaderError(
            f"{folder}: {what} of {year} is there twice ({', '.join(p.name for _, p in items)}): "
            "keep the zip or the folder"
        )
    return items[0]


def _locate(path, year: int, price: str, version: str | None) -> _Year:
    folder = Path(path).expanduser()
    if not folder.exists():
        raise MissingDataError(f"GLORIA data not found: {folder} does not exist")
    if not folder.is_dir():
        raise ReaderError(
            f"{folder}: give the folder that holds GLORIA_MRIOs_{{version}}_{{year}}, "
            "GLORIA_SatelliteAccounts_{version}_{year} and GLORIA_ReadMe_{version}.xlsx"
        )
    mrios = [(m, p) for m, p in _entries(folder, _MRIO_NAME) if int(m.group("year")) == year]
    if not mrios and version is None:
        years = gloria_years(folder)
        if years:
            raise MissingDataError(
                f"{folder}: no GLORIA table of {year}; the years there: {', '.join(map(str, years))}"
            )
    m_mrio, mrio = _only(mrios, "GLORIA_MRIOs", folder, year, version)
    version = m_mrio.group("version")
    sats = [(m, p) for m, p in _entries(folder, _SAT_NAME) if int(m.group("year")) == year]
    _, sat = _only(sats, "GLORIA_SatelliteAccounts", folder, year, version)
    readmes = [(m, p) for m, p in _entries_files(folder, _README_NAME)]
    same = [p for m, p in readmes if _norm_version(m.group("version")).rstrip("a") == _norm_version(version)]
    if not same:
        raise MissingDataError(
            f"{folder}: no GLORIA_ReadMe_{{version}}.xlsx of version {version} "
            f"(found: {', '.join(p.name for _, p in readmes) or 'none'}); the labels come from it"
        )
    if len(same) > 1:
        raise OptionError(f"{folder}: several ReadMe files for version {version}: {', '.join(p.name for p in same)}")
    markup = PRICES[price]
    found_m = _result_files(mrio, "MRIO")
    found_s = _result_files(sat, "satellite accounts")
    files = {
        "T": _pick(found_m, "T", year, markup, mrio),
        "Y": _pick(found_m, "Y", year, markup, mrio),
        "V": _pick(found_m, "V", year, "001", mrio),
        "TQ": _pick(found_s, "TQ", year, "001", sat),
        "YQ": _pick(found_s, "YQ", year, "001", sat),
    }
    return _Year(year, version, same[0], mrio, sat, files)


def _entries_files(folder: Path, pattern: re.Pattern):
    return [(m, p) for p in sorted(folder.iterdir()) if p.is_file() and (m := pattern.match(p.name))]


# -- labels ---------------------------------------------------------------------------------------


@dataclass
class _Labels:
    codes: list[str]
    names: list[str]
    sectors: list[str]
    fd: list[str]
    va: list[str]
    sat_head: list[str]
    sat_ind: list[str]
    sat_unit: list[str]


def _column(book: Path, sheets: dict, sheet: str, col: str) -> list[str]:
    if sheet not in sheets:
        raise ReaderError(f"{book}: no sheet {sheet!r} (sheets: {', '.join(sheets)}); is it a GLORIA ReadMe?")
    df = sheets[sheet]
    if col not in df.columns:
        raise ReaderError(f"{book}, sheet {sheet!r}: no column {col!r} (columns: {', '.join(map(str, df.columns))})")
    values = df[col].tolist()
    while values and (values[-1] is None or (isinstance(values[-1], float) and np.isnan(values[-1]))):
        values.pop()  # shorter columns of a shared sheet end in empty cells
    out = []
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and np.isnan(v)) or not str(v).strip():
            raise ReaderError(f"{book}, sheet {sheet!r}, column {col!r}: empty cell at row {i + 2}")
        out.append(str(v).strip())
    if not out:
        raise ReaderError(f"{book}, sheet {sheet!r}, column {col!r} is empty")
    return out


def _read_labels(book: Path) -> _Labels:
    import pandas as pd

    try:
        sheets = pd.read_excel(book, sheet_name=None)
    except Exception as exc:  # openpyxl/zipfile errors on a damaged workbook
        raise ReaderError(f"{book}: not a readable xlsx workbook ({type(exc).__name__}: {exc})") from None
    c = lambda sheet, col: _column(book, sheets, sheet, col)  # noqa: E731
    labels = _Labels(
        codes=c("Regions", "Region_acronyms"),
        names=c("Regions", "Region_names"),
        sectors=c("Sectors", "Sector_names"),
        fd=c("Value added and final demand", "Final_demand_names"),
        va=c("Value added and final demand", "Value_added_names"),
        sat_head=c("Satellites", "Sat_head_indicator"),
        sat_ind=c("Satellites", "Sat_indicator"),
        sat_unit=c("Satellites", "Sat_unit"),
    )
    if len(labels.names) != len(labels.codes):
        raise ReaderError(f"{book}, sheet 'Regions': {len(labels.codes)} acronyms but {len(labels.names)} names")
    if not len(labels.sat_head) == len(labels.sat_ind) == len(labels.sat_unit):
        raise ReaderError(f"{book}, sheet 'Satellites': the columns have different lengths")
    return labels


# -- streaming the CSV files ----------------------------------------------------------------------


def _diagnose(f: _Member, text: bytes, first_row: int, ncols: int, what: str) -> ReaderError:
    """The first bad line or cell of a block that did not parse."""
    for i, line in enumerate(text.splitlines()):
        lineno = first_row + i + 1
        if not line.strip():
            return ReaderError(f"{f}: line {lineno} is empty; expected {ncols} comma-separated numbers ({what})")
        fields = line.split(b",")
        if len(fields) != ncols:
            return ReaderError(f"{f}: line {lineno} has {len(fields)} values, expected {ncols} ({what})")
        for j, cell in enumerate(fields):
            try:
                v = float(cell)
            except ValueError:
                v = None
            if v is None or not np.isfinite(v):
                shown = cell.decode("utf-8", "replace")[:40]
                return ReaderError(f"{f}: line {lineno}, column {j + 1}: {shown!r} is not a finite number ({what})")
    return ReaderError(f"{f}: cannot parse the lines from {first_row + 1} ({what})")


def _parse_block(
    f: _Member, text: bytes, first_row: int, ncols: int, what: str, buf: list[np.ndarray] | None = None
) -> np.ndarray:
    """Parse complete lines of comma-separated numbers into a (lines, ncols) float64 array.

    With ``buf`` (a one-element list) the compiled parser writes into ``buf[0]``, grown when
    needed and reused from block to block (fresh pages for every block cost as much system
    time as the parse); the result is then a view of it, valid until the next call.
    """
    nlines = text.count(b"\n") + (0 if text.endswith(b"\n") else 1)
    blank = text.startswith(b"\n") or b"\n\n" in text or b"\n\r\n" in text
    if _tsv is not None and not blank:
        import pyarrow as pa

        if buf is None:
            out = np.empty((nlines, ncols))
        else:
            if buf[0].shape[0] < nlines:
                buf[0] = np.empty((nlines, ncols))
            out = buf[0][:nlines]
        idx_r = np.arange(nlines, dtype=np.int64)
        idx_c = np.arange(ncols, dtype=np.int64)
        if _tsv.parse(text.replace(b",", b"\t"), out, idx_r, idx_c, ncols, False, pa.cpu_count()):
            return out
    # No compiled parser, or text it refuses: pyarrow parses the cells as one column
    # (commas turned into line ends), and a bad block is diagnosed line by line.
    import pyarrow as pa
    import pyarrow.csv as pacsv

    lines = [ln for ln in text.splitlines() if ln.strip()] if blank else None
    if lines is not None and len(lines) != nlines:
        raise _diagnose(f, text, first_row, ncols, what)
    blob = text.replace(b",", b"\n")
    try:
        table = pacsv.read_csv(
            pa.py_buffer(blob),
            read_options=pacsv.ReadOptions(column_names=["v"], block_size=max(1 << 20, len(blob) // 2 + 1024)),
            parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(column_types={"v": pa.float64()}, null_values=[]),
        )
    except pa.ArrowInvalid:
        raise _diagnose(f, text, first_row, ncols, what) from None
    chunks = table.column(0).chunks
    vals = np.concatenate([c.to_numpy() for c in chunks]) if chunks else np.zeros(0)
    if vals.size != nlines * ncols or not np.isfinite(vals).all():
        raise _diagnose(f, text, first_row, ncols, what)
    return vals.reshape(nlines, ncols)


def _blocks(f: _Member, nrows: int, ncols: int, what: str) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (first row, rows) blocks of a header-less CSV of ``nrows`` x ``ncols`` numbers, streamed.

    A block may be a view of a buffer reused for the next one: copy what is kept.
    """
    row = 0
    rest = b""
    longest = 40 * ncols + 1024  # a number takes at most 25 characters and its comma
    buf = [np.empty((0, ncols))]
    try:
        with f.open() as fh:
            while True:
                data = fh.read(_CHUNK)
                text = rest + data
                if data:
                    cut = text.rfind(b"\n")
                    if cut < 0:
                        rest = text
                        if len(rest) > longest:
                            raise ReaderError(
                                f"{f}: line {row + 1} is longer than {longest:,} bytes without ending, more than "
                                f"{ncols} numbers can take ({what}); a damaged or wrong file?"
                            )
                        continue
                    rest, text = text[cut + 1 :], text[: cut + 1]
                else:
                    rest = b""
                    if not text.strip():
                        break
                if row == 0 and text[:1].strip() and not text[:1].isdigit() and text[:1] not in b"-+.":
                    first = text.split(b"\n", 1)[0][:60].decode("utf-8", "replace")
                    raise ReaderError(
                        f"{f}: the first line starts with {first!r}: GLORIA's {what} has no header, "
                        f"expected {ncols} comma-separated numbers per line"
                    )
                block = _parse_block(f, text, row, ncols, what, buf)
                if row + len(block) > nrows:
                    raise ReaderError(f"{f}: more than {nrows} lines; expected {nrows} x {ncols} numbers ({what})")
                yield row, block
                row += len(block)
                if not data:
                    break
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise ReaderError(f"corrupt zip file {f.path}: cannot read {f.member} ({exc}); download it again") from None
    if row != nrows:
        raise ReaderError(f"{f}: {row} lines, expected {nrows} x {ncols} numbers ({what})")


def _read_all(f: _Member, nrows: int, ncols: int, what: str, cols=None) -> np.ndarray:
    """A whole (small) matrix, keeping the columns ``cols``."""
    out = np.empty((nrows, ncols if cols is None else len(cols)))
    for r0, b in _blocks(f, nrows, ncols, what):
        out[r0 : r0 + len(b)] = b if cols is None else b[:, cols]
    return out


# -- the satellite selection ----------------------------------------------------------------------


def _is_ch4(head: str, indicator: str) -> bool:
    return head.strip().lower() == EMISSIONS_BLOCK.lower() and indicator.split("_", 1)[0].strip().lower() == "ch4"


def _sat_name(head: str, indicator: str) -> str:
    return f"{head} | {indicator}"


def _selection(lab: _Labels, satellites, book: Path) -> list[tuple[str, list[int], str]]:
    """(stressor, satellite rows summed, unit) for every stressor read from TQ/YQ."""
    names = [_sat_name(h, i) for h, i in zip(lab.sat_head, lab.sat_ind)]
    chosen: list[tuple[str, list[int], str]] = []
    if satellites is None or isinstance(satellites, Mapping):
        spec = dict(satellites or {})
        if CH4 not in spec:
            rows = [k for k, (h, i) in enumerate(zip(lab.sat_head, lab.sat_ind)) if _is_ch4(h, i)]
            if rows:
                chosen.append((CH4, rows, ""))
        for name, pattern in spec.items():
            try:
                rx = re.compile(str(pattern), re.IGNORECASE)
            except re.error as exc:
                raise OptionError(f"satellites[{name!r}]: {pattern!r} is not a regular expression ({exc})") from None
            rows = [k for k, n in enumerate(names) if rx.search(n)]
            if not rows:
                raise LabelError(
                    f"satellites[{name!r}]: the pattern {pattern!r} matches no satellite of {book} "
                    f"(names are 'head | indicator', e.g. {names[0]!r})"
                )
            chosen.append((str(name), rows, ""))
    elif isinstance(satellites, str) and satellites == "all":
        chosen = [(n, [k], "") for k, n in enumerate(names)]
        rows = [k for k, (h, i) in enumerate(zip(lab.sat_head, lab.sat_ind)) if _is_ch4(h, i)]
        if rows:
            chosen.append((CH4, rows, ""))
    else:
        raise OptionError(
            f"satellites must be None (methane only), 'all' or a dict name -> pattern, got {satellites!r}"
        )
    out = []
    for name, rows, _ in chosen:
        units = sorted({lab.sat_unit[k] for k in rows})
        if len(units) > 1:
            raise LabelError(f"{book}: the satellite rows summed as {name!r} have different units ({', '.join(units)})")
        out.append((name, rows, units[0]))
    return out


# -- the reader -------------------------------------------------------------------------------------


def _check_price(price) -> str:
    if price not in PRICES:
        raise OptionError(f"unknown GLORIA price layer {price!r}; choose 'bp' (Markup001) or 'pp' (Markup005)")
    return price


def _check_construct(construct) -> str:
    c = str(construct).upper()
    if c not in CONSTRUCTS:
        raise OptionError(f"unknown construct {construct!r}; choose one of {', '.join(CONSTRUCTS)} (as pymrio)")
    return c


def _compact(U: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """U[keep][:, keep] in U's own memory (row by row, forward: a row never overwrites one still to read)."""
    m = len(keep)
    flat = U.reshape(-1)
    out = flat[: m * m].reshape(m, m)
    for i, old in enumerate(keep.tolist()):
        out[i] = U[old, keep]
    return out


def read_gloria(
    path,
    year: int,
    *,
    price: str = "bp",
    construct: str = "B",
    version: str | None = None,
    satellites=None,
    progress: Callable[[str], None] | None = None,
) -> MRIO:
    """Read one GLORIA year as a product-by-product IO table (see the module's docstring).

    Parameters
    ----------
    path : path-like
        The folder holding ``GLORIA_MRIOs_{version}_{year}`` (zip or folder),
        ``GLORIA_SatelliteAccounts_{version}_{year}`` (zip or folder) and ``GLORIA_ReadMe_{version}.xlsx``.
    year : int
    price : {"bp", "pp"}
        Basic prices (Markup001, default) or purchasers' prices (Markup005).
    construct : {"A", "B", "C", "D"}
        pymrio's construct of the IO table (default B, as pymrio); all four give the
        same table when the supply table is diagonal with the product outputs on it.
    version : str, optional
        The release (e.g. ``"59"``), needed only when the folder holds several.
    satellites : None, "all" or dict of str to str
        None: methane (``CH4``) and ``VA`` only; ``"all"``: every satellite row as its
        own stressor (``'head | indicator'``), plus CH4 and VA; a dict name -> regular
        expression: each a stressor summing the rows whose ``'head | indicator'``
        matches (case-insensitive), besides CH4 unless the dict names it.
    progress : callable, optional
        Receives a line per file read.

    Raises
    ------
    MissingDataError
        A file of the year is missing (the message names the folder and what was found).
    ReaderError
        A file is damaged or has the wrong shape (the message names it, and the line).
    OptionError, LabelError
        An option that does not exist; a satellite pattern that matches nothing.
    """
    year = check_year(year)
    price = _check_price(price)
    construct = _check_construct(construct)
    where = _locate(path, year, price, version)
    say = progress or (lambda msg: None)
    lab = _read_labels(where.readme)
    R, S = len(lab.codes), len(lab.sectors)
    nfd, nva, k = len(lab.fd), len(lab.va), len(lab.sat_ind)
    n = R * S
    selection = _selection(lab, satellites, where.readme)

    # positions in T of each (region, sector)'s industry and product row/column
    reg = np.repeat(np.arange(R), S)
    sec = np.tile(np.arange(S), R)
    ind_pos = reg * 2 * S + sec
    prod_pos = ind_pos + S
    two_n = 2 * n

    # T: use block into U, supply diagonal (+ off-diagonal entries), sums by region
    files = where.files
    say(f"reading {files['T']}")
    U = np.zeros((n, n))
    v = np.zeros(n)
    off_i: list[np.ndarray] = []
    off_j: list[np.ndarray] = []
    off_v: list[np.ndarray] = []
    row_sum = np.zeros(R)
    col_sum = np.zeros(two_n)
    what_t = f"T-Results: {R} regions x 2 x {S} sectors from the ReadMe, {two_n} x {two_n}"
    for r0, b in _blocks(files["T"], two_n, two_n, what_t):
        g = np.arange(r0, r0 + len(b))
        region, local = g // (2 * S), g % (2 * S)
        np.add.at(row_sum, region, b.sum(axis=1))
        col_sum += b.sum(axis=0)
        is_prod = local >= S
        if is_prod.any():
            rows = np.flatnonzero(is_prod)
            U[region[rows] * S + local[rows] - S] = b[np.ix_(rows, ind_pos)]
        if (~is_prod).any():
            rows = np.flatnonzero(~is_prod)
            sup = b[np.ix_(rows, prod_pos)]
            ii = region[rows] * S + local[rows]
            v[ii] = sup[np.arange(len(rows)), ii]
            nz_r, nz_c = np.nonzero(sup)
            off = ii[nz_r] != nz_c
            if off.any():
                off_i.append(ii[nz_r[off]])
                off_j.append(nz_c[off])
                off_v.append(sup[nz_r[off], nz_c[off]])
        del b
    col_region = np.add.reduceat(col_sum, np.arange(0, two_n, 2 * S))
    empty = (row_sum == 0) & (col_region == 0)

    say(f"reading {files['Y']}")
    Yp = np.zeros((n, R * nfd))
    what_y = f"Y-Results: {two_n} x {R} regions x {nfd} final-demand categories"
    for r0, b in _blocks(files["Y"], two_n, R * nfd, what_y):
        g = np.arange(r0, r0 + len(b))
        region, local = g // (2 * S), g % (2 * S)
        rows = np.flatnonzero(local >= S)
        Yp[region[rows] * S + local[rows] - S] = b[rows]
    say(f"reading {files['V']}")
    VA = _read_all(files["V"], R * nva, two_n, f"V-Results: {R} regions x {nva} value-added rows x {two_n}", ind_pos)
    say(f"reading {files['TQ']}")
    wanted = sorted({r for _, rows, _ in selection for r in rows})
    slot = {r: i for i, r in enumerate(wanted)}
    Qw = np.zeros((len(wanted), n))
    for r0, b in _blocks(files["TQ"], k, two_n, f"TQ-Results: {k} satellite rows x {two_n}"):
        for t in range(len(b)):
            if r0 + t in slot:
                Qw[slot[r0 + t]] = b[t, ind_pos]
    say(f"reading {files['YQ']}")
    QYall = _read_all(files["YQ"], k, R * nfd, f"YQ-Results: {k} satellite rows x {R * nfd}")
    QYw = QYall[wanted] if wanted else np.zeros((0, R * nfd))
    del QYall

    # regions with an empty table are dropped everywhere (as pymrio does)
    dropped = [lab.codes[r] for r in np.flatnonzero(empty)]
    keep_r = np.flatnonzero(~empty)
    if dropped:
        keep = (keep_r[:, None] * S + np.arange(S)).ravel()
        keep_fd = (keep_r[:, None] * nfd + np.arange(nfd)).ravel()
        keep_va = (keep_r[:, None] * nva + np.arange(nva)).ravel()
        U = _compact(U, keep)
        Yp = Yp[np.ix_(keep, keep_fd)]
        VA = VA[np.ix_(keep_va, keep)]
        Qw = Qw[:, keep]
        QYw = QYw[:, keep_fd]
        pos = np.full(n, -1)
        pos[keep] = np.arange(len(keep))
        v = v[keep]
        if off_i:
            oi, oj, ov = np.concatenate(off_i), np.concatenate(off_j), np.concatenate(off_v)
            ok = (pos[oi] >= 0) & (pos[oj] >= 0)
            off_i, off_j, off_v = [pos[oi[ok]]], [pos[oj[ok]]], [ov[ok]]
        warnings.warn(
            f"GLORIA {year}: region(s) {', '.join(dropped)} have an empty table (T all zero in their rows "
            "and columns) and are dropped, as pymrio does",
            stacklevel=2,
        )
    m = U.shape[0]
    n_off = sum(len(a) for a in off_i)

    q = U.sum(axis=1) + Yp.sum(axis=1)  # product output (use side)
    with np.errstate(divide="ignore", invalid="ignore"):
        q_inv = np.where(q != 0, 1.0 / q, 0.0)
    if n_off == 0:
        g_out = v  # industry output: the diagonal is all of V
        with np.errstate(divide="ignore", invalid="ignore"):
            g_inv = np.where(g_out != 0, 1.0 / g_out, 0.0)
        if construct in ("A", "C") and np.any(v == 0):
            bad = np.flatnonzero(v == 0)
            raise ReaderError(
                f"{where.mrio}: construct {construct} inverts the supply table, but {bad.size} product(s) have no "
                f"supply (first: {_where(lab, keep_r, S, bad[0])}); use construct B or D"
            )
        if construct == "A":
            left, right = np.ones(m), q / v
        elif construct == "B":
            left, right = np.ones(m), v * g_inv
        elif construct == "C":
            left, right = g_out / v, np.ones(m)
        else:
            left, right = v * q_inv, np.ones(m)
        col = right * q_inv  # A = <left> U <col>
        balanced = bool(np.allclose(v, q, rtol=1e-9, atol=0.0))
        supply = (
            "diagonal, equal to the product output (constructs A-D give the same table, Z = U)"
            if balanced
            else "diagonal, not equal to the product output"
        )
        y_io = Yp if construct in ("A", "B") else left[:, None] * Yp
        y1 = y_io.sum(axis=1)
        # x = q solves x = A x + Y 1 for a balanced table: check, else solve
        res = q - left * (U @ (col * q)) - y1
        if np.max(np.abs(res), initial=0.0) <= 1e-12 * max(np.max(np.abs(q), initial=0.0), 1e-300):
            x = q
            solve = "x = q (checked: (I - A) q = Y 1)"
        else:
            A = left[:, None] * U * col
            x = np.linalg.solve(np.eye(m) - A, y1)
            del A
            solve = "x = (I - A)^-1 Y 1 (the table's products are not balanced)"
        U *= col * x
        if not np.all(left == 1.0):
            U *= left[:, None]
        Z = U
        if not np.all(right == 1.0):
            Qw *= right
            VA *= right
        F_io, VA_io = Qw, VA
    else:
        Z, y_io, F_io, VA_io, solve = _general(
            U, Yp, Qw, VA, v, np.concatenate(off_i), np.concatenate(off_j), np.concatenate(off_v), q, q_inv, construct
        )
        supply = f"not diagonal: {n_off} entries off the diagonal (dense construct {construct})"

    # stressors: the selection, then VA
    F = np.zeros((len(selection) + 1, m))
    F_Y = np.zeros((len(selection) + 1, len(keep_r) * nfd))
    names, units = [], []
    for i, (name, sat_rows, unit) in enumerate(selection):
        idx = [slot[r] for r in sat_rows]
        F[i] = F_io[idx].sum(axis=0)
        F_Y[i] = QYw[idx].sum(axis=0)
        names.append(name)
        units.append(unit)
    F[-1] = VA_io.sum(axis=0)
    names.append("VA")
    units.append(VA_UNIT)
    ch4 = next((rows for name, rows, _ in selection if name == CH4), [])
    meta = {
        "database": "gloria",
        "region_concordance": "gloria",
        "version": where.version,
        "price": price,
        "markup": f"Markup{PRICES[price]}",
        "construct": construct,
        "supply": supply,
        "gross output": solve,
        "dropped_regions": ", ".join(dropped),
        "ch4_rows": "; ".join(_sat_name(lab.sat_head[r], lab.sat_ind[r]) for r in ch4),
        "files": "; ".join(str(f) for f in files.values()),
        "readme": str(where.readme),
    }
    if not ch4 and not any(name == CH4 for name, _, _ in selection):
        meta["ch4_rows"] = f"none: no '{EMISSIONS_BLOCK}' row names ch4"
    return MRIO(
        Z=Z,
        Y=y_io,
        F=F,
        F_Y=F_Y,
        countries=[lab.codes[r] for r in keep_r],
        sectors=lab.sectors,
        fd_categories=lab.fd,
        stressors=names,
        units=units,
        country_names=[lab.names[r] for r in keep_r],
        year=year,
        source=f"GLORIA {where.version} {year} ({price}, {PRICES[price]}), {Path(path)}",
        meta=meta,
    )


def _where(lab: _Labels, keep_r, S: int, i: int) -> str:
    return f"{lab.codes[keep_r[i // S]]}/{lab.sectors[i % S]}"


def _general(U, Yp, Q, VA, v, oi, oj, ov, q, q_inv, construct):
    """pymrio's constructs with a dense supply table (entries off its diagonal)."""
    m = U.shape[0]
    V = np.zeros((m, m))
    V[np.arange(m), np.arange(m)] = v
    V[oi, oj] = ov
    g = V.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        g_inv = np.where(g != 0, 1.0 / g, 0.0)
    try:
        if construct == "A":
            T = np.linalg.inv(V.T) * q
            A, y_io, F, VAo = (U @ T) * q_inv, Yp, Q @ T, VA @ T
        elif construct == "B":
            T = g_inv[:, None] * V
            A, y_io, F, VAo = (U @ T) * q_inv, Yp, Q @ T, VA @ T
        elif construct == "C":
            T = g[:, None] * np.linalg.inv(V.T)
            A, y_io, F, VAo = (T @ U) * q_inv, T @ Yp, Q, VA
        else:
            T = V * q_inv
            A, y_io, F, VAo = (T @ U) * q_inv, T @ Yp, Q, VA
    except np.linalg.LinAlgError:
        raise ReaderError(f"construct {construct} inverts the supply table, which is singular; use B or D") from None
    x = np.linalg.solve(np.eye(m) - A, y_io.sum(axis=1))
    return A * x, y_io, F, VAo, "x = (I - A)^-1 Y 1"


class GloriaReader(Reader):
    """Registry reader of GLORIA years (format ``"gloria"``)."""

    name = "gloria"
    description = (
        "GLORIA (ielab.info): a folder with a year's GLORIA_MRIOs_{version}_{year} and "
        "GLORIA_SatelliteAccounts_{version}_{year} (zip or folder) and GLORIA_ReadMe_{version}.xlsx"
    )
    yearly = True
    cache_default = False

    def can_open(self, path) -> bool:
        p = Path(path)
        return p.is_dir() and bool(_entries(p, _MRIO_NAME)) and bool(_entries_files(p, _README_NAME))

    def read(self, path, *, year=None, price="bp", construct="B", version=None, satellites=None) -> MRIO:
        if year is None:
            years = gloria_years(path)
            raise OptionError(
                f"the gloria reader needs a year (year=...; --years); {path} holds: "
                f"{', '.join(map(str, years)) or 'none'}"
            )
        return read_gloria(path, year, price=price, construct=construct, version=version, satellites=satellites)

    def sources(self, path, *, year=None, price="bp", version=None, **options) -> list[Path]:
        if year is None:
            raise OptionError("the gloria reader needs a year (year=...)")
        w = _locate(path, check_year(year), _check_price(price), version)
        return sorted({w.readme, *(f.path for f in w.files.values())})
