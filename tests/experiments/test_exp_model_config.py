"""What the generic layers know of a model comes from its config (conf/model/*.yaml):
levers, key outputs (written into every Dataset as ``key_outputs``), default outcome."""

from __future__ import annotations

import pytest
from exp_support import FAST, cli_parallel, load, ok
from omegaconf import OmegaConf

from deterrence.errors import ParameterError
from deterrence.experiments.config import ModelConfig, group_option
from deterrence.experiments.params import policy_levers

ALLIANCE_KEY_OUTPUTS = ["adversary_risk_estimate", "hazard_of_aggression",
                        "deterrence_survival", "mutual_trust", "perceived_commitment",
                        "crisis_tension"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A single run, a batch and a multirun of the alliance model; a Richardson run."""
    root = tmp_path_factory.mktemp("model_config")
    commands = {
        "single": [*FAST, f"hydra.run.dir={root / 'single'}"],
        "batch": [*FAST, "+experiment.batch={scenario:[baseline,leadership_change]}",
                  f"hydra.run.dir={root / 'batch'}"],
        "sweep": ["-m", *FAST, "scenario=baseline,leadership_change",
                  f"hydra.sweep.dir={root / 'sweep'}"],
        "richardson": ["model=richardson", "output.plot=false",
                       f"hydra.run.dir={root / 'richardson'}"],
    }
    for proc in cli_parallel(*commands.values()):
        ok(proc)
    return root


def test_every_saved_dataset_names_the_key_outputs(runs):
    for path in ("single/results.nc", "batch/results.nc", "batch/combined.nc",
                 "sweep/0/results.nc", "sweep/combined.nc"):
        ds = load(runs / path)
        assert ds.attrs["key_outputs"] == ALLIANCE_KEY_OUTPUTS, path
        assert all(name in ds.data_vars for name in ds.attrs["key_outputs"]), path
        assert ds.attrs["default_outcome"] == "deterrence_survival", path  # maps' default


def test_a_model_without_key_outputs_writes_no_attribute(runs):
    ds = load(runs / "richardson" / "results.nc")
    assert "key_outputs" not in ds.attrs
    assert "x_armament" in ds.data_vars  # richardson's default outcome is one of its own
    assert ds.attrs["default_outcome"] == "x_armament"


def test_the_alliance_config_carries_its_knowledge():
    alliance = group_option("model", "alliance", ModelConfig)
    assert list(alliance.key_outputs) == ALLIANCE_KEY_OUTPUTS
    assert alliance.default_outcome == "deterrence_survival"
    for other in ("vensim", "richardson"):
        option = group_option("model", other, ModelConfig)
        assert not option.levers
        assert not option.key_outputs


def test_policy_levers_are_the_models_and_floats():
    levers = {"joint_exercises": "Joint Exercise Intensity", "consultation": "Consultation"}
    policy = OmegaConf.create({"name": "p", "description": "", "set": {},
                               "consultation": 1, "joint_exercises": None})
    values = policy_levers(policy, levers)
    assert list(values) == ["joint_exercises", "consultation"]  # the model's order
    assert values == {"joint_exercises": None, "consultation": 1.0}
    assert isinstance(values["consultation"], float)
    policy.joint_exercise = 0.5
    with pytest.raises(ParameterError, match=r"did you mean 'joint_exercises'\?"):
        policy_levers(policy, levers)
