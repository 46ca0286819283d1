"""Engine speed against PySD (the anchor), measured side by side in one process.

Measures, on ``samples/SIR/SIR.mdl`` from the shared test models:

a. one run, Euler, the file's own TIME STEP and SAVEPER: PySD ``model.run()`` against
   ``Model.simulate(method="euler")`` (target in issue 2: at least 10x);
b. N parameter sets (default 10,000; Contact Infectivity and Duration drawn uniformly
   with a fixed seed) in ONE call of our engine against N sequential PySD runs,
   extrapolated from ``--pysd-sample`` timed runs (target: at least 1,000x), for two
   output requests: (i) the three stocks saved every day, (ii) every variable at the
   file's own SAVEPER;
c. agreement: our Euler results against PySD's at the save times, for the single run and
   for every run of the PySD sample, so the comparison is apples to apples.

Translation (PySD) and compilation (ours) are excluded; each side is warmed up once.
Times are printed, never asserted: this is a script, not a test.

    .venv/bin/python benchmarks/bench_engine.py
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SIR = Path("samples") / "SIR" / "SIR.mdl"
STOCKS = ("Susceptible", "Infectious", "Recovered")
RANGES = {"Contact Infectivity": (0.1, 0.6), "Duration": (2.0, 10.0)}


@dataclass
class Timing:
    """Seconds per call over the repeats: best, median, and the median kernel time."""

    samples: list[float]
    kernel_samples: list[float]  # seconds in the kernel (page faults, mostly)

    @property
    def best(self) -> float:
        return min(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def kernel(self) -> float:
        return statistics.median(self.kernel_samples)

    def add(self, fn: Callable[[], Any], number: int = 1) -> Any:
        """Time ``number`` consecutive calls of ``fn``; keep the mean; return the result."""
        gc.collect()
        sys_before = resource.getrusage(resource.RUSAGE_SELF).ru_stime
        start = time.perf_counter()
        for _ in range(number):
            result = fn()
        self.samples.append((time.perf_counter() - start) / number)
        self.kernel_samples.append(
            (resource.getrusage(resource.RUSAGE_SELF).ru_stime - sys_before) / number)
        return result


def fmt_time(seconds: float) -> str:
    if seconds >= 1.0:
        return f"{seconds:.3g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} us"


def rel_diff(ours: np.ndarray, theirs: np.ndarray) -> float:
    """max |a - b| / max(|a|, |b|), counting places where both are 0 as equal."""
    ours, theirs = np.broadcast_arrays(np.asarray(ours, float), np.asarray(theirs, float))
    scale = np.maximum(np.abs(ours), np.abs(theirs))
    diff = np.abs(ours - theirs)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(scale > 0, diff / scale, 0.0)
    return float(rel.max()) if rel.size else 0.0


def compare(ds: Any, frame: Any, run: int | None = None) -> float:
    """Max relative difference of every variable of ``ds`` against PySD's ``frame``."""
    if not np.allclose(ds["time"].values, frame.index.values, rtol=0, atol=1e-9):
        raise RuntimeError("the save times of the two engines differ")
    worst = 0.0
    for da in ds.data_vars.values():
        column = da.attrs["vensim_name"]
        ours = da.isel(run=run).values if run is not None else da.values
        ours = np.broadcast_to(ours, (ds.sizes["time"],))
        worst = max(worst, rel_diff(ours, frame[column].to_numpy(dtype=float)))
    return worst


def version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> list[str]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return [
        f"date          {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"machine       {cpu_model()}; {os.cpu_count()} CPUs ({usable} usable); "
        f"{platform.system()} {platform.release()}",
        f"python        {platform.python_version()} ({sys.executable})",
        f"numpy {version('numpy')}, scipy {version('scipy')}, xarray {version('xarray')}, "
        f"pandas {version('pandas')}, pysd {version('pysd')}, "
        f"deterrence {version('deterrence')}",
    ]


def load_average() -> str:
    try:
        return " / ".join(f"{v:.2f}" for v in os.getloadavg()) + " (1 / 5 / 15 min)"
    except OSError:
        return "unknown"


def default_models_root() -> Path:
    env = os.environ.get("DETERRENCE_TEST_MODELS")
    return Path(env) if env else REPO.parent / "shared" / "test-models"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--models-root", type=Path, default=default_models_root(),
                        help="the shared test-models folder ($DETERRENCE_TEST_MODELS)")
    parser.add_argument("--runs", type=int, default=10_000,
                        help="parameter sets integrated in one call of our engine")
    parser.add_argument("--pysd-sample", type=int, default=100,
                        help="sequential PySD runs timed, then extrapolated to --runs")
    parser.add_argument("--repeat", type=int, default=7,
                        help="timed repeats of each measurement (best and median shown)")
    parser.add_argument("--number", type=int, default=20,
                        help="calls per repeat for the single-run benchmark (both engines)")
    parser.add_argument("--seed", type=int, default=20240601,
                        help="seed of the parameter draws")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.pysd_sample < 1 or args.repeat < 1 or args.number < 1:
        parser.error("--runs, --pysd-sample, --repeat and --number must be positive")
    args.pysd_sample = min(args.pysd_sample, args.runs)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    path = args.models_root / SIR
    if not path.is_file():
        print(f"{path} not found: point --models-root or $DETERRENCE_TEST_MODELS at the "
              "shared test models", file=sys.stderr)
        return 2

    warnings.filterwarnings("ignore", module="pysd")
    import pysd

    import deterrence

    print("Engine benchmark: deterrence vs PySD (anchor), same process, same machine")
    for line in machine_info():
        print("  " + line)
    print(f"  model         {path}")
    print(f"  load average  {load_average()} (other processes share the CPUs)")
    print()

    # -- load both; translation and compilation are excluded from every timing -------
    with tempfile.TemporaryDirectory() as tmp:  # PySD writes its .py next to the .mdl
        copy = Path(tmp) / path.name
        shutil.copy(path, copy)
        start = time.perf_counter()
        pysd_model = pysd.read_vensim(str(copy))
        pysd_translate = time.perf_counter() - start
    start = time.perf_counter()
    ours = deterrence.load(path)
    ours_compile = time.perf_counter() - start
    print(f"  load (excluded from timings): PySD read_vensim {fmt_time(pysd_translate)}, "
          f"deterrence.load {fmt_time(ours_compile)}")

    rows: list[tuple[str, str, str, str, str, str]] = []
    notes: list[str] = []

    # -- a. one run, the file's own step and SAVEPER ---------------------------------
    # The two engines are timed in alternation, so that load from other processes
    # falls on both alike.
    frame_one = pysd_model.run()  # warm-up
    ds_one = ours.simulate(method="euler")  # warm-up
    n_saves_one = ds_one.sizes["time"]
    print(f"  the file's own TIME STEP {ds_one.attrs['time_step']:g}, SAVEPER "
          f"{ds_one.attrs['saveper']:g}: {n_saves_one} save times")
    t_pysd_one, t_ours_one = Timing([], []), Timing([], [])
    for _ in range(args.repeat):
        t_pysd_one.add(pysd_model.run, args.number)
        t_ours_one.add(lambda: ours.simulate(method="euler"), args.number)
    diff_one = compare(ds_one, frame_one)
    ratio_one = t_pysd_one.median / t_ours_one.median
    rows.append(("a. 1 run, all vars, "
                 f"{n_saves_one} saves", fmt_time(t_pysd_one.median),
                 fmt_time(t_ours_one.median), f"{ratio_one:,.1f}x", ">= 10x",
                 "met" if ratio_one >= 10 else "MISSED"))
    notes.append(f"a. best of {args.repeat} x {args.number} calls: PySD "
                 f"{fmt_time(t_pysd_one.best)}, ours {fmt_time(t_ours_one.best)} "
                 f"-> {t_pysd_one.best / t_ours_one.best:,.1f}x")

    # -- b. N parameter sets in one call vs N sequential PySD runs -------------------
    rng = np.random.default_rng(args.seed)
    params = {name: rng.uniform(lo, hi, args.runs) for name, (lo, hi) in RANGES.items()}
    ranges = ", ".join(f"{k} ~ U({lo:g}, {hi:g})" for k, (lo, hi) in RANGES.items())
    notes.append(f"b. {args.runs:,} parameter sets, seed {args.seed}: {ranges}; PySD "
                 f"extrapolated from {args.pysd_sample} sequential runs (the first "
                 f"{args.pysd_sample} sets) x {args.runs / args.pysd_sample:g}, timed in "
                 f"{args.repeat} blocks alternating with our {args.repeat} timed calls")

    # PySD gets ``saveper=`` rather than ``return_timestamps=``: the same save times by
    # its faster path (return_timestamps costs it an np.isclose every step), and given
    # every time because PySD keeps a saveper set by an earlier run.
    own_saveper = float(ds_one.attrs["saveper"])
    requests = {
        "i": {"label": "stocks, saveper 1", "ours": {"saveper": 1.0, "variables": STOCKS},
              "pysd": {"saveper": 1.0, "return_columns": list(STOCKS)}},
        "ii": {"label": "all vars, own SAVEPER", "ours": {},
               "pysd": {"saveper": own_saveper, "return_columns": None}},
    }
    diffs: dict[str, float] = {}
    for key, request in requests.items():
        def call(request: dict[str, Any] = request) -> Any:
            return ours.simulate(params, method="euler", **request["ours"])

        def pysd_run(i: int, request: dict[str, Any] = request) -> Any:
            return pysd_model.run(params={k: float(v[i]) for k, v in params.items()},
                                  **request["pysd"])

        gc.collect()
        start = time.perf_counter()
        ds = call()  # warm-up; the first touch of fresh memory is reported separately
        first = time.perf_counter() - start
        n_saves = ds.sizes["time"]
        mbytes = ds.nbytes / 1e6
        # keep only the runs PySD repeats, so that memory stays bounded
        reference = ds.isel(run=slice(0, args.pysd_sample)).copy(deep=True)
        del ds
        pysd_run(0)  # warm-up
        t_ours, t_alternating, t_pysd = Timing([], []), Timing([], []), Timing([], [])
        for _ in range(args.repeat):  # back to back: the steady state
            t_ours.add(call)
        diffs[key] = 0.0
        # alternating with blocks of the PySD sample: both see the same load from other
        # processes, and our call finds its freed memory gone back to the system
        for block in np.array_split(np.arange(args.pysd_sample), args.repeat):
            t_alternating.add(call)
            for i in block:
                frame = t_pysd.add(lambda i=i: pysd_run(int(i)))
                diffs[key] = max(diffs[key], compare(reference, frame, run=int(i)))
        del reference
        pysd_total = sum(t_pysd.samples) * args.runs / args.pysd_sample
        ratio = pysd_total / t_ours.median
        issue_scale = args.runs == 10_000  # the issue's target is for 10,000 runs
        ratio_alt = pysd_total / t_alternating.median
        for label, r, t in ((f"b{key}. {args.runs:,} runs, {request['label']}, {n_saves} "
                             "saves", ratio, t_ours),
                            ("     same, our calls alternating with PySD's", ratio_alt,
                             t_alternating)):
            rows.append((label, fmt_time(pysd_total), fmt_time(t.median), f"{r:,.0f}x",
                         ">= 1,000x" if issue_scale else "n/a",
                         ("met" if r >= 1000 else "MISSED") if issue_scale else ""))
        notes.append(
            f"b{key}. output {mbytes:,.0f} MB; PySD per run: median "
            f"{fmt_time(t_pysd.median)}, mean {fmt_time(statistics.fmean(t_pysd.samples))}; "
            f"ours best of {args.repeat} {fmt_time(t_ours.best)} "
            f"({pysd_total / t_ours.best:,.0f}x), in the kernel {fmt_time(t_ours.kernel)} "
            f"(median); alternating: best {fmt_time(t_alternating.best)}, in the kernel "
            f"{fmt_time(t_alternating.kernel)} (median); first call in this process "
            f"{fmt_time(first)}; per run {fmt_time(t_ours.median / args.runs)}")
    notes.append("bii. is memory-bound: every variable at every step of every run "
                 "(time x run float64 arrays) is written and wrapped in a Dataset, so the "
                 "ratio is lower than bi.'s")
    notes.append("first calls, and calls made after a pause (alternating), include the "
                 "kernel's first touch of fresh memory pages: on a virtual machine that "
                 "returns freed memory to its host, that costs about a second per GB; "
                 "'in the kernel' shows that share of our timed calls")

    # -- table -----------------------------------------------------------------------
    header = ("benchmark", "PySD", "deterrence", "ratio", "target", "")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print()
    print("Times are medians of the repeats (PySD in b: the extrapolated sequential total; "
          "ours: calls back to back, then alternating with PySD's)")
    rule = "  ".join("-" * w for w in widths)
    print(rule)
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    print(rule)
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in
                                             zip(row[1:], widths[1:], strict=True)]
        print("  ".join(cells).rstrip())
    print(rule)
    for note in notes:
        print("  " + note)

    print()
    print("c. agreement, our Euler vs PySD at the same save times (max relative difference"
          " over every variable and time):")
    print(f"  a.  single run, {n_saves_one} saves:         {diff_one:.2e}")
    for key, request in requests.items():
        print(f"  b{key}. {args.pysd_sample} sampled runs, {request['label']}: "
              f"{diffs[key]:.2e}")
    print(f"\nload average at the end {load_average()}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory {peak:,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
