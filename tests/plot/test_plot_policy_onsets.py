"""A policy that starts late is marked on every time-series figure: a dash-dot line at its
start (its ramp a wedge on the panel's floor), named in the legend, apart from shocks."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from plot_testdata import SCENARIOS, build_results

from deterrence import plot
from deterrence.plot.windows import ONSET_GID, RAMP_GID

TIMING = json.dumps({"start": "policy_start_time", "ramp": "policy_ramp_time"})


def timed(ds: xr.Dataset, start, ramp=0.0, dim: str | None = None) -> xr.Dataset:
    """``ds`` with the timing constants the experiments record (one value, or one per
    label of ``dim``) and the attr naming them."""
    ds = ds.copy()
    for name, value in (("policy_start_time", start), ("policy_ramp_time", ramp)):
        ds[name] = xr.DataArray(value, dims=(dim,) if np.ndim(value) else (),
                                attrs={"units": "Year"})
    ds.attrs["policy_timing"] = TIMING
    return ds


def onsets(ax) -> list[float]:
    return [float(line.get_xdata()[0]) for line in ax.get_lines() if line.get_gid() == ONSET_GID]


def ramps(ax) -> list[tuple[float, float]]:
    spans = []
    for patch in ax.patches:
        if patch.get_gid() == RAMP_GID:
            xs = patch.get_xy()[:, 0]
            spans.append((float(xs.min()), float(xs.max())))
    return spans


def legend_texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.legends[0].get_texts() if t.get_text()]


@pytest.mark.parametrize("kind", ["compare", "diff"])
def test_a_policy_from_year_12_is_marked_in_every_panel(kind):
    ds = timed(build_results({"scenario": SCENARIOS[:3]}), 12.0)
    fig = plot.make_figure(ds, kind)
    assert all(onsets(ax) == [12.0] for ax in fig.axes)
    assert all(not ramps(ax) for ax in fig.axes)
    assert "policy from year 12" in legend_texts(fig)


@pytest.mark.parametrize("kind", ["compare", "diff", "fan"])
def test_a_policy_in_force_from_the_start_draws_no_mark(kind):
    ds = build_results({"scenario": SCENARIOS[:3]})
    if kind == "fan":
        ds = build_results({"run": list(range(20))})
    fig = plot.make_figure(timed(ds, 0.0), kind)
    assert all(not onsets(ax) and not ramps(ax) for ax in fig.axes)
    assert not [t for t in legend_texts(fig) if "policy from" in t]


def test_a_ramp_is_a_wedge_to_its_full_effect_not_a_shock_band():
    ds = timed(build_results({"scenario": SCENARIOS[:2]},
                             windows={SCENARIOS[1]: [[10, 14, "leadership change"]]}), 12.0, 4.0)
    fig = plot.scenario_comparison(ds)
    ax = fig.axes[0]
    assert onsets(ax) == [12.0]
    assert ramps(ax) == [(12.0, 16.0)]
    shocks = [p for p in ax.patches if p.get_gid() != RAMP_GID]
    assert len(shocks) == 1  # the shock keeps its own full-height band
    texts = legend_texts(fig)
    assert "policy from year 12, ramped in to 16" in texts
    assert "shock: leadership change (10–14)" in texts


def test_each_line_of_a_start_time_sweep_is_marked_in_its_colour():
    ds = build_results({"start_time": [0.0, 12.0, 20.0]})
    ds = timed(ds, ds["start_time"].values, 0.0, dim="start_time")
    fig = plot.scenario_comparison(ds, by="start_time", baseline=None)
    ax = fig.axes[0]
    assert sorted(onsets(ax)) == [12.0, 20.0]  # year 0 is the run's start: no mark
    colours = {float(ln.get_xdata()[0]): to_hex(ln.get_color()) for ln in ax.get_lines()
               if ln.get_gid() == ONSET_GID}
    lines = {ln.get_label(): to_hex(ln.get_color()) for ln in ax.get_lines()
             if ln.get_gid() != ONSET_GID}
    assert colours == {12.0: lines["12"], 20.0: lines["20"]}
    texts = legend_texts(fig)
    assert "policy from year 12" in texts
    assert "policy from year 20" in texts


def test_policies_of_different_timing_are_named_when_they_share_a_mark():
    ds = build_results({"policy": ["status_quo", "reassurance", "comprehensive"]})
    ds = timed(ds, [0.0, 12.0, 12.0], 0.0, dim="policy")
    fig = plot.scenario_comparison(ds, by="policy", baseline="status_quo")
    assert onsets(fig.axes[0]) == [12.0]
    assert "reassurance, comprehensive: policy from year 12" in legend_texts(fig)


def test_fan_small_multiples_mark_only_the_columns_whose_policy_is_late():
    ds = build_results({"policy": ["status_quo", "reassurance"], "run": list(range(30))})
    ds = timed(ds, [0.0, 12.0], [0.0, 2.0], dim="policy")
    fig = plot.fan_chart(ds, by="policy", baseline="status_quo")
    columns = {ax.get_title(loc="left"): ax for ax in fig.axes if ax.get_title(loc="left")}
    assert not onsets(columns["status_quo (baseline)"])
    assert onsets(columns["reassurance"]) == [12.0]
    assert ramps(columns["reassurance"]) == [(12.0, 14.0)]
    assert "policy from year 12, ramped in to 14" in legend_texts(fig)


def test_one_ensemble_fan_is_marked():
    ds = timed(build_results({"run": list(range(30))}), 12.0)
    fig = plot.fan_chart(ds)
    assert all(onsets(ax) == [12.0] for ax in fig.axes)


def test_a_policy_map_says_its_policy_starts_late():
    ds = timed(build_results({"joint_exercise_intensity": [0, 0.5, 1],
                              "forward_presence": [0, 1]}), 12.0)
    fig = plot.policy_map(ds, "deterrence_survival", x="joint_exercise_intensity",
                          y="forward_presence")
    assert "policy from year 12" in fig.axes[0].get_title(loc="left").replace("\n", " ")


def test_a_malformed_timing_attr_warns_and_draws_no_mark():
    ds = build_results()
    ds.attrs["policy_timing"] = "{not json"
    with pytest.warns(UserWarning, match="policy_timing"):
        fig = plot.scenario_comparison(ds)
    assert not onsets(fig.axes[0])
