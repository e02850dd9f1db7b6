"""What the condition estimate adds to a factorisation: the Eora26-sized synthetic world.

    python tools/bench_condition.py [--repeat 3]

Times, best of ``--repeat``, the LU of I - A (scipy getrf, as the engine runs it), ||I - A||_1
(mrioflow.kernels.norm1) and the estimate of ||(I - A)^-1||_1 from the LU
(mrioflow.engine.system.condition_estimate), and prints the two as shares of the LU.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import mrioflow as mf
from mrioflow.engine.backend import get_backend
from mrioflow.engine.system import condition_estimate
from mrioflow.kernels import norm1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    backend = get_backend("numpy")
    world = mf.datasets.synthetic(2013)
    x = world.x
    eye_minus_a = np.eye(world.n) - world.Z / np.where(x == 0, 1, x)[None, :]
    best: dict[str, float] = {}
    cond = float("nan")
    for _ in range(args.repeat):
        M = eye_minus_a.copy()
        t0 = time.perf_counter()
        norm = norm1(M)
        t1 = time.perf_counter()
        lu = backend.lu_factor(M, overwrite=True)
        t2 = time.perf_counter()
        cond = condition_estimate(backend, lu, norm)
        t3 = time.perf_counter()
        for name, seconds in (("norm1", t1 - t0), ("lu", t2 - t1), ("estimate", t3 - t2)):
            best[name] = min(best.get(name, float("inf")), seconds)
    print(
        f"n = {world.n:,}, condition number about {cond:.4g}; best of {args.repeat}: LU {best['lu']:.3f} s, "
        f"||I - A||_1 {best['norm1']:.4f} s ({best['norm1'] / best['lu']:.2%} of the LU), "
        f"estimate {best['estimate']:.4f} s ({best['estimate'] / best['lu']:.2%} of the LU)"
    )


if __name__ == "__main__":
    main()
