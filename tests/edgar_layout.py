"""The column layout of EDGAR's country x IPCC-2006 source files (sheet "IPCC 2006", header on row
10; METHOD section 8, docs/method.md), shared by the tests that write such files."""

YEARS = list(range(1970, 2023))
HEADER = [
    "IPCC_annex",
    "C_group_IM24_sh",
    "Country_code_A3",
    "Name",
    "ipcc_code_2006_for_standard_report",
    "ipcc_code_2006_for_standard_report_name",
    "Substance",
    "fossil_bio",
    *[f"Y_{y}" for y in YEARS],
]
