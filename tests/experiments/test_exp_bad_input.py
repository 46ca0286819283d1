"""Bad input: one clear line on stderr (``error: ...``), exit status 2, and no job started."""

from __future__ import annotations

import subprocess

import pytest
from exp_support import cli_parallel

# id -> (arguments, words the one line must contain)
CASES = {
    "unknown_scenario": (["scenario=leadrship"],
                         ["leadrship", "leadership_change", "baseline", "abandonment"]),
    "unknown_scenario_in_a_sweep": (["-m", "scenario=baseline,leadrship"],
                                    ["leadrship", "leadership_change"]),
    "unknown_solver_option": (["solver=rk99"], ["rk99", "euler", "rk45", "radau"]),
    "misspelt_key": (["policy.joint_exercise=0.2"], ["joint_exercise", "'joint_exercises'"]),
    "misspelt_group": (["scnario=baseline"], ["scnario", "'scenario'"]),
    "unknown_parameter": (["+params.mutual_trus=0.3"], ["mutual_trus", "'mutual_trust'"]),
    "out_of_range": (["policy.joint_exercises=2"],
                     ["Joint Exercise Intensity", "= 2", "[0, 1]"]),
    "out_of_range_later_in_a_sweep": (["-m", "policy.joint_exercises=0.5,2"], ["[0, 1]"]),
    "out_of_range_in_a_batch": (["+experiment.batch={policy.joint_exercises:[0.5,2]}"],
                                ["[0, 1]"]),
    "unknown_scenario_in_a_batch": (["+experiment.batch={scenario:[baseline,leadrship]}"],
                                    ["leadrship", "leadership_change"]),
    "missing_model_file": (["model=vensim", "model.path=nothere.mdl"],
                           ["nothere.mdl", "not found"]),
    "vensim_without_path": (["model=vensim"], ["model.path"]),
    "unknown_solver_method": (["solver.method=rk99"], ["rk99", "euler", "RK45", "LSODA"]),
    "unknown_top_level_key": (["+foo=1"], ["'foo'"]),
    "unknown_policy_key": (["+policy.foo=1"], ["policy.foo", "joint_exercises"]),
    "unknown_launcher": (["-m", "hydra/launcher=nope", "scenario=baseline"],
                         ["nope", "cores", "local"]),
    "batch_without_plus": (["experiment.batch={policy.joint_exercises:[0.2,0.8]}"],
                           ["+experiment.batch"]),
    "scenario_set_without_plus": (["scenario.set.Nonsense=1"], ["+scenario.set.Nonsense"]),
    "not_a_number": (["solver.final_time=abc"], ["abc", "Float"]),
    "policy_set_without_plus": (["policy.set.Nonsense=1"], ["+policy.set.Nonsense"]),
    "lever_not_a_number": (["policy.joint_exercises=abc"], ["abc", "expected a number"]),
    "lever_of_a_model_without_levers": (
        ["model=richardson", "policy.joint_exercises=0.5"],
        ["policy.joint_exercises", "richardson_arms_race", "no policy levers"]),
    "policy_option_for_a_model_without_levers": (
        ["model=richardson", "policy=comprehensive"],
        ["policy.joint_exercises", "no policy levers"]),
    "sensitivity_without_an_outcome": (
        ["model=vensim", "model.path=sd_models/richardson_arms_race.mdl",
         "experiment=sensitivity", "experiment.sensitivity.names=null",
         "experiment.sensitivity.outcomes=null"],
        ["experiment.sensitivity.outcomes", "default_outcome"]),
    "unknown_key_output": (["model.key_outputs=[mutual_trus]"],
                           ["model.key_outputs", "mutual_trus", "'mutual_trust'"]),
    "unknown_sensitivity_reduce": (["experiment=sensitivity", "experiment.sensitivity.reduce=last"],
                                   ["reduce='last'", "final"]),
}

def run_in_process(args, tmp_path, capsys):
    """``deterrence run ARGS`` through the command's entry point, in this process."""
    from deterrence.cli import main

    run_dir, sweep_dir = tmp_path / "run", tmp_path / "sweep"
    capsys.readouterr()
    status = main(["run", *args, f"hydra.run.dir={run_dir}", f"hydra.sweep.dir={sweep_dir}"])
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, status, out, err), run_dir, sweep_dir


def check(result, words):
    proc, run_dir, sweep_dir = result
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    line = lines[0]
    assert line.startswith("error: "), line
    for word in words:
        assert word in line, f"{word!r} not in {line!r}"
    assert proc.returncode == 2, line
    assert proc.stdout == ""
    assert not run_dir.exists(), "a job was started"
    assert not sweep_dir.exists(), "a sweep was started"
    return line


@pytest.mark.parametrize("name", list(CASES))
def test_one_line_exit_2_no_job(name, tmp_path, capsys):
    args, words = CASES[name]
    check(run_in_process(args, tmp_path, capsys), words)


def test_suggestions_are_close_names_only(tmp_path, capsys):
    line = check(run_in_process(*CASES["unknown_parameter"][:1], tmp_path / "a", capsys),
                 CASES["unknown_parameter"][1])
    assert "closest" in line
    line = check(run_in_process(*CASES["misspelt_key"][:1], tmp_path / "b", capsys),
                 CASES["misspelt_key"][1])
    assert "did you mean" in line
    assert "consultation" not in line


SUBPROCESS = ["unknown_scenario", "out_of_range_later_in_a_sweep", "missing_model_file"]


def test_the_command_line_itself(tmp_path):
    """The same through ``python -m deterrence run`` (exit status, stderr, no folder)."""
    commands = [[*CASES[name][0], f"hydra.run.dir={tmp_path / name / 'run'}",
                 f"hydra.sweep.dir={tmp_path / name / 'sweep'}"] for name in SUBPROCESS]
    for name, proc in zip(SUBPROCESS, cli_parallel(*commands), strict=True):
        check((proc, tmp_path / name / "run", tmp_path / name / "sweep"), CASES[name][1])
