"""Read time and peak memory of a GLORIA year: mrioflow's reader against pymrio's parse_gloria.

Usage (each measurement runs in a fresh Python process; peak memory is its maximum RSS):

    python tools/bench_gloria.py make FOLDER REGIONS [SECTORS [iso]]  # a made-up year, zipped as released
                                                                      # (iso: ISO3 codes, for mrioflow run)
    python tools/bench_gloria.py mrioflow FOLDER                   # mf.io.read(FOLDER, year=2022)
    python tools/bench_gloria.py pymrio FOLDER                     # pymrio.parse_gloria + calc_all
    python tools/bench_gloria.py ladder OUT REGIONS...             # make + both readers, side by side

Run big sizes under ``flock /tmp/mrioflow-bigjob.lock`` on a shared machine.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
import warnings

YEAR = 2022


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # ru_maxrss is in KiB on Linux


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def iso_codes(regions: int) -> list[str]:
    """Region codes for a study run: the BRI countries but BTN, MDV, TKM and BRN, other Eora26
    countries, and GLORIA's four rest-of regions last (``regions`` >= 62)."""
    import mrioflow as mf

    left_out = {"BTN", "MDV", "TKM", "BRN"}
    codes = [c for c in mf.regions.bri().countries if c not in left_out]
    for c in mf.data.eora26_countries()["iso3"]:
        if len(codes) >= regions - 4:
            break
        if c not in codes and c not in left_out:
            codes.append(c)
    return codes + ["XAF", "XAM", "XAS", "XEU"]


def make(folder: str, regions: int, sectors: int = 120, iso: bool = False) -> None:
    from mrioflow.datasets.gloria_like import write_gloria_like

    t = time.perf_counter()
    codes = iso_codes(regions) if iso else None
    write_gloria_like(
        folder, YEAR, regions=regions, sectors=sectors, density=60, seed=1, compresslevel=1, codes=codes, names=codes
    )
    print(json.dumps({"made": folder, "regions": regions, "sectors": sectors, "s": time.perf_counter() - t}))


def run_mrioflow(folder: str) -> None:
    import mrioflow as mf

    t, c = time.perf_counter(), _cpu_s()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = mf.io.read(folder, year=YEAR, format="gloria")
    s, cpu = time.perf_counter() - t, _cpu_s() - c
    n = m.n
    print(
        json.dumps(
            {
                "reader": "mrioflow",
                "n": n,
                "read_s": s,
                "read_cpu_s": cpu,
                "peak_gib": _peak_gib(),
                "n2_gib": 8 * n * n / 2**30,
            }
        )
    )


def run_pymrio(folder: str) -> None:
    import pymrio

    t, c = time.perf_counter(), _cpu_s()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        io = pymrio.parse_gloria(folder, year=YEAR, version=59)
        s_parse, cpu = time.perf_counter() - t, _cpu_s() - c
        io.calc_all()
    s = time.perf_counter() - t
    n = io.A.shape[0]
    print(
        json.dumps(
            {
                "reader": "pymrio",
                "n": n,
                "read_s": s_parse,
                "read_cpu_s": cpu,
                "read_calc_all_s": s,
                "peak_gib": _peak_gib(),
                "n2_gib": 8 * n * n / 2**30,
            }
        )
    )


def _child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["?"])[-1], "rc": out.returncode}
    return json.loads(out.stdout.strip().splitlines()[-1])


def ladder(out: str, sizes: list[int]) -> None:
    for r in sizes:
        folder = f"{out}/R{r}"
        _child("make", folder, str(r))
        a, b = _child("mrioflow", folder), _child("pymrio", folder)
        print(json.dumps({"regions": r, "mrioflow": a, "pymrio": b}), flush=True)


if __name__ == "__main__":
    cmd, *rest = sys.argv[1:]
    if cmd == "make":
        make(rest[0], int(rest[1]), int(rest[2]) if len(rest) > 2 else 120, iso="iso" in rest[3:])
    elif cmd == "mrioflow":
        run_mrioflow(rest[0])
    elif cmd == "pymrio":
        run_pymrio(rest[0])
    elif cmd == "ladder":
        ladder(rest[0], [int(r) for r in rest[1:]])
    else:
        sys.exit(__doc__)
