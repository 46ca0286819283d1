"""Helpers shared by the experiment tests (imported by the test modules and conftest).

``cli(*args)`` runs ``python -m deterrence run ARGS`` in the project folder (so the shipped
``conf/`` is used) and returns the finished process (``returncode``, ``stdout``,
``stderr``). Every test points Hydra's output folders into ``tmp_path`` with
``hydra.run.dir=...`` / ``hydra.sweep.dir=...``.

``DIVIDE_MDL`` is a small Vensim file whose stock grows by ``1 / Divisor``:
``+params.divisor=0`` makes the stock infinite after one step, so that job fails at run
time (SimulationError) while the others succeed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import xarray as xr
import yaml

REPO = Path(__file__).resolve().parents[2]
OUTPUTS = REPO / "outputs"
# short runs: the alliance model's horizon is 50 years at TIME STEP 0.25
FAST = ("solver.final_time=5", "output.plot=false")

DIVIDE_MDL = """{UTF-8}
Level= INTEG (
\tGrowth,
\t\t1)
\t~\tWidgets
\t~\tThe stock.
\t|

Growth=
\t1 / Divisor
\t~\tWidgets/Month
\t~\tInfinite when Divisor is 0.
\t|

Divisor=
\t1
\t~\tMonth
\t~\tA constant to sweep.
\t|

********************************************************
\t.Control
********************************************************~
\t\tSimulation Control Parameters
\t|

FINAL TIME  = 5
\t~\tMonth
\t~\tThe final time for the simulation.
\t|

INITIAL TIME  = 0
\t~\tMonth
\t~\tThe initial time for the simulation.
\t|

SAVEPER  =
        TIME STEP
\t~\tMonth [0,?]
\t~\tThe frequency with which output is stored.
\t|

TIME STEP  = 1
\t~\tMonth [0,?]
\t~\tThe time step for the simulation.
\t|
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DETERRENCE_CONF", "HYDRA_FULL_ERROR")}
    env["MPLBACKEND"] = "Agg"
    return env


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m deterrence run ARGS`` from the project folder."""
    return subprocess.run([sys.executable, "-m", "deterrence", "run", *args], cwd=REPO,
                          env=_env(), capture_output=True, text=True, timeout=timeout,
                          check=False)


def cli_parallel(*commands: Sequence[str], workers: int = 2,
                 ) -> list[subprocess.CompletedProcess[str]]:
    """Several ``deterrence run`` commands, ``workers`` at a time, in the order given."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda args: cli(*args), commands))


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    """Fail with the command's stderr if it did not succeed."""
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stderr[-3000:]}"
    return proc


def job_dirs(sweep: Path) -> list[Path]:
    """The numbered job folders of a sweep, in job order."""
    return sorted((p for p in sweep.iterdir() if p.is_dir() and p.name.isdigit()),
                  key=lambda p: int(p.name))


def job_overrides(job: Path) -> dict[str, str]:
    """``{key: value}`` from a job's ``.hydra/overrides.yaml``."""
    items = yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text())
    return dict(item.split("=", 1) for item in items)


def load(path: Path) -> xr.Dataset:
    return xr.load_dataset(path)


def windows(ds: xr.Dataset) -> dict:
    return json.loads(ds.attrs["shock_windows"])
