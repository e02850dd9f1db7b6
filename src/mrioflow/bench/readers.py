"""Benchmark of the Eora26 reader: text parse against pymrio, and the native cache.

``python -m mrioflow.bench.readers`` writes a full-size synthetic world in the
Eora26 file layout (189 countries x 26 sectors + one RoW row: T is 4,915 x
4,915) into a temporary folder, then times

- ``read_eora26(..., cache=False)``: parsing the text files;
- pymrio's ``parse_eora26`` on the same files (the reference);
- ``read_eora26`` loading its native cache (after one read that writes it), which
  hashes the source files to check them, and that hashing alone.

The figures are seconds (best of ``repeat``) and the ratios; compare ratios,
not seconds, on shared machines. The data are made up (``datasets.synthetic``).
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import tempfile
import time
import warnings
from pathlib import Path

from .. import datasets
from ..io.cache import file_digests
from ..io.eora26 import PARSER, read_eora26, write_eora26
from ..io.registry import get_reader


def _best(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        out = None
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _cpu(fn) -> tuple[float, float, object]:
    """Wall-clock and CPU seconds (all threads of this process) of one call."""
    gc.collect()
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, time.process_time() - c0, out


def bench_readers(
    *, n_countries: int | None = None, repeat: int = 5, pymrio: bool = True, workdir=None, year: int = 2013
) -> dict:
    """Time the Eora26 text parse, pymrio's parser and the cached load.

    Parameters
    ----------
    n_countries : int, optional
        Size of the synthetic world (default: all 189 Eora26 countries + RoW,
        written as the 4,915 x 4,915 Eora26 layout).
    repeat : int
        Each timing is the best of ``repeat`` runs.
    pymrio : bool
        Also time ``pymrio.parse_eora26`` (skipped with a note when pymrio is
        not installed).
    workdir : path-like, optional
        Where to write the files (default: a temporary folder, removed after).
    year : int

    Returns
    -------
    dict
        ``parser`` (``io.eora26.PARSER``: "compiled" or "pyarrow"), ``n``
        (rows of T), ``file_mb`` (size of the T file), ``write_s``,
        ``parse_s`` (read_eora26 without cache), ``pymrio_parse_s``,
        ``pymrio_over_parse`` (how many times faster read_eora26 parses),
        ``parse_over_pymrio``, the same in CPU seconds of this process
        (``parse_cpu_s``, ``pymrio_cpu_s``, ``pymrio_over_parse_cpu``: less
        sensitive to other load on a shared machine), ``cache_write_s`` (first
        cached read: parse + write), ``cache_mb``, ``cached_load_s``,
        ``cached_over_parse`` (a hit hashes every source file: that check is in
        ``cached_load_s``), the same in CPU seconds (``cached_load_cpu_s``,
        ``cached_over_parse_cpu``), ``source_mb`` (the files a year reads),
        ``content_check_s`` (their xxh3-128 alone: the check inside a hit),
        ``content_check_over_parse`` and ``xxh3_and_sha256_s`` (the one pass a
        ``mrioflow`` command makes for the cache and the provenance). The parses
        are timed interleaved (ours, pymrio's, ours...), best of ``repeat``.
    """
    own = workdir is None
    root = Path(tempfile.mkdtemp(prefix="mrioflow-bench-")) if own else Path(workdir)
    try:
        data = root / "eora"
        cache = root / "cache"
        mrio = datasets.synthetic(year=year, seed=0, n_countries=n_countries)
        t0 = time.perf_counter()
        write_eora26(mrio, data, year)
        write_s = time.perf_counter() - t0
        del mrio
        gc.collect()
        t_file = data / f"Eora26_{year}_bp_T.txt"
        out: dict = {"parser": PARSER, "file_mb": t_file.stat().st_size / 1e6, "write_s": write_s}

        out["n"] = len((data / "labels_T.txt").read_text(encoding="utf-8").splitlines())
        pm = None
        if pymrio:
            try:
                import pymrio as pm
            except ImportError:
                out["pymrio_parse_s"] = "pymrio not installed"
        # interleaved, so that load from other processes hits both alike
        parse_s = pm_s = parse_cpu = pm_cpu = float("inf")
        for _ in range(repeat):
            s, c, m = _cpu(lambda: read_eora26(data, year, cache=False))
            parse_s, parse_cpu = min(parse_s, s), min(parse_cpu, c)
            del m
            if pm is not None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    s, c, io = _cpu(lambda: pm.parse_eora26(data, year=year))
                pm_s, pm_cpu = min(pm_s, s), min(pm_cpu, c)
                del io
        out["parse_s"] = parse_s
        out["parse_cpu_s"] = parse_cpu
        if pm is not None:
            out["pymrio_parse_s"] = pm_s
            out["pymrio_cpu_s"] = pm_cpu
            out["pymrio_over_parse"] = pm_s / parse_s
            out["parse_over_pymrio"] = parse_s / pm_s
            out["pymrio_over_parse_cpu"] = pm_cpu / parse_cpu
        gc.collect()
        t0 = time.perf_counter()
        m = read_eora26(data, year, cache_dir=cache)
        out["cache_write_s"] = time.perf_counter() - t0
        assert m.meta["cache"].startswith("rebuilt"), m.meta["cache"]
        del m
        load_s, m = _best(lambda: read_eora26(data, year, cache_dir=cache), repeat)
        assert m.meta["cache"] == "hit", m.meta["cache"]
        del m
        load_cpu = float("inf")
        for _ in range(repeat):
            _, c, m = _cpu(lambda: read_eora26(data, year, cache_dir=cache))
            load_cpu = min(load_cpu, c)
        out["cache_mb"] = Path(m.meta["cache_file"]).stat().st_size / 1e6
        del m
        out["cached_load_s"] = load_s
        out["cached_over_parse"] = load_s / parse_s
        out["cached_load_cpu_s"] = load_cpu
        out["cached_over_parse_cpu"] = load_cpu / parse_cpu
        # the part of a hit that checks the sources' content (every read hashes them), and the
        # one pass of a command that also computes provenance's SHA-256 (io.cache.file_digests)
        sources = get_reader("eora26").sources(data, year=year)
        out["source_mb"] = sum(Path(f).stat().st_size for f in sources) / 1e6
        out["content_check_s"], _ = _best(lambda: [file_digests(f) for f in sources], repeat)
        out["xxh3_and_sha256_s"], _ = _best(lambda: [file_digests(f, sha256=True) for f in sources], repeat)
        out["content_check_over_parse"] = out["content_check_s"] / parse_s
        return out
    finally:
        if own:
            shutil.rmtree(root, ignore_errors=True)


def main(argv=None) -> int:
    """Command-line entry point: print the figures (text, or JSON with --json)."""
    ap = argparse.ArgumentParser(prog="python -m mrioflow.bench.readers", description=__doc__.splitlines()[0])
    ap.add_argument("--countries", type=int, default=None, help="smaller synthetic world (default: full Eora26)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-pymrio", action="store_true", help="skip pymrio's parse_eora26")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    res = bench_readers(n_countries=args.countries, repeat=args.repeat, pymrio=not args.no_pymrio)
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        for k, v in res.items():
            print(f"{k:>20}: {v:.4g}" if isinstance(v, float) else f"{k:>20}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
