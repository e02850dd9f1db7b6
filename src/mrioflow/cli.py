"""The mrioflow command line: a thin layer over the public API.

``mrioflow --help`` lists the subcommands. Each subcommand is one
``add_*_parser`` function registering its options and a handler; the handler
parses nothing itself, calls the package, and prints. Errors become one line
on stderr ("mrioflow: error: ...") and a non-zero exit code, never a
traceback (``--traceback`` shows it, for debugging).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
import warnings
from pathlib import Path

from . import __version__
from .errors import MrioflowError, OptionError

__all__ = ["build_parser", "main"]

PROG = "mrioflow"


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line, like every other error."""

    def error(self, message):
        self.exit(2, f"{PROG}: error: {message} (see '{self.prog} --help')\n")


def _err(msg: str) -> None:
    print(f"{PROG}: error: {' '.join(str(msg).split())}", file=sys.stderr)


# -- run --------------------------------------------------------------------------------------

RUN_EPILOG = """\
With no options: the synthetic world (made-up numbers, labelled as such
everywhere) for 2013 and 2021, the 62 Belt and Road countries in 9 regions,
CH4 and value added, backend auto, output folder ./mrioflow-output.

examples:
  mrioflow run
  mrioflow run --data ~/data/eora26 --years 2013 2021 -o bri-results
  mrioflow run --data my_pymrio_folder --format pymrio
  mrioflow run --data ~/data/eora26 --edgar EDGAR_CH4_1970_2022.xlsx --years 2021
  mrioflow run --config study.toml --convention victim_row
"""


SATELLITE_HELP = (
    "analyse these Eora26 satellite rows (labels_Q.txt) as stressor NAME instead of methane: "
    "PATTERN matches the indicator, or 'INDICATOR | CATEGORY' both, e.g. 'CO2=I-GHG-CO2' or "
    "'N2O_soils=I-GHG-N2O | Agricultural soils' (Memo rows excluded)"
)


PRECISION_HELP = (
    "double (default): the LU in float64; mixed: the LU in float32, every solve refined in float64 "
    "to a backward error of 1e-15 (float64 accuracy), falling back to the float64 LU when it stalls"
)


def _code_group(text: str) -> tuple[str, str]:
    code, sep, group = text.partition("=")
    if not sep or not code.strip() or not group.strip():
        raise argparse.ArgumentTypeError(f"expected CODE=GROUP (e.g. 'WA=South Asia'), got {text!r}")
    return code.strip(), group.strip()


def add_run_parser(sub) -> None:
    p = sub.add_parser(
        "run",
        help="the whole methane-inequality analysis: tables, figures and an HTML report",
        description="Run the Belt-and-Road methane-inequality analysis (the method: docs/method.md in "
        "the mrioflow repository) and write tables (CSV + Parquet), figures (PNG), provenance.json and "
        "report.html to the output folder.",
        epilog=RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    data = p.add_argument_group("data (default: the synthetic world)")
    _add_source_options(data)
    data.add_argument("--years", metavar="YEAR", nargs="+", type=int, help="years to analyse (default: 2013 2021)")
    data.add_argument(
        "--edgar",
        metavar="FILE",
        help="EDGAR CH4 file: replace the table's methane by EDGAR's, mapped to the Eora26 sectors",
    )
    data.add_argument(
        "--edgar-mapping",
        dest="edgar_mapping",
        metavar="CSV",
        help="EDGAR source -> Eora26 sector mapping (default: the bundled edgar_ch4_to_eora26.csv)",
    )
    data.add_argument("--price", metavar="BASIS", help="Eora26 price basis: bp (default) or pp")
    data.add_argument(
        "--no-cache",
        dest="cache",
        action="store_const",
        const=False,
        help="do not read or write the Eora26 cache of parsed years",
    )
    data.add_argument("--stressor", metavar="NAME", help="stressor analysed (default: CH4)")
    data.add_argument("--satellite", metavar="NAME=PATTERN", help=SATELLITE_HELP)
    data.add_argument(
        "--value-added", dest="value_added", metavar="NAME", help="stressor holding value added (default: VA)"
    )
    data.add_argument("--seed", type=int, help="seed of the synthetic world (default: 0)")
    data.add_argument("--synthetic-countries", dest="synthetic_countries", type=int, help=argparse.SUPPRESS)

    idx = p.add_argument_group("grouping and index options (docs/method.md sections 4-7)")
    idx.add_argument(
        "--groups",
        metavar="CSV",
        help="grouping CSV: an iso3 column and a group column (default: the 62 BRI countries in 9 regions)",
    )
    idx.add_argument(
        "--group-column", dest="group_column", metavar="NAME", help="the group column of --groups (default: detected)"
    )
    idx.add_argument(
        "--aggregate-region",
        dest="aggregate_regions",
        metavar="CODE=GROUP",
        action="append",
        type=_code_group,
        help="count a database's whole aggregate region as a member of GROUP, e.g. 'WA=South Asia' for "
        "EXIOBASE's RoW Asia and Pacific (repeatable; default: countries inside it are reported as unresolved)",
    )
    idx.add_argument(
        "--convention", metavar="NAME", help="BMI convention: printed (default), victim_row, beneficiary_row"
    )
    idx.add_argument(
        "--norm-set",
        dest="norm_set",
        metavar="NAME",
        help="normalise over: all (every country of the table, default) or scope (the grouping's countries)",
    )
    idx.add_argument("--norm-sign", dest="norm_sign", metavar="NAME", help="normalise: signed (default) or abs values")
    idx.add_argument(
        "--norm-quantiles",
        dest="norm_quantiles",
        metavar=("LO", "HI"),
        nargs=2,
        type=float,
        help="robust normalisation: min and max at these quantiles, clipped into [0, 1] "
        "(e.g. 0.05 0.95; default 0 1: the literal min-max)",
    )

    run = p.add_argument_group("running")
    run.add_argument(
        "--backend", metavar="NAME", help="auto (default: cupy if a GPU is usable), numpy, cupy, array_api_strict"
    )
    run.add_argument("--precision", metavar="NAME", help=PRECISION_HELP)
    run.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        help="output folder (default: ./mrioflow-output); "
        "written whole when the run completes, a non-empty folder is refused",
    )
    run.add_argument(
        "--overwrite",
        action="store_const",
        const=True,
        help="replace the output folder when it holds an earlier mrioflow run (only once this run is complete)",
    )
    run.add_argument("--config", metavar="TOML", help="configuration file holding these settings (flags override it)")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bar, only the final summary")
    run.add_argument(
        "--traceback", action="store_true", default=argparse.SUPPRESS, help="show the full traceback on errors"
    )
    p.set_defaults(handler=_run)


def _run(args) -> int:
    from .analysis import Settings, load_config
    from .analysis import run as run_analysis
    from .analysis.output import check_not_inside
    from .analysis.settings import ALIASES

    config = load_config(args.config) if args.config else {}
    overrides = {k: getattr(args, k, None) for k in (*Settings.keys(), *ALIASES)}
    if overrides.get("aggregate_regions"):
        overrides["aggregate_regions"] = dict(overrides["aggregate_regions"])
    settings = Settings.build(config, overrides)
    check_not_inside(settings.output, settings.data)

    def log(msg: str) -> None:  # warnings are shown even with --quiet
        if not args.quiet or msg.startswith("warning"):
            print(msg, file=sys.stderr)

    t0 = time.perf_counter()
    summary = run_analysis(settings, progress=not args.quiet, log=log, argv=args.argv)
    elapsed = time.perf_counter() - t0
    years = ", ".join(map(str, summary.years))
    print(f"wrote {len(summary.files)} files for {years} to {summary.output} in {elapsed:.1f} s")
    print(f"report: {summary.output / 'report.html'}")
    if summary.synthetic:
        print("note: SYNTHETIC DATA - not real (the mrioflow synthetic world); use --data for real data")
    return 0


# -- shared options of run, mc and sweep ---------------------------------------------------------


def _add_source_options(data) -> None:
    data.add_argument(
        "--data",
        metavar="PATH",
        action="append",
        help="the data: any source 'mrioflow.io.read' opens, e.g. a folder of yearly Eora26 files "
        "or one zip, a pymrio folder, a .mfcache file (repeat for several one-table sources)",
    )
    data.add_argument(
        "--format",
        metavar="NAME",
        help="the reader of --data: eora26, pymrio, cache, synthetic or a plugin's (default: recognised from the path)",
    )
    data.add_argument("--eora26", metavar="PATH", help="Eora26 data (= --data PATH --format eora26)")
    data.add_argument(
        "--pymrio",
        metavar="FOLDER",
        action="append",
        help="a pymrio folder (= --data FOLDER --format pymrio; repeatable)",
    )


def _add_data_options(p, *, years: bool) -> None:
    data = p.add_argument_group("data (default: the synthetic world)")
    _add_source_options(data)
    if years:
        data.add_argument("--years", metavar="YEAR", nargs="+", type=int, required=True, help="years to run")
    else:
        data.add_argument("--year", type=int, default=2013, help="year (default: 2013)")
    data.add_argument("--edgar", metavar="FILE", help="EDGAR CH4 file replacing the table's methane")
    data.add_argument(
        "--edgar-mapping",
        dest="edgar_mapping",
        metavar="CSV",
        help="EDGAR source -> Eora26 sector mapping (default: the bundled one)",
    )
    data.add_argument(
        "--stressor",
        metavar="NAME",
        action="append",
        help="stressor to keep (repeatable; default: every stressor of the table)",
    )
    data.add_argument("--satellite", metavar="NAME=PATTERN", help=SATELLITE_HELP.replace(" instead of methane", ""))
    data.add_argument("--seed-world", dest="world_seed", type=int, help="seed of the synthetic world (default: 0)")
    data.add_argument("--synthetic-countries", dest="synthetic_countries", type=int, help=argparse.SUPPRESS)
    run = p.add_argument_group("running")
    run.add_argument("--backend", default="auto", help="auto (default), numpy, cupy, array_api_strict")
    run.add_argument("--dtype", default="float64", help="float64 (default) or float32")
    run.add_argument("--precision", default="double", choices=["double", "mixed"], help=PRECISION_HELP)
    run.add_argument(
        "--scheduler",
        metavar="NAME|ADDRESS",
        type=_scheduler,
        help="Dask scheduler: threads, processes, or a scheduler address tcp://host:8786 "
        "(default: run here, one task after the other)",
    )
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    run.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the output folder when it holds an earlier mrioflow output of this command "
        "(only once this run is complete)",
    )
    run.add_argument("--traceback", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def _scheduler(value: str) -> str:
    """A --scheduler value: a local scheduler's name, or a Dask scheduler address."""
    from .ensembles.tasks import SCHEDULER_NAMES, check_scheduler

    try:
        check_scheduler(value)
    except OptionError:
        raise argparse.ArgumentTypeError(
            f"unknown scheduler {value!r}: choose {', '.join(SCHEDULER_NAMES)}, or a scheduler address like "
            "tcp://host:8786"
        ) from None
    return value


def _source(args):
    """The data source of mc and sweep as Settings (the same aliases as run); one source only."""
    from .analysis.settings import Settings

    source = {"data": args.data, "eora26": args.eora26, "pymrio": args.pymrio, "format": args.format}
    settings = Settings.build(None, source)
    if len(settings.data) > 1:
        raise OptionError(f"{args.command} reads one data source, got {len(settings.data)}: {list(settings.data)}")
    return settings


def _loader(args):
    from ._checks import check_seed
    from .analysis.studies import loader

    if args.world_seed is not None:
        check_seed(args.world_seed, "--seed-world")
    settings = _source(args)
    options = {k: v for k, v in (("seed", args.world_seed), ("n_countries", args.synthetic_countries)) if v is not None}
    return loader(
        data=settings.data[0] if settings.data else None,
        format=settings.format,
        options=options,
        edgar=args.edgar,
        edgar_mapping=args.edgar_mapping,
        stressor=args.stressor[0] if args.stressor else "CH4",
        satellite=args.satellite,
    )


def _provenance(args, command: str, years) -> dict:
    """Check the output folder and hash the inputs before any work (fails fast)."""
    from .analysis import provenance
    from .analysis.output import check_not_inside, check_target
    from .io.eora26 import satellite_option

    check_target(args.output, kind=command, overwrite=args.overwrite)
    settings = {k: v for k, v in vars(args).items() if k not in ("handler", "argv")}
    source = _source(args)
    check_not_inside(args.output, source.data)
    if args.satellite is not None:
        satellite_option(args.satellite)  # a malformed option fails here, before any folder is made
    return provenance.study(
        command,
        args.argv,
        settings,
        data=source.data_sources(),
        years=years,
        options=source.reader_options(),
        edgar=args.edgar,
        edgar_mapping=args.edgar_mapping,
        groups=getattr(args, "groups", None),
    )


def _report_written(files, out) -> None:
    print(f"wrote {len(files)} files to {out}")


# -- mc -----------------------------------------------------------------------------------------


def add_mc_parser(sub) -> None:
    p = sub.add_parser(
        "mc",
        help="a Monte Carlo ensemble of the accounts (lognormal perturbations, docs/method.md section 10)",
        description="Propagate uncertainty by Monte Carlo: lognormal perturbations (median = nominal) of "
        "the intensities, direct emissions, final demand and/or transactions. Writes, per stressor, the "
        "summary of PBA, CBA and net by country (nominal, mean, std, quantiles), P(net < 0), every "
        "sample, a figure and provenance.json. Finished batches are kept beside the output, in "
        "OUTPUT.batches: rerunning the same command resumes an interrupted ensemble.",
        epilog="examples:\n  mrioflow mc --samples 2000 --intensities 0.3 --final-demand 0.1\n"
        "  mrioflow mc --data ~/data/eora26 --year 2021 --transactions 0.05 --scheduler tcp://head:8786",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_data_options(p, years=False)
    mc = p.add_argument_group("ensemble (relative standard deviations; default: --intensities 0.3)")
    mc.add_argument("--samples", type=int, default=1000, help="number of samples (default: 1000)")
    mc.add_argument("--intensities", type=_rsd, metavar="RSD", help="stressor intensities S (a number or a CSV)")
    mc.add_argument("--direct", type=float, metavar="RSD", help="direct final-demand emissions F_Y")
    mc.add_argument(
        "--final-demand", dest="final_demand", type=_rsd, metavar="RSD", help="final demand Y (a number or a CSV)"
    )
    mc.add_argument(
        "--transactions", type=_rsd, metavar="RSD", help="transactions Z (a number or a CSV; a fresh LU per sample)"
    )
    mc.add_argument("--seed", type=int, default=0, help="seed of the ensemble (default: 0)")
    mc.add_argument("--batch-size", dest="batch_size", type=int, help="samples per batch / task (default: automatic)")
    mc.add_argument(
        "--indices",
        action="store_true",
        help="also the distributions of GMI (with P(GMI < 0)) and of the region x region BMI",
    )
    mc.add_argument(
        "--groups", metavar="CSV", help="grouping for --indices (default: the 62 BRI countries in 9 regions)"
    )
    mc.add_argument("--index-stressor", dest="index_stressor", default="CH4", help="stressor of the indices (CH4)")
    mc.add_argument("--convention", default="printed", help="BMI convention (printed, victim_row, beneficiary_row)")
    mc.add_argument("--norm-set", dest="norm_set", default="all", help="all (default) or scope")
    mc.add_argument("--norm-sign", dest="norm_sign", default="signed", help="signed (default) or abs")
    mc.add_argument(
        "--yes",
        action="store_true",
        help="run even when the ensemble needs more memory than this machine has or over 50 GB of disk",
    )
    mc.add_argument("-o", "--output", default="mrioflow-mc", help="output folder (default: ./mrioflow-mc)")
    p.set_defaults(handler=_mc)


def _rsd(value: str):
    """An rsd option: a number, or the path of a CSV of one rsd per sector (columns sector, rsd)."""
    try:
        return float(value)
    except ValueError:
        if not Path(value).is_file():
            raise argparse.ArgumentTypeError(f"{value!r} is neither a number nor a CSV file") from None
        return Path(value)


def _mc(args) -> int:
    from ._checks import check_seed, check_year
    from .analysis.studies import read_rsd, run_montecarlo

    check_year(args.year, "--year")
    check_seed(args.seed, "--seed")
    perturb = {
        name: read_rsd(value) if isinstance(value, Path) else value
        for name, value in [
            ("intensities", args.intensities),
            ("direct", args.direct),
            ("final_demand", args.final_demand),
            ("Z", args.transactions),
        ]
        if value is not None
    } or {"intensities": 0.3}
    indices = None
    if args.indices:
        indices = {
            "stressor": args.index_stressor,
            "groups": args.groups,
            "convention": args.convention,
            "norm_set": args.norm_set,
            "norm_sign": args.norm_sign,
        }
    prov = _provenance(args, "mc", [args.year])
    mrio = _loader(args)(args.year)
    files = run_montecarlo(
        mrio,
        args.output,
        samples=args.samples,
        perturb=perturb,
        seed=args.seed,
        backend=args.backend,
        dtype=args.dtype,
        stressors=args.stressor,
        batch_size=args.batch_size,
        scheduler=args.scheduler,
        progress=not args.quiet,
        indices=indices,
        yes=args.yes,
        provenance=prov,
        overwrite=args.overwrite,
        precision=args.precision,
    )
    _report_written(files, args.output)
    if mrio.synthetic:
        print("note: SYNTHETIC DATA - not real (the mrioflow synthetic world); use --data for real data")
    return 0


# -- sweep --------------------------------------------------------------------------------------


def add_sweep_parser(sub) -> None:
    p = sub.add_parser(
        "sweep",
        help="accounts for many years, one independent task per year (Dask)",
        description="Run the engine for each year (one task per year, locally or on a Dask cluster) and "
        "write each stressor's accounts by year and country. Finished years are kept in OUTPUT/years: "
        "rerunning resumes.",
        epilog="example:\n  mrioflow sweep --data ~/data/eora26 --years 2013 2014 2015 --scheduler processes",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_data_options(p, years=True)
    p.add_argument("-o", "--output", default="mrioflow-sweep", help="output folder (default: ./mrioflow-sweep)")
    p.set_defaults(handler=_sweep)


def _sweep(args) -> int:
    from ._checks import check_year
    from .analysis.studies import run_sweep

    years = [check_year(year, "--years") for year in args.years]
    prov = _provenance(args, "sweep", years)
    files = run_sweep(
        years,
        args.output,
        load=_loader(args),
        backend=args.backend,
        dtype=args.dtype,
        stressors=args.stressor,
        scheduler=args.scheduler,
        progress=not args.quiet,
        provenance=prov,
        overwrite=args.overwrite,
        precision=args.precision,
    )
    _report_written(files, args.output)
    return 0


# -- bench --------------------------------------------------------------------------------------


def add_bench_parser(sub) -> None:
    p = sub.add_parser(
        "bench",
        help="hardware benchmark: LU, solve, a year, Monte Carlo over a ladder of table sizes; compare records",
        description="The hardware benchmark (default case 'ladder'): on synthetic worlds of the real databases' "
        "shapes (eora26, exiobase3, eora_full, gloria, gloria_sut), time the LU, the multi-right-hand-side "
        "solve, a full year and a Monte Carlo batch, each size in a fresh process, as seconds, GFLOP/s and "
        "fraction of the machine's own peak (a matrix product measured in the same run), with peak memory in "
        "units of n x n float64. Sizes that do not fit the memory are skipped with the reason. Other named "
        "cases: engine (against a bare SciPy LU and pymrio), montecarlo, readers, gpu. "
        "`mrioflow bench compare A.json B.json` prints two records side by side.",
        epilog="examples:\n  mrioflow bench --quick --json quick.json --plot quick.png\n"
        "  mrioflow bench --sizes eora26 exiobase3 eora_full gloria --json ladder.json --plot ladder.png\n"
        "  mrioflow bench --sizes gloria_sut --in-place --json sut.json\n"
        "  mrioflow bench compare cpu.json gpu.json --plot both.png\n"
        "  mrioflow bench --case engine montecarlo readers gpu --markdown report.md",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "compare", nargs="*", metavar="compare A.json B.json", help="compare two JSON records instead of running"
    )
    p.add_argument(
        "--case",
        dest="cases",
        nargs="+",
        metavar="NAME",
        default=["ladder"],
        help="cases to run: ladder, engine, montecarlo, readers, gpu (default: ladder)",
    )
    p.add_argument(
        "--sizes",
        nargs="+",
        metavar="SIZE",
        help="ladder sizes: presets or RxSxC shapes (default: eora26 exiobase3 eora_full gloria gloria_sut)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="small sizes, 2 repeats and a small Monte Carlo batch: a few minutes on 2 cores",
    )
    p.add_argument(
        "--backend",
        default="numpy",
        choices=["numpy", "cupy", "array_api_strict"],
        help="ladder backend (default: numpy)",
    )
    p.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    p.add_argument(
        "--precision",
        default="double",
        choices=["double", "mixed", "both"],
        help="ladder: the LU in float64 (double, default), float32 refined to float64 (mixed), "
        "or both side by side in one worker, with a Z-perturbed sample and the ratios",
    )
    p.add_argument(
        "--in-place",
        dest="in_place",
        action="store_true",
        help="ladder: only the year, consuming the table in place (for sizes that fit only so)",
    )
    p.add_argument(
        "--memory-limit",
        dest="memory_limit",
        type=float,
        metavar="GB",
        help="ladder: memory a size may use (default: what is available); larger sizes are skipped",
    )
    p.add_argument(
        "--countries",
        dest="n_countries",
        type=int,
        help="smaller synthetic world for the named cases other than ladder (default: 189 + RoW)",
    )
    p.add_argument("--repeat", type=int, help="timed repetitions after a warm-up (default: 3; --quick: 2)")
    p.add_argument(
        "--samples",
        type=int,
        help="Monte Carlo batch size timed (default: 16 in the ladder, 64 in the montecarlo case; --quick: 4)",
    )
    p.add_argument("--no-pymrio", dest="pymrio", action="store_false", help="skip the pymrio references")
    p.add_argument("--markdown", metavar="FILE", help="also write the report as Markdown (atomically)")
    p.add_argument(
        "--json", metavar="FILE", help="also write the record as JSON (atomically; schema in mrioflow.bench.ladder)"
    )
    p.add_argument("--plot", metavar="FILE", help="also plot time and GFLOP/s against n (PNG)")
    p.add_argument("--traceback", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    p.set_defaults(handler=_bench)


def _load_record(path) -> dict:
    import json

    from .bench.ladder import check_record

    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise OptionError(f"{path}: not a readable mrioflow bench record ({exc})") from None
    except RecursionError:
        raise OptionError(f"{path}: not a mrioflow bench record (JSON nested too deeply to read)") from None
    return check_record(record, str(path))


def _bench(args) -> int:
    import json
    import shlex

    from .analysis.output import atomic_write
    from .bench import format_report, run_cases
    from .bench.ladder import compare, plot

    if args.compare:
        if args.compare[0] != "compare" or len(args.compare) != 3:
            raise OptionError(f"unexpected arguments {args.compare}; to compare: mrioflow bench compare A.json B.json")
        records = [_load_record(f) for f in args.compare[1:]]
        print(compare(*records))
        if args.plot:
            plot(records, args.plot)
        return 0
    command = shlex.join(args.argv)
    repeat = args.repeat or (2 if args.quick else 3)
    options = dict(
        n_countries=args.n_countries,
        repeat=repeat,
        pymrio=args.pymrio,
        sizes=args.sizes,
        quick=args.quick,
        backend=args.backend,
        dtype=args.dtype,
        in_place=args.in_place,
        memory_limit=args.memory_limit * 1e9 if args.memory_limit else None,
        precision=args.precision,
    )
    if args.samples or args.quick:
        options["samples"] = args.samples or 4
    report = run_cases(args.cases, command=command, **options)
    text = format_report(report, command=command)
    print(text)
    if args.markdown:
        atomic_write(args.markdown, lambda p: Path(p).write_text(text + "\n", encoding="utf-8"))
    if args.json:
        atomic_write(
            args.json, lambda p: Path(p).write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
        )
    if args.plot and "ladder" in report["cases"]:
        plot([report], args.plot)
    return 0


# -- cache --------------------------------------------------------------------------------------


def add_cache_parser(sub) -> None:
    p = sub.add_parser(
        "cache",
        help="list or clear the binary cache of parsed tables (Eora26 years and other readers')",
        description="List the tables in the cache (year, source, size, and whether each is intact: ok, "
        "corrupt, or written by another mrioflow version), or delete them. An Eora26 year is a few hundred MB.",
        epilog="examples:\n  mrioflow cache\n  mrioflow cache --clear-stale\n  mrioflow cache --clear",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--dir", metavar="FOLDER", help="the cache folder (default: $XDG_CACHE_HOME/mrioflow or ~/.cache/mrioflow)"
    )
    what = p.add_mutually_exclusive_group()
    what.add_argument("--clear", action="store_true", help="delete every cached table")
    what.add_argument(
        "--clear-stale",
        dest="clear_stale",
        action="store_true",
        help="delete the tables that would not be loaded again (corrupt or another format version)",
    )
    p.set_defaults(handler=_cache)


def _cache(args) -> int:
    from .io.cache import clear_cache, default_cache_dir, list_cache

    folder = Path(args.dir) if args.dir else default_cache_dir()
    if args.clear or args.clear_stale:
        gone = clear_cache(folder, stale_only=args.clear_stale)
        print(f"deleted {len(gone)} file(s) from {folder}")
        return 0
    table = list_cache(folder)
    if table.empty:
        print(f"{folder}: no cached tables")
        return 0
    with_names = table.assign(file=[Path(f).name for f in table["file"]], size_mb=table["size_mb"].round(1))
    print(f"{folder}: {len(table)} cached table(s), {table['size_mb'].sum():.1f} MB")
    print(with_names[["file", "year", "size_mb", "state", "source"]].to_string(index=False))
    return 0


# -- scenario -----------------------------------------------------------------------------------


def add_scenario_parser(sub) -> None:
    p = sub.add_parser(
        "scenario",
        help="what-if scenarios of a TOML file: accounts, flows, BMI/GMI and their changes from the base",
        description="Evaluate the scenarios of a TOML file (docs/user-guide.md, 'Scenarios') on each year's "
        "table: per scenario, the accounts, the flows, GMI and region BMI and their differences from the base "
        "(tables with units), a figure of the changes by region and scenario, report.html and provenance.json "
        "(with the scenario file's SHA-256). Each scenario costs what it changes (docs/method.md section 12).",
        epilog="example:\n  mrioflow scenario --scenarios docs/examples/bri-scenarios.toml --years 2013 2021",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--scenarios", metavar="FILE.toml", required=True, help="the scenario file (TOML)")
    _add_data_options(p, years=True)
    years = next(a for a in p._actions if a.dest == "years")
    years.required, years.help = False, "years to run (default: 2013)"
    p.add_argument("--groups", metavar="CSV", help="grouping of region selectors and indices (default: BRI)")
    p.add_argument(
        "--mc-samples",
        dest="mc_samples",
        type=int,
        metavar="N",
        help="also a Monte Carlo ensemble of N samples per scenario (uncertain intensities): P(change < 0) "
        "by country and region",
    )
    p.add_argument(
        "--mc-intensities", dest="mc_rsd", type=float, default=0.3, metavar="RSD", help="its intensities' rsd (0.3)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the ensemble (default: 0)")
    p.add_argument("-o", "--output", default="mrioflow-scenario", help="output folder (default: ./mrioflow-scenario)")
    p.set_defaults(handler=_scenario)


def _scenario(args) -> int:
    from ._checks import check_year
    from .analysis.provenance import file_record
    from .experiments import load_scenarios
    from .experiments.study import run_scenarios

    years = [check_year(year, "--years") for year in (args.years or [2013])]
    if args.scheduler is not None:
        raise OptionError("mrioflow scenario runs its years here, one after the other: --scheduler is not used")
    scenarios = load_scenarios(args.scenarios, groups=args.groups)  # a bad file fails before any work
    prov = _provenance(args, "scenario", years)
    prov["inputs"].append(file_record(args.scenarios, role="scenarios"))

    def log(msg: str) -> None:
        if not args.quiet or msg.startswith("note"):
            print(msg, file=sys.stderr)

    files = run_scenarios(
        scenarios,
        years,
        args.output,
        load=_loader(args),
        where=args.scenarios,
        backend=args.backend,
        dtype=args.dtype,
        indices=None if args.groups is None else {"groups": args.groups},
        provenance=prov,
        overwrite=args.overwrite,
        log=log,
        stressors=args.stressor,
        mc=None if not args.mc_samples else {"samples": args.mc_samples, "intensities": args.mc_rsd, "seed": args.seed},
    )
    _report_written(files, args.output)
    return 0


# -- decompose ----------------------------------------------------------------------------------


def add_decompose_parser(sub) -> None:
    p = sub.add_parser(
        "decompose",
        help="structural decomposition of the change between years (intensity, Leontief, final-demand mix and level)",
        description="Split the change of the accounts (PBA, CBA, net, by country and region) and of the flows "
        "between consecutive years into stressor intensity, Leontief structure, final-demand mix (origin and "
        "product), consumer mix and final-demand level (and direct final-demand stressors): tables with units, a "
        "figure per period with a panel per region, report.html and provenance.json (docs/method.md section 14). "
        "More than two years: chained year-on-year decompositions.",
        epilog="example:\n  mrioflow decompose --years 2013 2021",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_data_options(p, years=True)
    years = next(a for a in p._actions if a.dest == "years")
    years.help = "two or more years (consecutive pairs are decomposed)"
    p.add_argument("--groups", metavar="CSV", help="grouping of the region tables (default: BRI)")
    p.add_argument(
        "--method",
        choices=["shapley", "polar"],
        default="shapley",
        help="shapley: the exact average over all orderings (default); polar: the average of the two polar forms",
    )
    p.add_argument("-o", "--output", default="mrioflow-decompose", help="output folder (default: ./mrioflow-decompose)")
    p.set_defaults(handler=_decompose)


def _decompose(args) -> int:
    from ._checks import check_year
    from .experiments.decompose_study import run_decomposition
    from .regions import bri

    years = [check_year(year, "--years") for year in args.years]
    if len(years) < 2:
        raise OptionError(f"--years: decompose needs at least two years, got {years}")
    if args.scheduler is not None:
        raise OptionError("mrioflow decompose runs its years here: --scheduler is not used")
    prov = _provenance(args, "decompose", years)

    def log(msg: str) -> None:
        if not args.quiet or msg.startswith("note"):
            print(msg, file=sys.stderr)

    files = run_decomposition(
        years,
        args.output,
        load=_loader(args),
        method=args.method,
        backend=args.backend,
        groups=bri() if args.groups is None else args.groups,
        provenance=prov,
        overwrite=args.overwrite,
        log=log,
        stressors=args.stressor,
    )
    _report_written(files, args.output)
    return 0


# -- sensitivity --------------------------------------------------------------------------------


def add_sensitivity_parser(sub) -> None:
    p = sub.add_parser(
        "sensitivity",
        help="which inputs drive the accounts and BMI/GMI: local elasticities or Sobol indices",
        description="Sensitivity of one year's accounts (PBA, CBA, net by country and region) and GMI/BMI to "
        "grouped inputs (stressor intensities, final demand, technology; one group per region, country or "
        "sector): local elasticities, each labelled with how it was computed, and a tornado figure per output "
        "and region; or first-order and total Sobol indices (SALib) with confidence intervals and a bar figure "
        "per output and region (docs/method.md section 15). Tables, report.html and provenance.json.",
        epilog="examples:\n  mrioflow sensitivity --year 2013\n"
        "  mrioflow sensitivity --method sobol --samples 256 --kinds intensity final_demand --bounds 0.8 1.2",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_data_options(p, years=False)
    p.add_argument(
        "--method",
        choices=["local", "sobol", "choices"],
        default="local",
        help="local (default), sobol, or choices: every combination of the method's open choices (final-demand "
        "reading, BMI convention, normalisation set, quantiles) with the regions' ranges, signs and ranks",
    )
    p.add_argument(
        "--kinds",
        nargs="+",
        choices=["intensity", "final_demand", "technology"],
        default=["intensity", "final_demand"],
        help="kinds of input groups (default: intensity final_demand)",
    )
    p.add_argument("--by", choices=["region", "country", "sector"], default="region", help="one group per (region)")
    p.add_argument("--groups", metavar="CSV", help="grouping of regions and indices (default: BRI)")
    p.add_argument("--samples", type=int, default=64, help="Sobol: N, a power of 2; N (D + 2) evaluations (64)")
    p.add_argument(
        "--bounds", nargs=2, type=float, default=[0.9, 1.1], metavar=("LOW", "HIGH"), help="Sobol: factor range"
    )
    p.add_argument("--step", dest="h", type=float, default=1e-3, help="local: central-difference step (1e-3)")
    p.add_argument("--seed", type=int, default=0, help="Sobol: seed of the sample (default: 0)")
    p.add_argument("-o", "--output", default="mrioflow-sensitivity", help="output folder (./mrioflow-sensitivity)")
    p.set_defaults(handler=_sensitivity)


def _sensitivity(args) -> int:
    from ._checks import check_year
    from .regions import bri
    from .sensitivity.study import run_sensitivity

    year = check_year(args.year, "--year")
    if args.scheduler is not None:
        raise OptionError("mrioflow sensitivity runs here: --scheduler is not used")
    if args.method == "sobol" and (args.samples < 2 or args.samples & (args.samples - 1)):
        raise OptionError(f"--samples: samples must be a power of 2 (Sobol sequence), got {args.samples}")
    if not 0 <= args.bounds[0] < args.bounds[1]:
        raise OptionError(f"--bounds: need 0 <= LOW < HIGH, got {args.bounds}")
    prov = _provenance(args, "sensitivity", [year])

    def log(msg: str) -> None:
        if not args.quiet or msg.startswith("note"):
            print(msg, file=sys.stderr)

    files = run_sensitivity(
        year,
        args.output,
        load=_loader(args),
        method=args.method,
        kinds=args.kinds,
        by=args.by,
        groups=bri() if args.groups is None else args.groups,
        stressor=args.stressor[0] if args.stressor else "CH4",
        samples=args.samples,
        bounds=tuple(args.bounds),
        h=args.h,
        seed=args.seed,
        backend=args.backend,
        provenance=prov,
        overwrite=args.overwrite,
        log=log,
    )
    _report_written(files, args.output)
    return 0


# -- entry point ------------------------------------------------------------------------------

#: Subcommand registrars, in the order --help lists them.
SUBCOMMANDS = [
    add_run_parser,
    add_mc_parser,
    add_sweep_parser,
    add_scenario_parser,
    add_decompose_parser,
    add_sensitivity_parser,
    add_bench_parser,
    add_cache_parser,
]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="mrioflow: GPU-accelerated environmentally extended MRIO analysis.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--traceback", action="store_true", help="show the full traceback on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands", parser_class=_Parser)
    for add in SUBCOMMANDS:
        add(sub)
    return parser


INTERRUPTED = (
    f"{PROG}: interrupted; nothing was published, the output folder is as it was "
    "(finished Monte Carlo batches and sweep years are kept beside it, for resuming)"
)


@contextlib.contextmanager
def _one_line_warnings():
    """Warnings as one line "warning: ..." on stderr (no source line), while the command runs."""
    saved = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        print(f"warning: {' '.join(str(message).split())}", file=file or sys.stderr)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = saved


def _own_sigint() -> None:
    """Take Ctrl-C back from the start-up handler (mrioflow._startup): from here on it is a
    KeyboardInterrupt that :func:`main` reports in one line, after the output is cleaned up."""
    from . import _startup

    with contextlib.suppress(ValueError):  # not the main thread: the handler was never installed
        if signal.getsignal(signal.SIGINT) is _startup._interrupted:
            signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv=None) -> int:
    """Console entry point (``mrioflow``); returns the exit code."""
    args = None
    try:
        _own_sigint()
        parser = build_parser()
        argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
        args = parser.parse_args(argv)
        args.argv = [PROG, *argv]  # the command line as given, for the provenance and bench records
        if getattr(args, "handler", None) is None:
            parser.print_usage(sys.stderr)
            parser.error("a command is required")
        from .io.cache import digest_scope

        # run, mc and sweep read each input file once for its cache check and its provenance
        scope = digest_scope() if args.command in ("run", "mc", "sweep") else contextlib.nullcontext()
        with _one_line_warnings(), scope:
            return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print(f"\n{INTERRUPTED}", file=sys.stderr)
        return 130
    except (MrioflowError, OSError) as exc:
        if getattr(args, "traceback", False):
            raise
        _err(exc)
        return 1
    except MemoryError as exc:
        if getattr(args, "traceback", False):
            raise
        _err(
            f"not enough memory: {exc or 'an allocation failed'}; ask for less (e.g. fewer --samples, a smaller "
            "--batch-size, or without --yes to have the memory checked first)"
        )
        return 1
    except Exception as exc:  # a bug: still one line, the traceback on request
        if getattr(args, "traceback", False):
            raise
        _err(f"unexpected {type(exc).__name__}: {exc} (run again with --traceback for details)")
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
