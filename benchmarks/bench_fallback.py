"""What the explicit fallback costs: ``engine="pysd"`` against the compiled engine.

On the alliance model (``sd_models/alliance_deterrence.mdl``, Euler, its own TIME STEP
and horizon): the load (parse, neutralise, PySD's build and import, against parse and
compile), one run, and an ensemble of ``--runs`` parameter sets (Joint Exercise
Intensity from 0 to 1): one call each, the fallback looping PySD runs. The median of
``--repeat`` timings; printed, never asserted.

    .venv/bin/python benchmarks/bench_fallback.py
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from pathlib import Path

import numpy as np

import deterrence

MODEL = Path(__file__).resolve().parents[1] / "sd_models" / "alliance_deterrence.mdl"


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    levels = {"Joint Exercise Intensity": np.linspace(0, 1, args.runs)}
    rows = []
    models = {}
    for engine in ("compiled", "pysd"):
        load_s, model = timed(lambda e=engine: deterrence.load(MODEL, engine=e), args.repeat)
        models[engine] = model
        one_s, one = timed(lambda m=model: m.simulate(method="euler"), args.repeat)
        many_s, many = timed(lambda m=model: m.simulate(levels, method="euler"), 1)
        rows.append((engine, load_s, one_s, many_s))
        models[engine] = (one, many)
    (a1, am), (b1, bm) = models["compiled"], models["pysd"]
    diff = max(float(np.max(np.abs(a1[v].values - b1[v].values))) for v in a1.data_vars)
    diff_many = max(float(np.max(np.abs(am[v].values - bm[v].values))) for v in am.data_vars)
    print(f"{MODEL.name}: Euler, {a1.sizes['time']} saved times, {args.runs}-run ensemble")
    print(f"{'engine':10} {'load s':>8} {'1 run s':>9} {f'{args.runs} runs s':>11}")
    for engine, load_s, one_s, many_s in rows:
        print(f"{engine:10} {load_s:8.3f} {one_s:9.4f} {many_s:11.3f}")
    (_, _, c1, cm), (_, _, p1, pm) = rows
    print(f"fallback / compiled: one run {p1 / c1:,.0f}x slower, ensemble {pm / cm:,.0f}x")
    print(f"largest difference between the engines: one run {diff:g}, ensemble {diff_many:g}")


if __name__ == "__main__":
    main()
