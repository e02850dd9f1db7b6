"""The hardware benchmark: a size ladder over the real databases' shapes.

For each size (a preset of :data:`mrioflow.datasets.synthetic.PRESETS`, or a
shape "RxSxC"), a fresh worker process generates the synthetic world and times

- ``lu``: the LU of (I - A) (``Backend.lu_factor``, 2/3 n^3 flops);
- ``solve``: the solve with one right-hand side per country (X = L Yr,
  2 n^2 R flops);
- ``year``: a full year, ``Engine.run`` (LU, solves, flows, labelled results);
- ``montecarlo``: ``samples`` final-demand samples (rsd 0.1, drawn 4 at a
  time) through the public ``mf.montecarlo``, timed once (its one-off factorisation included);
  ``samples_per_s`` divides by that time less one ``year`` (null when noise
  makes the difference negative, as at tiny sizes);

each after one untimed warm-up (below n = 8,000: above, it would cost minutes
and the first call's fixed costs are negligible), with device synchronisation
inside the timer, as the minimum and the median of ``repeat`` runs. The machine's own peak is
measured in the same run (a square matrix product, 2 m^3 flops: dgemm on the
CPU, cuBLAS on a GPU), and each operation is given as GFLOP/s and as a
fraction of that peak. Each operation's peak resident memory (VmHWM, reset
after the world is generated and after each operation; ``ru_maxrss`` where
Linux's /proc is missing) is given in units of one
n x n float64 array, inputs included (at small n, fixed costs of a process,
tens of MB of BLAS buffers, dominate it). A size whose estimated memory does not
fit the device is skipped with the reason; ``in_place`` runs only the year,
consuming Z (``Engine.run(mrio, consume=True)``), for sizes that fit only so.

The JSON record (:data:`SCHEMA`, written by ``mrioflow bench --json``)::

    {"schema": "mrioflow-bench/1", "created": ISO time, "command": str,
     "machine": {platform, cpu_model, cpu_count, memory_bytes, gpu, python,
                 numpy, scipy, cupy, blas: [{library, version, threads, ...}],
                 threads},
     "cases": {"ladder": {
         "backend": str, "dtype": str, "repeat": int, "in_place": bool,
         "peak": {"operation": "matmul", "n": int, "min_s", "median_s", "gflops"},
         "sizes": [{"name": str, "shape": [R, S, C], "n": int,
                    "skipped": null or reason, "memory_estimate_bytes": int,
                    (with precision "both": "precisions": ["double", "mixed"] on the ladder,
                    and operations "year (mixed)", "lu (mixed)", "solve (mixed)",
                    "z_sample", "z_sample (mixed)" beside the float64 ones)
                    "generate_s": float, "inputs_nxn": float, "peak_memory_nxn": float (the year's),
                    "operations": {NAME: {"flops": float or null, "min_s", "median_s",
                                          "runs": [s, ...], "gflops": float or null,
                                          "fraction_of_peak": float or null,
                                          "peak_memory_nxn": float,
                                          "samples": int (montecarlo only),
                                          "samples_per_s": float or null (montecarlo only)}}}]},
               other named cases: {figure: value}}}

Times are seconds, memory in bytes or in units of n x n float64 (8 n^2 bytes).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from ..errors import OptionError

SCHEMA = "mrioflow-bench/1"
LADDER = ("eora26", "exiobase3", "eora_full", "gloria", "gloria_sut")
QUICK = ("12x25x6", "24x25x6", "48x25x6")
#: n x n float64 arrays a worker holds at most: Z, a second (A, or a copy of
#: I - A for the LU), generation's and the checks' slack; in place: Z and slack.
_WORKER_MATRICES = 2.3
_IN_PLACE_MATRICES = 1.3
#: Monte Carlo samples drawn at once (each holds n x m lognormal factors), and
#: n x m arrays per sample of a batch in the memory estimate.
_MC_BATCH = 4
_MC_ARRAYS_PER_SAMPLE = 2.5
#: From this n on, the warm-up call is skipped: it would cost minutes, and the
#: first call's fixed costs are negligible next to an LU of that size.
_NO_WARM_UP_N = 8000


def parse_size(size: str) -> tuple[str, tuple[int, int, int]]:
    """A preset name or "RxSxC" (countries x sectors x final-demand categories)."""
    from ..datasets.synthetic import PRESETS

    if size in PRESETS:
        return size, PRESETS[size]
    try:
        R, S, C = (int(v) for v in size.lower().split("x"))
    except ValueError:
        raise OptionError(
            f"size {size!r} is neither a preset ({', '.join(PRESETS)}) nor countries x sectors x categories "
            "like 40x26x6"
        ) from None
    return size, (R, S, C)


def _timed(func, *, repeat: int, sync, warm_up: bool = True) -> dict:
    """An untimed warm-up, then ``repeat`` timed calls (synchronised); min and median."""
    if warm_up:
        func()
        sync()
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        sync()
        runs.append(time.perf_counter() - t0)
    ordered = sorted(runs)
    return {"min_s": ordered[0], "median_s": ordered[len(ordered) // 2], "runs": runs}


def _rate(timing: dict, flops: float | None, peak_gflops: float | None) -> dict:
    gflops = flops / timing["min_s"] / 1e9 if flops and timing["min_s"] > 0 else None
    share = gflops / peak_gflops if gflops and peak_gflops else None
    return {"flops": flops, **timing, "gflops": gflops, "fraction_of_peak": share}


def measure_peak(backend: str = "numpy", dtype: str = "float64", *, n: int = 2048, repeat: int = 3) -> dict:
    """The device's own peak: a square matrix product, 2 n^3 flops, best of ``repeat``."""
    from ..engine.backend import get_backend

    b = get_backend(backend, dtype)
    xp = b.xp
    import numpy as np

    rng = np.random.default_rng(0)
    P, Q = b.asarray(rng.random((n, n))), b.asarray(rng.random((n, n)))
    t = _timed(lambda: xp.matmul(P, Q), repeat=repeat, sync=b.synchronize)
    return {"operation": "matmul", "n": n, **t, "gflops": 2 * n**3 / t["min_s"] / 1e9}


def _op(name: str, precision: str) -> str:
    """An operation's name in the record: "year", or "year (mixed)" for another precision."""
    return name if precision == "double" else f"{name} ({precision})"


def _worker(spec: dict) -> dict:
    """Runs in a fresh process: one size, every operation (see the module docstring)."""
    import mrioflow as mf

    from .harness import reset_rss_peak, rss_now, rss_peak

    precisions = spec.get("precisions") or ["double"]
    engines = {p: mf.Engine(spec["backend"], spec["dtype"], precision=p) for p in precisions}
    b = engines[precisions[0]].backend
    for eng in engines.values():  # imports and first-call costs, before the baseline
        eng.run(mf.datasets.synthetic(2013, n_countries=2))
    base = rss_now()
    t0 = time.perf_counter()
    world = mf.datasets.synthetic(2013, shape=tuple(spec["shape"]))
    out = {"generate_s": time.perf_counter() - t0}
    n, nn = world.n, 8 * world.n**2
    reset_rss_peak()
    out["inputs_nxn"] = (rss_now() - base) / nn
    ops: dict = {}

    def memory(op):  # the operation's own peak, inputs included; reset for the next one
        ops[op]["peak_memory_nxn"] = (rss_peak() - base) / nn
        reset_rss_peak()

    if spec["in_place"]:  # one year per precision, Z consumed: nothing to repeat
        year_flops = 2 / 3 * n**3 + 2 * n**2 * (world.n_countries + len(world.stressors) + 1)
        for k, p in enumerate(precisions):
            if k:  # the table was consumed: a fresh one
                world = mf.datasets.synthetic(2013, shape=tuple(spec["shape"]))
                reset_rss_peak()
            t0 = time.perf_counter()
            engines[p].run(world, consume=True)
            b.synchronize()
            s = time.perf_counter() - t0
            ops[_op("year", p)] = _rate({"min_s": s, "median_s": s, "runs": [s]}, year_flops, spec["peak_gflops"])
            memory(_op("year", p))
        out["peak_memory_nxn"] = ops[_op("year", precisions[0])]["peak_memory_nxn"]
        out["operations"] = ops
        return out
    _time_operations(spec, world, engines, ops, memory, base, nn)
    out["peak_memory_nxn"] = ops[_op("year", precisions[0])]["peak_memory_nxn"]
    out["operations"] = ops
    return out


def _time_operations(spec, world, engines, ops, memory, base, nn) -> None:
    """year, lu, solve (and z_sample with several precisions), the precisions alternating
    round by round so that a change of the machine's load hits them alike; montecarlo."""
    import mrioflow as mf

    from ..engine.system import LeontiefSystem
    from ..kernels import calc_by_country
    from .harness import reset_rss_peak, rss_peak

    precisions = list(engines)
    b = engines[precisions[0]].backend
    n, R, k = world.n, world.n_countries, len(world.stressors)
    peak, repeat = spec["peak_gflops"], spec["repeat"]
    warm = n < _NO_WARM_UP_N
    rounds = repeat + warm

    def alternate(name, calls, first_memory: bool = True):
        """Each call once per round, in turn; the first round is a warm-up where ``warm``
        (the first call's peak memory is the operation's: the process's first run of it)."""
        runs: dict = {p: [] for p in calls}
        for r in range(rounds):
            for p, call in calls.items():
                if r == 0:
                    reset_rss_peak()
                t0 = time.perf_counter()
                own = call()  # a call may time itself (leaving out its untimed set-up)
                b.synchronize()
                if r >= rounds - repeat:
                    runs[p].append(own if isinstance(own, float) else time.perf_counter() - t0)
                if r == 0 and first_memory:
                    ops.setdefault(_op(name, p), {})["first_peak"] = (rss_peak() - base) / nn
        out = {}
        for p, times in runs.items():
            ordered = sorted(times)
            out[p] = {"min_s": ordered[0], "median_s": ordered[len(ordered) // 2], "runs": times}
        return out

    def record(name, p, timing, flops):
        first = ops.get(_op(name, p), {}).get("first_peak")
        ops[_op(name, p)] = _rate(timing, flops, peak)
        ops[_op(name, p)]["peak_memory_nxn"] = first

    year_flops = 2 / 3 * n**3 + 2 * n**2 * (R + k + 1)
    years = alternate("year", {p: (lambda e=e: e.run(world) and None) for p, e in engines.items()})
    for p, t in years.items():
        record("year", p, t, year_flops)
    x = b.asarray(world.x)
    Yr = calc_by_country(b.asarray(world.Y), R)
    held: dict = {}

    def fresh_system(p):  # I - A and its LU, in a new n x n array (the previous one freed first)
        held.pop("system", None)
        Z = b.asarray(world.Z)
        Z = Z * 1.0 if Z is world.Z else Z  # a private copy either way
        held["system"] = LeontiefSystem.from_arrays(b, Z, x, check=False, consume_Z=True, precision=p)

    lus = alternate("lu", {p: (lambda p=p: fresh_system(p)) for p in precisions})
    solves = {}
    for p in precisions:  # each precision's solve on a system of its own (the last LU is the last's)
        if held.get("system") is None or held["system"].precision != p:
            fresh_system(p)
        system = held["system"]
        reset_rss_peak()
        solves[p] = _timed(lambda s=system: s.lu.solve(Yr), repeat=repeat, sync=b.synchronize)
        ops.setdefault(_op("solve", p), {})["first_peak"] = (rss_peak() - base) / nn
        held.pop("system")
        del system
    for p in precisions:
        record("lu", p, lus[p], 2 / 3 * n**3)
        record("solve", p, solves[p], 2 * n**2 * R)
    reset_rss_peak()
    if len(precisions) > 1 or precisions != ["double"]:
        _time_z_samples(world, b, precisions, alternate, record)
    if "double" in precisions:
        samples = spec["samples"]
        t0 = time.perf_counter()
        mf.montecarlo(
            world,
            samples=samples,
            perturb={"final_demand": 0.1},
            seed=0,
            backend=b,
            batch_size=min(samples, _MC_BATCH),
            progress=False,
        )
        b.synchronize()
        total = time.perf_counter() - t0
        batch = total - ops["year"]["min_s"]  # less the ensemble's one-off factorisation and nominal year
        ops["montecarlo"] = {
            "flops": None,
            "min_s": total,
            "median_s": total,
            "runs": [total],
            "gflops": None,
            "fraction_of_peak": None,
            "samples": samples,
            "samples_per_s": samples / batch if batch > 0 else None,
        }
        memory("montecarlo")


def _time_z_samples(world, b, precisions, alternate, record) -> None:
    """``z_sample``: one Z-perturbed Monte Carlo sample (rsd 0.1; its draws, I - A, the LU,
    X and the flows), each precision's in turn, after the ensemble's set-up (untimed)."""
    from ..ensembles.ensemble import _BatchRunner, _expand_rsd, draw_threads

    sigmas = {"Z": _expand_rsd("Z", 0.1, world)}
    threads = draw_threads(b, world, sigmas)
    runners = {p: _BatchRunner(world, sigmas, 1_000, 1, 0, b, None, threads, precision=p) for p in precisions}
    count = {p: 0 for p in precisions}

    def sample(p) -> float:
        runner = runners[p]
        runner._prepare()  # untimed: the ensemble's set-up
        b.synchronize()
        t0 = time.perf_counter()
        runner(count[p])
        b.synchronize()
        seconds = time.perf_counter() - t0
        count[p] += 1
        runner.release()  # its n x n work array: one precision's at a time
        return seconds

    for p, t in alternate("z_sample", {p: (lambda p=p: sample(p)) for p in precisions}).items():
        record("z_sample", p, t, None)


def memory_estimate(n: int, m: int, *, in_place: bool, mixed: bool = False) -> int:
    """Bytes a worker needs for n sectors and m final-demand columns: n x n float64
    arrays (``_WORKER_MATRICES``, plus a float32 factor in mixed precision) and, unless
    in place, a Monte Carlo batch."""
    factor32 = 0.5 if mixed else 0.0
    if in_place:
        return int((_IN_PLACE_MATRICES + factor32) * 8 * n * n)
    return int((_WORKER_MATRICES + factor32) * 8 * n * n + _MC_ARRAYS_PER_SAMPLE * _MC_BATCH * 8 * n * m)


def run_ladder(
    sizes=LADDER,
    *,
    backend: str = "numpy",
    dtype: str = "float64",
    repeat: int = 3,
    samples: int = 16,
    in_place: bool = False,
    memory_limit: float | None = None,
    peak_n: int = 2048,
    progress: bool = True,
    timeout: float | None = None,
    precision: str = "double",
) -> dict:
    """Time every size in its own worker process; see the module docstring.

    Parameters
    ----------
    sizes : sequence of str
        Presets or "RxSxC" shapes, in the order to run them.
    backend, dtype : str
        As for ``Engine``.
    repeat : int
        Timed repetitions after the warm-up (min and median kept).
    samples : int
        Monte Carlo batch size.
    in_place : bool
        Only the year, consuming Z (about 1.3 instead of 2.3 n x n arrays).
    memory_limit : float, optional
        Bytes a worker may use (default: what the device has available); a
        size estimated above it is skipped with the reason.
    peak_n : int
        Size of the matrix product that measures the device's peak.
    precision : {"double", "mixed", "both"}
        ``Engine(precision=)`` of the timed operations; "both" times each operation
        in float64 and in mixed precision in one worker, alternating round by round
        (operations "year" and "year (mixed)", ...), and adds ``z_sample``: one
        Z-perturbed Monte Carlo sample (the final-demand ``montecarlo`` is timed in
        float64 only).
    """
    if precision not in ("double", "mixed", "both"):
        raise OptionError(f"precision must be double, mixed or both, got {precision!r}")
    precisions = ["double", "mixed"] if precision == "both" else [precision]
    from ..engine.backend import get_backend

    parsed = [parse_size(s) for s in sizes]
    b = get_backend(backend, dtype)
    limit = memory_limit if memory_limit is not None else b.memory_available()
    peak = measure_peak(backend, dtype, n=peak_n)
    out = {
        "backend": b.describe(),
        "backend_name": b.name,
        "dtype": dtype,
        "repeat": repeat,
        "in_place": in_place,
        "precisions": precisions,
        "peak": peak,
        "sizes": [],
    }
    for name, shape in parsed:
        n, m = shape[0] * shape[1], shape[0] * shape[2]
        need = memory_estimate(n, m, in_place=in_place, mixed="mixed" in precisions)
        entry = {"name": name, "shape": list(shape), "n": n, "memory_estimate_bytes": need, "skipped": None}
        if need > limit:
            hint = "" if in_place else "; --in-place needs " + f"{memory_estimate(n, m, in_place=True) / 1e9:.3g} GB"
            entry["skipped"] = f"needs about {need / 1e9:.3g} GB, {limit / 1e9:.3g} GB available{hint}"
        else:
            if progress:
                print(f"[bench] ladder {name} (n = {n:,}) ...", flush=True)
            spec = {
                "shape": shape,
                "backend": backend,
                "dtype": dtype,
                "repeat": repeat,
                "samples": samples,
                "in_place": in_place,
                "peak_gflops": peak["gflops"],
                "precisions": precisions,
            }
            entry.update(_run_worker(spec, timeout))
        if progress and entry["skipped"]:
            print(f"[bench] ladder {name} (n = {n:,}) skipped: {entry['skipped']}", flush=True)
        out["sizes"].append(entry)
    return out


def _run_worker(spec: dict, timeout: float | None) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "mrioflow.bench.ladder", json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"skipped": f"the worker failed (exit {proc.returncode}): {last}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def format_ladder(ladder: dict) -> list[str]:
    """Markdown lines: one row per size and operation."""
    p = ladder["peak"]
    lines = [
        f"Backend {ladder['backend']}, {ladder['dtype']}; peak (matrix product, n = {p['n']}): "
        f"{p['gflops']:.4g} GFLOP/s. Times: min (median) of {ladder['repeat']} after a warm-up.",
        "",
        "| size | n | operation | min s | median s | GFLOP/s | of peak | peak memory (n^2, inputs included) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for size in ladder["sizes"]:
        if size.get("skipped"):
            lines.append(f"| {size['name']} | {size['n']:,} | skipped: {size['skipped']} | | | | | |")
            continue
        for op, t in size["operations"].items():
            rate = (
                f"{t['gflops']:.4g}"
                if t.get("gflops")
                else (f"{t['samples_per_s']:.4g} samples/s" if t.get("samples_per_s") else "")
            )
            share = f"{t['fraction_of_peak']:.2f}" if t.get("fraction_of_peak") else ""
            lines.append(
                f"| {size['name']} | {size['n']:,} | {op} | {t['min_s']:.4g} | {t['median_s']:.4g} | "
                f"{rate} | {share} | {_memory(t.get('peak_memory_nxn'))} |"
            )
    if "mixed" in ladder.get("precisions", []) and "double" in ladder.get("precisions", []):
        lines += ["", *format_precision_ratios(ladder)]
    return lines


def _memory(nxn) -> str:
    return "" if nxn is None else f"{nxn:.2f}"


def format_precision_ratios(ladder: dict) -> list[str]:
    """Markdown lines: mixed precision against float64, measured in the same worker."""
    lines = [
        "Mixed precision against float64 (min times of the same worker, alternating round by round):",
        "",
        "| size | n | year mixed / year float64 | LU mixed / LU float64 | solve mixed / solve float64 "
        "| Z sample mixed / LU float64 | Z sample float64 / LU float64 |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for size in ladder["sizes"]:
        ops = size.get("operations") or {}

        def ratio(a: str, b: str, ops=ops) -> str:
            return f"{ops[a]['min_s'] / ops[b]['min_s']:.3f}" if a in ops and b in ops else ""

        if size.get("skipped"):
            continue
        lines.append(
            f"| {size['name']} | {size['n']:,} | {ratio('year (mixed)', 'year')} | {ratio('lu (mixed)', 'lu')} | "
            f"{ratio('solve (mixed)', 'solve')} | {ratio('z_sample (mixed)', 'lu')} | {ratio('z_sample', 'lu')} |"
        )
    return lines


def check_record(record, name: str = "record") -> dict:
    """``record`` if it is a ladder record :func:`compare` and :func:`plot` can read
    (the fields they use, of the right types); an OptionError naming ``name`` and the
    first field that is missing or wrong otherwise (a record of another program, an
    edited or truncated one)."""

    def fail(where: str, what: str):
        raise OptionError(f"{name}: not a mrioflow bench ladder record ({SCHEMA}): {where} {what}")

    def number(value, where: str, *, positive: bool = False, optional: bool = False):
        if value is None and optional:
            return
        finite = isinstance(value, int | float) and not isinstance(value, bool) and abs(value) < float("inf")
        if not finite:
            fail(where, f"must be a finite number, got {str(value)[:40]!r}")
        if positive and value <= 0:
            fail(where, f"must be > 0, got {value!r}")

    def table(value, where: str) -> dict:
        if value is None:
            fail(where, "is missing")
        if not isinstance(value, dict):
            fail(where, f"must be a JSON object, got {type(value).__name__}")
        return value

    record = table(record, "the file")
    if record.get("schema") not in (None, SCHEMA):
        fail("schema", f"is {str(record.get('schema'))[:40]!r}")
    cases = record.get("cases")
    if not isinstance(cases, dict) or cases.get("ladder") is None:
        raise OptionError(f"{name} holds no ladder: not a mrioflow bench ladder record ({SCHEMA})")
    ladder = table(cases["ladder"], "cases.ladder")
    table(record.get("machine"), "machine")
    if not isinstance(ladder.get("backend"), str):
        fail("cases.ladder.backend", "must be a string")
    number(table(ladder.get("peak"), "cases.ladder.peak").get("gflops"), "cases.ladder.peak.gflops", positive=True)
    sizes = ladder.get("sizes")
    if not isinstance(sizes, list):
        fail("cases.ladder.sizes", f"must be a list, got {type(sizes).__name__}")
    for i, size in enumerate(sizes):
        where = f"cases.ladder.sizes[{i}]"
        table(size, where)
        if not isinstance(size.get("name"), str):
            fail(f"{where}.name", "must be a string")
        if isinstance(size.get("n"), bool) or not isinstance(size.get("n"), int) or size["n"] <= 0:
            fail(f"{where}.n", f"must be a whole number > 0, got {str(size.get('n'))[:40]!r}")
        for op, t in table(size.get("operations") or {}, f"{where}.operations").items():
            table(t, f"{where}.operations.{op}")
            number(t.get("min_s"), f"{where}.operations.{op}.min_s", positive=True)
            number(t.get("gflops"), f"{where}.operations.{op}.gflops", optional=True)
    return record


def compare(a: dict, b: dict) -> str:
    """A side-by-side table of two ladder records: min times and B / A ratios."""
    check_record(a, "record A")
    check_record(b, "record B")
    rows = {}
    for which, record in (("a", a), ("b", b)):
        ladder = record["cases"]["ladder"]
        for size in ladder["sizes"]:
            for op, t in (size.get("operations") or {}).items():
                rows.setdefault((size["n"], size["name"], op), {})[which] = t["min_s"]

    def label(r):
        return f"{r['machine'].get('cpu_model') or r['machine'].get('platform')}, {r['cases']['ladder']['backend']}"

    lines = [
        f"A: {label(a)}",
        f"B: {label(b)}",
        "",
        f"{'size':<12} {'n':>7} {'operation':<11} {'A s':>10} {'B s':>10} {'B/A':>7}",
    ]
    for (n, name, op), t in sorted(rows.items()):
        ta, tb = t.get("a"), t.get("b")
        fmt = lambda v: f"{v:10.4g}" if v is not None else f"{'-':>10}"  # noqa: E731
        ratio = f"{tb / ta:7.3f}" if ta and tb else f"{'-':>7}"
        lines.append(f"{name:<12} {n:>7} {op:<11} {fmt(ta)} {fmt(tb)} {ratio}")
    return "\n".join(lines)


def plot(records: list[dict], path) -> None:
    """PNG: time and GFLOP/s against n, one line per backend (record) and operation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..analysis.output import atomic_write

    fig, (ax_t, ax_g) = plt.subplots(1, 2, figsize=(11, 4.2))
    for record in records:
        ladder = record["cases"]["ladder"]
        by_op: dict[str, list] = {}
        for size in ladder["sizes"]:
            for op, t in (size.get("operations") or {}).items():
                by_op.setdefault(op, []).append((size["n"], t["min_s"], t.get("gflops")))
        for op, points in by_op.items():
            points.sort()
            label = f"{ladder.get('backend_name', ladder['backend'])} {op}"
            ax_t.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=label)
            rated = [p for p in points if p[2]]
            if rated:
                ax_g.plot([p[0] for p in rated], [p[2] for p in rated], marker="o", label=label)
        ax_g.axhline(ladder["peak"]["gflops"], linestyle=":", color="grey")
    ax_t.set(xscale="log", yscale="log", xlabel="n (sectors x countries)", ylabel="seconds (min)", title="time")
    ax_g.set(xscale="log", xlabel="n (sectors x countries)", ylabel="GFLOP/s", title="rate (dotted: peak)")
    for ax in (ax_t, ax_g):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("mrioflow bench ladder (synthetic worlds)")
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=120))
    plt.close(fig)


if __name__ == "__main__":  # the worker of one size
    print(json.dumps(_worker(json.loads(sys.argv[1]))))
