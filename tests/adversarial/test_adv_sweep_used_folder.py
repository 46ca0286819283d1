"""Fault: a sweep run into a folder that holds another sweep, or that another sweep uses.

Rerunning a different, smaller sweep into a used ``hydra.sweep.dir`` merged the earlier
sweep's leftover job folders with it (a 2-job sweep reported "merged 5 jobs"), and two
sweeps into one folder at once both exited 0 while one overwrote the other. Now each
sweep writes a record (``sweep.yaml``: its id and its jobs) and every job writes the id
into its results, so the merge takes exactly its own sweep's jobs; a folder in use by a
running sweep is refused (one line, exit 2); a used folder is set aside (its earlier
files keep time-stamped names) rather than refused, because rerunning a sweep into its
folder is how a partly failed or killed sweep is redone.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import xarray as xr
import yaml
from adv_sweep_hooks import refused_in_one_line, started, wait_for

REPO = Path(__file__).resolve().parents[2]
HOOKS = Path(__file__).resolve().parent

DIVIDE = """{UTF-8}
Level = INTEG(Growth, 1)
\t~\tWidgets
\t~\t
\t|

Growth = 1 / Divisor
\t~\tWidgets/Month
\t~\t
\t|

Divisor = 1
\t~\tMonth
\t~\t
\t|

INITIAL TIME = 0
\t~\tMonth
\t~\t
\t|

FINAL TIME = 4
\t~\tMonth
\t~\t
\t|

TIME STEP = 1
\t~\tMonth
\t~\t
\t|

SAVEPER = 1
\t~\tMonth
\t~\t
\t|
"""


def env() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(HOOKS), os.environ.get("PYTHONPATH")) if p)
    return {**{k: v for k, v in os.environ.items()
               if k not in ("HYDRA_FULL_ERROR", "DETERRENCE_CONF")},
            "PYTHONPATH": path, "MPLBACKEND": "Agg"}


def sweep_args(model: Path, divisors: str, *more: str) -> list[str]:
    return [sys.executable, "-m", "deterrence", "run", "-m", "model=vensim",
            f"model.path={model}", f"+params.divisor={divisors}", "output.plot=false", *more]


def run(args: list[str], cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env(), capture_output=True, text=True,
                          timeout=300, check=False)


def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "divide.mdl"
    path.write_text(DIVIDE, encoding="utf-8")
    return path


def test_a_smaller_sweep_into_a_used_folder_merges_only_its_own_jobs(tmp_path: Path) -> None:
    model, sweep = model_file(tmp_path), tmp_path / "sweep"
    first = run(sweep_args(model, "1,2,4,5,10", f"hydra.sweep.dir={sweep}"))
    assert first.returncode == 0, first.stderr
    first_combined = (sweep / "combined.nc").read_bytes()
    second = run(sweep_args(model, "0.5,0.25", f"hydra.sweep.dir={sweep}"))
    assert second.returncode == 0, second.stderr
    assert "merged 2 jobs (0 failed)" in second.stdout
    with xr.open_dataset(sweep / "combined.nc") as ds:
        assert ds.attrs["n_jobs"] == 2
        assert ds.attrs["n_failed"] == 0
        np.testing.assert_array_equal(ds["divisor"].values, [0.5, 0.25])
        np.testing.assert_array_equal(ds["level"].sel(divisor=0.25).values, [1, 5, 9, 13, 17])
        sweep_id = ds.attrs["sweep_id"]
    record = yaml.safe_load((sweep / "sweep.yaml").read_text())
    assert record["sweep_id"] == sweep_id
    assert [j["job"] for j in record["jobs"]] == [0, 1]
    for job in ("0", "1"):
        with xr.open_dataset(sweep / job / "results.nc") as ds:
            assert ds.attrs["sweep_id"] == sweep_id
    # the earlier sweep is set aside, not lost: its merge, records and job results remain
    kept = list(sweep.glob("combined.*.nc"))
    assert [p.read_bytes() for p in kept] == [first_combined]
    assert len(list(sweep.glob("sweep.*.yaml"))) == 1
    assert len(list(sweep.glob("multirun.*.yaml"))) == 1
    for job in ("0", "1"):
        assert len(list((sweep / job).glob("results.*.nc"))) == 1
        assert len(list((sweep / job).glob(".hydra.*"))) == 1
    for job in ("2", "3", "4"):
        assert (sweep / job / "results.nc").exists()


def test_a_second_sweep_into_a_busy_folder_is_refused(tmp_path: Path) -> None:
    model, sweep, held = model_file(tmp_path), tmp_path / "sweep", tmp_path / "held"
    hold = f"+hydra.callbacks.hold={{_target_:adv_sweep_hooks.Hold,folder:{held}}}"
    first = subprocess.Popen(sweep_args(model, "1,2", f"hydra.sweep.dir={sweep}", hold),
                             cwd=REPO, env=env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: started(held), "the first sweep's first job to start")
        second = run(sweep_args(model, "4,5,10", f"hydra.sweep.dir={sweep}"))
    finally:
        (held / "go").touch()
        first_out, first_err = first.communicate(timeout=300)
    refused_in_one_line(second, str(sweep), "another sweep")
    assert first.returncode == 0, first_err
    assert "merged 2 jobs (0 failed)" in first_out
    with xr.open_dataset(sweep / "combined.nc") as ds:
        np.testing.assert_array_equal(ds["divisor"].values, [1, 2])
    assert not (sweep / "2").exists()  # the refused sweep wrote no job
    assert not list(sweep.glob("combined.*.nc"))


def test_sweeps_started_together_with_default_folders_keep_their_own(tmp_path: Path) -> None:
    """The default sweep folder carries a random tag that every job of the sweep shares."""
    model = model_file(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    procs = [subprocess.Popen(sweep_args(model, divisors), cwd=work,
                              env={**env(), "DETERRENCE_CONF": str(REPO / "conf")},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for divisors in ("1,2", "4,5")]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert "merged 2 jobs (0 failed)" in out
    folders = sorted((work / "outputs" / "multirun").iterdir())
    assert len(folders) == 2
    divisors = set()
    for folder in folders:
        with xr.open_dataset(folder / "combined.nc") as ds:
            divisors.add(tuple(ds["divisor"].values.tolist()))
    assert divisors == {(1, 2), (4, 5)}
