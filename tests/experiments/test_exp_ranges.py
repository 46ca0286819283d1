"""The same range check in `deterrence simulate` and `deterrence run`: a value outside a
constant's declared [min,max] is refused with one error line naming the range, in both,
unless explicitly allowed (--allow-out-of-range; experiment.allow_out_of_range=true)."""

from __future__ import annotations

import pytest
from exp_support import REPO, cli, load, ok

from deterrence.cli import main

MODEL = REPO / "sd_models" / "alliance_deterrence.mdl"
RANGE = "Joint Exercise Intensity = 1.5 is outside its declared range [0, 1]"


def _one_error(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    return lines[0]


def test_simulate_refuses_a_value_out_of_range(capsys):
    assert main(["simulate", str(MODEL), "--set", "Joint Exercise Intensity=0.5,1.5"]) == 2
    line = _one_error(capsys.readouterr().err)
    assert RANGE in line
    assert "--allow-out-of-range" in line


def test_simulate_allows_it_when_asked(tmp_path, capsys):
    out = tmp_path / "out.nc"
    assert main(["simulate", str(MODEL), "--set", "Joint Exercise Intensity=1.5",
                 "--allow-out-of-range", "--final-time", "2", "-o", str(out)]) == 0
    assert float(load(out)["joint_exercise_intensity"]) == 1.5


@pytest.mark.parametrize("args", [
    ("+params.Joint Exercise Intensity=1.5",),
    ("policy.joint_exercises=1.5",),
    ("experiment=grid", "grid.joint_exercises=0.5,1.5"),
])
def test_run_refuses_the_same_value(tmp_path, args):
    proc = cli(*args, "output.plot=false", f"hydra.run.dir={tmp_path}")
    assert proc.returncode == 2, proc.stderr
    line = _one_error(proc.stderr)
    assert RANGE in line
    assert "experiment.allow_out_of_range=true" in line


def test_run_allows_it_when_asked(tmp_path):
    ok(cli("policy.joint_exercises=1.5", "experiment.allow_out_of_range=true",
           "solver.final_time=2", "output.plot=false", f"hydra.run.dir={tmp_path}"))
    assert float(load(tmp_path / "results.nc")["joint_exercise_intensity"]) == 1.5
