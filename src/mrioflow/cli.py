"""The mrioflow command line: a thin layer over the public API.

``mrioflow --help`` lists the subcommands. Each subcommand is one
``add_*_parser`` function registering its options and a handler; the handler
parses nothing itself, calls the package, and prints. Errors become one line
on stderr ("mrioflow: error: ...") and a non-zero exit code, never a
traceback (``--traceback`` shows it, for debugging).
"""

from __future__ import annotations

import argparse
import sys
import time

from . import __version__
from .errors import MrioflowError

__all__ = ["build_parser", "main"]

PROG = "mrioflow"


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line, like every other error."""

    def error(self, message):  # noqa: D401 - argparse API
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
  mrioflow run --eora26 ~/data/eora26 --years 2013 2021 -o bri-results
  mrioflow run --eora26 ~/data/eora26 --edgar EDGAR_CH4_1970_2022.xlsx --years 2021
  mrioflow run --config study.toml --convention victim_row
"""


def add_run_parser(sub) -> None:
    p = sub.add_parser(
        "run",
        help="the whole methane-inequality analysis: tables, figures and an HTML report",
        description="Run the Belt-and-Road methane-inequality analysis (METHOD.md) and write tables "
        "(CSV + Parquet), figures (PNG) and report.html to the output folder.",
        epilog=RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    data = p.add_argument_group("data (default: the synthetic world)")
    data.add_argument("--eora26", metavar="PATH", help="folder of yearly Eora26 files (Eora26_{year}_bp.zip or unpacked folders), or one zip")
    data.add_argument("--years", metavar="YEAR", nargs="+", type=int, help="years to analyse (default: 2013 2021)")
    data.add_argument("--edgar", metavar="FILE", help="EDGAR CH4 file: replace the table's methane by EDGAR's, mapped to the Eora26 sectors")
    data.add_argument("--pymrio", metavar="FOLDER", action="append", help="a pymrio folder instead of Eora26 (repeat for several years)")
    data.add_argument("--price", metavar="BASIS", help="Eora26 price basis: bp (default) or pp")
    data.add_argument("--no-cache", dest="cache", action="store_const", const=False, help="do not read or write the Eora26 cache of parsed years")
    data.add_argument("--stressor", metavar="NAME", help="stressor analysed (default: CH4)")
    data.add_argument("--value-added", dest="value_added", metavar="NAME", help="stressor holding value added (default: VA)")
    data.add_argument("--seed", type=int, help="seed of the synthetic world (default: 0)")
    data.add_argument("--synthetic-countries", dest="synthetic_countries", type=int, help=argparse.SUPPRESS)

    idx = p.add_argument_group("grouping and index options (METHOD.md sections 4-7)")
    idx.add_argument("--groups", metavar="CSV", help="grouping CSV: an iso3 column and a group column (default: the 62 BRI countries in 9 regions)")
    idx.add_argument("--group-column", dest="group_column", metavar="NAME", help="the group column of --groups (default: detected)")
    idx.add_argument("--convention", metavar="NAME", help="BMI convention: printed (default), victim_row, beneficiary_row")
    idx.add_argument("--norm-set", dest="norm_set", metavar="NAME", help="normalise over: all (every country of the table, default) or scope (the grouping's countries)")
    idx.add_argument("--norm-sign", dest="norm_sign", metavar="NAME", help="normalise: signed (default) or abs values")

    run = p.add_argument_group("running")
    run.add_argument("--backend", metavar="NAME", help="auto (default: cupy if a GPU is usable), numpy, cupy, array_api_strict")
    run.add_argument("-o", "--output", metavar="DIR", help="output folder (default: ./mrioflow-output)")
    run.add_argument("--config", metavar="TOML", help="configuration file holding these settings (flags override it)")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bar, only the final summary")
    run.add_argument("--traceback", action="store_true", default=argparse.SUPPRESS, help="show the full traceback on errors")
    p.set_defaults(handler=_run)


def _run(args) -> int:
    from .analysis import Settings, load_config
    from .analysis import run as run_analysis

    config = load_config(args.config) if args.config else {}
    overrides = {k: getattr(args, k, None) for k in Settings.keys()}
    settings = Settings.build(config, overrides)
    log = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    t0 = time.perf_counter()
    summary = run_analysis(settings, progress=not args.quiet, log=log)
    elapsed = time.perf_counter() - t0
    years = ", ".join(map(str, summary.years))
    print(f"wrote {len(summary.files)} files for {years} to {summary.output} in {elapsed:.1f} s")
    print(f"report: {summary.output / 'report.html'}")
    if summary.synthetic:
        print("note: SYNTHETIC DATA - not real (the mrioflow synthetic world); use --eora26 for real data")
    return 0


# -- entry point ------------------------------------------------------------------------------

#: Subcommand registrars, in the order --help lists them (more are added here).
SUBCOMMANDS = [add_run_parser]


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


def main(argv=None) -> int:
    """Console entry point (``mrioflow``); returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 0
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted; finished files are kept, no partial files are left", file=sys.stderr)
        return 130
    except (MrioflowError, OSError) as exc:
        if args.traceback:
            raise
        _err(exc)
        return 1
    except Exception as exc:  # a bug: still one line, the traceback on request
        if args.traceback:
            raise
        _err(f"unexpected {type(exc).__name__}: {exc} (run again with --traceback for details)")
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
