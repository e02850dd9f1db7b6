"""EDGAR country x IPCC-2006 source emissions, and attaching them to an Eora26 MRIO.

EDGAR (edgar.jrc.ec.europa.eu) publishes, per substance, a table of emissions by
country and IPCC 2006 source category: an xlsx with a sheet "IPCC 2006" whose
header is on row 10 (the rows above are a title block), or the same table as
CSV. Columns: IPCC_annex, C_group_IM24_sh, Country_code_A3, Name,
ipcc_code_2006_for_standard_report, ipcc_code_2006_for_standard_report_name,
Substance, fossil_bio, Y_1970 ... Y_2022; values in Gg (kt) of the substance.
EDGAR leaves a cell empty where it has no value (it never writes 0 for that);
the workbook's sheet "TOTALS BY COUNTRY" (same title block, one row per
country and substance) is used as a cross-check of the "IPCC 2006" sheet.
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .. import data as _data
from ..errors import InvalidValueError, LabelError, MissingDataError, OptionError, ReaderError
from ..mrio import MRIO

__all__ = [
    "read_edgar",
    "attach_edgar",
    "EDGAR_TO_EORA",
    "EDGAR_EXCLUDED",
    "EDGAR_OUTSIDE_EORA26",
    "TABLE_WITHOUT_EDGAR",
]

_REQUIRED = (
    "Country_code_A3",
    "Name",
    "ipcc_code_2006_for_standard_report",
    "ipcc_code_2006_for_standard_report_name",
    "Substance",
    "fossil_bio",
)
_SHEET = "IPCC 2006"
_TOTALS = "TOTALS BY COUNTRY"
TOTALS_RTOL = 1e-3
"""Country totals of the "TOTALS BY COUNTRY" sheet and sums of the "IPCC 2006" sheet may differ by 0.1 %."""

EDGAR_EXCLUDED = ("AIR", "SEA")
"""EDGAR's pseudo-countries (international aviation and shipping), never attributed to a country."""

EDGAR_TO_EORA = {
    "SDN": "SUD",  # Sudan: Eora keeps its own code for (former) Sudan
    "SSD": "SDS",  # South Sudan
    "ANT": "ANT",  # Netherlands Antilles, where EDGAR still has it
    "CUW": "ANT",  # Curacao, Sint Maarten and Bonaire/St Eustatius/Saba: the former
    "SXM": "ANT",  #   Netherlands Antilles, one Eora country (summed)
    "BES": "ANT",
}
"""EDGAR ISO3 codes that differ from Eora26's. Every other code is taken as is."""

EDGAR_OUTSIDE_EORA26 = frozenset(
    {
        "XKX",  # Kosovo (within Serbia in Eora26)
        "PRI", "ASM", "GUM", "MNP", "VIR", "UMI",  # US territories
        "REU", "GLP", "MTQ", "GUF", "MYT", "SPM", "BLM", "MAF", "WLF",  # French overseas
        "FRO", "GIB", "IMN", "JEY", "GGY", "FLK", "SHN", "MSR", "TCA", "AIA",  # other dependencies
        "ESH", "GNQ", "GNB", "COM", "TLS", "KNA", "LCA", "VCT", "DMA", "GRD",
        "KIR", "TON", "SLB", "COK", "NRU", "PLW", "MHL", "FSM", "TUV", "NIU", "TKL",
    }
)  # fmt: skip
"""EDGAR country codes with no country in Eora26's 189 (real countries and territories). Their
emissions cannot be attributed to an Eora26 table and are reported (a warning and
``meta["edgar"]["edgar_only"]``); any other EDGAR code the table lacks is an error."""

TABLE_WITHOUT_EDGAR = frozenset({"ROW", "USR"})
"""Table countries EDGAR has no rows for by design: Eora's rest of the world (a residual) and
``USR`` (the former USSR; EDGAR reports its successor states). They get zero and are reported;
any other table country without EDGAR rows is an error."""


def _find_header(rows: list[list[str]], where: str) -> int:
    for i, r in enumerate(rows[:50]):
        if "Country_code_A3" in [str(v).strip() for v in r]:
            return i
    raise ReaderError(
        f"{where}: no header row with 'Country_code_A3' in its first 50 rows; expected the EDGAR "
        f"country x IPCC 2006 layout (header on row 10: {', '.join(_REQUIRED)}, Y_1970 ... Y_2022)"
    )


def _sheet(book, p: Path, sheet: str) -> tuple[pd.DataFrame, int]:
    top = pd.read_excel(book, sheet_name=sheet, header=None, nrows=50, dtype=object)
    h = _find_header(top.astype(str).values.tolist(), f"{p} (sheet {sheet!r})")
    return pd.read_excel(book, sheet_name=sheet, header=h, dtype=object, keep_default_na=False), h + 1


def _read_table(p: Path) -> tuple[pd.DataFrame, int, pd.DataFrame | None]:
    """The raw table (all cells as read), the 1-based file row of its header, and the
    "TOTALS BY COUNTRY" sheet of a workbook (None when there is none, or it is empty)."""
    if p.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        try:
            book = pd.ExcelFile(p)
        except Exception as exc:  # openpyxl/zipfile errors on a damaged workbook
            raise ReaderError(f"{p}: cannot open the workbook ({type(exc).__name__}: {exc})") from None
        with book:
            if _SHEET not in book.sheet_names:
                raise ReaderError(f"{p}: no sheet {_SHEET!r}; the workbook has {', '.join(book.sheet_names)}")
            table, h = _sheet(book, p, _SHEET)
            totals = None
            if _TOTALS in book.sheet_names:
                try:
                    totals = _sheet(book, p, _TOTALS)[0]
                except ReaderError:
                    totals = None  # an empty or foreign sheet: nothing to cross-check
        return table, h, totals
    try:
        text = p.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError as exc:
        raise ReaderError(f"cannot read {p}: {exc}") from None
    lines = text.splitlines()
    h = _find_header([re.split(r"[,;\t]", ln) for ln in lines[:50]], str(p))
    sep = max((",", ";", "\t"), key=lines[h].count)
    try:
        table = pd.read_csv(io.StringIO(text), sep=sep, skiprows=h, header=0, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as exc:
        raise ReaderError(f"{p}: cannot parse the CSV table: {exc}") from None
    return table, h + 1, None


def _cross_check(p: Path, totals: pd.DataFrame, sums: pd.Series, substance: str, col: str) -> bool:
    """Warn naming the countries whose "TOTALS BY COUNTRY" value and "IPCC 2006" sum differ by
    more than 0.1 %; False when the sheet lacks the columns to compare."""
    totals = totals.rename(columns=lambda c: str(c).strip())
    if not {"Country_code_A3", "Substance", col} <= set(totals.columns):
        return False
    totals = totals[totals["Substance"].astype(str).str.strip() == substance]
    given = pd.to_numeric(totals[col], errors="coerce")
    given.index = totals["Country_code_A3"].astype(str).str.strip()
    given = given.dropna().groupby(level=0).sum()
    codes = sorted(set(given.index) | set(sums.index))
    t, s = given.reindex(codes, fill_value=0.0), sums.reindex(codes, fill_value=0.0)
    off = (t - s).abs() > TOTALS_RTOL * np.maximum(t.abs(), s.abs())
    if off.any():
        bad = [f"{c} ({t[c]:.6g} in {_TOTALS!r}, {s[c]:.6g} summed over {_SHEET!r})" for c in t.index[off]]
        warnings.warn(
            f"{p}: {int(off.sum())} country total(s) of {substance} in {col[2:]} differ by more than 0.1 % between "
            f"the sheets: {', '.join(bad[:10])}" + (" ..." if len(bad) > 10 else ""),
            UserWarning,
            stacklevel=3,
        )
    return True


def read_edgar(path, *, substance: str = "CH4", year) -> pd.DataFrame:
    """Read one year of an EDGAR country x IPCC-2006 source table (xlsx or CSV).

    Parameters
    ----------
    path : str or path-like
        The EDGAR file: ``.xlsx`` (sheet "IPCC 2006", header on row 10) or the
        equivalent ``.csv`` (the header row is found by its ``Country_code_A3``
        column, so a title block above it is fine).
    substance : str
        The ``Substance`` to keep (default "CH4").
    year : int
        Which ``Y_{year}`` column to read.

    Returns
    -------
    pandas.DataFrame
        One row per (country, source, fossil_bio) with a value that year, with
        columns ``country`` (EDGAR's ISO3 code), ``country_name``, ``ipcc_code``,
        ``ipcc_name``, ``fossil_bio`` and ``value`` (Gg of the substance). Empty
        cells are missing values: their rows are left out (``attrs["missing"]``
        counts them), which attaches nothing for them. EDGAR's pseudo-countries
        AIR and SEA are excluded (their totals are in ``attrs["excluded"]``).
        ``attrs`` also holds ``substance``, ``year``, ``unit`` ("Gg"), ``source``
        (the file) and ``totals_checked`` (whether the workbook's "TOTALS BY
        COUNTRY" sheet was compared: a UserWarning names each country whose
        total differs by more than 0.1 % from the sum of its "IPCC 2006" rows).

    Raises
    ------
    MissingDataError
        The file does not exist, or has no ``Y_{year}`` column (the message lists
        the years available).
    ReaderError
        Not the EDGAR layout (no sheet "IPCC 2006", missing columns), the substance
        is not in the file (the message lists those that are), or a value is not a
        number (file, row and column named).
    InvalidValueError
        A negative or non-finite value (the message names the file, row, country,
        source sector and year).
    """
    p = Path(path).expanduser()
    if not p.is_file():
        raise MissingDataError(f"EDGAR file not found: {p}")
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise OptionError(f"year must be an integer year, got {year!r}") from None
    table, header_row, totals = _read_table(p)
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in _REQUIRED if c not in table.columns]
    if missing:
        raise ReaderError(
            f"{p}: missing column(s) {', '.join(missing)}; expected the EDGAR layout with "
            f"{', '.join(_REQUIRED)}, Y_1970 ... Y_2022 (header row {header_row})"
        )
    years = sorted(int(m.group(1)) for c in table.columns if (m := re.fullmatch(r"Y_(\d{4})", c)))
    col = f"Y_{year}"
    if col not in table.columns:
        span = f"{years[0]}-{years[-1]}" if years else "none"
        raise MissingDataError(
            f"{p}: no column {col}: year {year} is not in this EDGAR file; years available: {span}"
            + (f" ({len(years)} years)" if years else "")
        )
    table = table[table["Country_code_A3"].astype(str).str.strip().ne("")]
    table = table[table["Country_code_A3"].notna()]
    subst = table["Substance"].astype(str).str.strip()
    if not (subst == substance).any():
        found = sorted(set(subst))
        raise ReaderError(f"{p}: no rows for substance {substance!r}; the file has {', '.join(found) or 'none'}")
    table = table[subst == substance]
    raw = table[col]
    text = raw.astype(str).str.strip()
    empty = raw.isna() | text.eq("")
    values = pd.to_numeric(raw.where(~empty), errors="coerce")
    bad = values.isna() & ~empty & ~text.str.lower().isin(["nan", "-nan"])
    if bad.any():
        i = bad.to_numpy().nonzero()[0][0]
        line = header_row + 1 + int(table.index[i])
        raise ReaderError(f"{p}: non-numeric value {raw.iloc[i]!r} in column {col}, row {line}; expected a number (Gg)")
    invalid = ~empty & ~(values >= 0)  # NaN and negative (inf fails below)
    invalid |= ~empty & np.isinf(values.fillna(0.0))
    if invalid.any():
        i = invalid.to_numpy().nonzero()[0][0]
        row = table.iloc[i]
        kind = "negative" if values.iloc[i] < 0 else "non-finite"
        raise InvalidValueError(
            f"{p}, row {header_row + 1 + int(table.index[i])}: {kind} value {raw.iloc[i]} for country "
            f"{str(row['Country_code_A3']).strip()} ({row['Name']}), "
            f"sector {row['ipcc_code_2006_for_standard_report']} "
            f"({row['ipcc_code_2006_for_standard_report_name']}), year {year}; EDGAR emissions are numbers >= 0 "
            f"(an empty cell where there is none)"
        )
    key = (
        table["Country_code_A3"].astype(str).str.strip() + "\x00"
        + table["ipcc_code_2006_for_standard_report"].astype(str).str.strip() + "\x00"
        + table["fossil_bio"].astype(str).str.strip()
    )  # fmt: skip
    repeated = key.duplicated(keep=False).to_numpy()
    if repeated.any():
        rows = table[repeated]
        first = rows.iloc[0]
        lines = [header_row + 1 + int(i) for i in rows.index[key[repeated] == key[repeated].iloc[0]]]
        raise LabelError(
            f"{p}: {int(key.duplicated().sum())} repeated row(s) for one country, source and fossil/bio "
            f"(each would be counted twice); first: country {str(first['Country_code_A3']).strip()}, source "
            f"{str(first['ipcc_code_2006_for_standard_report']).strip()}, {str(first['fossil_bio']).strip()} "
            f"on rows {', '.join(map(str, lines))}"
        )
    keep = ~empty.to_numpy()
    table, values = table[keep], values[keep]
    out = pd.DataFrame(
        {
            "country": table["Country_code_A3"].astype(str).str.strip().to_numpy(),
            "country_name": table["Name"].astype(str).to_numpy(),
            "ipcc_code": table["ipcc_code_2006_for_standard_report"].astype(str).str.strip().to_numpy(),
            "ipcc_name": table["ipcc_code_2006_for_standard_report_name"].astype(str).to_numpy(),
            "fossil_bio": table["fossil_bio"].astype(str).to_numpy(),
            "value": values.astype(float).to_numpy(),
        }
    )
    checked = totals is not None and _cross_check(p, totals, out.groupby("country")["value"].sum(), substance, col)
    pseudo = out["country"].isin(EDGAR_EXCLUDED)
    excluded = out[pseudo].groupby("country")["value"].sum().to_dict()
    out = out[~pseudo].reset_index(drop=True)
    out.attrs.update(
        {
            "substance": substance,
            "year": year,
            "unit": "Gg",
            "source": str(p),
            "excluded": excluded,
            "years_available": years,
            "missing": int((~keep).sum()),
            "totals_checked": bool(checked),
        }
    )
    return out


# -- attaching to an MRIO ------------------------------------------------------------------------


def _load_mapping(mapping) -> tuple[pd.DataFrame, str]:
    if mapping is None:
        with _data.path("edgar_ch4_to_eora26.csv").open("r", encoding="utf-8") as fh:
            return pd.read_csv(fh, dtype=str, keep_default_na=False), "bundled edgar_ch4_to_eora26.csv"
    if isinstance(mapping, pd.DataFrame):
        return mapping.astype(str), "user DataFrame"
    p = Path(mapping).expanduser()
    if not p.is_file():
        raise MissingDataError(f"EDGAR mapping file not found: {p}")
    expected = "expected a CSV with the columns ipcc_code_2006, eora26_sector, weight_rule"
    try:
        raw = p.read_bytes()
        if not raw.strip():
            raise ReaderError(f"{p}: the EDGAR mapping is empty; {expected}")
        if b"\x00" in raw:
            raise ReaderError(f"{p}: the EDGAR mapping is a binary file, not text; {expected}")
        return pd.read_csv(io.StringIO(raw.decode("utf-8-sig")), dtype=str, keep_default_na=False), str(p)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, ReaderError):
            raise
        raise ReaderError(f"{p}: cannot read the EDGAR mapping ({type(exc).__name__}: {exc}); {expected}") from None


_RULES = ("all", "by gross output", "equal")


def _parse_mapping(table: pd.DataFrame, where: str, S: int) -> dict[str, tuple[list[int] | None, str]]:
    """ipcc code -> (0-based sector indices, or None for household final demand; rule)."""
    need = ("ipcc_code_2006", "eora26_sector", "weight_rule")
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise ReaderError(f"{where}: missing column(s) {', '.join(missing)}; expected {', '.join(need)}")
    out: dict[str, tuple[list[int] | None, str]] = {}
    for line, row in enumerate(table.itertuples(index=False), 2):
        code = str(row.ipcc_code_2006).strip()
        target = str(row.eora26_sector).strip()
        rule = str(row.weight_rule).strip().lower()
        if rule not in _RULES:
            raise ReaderError(
                f"{where}, line {line}: unknown weight_rule {row.weight_rule!r}; expected one of {_RULES}"
            )
        if target == "final_demand_households":
            out[code] = (None, rule)
            continue
        try:
            sectors = [int(s) - 1 for s in target.split(";") if s.strip()]
        except ValueError:
            raise ReaderError(
                f"{where}, line {line}: eora26_sector {target!r} must be sector numbers 1-{S} separated by ';' "
                "or 'final_demand_households'"
            ) from None
        if not sectors or min(sectors) < 0 or max(sectors) >= S:
            raise ReaderError(f"{where}, line {line}: eora26_sector {target!r} is outside 1-{S}")
        if rule == "all" and len(sectors) != 1:
            raise ReaderError(f"{where}, line {line}: weight_rule 'all' needs one sector, got {target!r}")
        out[code] = (sectors, rule)
    return out


def _match(code: str, known: dict) -> str | None:
    """The mapping code equal to ``code`` or, failing that, its longest dotted prefix."""
    if code in known:
        return code
    best = None
    for k in known:
        if code.startswith(k + ".") and (best is None or len(k) > len(best)):
            best = k
    return best


def attach_edgar(mrio: MRIO, edgar: pd.DataFrame, *, mapping=None, name: str = "CH4") -> MRIO:
    """Replace an MRIO's stressor ``name`` by EDGAR emissions mapped to its sectors.

    Parameters
    ----------
    mrio : MRIO
        An Eora26-shaped table (the mapping's sector numbers are positions in
        ``mrio.sectors``, 1-based).
    edgar : pandas.DataFrame
        From :func:`read_edgar` (columns ``country``, ``ipcc_code``, ``value``).
    mapping : str, path-like or pandas.DataFrame, optional
        IPCC source -> Eora26 sector table with columns ``ipcc_code_2006``,
        ``eora26_sector`` (a sector number, several joined by ";", or
        ``final_demand_households``) and ``weight_rule`` ("all": one sector;
        "by gross output": split over the listed sectors in proportion to the
        country's gross output x in them, equally if they are all zero;
        "equal"). Default: the bundled ``edgar_ch4_to_eora26.csv``. An EDGAR code
        is matched exactly or by its longest dotted prefix in the mapping.
    name : str
        The stressor to add or replace (default "CH4").

    Returns
    -------
    MRIO
        With stressor ``name`` (unit from ``edgar.attrs``, else Gg; an existing
        stressor of that name is replaced and moves to the last position, as
        :meth:`MRIO.with_stressor` does): sources in F
        (k x n), household sources in F_Y at each country's household category.
        EDGAR ISO3 codes are translated to Eora's (:data:`EDGAR_TO_EORA`).
        Only the known gaps between EDGAR and Eora26 are accepted, each reported
        in a warning and in ``meta["edgar"]``: EDGAR countries Eora26 does not
        have (:data:`EDGAR_OUTSIDE_EORA26`, e.g. Kosovo; ``edgar_only`` with
        their totals, not attributed) and the table's ``ROW`` and ``USR``
        (:data:`TABLE_WITHOUT_EDGAR`; ``mrio_only``, zero). The total of the
        matched countries is conserved.

    Raises
    ------
    LabelError
        EDGAR sources with no mapping row (listed with their totals); any other
        country mismatch: an EDGAR country the table lacks (e.g. a world
        missing countries) or an unknown code, listed with their totals, or a
        table country with no EDGAR rows; a repeated (country, source,
        fossil/bio) row; a table without a household category where one is
        needed.
    ReaderError
        A malformed mapping.
    """
    need = {"country", "ipcc_code", "value"}
    if not isinstance(edgar, pd.DataFrame) or not need <= set(edgar.columns):
        raise LabelError(f"edgar must be a DataFrame from read_edgar with columns {sorted(need)}")
    table, where = _load_mapping(mapping)
    S, c, R = mrio.n_sectors, len(mrio.fd_categories), mrio.n_countries
    rules = _parse_mapping(table, where, S)

    keys = ["country", "ipcc_code"] + (["fossil_bio"] if "fossil_bio" in edgar.columns else [])
    df = edgar[keys + ["value"]].reset_index(drop=True)
    df["country"] = df["country"].astype(str).str.strip()
    df = df[~df["country"].isin(EDGAR_EXCLUDED)]
    labelled = df[keys].astype(str).apply(lambda column: column.str.strip())
    twice = labelled[labelled.duplicated(keys, keep=False)]
    if len(twice):
        shown = ", ".join(dict.fromkeys("/".join(map(str, r)) for r in twice[keys].itertuples(index=False)))
        raise LabelError(
            f"EDGAR table {edgar.attrs.get('source', '')}: repeated rows for one {'/'.join(keys)} "
            f"(each would be counted twice): {shown}"
        )
    df["eora"] = df["country"].map(lambda code: EDGAR_TO_EORA.get(code, code))
    df["rule"] = df["ipcc_code"].astype(str).str.strip().map(lambda code: _match(code, rules))
    unmapped = df[df["rule"].isna()]
    if len(unmapped):
        totals = unmapped.groupby("ipcc_code")["value"].sum()
        listing = ", ".join(f"{k} ({v:.6g})" for k, v in totals.items())
        raise LabelError(
            f"EDGAR sources with no row in the mapping ({where}): {listing}; add them to a mapping CSV "
            "(mapping=...) so that no emissions are lost"
        )
    pos = {code: i for i, code in enumerate(mrio.countries)}
    in_mrio = df["eora"].isin(pos)
    edgar_only = df[~in_mrio].groupby("country")["value"].sum().sort_index()
    matched = df[in_mrio]
    mrio_only = sorted(set(mrio.countries) - set(matched["eora"]))
    translated = sorted({f"{a}->{b}" for a, b in zip(matched["country"], matched["eora"]) if a != b})

    x = mrio.x.reshape(R, S)
    F = np.zeros((R, S))
    FY = np.zeros((R, c))
    hh = next((j for j, k in enumerate(mrio.fd_categories) if "household" in k.lower()), None)
    grid = matched.assign(r=matched["eora"].map(pos)).groupby(["rule", "r"])["value"].sum()
    for rule_code, block in grid.groupby(level=0):
        rows = block.index.get_level_values(1).to_numpy()
        amount = block.to_numpy()
        sectors, rule = rules[rule_code]
        if sectors is None:
            if hh is None:
                raise LabelError(
                    f"source {rule_code} goes to household final demand, but the table has no household "
                    f"category among {list(mrio.fd_categories)}"
                )
            np.add.at(FY[:, hh], rows, amount)
            continue
        if rule == "by gross output":
            w = x[np.ix_(rows, sectors)]
            total = w.sum(axis=1, keepdims=True)
            w = np.where(total > 0, w / np.where(total > 0, total, 1.0), 1.0 / len(sectors))
        else:  # "all" (one sector) or "equal"
            w = np.full((len(rows), len(sectors)), 1.0 / len(sectors))
        for k, s in enumerate(sectors):
            np.add.at(F[:, s], rows, amount * w[:, k])

    unknown = edgar_only[~edgar_only.index.isin(EDGAR_OUTSIDE_EORA26)]
    absent = [code for code in mrio_only if code not in TABLE_WITHOUT_EDGAR]
    if len(unknown) or absent:
        parts = []
        if len(unknown):
            listing = ", ".join(f"{k} ({v:.6g} Gg)" for k, v in unknown.items())
            parts.append(
                f"{len(unknown)} EDGAR countr{'y' if len(unknown) == 1 else 'ies'} not in the table, whose "
                f"{unknown.sum():.6g} Gg would not be attributed: {listing}"
            )
        if absent:
            parts.append(
                f"{len(absent)} table countr{'y' if len(absent) == 1 else 'ies'} with no EDGAR rows for the year "
                f"(give them rows, 0 where there is no emission): {', '.join(absent)}"
            )
        raise LabelError(
            f"attach_edgar: the EDGAR file {edgar.attrs.get('source', '')} and the table "
            f"{mrio.source} do not cover the same countries: " + "; ".join(parts)
        )
    report = {
        "source": edgar.attrs.get("source"),
        "year": edgar.attrs.get("year"),
        "substance": edgar.attrs.get("substance"),
        "mapping": where,
        "translated_codes": translated,
        "edgar_only": {k: float(v) for k, v in edgar_only.items()},
        "mrio_only": mrio_only,
        "excluded_pseudo_countries": dict(edgar.attrs.get("excluded", {})),
        "matched_total": float(matched["value"].sum()),
    }
    if len(edgar_only) or mrio_only:
        parts = []
        if len(edgar_only):
            parts.append(
                f"EDGAR countries outside Eora26 (their {edgar_only.sum():.6g} Gg are not attributed): "
                + ", ".join(edgar_only.index)
            )
        if mrio_only:
            parts.append(f"table countries EDGAR has no rows for by design (zero {name}): " + ", ".join(mrio_only))
        warnings.warn("attach_edgar: " + "; ".join(parts), UserWarning, stacklevel=2)
    ey = edgar.attrs.get("year")
    if ey is not None and mrio.year is not None and int(ey) != int(mrio.year):
        warnings.warn(f"attach_edgar: EDGAR year {ey} attached to a {mrio.year} table", UserWarning, stacklevel=2)
    out = mrio.with_stressor(name, F.ravel(), FY.ravel(), unit=str(edgar.attrs.get("unit", "Gg")))
    out.meta["edgar"] = report
    return out
