"""The native backend (numba) against the NumPy backend and PySD, side by side in one run.

Measures, each engine warmed up once and timed in alternation (so that load from other
processes falls on all alike), the median of ``--repeat`` calls:

a. ``samples/SIR/SIR.mdl`` (shared test models), one Euler run;
b. ``sd_models/alliance_deterrence.mdl``, one Euler run;
c. the alliance model, one ``rk4`` run (PySD has Euler only: its Euler run is the anchor);
d. the alliance model, one ``RK45`` run (SciPy's integrator on compiled rates);
e. the alliance model, ``--runs`` (default 10,000) parameter sets, ``rk4``, in one call,
   keeping two stocks, against that many sequential PySD Euler runs extrapolated from
   ``--pysd-sample`` timed ones; and the native kernel on 1 and 2 threads;
f. time to first result in a fresh process (``deterrence simulate`` of the alliance
   model, and one ``deterrence run`` job): NumPy, auto (the default) and native with the
   kernel cache cold (emptied) and warm, the median of ``--fresh`` processes each;
g. peak memory (max RSS) of a process running ``--big-runs`` (default 100,000) alliance
   runs with ``rk4`` on native, keeping two stocks, beside the size of all trajectories.

Times are of ``Model.simulate`` (and PySD's ``run``) end to end; the native kernel's
own time (integration only, no outputs, no Dataset) is printed beside it, as is the
first call's time (numba's compile, or its load from the disk cache). The fresh
processes use a kernel cache of their own in a temporary folder. Times are printed,
never asserted.

    .venv/bin/python benchmarks/bench_native.py [--runs 10000] [--pysd-sample 20]
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
ALLIANCE = REPO / "sd_models" / "alliance_deterrence.mdl"
SIR = Path("samples") / "SIR" / "SIR.mdl"


def fmt(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.0f} us"


def alternate(calls: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    """Median seconds of each call, the calls timed in alternation after one warm-up."""
    samples: dict[str, list[float]] = {k: [] for k in calls}
    for fn in calls.values():
        fn()
    for _ in range(repeat):
        for key, fn in calls.items():
            start = time.perf_counter()
            fn()
            samples[key].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in samples.items()}


def pysd_load(path: Path) -> Any:
    import pysd

    with tempfile.TemporaryDirectory() as tmp:  # PySD writes its .py next to the .mdl
        copy = Path(tmp) / path.name
        shutil.copy(path, copy)
        return pysd.read_vensim(str(copy))


def kernel_time(model: Any, method: str, params: dict[str, Any] | None, repeat: int,
                threads: int | None = None) -> float:
    """Median seconds of the native kernel alone (the integration, no outputs)."""
    import numba

    from deterrence import backends, integrate

    nodes = (model.variable(n).node for n in (params or {}))
    overridden = frozenset(n for n in nodes if model.compiled.nodes[n].kind != "param")
    program = model.program(overridden, True)
    native = program.native
    values = [np.asarray(model.compiled.nodes[p].default, float) for p in program.param_ids]
    for name, value in (params or {}).items():
        node = model.variable(name).node
        values[program.param_ids.index(node)] = np.asarray(value, float)
    with np.errstate(all="ignore"):
        start = program.setup([v if v.ndim else np.float64(v) for v in values], True, 1e-9)
    n_runs = max([np.size(v) for v in values] + [1])
    y0 = np.empty((len(start.y0), n_runs))
    for i, v in enumerate(start.y0):
        y0[i] = v
    c = start.controls
    grid = integrate.make_grid(*(float(np.ravel(v)[0]) for v in c), method=method)
    before = numba.get_num_threads()
    if threads is not None:
        numba.set_num_threads(threads)
    try:
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            backends.run_native(native, method, start.constants, y0, grid)
            times.append(time.perf_counter() - t)
    finally:
        numba.set_num_threads(before)
    return statistics.median(times)


def _timed(command: list[str], env: dict[str, str], before: Callable[[], Any] | None = None
           ) -> float:
    if before is not None:
        before()
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def fresh_processes(repeat: int) -> None:
    """Time to first result in new processes, the cases in alternation."""
    cli = str(Path(sys.executable).with_name("deterrence"))
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "kernels"
        env = {**os.environ, "DETERRENCE_KERNEL_CACHE_DIR": str(cache)}

        def cold() -> None:
            shutil.rmtree(cache, ignore_errors=True)

        simulate = [cli, "simulate", str(ALLIANCE)]
        job = [cli, "run", f"hydra.run.dir={tmp}/run", "output.plot=false"]
        cases: dict[str, tuple[list[str], Callable[[], Any] | None]] = {}
        for method in ("RK45", "euler"):
            base = [*simulate, "--method", method]
            cases[f"simulate {method}, numpy (the old default)"] = ([*base, "--backend",
                                                                     "numpy"], None)
            cases[f"simulate {method}, auto (the default)"] = (base, None)
            cases[f"simulate {method}, native, cache cold"] = ([*base, "--backend",
                                                                "native"], cold)
            cases[f"simulate {method}, native, cache warm"] = ([*base, "--backend",
                                                                "native"], None)
        cases["run (one job, euler), numpy"] = ([*job, "solver.backend=numpy"], None)
        cases["run (one job, euler), auto (the default)"] = (job, None)
        cases["run (one job, euler), native, cache warm"] = ([*job, "solver.backend=native"],
                                                             None)
        _timed([*simulate, "--backend", "native"], env)  # the parse cache warm
        samples: dict[str, list[float]] = {k: [] for k in cases}
        for _ in range(repeat):
            for key, (command, before) in cases.items():
                if key.endswith("cache warm"):
                    _timed(command, env)  # make sure the entry is there
                samples[key].append(_timed(command, env, before))
    print(f"Time to first result in a fresh process (median of {repeat}; alliance model):")
    for key, values in samples.items():
        print(f"  {key}: {fmt(statistics.median(values))} "
              f"(min {fmt(min(values))}, max {fmt(max(values))})")


def peak_memory(n_runs: int) -> None:
    """Max RSS of a process keeping two stocks of ``n_runs`` rk4 runs, beside the size
    of every variable's trajectory."""
    code = f"""
import resource, numpy as np, deterrence
m = deterrence.load({str(ALLIANCE)!r})
ranged = [n for n, v in m.constants.items() if v.limits[0] is not None
          and v.limits[1] is not None][:2]
rng = np.random.default_rng(1)
params = {{n: rng.uniform(*m.constants[n].limits, {n_runs}) for n in ranged}}
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
ds = m.simulate(params, method="rk4", backend="native", variables=list(m.stocks)[:2])
full = len(m.simulate(method="rk4").data_vars) * ds.sizes["time"] * {n_runs} * 8
print(base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, full, ds.nbytes)
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout.split()
    base, peak, full, kept = (int(x) for x in out[-4:])
    print(f"Peak memory, {n_runs:,} alliance runs (rk4, native, two stocks kept): max RSS "
          f"{peak / 1024:,.0f} MB ({base / 1024:,.0f} MB before the run); the kept Dataset "
          f"{kept / 1e6:,.0f} MB; every variable's trajectories would take {full / 1e9:,.1f} GB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--pysd-sample", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--fresh", type=int, default=5,
                        help="fresh processes timed per case (0: skip)")
    parser.add_argument("--big-runs", type=int, default=100_000,
                        help="runs of the peak-memory case (0: skip)")
    parser.add_argument("--models-root", type=Path, default=Path(os.environ.get(
        "DETERRENCE_TEST_MODELS", REPO.parent / "shared" / "test-models")))
    args = parser.parse_args(argv)
    sir_path = args.models_root / SIR
    if not sir_path.is_file():
        print(f"{sir_path} not found: set --models-root or $DETERRENCE_TEST_MODELS",
              file=sys.stderr)
        return 2
    warnings.filterwarnings("ignore", module="pysd")
    import numba

    import deterrence

    print(f"Native backend benchmark: numba {numba.__version__}, numpy {np.__version__}, "
          f"{os.cpu_count()} CPUs, numba threads {numba.get_num_threads()}, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rows: list[tuple[str, ...]] = []
    single_times: dict[str, float] = {}

    def single(label: str, path: Path, method: str) -> None:
        pysd_model = pysd_load(path)
        model = deterrence.load(path)
        start = time.perf_counter()
        model.simulate(method=method, backend="native")
        first = time.perf_counter() - start
        fixed = method in ("euler", "rk4")
        compiled = model.program(frozenset(), fixed).native.compile_seconds
        t = alternate({"pysd": lambda: pysd_model.run(),
                       "numpy": lambda: model.simulate(method=method, backend="numpy"),
                       "native": lambda: model.simulate(method=method, backend="native")},
                      args.repeat)
        kernel = kernel_time(model, method, None, args.repeat) if fixed else math.nan
        rows.append((label, fmt(t["pysd"]), fmt(t["numpy"]), fmt(t["native"]),
                     fmt(kernel) if fixed else "-",
                     f"{t['pysd'] / t['numpy']:,.0f}x", f"{t['pysd'] / t['native']:,.0f}x",
                     f"{t['pysd'] / kernel:,.0f}x" if fixed else "-"))
        single_times[label] = t["native"]
        print(f"  {label}: first native call {fmt(first)} (numba compile "
              + ", ".join(f"{k} {fmt(v)}" for k, v in compiled.items()) + ")")

    single("SIR, one Euler run", sir_path, "euler")
    single("alliance, one Euler run", ALLIANCE, "euler")
    single("alliance, one rk4 run (PySD: Euler)", ALLIANCE, "rk4")
    single("alliance, one RK45 run (PySD: Euler)", ALLIANCE, "RK45")
    ratio = single_times["alliance, one rk4 run (PySD: Euler)"] / \
        single_times["alliance, one Euler run"]
    print(f"  rk4 / Euler, alliance, native: {ratio:.2f}x")

    # -- the ensemble --------------------------------------------------------------
    model = deterrence.load(ALLIANCE)
    ranged = [n for n, v in model.constants.items()
              if v.limits[0] is not None and v.limits[1] is not None][:2]
    rng = np.random.default_rng(20261202)
    params = {n: rng.uniform(*model.constants[n].limits, args.runs) for n in ranged}
    keep = list(model.stocks)[:2]
    pysd_model = pysd_load(ALLIANCE)
    pysd_model.run(params={n: float(v[0]) for n, v in params.items()})
    start = time.perf_counter()
    for i in range(args.pysd_sample):
        pysd_model.run(params={n: float(v[i]) for n, v in params.items()})
    pysd_total = (time.perf_counter() - start) * args.runs / args.pysd_sample
    start = time.perf_counter()
    model.simulate(params, method="rk4", backend="native", variables=keep)
    first = time.perf_counter() - start
    repeat = max(1, args.repeat // 3)
    t = alternate({
        "numpy": lambda: model.simulate(params, method="rk4", backend="numpy",
                                        variables=keep),
        "native": lambda: model.simulate(params, method="rk4", backend="native",
                                         variables=keep)}, repeat)
    k1 = kernel_time(model, "rk4", params, repeat, threads=1)
    k2 = kernel_time(model, "rk4", params, repeat, threads=min(2, numba.config.NUMBA_NUM_THREADS))
    rows.append((f"alliance, {args.runs:,} runs rk4 (PySD: Euler, x{args.runs:,})",
                 fmt(pysd_total), fmt(t["numpy"]), fmt(t["native"]), fmt(k2),
                 f"{pysd_total / t['numpy']:,.0f}x", f"{pysd_total / t['native']:,.0f}x",
                 f"{pysd_total / k2:,.0f}x"))
    print(f"  ensemble: first native call {fmt(first)}; kernel on 1 thread {fmt(k1)}, "
          f"on 2 threads {fmt(k2)} ({k1 / k2:.2f}x); PySD extrapolated from "
          f"{args.pysd_sample} runs")
    print()
    if args.fresh:
        fresh_processes(args.fresh)
        print()
    if args.big_runs:
        peak_memory(args.big_runs)
        print()
    head = ("run", "PySD", "numpy", "native", "native kernel", "PySD/numpy", "PySD/native",
            "PySD/kernel")
    widths = [max(len(r[i]) for r in [*rows, head]) for i in range(len(head))]
    for r in [head, tuple("-" * w for w in widths), *rows]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
