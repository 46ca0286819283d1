"""The native backend (numba) against the NumPy backend and PySD, side by side in one run.

Measures, each engine warmed up once and timed in alternation (so that load from other
processes falls on all alike), the median of ``--repeat`` calls:

a. ``samples/SIR/SIR.mdl`` (shared test models), one Euler run;
b. ``sd_models/alliance_deterrence.mdl``, one Euler run;
c. the alliance model, one ``rk4`` run (PySD has Euler only: its Euler run is the anchor);
d. the alliance model, ``--runs`` (default 10,000) parameter sets, ``rk4``, in one call,
   keeping two stocks, against that many sequential PySD Euler runs extrapolated from
   ``--pysd-sample`` timed ones; and the native kernel on 1 and 2 threads.

Times are of ``Model.simulate`` (and PySD's ``run``) end to end; the native kernel's
own time (integration only, no outputs, no Dataset) is printed beside it. Numba's
compile time for each kernel is printed too (compiled code of exec'd source cannot use
numba's cache, so every new process pays it once per model and scheme). Times are
printed, never asserted.

    .venv/bin/python benchmarks/bench_native.py [--runs 10000] [--pysd-sample 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--pysd-sample", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=7)
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

    def single(label: str, path: Path, method: str) -> None:
        pysd_model = pysd_load(path)
        model = deterrence.load(path)
        start = time.perf_counter()
        model.simulate(method=method, backend="native")
        first = time.perf_counter() - start
        compiled = model.program(frozenset(), True).native.compile_seconds
        t = alternate({"pysd": lambda: pysd_model.run(),
                       "numpy": lambda: model.simulate(method=method, backend="numpy"),
                       "native": lambda: model.simulate(method=method, backend="native")},
                      args.repeat)
        kernel = kernel_time(model, method, None, args.repeat)
        rows.append((label, fmt(t["pysd"]), fmt(t["numpy"]), fmt(t["native"]), fmt(kernel),
                     f"{t['pysd'] / t['numpy']:,.0f}x", f"{t['pysd'] / t['native']:,.0f}x",
                     f"{t['pysd'] / kernel:,.0f}x"))
        print(f"  {label}: first native call {fmt(first)} (numba compile "
              + ", ".join(f"{k} {fmt(v)}" for k, v in compiled.items()) + ")")

    single("SIR, one Euler run", sir_path, "euler")
    single("alliance, one Euler run", ALLIANCE, "euler")
    single("alliance, one rk4 run (PySD: Euler)", ALLIANCE, "rk4")

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
    head = ("run", "PySD", "numpy", "native", "native kernel", "PySD/numpy", "PySD/native",
            "PySD/kernel")
    widths = [max(len(r[i]) for r in [*rows, head]) for i in range(len(head))]
    for r in [head, tuple("-" * w for w in widths), *rows]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
