"""read_edgar / attach_edgar on files in EDGAR's published country x IPCC-2006 layout."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from edgar_layout import HEADER, YEARS

import mrioflow as mf
from mrioflow.errors import LabelError, MissingDataError, ReaderError
from mrioflow.io import attach_edgar, read_edgar

SOURCES = [  # (code, name, fossil_bio)
    ("1.A.1.a", "Main activity electricity and heat production", "fossil"),
    ("1.A.2", "Manufacturing industries and construction", "fossil"),
    ("1.A.4", "Residential and other sectors", "bio"),
    ("1.B.2", "Fugitive emissions from oil and natural gas", "fossil"),
    ("3.A.1", "Enteric fermentation", "bio"),
    ("3.C.7", "Rice cultivation", "bio"),
    ("4.A", "Solid waste disposal", "bio"),
]
COUNTRY_ROWS = [  # EDGAR ISO3 codes: SDN/SSD are Eora's SUD/SDS; XKX has no Eora country
    ("AFG", "Afghanistan"),
    ("SDN", "Sudan"),
    ("SSD", "South Sudan"),
    ("CHN", "China"),
    ("XKX", "Kosovo"),
    ("AIR", "International Aviation"),
    ("SEA", "International Shipping"),
]


def _edgar_rows(seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for code, name in COUNTRY_ROWS:
        for src, sname, fb in SOURCES:
            if code in ("AIR", "SEA") and src != "1.A.1.a":
                continue
            vals = rng.gamma(1.0, 50.0, len(YEARS))
            vals[rng.random(len(YEARS)) < 0.1] = np.nan  # EDGAR leaves some cells empty
            rows.append(["Non-Annex_I", "Rest", code, name, src, sname, "CH4", fb, *vals])
    rows.append(
        [
            "Non-Annex_I",
            "Rest",
            "CHN",
            "China",
            "1.A.1.a",
            "Main activity",
            "N2O",
            "fossil",
            *rng.gamma(1.0, 5.0, len(YEARS)),
        ]
    )
    return pd.DataFrame(rows, columns=HEADER)


def _title_block():
    return [
        ["Emissions Database for Global Atmospheric Research"],
        ["EDGAR v8.0 CH4"],
        ["Gg"],
        [],
        ["Country x IPCC 2006 source"],
        [],
        [],
        [],
        [],
    ]


@pytest.fixture
def edgar_table():
    return _edgar_rows()


@pytest.fixture
def edgar_xlsx(tmp_path, edgar_table):
    return _write_xlsx(tmp_path / "EDGAR_CH4_1970_2022.xlsx", edgar_table, _totals(edgar_table))


def _totals(table):
    """The "TOTALS BY COUNTRY" sheet EDGAR ships: per country and substance, the sum over sources
    (empty where every source is empty)."""
    years = [f"Y_{y}" for y in YEARS]
    keys = ["IPCC_annex", "C_group_IM24_sh", "Country_code_A3", "Name", "Substance"]
    return table.groupby(keys, sort=False)[years].sum(min_count=1).reset_index()


def _write_xlsx(p, table, totals):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "TOTALS BY COUNTRY"
    for sheet, frame in ((wb.active, totals), (wb.create_sheet("IPCC 2006"), table)):
        for r in _title_block():  # rows 1-9
            sheet.append(r)
        sheet.append(list(frame.columns))  # row 10
        for row in frame.itertuples(index=False):
            sheet.append([None if isinstance(v, float) and np.isnan(v) else v for v in row])
    wb.save(p)
    return p


def _write_csv(path, table, title=True):
    lines = [",".join(r) for r in _title_block()] if title else []
    body = table.to_csv(index=False, na_rep="")
    path.write_text("\n".join(lines) + ("\n" if lines else "") + body)
    return path


@pytest.fixture
def edgar_csv(tmp_path, edgar_table):
    return _write_csv(tmp_path / "EDGAR_CH4_1970_2022.csv", edgar_table)


def test_read_xlsx_and_csv_agree(edgar_xlsx, edgar_csv, edgar_table):
    a = read_edgar(edgar_xlsx, year=2013)
    b = read_edgar(edgar_csv, year=2013)
    assert list(a.columns) == ["country", "country_name", "ipcc_code", "ipcc_name", "fossil_bio", "value"]
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-15)
    expect = edgar_table[(edgar_table.Substance == "CH4") & ~edgar_table.Country_code_A3.isin(["AIR", "SEA"])]
    blank = expect["Y_2013"].isna()
    assert blank.sum() > 0 and a.attrs["missing"] == blank.sum() + 0  # empty cells: missing, never 0
    np.testing.assert_allclose(a["value"].to_numpy(), expect.loc[~blank, "Y_2013"].to_numpy(), rtol=1e-15)
    assert a.attrs["totals_checked"] and not b.attrs["totals_checked"]
    assert a.attrs["unit"] == "Gg" and a.attrs["year"] == 2013 and a.attrs["substance"] == "CH4"
    assert not a["country"].isin(["AIR", "SEA"]).any()
    assert set(a.attrs["excluded"]) == {"AIR", "SEA"}
    n2o = read_edgar(edgar_csv, substance="N2O", year=2013)
    assert len(n2o) == 1 and n2o["country"].tolist() == ["CHN"]


def test_unknown_year_lists_the_years(edgar_xlsx, edgar_csv):
    for p in (edgar_xlsx, edgar_csv):
        with pytest.raises(
            MissingDataError, match=r"no column Y_2030: year 2030 is not in this EDGAR file; years available: 1970-2022"
        ):
            read_edgar(p, year=2030)


def test_edgar_errors(tmp_path, edgar_table, edgar_csv):
    with pytest.raises(MissingDataError, match="EDGAR file not found"):
        read_edgar(tmp_path / "none.xlsx", year=2013)
    with pytest.raises(ReaderError, match=r"no rows for substance 'CO2'; the file has CH4, N2O"):
        read_edgar(edgar_csv, substance="CO2", year=2013)
    bad = edgar_table.copy().astype({"Y_2013": object})
    bad.loc[3, "Y_2013"] = "n/a"
    p = _write_csv(tmp_path / "bad.csv", bad)
    with pytest.raises(ReaderError, match=r"bad.csv: non-numeric value 'n/a' in column Y_2013, row 14"):
        read_edgar(p, year=2013)
    p = _write_csv(tmp_path / "cols.csv", edgar_table.drop(columns=["fossil_bio"]))
    with pytest.raises(ReaderError, match=r"cols.csv: missing column\(s\) fossil_bio"):
        read_edgar(p, year=2013)
    (tmp_path / "plain.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ReaderError, match="no header row with 'Country_code_A3'"):
        read_edgar(tmp_path / "plain.csv", year=2013)
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "Sheet1"
    wb.save(tmp_path / "wrong.xlsx")
    with pytest.raises(ReaderError, match=r"no sheet 'IPCC 2006'; the workbook has Sheet1"):
        read_edgar(tmp_path / "wrong.xlsx", year=2013)


# -- attach_edgar -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world():
    return mf.datasets.synthetic(year=2013, seed=5, countries=["AFG", "SUD", "SDS", "USR", "CHN", "ROW"])


def _attach(world, edgar, **kw):
    with pytest.warns(UserWarning, match="attach_edgar") as rec:
        out = attach_edgar(world, edgar, **kw)
    return out, " ".join(str(w.message) for w in rec)


def test_attach_conserves_and_reports(world, edgar_csv):
    edgar = read_edgar(edgar_csv, year=2013)
    out, msg = _attach(world, edgar)
    assert "EDGAR countries outside Eora26 (their" in msg and "XKX" in msg
    assert "table countries EDGAR has no rows for by design (zero CH4): ROW, USR" in msg
    rep = out.meta["edgar"]
    assert list(rep["edgar_only"]) == ["XKX"] and rep["mrio_only"] == ["ROW", "USR"]
    assert rep["translated_codes"] == ["SDN->SUD", "SSD->SDS"]
    # conservation of the matched countries' total, through the split
    matched = edgar[edgar.country != "XKX"]["value"].sum()
    k = out.stressor_position("CH4")
    total = out.F[k].sum() + out.F_Y[k].sum()
    assert total == pytest.approx(matched, rel=1e-12)
    assert rep["matched_total"] == pytest.approx(matched, rel=1e-15)
    # per country too, under Eora's codes
    S, c = out.n_sectors, len(out.fd_categories)
    per = out.F[k].reshape(-1, S).sum(axis=1) + out.F_Y[k].reshape(-1, c).sum(axis=1)
    for code, eora in (("AFG", "AFG"), ("SDN", "SUD"), ("SSD", "SDS"), ("CHN", "CHN")):
        expect = edgar.loc[edgar.country == code, "value"].sum()
        assert per[out.countries.index(eora)] == pytest.approx(expect, rel=1e-12)
    assert per[out.countries.index("USR")] == 0 and per[out.countries.index("ROW")] == 0
    assert out.units[k] == "Gg"
    # the other stressor is untouched
    np.testing.assert_array_equal(out.F[out.stressor_position("VA")], world.F[world.stressor_position("VA")])


def test_attach_sends_sources_to_sectors(world, edgar_csv):
    edgar = read_edgar(edgar_csv, year=2013)
    out, _ = _attach(world, edgar)
    k, S, c = out.stressor_position("CH4"), out.n_sectors, len(out.fd_categories)
    F = out.F[k].reshape(-1, S)
    FY = out.F_Y[k].reshape(-1, c)
    r = out.countries.index("SUD")
    val = edgar.set_index(["country", "ipcc_code"])["value"]
    # households (1.A.4) -> F_Y at the household category, nothing else in F_Y
    assert FY[r, 0] == pytest.approx(val[("SDN", "1.A.4")], rel=1e-15)
    assert not FY[:, 1:].any()
    # 1.A.1.a -> sector 13 (Electricity, Gas and Water); 3.A.1 + 3.C.7 -> sector 1 (Agriculture)
    assert F[r, 12] == pytest.approx(val[("SDN", "1.A.1.a")], rel=1e-15)
    assert F[r, 0] == pytest.approx(val[("SDN", "3.A.1")] + val[("SDN", "3.C.7")], rel=1e-15)
    # 1.A.2 split over sectors 4-11 and 14 in proportion to gross output
    secs = [3, 4, 5, 6, 7, 8, 9, 10, 13]
    x = world.x.reshape(-1, S)[world.countries.index("SUD"), secs]
    # (sector 7 would also get 1.A.1.bc, which the fixture does not have)
    np.testing.assert_allclose(F[r, secs], val[("SDN", "1.A.2")] * x / x.sum(), rtol=1e-12)


def test_zero_output_sectors_split_equally(world, edgar_csv):
    edgar = read_edgar(edgar_csv, year=2013)
    S = world.n_sectors
    r = world.countries.index("CHN")
    secs = [3, 4, 5, 6, 7, 8, 9, 10, 13]
    rows = [r * S + s for s in secs]
    Z, Y = world.Z.copy(), world.Y.copy()
    Z[rows, :] = 0.0
    Z[:, rows] = 0.0
    Y[rows, :] = 0.0
    w = world.replace(Z=Z, Y=Y)
    assert not w.x[rows].any()
    chn = (edgar.country == "CHN") & (edgar.ipcc_code == "1.A.2")  # one value of CHN for source 1.A.2
    edgar = pd.concat(
        [edgar[~chn], pd.DataFrame([{"country": "CHN", "ipcc_code": "1.A.2", "value": 7.5}])], ignore_index=True
    )
    out, _ = _attach(w, edgar)
    F = out.F[out.stressor_position("CH4")].reshape(-1, S)
    np.testing.assert_allclose(F[r, secs], 7.5 / len(secs), rtol=1e-14)


def test_mapping_override_and_prefix_match(world, edgar_table, tmp_path):
    t = edgar_table.copy()
    t.loc[t.ipcc_code_2006_for_standard_report == "3.A.1", "ipcc_code_2006_for_standard_report"] = "3.A.1.a"
    edgar = read_edgar(_write_csv(tmp_path / "e.csv", t), year=2013)
    mapping = pd.DataFrame(
        {
            "ipcc_code_2006": ["1.A.1.a", "1.A.2", "1.A.4", "1.B.2", "3.A", "3.C.7", "4.A"],
            "description": [""] * 7,
            "eora26_sector": ["13", "4;5", "final_demand_households", "3", "2", "1", "23"],
            "weight_rule": ["all", "equal", "all", "all", "all", "all", "all"],
        }
    )
    for m in (mapping, _write_mapping(tmp_path / "map.csv", mapping)):
        out, _ = _attach(world, edgar, mapping=m, name="CH4_edgar")
        assert out.stressors[-1] == "CH4_edgar" and "CH4" in out.stressors
        F = out.F[-1].reshape(-1, out.n_sectors)
        r = out.countries.index("AFG")
        val = edgar.set_index(["country", "ipcc_code"])["value"]
        assert F[r, 1] == pytest.approx(val[("AFG", "3.A.1.a")], rel=1e-15)  # via prefix 3.A -> Fishing
        assert F[r, 3] == pytest.approx(val[("AFG", "1.A.2")] / 2, rel=1e-15)
        assert out.meta["edgar"]["mapping"] in ("user DataFrame", str(tmp_path / "map.csv"))


def _write_mapping(path, df):
    df.to_csv(path, index=False)
    return path


def test_unmapped_source_is_an_error(world, edgar_table, tmp_path):
    t = edgar_table.copy()
    t.loc[0, "ipcc_code_2006_for_standard_report"] = "9.Z"
    edgar = read_edgar(_write_csv(tmp_path / "e.csv", t), year=2013)
    with pytest.raises(
        LabelError, match=r"EDGAR sources with no row in the mapping \(bundled edgar_ch4_to_eora26.csv\): 9.Z \("
    ):
        attach_edgar(world, edgar)


def test_bad_mapping(world, edgar_csv, tmp_path):
    edgar = read_edgar(edgar_csv, year=2013)
    bad = pd.DataFrame({"ipcc_code_2006": ["1.A.2"], "eora26_sector": ["4;5"], "weight_rule": ["all"]})
    with pytest.raises(ReaderError, match=r"weight_rule 'all' needs one sector, got '4;5'"):
        attach_edgar(world, edgar, mapping=bad)
    bad = pd.DataFrame({"ipcc_code_2006": ["1.A.2"], "eora26_sector": ["27"], "weight_rule": ["all"]})
    with pytest.raises(ReaderError, match=r"eora26_sector '27' is outside 1-26"):
        attach_edgar(world, edgar, mapping=bad)
    with pytest.raises(MissingDataError, match="EDGAR mapping file not found"):
        attach_edgar(world, edgar, mapping=tmp_path / "nope.csv")


def test_year_mismatch_warns(world, edgar_csv):
    edgar = read_edgar(edgar_csv, year=2000)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        attach_edgar(world, edgar)
    assert any("EDGAR year 2000 attached to a 2013 table" in str(w.message) for w in rec)


def test_attach_to_an_eora_read(tmp_path, edgar_xlsx):
    """The whole path: Eora26 files -> MRIO -> EDGAR methane replaces Eora's own."""
    from io_fixtures import write_eora_files

    f = write_eora_files(tmp_path / "eora")
    m = mf.io.read_eora26(f.folder, 2013, cache=False)
    edgar = read_edgar(edgar_xlsx, year=2013)
    out, msg = _attach(m, edgar)
    assert "XKX" in msg and out.stressors == ("VA", "CH4")
    matched = edgar[edgar.country != "XKX"]["value"].sum()
    assert out.F[1].sum() + out.F_Y[1].sum() == pytest.approx(matched, rel=1e-12)


# -- EDGAR as released: empty cells, invalid values, the totals sheet, bad mappings ---------------


@pytest.mark.parametrize("value, kind", [(-3.5, "negative"), ("inf", "non-finite"), ("nan", "non-finite")])
def test_negative_or_non_finite_values_are_errors(tmp_path, edgar_table, value, kind):
    from mrioflow.errors import InvalidValueError

    bad = edgar_table.astype({"Y_2013": object})
    i = int(np.flatnonzero((bad.Country_code_A3 == "CHN") & (bad.ipcc_code_2006_for_standard_report == "3.C.7"))[0])
    bad.loc[i, "Y_2013"] = value
    line = 11 + i  # title rows 1-9, header on row 10
    want = (
        rf"row {line}: {kind} value {value} for country CHN \(China\), sector 3.C.7 \(Rice cultivation\), "
        rf"year 2013; EDGAR emissions are numbers >= 0"
    )
    for p in (_write_csv(tmp_path / "bad.csv", bad), _write_xlsx(tmp_path / "bad.xlsx", bad, _totals(edgar_table))):
        with pytest.raises(InvalidValueError, match=rf"{p.name}, " + want):
            read_edgar(p, year=2013)
    assert len(read_edgar(_write_csv(tmp_path / "ok.csv", bad), year=2012)) > 0  # other years read


def test_totals_sheet_cross_check_warns_naming_the_countries(tmp_path, edgar_table):
    totals = _totals(edgar_table)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # totals that agree: no warning
        assert read_edgar(_write_xlsx(tmp_path / "ok.xlsx", edgar_table, totals), year=2013).attrs["totals_checked"]
    off = totals.copy()
    chn = (off.Country_code_A3 == "CHN") & (off.Substance == "CH4")
    off.loc[chn, "Y_2013"] *= 1.002  # 0.2 %: more than 0.1 %
    afg = (off.Country_code_A3 == "AFG") & (off.Substance == "CH4")
    off.loc[afg, "Y_2013"] *= 1.0005  # 0.05 %: within 0.1 %
    with pytest.warns(
        UserWarning,
        match=r"off.xlsx: 1 country total\(s\) of CH4 in 2013 differ by more than 0.1 % "
        r"between the sheets: CHN \(",
    ):
        read_edgar(_write_xlsx(tmp_path / "off.xlsx", edgar_table, off), year=2013)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "the EDGAR mapping is empty"),
        (b"  \n\n", "the EDGAR mapping is empty"),
        (b"PK\x03\x04\x00\x00binary", "the EDGAR mapping is a binary file, not text"),
        (b"\xff\xfe\xfa garbage", "cannot read the EDGAR mapping \\(UnicodeDecodeError"),
    ],
)
def test_empty_or_binary_mapping_is_one_line(world, edgar_csv, tmp_path, content, message):
    m = tmp_path / "mapping.csv"
    m.write_bytes(content)
    edgar = read_edgar(edgar_csv, year=2013)
    with pytest.raises(ReaderError, match=rf"mapping.csv: {message}.*expected a CSV with the columns ipcc_code_2006"):
        attach_edgar(world, edgar, mapping=m)


# -- issue 19 (11): country mismatches and repeated rows are errors, in run, mc and sweep alike -------------


def test_edgar_country_the_table_lacks_is_an_error(edgar_csv):
    edgar = read_edgar(edgar_csv, year=2013)
    missing_china = mf.datasets.synthetic(year=2013, seed=5, countries=["AFG", "SUD", "SDS", "USR", "ROW"])
    china = edgar.loc[edgar.country == "CHN", "value"].sum()
    with pytest.raises(
        LabelError,
        match=rf"attach_edgar: the EDGAR file .*EDGAR_CH4_1970_2022.csv and the table .* do not cover the same "
        rf"countries: 1 EDGAR country not in the table, whose {china:.6g} Gg would not be attributed: "
        rf"CHN \({china:.6g} Gg\)$",
    ):
        attach_edgar(missing_china, edgar)


def test_unknown_edgar_code_is_an_error(edgar_table, tmp_path, world):
    t = edgar_table.copy()
    t.loc[t["Country_code_A3"] == "CHN", "Country_code_A3"] = "CHX"  # a code no country has
    edgar = read_edgar(_write_csv(tmp_path / "e.csv", t), year=2013)
    with pytest.raises(
        LabelError,
        match=r"1 EDGAR country not in the table, whose .* Gg would not be attributed: CHX \(.*; 1 table "
        r"country with no EDGAR rows for the year \(give them rows, 0 where there is no emission\): CHN$",
    ):
        attach_edgar(world, edgar)


def test_table_country_without_edgar_rows_is_an_error(edgar_table, tmp_path, world):
    t = edgar_table[edgar_table["Country_code_A3"] != "AFG"]
    edgar = read_edgar(_write_csv(tmp_path / "e.csv", t), year=2013)
    with pytest.raises(LabelError, match=r"1 table country with no EDGAR rows for the year .*: AFG$"):
        attach_edgar(world, edgar)


def test_repeated_edgar_row_is_an_error(edgar_table, edgar_csv, tmp_path, world):
    t = pd.concat([edgar_table, edgar_table.iloc[[3]]], ignore_index=True)  # AFG, 1.B.2, fossil twice
    with pytest.raises(
        LabelError,
        match=r"e.csv: 1 repeated row\(s\) for one country, source and fossil/bio \(each would be counted twice\); "
        rf"first: country AFG, source 1.B.2, fossil on rows 14, {10 + len(t)}$",
    ):
        read_edgar(_write_csv(tmp_path / "e.csv", t), year=2013)
    edgar = read_edgar(edgar_csv, year=2013)
    twice = pd.concat([edgar, edgar.iloc[[0]]], ignore_index=True)
    twice.attrs = dict(edgar.attrs)
    with pytest.raises(
        LabelError, match=r"repeated rows for one country/ipcc_code/fossil_bio \(each would be counted twice\): AFG/"
    ):
        attach_edgar(world, twice)


def _cli(*argv):
    import contextlib
    import io

    from mrioflow.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:
            code = exc.code
    return code, err.getvalue()


@pytest.mark.parametrize(
    "command",
    [
        ["run", "--years", "2021"],
        ["mc", "--year", "2021", "--samples", "4", "--intensities", "0.1"],
        ["sweep", "--years", "2021"],
    ],
    ids=["run", "mc", "sweep"],
)
def test_run_mc_and_sweep_refuse_a_world_missing_edgar_countries(tmp_path, command):
    world = mf.datasets.synthetic(2021, countries=["AFG", "IND", "PAK", "ROW"])
    mf.io.write_eora26(world, tmp_path / "eora", 2021, zip=True)
    rows = [
        ["Non-Annex_I", "Rest", code, code, src, src, "CH4", "bio", *np.full(len(YEARS), 10.0)]
        for code in ["AFG", "IND", "PAK", "CHN"]  # China: not in the table
        for src in ["3.A.1", "1.A.4"]
    ]
    (tmp_path / "edgar.csv").write_text("\n" * 9 + pd.DataFrame(rows, columns=HEADER).to_csv(index=False))
    code, err = _cli(
        *command, "--data", tmp_path / "eora", "--edgar", tmp_path / "edgar.csv", "--backend", "numpy", "-q",
        "-o", tmp_path / "out",
    )  # fmt: skip
    assert code == 1, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("mrioflow: error: attach_edgar: the EDGAR file "), err
    assert lines[0].endswith(
        "do not cover the same countries: 1 EDGAR country not in the table, whose 20 Gg would not be attributed: "
        "CHN (20 Gg)"
    ), err
