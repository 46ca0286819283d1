"""``deterrence run [overrides]``: one job's output folder, as the user finds it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from exp_support import REPO, cli, load, ok, windows
from matplotlib import image

import deterrence
from deterrence import experiments
from deterrence.experiments import config, params


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    """``deterrence run scenario=leadership_change solver.final_time=15`` (plot on)."""
    out = tmp_path_factory.mktemp("single") / "run"
    proc = ok(cli("scenario=leadership_change", "solver.final_time=15",
                  f"hydra.run.dir={out}"))
    return out, proc


def test_results_nc_holds_the_scenario_constants(single):
    out, _ = single
    ds = load(out / "results.nc")
    model = deterrence.load(REPO / "sd_models" / "alliance_deterrence.mdl")
    assert model.variable("Leadership Change Depth").default != 0.5  # the scenario sets it
    assert float(ds["leadership_change_depth"]) == 0.5
    assert float(ds["leadership_change_time"]) == 10
    assert float(ds["leadership_change_duration"]) == 4
    assert ds["time"].values[0] == 0
    assert ds["time"].values[-1] == 15
    assert ds.attrs["scenario"] == "leadership_change"
    assert ds.attrs["policy"] == "status_quo"
    assert windows(ds) == {"leadership_change": [[10, 14, "leadership change"]]}
    # the shock bites: trust falls below the status quo after year 10
    trust = ds["mutual_trust"]
    assert float(trust.sel(time=14)) < float(trust.sel(time=10)) - 1e-3


def test_results_equal_a_direct_simulation(single):
    out, _ = single
    ds = load(out / "results.nc")
    model = deterrence.load(REPO / "sd_models" / "alliance_deterrence.mdl")
    direct = model.simulate({"Leadership Change Time": 10, "Leadership Change Depth": 0.5,
                             "Leadership Change Duration": 4}, method="euler",
                            final_time=15)
    for name in ("mutual_trust", "adversary_risk_estimate", "deterrence_survival"):
        np.testing.assert_allclose(ds[name].values, direct[name].values, rtol=1e-12)


def test_resolved_config_is_saved(single):
    out, _ = single
    cfg = yaml.safe_load((out / ".hydra" / "config.yaml").read_text())
    assert cfg["scenario"]["name"] == "leadership_change"
    assert cfg["scenario"]["set"]["Leadership Change Depth"] == 0.5
    assert cfg["solver"]["final_time"] == 15
    assert cfg["model"]["path"] == "sd_models/alliance_deterrence.mdl"
    overrides = yaml.safe_load((out / ".hydra" / "overrides.yaml").read_text())
    assert "scenario=leadership_change" in overrides
    # and inside results.nc, resolved
    attrs_cfg = yaml.safe_load(load(out / "results.nc").attrs["config"])
    assert attrs_cfg["scenario"]["name"] == "leadership_change"
    assert attrs_cfg["solver"]["final_time"] == 15


def test_log_is_written(single):
    out, _ = single
    text = (out / "deterrence.log").read_text()
    assert "results.nc" in text
    assert "ERROR" not in text


def test_comparison_png_is_a_picture(single):
    out, _ = single
    png = out / "comparison.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = image.imread(png)
    assert pixels.shape[0] > 100
    assert pixels.shape[1] > 100
    assert np.ptp(pixels) > 0  # not a blank canvas


def test_comparison_is_drawn_against_the_baseline(tmp_path, monkeypatch):
    """In-process: the plot receives the baseline and the scenario, same solver."""
    from deterrence import plot

    seen = []
    original = plot.scenario_comparison

    def spy(ds, *args, **kwargs):
        seen.append((list(ds["scenario"].values), kwargs.get("baseline"),
                     float(ds["time"].values[-1]), json.loads(ds.attrs["shock_windows"])))
        return original(ds, *args, **kwargs)

    monkeypatch.setattr(plot, "scenario_comparison", spy)
    out = tmp_path / "run"
    assert experiments.hydra_main(["scenario=leadership_change", "solver.final_time=12",
                                   f"hydra.run.dir={out}"]) == 0
    assert seen == [(["baseline", "leadership_change"], "baseline", 12.0,
                     {"leadership_change": [[10, 14, "leadership change"]]})]
    assert (out / "comparison.png").exists()


def test_baseline_run_plots_itself_only(tmp_path, monkeypatch):
    from deterrence import plot

    seen = []
    original = plot.scenario_comparison

    def spy(ds, *args, **kwargs):
        seen.append(list(ds["scenario"].values))
        return original(ds, *args, **kwargs)

    monkeypatch.setattr(plot, "scenario_comparison", spy)
    out = tmp_path / "run"
    assert experiments.hydra_main(["solver.final_time=2", f"hydra.run.dir={out}"]) == 0
    assert seen == [["baseline"]]
    assert (out / "results.nc").exists()
    assert (out / "comparison.png").exists()


def test_baseline_with_another_policy_is_compared_with_the_status_quo(tmp_path, monkeypatch):
    """The analyst's question 'what does this policy change?' gets the status quo drawn."""
    from deterrence import plot

    seen = []
    original = plot.scenario_comparison

    def spy(ds, *args, **kwargs):
        seen.append((kwargs.get("by"), list(ds[kwargs.get("by")].values),
                     kwargs.get("baseline")))
        return original(ds, *args, **kwargs)

    monkeypatch.setattr(plot, "scenario_comparison", spy)
    out = tmp_path / "run"
    assert experiments.hydra_main(["policy=reassurance", "solver.final_time=2",
                                   f"hydra.run.dir={out}"]) == 0
    assert seen == [("policy", ["status_quo", "reassurance"], "status_quo")]


def test_precedence_scenario_then_policy_then_params():
    """A policy lever overrides the scenario's setting; +params overrides both."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    config.register_configs()
    GlobalHydra.instance().clear()
    model = config.get_model(REPO / "sd_models" / "alliance_deterrence.mdl")
    try:
        with initialize_config_dir(config_dir=str(experiments.conf_dir()),
                                   version_base="1.3"):
            cold_war = compose("config", overrides=["scenario=cold_war_nato"])
            lever = compose("config", overrides=["scenario=cold_war_nato",
                                                 "policy.joint_exercises=0.3"])
            param = compose("config", overrides=["scenario=cold_war_nato",
                                                 "policy.joint_exercises=0.3",
                                                 "+params.joint_exercise_intensity=0.1"])
    finally:
        GlobalHydra.instance().clear()
    assert params.job_params(model, cold_war)["joint_exercise_intensity"] == 0.8
    assert params.job_params(model, lever)["joint_exercise_intensity"] == 0.3
    assert params.job_params(model, param)["joint_exercise_intensity"] == 0.1


def test_the_run_prints_and_writes_its_key_outcomes(single):
    """``summary.csv`` beside the results, and the same final values printed at the end."""
    out, proc = single
    ds = load(out / "results.nc")
    table = pd.read_csv(out / "summary.csv")
    assert float(table["deterrence_survival [Dmnl]"].iloc[0]) == pytest.approx(
        float(ds["deterrence_survival"].isel(time=-1)), rel=1e-12)
    assert list(table.columns) == ["scenario", "policy"] + [  # the row says what ran
        f"{name} [{ds[name].attrs['units']}]" if ds[name].attrs.get("units") else name
        for name in ds.attrs["key_outputs"]]
    assert list(table[["scenario", "policy"]].iloc[0]) == [ds.attrs["scenario"],
                                                            ds.attrs["policy"]]
    assert "final value" in proc.stdout
    assert "deterrence_survival" in proc.stdout
