"""Fault: two ``deterrence run`` commands write into one run folder at the same time.

The run folder's "keep the earlier file aside" step was a check-then-rename: two runs into
one folder both exited 0 while one's results, records or configuration were lost or mixed
with the other's. A run now owns its folder while it runs (an ``flock`` on the folder,
taken before Hydra writes anything into it): a second run into a busy folder is refused
with one line and exit 2, and the first run's folder holds only its own results. Default
run folders carry a random tag, so two runs started in the same second never meet.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import xarray as xr
import yaml
from adv_sweep_hooks import refused_in_one_line, started, wait_for

REPO = Path(__file__).resolve().parents[2]
HOOKS = Path(__file__).resolve().parent
FAST = ["solver.final_time=2", "output.plot=false"]


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "deterrence", "run", *args]


def env() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(HOOKS), os.environ.get("PYTHONPATH")) if p)
    return {**{k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"},
            "PYTHONPATH": path, "MPLBACKEND": "Agg"}


def hold(folder: Path) -> str:
    return f"+hydra.callbacks.hold={{_target_:adv_sweep_hooks.Hold,folder:{folder}}}"


def test_a_second_run_into_a_busy_run_folder_is_refused(tmp_path: Path) -> None:
    run_dir, held = tmp_path / "run", tmp_path / "held"
    first = subprocess.Popen(
        command("policy.joint_exercises=0.2", *FAST, f"hydra.run.dir={run_dir}", hold(held)),
        cwd=REPO, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: started(held), "the first run to start")
        second = subprocess.run(
            command("policy.joint_exercises=0.8", *FAST, f"hydra.run.dir={run_dir}"),
            cwd=REPO, env=env(), capture_output=True, text=True, timeout=300, check=False)
    finally:
        (held / "go").touch()
        _, first_err = first.communicate(timeout=300)
    refused_in_one_line(second, str(run_dir), "another run or sweep")
    assert first.returncode == 0, first_err
    # the folder is the first run's alone: its results, its records, nothing set aside
    with xr.open_dataset(run_dir / "results.nc") as ds:
        assert float(ds["joint_exercise_intensity"]) == pytest.approx(0.2)
    overrides = yaml.safe_load((run_dir / ".hydra" / "overrides.yaml").read_text())
    assert "policy.joint_exercises=0.2" in overrides
    assert sorted(p.name for p in run_dir.glob("results*")) == ["results.nc"]


def test_a_run_folder_is_free_again_after_the_run(tmp_path: Path) -> None:
    """The claim ends with the run: a later run into the folder sets the first aside."""
    run_dir = tmp_path / "run"
    for level in ("0.2", "0.8"):
        proc = subprocess.run(
            command(f"policy.joint_exercises={level}", *FAST, f"hydra.run.dir={run_dir}"),
            cwd=REPO, env=env(), capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stderr
    assert len(list(run_dir.glob("results.*.nc"))) == 1
    with xr.open_dataset(run_dir / "results.nc") as ds:
        assert float(ds["joint_exercise_intensity"]) == pytest.approx(0.8)


def test_default_folders_started_in_the_same_second_differ(monkeypatch) -> None:
    """Compose the shipped config twice with the clock stopped: the folders must differ."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    from deterrence.experiments import config

    config.register_configs()
    GlobalHydra.instance().clear()
    folders = []
    try:
        with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
            OmegaConf.register_new_resolver("now", lambda pattern: "2030-01-01_00-00-00",
                                            replace=True)
            for _ in range(2):
                cfg = compose("config", return_hydra_config=True)
                folders.append((str(cfg.hydra.run.dir), str(cfg.hydra.sweep.dir)))
    finally:
        GlobalHydra.instance().clear()
        from hydra.core.utils import setup_globals

        setup_globals()  # Hydra's own ``now`` again
    (run_a, sweep_a), (run_b, sweep_b) = folders
    assert "2030-01-01_00-00-00" in run_a
    assert run_a != run_b
    assert sweep_a != sweep_b
