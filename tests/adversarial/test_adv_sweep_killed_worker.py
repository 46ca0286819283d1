"""Fault: one job process of a parallel sweep is killed (``kill -9``, out of memory).

When ``hydra/launcher=cores`` ran on joblib, the killed worker broke the whole pool, the
other running job was killed with it, and the multirun ended with a traceback: no
``combined.nc``, no ``failures.yaml``. With ``hydra/launcher=local`` (submitit) the sweep
stopped at the job without a result. Now the other job finishes, the merge runs on what
finished and records the killed job as failed (lost), and ``deterrence run -m`` exits 1
with one line saying how many jobs failed or were lost.

The test holds both jobs (a Hydra callback added only here, see ``adv_sweep_hooks``),
kills the worker of one through the pid its marker file gives, then lets the other go on.
The folder held an earlier sweep's results for the killed job's number first: those must
not be merged in its place.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml
from adv_sweep_hooks import started, wait_for

REPO = Path(__file__).resolve().parents[2]
HOOKS = Path(__file__).resolve().parent

DIVIDE = "".join(f"{block}\n\t~\t\n\t~\t\n\t|\n\n" for block in (
    "Level = INTEG(Growth, 1)", "Growth = 1 / Divisor", "Divisor = 1", "INITIAL TIME = 0",
    "FINAL TIME = 4", "TIME STEP = 1", "SAVEPER = 1"))

LAUNCHERS = {
    "cores": (["hydra/launcher=cores", "hydra.launcher.n_jobs=2"], "killed by signal SIGKILL"),
    "local": (["hydra/launcher=local", "hydra.launcher.timeout_min=5"],
              "ended without a result"),
}


def env() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(HOOKS), os.environ.get("PYTHONPATH")) if p)
    return {**{k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"},
            "PYTHONPATH": path, "MPLBACKEND": "Agg"}


def sweep_command(model: Path, sweep: Path, *more: str) -> list[str]:
    return [sys.executable, "-m", "deterrence", "run", "-m", "model=vensim",
            f"model.path={model}", "+params.divisor=1,2", "output.plot=false",
            f"hydra.sweep.dir={sweep}", *more]


@pytest.mark.slow
@pytest.mark.parametrize("launcher", list(LAUNCHERS))
def test_a_killed_worker_loses_only_its_own_job(launcher: str, tmp_path: Path) -> None:
    model, sweep, held = tmp_path / "divide.mdl", tmp_path / "sweep", tmp_path / "held"
    model.write_text("{UTF-8}\n" + DIVIDE, encoding="utf-8")
    earlier = subprocess.run(sweep_command(model, sweep), cwd=REPO, env=env(),
                             capture_output=True, text=True, timeout=300, check=False)
    assert earlier.returncode == 0, earlier.stderr
    args, reason = LAUNCHERS[launcher]
    hold = f"+hydra.callbacks.hold={{_target_:adv_sweep_hooks.Hold,folder:{held}}}"
    proc = subprocess.Popen(sweep_command(model, sweep, *args, hold), cwd=REPO, env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        jobs = wait_for(lambda: len(started(held)) == 2 and started(held),
                        "both jobs to start")
        victim = next(pid for pid, overrides in jobs.items()
                      if "+params.divisor=1" in overrides.split())
        os.kill(victim, signal.SIGKILL)
    finally:
        (held / "go").touch()
        out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    warning = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1, err
    assert "1 of 2 jobs failed or were lost" in warning[0]
    assert str(sweep / "failures.yaml") in warning[0]
    assert "merged 2 jobs (1 failed)" in out
    with xr.open_dataset(sweep / "combined.nc") as ds:
        assert ds.attrs["n_jobs"] == 2
        assert ds.attrs["n_failed"] == 1
        np.testing.assert_array_equal(ds["level"].sel(divisor=2).values, [1, 1.5, 2, 2.5, 3])
        # the killed job's cell is empty: not the earlier sweep's result for job 0
        assert np.isnan(ds["level"].sel(divisor=1).values).all()
    failures = yaml.safe_load((sweep / "failures.yaml").read_text())
    assert [f["job"] for f in failures] == [0]
    assert "+params.divisor=1" in failures[0]["overrides"]
    assert reason in failures[0]["error"]
    record = yaml.safe_load((sweep / "0" / "failure.yaml").read_text())
    assert reason in record["error"]
