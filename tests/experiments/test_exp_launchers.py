"""Scale beyond one process: the cores (a process per job) and submitit launcher presets
merge like the basic one, and a failed job sets the exit status under each launcher."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from exp_support import cli, job_dirs, job_overrides, load, ok

LAUNCHERS = {
    "cores": ["hydra/launcher=cores", "hydra.launcher.n_jobs=2"],
    "local": ["hydra/launcher=local", "hydra.launcher.timeout_min=5"],
}


@pytest.mark.slow
@pytest.mark.parametrize("launcher", list(LAUNCHERS))
def test_two_jobs_through_the_launcher_are_merged(launcher, tmp_path):
    sweep = tmp_path / "sweep"
    proc = ok(cli("-m", *LAUNCHERS[launcher], "scenario=baseline,leadership_change",
                  "solver.final_time=12", "output.plot=false", f"hydra.sweep.dir={sweep}"))
    assert "merged 2 jobs (0 failed)" in proc.stderr + proc.stdout
    ds = load(sweep / "combined.nc")
    assert ds.attrs["n_jobs"] == 2
    assert ds.attrs["n_failed"] == 0
    assert ds["mutual_trust"].dims == ("scenario", "time")
    assert list(ds["scenario"].values) == ["baseline", "leadership_change"]
    jobs = job_dirs(sweep)
    assert len(jobs) == 2
    for job in jobs:
        scenario = job_overrides(job)["scenario"]
        expected = load(job / "results.nc")
        for name in ("mutual_trust", "adversary_risk_estimate", "leadership_change_depth"):
            np.testing.assert_array_equal(ds[name].sel(scenario=scenario).values,
                                          expected[name].values)
    trust = ds["mutual_trust"].sel(time=12)
    assert float(trust.sel(scenario="leadership_change")) < float(trust.sel(scenario="baseline"))


@pytest.mark.slow
@pytest.mark.parametrize("launcher", ["basic", *LAUNCHERS])
def test_a_failed_job_sets_the_exit_status(launcher, tmp_path, divide_model):
    """The exit status comes from the sweep folder (failures.yaml), whichever process ran
    the job: the command's own (basic launcher) or a worker (cores, local)."""
    sweep = tmp_path / "sweep"
    proc = cli("-m", *LAUNCHERS.get(launcher, []), "model=vensim", f"model.path={divide_model}",
               "+params.divisor=0,1", "output.plot=false", f"hydra.sweep.dir={sweep}")
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert f"warning: 1 of 2 jobs failed or were lost; see {sweep / 'failures.yaml'}" \
        in proc.stderr
    assert "Traceback" not in proc.stderr
    ds = load(sweep / "combined.nc")
    assert ds.attrs["n_failed"] == 1
    assert np.isnan(ds["level"].sel(divisor=0).values).all()
    np.testing.assert_array_equal(ds["level"].sel(divisor=1).values, [1, 2, 3, 4, 5, 6])
    failures = yaml.safe_load((sweep / "failures.yaml").read_text())
    assert [f["job"] for f in failures] == [0]
    assert "NaN or infinite" in failures[0]["error"]
