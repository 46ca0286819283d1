"""Uncertainty ensembles: speed against PySD, and the peak memory of a million runs.

a. ``--runs`` (default 10,000) futures of the alliance model's 22 uncertain structural
   parameters (``conf/uncertainty/alliance.yaml``: uniform over their declared ranges,
   Latin hypercube, fixed seed), status-quo policy, ``rk4`` over the 50-year horizon,
   reduced to the six metrics of ``conf/experiment/uncertainty.yaml``, through
   ``deterrence.uncertainty.run_ensemble`` (chunks of ``--chunk``, in memory, then again
   into a Zarr store), against ``--runs`` sequential PySD runs of the same parameter sets,
   extrapolated from ``--pysd-sample`` timed runs (PySD integrates with Euler only: it
   does a quarter of rk4's rate evaluations, so the ratio favours PySD).
b. peak memory (``ru_maxrss`` of a fresh subprocess) of a ``--memory-runs`` (default
   1,000,000) metrics-only ensemble written to a Zarr store in chunks of ``--chunk``,
   with ``--memory-method`` (default euler), and the same for one chunk's worth of runs
   (what the chunk itself costs).

Times are printed, never asserted. Translation by PySD and compilation by us excluded.

    .venv/bin/python benchmarks/bench_uncertainty.py [--runs 10000] [--pysd-sample 100]
        [--memory-runs 1000000] [--memory-method euler] [--chunk 10000]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
ALLIANCE = REPO / "sd_models" / "alliance_deterrence.mdl"


def fmt(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1e3:.1f} ms"


def setup(n: int, seed: int = 20261202) -> tuple[Any, Any, Any]:
    import deterrence
    from deterrence import uncertainty as unc

    model = deterrence.load(ALLIANCE)
    conf = yaml.safe_load((REPO / "conf" / "uncertainty" / "alliance.yaml").read_text())
    preset = yaml.safe_load((REPO / "conf" / "experiment" / "uncertainty.yaml").read_text())
    uncertainties = unc.resolve(model, unc.from_mapping(conf["parameters"]))
    design = unc.sample(uncertainties, n, "lhs", seed)
    metrics = unc.parse_metrics(preset["metrics"], model)
    return model, design, metrics


def child(args: argparse.Namespace) -> int:
    """One ensemble in this (fresh) process; prints JSON with its peak memory."""
    from deterrence import uncertainty as unc

    model, design, metrics = setup(args.child_runs)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        ds = unc.run_ensemble(model, design, metrics, store=Path(tmp) / "m.zarr",
                              chunk=args.chunk, method=args.memory_method,
                              max_memory="inf")
        seconds = time.perf_counter() - start
        mean = float(ds["survival_50y"].mean())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    print(json.dumps({"runs": args.child_runs, "seconds": seconds, "peak_bytes": peak,
                      "survival_mean": mean}))
    return 0


def measure_memory(runs: int, args: argparse.Namespace) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--child-runs", str(runs), "--chunk",
                           str(args.chunk), "--memory-method", args.memory_method],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def pysd_load(path: Path) -> Any:
    import pysd

    with tempfile.TemporaryDirectory() as tmp:  # PySD writes its .py next to the .mdl
        copy = Path(tmp) / path.name
        shutil.copy(path, copy)
        return pysd.read_vensim(str(copy))


def speed(args: argparse.Namespace) -> None:
    from deterrence import uncertainty as unc

    model, design, metrics = setup(args.runs)
    kwargs = {"method": "rk4", "backend": args.backend}
    unc.run_ensemble(model, unc.sample(design.uncertainties, 64, "lhs", 1), metrics,
                     chunk=64, **kwargs)  # warm-up
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        ds = unc.run_ensemble(model, design, metrics, chunk=args.chunk, **kwargs)
        times.append(time.perf_counter() - start)
    ours = float(np.median(times))
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        stored = unc.run_ensemble(model, design, metrics, chunk=args.chunk,
                                  store=Path(tmp) / "m.zarr", **kwargs)
        with_store = time.perf_counter() - start
    assert np.array_equal(stored["survival_50y"].values, ds["survival_50y"].values)
    warnings.filterwarnings("ignore", module="pysd")
    pysd_model = pysd_load(ALLIANCE)
    rows = [{n: float(design.sample[i, j]) for j, n in enumerate(design.names)}
            for i in range(args.pysd_sample)]
    pysd_model.run(params=rows[0], return_columns=["Deterrence Survival"])  # warm-up
    start = time.perf_counter()
    for row in rows:
        pysd_model.run(params=row, return_columns=["Deterrence Survival", "Mutual Trust",
                                                   "Adversary Risk Estimate",
                                                   "Crisis Tension", "Hazard of Aggression"])
    pysd_each = (time.perf_counter() - start) / args.pysd_sample
    pysd_total = pysd_each * args.runs
    print(f"a. {args.runs:,} futures x 22 uncertain parameters, rk4 over 50 years "
          f"(backend {args.backend}), six metrics, chunks of {args.chunk:,}")
    print(f"   deterrence: {fmt(ours)} in memory (median of {args.repeat}: "
          f"{', '.join(fmt(t) for t in times)}), {fmt(with_store)} into a Zarr store")
    print(f"   PySD: {fmt(pysd_each)} a run (Euler, {args.pysd_sample} sequential runs), "
          f"x {args.runs:,} = {fmt(pysd_total)}")
    print(f"   ratio: {pysd_total / ours:,.0f}x (in memory), {pysd_total / with_store:,.0f}x "
          "(into the store)")
    print(f"   mean deterrence survival at 50 years over the futures: "
          f"{float(ds['survival_50y'].mean()):.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--pysd-sample", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=10_000)
    parser.add_argument("--backend", default="numpy", choices=["numpy", "native", "auto"])
    parser.add_argument("--memory-runs", type=int, default=1_000_000)
    parser.add_argument("--memory-method", default="euler")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--child-runs", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_runs is not None:
        return child(args)
    print(f"load average {Path('/proc/loadavg').read_text().split()[:3]}")
    if not args.skip_speed:
        speed(args)
    if args.memory_runs:
        one = measure_memory(args.chunk, args)
        big = measure_memory(args.memory_runs, args)
        gib = 2**30
        print(f"b. peak memory (ru_maxrss), {args.memory_method}, chunks of {args.chunk:,}, "
              "metrics only, into a Zarr store:")
        print(f"   {one['runs']:,} runs (one chunk): {one['peak_bytes'] / gib:.2f} GiB "
              f"in {fmt(one['seconds'])}")
        print(f"   {big['runs']:,} runs: {big['peak_bytes'] / gib:.2f} GiB in "
              f"{fmt(big['seconds'])}; mean survival at 50 years {big['survival_mean']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
