"""Where the time of one small run goes: ``Model.simulate`` stage by stage.

Wraps the stages of one call (choosing the backend, the grid, the integration, the
compiled or NumPy outputs, the Dataset's series and the Dataset itself) with
``time.perf_counter`` and prints the median of each over ``--runs`` calls, after
``--warmup`` calls, back to back (no other engine runs between them, so the CPU caches
stay warm: a lower bound of what one call costs). Times are printed, never asserted.

    .venv/bin/python benchmarks/bench_stages.py [--method euler] [--backend native] \\
        [--runs 300] [--model sd_models/alliance_deterrence.mdl]
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=REPO / "sd_models" /
                        "alliance_deterrence.mdl")
    parser.add_argument("--method", default="euler")
    parser.add_argument("--backend", default="native")
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args(argv)

    import deterrence
    from deterrence import backends
    from deterrence import model as model_module

    samples: dict[str, list[float]] = collections.defaultdict(list)

    def timed(label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*a: Any, **k: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                samples[label].append(time.perf_counter() - start)
        return wrapper

    for owner, name, label in [
            (backends, "choose", "choose the backend"),
            (model_module.Model, "_grid", "grid and budget"),
            (model_module.Model, "_integrate", "integration"),
            (backends, "outputs_of", "compiled outputs"),
            (model_module.Model, "_outputs", "NumPy outputs"),
            (model_module, "collect_series", "Dataset: series"),
            (model_module, "build_dataset", "Dataset: build")]:
        setattr(owner, name, timed(label, getattr(owner, name)))

    model = deterrence.load(args.model)
    for _ in range(args.warmup):
        model.simulate(method=args.method, backend=args.backend)
    samples.clear()
    total = []
    for _ in range(args.runs):
        start = time.perf_counter()
        ds = model.simulate(method=args.method, backend=args.backend)
        total.append(time.perf_counter() - start)
    print(f"{args.model.name}, {args.method}, backend {ds.attrs['backend']}: "
          f"{len(ds.data_vars)} variables, {ds.sizes['time']} save times; median of "
          f"{args.runs} calls back to back; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"  {'one call':20s} {statistics.median(total) * 1e3:8.3f} ms")
    accounted = 0.0
    for label, values in samples.items():
        median = statistics.median(values)
        accounted += median * len(values) / args.runs
        print(f"  {label:20s} {median * 1e3:8.3f} ms ({len(values) / args.runs:g} a call)")
    print(f"  {'the rest':20s} {(statistics.median(total) - accounted) * 1e3:8.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
