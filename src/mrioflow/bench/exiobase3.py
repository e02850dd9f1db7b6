"""Benchmark of the EXIOBASE 3 reader: text parse against pymrio's parse_exiobase3, and the cache.

``python -m mrioflow.bench.exiobase3 --workdir DIR`` writes (once; kept in DIR)
full-size EXIOBASE 3 years in the released layout (49 regions x 200 products:
A, Z and Y are 9,800 rows; ``satellite/`` 1,113 stressors and ``impacts/`` 126,
with F_Y; made-up numbers, about 30 % of A non-zero) as ``IOT_{year}_pxp.zip``,
then times, each in a fresh Python process (wall seconds and peak resident memory):

- ``mrioflow.io.read(..., cache=False)``: parsing the zip;
- the same read with the pyarrow parser instead of the compiled one (once);
- pymrio's ``parse_exiobase3`` on the same zip (the reference);
- ``mrioflow.io.read`` loading its native cache (after one read that writes it).

Compare ratios, not seconds, on shared machines.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

N_REGIONS, N_PRODUCTS, N_CATEGORIES = 49, 200, 7
N_SATELLITE, N_IMPACTS = 1113, 126


def _regions() -> list[str]:
    from ..regions import concordance

    conc = concordance("exiobase3")
    assert conc is not None
    codes = list(dict.fromkeys(c for c in conc.code_of.values() if c not in conc.aggregates))
    return codes + sorted(conc.aggregates)


def _write_table(fh, rows, cols, values, index_names, column_names) -> None:
    """pandas' to_csv layout (tab-separated, header rows, index columns), written by pyarrow."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    ni = len(index_names)
    head = []
    for level, cname in enumerate(column_names):
        head.append("\t".join([cname] + [""] * (ni - 1) + [c[level] for c in cols]))
    if ni > 1:
        head.append("\t".join(index_names + [""] * len(cols)))
    fh.write(("\n".join(head) + "\n").encode())
    step = 512
    for r0 in range(0, len(rows), step):
        block = values[r0 : r0 + step]
        arrays = [pa.array([r[k] for r in rows[r0 : r0 + step]]) for k in range(ni)]
        arrays += [pa.array(np.ascontiguousarray(block[:, j])) for j in range(block.shape[1])]
        table = pa.Table.from_arrays(arrays, names=[f"c{j}" for j in range(len(arrays))])
        pacsv.write_csv(
            table, fh, write_options=pacsv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none")
        )


def write_year(folder: Path, year: int, *, seed: int = 0) -> Path:
    """Write a full-size ``IOT_{year}_pxp.zip`` into ``folder`` (kept when it exists)."""
    path = folder / f"IOT_{year}_pxp.zip"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed + year)
    regions = _regions()
    sectors = [f"Product {k:03d}" for k in range(N_PRODUCTS)]
    cats = [f"Final demand category {k}" for k in range(N_CATEGORIES)]
    idx = [(r, s) for r in regions for s in sectors]
    fd = [(r, c) for r in regions for c in cats]
    n = len(idx)
    A = rng.uniform(0, 1, (n, n))
    A[A < 0.7] = 0.0
    A *= 0.5 / A.sum(axis=0).max()
    Y = rng.uniform(0, 100, (n, len(fd)))
    x = A.sum(axis=1) * 0 + Y.sum(axis=1) * 1.5  # any positive output: the files need not balance here
    Z = A * x[None, :]
    sat = ["Taxes less subsidies on products purchased: Total"] + [
        f"Value added item {k}" for k in range(8)
    ]  # 9 M.EUR rows
    sat += [f"CH4 - non combustion - Source {k} - air" for k in range(20)]
    sat += [f"Stressor {k} - air" for k in range(N_SATELLITE - len(sat))]
    units = ["M.EUR"] * 9 + ["kg"] * (N_SATELLITE - 9)
    imp = [f"Impact {k}" for k in range(N_IMPACTS)]
    tmp = path.with_suffix(".partial")
    name = f"IOT_{year}_pxp"

    def params(files, kind):
        return json.dumps(
            {
                "files": {
                    k: {"name": f, "nr_index_col": str(i), "nr_header": str(h)} for k, (f, i, h) in files.items()
                },
                "systemtype": kind,
                "name": "IO" if kind == "IOSystem" else "ext",
            }
        )

    meta = json.dumps({"description": "bench", "name": "IO", "system": "pxp", "version": "bench", "history": []})
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for rel, arr, cols in (("A.txt", A, idx), ("Z.txt", Z, idx), ("Y.txt", Y, fd)):
            with zf.open(f"{name}/{rel}", "w", force_zip64=True) as fh:
                _write_table(
                    fh, idx, cols, arr, ["region", "sector"], ["region", "category" if rel == "Y.txt" else "sector"]
                )
        zf.writestr(
            f"{name}/x.txt",
            "region\tsector\tindout\n" + "".join(f"{r}\t{s}\t{float(v)!r}\n" for (r, s), v in zip(idx, x)),
        )
        zf.writestr(f"{name}/unit.txt", "region\tsector\tunit\n" + "".join(f"{r}\t{s}\tM.EUR\n" for r, s in idx))
        zf.writestr(
            f"{name}/file_parameters.json",
            params(
                {
                    "A": ("A.txt", 2, 2),
                    "Z": ("Z.txt", 2, 2),
                    "Y": ("Y.txt", 2, 2),
                    "x": ("x.txt", 2, 1),
                    "unit": ("unit.txt", 2, 1),
                },
                "IOSystem",
            ),
        )
        zf.writestr(f"{name}/metadata.json", meta)
        for ext, labels, us in (("satellite", sat, units), ("impacts", imp, ["kg CO2 eq"] * N_IMPACTS)):
            F = rng.uniform(0, 1e3, (len(labels), n)) * (rng.uniform(size=(len(labels), n)) < 0.5)
            FY = np.zeros((len(labels), len(fd)))
            FY[:, 0::N_CATEGORIES] = rng.uniform(0, 1e3, (len(labels), len(regions)))
            for rel, arr, cols in (("F.txt", F, idx), ("F_Y.txt", FY, fd)):
                with zf.open(f"{name}/{ext}/{rel}", "w", force_zip64=True) as fh:
                    _write_table(
                        fh,
                        [(s,) for s in labels],
                        cols,
                        arr,
                        ["stressor"],
                        ["region", "category" if rel == "F_Y.txt" else "sector"],
                    )
            zf.writestr(
                f"{name}/{ext}/unit.txt", "stressor\tunit\n" + "".join(f"{s}\t{u}\n" for s, u in zip(labels, us))
            )
            zf.writestr(
                f"{name}/{ext}/file_parameters.json",
                params({"F": ("F.txt", 1, 2), "F_Y": ("F_Y.txt", 1, 2), "unit": ("unit.txt", 1, 1)}, "Extension"),
            )
            zf.writestr(f"{name}/{ext}/metadata.json", meta)
    tmp.rename(path)
    return path


_CHILD = """
import resource, sys, time, warnings
warnings.simplefilter("ignore")
{setup}
t0 = time.perf_counter()
{body}
dt = time.perf_counter() - t0
print("RESULT", dt, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2)
"""

OURS = "import mrioflow as mf\nimport mrioflow.io.cache\nm = mf.io.read({path!r}, cache=False)\nassert m.n == 9800"
CACHED = (
    "import mrioflow as mf\nimport mrioflow.io.cache\nm = mf.io.read({path!r}, cache_dir={cache!r})\n"
    "assert m.meta['cache'] == 'hit', m.meta['cache']"
)
PYARROW = (
    "import mrioflow as mf\nimport mrioflow.io.cache\nfrom mrioflow.io import text\ntext.compiled = None\n"
    "m = mf.io.read({path!r}, cache=False)\nassert m.n == 9800"
)
PYMRIO = "import pymrio\nio = pymrio.parse_exiobase3({path!r})\nassert io.Z.shape == (9800, 9800)"


def _child(body: str) -> tuple[float, float]:
    """(seconds, peak resident GiB) of ``body`` run in a fresh Python process (its import lines run
    before the clock starts; mrioflow's reader modules are imported up front, as pymrio's are)."""
    lines = body.splitlines()
    setup = "\n".join(ln for ln in lines if ln.startswith(("import ", "from ")))
    timed = "\n".join(ln for ln in lines if not ln.startswith(("import ", "from ")))
    code = _CHILD.format(setup=setup, body=timed)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"benchmark child failed: {proc.stderr[-2000:]}")
    _, s, gib = line.split()
    return float(s), float(gib)


def bench_exiobase3(workdir, *, year: int = 2019, repeat: int = 2, pymrio: bool = True) -> dict:
    """Time our parse, pymrio's and the cached load of one full-size year (interleaved, best of ``repeat``)."""
    workdir = Path(workdir)
    t0 = time.perf_counter()
    path = str(write_year(workdir / "exio", year))
    out: dict = {"write_s": time.perf_counter() - t0, "zip_mb": Path(path).stat().st_size / 1e6}
    with zipfile.ZipFile(path) as zf:
        out["text_mb"] = sum(i.file_size for i in zf.infolist()) / 1e6
    cache = str(workdir / "cache")
    ours, theirs = [], []
    for _ in range(repeat):
        ours.append(_child(OURS.format(path=path)))
        if pymrio:
            theirs.append(_child(PYMRIO.format(path=path)))
    out["parse_s"], out["parse_peak_gib"] = min(ours)
    out["pyarrow_parse_s"], out["pyarrow_peak_gib"] = _child(PYARROW.format(path=path))
    out["pyarrow_over_parse"] = out["pyarrow_parse_s"] / out["parse_s"]
    if theirs:
        out["pymrio_parse_s"], out["pymrio_peak_gib"] = min(theirs)
        out["pymrio_over_parse"] = out["pymrio_parse_s"] / out["parse_s"]
    _child(CACHED.replace("== 'hit'", "!= ''").format(path=path, cache=cache))  # writes the cache
    out["cached_load_s"], out["cached_peak_gib"] = min(
        _child(CACHED.format(path=path, cache=cache)) for _ in range(repeat)
    )
    out["cached_over_parse"] = out["cached_load_s"] / out["parse_s"]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mrioflow.bench.exiobase3", description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", required=True, help="where the full-size files (several GB) and the cache go")
    ap.add_argument("--year", type=int, default=2019)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--no-pymrio", action="store_true")
    ap.add_argument("--write-only", action="store_true", help="only write the files (years: --year and more)")
    ap.add_argument("--years", type=int, nargs="*", default=[], help="more years to write (for a sweep)")
    args = ap.parse_args(argv)
    if args.write_only:
        for y in [args.year, *args.years]:
            print(write_year(Path(args.workdir) / "exio", y))
        return 0
    res = bench_exiobase3(args.workdir, year=args.year, repeat=args.repeat, pymrio=not args.no_pymrio)
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
