"""``deterrence run -m ...``: every job merged into the sweep's ``combined.nc``."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from exp_support import cli, job_dirs, job_overrides, load, ok, windows
from matplotlib import image

SCENARIOS = ["leadership_change", "baseline"]  # deliberately not sorted: sweep order wins
LEVELS = [0.8, 0.2]


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """scenario x policy.joint_exercises, 2 x 2 jobs, plots on."""
    sweep = tmp_path_factory.mktemp("grid") / "sweep"
    proc = ok(cli("-m", f"scenario={','.join(SCENARIOS)}",
                  f"policy.joint_exercises={','.join(map(str, LEVELS))}",
                  "solver.final_time=15", f"hydra.sweep.dir={sweep}"))
    return sweep, proc


def _assert_equal_to_job(combined_cell, job_ds):
    """Every variable of a job's results.nc equals its cell of the merged dataset."""
    for name, da in job_ds.data_vars.items():
        assert name in combined_cell, name
        np.testing.assert_array_equal(combined_cell[name].values, da.values, err_msg=name)


def test_one_dimension_per_swept_key_in_sweep_order(grid):
    sweep, _ = grid
    ds = load(sweep / "combined.nc")
    assert ds["mutual_trust"].dims == ("scenario", "joint_exercises", "time")
    assert list(ds["scenario"].values) == SCENARIOS
    assert list(ds["joint_exercises"].values) == LEVELS
    assert ds.sizes["time"] == 61
    # constants keep no time dim but gain the sweep dims
    assert ds["leadership_change_depth"].dims == ("scenario", "joint_exercises")
    # settings that do not vary (solver.final_time) are not dimensions
    assert json.loads(ds.attrs["swept_keys"]) == ["scenario", "policy.joint_exercises"]
    assert ds.attrs["n_jobs"] == 4
    assert ds.attrs["n_failed"] == 0


def test_merged_values_equal_each_jobs_results(grid):
    sweep, _ = grid
    ds = load(sweep / "combined.nc")
    jobs = job_dirs(sweep)
    assert len(jobs) == 4
    for job in jobs:
        o = job_overrides(job)
        cell = ds.sel(scenario=o["scenario"], joint_exercises=float(o["policy.joint_exercises"]))
        _assert_equal_to_job(cell, load(job / "results.nc"))
    # the lever really was applied, the scenario really was set
    jei = ds["joint_exercise_intensity"]
    np.testing.assert_array_equal(jei.values, [[0.8, 0.2], [0.8, 0.2]])
    np.testing.assert_array_equal(ds["leadership_change_depth"].values, [[0.5, 0.5], [0, 0]])


def test_shock_windows_of_every_scenario(grid):
    sweep, _ = grid
    assert windows(load(sweep / "combined.nc")) == {
        "baseline": [], "leadership_change": [[10, 14, "leadership change"]]}


def test_comparison_plot_of_the_sweep(grid):
    sweep, _ = grid
    png = sweep / "comparison.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert np.ptp(image.imread(png)) > 0


def test_no_failures_recorded(grid):
    sweep, proc = grid
    assert yaml.safe_load((sweep / "failures.yaml").read_text()) == []
    assert json.loads(load(sweep / "combined.nc").attrs["failures"]) == []
    assert "warning" not in proc.stderr


@pytest.fixture(scope="module")
def not_a_grid(tmp_path_factory):
    """A sweep whose second key repeats a value: 6 jobs, only 4 distinct points."""
    sweep = tmp_path_factory.mktemp("notgrid") / "sweep"
    ok(cli("-m", "scenario=baseline,leadership_change", "policy.joint_exercises=0.2,0.8,0.2",
           "solver.final_time=12", "output.plot=false", f"hydra.sweep.dir={sweep}"))
    return sweep


def test_a_sweep_that_is_not_a_grid_gets_a_run_dim(not_a_grid):
    ds = load(not_a_grid / "combined.nc")
    assert ds["mutual_trust"].dims == ("run", "time")
    assert list(ds["run"].values) == list(range(6))
    assert list(ds["scenario"].values) == ["baseline"] * 3 + ["leadership_change"] * 3
    assert ds["scenario"].dims == ds["joint_exercises"].dims == ("run",)
    np.testing.assert_array_equal(ds["joint_exercises"].values, [0.2, 0.8, 0.2] * 2)
    assert json.loads(ds.attrs["swept_keys"]) == ["scenario", "policy.joint_exercises"]
    for i, job in enumerate(job_dirs(not_a_grid)):
        o = job_overrides(job)
        cell = ds.isel(run=i)
        assert cell["scenario"].item() == o["scenario"]
        assert cell["joint_exercises"].item() == float(o["policy.joint_exercises"])
        _assert_equal_to_job(cell, load(job / "results.nc"))
