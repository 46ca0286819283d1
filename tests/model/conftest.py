"""Fixtures for the model tests: simulate the sd_models with the project API.

`simulate(params, method="euler", time_step=None) -> xarray.Dataset` uses
`deterrence.load(path).simulate` when the engine is importable, and otherwise a PySD
fallback (Euler only) with the same names; the fallback lives in
sd_models/scripts/behaviour.py, shared with the script that measures the figures the
model documentation quotes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

SCRIPTS = Path(__file__).resolve().parents[2] / "sd_models" / "scripts"
sys.path.insert(0, str(SCRIPTS))

import behaviour  # noqa: E402


@pytest.fixture(scope="session")
def simulate():
    """Simulate sd_models/alliance_deterrence.mdl."""
    return behaviour.simulator(behaviour.ALLIANCE)


@pytest.fixture(scope="session")
def simulate_richardson():
    """Simulate sd_models/richardson_arms_race.mdl."""
    return behaviour.simulator(behaviour.RICHARDSON)


@pytest.fixture(scope="session")
def constants(simulate):
    """{py_name: Param} of the alliance model (name, units, default, limits, doc)."""
    return simulate.constants


@pytest.fixture(scope="session")
def base(simulate):
    """The status-quo run: default levers, no shock."""
    return simulate()


@pytest.fixture(scope="session")
def catalogue():
    """sd_models/scenarios.yaml."""
    return yaml.safe_load((behaviour.SD_MODELS / "scenarios.yaml").read_text())


@pytest.fixture
def needs_engine():
    if not behaviour.engine_available():
        pytest.skip("the deterrence engine (deterrence.load) is not importable yet; "
                    "the PySD fallback integrates with euler only")
