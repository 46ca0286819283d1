"""The run's size limits from the experiment config: solver.max_memory and max_steps."""

from __future__ import annotations

import yaml
from exp_support import FAST, cli


def test_solver_max_memory_refuses_a_run_too_large(tmp_path) -> None:
    result = cli("solver.max_memory=10kB", *FAST, f"hydra.run.dir={tmp_path / 'small'}")
    assert result.returncode != 0
    failure = yaml.safe_load((tmp_path / "small" / "failure.yaml").read_text())["error"]
    assert "more than the limit of 9.77 KiB" in failure
    assert "solver.max_memory=" in failure
    assert not (tmp_path / "small" / "results.nc").exists()


def test_solver_max_steps_is_passed_to_the_engine(tmp_path) -> None:
    result = cli("solver.max_steps=3", *FAST, f"hydra.run.dir={tmp_path / 'steps'}")
    assert result.returncode != 0
    assert "steps" in (tmp_path / "steps" / "failure.yaml").read_text()
    ok = cli("solver.max_memory=1GiB", "solver.max_steps=1e6", *FAST,
             f"hydra.run.dir={tmp_path / 'ok'}")
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "ok" / "results.nc").exists()
