"""The named benchmark cases of ``mrioflow bench``."""

from __future__ import annotations

import numpy as np

from .. import datasets
from ..engine import Engine
from ..engine.backend import cupy_usable, get_backend
from .harness import case, peak_host_bytes, time_it


def _world(n_countries):
    return datasets.synthetic(year=2013, seed=0, n_countries=n_countries)


@case("ladder")
def ladder_case(
    *,
    sizes=None,
    backend: str = "numpy",
    dtype: str = "float64",
    repeat: int = 3,
    samples: int = 16,
    in_place: bool = False,
    memory_limit: float | None = None,
    quick: bool = False,
    precision: str = "double",
    **_,
) -> dict:
    """The hardware benchmark: LU, multi-right-hand-side solve, a full year and a Monte Carlo batch over a
    ladder of sizes, as seconds, GFLOP/s and fractions of the machine's own peak (see bench/ladder.py)."""
    from .ladder import LADDER, QUICK, run_ladder

    return run_ladder(
        sizes or (QUICK if quick else LADDER),
        backend=backend,
        dtype=dtype,
        repeat=repeat,
        samples=samples,
        in_place=in_place,
        memory_limit=memory_limit,
        peak_n=1024 if quick else 2048,
        precision=precision,
    )


@case("engine")
def engine_case(*, n_countries: int | None = None, repeat: int = 3, pymrio: bool = True, **_) -> dict:
    """One year: Engine.run (numpy) against a bare SciPy LU of the same (I - A) and pymrio's calc_all.

    Figures: seconds (best of ``repeat``), ratios run/LU and pymrio/run, and the
    memory the run adds on top of its inputs in units of one n x n float64 array.
    """
    import scipy.linalg

    mrio = _world(n_countries)
    n = mrio.n
    eng = Engine("numpy")
    IminusA = np.eye(n) - mrio.Z / mrio.x

    # The reference: LAPACK getrf alone, in place on a Fortran-ordered copy of
    # (I - A) made outside the timing (no conversion, no finiteness scan).
    lu = time_it(
        lambda a: scipy.linalg.lu_factor(a, overwrite_a=True, check_finite=False),
        setup=lambda: np.asfortranarray(IminusA),
        repeat=repeat,
    )
    run = time_it(lambda: eng.run(mrio), repeat=repeat)
    added = peak_host_bytes(lambda: eng.run(mrio))
    out = {
        "n": n,
        "countries": mrio.n_countries,
        "stressors": len(mrio.stressors),
        "bare_lu_s": lu.best,
        "engine_run_s": run.best,
        "engine_run_over_lu": run.best / lu.best,
        "run_added_memory_nxn": added / (8 * n * n),
    }
    if pymrio:
        try:
            import pymrio as pm  # noqa: F401
        except ImportError:
            out["pymrio"] = "not installed"
        else:
            from ..io import to_pymrio

            def pymrio_run():
                io = to_pymrio(mrio)
                io.calc_all()
                return io

            ref = time_it(pymrio_run, repeat=1)
            out["pymrio_calc_all_s"] = ref.best
            out["pymrio_over_engine"] = ref.best / run.best
    return out


@case("gpu")
def gpu_case(*, n_countries: int | None = None, repeat: int = 5, **_) -> dict:
    """One year on the GPU (cupy) against the CPU (numpy) in the same run."""
    ok, why = cupy_usable()
    if not ok:
        return {"skipped": why}
    mrio = _world(n_countries)
    cpu, gpu = Engine("numpy"), Engine("cupy")
    backend = gpu.backend
    gpu.run(mrio)  # warm-up: CUDA context, cuSOLVER handles, memory pool
    g = time_it(lambda: gpu.run(mrio), repeat=repeat, sync=backend.synchronize)
    c = time_it(lambda: cpu.run(mrio), repeat=max(1, repeat // 2))

    # The factorisation alone, on the device, against the CPU LU.
    xp = backend.xp
    M = backend.asarray(np.eye(mrio.n) - mrio.Z / mrio.x)
    f = time_it(
        lambda: backend.lu_factor(xp.asarray(M, copy=True), overwrite=True, check=False),
        repeat=repeat,
        sync=backend.synchronize,
    )
    return {
        "device": backend.describe(),
        "n": mrio.n,
        "gpu_run_s": g.best,
        "cpu_run_s": c.best,
        "cpu_over_gpu": c.best / g.best,
        "gpu_lu_s": f.best,
        "float32_run_s": time_it(
            lambda: Engine(get_backend("cupy", "float32")).run(mrio), repeat=repeat, sync=backend.synchronize
        ).best,
    }


@case("montecarlo")
def montecarlo_case(
    *, n_countries: int | None = None, samples: int = 64, backend: str = "numpy", repeat: int = 2, **_
) -> dict:
    """Ensemble throughput: samples per second for each perturbation target (batches of
    mf.montecarlo's default size), the cost of one sample relative to one full engine run
    (factorisation included), and a Z sample (a fresh LU each) against a bare SciPy LU of
    the same n, timed round by round beside it."""
    import scipy.linalg

    from ..ensembles.ensemble import _BatchRunner, _default_batch_size, _expand_rsd, draw_threads

    mrio = _world(n_countries)
    eng = Engine(backend)
    run = time_it(lambda: eng.run(mrio, sector_flows=False), repeat=repeat)

    def bare_lu(rounds: int):
        return time_it(
            lambda a: scipy.linalg.lu_factor(a, overwrite_a=True, check_finite=False),
            setup=lambda: np.asfortranarray(np.eye(mrio.n) - mrio.Z / mrio.x),
            repeat=rounds,
        )

    lu = bare_lu(repeat)
    out = {
        "n": mrio.n,
        "backend": eng.backend.describe(),
        "samples": samples,
        "engine_run_s": run.best,
        "bare_lu_s": lu.best,
    }
    for label, perturb, count in [
        ("intensities", {"intensities": 0.3}, samples),
        ("final_demand", {"final_demand": 0.1}, samples),
        # both: X per sample, a solve of each sample's own R right-hand sides
        ("intensities_and_final_demand", {"intensities": 0.3, "final_demand": 0.1}, max(1, samples // 4)),
        ("Z", {"Z": 0.05}, 1),
    ]:
        # Time batches alone, drawn in threads as mf.montecarlo does here: the one-off
        # factorisation and nominal run of an ensemble are prepared first, outside the timing.
        sigmas = {t: _expand_rsd(t, rsd, mrio) for t, rsd in perturb.items()}
        # batches of the size mf.montecarlo takes by default (its working-memory budget)
        count = min(count, _default_batch_size(mrio, sigmas, np.dtype(eng.backend.dtype_name).itemsize))
        threads = draw_threads(eng.backend, mrio, sigmas)
        runner = _BatchRunner(mrio, sigmas, 100 * count, count, 0, eng.backend, threads=threads)
        runner(0)
        if label != "Z":
            best = time_it(lambda r=runner: r(1), repeat=repeat, sync=eng.backend.synchronize).best
        else:  # round by round beside a bare LU: this shared machine's load changes by the minute
            rounds = [
                (bare_lu(1).best, time_it(lambda r=runner, i=i: r(i), repeat=1, sync=eng.backend.synchronize).best)
                for i in range(1, max(3, repeat) + 1)
            ]
            best = min(z for _, z in rounds)
            out["bare_lu_s"] = min(out["bare_lu_s"], *(lu for lu, _ in rounds))
            out["Z_sample_over_lu"] = best / out["bare_lu_s"]
            out["Z_sample_over_lu_median"] = float(np.median([z / lu for lu, z in rounds]))
        per_sample = best / count
        out[f"{label}_batch"] = count
        out[f"{label}_samples_per_s"] = 1.0 / per_sample
        out[f"{label}_sample_over_run"] = per_sample / run.best
    return out


@case("readers")
def readers_case(*, n_countries: int | None = None, repeat: int = 2, pymrio: bool = True, **_) -> dict:
    """Eora26 text parse against pymrio's parse_eora26, and the native cache (see bench/readers.py)."""
    from .readers import bench_readers

    return bench_readers(n_countries=n_countries, repeat=repeat, pymrio=pymrio)


@case("scenario")
def scenario_case(
    *, n_countries: int | None = None, backend: str = "numpy", repeat: int = 3, sweep: int = 1000, **_
) -> dict:
    """Scenarios priced by what they change (mrioflow.experiments), against a year measured in the
    same run (Engine.run of the table, factorisation included): an intensity scenario (BRI
    agriculture methane -20 %), a final-demand scenario changing one consuming country, a
    rank-26 technology scenario (one country's whole column block), each with accounts, flows
    and BMI/GMI; and a sweep of ``sweep`` intensity scenarios against ten years."""
    import mrioflow as mf

    from ..experiments import Evaluator
    from ..regions import bri

    mrio = _world(n_countries)
    eng = Engine(backend)
    year = time_it(lambda: eng.run(mrio), repeat=repeat, sync=eng.backend.synchronize)
    groups = bri()
    if groups.missing(mrio.countries):  # a small test world: its own two regions
        half = mrio.n_countries // 2
        groups = {c: "first" if i < half else "second" for i, c in enumerate(mrio.countries)}
    prepare = time_it(
        lambda: Evaluator(eng.prepare(mrio), indices={"groups": groups}).evaluate([]),
        repeat=1,
        sync=eng.backend.synchronize,
    )
    ev = Evaluator(eng.prepare(mrio), indices={"groups": groups})
    ev.evaluate([])  # the base: LU, X, S and the base's indices, once
    big = mrio.countries[0] if "CHN" not in mrio.countries else "CHN"
    region = "*" if not isinstance(groups, dict) else "first"
    cases = {
        "intensity": mf.Scenario("bri-ag-ch4").scale_intensity(
            0.8, stressor="CH4", region=region, sector="Agriculture"
        ),
        "final_demand": mf.Scenario("fd").scale_final_demand(1.1, consumer=big),
        "technology_rank26": mf.Scenario("tech").scale_technology(0.9, buyer=big),
    }
    out: dict = {
        "n": mrio.n,
        "countries": mrio.n_countries,
        "backend": eng.backend.describe(),
        "year_s": year.best,
        "base_prepare_s": prepare.best,
    }
    for label, sc in cases.items():
        sc = sc if not isinstance(groups, dict) else mf.Scenario(sc.name, sc.changes, groups=groups)
        t = time_it(lambda s=sc: ev.evaluate([s]), repeat=repeat, sync=eng.backend.synchronize)
        res = ev.evaluate([sc])
        out[f"{label}_s"] = t.best
        out[f"{label}_over_year"] = t.best / year.best
        out[f"{label}_path"] = res.paths[0]
    rng = np.random.default_rng(0)
    many = [
        mf.Scenario(f"s{i}", groups=groups if isinstance(groups, dict) else None).scale_intensity(
            float(f), stressor="CH4", country=mrio.countries[int(c)], sector="Agriculture"
        )
        for i, (f, c) in enumerate(
            zip(rng.uniform(0.5, 1.0, sweep), rng.integers(0, mrio.n_countries, sweep), strict=True)
        )
    ]
    t = time_it(lambda: ev.evaluate(many), repeat=1, sync=eng.backend.synchronize)
    out["sweep_scenarios"] = sweep
    out["sweep_s"] = t.best
    out["sweep_over_10_years"] = t.best / (10 * year.best)
    return out


@case("decompose")
def decompose_case(*, n_countries: int | None = None, backend: str = "numpy", repeat: int = 3, **_) -> dict:
    """A two-year structural decomposition (mf.decompose, all orderings, BRI regions) against a
    year measured in the same run (Engine.run of one table). Goal (issue 17): at most 3 years."""
    import mrioflow as mf

    from ..regions import bri

    a = _world(n_countries)
    b = datasets.synthetic(year=2021, seed=0, n_countries=n_countries)
    eng = Engine(backend)
    year = time_it(lambda: eng.run(a), repeat=repeat, sync=eng.backend.synchronize)
    groups = bri()
    if groups.missing(a.countries):
        groups = {c: "first" for c in a.countries[: a.n_countries // 2]}
    t = time_it(lambda: mf.decompose(a, b, backend=backend, groups=groups), repeat=repeat)
    return {
        "n": a.n,
        "countries": a.n_countries,
        "backend": eng.backend.describe(),
        "year_s": year.best,
        "decompose_s": t.best,
        "decompose_over_year": t.best / year.best,
    }


@case("sobol")
def sobol_case(*, n_countries: int | None = None, backend: str = "numpy", repeat: int = 1, **_) -> dict:
    """The evaluations of a Sobol design (mf.sensitivity.sobol) against a year measured in the same
    run: D = 9 BRI-region CH4 intensity groups, then D = 9 BRI-region final-demand groups, N = 16,
    accounts and GMI of every row. Goal (issue 17): each of the N (D + 2) evaluations at most 0.05
    of a year."""
    import mrioflow as mf

    from ..regions import bri

    mrio = _world(n_countries)
    eng = Engine(backend)
    year = time_it(lambda: eng.run(mrio), repeat=max(repeat, 2), sync=eng.backend.synchronize)
    groups = bri()
    if groups.missing(mrio.countries):
        groups = {c: f"g{i % 3}" for i, c in enumerate(mrio.countries)}
    out: dict = {"n": mrio.n, "countries": mrio.n_countries, "backend": eng.backend.describe(), "year_s": year.best}
    base = eng.prepare(mrio)
    mf.sensitivity.sobol(base, mf.sensitivity.groups_by(mrio, "intensity", "region", groups=groups)[:1], samples=2)
    for kind in ("intensity", "final_demand"):
        gs = mf.sensitivity.groups_by(mrio, kind, "region", groups=groups)
        t = time_it(
            lambda gs=gs: mf.sensitivity.sobol(base, gs, samples=16, indices={"groups": groups}, num_resamples=10),
            repeat=repeat,
        )
        evaluations = 16 * (len(gs) + 2)
        out[f"{kind}_groups"] = len(gs)
        out[f"{kind}_evaluations"] = evaluations
        out[f"{kind}_s"] = t.best
        out[f"{kind}_per_evaluation_over_year"] = t.best / evaluations / year.best
    return out
