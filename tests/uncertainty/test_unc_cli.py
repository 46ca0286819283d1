"""``deterrence run experiment=uncertainty`` as a user runs it: bad input is one line
before anything runs; a run writes its files and resumes when killed; a sweep over
policies compares them on the same futures; ``deterrence summary`` reads the metrics."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from unc_support import REPO, _env, cli

from deterrence import uncertainty as unc

# a short horizon and no analyses (they are tested with the analysis modules)
TINY = ("experiment=uncertainty", "experiment.samples=8", "experiment.sampler=lhs",
        "experiment.analyses=[]", "solver.final_time=10", "experiment.chunk=3")


MAH = "+uncertainty.parameters.maximum_aggression_hazard"
BAD = {
    "unknown_distribution": ([f"{MAH}.distribution=normal"], ["unknown distribution",
                                                              "'normal'", "'norm'"]),
    "unknown_parameter": (["+uncertainty.parameters.adversary_ambitio={}"],
                          ["adversary_ambitio", "not a variable", "adversary_ambition"]),
    "args_out_of_range": ([f"{MAH}.distribution=uniform", f"{MAH}.args={{loc:0,scale:1}}"],
                          ["outside the declared range", "Maximum Aggression Hazard"]),
    "bad_args": ([f"{MAH}.distribution=triang", f"{MAH}.args={{c:3}}"],
                 ["triang", "not a valid distribution"]),
    "unknown_metric_variable": (["+experiment.metrics.x=no_such_variable:final"],
                                ["experiment.metrics.x", "no_such_variable"]),
    "unknown_measure": (["+experiment.metrics.x=mutual_trust:median"],
                        ["unknown metric 'median'", "time_below=X"]),
    "unknown_metric_in_condition": (["experiment.analyses=[prim]",
                                     "experiment.failure='survival < 0.5'"],
                                    ["experiment.failure", "unknown metric 'survival'"]),
    "unknown_sampler": (["experiment.sampler=sobel"], ["sobel", "saltelli"]),
    "unknown_uncertainty_file": (["uncertainty=nope"], ["uncertainty", "alliance"]),
    "too_much_memory": (["solver.max_memory=10kB"], ["needs about", "experiment.chunk"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_before_any_run(case, tmp_path, capsys):
    from deterrence.cli import main

    extra, words = BAD[case]
    run_dir = tmp_path / "run"
    capsys.readouterr()
    status = main(["run", *TINY, *extra, f"hydra.run.dir={run_dir}"])
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    for word in words:
        assert word in lines[0]
    assert status == 2
    assert out == ""
    assert not run_dir.exists(), "a run was started"


def test_a_run_writes_its_files_and_a_rerun_recomputes_nothing(tmp_path):
    run_dir = tmp_path / "run"
    proc = cli("run", *TINY, f"hydra.run.dir={run_dir}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in ("metrics.zarr", "results.nc", "design.nc", "outcomes.csv"):
        assert (run_dir / name).exists(), name
    results = xr.load_dataset(run_dir / "results.nc")
    assert results["survival_50y"].dims == ("run",)
    design = unc.Design.from_dataset(xr.load_dataset(run_dir / "design.nc"))
    assert design.record()["sampler"] == "lhs"
    assert len(design.names) == 22
    np.testing.assert_array_equal(results["adversary_ambition"].values,
                                  design.sample[:, design.names.index("adversary_ambition")])
    again = cli("run", *TINY, f"hydra.run.dir={run_dir}")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "3 of 3 chunks already done" in (run_dir / "deterrence.log").read_text()
    np.testing.assert_array_equal(xr.load_dataset(run_dir / "results.nc")["survival_50y"],
                                  results["survival_50y"])
    table = cli("summary", str(run_dir / "metrics.zarr"))
    assert table.returncode == 0, table.stderr
    assert "survival_50y" in table.stdout
    assert "per-run metrics of 8 futures under 1 policy" in table.stdout


@pytest.mark.slow
def test_a_killed_run_resumes_and_ends_with_the_same_numbers(tmp_path, model):
    run_dir = tmp_path / "run"
    args = ["run", *TINY[:-1], "experiment.samples=40", "experiment.chunk=2",
            "solver.final_time=50", f"hydra.run.dir={run_dir}"]
    proc = subprocess.Popen([sys.executable, "-m", "deterrence", *args], cwd=REPO,
                            env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    store = run_dir / "metrics.zarr"
    deadline = time.monotonic() + 300
    done = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if store.exists():
            try:
                done = int(xr.open_zarr(store, consolidated=False)["done"].values.sum())
            except (OSError, ValueError, KeyError):
                done = 0
            if done >= 2:
                break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = int(xr.open_zarr(store, consolidated=False)["done"].values.sum())
    assert 2 <= killed_at < 20, "not killed mid-run"
    again = cli(*args)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"{killed_at} of 20 chunks already done" in (run_dir / "deterrence.log").read_text()
    # the numbers of an uninterrupted ensemble of the same design, in this process
    design = unc.Design.from_dataset(xr.load_dataset(run_dir / "design.nc"))
    metrics = unc.parse_metrics({"survival_50y": "deterrence_survival:final",
                                 "trust_50y": "mutual_trust:final"}, model)
    whole = unc.run_ensemble(model, design, metrics, chunk=40, method="euler",
                             final_time=50.0)
    results = xr.load_dataset(run_dir / "results.nc")
    for name in metrics:
        np.testing.assert_array_equal(results[name].values, whole[name].isel(policy=0).values)


def test_a_sweep_compares_policies_on_the_same_futures(tmp_path):
    sweep = tmp_path / "sweep"
    proc = cli("run", "-m", *TINY, "policy=status_quo,reassurance",
               f"hydra.sweep.dir={sweep}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    combined = xr.load_dataset(sweep / "combined.nc")
    assert combined["survival_50y"].dims == ("policy", "run")
    assert list(combined["policy"].values) == ["status_quo", "reassurance"]
    a, b = (xr.load_dataset(sweep / str(j) / "design.nc") for j in (0, 1))
    assert a.attrs["fingerprint"] == b.attrs["fingerprint"]
    np.testing.assert_array_equal(combined["adversary_ambition"].values,
                                  a["sample"].sel(parameter="adversary_ambition").values)
    sq, re = (combined["survival_50y"].sel(policy=p).values for p in ("status_quo",
                                                                       "reassurance"))
    assert not np.array_equal(sq, re)
    # each job's nominal run is kept, so the sweep's table has both beside the futures
    nominal = json.loads(combined.attrs["nominal"])
    assert sorted(nominal) == ["reassurance", "status_quo"]
    table = cli("summary", str(sweep), "--vars", "survival_50y")
    assert table.returncode == 0, table.stderr
    rows = [line.split() for line in table.stdout.splitlines()
            if line.startswith(("status_quo", "reassurance"))]
    assert [(r[0], float(r[3])) for r in rows] == [
        (p, pytest.approx(nominal[p]["survival_50y"], rel=1e-5))
        for p in ("status_quo", "reassurance")]


def test_policies_crossed_in_one_job(tmp_path, model):
    run_dir = tmp_path / "run"
    proc = cli("run", *TINY, "experiment.policies=[status_quo,reassurance]",
               f"hydra.run.dir={run_dir}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = xr.load_dataset(run_dir / "results.nc")
    assert results["survival_50y"].dims == ("policy", "run")
    outcomes = pd.read_csv(run_dir / "outcomes.csv").set_index(["policy", "metric"])
    row = outcomes.loc[("reassurance", "survival_50y")]
    # the nominal run is the model at its own values under the policy
    nominal = model.simulate({"Joint Exercise Intensity": 0.8, "Forward Presence": 0.8,
                              "Declaratory Clarity": 0.8}, method="euler", final_time=10.0)
    assert row["nominal"] == pytest.approx(float(nominal["deterrence_survival"][-1]),
                                           rel=1e-12)
    assert row["mean"] == pytest.approx(float(results["survival_50y"].sel(
        policy="reassurance").mean()), rel=1e-12)
