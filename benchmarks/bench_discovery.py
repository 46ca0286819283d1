"""Time the analyses of an uncertainty ensemble on synthetic metrics (issue 13, "Measure").

PRIM of 100,000 runs over 8 and 20 parameters, CART and extra-trees feature scores on the
same runs, Sobol indices (first, total and second order) of 10 parameters from 22,528 runs
and first and total order from 24,576 runs. The metric is synthetic, so this times the
analysis alone, not the model. Times are printed, never asserted::

    .venv/bin/python benchmarks/bench_discovery.py
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import pandas as pd
import xarray as xr
from SALib.sample import sobol as sobol_sample

from deterrence.analysis.discovery import cart, feature_scores, prim
from deterrence.analysis.sensitivity import sobol


def timed(label: str, call):
    start = time.perf_counter()
    out = call()
    print(f"{label:<58} {time.perf_counter() - start:8.2f} s")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.platform()}, "
          f"{os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f}")
    rng = np.random.default_rng(0)
    for d in (8, 20):
        x = pd.DataFrame(rng.random((args.runs, d)), columns=[f"p{i}" for i in range(d)])
        y = ((x.p0 > 0.2) & (x.p0 < 0.5) & (x.p1 > 0.7)).to_numpy() ^ (
            rng.random(args.runs) < 0.05)
        r = timed(f"prim, {args.runs} runs x {d} parameters", lambda x=x, y=y: prim(x, y))
        print(f"  {len(r.trajectory)} boxes; chosen: {r.describe().splitlines()[0]}")
        timed(f"cart (depth 4), {args.runs} runs x {d} parameters",
              lambda x=x, y=y: cart(x, y))
        timed(f"feature_scores (100 trees), {args.runs} runs x {d} parameters",
              lambda x=x, y=y: feature_scores(x, y))
    names = [f"p{i}" for i in range(10)]
    problem = {"num_vars": 10, "names": names, "bounds": [[0, 1]] * 10}
    for second, n in ((True, 1024), (False, 2048)):
        xs = sobol_sample.sample(problem, n, calc_second_order=second, seed=1)
        metric = xr.DataArray(xs @ np.arange(1, 11) + 5 * xs[:, 0] * xs[:, 1], dims="run")
        timed(f"sobol, 10 parameters, {len(xs)} runs, second order {second}",
              lambda metric=metric, second=second: sobol(problem, metric,
                                                         second_order=second, seed=1))


if __name__ == "__main__":
    main()
