"""Timing and memory helpers, the case registry, and the text report."""

from __future__ import annotations

import gc
import platform
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field

CASES: dict[str, Callable[..., dict]] = {}


def case(name: str):
    """Register a benchmark case: a function returning a dict of figures."""

    def register(func):
        CASES[name] = func
        return func

    return register


@dataclass
class Timing:
    """Best and median of several wall-clock runs, in seconds."""

    best: float
    median: float
    runs: list[float] = field(default_factory=list)


def time_it(
    func: Callable[..., object],
    *,
    repeat: int = 3,
    sync: Callable[[], None] | None = None,
    setup: Callable[[], object] | None = None,
) -> Timing:
    """Run ``func`` ``repeat`` times and keep the best and the median wall time.

    ``setup()``, when given, runs before each timed call, outside the timing, and
    its result is passed to ``func``; ``sync()`` runs inside the timing (device work).
    """
    runs = []
    for _ in range(repeat):
        args = () if setup is None else (setup(),)
        gc.collect()
        t0 = time.perf_counter()
        func(*args)
        if sync is not None:
            sync()
        runs.append(time.perf_counter() - t0)
    ordered = sorted(runs)
    return Timing(best=ordered[0], median=ordered[len(ordered) // 2], runs=runs)


def peak_host_bytes(func: Callable[[], object]) -> int:
    """Peak of host memory allocated through Python/NumPy while ``func`` runs.

    tracemalloc sees every NumPy array allocation (NumPy reports them to it),
    which is what matters for n x n arrays; LAPACK's small workspaces are not seen.
    """
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        result = func()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del result
    return peak - base


def _proc_status(field: str) -> int | None:
    """A ``kB`` field of /proc/self/status in bytes (Linux), or None."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def rss_now() -> int:
    """Resident memory of this process now, in bytes (0 where unknown)."""
    return _proc_status("VmRSS") or 0


def reset_rss_peak() -> bool:
    """Set this process's peak resident memory back to its current use (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        return True
    except OSError:
        return False


def rss_peak() -> int:
    """Peak resident memory of this process in bytes, BLAS and LAPACK buffers included.

    VmHWM where Linux gives it (what :func:`reset_rss_peak` resets; unlike
    ``ru_maxrss`` it does not carry the parent's size over a fork + exec),
    else ``resource.getrusage`` ``ru_maxrss``.
    """
    peak = _proc_status("VmHWM")
    if peak is not None:
        return peak
    import resource
    import sys

    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas() -> list[dict]:
    """BLAS/LAPACK libraries in use: threadpoolctl's view when installed, else NumPy's build config."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        import numpy as np

        try:
            config = np.show_config(mode="dicts")["Build Dependencies"]
        except Exception:  # older NumPy: no dict mode
            return []
        return [
            {"api": api, **{k: v for k, v in config.get(api, {}).items() if k in ("name", "version")}}
            for api in ("blas", "lapack")
        ]
    return [
        {
            k: v
            for k, v in lib.items()
            if k in ("internal_api", "version", "num_threads", "threading_layer", "architecture", "filepath")
        }
        for lib in threadpool_info()
    ]


def machine() -> dict:
    """The machine, its CPU and GPU, library and BLAS versions, and thread settings."""
    import os

    import numpy as np
    import scipy

    from ..engine.backend import cupy_usable, host_memory_available

    total = None
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        pass
    gpu, cupy_version = None, None
    ok, why = cupy_usable()
    if ok:
        import cupy

        props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
        name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
        gpu, cupy_version = {"name": name, "memory_bytes": int(props["totalGlobalMem"])}, cupy.__version__
    threads = {
        v: os.environ[v] for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS") if v in os.environ
    }
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_bytes": total,
        "memory_available_bytes": host_memory_available(),
        "gpu": gpu if gpu else why,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "cupy": cupy_version,
        "blas": _blas(),
        "threads": threads,
    }


def run_cases(names, *, progress: bool = True, command: str | None = None, **options) -> dict:
    """Run the named cases; returns the JSON record of bench/ladder.py's schema
    ({"schema", "created", "command", "machine", "cases": {name: figures}})."""
    from . import cases  # noqa: F401  (registers the cases)

    unknown = [n for n in names if n not in CASES]
    if unknown:
        from ..errors import OptionError

        raise OptionError(f"unknown benchmark case(s) {unknown}; available: {', '.join(CASES)}")
    import datetime

    from .ladder import SCHEMA

    out = {
        "schema": SCHEMA,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": command,
        "machine": machine(),
        "cases": {},
    }
    for name in names:
        if progress:
            print(f"[bench] {name} ...", flush=True)
        out["cases"][name] = CASES[name](**options)
    return out


def format_report(report: dict, *, command: str | None = None) -> str:
    """A Markdown rendering of ``run_cases``' output: one table per case, with what
    the case measures, the machine, and the command that produced it."""
    import datetime
    import inspect

    m = report["machine"]
    lines = ["# mrioflow benchmarks", ""]
    if command:
        lines += [f"Produced by `{command}` on {datetime.date.today().isoformat()}.", ""]
    lines += [
        f"Machine: {m['platform']}, {m['cpu_count']} CPUs, Python {m['python']}, numpy {m['numpy']}.",
        "Times are the best of the repetitions, in seconds; ratios compare figures measured in the",
        "same run, which is what to compare across these shared, noisy machines.",
        "",
    ]
    for name, figures in report["cases"].items():
        doc = inspect.getdoc(CASES[name]) or ""
        lines += [f"## {name}", "", " ".join(doc.split("\n\n")[0].split()), ""]
        if name == "ladder":
            from .ladder import format_ladder

            lines += format_ladder(figures) + [""]
            continue
        lines += ["| figure | value |", "| --- | --- |"]
        for key, value in figures.items():
            if isinstance(value, float):
                value = f"{value:.4g}"
            lines.append(f"| {key} | {value} |")
        lines.append("")
    return "\n".join(lines)
