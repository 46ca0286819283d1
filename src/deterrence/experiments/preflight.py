"""Before any job starts: compose every swept value and check it, so a bad one is refused
with one line (exit 2) instead of failing jobs one by one."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from omegaconf import DictConfig

from ..errors import ParameterError
from ..model import Model
from .compose import compose_scenarios, expand_grid
from .config import (
    POLICY_KEYS,
    Config,
    ExperimentConfig,
    ModelConfig,
    OutputConfig,
    PolicyConfig,
    ScenarioConfig,
    SensitivityConfig,
    SolverConfig,
    conf_dir,
    get_model,
    group_option,
    model_path,
    register_configs,
)
from .params import batch_grid, check_lever, job_params, sensitivity_sample, suggest


def preflight(overrides: Sequence[str]) -> None:
    """Compose and check every swept value before any job starts (one clear line each)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser

    plain = [o for o in overrides if not o.startswith("-")]
    parsed = _hydra(OverridesParser.create().parse_overrides, plain)
    base, alternatives = [], []
    for override, text in zip(parsed, plain, strict=True):
        if override.is_sweep_override():
            key = text.split("=", 1)[0]
            values = list(_hydra(override.sweep_string_iterator))
            base.append(f"{key}={values[0]}")
            alternatives += [(len(base) - 1, f"{key}={v}") for v in values[1:]]
        else:
            base.append(text)
    candidates = [base] + [[*base[:i], alt, *base[i + 1:]] for i, alt in alternatives]
    register_configs()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
            for candidate in candidates:
                cfg = _hydra(compose, config_name="config", overrides=candidate,
                             return_hydra_config=True)
                _policy_set_needs_plus(cfg, candidate)
                check_keys(cfg)
                compose_scenarios(cfg, candidate)
                expand_grid(cfg)
                model = get_model(model_path(cfg.model.path), cfg.model.engine)
                check_settings(model, cfg)
                if cfg.experiment.samples is not None:
                    from .uncertainty import check

                    check(model, cfg)
                elif cfg.experiment.sensitivity is not None:
                    sensitivity_sample(model, cfg)
                elif cfg.experiment.batch:
                    batch_grid(model, cfg)
                else:
                    job_params(model, cfg)
                if cfg.solver.method is None:
                    model.declared_method.require(model.path)
                elif cfg.solver.method.lower() not in {m.lower() for m in _methods()}:
                    raise ParameterError(f"solver.method={cfg.solver.method!r} is unknown; "
                                         f"choose one of {', '.join(_methods())}")
    finally:
        GlobalHydra.instance().clear()


def _hydra(call: Any, *args: Any, **kwargs: Any) -> Any:
    """Hydra's parser and composer, with the plain ValueError some malformed overrides
    raise turned into ours (Hydra's and OmegaConf's own errors pass as they are)."""
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    try:
        return call(*args, **kwargs)
    except (HydraException, OmegaConfBaseException):
        raise
    except ValueError as exc:
        raise ParameterError(one_line(exc)) from None


def _policy_set_needs_plus(cfg: DictConfig, overrides: Sequence[str]) -> None:
    """``policy.set.NAME=V`` adds a key, which takes a ``+`` as for every other ``set``
    (the policy node is open to levers, so Hydra does not say so itself)."""
    option = cfg.hydra.runtime.choices.get("policy")
    shipped: set[str] = set()
    if option is not None and (conf_dir() / "policy" / f"{option}.yaml").exists():
        shipped = set(group_option("policy", str(option), PolicyConfig).set)
    for text in overrides:
        key, _, value = text.partition("=")
        group, _, name = key.partition(".set.")
        if group == "policy" and name and name not in shipped:
            raise ParameterError(f"Could not override '{key}'; to append to your config "
                                 f"use +{key}={value} (Key '{name}' is not in struct)")


def check_settings(model: Model, cfg: Any) -> None:
    """What the engine refuses only once a job runs, refused before any job starts:
    a NaN or infinite setting, a solver step that is not positive, an unknown output."""
    settings = [(f"params.{k}", v, "") for k, v in cfg.params.items()]
    settings += [(f"scenario.set.{k}", v, f" (scenario {cfg.scenario.name!r})")
                 for k, v in cfg.scenario.set.items()]
    settings += [(f"policy.{k}", v, "") for k, v in cfg.policy.items() if k not in POLICY_KEYS]
    settings += [(f"policy.set.{k}", v, f" (policy {cfg.policy.name!r})")
                 for k, v in cfg.policy.set.items()]
    settings += [(f"experiment.batch.{k}", v, "") for k, vals in cfg.experiment.batch.items()
                 for v in vals]
    for key, value, where in settings:
        if isinstance(value, float) and not math.isfinite(value):
            raise ParameterError(f"{key}={value}{where} is not a finite number",
                                 hint="set it to a number, within the constant's declared "
                                 "range if it has one")
    s = cfg.solver
    positive = {"time_step": "0.25", "saveper": "1", "max_step": "0.5", "rtol": "1e-6"}
    for name, example in positive.items():
        value = s.get(name)
        if value is not None and not (math.isfinite(value) and value > 0):
            unset = "" if name == "rtol" else ", or null to keep the model's setting"
            raise ParameterError(f"solver.{name}={value}: expected a positive number",
                                 hint=f"set e.g. solver.{name}={example}{unset}")
    if cfg.model.get("engine") == "pysd" and s.method is not None \
            and str(s.method).lower() != "euler":  # null: the model's own, Euler on PySD
        raise ParameterError(f"model.engine=pysd integrates with euler only (PySD's "
                             f"runner), not solver.method={s.method}",
                             hint="use solver=euler, or model.engine=compiled")
    if not (math.isfinite(s.atol) and s.atol >= 0):
        raise ParameterError(f"solver.atol={s.atol}: expected a number >= 0",
                             hint="set solver.atol=1e-8")
    if s.final_time is not None and not math.isfinite(s.final_time):
        raise ParameterError(f"solver.final_time={s.final_time}: expected a finite number",
                             hint="set solver.final_time to the last time to simulate, or "
                             "null to keep the model's FINAL TIME")
    named = [("output.variables", n, "; or set output.variables=null to keep every "
              "variable") for n in cfg.output.variables or []]
    named += [("model.key_outputs", n, "") for n in cfg.model.key_outputs]
    if cfg.model.default_outcome is not None:
        named.append(("model.default_outcome", cfg.model.default_outcome, ""))
    for where, name, advice in named:
        try:
            model.variable(str(name))
        except ParameterError as exc:
            raise ParameterError(f"{where}: {exc.message}", path=exc.path,
                                 hint=(exc.hint or "") + advice) from None


_SCHEMAS = {"model": ModelConfig, "scenario": ScenarioConfig, "policy": PolicyConfig,
            "experiment.sensitivity": SensitivityConfig,
            "solver": SolverConfig, "experiment": ExperimentConfig, "output": OutputConfig}


def check_keys(cfg: DictConfig) -> None:
    """Keys added with ``+`` bypass Hydra's checks: only ``params`` takes new keys, and
    ``policy`` the levers of the chosen model (``model.levers``)."""
    for key in cfg:
        if key == "hydra":
            continue
        if key not in Config.__dataclass_fields__:
            raise ParameterError(f"unknown config key {key!r}" + suggest(
                str(key), list(Config.__dataclass_fields__)))
        nodes = [(str(key), cfg[key])]
        if key == "experiment" and cfg[key].get("sensitivity") is not None:
            nodes.append(("experiment.sensitivity", cfg[key]["sensitivity"]))
        for path, node in nodes:
            schema = _SCHEMAS.get(path)
            if schema is None:
                continue
            for sub in node:
                if path == "policy" and sub not in POLICY_KEYS:
                    check_lever(str(sub), cfg.model.levers, cfg.model.name)
                elif sub not in schema.__dataclass_fields__:
                    raise ParameterError(f"unknown config key '{path}.{sub}'" + suggest(
                        str(sub), list(schema.__dataclass_fields__)))


def one_line(exc: BaseException) -> str:
    """Hydra's multi-line errors as one line that still says what exists and what to do."""
    full = str(exc).strip()
    lines = [ln.strip() for ln in full.splitlines() if ln.strip()]
    text = (lines[0] if lines else type(exc).__name__).rstrip(".")
    append = next((ln for ln in lines if ln.startswith("To append")), None)
    found = re.search(r"Available options in '([^']+)':\n(.*?)(?:\nConfig search|$)", full,
                      re.S)
    override = re.match(r"Could not override '([^']+)'", text)
    explained = bool(found)
    if found:
        names = [n.strip() for n in found.group(2).splitlines() if n.strip()]
        text += f"; options for {found.group(1)}: {', '.join(names)}"
    elif override:
        group, _, key = override.group(1).lstrip("+~").rpartition(".")
        schema = _SCHEMAS.get(group) if group else Config
        fields = list(schema.__dataclass_fields__) if schema is not None else []
        if fields and key not in fields:
            text += f": no key {key!r} in {group or 'the config'}" + suggest(key, fields)
            explained = True
        elif append:  # the key exists (a dict) or is free-form: adding needs a '+'
            text += "; " + append[0].lower() + append[1:]
    cause = exc.__cause__
    if cause is not None and str(cause).strip() and not explained:
        text += f" ({str(cause).strip().splitlines()[0]})"
    return text


def _methods() -> tuple[str, ...]:
    from ..integrate import METHODS

    return METHODS
