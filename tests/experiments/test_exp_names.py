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
