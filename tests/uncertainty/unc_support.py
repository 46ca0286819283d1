"""Helpers shared by the uncertainty tests (imported by the test modules and conftest):
the model file, short simulation settings, two policies, and ``cli(...)``, which runs
``python -m deterrence ARGS`` in the project folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "sd_models" / "alliance_deterrence.mdl"
# short runs: final_time=10 is 320 Euler steps; the ensemble's properties do not depend
# on the horizon
SHORT = {"method": "euler", "final_time": 10.0}
POLICIES = {"status_quo": {}, "exercises": {"Joint Exercise Intensity": 0.9}}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DETERRENCE_CONF",)}
    env["MPLBACKEND"] = "Agg"
    return env


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m deterrence ARGS`` from the project folder, finished."""
    return subprocess.run([sys.executable, "-m", "deterrence", *args], cwd=REPO,
                          env=_env(), capture_output=True, text=True, timeout=600,
                          check=False)
