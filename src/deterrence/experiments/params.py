"""From a composed config to the engine's parameters: scenario, policy levers, ``params``,
batched grids (one ensemble over a cartesian product) and Sobol samples.

Names may be Vensim or Python names; every bad one is reported with where it came from.
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from ..errors import ParameterError
from ..model import Model
from ..names import close_matches
from .compose import scenario_label, scenario_option
from .config import POLICY_KEYS, PolicyConfig, group_option

TIMING_KEYS = ("start_time", "ramp_time")  # policy keys that time the levers (model.timing)


def _resolve(model: Model, values: dict[str, Any], where: str) -> dict[str, Any]:
    """Map names (Vensim or Python) to Python names, naming where a bad one came from."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        try:
            var = model.variable(str(name))
        except ParameterError as exc:
            raise ParameterError(f"{where}: {exc.message}", path=exc.path,
                                 hint=exc.hint) from None
        out[var.py_name] = value
    return out


def suggest(word: str, options: Sequence[str]) -> str:
    """``; did you mean 'x'?`` for close names only, else the valid ones."""
    close = close_matches(word, list(options), n=3, cutoff=0.5)
    if close:
        return "; did you mean " + " or ".join(repr(c) for c in close) + "?"
    return "; valid keys: " + ", ".join(options)


def policy_fields(levers: Any) -> list[str]:
    """Every key a policy may have under a model: its fixed keys and the model's levers."""
    return ["name", "description", *levers, "set", *TIMING_KEYS]


def check_lever(key: str, levers: Any, model_name: str) -> None:
    """``key`` (a policy key that is not a fixed one) must be a lever of the model."""
    if key in levers:
        return
    if not levers:
        raise ParameterError(f"unknown config key 'policy.{key}': model {model_name!r} has "
                             "no policy levers", hint="set the constant with "
                             "+params.NAME=VALUE, or map a lever to it in model.levers")
    raise ParameterError(
        f"unknown config key 'policy.{key}'" + suggest(key, policy_fields(levers)),
        hint=f"the levers are model.levers of model {model_name!r}; set any constant "
        "with +params.NAME=VALUE")


def lever_value(key: str, value: Any) -> float | None:
    """A lever's value as a float (None keeps the model's value); anything else is refused."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError(f"policy.{key}={value!r}: expected a number",
                             hint=f"set e.g. policy.{key}=0.5, or null for the model's value")
    return float(value)


def policy_levers(policy: Any, levers: Any, model_name: str = "?") -> dict[str, float | None]:
    """The policy's lever values, in ``model.levers`` order, each checked."""
    for key in policy:
        if key not in POLICY_KEYS:
            check_lever(str(key), levers, model_name)
    return {lever: lever_value(lever, policy.get(lever)) for lever in levers
            if lever in policy}


def scenario_params(model: Model, scenario: Any, timing: Any = None) -> dict[str, Any]:
    """The constants a scenario sets; with ``timing`` (``model.timing``), a lever it sets
    is also the lever's level before a timed policy starts: the world the policy meets."""
    params = _resolve(model, dict(scenario.set), f"scenario {scenario.name!r}")
    before = dict(timing.before) if timing is not None and timing.get("before") else {}
    for lever, prior in before.items():
        name = model.variable(str(lever)).py_name
        if name in params:
            params.update(_resolve(model, {prior: params[name]}, "model.timing.before"))
    return params


def timing_params(model: Model, policy: Any, timing: Any, model_name: str = "?"
                  ) -> dict[str, Any]:
    """``policy.start_time`` / ``policy.ramp_time`` as the constants of ``model.timing``."""
    params: dict[str, Any] = {}
    for key in TIMING_KEYS:
        value = policy.get(key)
        if value is None:
            continue
        constant = timing.get(key) if timing is not None else None
        if not constant:
            raise ParameterError(f"policy.{key}={value}: model {model_name!r} has no timed "
                                 f"policies (model.timing.{key} is not set)",
                                 hint="map it to the model constant that holds it in "
                                 "conf/model/<model>.yaml (timing:)")
        params.update(_resolve(model, {constant: lever_value(key, value)}, f"policy.{key}"))
    return params


def policy_params(model: Model, levers: Any, policy: Any, timing: Any = None
                  ) -> dict[str, Any]:
    """The policy's levers (through the model's lever map), its timing (through
    ``timing``, the model's ``model.timing``), then its ``set``."""
    params: dict[str, Any] = {}
    for lever, value in policy_levers(policy, levers, model.name).items():
        if value is not None:
            params.update(_resolve(model, {levers[lever]: value}, f"policy.{lever}"))
    params.update(timing_params(model, policy, timing, model.name))
    params.update(_resolve(model, dict(policy.set), f"policy {policy.name!r}"))
    return params


def check_timing(model: Model, cfg: Any, params: dict[str, Any]) -> None:
    """A policy start time outside the run, or a negative ramp, is refused naming the
    run's span (the declared range alone would not see a shortened run)."""
    timing = cfg.model.get("timing") or {}
    start, ramp = (model.variable(str(timing[k])).py_name if timing.get(k) else None
                   for k in TIMING_KEYS)
    t0 = float(cfg.solver.get("initial_time") or model.variables["initial_time"].default)
    t1 = cfg.solver.get("final_time")
    t1 = float(t1 if t1 is not None else model.variables["final_time"].default)
    if start in params:
        values = np.atleast_1d(np.asarray(params[start], dtype=float))
        bad = values[(values < t0) | (values > t1)]
        if bad.size:
            raise ParameterError(f"policy.start_time={bad[0]:g} is outside the run "
                                 f"(time {t0:g} to {t1:g})", path=model.path,
                                 hint=f"choose a start time from {t0:g} to {t1:g}, or "
                                 "lengthen the run with solver.final_time=")
    if ramp in params:
        values = np.atleast_1d(np.asarray(params[ramp], dtype=float))
        if (values < 0).any():
            raise ParameterError(f"policy.ramp_time={values.min():g}: expected 0 (at once) "
                                 "or a positive number of years", path=model.path)


def job_params(model: Model, cfg: Any) -> dict[str, Any]:
    """Scenario < policy levers < policy.set < params: later settings win."""
    timing = cfg.model.get("timing")
    params = scenario_params(model, cfg.scenario, timing)
    params.update(policy_params(model, cfg.model.levers, cfg.policy, timing))
    params.update(_resolve(model, dict(cfg.params), "params"))
    check_timing(model, cfg, params)
    check_ranges(model, cfg, params)
    return params


def check_ranges(model: Model, cfg: Any, params: dict[str, Any]) -> None:
    """A value outside a declared range is refused (as ``deterrence simulate`` does),
    unless ``experiment.allow_out_of_range=true``."""
    if not cfg.experiment.get("allow_out_of_range"):
        model.check_ranges(params)


def dim_name(key: str) -> str:
    """``policy.joint_exercises`` -> ``joint_exercises``; ``scenario`` -> ``scenario``."""
    key = key.lstrip("+~")
    return key.rsplit(".", 1)[-1] if "." in key else key


# -- batched grids: one job, one ensemble -----------------------------------------------


def batch_grid(model: Model, cfg: Any) -> tuple[list[str], list[list[Any]], dict[str, Any]]:
    """The batch's keys, their values, and parameter arrays over the cartesian product.

    Precedence is the same as for one job: scenario < policy < policy levers < params.
    """
    keys = [str(k) for k in cfg.experiment.batch]
    values = [[scenario_label(v) for v in cfg.experiment.batch[k]]
              if k.lstrip("+~") == "scenario" else list(cfg.experiment.batch[k]) for k in keys]
    for key, vals in zip(keys, values, strict=True):
        if not vals:
            raise ParameterError(f"experiment.batch.{key} has no values")
    rank = {"scenario": 0, "policy": 1}
    order = sorted(range(len(keys)), key=lambda i: rank.get(keys[i].lstrip("+~"), 2 + i))
    timing = cfg.model.get("timing")
    base = {} if "scenario" in keys else scenario_params(model, cfg.scenario, timing)
    if "policy" not in keys:
        base.update(policy_params(model, cfg.model.levers, cfg.policy, timing))
    else:  # policy.start_time=12 times every swept policy that does not time itself
        base.update(timing_params(model, cfg.policy, timing, model.name))
    base.update(_resolve(model, dict(cfg.params), "params"))
    contributions = [[_contribution(model, cfg, keys[i], v) for v in values[i]]
                     for i in range(len(keys))]
    combos = list(itertools.product(*(range(len(v)) for v in values)))
    names = sorted(set(base).union(*(c for per_key in contributions for c in per_key)))
    arrays: dict[str, Any] = {}
    for name in names:
        column = np.empty(len(combos))
        for row, combo in enumerate(combos):
            value = base.get(name, model.variables[name].default)
            for i in order:
                value = contributions[i][combo[i]].get(name, value)
            column[row] = value
        arrays[name] = column
    check_timing(model, cfg, arrays)
    check_ranges(model, cfg, arrays)
    return keys, values, arrays


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError(f"experiment.batch.{key}: {value!r} is not a number")
    return float(value)


def _contribution(model: Model, cfg: Any, key: str, value: Any) -> dict[str, Any]:
    """The constants one swept value sets."""
    key = key.lstrip("+~")
    timing = cfg.model.get("timing")
    if key == "scenario":
        return scenario_params(model, scenario_option(str(value)), timing)
    if key == "policy":
        option = group_option("policy", str(value), PolicyConfig)
        return policy_params(model, cfg.model.levers, option, timing)
    group, _, name = key.partition(".")
    levers = cfg.model.levers
    if group == "policy" and name in levers:
        return _resolve(model, {levers[name]: _number(key, value)}, key)
    if group == "policy" and name in TIMING_KEYS:
        return timing_params(model, {name: _number(key, value)}, timing, model.name)
    if group == "params" and name:
        return _resolve(model, {name: _number(key, value)}, key)
    raise ParameterError(
        f"experiment.batch cannot sweep {key!r} inside one ensemble",
        hint="batch scenario, policy, policy.<lever of model.levers>, policy.start_time, "
        "policy.ramp_time or params.<name>; "
        "sweep the rest with a multirun (-m)")


def reshape_runs(ds: xr.Dataset, keys: list[str], values: list[list[Any]]) -> xr.Dataset:
    """Turn the ensemble's ``run`` axis into one dimension per batch key."""
    combos = list(itertools.product(*values))
    plan = [dim_for(k, ds, [c[i] for c in combos]) for i, k in enumerate(keys)]
    dims = [d for d, _ in plan]
    shape = [len(v) for v in values]
    data_vars = {}
    for name, da in ds.data_vars.items():
        if any(absorbed and name == d for d, absorbed in plan):
            continue
        if "run" not in da.dims:
            data_vars[name] = da
            continue
        da = da.transpose("run", ...)
        rest = [d for d in da.dims if d != "run"]
        data_vars[name] = xr.Variable(
            (*dims, *rest), da.values.reshape(*shape, *da.shape[1:]), da.attrs)
    coords: dict[str, Any] = {
        d: xr.Variable((d,), v, dict(ds[d].attrs) if absorbed else {})
        for (d, absorbed), v in zip(plan, values, strict=True)}
    coords.update({c: ds.coords[c] for c in ds.coords if c != "run"})
    return xr.Dataset(data_vars, coords=coords, attrs=ds.attrs)


def dim_for(key: str, ds: xr.Dataset, values: Sequence[Any]) -> tuple[str, bool]:
    """The dimension name for a swept key, and whether it absorbs a same-named variable.

    ``policy.diplomatic_engagement`` names its dim ``diplomatic_engagement``; if the model
    has a constant of that name holding exactly the swept values, the constant becomes the
    coordinate (keeping its units and documentation); any other clash gets the full key.
    """
    dim = dim_name(key)
    if dim not in ds.data_vars:
        return dim, False
    da = ds[dim]
    if "time" not in da.dims:
        try:
            same = np.allclose(np.broadcast_to(da.values, (len(values),)),
                               np.asarray(values, dtype=float))
        except (TypeError, ValueError):
            same = False
        if same:
            return dim, True
    return key.lstrip("+~").replace(".", "_"), False


# -- a Sobol sample: one job, one ensemble ------------------------------------------------


def sensitivity_outcomes(cfg: Any) -> list[str]:
    """The outcomes to analyse: as configured, else the model's default outcome."""
    outcomes = cfg.experiment.sensitivity.outcomes
    if outcomes is not None:
        return [str(o) for o in outcomes]
    if cfg.model.get("default_outcome") is None:
        raise ParameterError(
            f"experiment.sensitivity.outcomes is not set and model {cfg.model.name!r} has "
            "no default_outcome", hint="set experiment.sensitivity.outcomes=[NAME] (or "
            "model.default_outcome=NAME)")
    return [str(cfg.model.default_outcome)]


def sensitivity_sample(model: Model, cfg: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """SALib's problem from the declared ranges, and the ensemble's parameter arrays."""
    from SALib.sample import sobol as sobol_sample

    from ..analysis import REDUCTIONS

    s = cfg.experiment.sensitivity
    if s.n < 2 or s.n & (s.n - 1):
        raise ParameterError(f"experiment.sensitivity.n={s.n}: use a power of 2 (Sobol "
                             "sequences balance only then), e.g. 64, 128 or 256")
    if cfg.experiment.batch:
        raise ParameterError("an experiment has either a batch or a sensitivity sample")
    if s.reduce not in REDUCTIONS:
        raise ParameterError(f"experiment.sensitivity.reduce={s.reduce!r}: choose one of "
                             f"{', '.join(REDUCTIONS)}")
    base = job_params(model, cfg)
    for outcome in sensitivity_outcomes(cfg):
        model.variable(outcome)
    names = list(s.names) if s.names is not None else [
        name for name, var in model.constants.items()
        if None not in var.limits and name not in base]
    problem = model.problem(names)
    if not problem["names"]:
        raise ParameterError("no constant to vary: none has a declared [min,max] range",
                             path=model.path)
    clash = [n for n in problem["names"] if n in base]
    if clash:
        raise ParameterError(f"{', '.join(clash)}: set by the scenario, policy or params "
                             "and sampled by the sensitivity analysis; choose one")
    sample = sobol_sample.sample(problem, int(s.n), calc_second_order=False, seed=s.seed)
    params = {**base, **{n: sample[:, i] for i, n in enumerate(problem["names"])}}
    return problem, params
