"""A batched sweep (``experiment.batch``: one job, one ensemble) equals the multirun."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from exp_support import cli, cli_parallel, job_dirs, load, ok, windows

# name -> (the batch as a Hydra dict override, the equivalent multirun sweep)
CASES = {
    "two_levers": (
        "{policy.joint_exercises:[0.8,0.2],policy.diplomatic_engagement:[0.3,0.7]}",
        ["policy.joint_exercises=0.8,0.2", "policy.diplomatic_engagement=0.3,0.7"]),
    "scenarios": (
        "{scenario:[leadership_change,baseline,abandonment]}",
        ["scenario=leadership_change,baseline,abandonment"]),
    # cold_war_nato sets Joint Exercise Intensity 0.8, trust_building sets 0.7: the
    # policy must win in both layouts
    "scenario_x_policy": (
        "{scenario:[baseline,cold_war_nato],policy:[status_quo,trust_building]}",
        ["scenario=baseline,cold_war_nato", "policy=status_quo,trust_building"]),
}
COMMON = ("solver.final_time=15", "output.plot=false")


@pytest.fixture(scope="module", params=list(CASES))
def pair(request, tmp_path_factory):
    batch, sweep_args = CASES[request.param]
    root = tmp_path_factory.mktemp(request.param)
    for proc in cli_parallel(
            [f"+experiment.batch={batch}", *COMMON, f"hydra.run.dir={root / 'batch'}"],
            ["-m", *sweep_args, *COMMON, f"hydra.sweep.dir={root / 'multirun'}"]):
        ok(proc)
    return (request.param, load(root / "batch" / "combined.nc"),
            load(root / "multirun" / "combined.nc"), root)


def test_same_dims_and_coords(pair):
    _, batched, multirun, _ = pair
    assert dict(batched.sizes) == dict(multirun.sizes)
    assert set(batched.coords) == set(multirun.coords)
    for name, coord in multirun.coords.items():
        assert batched[name].dims == coord.dims, name
        np.testing.assert_array_equal(batched[name].values, coord.values, err_msg=name)


def test_same_numbers(pair):
    _, batched, multirun, _ = pair
    assert set(batched.data_vars) == set(multirun.data_vars)
    for name, da in multirun.data_vars.items():
        assert batched[name].dims == da.dims, name
        np.testing.assert_allclose(batched[name].values, da.values, rtol=1e-12, atol=0,
                                   err_msg=name)


def test_same_shock_windows(pair):
    _, batched, multirun, _ = pair
    assert windows(batched) == windows(multirun)


def test_one_job_for_the_batch(pair):
    case, batched, _, root = pair
    assert not any(p.name.isdigit() for p in (root / "batch").iterdir())
    n_jobs = len(job_dirs(root / "multirun"))
    assert n_jobs == int(np.prod([batched.sizes[d] for d in batched.sizes if d != "time"]))
    # the job's results.nc holds the same grid as its combined.nc
    xr.testing.assert_identical(load(root / "batch" / "results.nc"), batched)
    if case == "scenario_x_policy":
        jei = batched["joint_exercise_intensity"].sel(scenario="cold_war_nato")
        np.testing.assert_array_equal(jei.values, [0.8, 0.7])


def test_the_shipped_lever_grid_preset(tmp_path):
    """``experiment=lever_grid``: 11 x 11 runs in one job, laid out as a policy map."""
    out = tmp_path / "run"
    ok(cli("experiment=lever_grid", "solver.final_time=2", f"hydra.run.dir={out}"))
    ds = load(out / "combined.nc")
    assert ds["mutual_trust"].dims == ("joint_exercises", "diplomatic_engagement", "time")
    np.testing.assert_allclose(ds["joint_exercises"].values, np.linspace(0, 1, 11))
    np.testing.assert_allclose(ds["joint_exercise_intensity"].values,
                               np.repeat(np.linspace(0, 1, 11)[:, None], 11, axis=1))
    assert (out / "policy_map.png").read_bytes()[:4] == b"\x89PNG"


def test_unbatchable_key_is_refused(tmp_path):
    proc = cli("+experiment.batch={solver.method:[euler,rk4]}", f"hydra.run.dir={tmp_path}/r")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ")
    assert "solver.method" in proc.stderr
    assert not (tmp_path / "r").exists()
