"""Fault: settings the engine refuses only once a job runs reach ``deterrence run``.

A NaN parameter, a negative ``solver.time_step`` or an unknown ``output.variables`` used
to pass the pre-run check: each job then failed on its own, and a sweep started every job
to fail each one. They must be refused before any job starts: one ``error:`` line naming
the key, what was expected and what to do, exit 2, and no run or sweep folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from deterrence.cli import main

FAST = ["solver.final_time=2", "output.plot=false"]

# id -> (arguments, words the one line must contain)
CASES = {
    "nan_param": (["+params.joint_exercise_intensity=nan"],
                  ["params.joint_exercise_intensity=nan", "finite number", "set it"]),
    "inf_param_later_in_a_sweep": (["-m", "+params.joint_exercise_intensity=0.5,inf"],
                                   ["params.joint_exercise_intensity=inf", "finite"]),
    "nan_lever": (["policy.joint_exercises=nan"], ["policy.joint_exercises=nan", "finite"]),
    "nan_in_a_batch": (["+experiment.batch={params.joint_exercise_intensity:[0.5,nan]}"],
                       ["experiment.batch.params.joint_exercise_intensity=nan", "finite"]),
    "nan_scenario_set": (["+scenario.set.joint_exercise_intensity=nan"],
                         ["scenario.set.joint_exercise_intensity=nan", "finite"]),
    "negative_time_step": (["solver.time_step=-0.25"],
                           ["solver.time_step=-0.25", "positive", "solver.time_step=0.25"]),
    "zero_saveper": (["solver.saveper=0"], ["solver.saveper=0", "positive"]),
    "nan_rtol": (["solver.rtol=nan"], ["solver.rtol=nan", "positive"]),
    "unknown_output_variable": (["output.variables=[mutual_trust,mutual_trus]"],
                                ["output.variables", "'mutual_trus'", "'mutual_trust'",
                                 "output.variables=null"]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_refused_before_any_job(name: str, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    args, words = CASES[name]
    run_dir, sweep_dir = tmp_path / "run", tmp_path / "sweep"
    capsys.readouterr()
    status = main(["run", *args, *FAST, f"hydra.run.dir={run_dir}",
                   f"hydra.sweep.dir={sweep_dir}"])
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), lines[0]
    for word in words:
        assert word in lines[0], f"{word!r} not in {lines[0]!r}"
    assert status == 2
    assert out == ""
    assert not run_dir.exists(), "a job was started"
    assert not sweep_dir.exists(), "a sweep was started"


def test_good_settings_still_run(tmp_path: Path) -> None:
    """The check refuses only what is wrong: a finite value and a positive step run."""
    run_dir = tmp_path / "run"
    status = main(["run", "+params.joint_exercise_intensity=0.5", "solver.time_step=0.5",
                   "output.variables=[mutual_trust]", *FAST, f"hydra.run.dir={run_dir}"])
    assert status == 0
    assert (run_dir / "results.nc").exists()
