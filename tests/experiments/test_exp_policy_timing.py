"""``deterrence run policy.start_time=12 policy.ramp_time=2``: a timed policy from the
command line, in one run, a batch and a grid; a start time outside the run is refused."""

from __future__ import annotations

import json

import numpy as np
import pytest
from exp_support import cli, load, ok

from deterrence import plot
from deterrence.plot.windows import ONSET_GID, RAMP_GID


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("timing")
    ok(cli("scenario=leadership_change", "policy=reassurance", "policy.start_time=12",
           "output.plot=false", f"hydra.run.dir={root / 'late'}"))
    ok(cli("experiment=grid", "scenario=leadership_change", "policy=reassurance",
           "grid.start_time=0,12", "policy.ramp_time=2", "output.plot=false",
           f"hydra.run.dir={root / 'grid'}"))
    ok(cli("scenario=leadership_change", "policy=reassurance", "policy.start_time=12",
           "output.plot_format=svg", f"hydra.run.dir={root / 'figure'}"))
    ok(cli("scenario=leadership_change", "policy=reassurance", "output.plot_format=svg",
           f"hydra.run.dir={root / 'at_start'}"))
    return root


def test_a_late_policy_is_set_and_named(runs):
    ds = load(runs / "late" / "results.nc")
    assert float(ds["policy_start_time"]) == 12
    assert float(ds["joint_exercise_intensity"]) == 0.8
    t = ds["time"].values
    assert (ds["joint_exercise_intensity_in_force"].values[t < 12] == 0.5).all()
    summary = (runs / "late" / "summary.csv").read_text()
    assert "adversary_risk_estimate" in summary


def test_a_grid_sweeps_the_start_time(runs):
    ds = load(runs / "grid" / "results.nc")
    assert list(ds["start_time"].values) == [0, 12]
    switch = ds["policy_switch"].sel(start_time=12).values
    t = ds["time"].values
    assert (switch[t <= 12] == 0).all()
    assert (switch[t >= 14] == 1).all()
    early, late = (float(ds["deterrence_survival"].sel(start_time=s)[-1]) for s in (0, 12))
    assert late < early
    assert np.isclose(float(ds["policy_ramp_time"].max()), 2)


@pytest.mark.parametrize(("args", "message"), [
    (("policy.start_time=60",), "policy.start_time=60 is outside the run (time 0 to 50)"),
    (("policy.start_time=40", "solver.final_time=30"),
     "policy.start_time=40 is outside the run (time 0 to 30)"),
    (("policy.ramp_time=-1",), "policy.ramp_time=-1: expected 0"),
    (("model=richardson", "policy.start_time=5"), "has no timed policies"),
])
def test_a_bad_timing_is_one_error_line(tmp_path, args, message):
    proc = cli("policy=reassurance" if "model=richardson" not in args else "output.plot=false",
               *args, f"hydra.run.dir={tmp_path}")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    assert message in lines[0]


def test_the_run_figure_marks_a_late_policy_and_only_a_late_one(runs):
    """The comparison a run draws (its baseline scenario under the same policy) carries
    the policy's onset in every panel; a policy in force from year 0 carries none."""
    late = (runs / "figure" / "comparison.svg").read_text()
    assert late.count('id="policy_onset"') == 6  # one per key output's panel
    assert "policy from year 12" in late
    at_start = (runs / "at_start" / "comparison.svg").read_text()
    assert 'id="policy_onset"' not in at_start


def test_results_name_the_timing_constants_the_figures_mark(runs):
    ds = load(runs / "late" / "results.nc")
    assert json.loads(ds.attrs["policy_timing"]) == {"start": "policy_start_time",
                                                     "ramp": "policy_ramp_time"}
    fig = plot.make_figure(ds, "compare")
    marks = [ln.get_xdata()[0] for ax in fig.axes for ln in ax.get_lines()
             if ln.get_gid() == ONSET_GID]
    assert marks == [12] * len(fig.axes)
    grid = load(runs / "grid" / "results.nc")
    fig = plot.make_figure(grid, "compare", by="start_time")
    ax = fig.axes[0]
    assert [ln.get_xdata()[0] for ln in ax.get_lines() if ln.get_gid() == ONSET_GID] == [12]
    wedges = [p.get_xy()[:, 0] for p in ax.patches if p.get_gid() == RAMP_GID]
    assert sorted((float(w.min()), float(w.max())) for w in wedges) == [(0, 2), (12, 14)]


def test_a_multirun_over_the_start_time_marks_each_line_and_names_what_it_shares(tmp_path):
    """``-m policy.start_time=0,12``: the merged results keep the scenario and policy
    every job ran under (so the figure names them and shades the shock) and each line's
    own start."""
    ok(cli("-m", "scenario=leadership_change", "policy=reassurance", "policy.start_time=0,12",
           "solver.final_time=30", "output.plot=false", f"hydra.sweep.dir={tmp_path}"))
    ds = load(tmp_path / "combined.nc")
    assert (ds.attrs["scenario"], ds.attrs["policy"]) == ("leadership_change", "reassurance")
    fig = plot.make_figure(ds, "compare", by="start_time")
    assert "scenario = leadership_change; policy = reassurance" in fig.get_suptitle()
    ax = fig.axes[0]
    assert [ln.get_xdata()[0] for ln in ax.get_lines() if ln.get_gid() == ONSET_GID] == [12]
    assert [p for p in ax.patches if p.get_gid() != RAMP_GID]  # the shock is shaded
