"""Read EXIOBASE 3 (zenodo.org/records/5589597 and later), as released.

A year is ``IOT_{year}_{system}.zip`` (``system``: ``pxp`` product by product,
200 products, or ``ixi`` industry by industry, 163 industries; 49 regions: 44
countries and five rest-of-the-world regions WA, WE, WF, WL, WM), its unpacked
folder, or a folder holding such years (zips or folders). Inside, tab-separated
text tables in pymrio's layout (header rows of column labels, index columns of
row labels, described by ``file_parameters.json`` where present):

======================  ==============================================================
``A.txt``               technical coefficients, n x n (every release)
``Z.txt``, ``x.txt``    transactions and gross output (the releases that ship them)
``Y.txt``               final demand, n x (regions x 7 categories)
``unit.txt``            the unit of each (region, sector)
``{extension}/F.txt``   stressors x n, one folder per extension: ``satellite/`` and
                        ``impacts/`` (3.4-3.8.x), or per account (``air_emissions/``,
                        ``employment/``, ``energy/``, ``factor_inputs/``, ``land/``,
                        ``material/``, ``nutrients/``, ``water/``, ... in 3.9.x)
``{extension}/F_Y.txt`` stressors of final demand (``F_hh.txt`` in older releases)
``{extension}/unit.txt`` the unit of each stressor
======================  ==============================================================

Z comes from ``Z.txt`` when shipped, else from A and x (``x.txt``, or, where only
A and Y are shipped, the Leontief solve x = (I - A)^-1 Y 1 by LU, no inverse),
Z = A x-hat: what pymrio's ``parse_exiobase3`` + ``calc_all`` give.

The stressors: every extension's rows keep their names and units (names that
repeat across extensions are prefixed ``extension/``), ``meta["extensions"]``
lists the blocks; ``"CH4"`` is the study's methane: every CH4 row of the air
emissions (``air_emissions/``, else ``satellite/``: compartment "air",
combustion and non-combustion), summed, in their common unit (kg); ``"VA"`` is
value added: the monetary (M.EUR) rows of ``factor_inputs/``, else of
``satellite/`` (taxes, wages, operating surplus), summed. ``satellites=`` picks
and sums rows by pattern, as for Eora26.

Big tables are streamed from the zip (never extracted to disk) and parsed by
the compiled parser of :mod:`mrioflow.io.text`, one block of lines at a time on
all cores while the next block is decompressed.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._checks import check_year
from ..errors import InvalidValueError, LabelError, MissingDataError, OptionError, ReaderError
from ..mrio import MRIO
from .base import Reader
from .text import LabelledTable, SourceFile, decode, open_zip, read_labelled

__all__ = ["DATABASE", "SYSTEMS", "Exiobase3Reader", "read_exiobase3"]

DATABASE = "exiobase3"
"""The name of the database (its region concordance is ``data/exiobase3_regions.csv``)."""

SYSTEMS = ("pxp", "ixi")
_YEAR_NAME = re.compile(r"^IOT_(\d{4})_(pxp|ixi)(\.zip)?$")
_MAX_SMALL = 64 << 20  # x.txt, unit.txt, file_parameters.json: well under a megabyte

# (file name, index columns, header rows) when no file_parameters.json says otherwise; None: detected
_CORE_FILES = {"A": ("A.txt", 2, 2), "Z": ("Z.txt", 2, 2), "Y": ("Y.txt", 2, 2), "x": ("x.txt", 2, 1)}
_EXT_FILES = {"F": ("F.txt", None, 2), "F_Y": ("F_Y.txt", None, 2), "F_hh": ("F_hh.txt", None, 2)}
_AIR_EXTENSIONS = ("air_emissions", "satellite")
_VA_EXTENSIONS = ("factor_inputs", "satellite")
_METHANE = re.compile(r"^\s*CH4\b", re.IGNORECASE)
_AIR = re.compile(r"(^|\s-\s)air\s*$", re.IGNORECASE)


# -- where the files are ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Root:
    """The folder of one year's tables: on disk, or a folder (``prefix``) inside a zip."""

    path: Path
    prefix: str | None = None  # None: a folder on disk; "" or "IOT_2019_pxp/": inside the zip at path

    def __str__(self) -> str:
        return f"{self.path}:{self.prefix}" if self.prefix else str(self.path)

    def names(self) -> set[str]:
        """Relative paths of the files below the root."""
        if self.prefix is None:
            return {f.relative_to(self.path).as_posix() for f in self.path.rglob("*") if f.is_file()}
        with open_zip(self.path) as zf:
            return {n[len(self.prefix) :] for n in zf.namelist() if n.startswith(self.prefix) and not n.endswith("/")}

    def file(self, rel: str) -> SourceFile:
        return SourceFile(self.path / rel) if self.prefix is None else SourceFile(self.path, self.prefix + rel)


def _zip_root(z: Path) -> _Root | None:
    """The folder inside zip ``z`` that holds Y.txt beside A.txt or Z.txt (None: not such a zip)."""
    try:
        with open_zip(z) as zf:
            names = set(zf.namelist())
    except ReaderError:
        return None
    roots = sorted(
        (n[: -len("Y.txt")] for n in names if n.rsplit("/", 1)[-1] == "Y.txt"),
        key=lambda p: p.count("/"),
    )
    for prefix in roots:
        if prefix + "A.txt" in names or prefix + "Z.txt" in names:
            return _Root(z, prefix)
    return None


def _is_table_folder(d: Path) -> bool:
    return (d / "Y.txt").is_file() and ((d / "A.txt").is_file() or (d / "Z.txt").is_file())


def _years_in(folder: Path, system: str) -> dict[int, Path]:
    """Year -> its zip or folder, for ``IOT_{year}_{system}`` entries of ``folder``."""
    found: dict[int, Path] = {}
    with contextlib.suppress(OSError):
        for entry in sorted(folder.iterdir()):
            m = _YEAR_NAME.match(entry.name)
            if m and m.group(2) == system:
                if m.group(3) and entry.is_file():
                    found.setdefault(int(m.group(1)), entry)
                elif not m.group(3) and entry.is_dir():
                    found[int(m.group(1))] = entry  # an unpacked folder wins over its zip
    return found


def _year_of_name(name: str) -> tuple[int, str] | None:
    m = _YEAR_NAME.match(name)
    return (int(m.group(1)), m.group(2)) if m else None


def _locate(path, year: int | None, system: str | None) -> tuple[_Root, int | None, str]:
    """The root of the year's tables, its year and its system ("" when neither name nor option says).

    ``system`` None: the name's (``IOT_2019_ixi.zip``), or pxp in a folder of years.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise MissingDataError(f"EXIOBASE 3 data not found: {p} does not exist")
    if p.is_dir() and not _is_table_folder(p):
        years = _years_in(p, system or "pxp")
        partial = [n for n in ("A.txt", "Z.txt", "Y.txt", "file_parameters.json") if (p / n).is_file()]
        if not years and partial:
            need = "Y.txt" if "Y.txt" not in partial else "A.txt (or Z.txt)"
            raise MissingDataError(f"{p}: EXIOBASE 3 tables need {need} beside {', '.join(partial)}; it is missing")
        inner = [d for d in p.iterdir() if d.is_dir() and _is_table_folder(d)] if not years else []
        if len(inner) == 1:
            return _locate(inner[0], year, system)
        if not years:
            raise MissingDataError(
                f"{p}: no EXIOBASE 3 tables (Y.txt beside A.txt or Z.txt) and no IOT_{{year}}_{system or 'pxp'} "
                "years found"
            )
        if year is None and len(years) == 1:
            year = next(iter(years))
        if year is None:
            raise OptionError(
                f"{p} holds EXIOBASE 3 years {', '.join(map(str, years)) or 'none'}: choose one (year=...)"
            )
        if year not in years:
            raise MissingDataError(
                f"no EXIOBASE 3 {year} ({system or 'pxp'}) in {p}: expected IOT_{year}_{system or 'pxp'}.zip or "
                f"its unpacked folder; years found: {', '.join(map(str, sorted(years))) or 'none'}"
            )
        p = years[year]
    named = _year_of_name(p.name)
    if named is not None and system is not None and named[1] != system:
        raise MissingDataError(f"{p} is the {named[1]} table, but system={system!r} was asked for")
    if p.is_file():
        root = _zip_root(p)
        if root is None:
            raise ReaderError(f"{p} is not an EXIOBASE 3 archive: expected a zip holding Y.txt beside A.txt (or Z.txt)")
        if named is None and root.prefix:
            named = _year_of_name(root.prefix.rstrip("/").rsplit("/", 1)[-1])
    else:
        if not _is_table_folder(p):
            return _locate(p, year, system)
        root = _Root(p)
    name_year = named[0] if named else None
    if year is not None and name_year is not None and year != name_year:
        raise MissingDataError(f"{p} holds EXIOBASE 3 {name_year}, not {year}")
    if named is not None and system is not None and named[1] != system:
        raise MissingDataError(f"{p} is the {named[1]} table, but system={system!r} was asked for")
    found = named[1] if named else (system or "")
    return root, name_year if name_year is not None else year, found


# -- small files ------------------------------------------------------------------------------------


def _small_text(f: SourceFile) -> str:
    f.check_size(_MAX_SMALL, "a label or parameter file may hold")
    return decode(f.read_bytes())


def _parameters(root: _Root, folder: str, names: set[str]) -> dict[str, tuple[str, int | None, int]]:
    """key -> (file name, index columns, header rows) from the folder's file_parameters.json, if any."""
    rel = f"{folder}file_parameters.json"
    if rel not in names:
        return {}
    f = root.file(rel)
    try:
        files = json.loads(_small_text(f))["files"]
        return {k: (str(v["name"]), int(v["nr_index_col"]), int(v["nr_header"])) for k, v in files.items()}
    except (ValueError, KeyError, TypeError) as exc:
        raise ReaderError(f"{f}: not a pymrio file_parameters.json ({type(exc).__name__}: {exc})") from None


def _column_file(f: SourceFile, what: str) -> tuple[list[tuple[str, ...]], list[str]]:
    """A one-header, one-value-column file (x.txt, unit.txt): row labels and the last column."""
    lines = [ln for ln in _small_text(f).splitlines() if ln.strip()]
    if len(lines) < 2:
        raise ReaderError(f"{f}: expected a header line and one line per {what}, found {len(lines)} line(s)")
    width = len(lines[0].split("\t"))
    rows, values = [], []
    for lineno, line in enumerate(lines[1:], start=2):
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) != width or width < 2:
            raise ReaderError(f"{f}: line {lineno} has {len(cells)} fields, expected {width} (as the header)")
        rows.append(tuple(cells[:-1]))
        values.append(cells[-1])
    return rows, values


# -- labels -------------------------------------------------------------------------------------------


def _rename_map() -> dict[str, str]:
    """Region names of the EXIOBASE 3.4 ixi files (ISO3 and WWA...) -> the two-letter codes."""
    from ..regions import concordance

    conc = concordance(DATABASE)
    assert conc is not None  # bundled with the package
    out = {iso3: code for iso3, code in conc.code_of.items() if code not in conc.aggregates}
    out.update({f"W{a}": a for a in conc.aggregates})  # WWA -> WA, ...
    return out


def _region_names() -> dict[str, str]:
    from ..regions import concordance

    conc = concordance(DATABASE)
    return dict(conc.names) if conc is not None else {}


def _grid(labels: list[tuple[str, ...]], f: SourceFile, what: str) -> tuple[list[str], list[str]]:
    """(regions, items) of labels that are every (region, item) pair, region-major; LabelError otherwise."""
    if not labels or any(len(t) != 2 for t in labels):
        raise LabelError(f"{f}: the {what} must be (region, sector) pairs, got {labels[:2]}")
    regions = list(dict.fromkeys(t[0] for t in labels))
    items = [t[1] for t in labels if t[0] == regions[0]]
    want = [(r, s) for r in regions for s in items]
    if labels != want:
        k = next((i for i, (a, b) in enumerate(zip(labels, want)) if a != b), min(len(labels), len(want)))
        got = labels[k] if k < len(labels) else "(none)"
        raise LabelError(
            f"{f}: the {what} are not every region x item pair in order ({len(regions)} regions x {len(items)} "
            f"items); entry {k + 1} is {got}, expected {want[k] if k < len(want) else '(none)'}"
        )
    return regions, items


def _stressor_label(row: tuple[str, ...]) -> str:
    return " - ".join(p for p in row if p != "") or "(unnamed)"


def _check_columns(got: list[tuple[str, ...]], want: list[tuple[str, ...]], f: SourceFile, of: str) -> None:
    if got != want:
        k = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
        raise LabelError(
            f"{f}: its {len(got)} columns do not match the {len(want)} {of}; first difference at column {k + 1}: "
            f"{got[k] if k < len(got) else '(none)'} vs {want[k] if k < len(want) else '(none)'}"
        )


def _renamed(labels: list[tuple[str, ...]], renames: dict[str, str]) -> list[tuple[str, ...]]:
    return [(renames.get(t[0], t[0]), *t[1:]) for t in labels]


# -- the year -----------------------------------------------------------------------------------------


@dataclass
class _Extension:
    name: str
    labels: list[str]
    units: list[str]
    F: np.ndarray
    F_Y: np.ndarray
    final_demand: str  # "F_Y.txt", "F_hh.txt" or "none"


def _table(root: _Root, rel: str, n_index: int | None, n_header: int, nrows: int | str | None = None) -> LabelledTable:
    f = root.file(rel)
    if n_index is None:  # detected: the header's level name, then as many empty fields as more index columns
        with f.stream() as fh:
            first = fh.readline(1 << 20).rstrip(b"\r\n").split(b"\t")
        n_index = next((i for i, c in enumerate(first) if i > 0 and c.strip()), 1)
    return read_labelled(f, n_index=n_index, n_header=n_header, nrows=nrows)


def _read_extension(
    root: _Root, folder: str, names: set[str], idx: list, fd: list, renames: dict[str, str]
) -> _Extension:
    params = {**_EXT_FILES, **_parameters(root, folder, names)}
    name = folder.rstrip("/")
    fname, n_index, n_header = params["F"]
    F = _table(root, folder + fname, n_index, n_header)
    ff = root.file(folder + fname)
    _check_columns(_renamed(F.columns, renames), idx, ff, "(region, sector) rows of A/Z")
    labels = [_stressor_label(r) for r in F.rows]
    F_Y = np.zeros((len(labels), len(fd)))
    final = "none"
    for key in ("F_Y", "F_hh"):  # older releases name the final-demand stressors F_hh
        fn, ni, nh = params.get(key, _EXT_FILES[key])
        if folder + fn in names:
            t = _table(root, folder + fn, ni, nh, nrows=len(labels))
            fy = root.file(folder + fn)
            _check_columns(_renamed(t.columns, renames), fd, fy, "(region, category) columns of Y")
            if [_stressor_label(r) for r in t.rows] != labels:
                raise LabelError(f"{fy}: its rows are not the stressors of {ff}, in the same order")
            F_Y, final = t.values, fn
            break
    units = [""] * len(labels)
    un = params.get("unit", ("unit.txt", None, 1))[0]
    if folder + un in names:
        rows, vals = _column_file(root.file(folder + un), "stressor")
        by = {_stressor_label(r): v for r, v in zip(rows, vals)}
        if any(s not in by for s in labels):  # unit.txt with more index columns than F (stressor, compartment)
            firsts = [r[0] for r in rows]
            by.update({f: v for f, v in zip(firsts, vals) if firsts.count(f) == 1 and f not in by})
        missing = [s for s in labels if s not in by]
        if missing:
            raise LabelError(f"{root.file(folder + un)}: no unit for {len(missing)} stressor(s): {missing[:3]}")
        units = [by[s] for s in labels]
    return _Extension(name, labels, units, F.values, F_Y, final)


def _select(exts: list[_Extension], satellites, all_stressors: bool):
    """(names, units, F rows, F_Y rows, meta) of the stressors kept."""
    names: list[str] = []
    units: list[str] = []
    Fs: list[np.ndarray] = []
    FYs: list[np.ndarray] = []
    meta: dict = {}

    def pick(name: str, rows: list[tuple[_Extension, int]], what: str) -> None:
        found = sorted({e.units[i] for e, i in rows})
        if len(found) > 1:
            raise LabelError(f"the rows of {what} have different units {found}; cannot sum them")
        names.append(name)
        units.append(found[0])
        Fs.append(sum((e.F[i] for e, i in rows), np.zeros(rows[0][0].F.shape[1])))
        FYs.append(sum((e.F_Y[i] for e, i in rows), np.zeros(rows[0][0].F_Y.shape[1])))
        meta[name] = [f"{e.name}/{e.labels[i]}" for e, i in rows]

    by_name = {e.name: e for e in exts}
    specs: dict[str, re.Pattern | None] = {"CH4": None}
    if satellites is not None:
        if not isinstance(satellites, Mapping):
            raise OptionError(f"satellites must be a mapping name -> label pattern, got {type(satellites).__name__}")
        for name, pattern in satellites.items():
            if name == "VA":
                raise OptionError('"VA" is reserved for value added; choose another name')
            try:
                specs[str(name)] = re.compile(pattern)
            except (re.error, TypeError) as exc:
                raise OptionError(f"satellites[{name!r}]: invalid pattern {pattern!r}: {exc}") from None
    for name, pat in specs.items():
        if pat is None:  # the study's methane: CH4 to air, from the air-emissions extension
            air = next((by_name[n] for n in _AIR_EXTENSIONS if n in by_name), None)
            rows = [(air, i) for i, s in enumerate(air.labels) if _METHANE.search(s) and _AIR.search(s)] if air else []
            if rows:
                pick("CH4", rows, "CH4 to air")
            continue
        rows = [(e, i) for e in exts for i, s in enumerate(e.labels) if pat.search(s) or pat.search(f"{e.name}/{s}")]
        if not rows:
            listed = ", ".join(f"{e.name} ({len(e.labels)} rows)" for e in exts) or "none"
            raise LabelError(f"no stressor matches satellite {name!r} (pattern {pat.pattern!r}); extensions: {listed}")
        pick(name, rows, f"satellite {name!r}")
    va_ext = next((by_name[n] for n in _VA_EXTENSIONS if n in by_name), None)
    va_rows = [(va_ext, i) for i, u in enumerate(va_ext.units) if u.strip().upper() == "M.EUR"] if va_ext else []
    if va_rows:
        pick("VA", va_rows, "value added")
    blocks = []
    if all_stressors:
        taken = set(names)
        counts: dict[str, int] = {}
        for e in exts:
            for s in e.labels:
                counts[s] = counts.get(s, 0) + 1
        for e in exts:
            own = []
            for s in e.labels:
                label = s if counts[s] == 1 and s not in taken else f"{e.name}/{s}"
                if label in taken:
                    raise LabelError(f"extension {e.name}: stressor {s!r} is listed twice")
                taken.add(label)
                own.append(label)
            names.extend(own)
            units.extend(e.units)
            Fs.extend(e.F)
            FYs.extend(e.F_Y)
            blocks.append({"name": e.name, "stressors": own, "final_demand": e.final_demand})
    else:
        blocks = [{"name": e.name, "stressors": [], "final_demand": e.final_demand} for e in exts]
    return names, units, Fs, FYs, meta, blocks


def _leontief_x(A: np.ndarray, y: np.ndarray, f: SourceFile) -> np.ndarray:
    """x = (I - A)^-1 y by LU (no inverse); InvalidValueError when I - A is singular."""
    import scipy.linalg as sla

    IA = -A
    IA[np.diag_indices_from(IA)] += 1.0
    try:
        with np.errstate(all="ignore"):
            lu = sla.lu_factor(IA, overwrite_a=True, check_finite=False)
            x = sla.lu_solve(lu, y, check_finite=False)
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise InvalidValueError(f"{f}: I - A cannot be solved for gross output ({exc})") from None
    if not np.all(np.isfinite(x)):
        raise InvalidValueError(f"{f}: I - A is singular; gross output x = (I - A)^-1 Y 1 is not finite")
    return x


def _read_year(root: _Root, year: int | None, system: str, satellites, all_stressors: bool) -> MRIO:
    names = root.names()
    params = {**_CORE_FILES, **{k: v for k, v in _parameters(root, "", names).items() if k in _CORE_FILES}}
    renames = _rename_map()
    has = {k: params[k][0] in names for k in _CORE_FILES}
    if not has["Y"] or not (has["A"] or has["Z"]):
        raise MissingDataError(f"{root}: EXIOBASE 3 needs Y.txt and A.txt (or Z.txt); found {sorted(names)[:12]}")
    core = "Z" if has["Z"] else "A"
    fn, ni, nh = params[core]
    M = _table(root, fn, ni, nh, nrows="square")
    fm = root.file(fn)
    rows = _renamed(M.rows, renames)
    regions, sectors = _grid(rows, fm, "row labels")
    _check_columns(_renamed(M.columns, renames), rows, fm, "rows (the same (region, sector) pairs)")
    n = len(rows)
    fy_name, ni, nh = params["Y"]
    Yt = _table(root, fy_name, ni, nh, nrows=n)
    fy = root.file(fy_name)
    if _renamed(Yt.rows, renames) != rows:
        raise LabelError(f"{fy}: its rows are not the (region, sector) rows of {fm}, in the same order")
    fd_cols = _renamed(Yt.columns, renames)
    fd_regions, categories = _grid(fd_cols, fy, "column labels")
    if fd_regions != regions:
        raise LabelError(f"{fy}: its regions {fd_regions[:5]}... are not those of {fm} ({regions[:5]}...)")
    Y = Yt.values
    if core == "Z":
        Z, how = M.values, "Z.txt"
    else:
        A = M.values
        if has["x"]:
            xr, xv = _column_file(root.file(params["x"][0]), "(region, sector)")
            if _renamed(xr, renames) != rows:
                raise LabelError(f"{root.file(params['x'][0])}: its rows are not the rows of {fm}")
            try:
                x = np.array([float(v) for v in xv])
            except ValueError as exc:
                raise ReaderError(f"{root.file(params['x'][0])}: {exc}") from None
            how = "A.txt and x.txt (Z = A x-hat)"
        else:
            x = _leontief_x(A.copy(), Y.sum(axis=1), fm)
            how = "A.txt and Y.txt (x = (I - A)^-1 Y 1 by LU, Z = A x-hat)"
        A *= x[None, :]
        Z = A
    ext_folders = sorted({n.split("/", 1)[0] + "/" for n in names if "/" in n and n.split("/", 1)[1] in ("F.txt",)})
    exts = [_read_extension(root, d, names, rows, fd_cols, renames) for d in ext_folders]
    st_names, units, Fs, FYs, picked, blocks = _select(exts, satellites, all_stressors)
    k = len(st_names)
    region_names = _region_names()
    return MRIO(
        Z=Z,
        Y=Y,
        F=np.vstack(Fs) if k else np.zeros((0, n)),
        F_Y=np.vstack(FYs) if k else np.zeros((0, Y.shape[1])),
        countries=regions,
        sectors=sectors,
        fd_categories=categories,
        stressors=st_names,
        units=units,
        country_names=[region_names.get(r, r) for r in regions],
        year=year,
        source=" ".join(str(w) for w in ("EXIOBASE 3", system, year, f"({root})") if w),
        meta={
            "region_concordance": DATABASE,
            "exiobase_system": system,
            "exiobase_core": how,
            "extensions": blocks,
            "selected_rows": picked,
            "methane": (
                f"CH4: {len(picked['CH4'])} rows of air emissions summed ({units[st_names.index('CH4')]})"
                if "CH4" in picked
                else "no CH4 rows to air found"
            ),
            "renamed_regions": sorted({t[0] for t in M.rows if t[0] in renames}),
        },
    )


def _check_system(system) -> str | None:
    if system is not None and system not in SYSTEMS:
        raise OptionError(f"system must be one of {', '.join(SYSTEMS)} (product or industry tables), got {system!r}")
    return system


def read_exiobase3(
    path, year: int | None = None, *, system: str | None = None, satellites=None, all_stressors=True
) -> MRIO:
    """Read one year of EXIOBASE 3.

    Parameters
    ----------
    path : path-like
        ``IOT_{year}_{system}.zip`` as downloaded, its unpacked folder, or a
        folder of such years (zips or folders).
    year : int, optional
        The year (required for a folder of several years; checked against the
        name ``IOT_{year}_...`` where there is one).
    system : {"pxp", "ixi"}, optional
        Product-by-product or industry-by-industry tables: which to read from a
        folder of years (default pxp); checked against a single year's name
        (default: the name's).
    satellites : mapping of str to str, optional
        Stressor name -> regular expression searched in each extension's row
        labels (``"CH4 - combustion - air"``) and in ``"extension/label"``:
        the matching rows, summed, become that stressor (their units must agree).
    all_stressors : bool
        Keep every extension row as a stressor of its own (default); False:
        only CH4, VA and ``satellites``.

    Returns
    -------
    MRIO
        Region codes as EXIOBASE writes them (``meta["region_concordance"]`` is
        ``"exiobase3"``: the BRI grouping resolves against them).

    Raises
    ------
    MissingDataError
        The path, the year or a core file is missing.
    ReaderError, LabelError
        A file that is not in the layout, labels that do not match between
        files (the message names the file).
    InvalidValueError
        A non-finite cell, or I - A singular where x must be solved for.
    """
    root, found_year, found_system = _locate(path, None if year is None else check_year(year), _check_system(system))
    return _read_year(root, found_year, found_system, satellites, bool(all_stressors))


def _looks_exiobase(root: _Root) -> bool:
    """A pymrio-layout folder is EXIOBASE's when its name (``IOT_{year}_{system}``) or its region codes
    (every region of Y.txt's header an EXIOBASE code, or a 3.4 ixi name such as AUT or WWA) say so."""
    name = root.prefix.rstrip("/").rsplit("/", 1)[-1] if root.prefix else root.path.name
    if _YEAR_NAME.match(name) or _YEAR_NAME.match(root.path.name):
        return True
    with contextlib.suppress(ReaderError, OSError, ValueError):
        with root.file("Y.txt").stream() as fh:
            first = fh.readline(1 << 20).decode("utf-8", "replace").rstrip("\r\n").split("\t")
        codes = {c.strip() for c in first[1:] if c.strip()}
        known = set(_rename_map()) | set(_rename_map().values())
        return bool(codes) and codes <= known
    return False


class Exiobase3Reader(Reader):
    """The registry's reader of EXIOBASE 3 (format ``"exiobase3"``)."""

    name = "exiobase3"
    description = (
        "EXIOBASE 3: a year's IOT_{year}_{pxp|ixi}.zip as downloaded, its unpacked folder, or a folder of years"
    )
    yearly = True
    cache_default = True

    def can_open(self, path) -> bool:
        p = Path(path)
        try:
            if p.is_file():
                if p.suffix.lower() != ".zip":
                    return False
                root = _zip_root(p)
                return root is not None and _looks_exiobase(root)
            if p.is_dir():
                if _is_table_folder(p):
                    return _looks_exiobase(_Root(p))
                return any(_years_in(p, s) for s in SYSTEMS)
        except OSError:
            return False
        return False

    def read(self, path, *, year=None, system=None, satellites=None, all_stressors=True) -> MRIO:
        return read_exiobase3(path, year, system=system, satellites=satellites, all_stressors=all_stressors)

    def sources(self, path, *, year=None, system=None, **options) -> list[Path]:
        root, _, _ = _locate(path, None if year is None else check_year(year), _check_system(system))
        if root.prefix is not None:
            return [root.path]
        return sorted(f for f in root.path.rglob("*") if f.is_file())
