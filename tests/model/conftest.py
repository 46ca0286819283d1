"""Fixtures for the model tests: the sd_models run by the engine, and the shipped catalogue.

The models are simulated with the engine itself (`deterrence.load(path).simulate`), with
Euler at the model's TIME STEP unless a test asks otherwise. The scenarios and policies
are the experiment configs in conf/scenario and conf/policy, read with the package's own
loaders (`deterrence.experiments.config.group_option`, `deterrence.experiments.params`'s
`scenario_params` and `policy_params`), so the tests check exactly what
`deterrence run scenario=... policy=...` runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pytest
import xarray as xr
from omegaconf import DictConfig

import deterrence
from deterrence.experiments.config import (
    ModelConfig,
    PolicyConfig,
    ScenarioConfig,
    conf_dir,
    group_option,
    model_path,
)
from deterrence.experiments.params import policy_params, scenario_params

Simulate = Callable[..., xr.Dataset]


def option_names(group: str) -> list[str]:
    """The options of a config group (conf/<group>/*.yaml), sorted."""
    return sorted(p.stem for p in (conf_dir() / group).glob("*.yaml"))


def simulator(model: deterrence.Model) -> Simulate:
    """`simulate(params=None, method="euler", time_step=None) -> Dataset` for one model.

    Parameters may be given by model or Python name, but one constant only once: the
    engine lets the later of two spellings win silently, which would hide a test that
    overrides a scenario's value under the other spelling.
    """

    def simulate(params: Mapping[str, Any] | None = None, method: str = "euler",
                 time_step: float | None = None) -> xr.Dataset:
        resolved: dict[str, Any] = {}
        for name, value in (params or {}).items():
            py_name = model.variable(name).py_name
            if py_name in resolved:
                raise ValueError(f"{py_name} is set twice (once as {name!r})")
            resolved[py_name] = value
        return model.simulate(resolved, method=method, time_step=time_step)

    return simulate


@dataclass(frozen=True)
class Catalogue:
    """The shipped scenarios and policies of the alliance model (conf/scenario, conf/policy).

    `scenarios[name]` / `policies[name]` are the options as loaded (checked against
    ScenarioConfig / PolicyConfig); `scenario(name)` / `policy(name)` the constants they
    set, by Python name, as the experiments set them.
    """

    model: deterrence.Model
    levers: Mapping[str, str]

    @cached_property
    def scenarios(self) -> dict[str, DictConfig]:
        return {n: group_option("scenario", n, ScenarioConfig)
                for n in option_names("scenario")}

    @cached_property
    def policies(self) -> dict[str, DictConfig]:
        return {n: group_option("policy", n, PolicyConfig) for n in option_names("policy")}

    def scenario(self, name: str) -> dict[str, Any]:
        return scenario_params(self.model, self.scenarios[name])

    def policy(self, name: str) -> dict[str, Any]:
        return policy_params(self.model, self.levers, self.policies[name])

    def onset(self, name: str) -> float:
        """Start of the scenario's first shock window."""
        return float(self.scenarios[name].shock_windows[0][0])


@pytest.fixture(scope="session")
def alliance_config() -> DictConfig:
    """conf/model/alliance.yaml: the model file and its lever map."""
    return group_option("model", "alliance", ModelConfig)


@pytest.fixture(scope="session")
def alliance(alliance_config) -> deterrence.Model:
    """sd_models/alliance_deterrence.mdl, compiled by the engine."""
    return deterrence.load(model_path(alliance_config.path))


@pytest.fixture(scope="session")
def richardson() -> deterrence.Model:
    """sd_models/richardson_arms_race.mdl, compiled by the engine."""
    return deterrence.load(model_path(group_option("model", "richardson", ModelConfig).path))


@pytest.fixture(scope="session")
def simulate(alliance) -> Simulate:
    """Simulate the alliance model."""
    return simulator(alliance)


@pytest.fixture(scope="session")
def simulate_richardson(richardson) -> Simulate:
    """Simulate the Richardson model."""
    return simulator(richardson)


@pytest.fixture(scope="session")
def constants(alliance) -> dict[str, Any]:
    """{py_name: Variable} of the alliance model's constants (units, default, limits, doc)."""
    return alliance.constants


@pytest.fixture(scope="session")
def base(simulate) -> xr.Dataset:
    """The status-quo run: default levers, no shock."""
    return simulate()


@pytest.fixture(scope="session")
def catalogue(alliance, alliance_config) -> Catalogue:
    """The scenarios and policies of conf/scenario and conf/policy."""
    return Catalogue(alliance, dict(alliance_config.levers))
