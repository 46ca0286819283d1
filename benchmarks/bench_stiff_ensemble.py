"""Stiff ensembles: LSODA, BDF and Radau on one N-run ensemble of a stiff chain.

A chain of S stocks whose outflow rates run from 1e4 to 1e-2 (quadratic outflows, a
sinusoidal source), N runs with the gain ``g`` from 0.5 to 2 (geometric). Times are
printed, never asserted; docs/engine.md quotes them.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_stiff_ensemble.py 1000 10
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import deterrence


def chain_model(folder: Path, n_stocks: int) -> Path:
    """The stiff chain as a Vensim file in ``folder``."""
    blocks = []
    for i in range(n_stocks):
        rate = 10 ** (4 - 6 * i / max(1, n_stocks - 1))
        inflow = "src * (1 + 0.5 * SIN(Time))" if i == 0 else f"x{i-1} * x{i-1} * r{i-1}"
        blocks += [f"x{i} = INTEG({inflow} - r{i} * x{i} * x{i}, 1)", f"r{i} = {rate:g} * g"]
    blocks += ["src = 1", "g = 1", "INITIAL TIME = 0", "FINAL TIME = 100", "TIME STEP = 1",
               "SAVEPER = 1"]
    path = folder / "chain.mdl"
    path.write_text("{UTF-8}\n" + "".join(f"{b}\n\t~\t\n\t~\t\n\t|\n\n" for b in blocks))
    return path


def main(n_runs: int = 1000, n_stocks: int = 10) -> None:
    with tempfile.TemporaryDirectory() as folder:
        model = deterrence.load(chain_model(Path(folder), n_stocks))
    gains = {"g": np.geomspace(0.5, 2, n_runs)}
    for method in ("LSODA", "BDF", "Radau"):
        start = time.perf_counter()
        ds = model.simulate(gains, method=method, rtol=1e-6, atol=1e-8)
        print(f"{method:6s} {n_runs} runs x {n_stocks} stocks {time.perf_counter() - start:7.2f} s"
              f"  {ds.attrs['solver_nfev']} evaluations, {ds.attrs['solver_njev']} Jacobians, "
              f"{ds.attrs['solver_nlu']} LU", flush=True)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
