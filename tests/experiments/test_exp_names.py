"""Overrides may name a constant as the model file writes it, spaces included."""

from __future__ import annotations

import numpy as np
from exp_support import cli, load, ok

from deterrence.experiments.main import _spaced_key


def test_a_vensim_name_with_spaces_sets_the_constant(tmp_path):
    ok(cli("+params.Joint Exercise Intensity=0.8", "output.plot=false",
           f"hydra.run.dir={tmp_path / 'spaced'}"))
    ok(cli("+params.joint_exercise_intensity=0.8", "output.plot=false",
           f"hydra.run.dir={tmp_path / 'python'}"))
    spaced, python = load(tmp_path / "spaced" / "results.nc"), load(
        tmp_path / "python" / "results.nc")
    assert float(spaced["joint_exercise_intensity"]) == 0.8
    np.testing.assert_array_equal(spaced["mutual_trust"].values, python["mutual_trust"].values)


def test_only_keys_with_spaces_are_rewritten():
    assert _spaced_key("+params.Joint Exercise Intensity=0.8") == \
        "+params.Joint_Exercise_Intensity=0.8"
    assert _spaced_key("policy.name=a b") == "policy.name=a b"  # values keep their spaces
    assert _spaced_key("-m") == "-m"
    assert _spaced_key("scenario=baseline") == "scenario=baseline"


def test_default_run_folders_are_named_for_what_ran():
    from deterrence.experiments.folders import run_name

    assert run_name("alliance_deterrence", "single", "leadership_change", "reassurance") == \
        "leadership_change_reassurance"
    assert run_name("alliance_deterrence", "scenarios", "baseline", "status_quo") == "scenarios"
    assert run_name("richardson_arms_race", "single", "baseline", "status_quo") == \
        "richardson_arms_race_baseline_status_quo"
    assert run_name("my model/v2", "single", "a b", "c") == "my-model-v2_a-b_c"


def test_the_run_folder_setting_resolves_to_that_name():
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from deterrence.experiments.config import conf_dir, register_configs

    register_configs()
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        cfg = compose(config_name="config", overrides=["experiment=scenarios"],
                      return_hydra_config=True)
        folder = OmegaConf.to_container(cfg.hydra.run, resolve=True)["dir"]
    assert "_scenarios_" in folder
    assert "baseline_status_quo" not in folder


def test_a_single_runs_figure_names_what_its_lines_share():
    """``scenario=leadership_change policy=reassurance``: the figure compares scenarios,
    so it must say the policy; a user's model with a parameter set says both."""
    from hydra import compose, initialize_config_dir

    from deterrence.experiments.config import conf_dir, get_model, model_path, register_configs
    from deterrence.experiments.job import _held

    register_configs()
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        cfg = compose(config_name="config",
                      overrides=["scenario=leadership_change", "policy=reassurance",
                                 "+params.Adversary Ambition=0.7".replace(" ", "_")])
    held = _held(cfg, "scenario", get_model(model_path(cfg.model.path)))
    assert held == {"policy": "reassurance", "adversary_ambition": 0.7}
