"""``scenario=[a,b]``: two shocks at once, as if both scenarios' constants were set."""

from __future__ import annotations

import json

import numpy as np
import pytest
from exp_support import cli, load, ok
from omegaconf import DictConfig, OmegaConf

from deterrence.errors import ParameterError
from deterrence.experiments import compose
from deterrence.experiments.config import ScenarioConfig


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("compose")
    both = ok(cli("scenario=[leadership_change,rising_power]", "output.plot=false",
                  f"hydra.run.dir={root / 'both'}"))
    by_hand = ok(cli("+params.leadership_change_time=10", "+params.leadership_change_depth=0.5",
                     "+params.leadership_change_duration=4", "+params.rising_power_start=10",
                     "+params.rising_power_size=0.6", "+params.rising_power_duration=10",
                     "output.plot=false", f"hydra.run.dir={root / 'hand'}"))
    return root, both, by_hand


def test_a_list_of_scenarios_equals_setting_both_shocks_by_hand(runs):
    root, _, _ = runs
    both, hand = load(root / "both" / "results.nc"), load(root / "hand" / "results.nc")
    for name in ("mutual_trust", "adversary_risk_estimate", "deterrence_survival"):
        np.testing.assert_allclose(both[name].values, hand[name].values, rtol=1e-12)
    assert float(both["leadership_change_depth"]) == 0.5  # both shocks' constants are set
    assert float(both["rising_power_size"]) == 0.6


def test_the_composed_scenario_keeps_both_names_and_shock_windows(runs):
    root, _, _ = runs
    ds = load(root / "both" / "results.nc")
    assert ds.attrs["scenario"] == "leadership_change+rising_power"
    windows = json.loads(ds.attrs["shock_windows"])["leadership_change+rising_power"]
    assert windows == [[10, 14, "leadership change"], [10, 20, "rising power"]]


def _option(name: str, constants: dict) -> DictConfig:
    return OmegaConf.merge(OmegaConf.structured(ScenarioConfig), {
        "name": name, "shock_windows": [[1, 2, name]], "set": constants})


def test_scenarios_that_set_one_constant_differently_are_refused(monkeypatch):
    options = {"a": _option("a", {"Shock Depth": 0.5}), "b": _option("b", {"shock_depth": 0.9})}
    monkeypatch.setattr(compose, "group_option", lambda group, name, schema: options[name])
    cfg = OmegaConf.create({"scenario": {}})
    with pytest.raises(ParameterError, match=r"a sets 'Shock Depth' to 0\.5 and b sets it"):
        compose.compose_scenarios(cfg, ["scenario=[a,b]"])
    options["b"] = _option("b", {"Other": 1.0, "shock depth": 0.5})  # the same value: fine
    compose.compose_scenarios(cfg, ["policy=x", "scenario=[a,b]"])
    assert cfg.scenario.name == "a+b"
    assert dict(cfg.scenario.set) == {"Shock Depth": 0.5, "Other": 1.0}
    assert [list(w) for w in cfg.scenario.shock_windows] == [[1, 2, "a"], [1, 2, "b"]]


def test_a_single_scenario_is_left_as_hydra_composed_it():
    cfg = OmegaConf.create({"scenario": {"name": "baseline"}})
    compose.compose_scenarios(cfg, ["scenario=baseline"])
    assert cfg.scenario.name == "baseline"


def test_a_grid_is_the_batch_of_its_values(tmp_path):
    ok(cli("experiment=grid", "grid.joint_exercises=0:1:11",
           "grid.diplomatic_engagement=0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1",
           "output.plot=false", f"hydra.run.dir={tmp_path / 'grid'}"))
    ok(cli("experiment=lever_grid", "output.plot=false", f"hydra.run.dir={tmp_path / 'preset'}"))
    grid, preset = load(tmp_path / "grid" / "combined.nc"), load(
        tmp_path / "preset" / "combined.nc")
    assert dict(grid.sizes) == dict(preset.sizes)
    np.testing.assert_allclose(grid["deterrence_survival"].values,
                               preset["deterrence_survival"].values, rtol=1e-12)


def test_grid_values_and_spellings():
    assert compose.grid_values("x", "0:1:5") == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert compose.grid_values("x", [1, 2]) == [1, 2]
    assert compose.grid_values("x", 3) == [3]
    for bad in ("0:1:0", "0:1:2.5", "a:b:c"):
        with pytest.raises(ParameterError, match="START:STOP:COUNT"):
            compose.grid_values("x", bad)
    assert compose.grid_argument("grid.x=0,0.5,1") == "grid.x=[0,0.5,1]"
    assert compose.grid_argument("grid.x=0:1:3") == "grid.x=0:1:3"
    assert compose.grid_argument("params.x=1,2") == "params.x=1,2"  # a multirun sweep


def test_grid_keys_become_levers_options_or_constants():
    cfg = OmegaConf.create({"model": {"levers": {"joint_exercises": "Joint Exercise Intensity"}},
                            "experiment": {"batch": {}},
                            "grid": {"joint_exercises": [0, 1], "scenario": ["a", "b"],
                                     "Adversary Ambition": "0:1:3"}})
    compose.expand_grid(cfg)
    assert dict(cfg.experiment.batch) == {"policy.joint_exercises": [0, 1],
                                          "scenario": ["a", "b"],
                                          "params.Adversary Ambition": [0.0, 0.5, 1.0]}
