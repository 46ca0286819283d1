"""A 100-job Hydra multirun against the same grid as ONE batched job (issue 4).

Measures, end to end, as a user runs them (each a fresh ``python -m deterrence run``
process from the project folder, ``output.plot=false``, the alliance model over its full
horizon with the default solver):

a. a multirun of N x N jobs (default 10 x 10 = 100) over two policy levers,
   ``policy.joint_exercises`` and ``policy.diplomatic_engagement``, with Hydra's basic
   launcher (one job after another in one process), merged by the ``MergeSweep`` callback
   into ``combined.nc``;
b. the same grid as one job, ``+experiment.batch={...}``: one ensemble of N*N runs along
   the engine's run axis, reshaped to the same layout (its own ``combined.nc``);
c. for scale, one single job (``deterrence run output.plot=false``): the fixed cost of a
   process (imports, Hydra, compiling the model) that both of the above pay once;
d. agreement: every variable of the two ``combined.nc`` (same dims, coords, and numbers to
   rtol 1e-12).

Prints both times and their ratio (target in issue 4: the batched job at least 20x faster).
Times are printed, never asserted; the script exits 1 only if the two results disagree.

    .venv/bin/python benchmarks/bench_experiments.py [--levels 10] [--repeats 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import xarray as xr

REPO = Path(__file__).resolve().parents[1]
LEVERS = ("policy.joint_exercises", "policy.diplomatic_engagement")
COMMON = ("output.plot=false",)
TARGET = 20.0


def levels(n: int) -> list[float]:
    """n values inside [0, 1], written the same way in both commands."""
    return [round(float(v), 4) for v in np.linspace(0.05, 0.95, n)]


def deterrence_run(args: list[str]) -> float:
    """Run ``python -m deterrence run ARGS`` from the project folder; seconds, end to end."""
    env = {k: v for k, v in os.environ.items() if k != "DETERRENCE_CONF"}
    env["MPLBACKEND"] = "Agg"
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "deterrence", "run", *args], cwd=REPO,
                          env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"deterrence run {' '.join(args)} failed ({proc.returncode}):\n"
                 f"{proc.stderr[-3000:]}")
    return elapsed


def multirun_args(values: list[float], sweep_dir: Path) -> list[str]:
    text = ",".join(map(str, values))
    return ["-m", *(f"{lever}={text}" for lever in LEVERS), *COMMON,
            f"hydra.sweep.dir={sweep_dir}"]


def batch_args(values: list[float], run_dir: Path) -> list[str]:
    text = ",".join(map(str, values))
    batch = "{" + ",".join(f"{lever}:[{text}]" for lever in LEVERS) + "}"
    return [f"+experiment.batch={batch}", *COMMON, f"hydra.run.dir={run_dir}"]


def job_seconds(folder: Path) -> float:
    """Seconds spent inside the jobs (``run_job``), from their logs' "wrote ... (T s)"."""
    logs = [folder / "deterrence.log"] if (folder / "deterrence.log").exists() else sorted(
        folder.glob("*/deterrence.log"))
    return sum(float(m) for log in logs
               for m in re.findall(r"wrote .*results\.nc \(([\d.]+) s\)", log.read_text()))


def compare(multirun: xr.Dataset, batched: xr.Dataset) -> float:
    """Assert the same layout and numbers; the largest relative difference seen."""
    assert dict(multirun.sizes) == dict(batched.sizes), (multirun.sizes, batched.sizes)
    assert set(multirun.coords) == set(batched.coords)
    for name, coord in multirun.coords.items():
        np.testing.assert_array_equal(batched[name].values, coord.values, err_msg=name)
    assert set(multirun.data_vars) == set(batched.data_vars)
    worst = 0.0
    for name, da in multirun.data_vars.items():
        assert batched[name].dims == da.dims, name
        a, b = da.values, batched[name].values
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=0, err_msg=name)
        scale = np.maximum(np.abs(a), np.finfo(float).tiny)
        worst = max(worst, float(np.nanmax(np.abs(b - a) / scale)))
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", type=int, default=10,
                        help="values per lever: a levels x levels grid (default 10 -> 100 jobs)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="time each command this many times; report the best and median")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where the runs write (default: a temporary folder, removed)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)

    values = levels(args.levels)
    n_jobs = len(values) ** 2
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_experiments_"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"deterrence experiments benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"python {platform.python_version()} on {platform.platform()}, "
          f"{os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f}")
    print(f"grid: {' x '.join(LEVERS)} = {len(values)} x {len(values)} = {n_jobs} runs "
          f"({values[0]} .. {values[-1]}); {' '.join(COMMON)}; output in {work}")

    single, multi, batch = [], [], []
    try:
        for i in range(args.repeats):
            # a fresh folder each time, so no run finds an earlier one's files
            single.append(deterrence_run([*COMMON, f"hydra.run.dir={work / f'single{i}'}"]))
            batch.append(deterrence_run(batch_args(values, work / f"batch{i}")))
            multi.append(deterrence_run(multirun_args(values, work / f"multirun{i}")))
            print(f"  repeat {i + 1}: single job {single[-1]:.2f} s, batched "
                  f"{batch[-1]:.2f} s, multirun {multi[-1]:.2f} s", flush=True)

        inside_multi = job_seconds(work / "multirun0")
        inside_batch = job_seconds(work / "batch0")
        multirun = xr.load_dataset(work / "multirun0" / "combined.nc")
        batched = xr.load_dataset(work / "batch0" / "combined.nc")
        try:
            worst = compare(multirun, batched)
        except AssertionError as exc:
            print(f"\nDISAGREE: the two combined.nc differ: {exc}")
            return 1
    finally:
        if args.workdir is None and not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    def fmt(samples: list[float]) -> str:
        if len(samples) == 1:
            return f"{samples[0]:8.2f} s"
        return f"{min(samples):8.2f} s (median {statistics.median(samples):.2f} s)"

    best_multi, best_batch, best_single = min(multi), min(batch), min(single)
    ratio = best_multi / best_batch
    print()
    rows = [(f"a. multirun, {n_jobs} jobs, basic launcher", multi),
            (f"b. one batched job, {n_jobs} runs", batch),
            ("c. one single job (process floor)", single)]
    width = max(len(label) for label, _ in rows) + 1
    for label, samples in rows:
        extra = (f"  ({(best_multi - best_single) / max(n_jobs - 1, 1) * 1000:.0f} ms per "
                 "extra job)" if samples is multi else "")
        print(f"{label + ':':<{width}} {fmt(samples)}{extra}")
    print(f"ratio a/b: {ratio:.1f}x (target >= {TARGET:g}x: "
          f"{'met' if ratio >= TARGET else 'NOT met'})")
    print(f"   beyond the process floor: a-c {best_multi - best_single:.2f} s, "
          f"b-c {best_batch - best_single:.2f} s")
    print(f"   inside the jobs (run_job: simulate, write results.nc; from the logs of repeat "
          f"1): multirun {inside_multi:.2f} s of its {multi[0]:.2f} s, batched "
          f"{inside_batch:.2f} s of its {batch[0]:.2f} s")
    print(f"d. agreement: dims {dict(multirun.sizes)}, {len(multirun.data_vars)} variables, "
          f"largest relative difference {worst:.1e} (rtol 1e-12)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
