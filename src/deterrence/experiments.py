"""Policy experiments with Hydra: configured runs, multiruns, batched sweeps, merging.

``deterrence run [overrides]`` composes ``conf/`` (groups model, scenario, policy, solver,
experiment) into a :class:`Config`, simulates, and writes ``results.nc`` and a comparison
plot into the run's Hydra output folder. ``deterrence run -m key=a,b ...`` runs one job
per combination; when the sweep ends, :class:`MergeSweep` (a Hydra callback) merges every
job into ``combined.nc``: one dimension per swept key for a grid, a ``run`` dimension with
the overrides as coordinates otherwise. An ``experiment`` preset with ``batch`` runs a
whole grid as one ensemble in a single job (the engine's run axis) with the same layout.

Jobs never raise into Hydra: a failure is written to the job folder and merged into the
sweep's ``failures.yaml`` and the merged file's attrs, and the other jobs go on. A run or
sweep owns its folder while it runs; a sweep's record (``sweep.yaml``) names its id and
jobs, so its merge takes exactly its own jobs and reports a killed one as lost
(``docs/experiments.md``).
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import math
import os
import shutil
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
import yaml
from hydra.experimental.callback import Callback
from omegaconf import MISSING, DictConfig, OmegaConf

from .errors import ModelError, ParameterError
from .files import atomic_write_text
from .model import Model, load
from .names import close_matches
from .results import write_results

log = logging.getLogger("deterrence.experiments")

GROUPS = ("model", "scenario", "policy", "solver", "experiment")
RESULTS = "results.nc"
COMBINED = "combined.nc"
FAILURE = "failure.yaml"
FAILURES = "failures.yaml"
SWEEP = "sweep.yaml"  # the sweep record: its id and its jobs


# -- structured configs (a misspelt key fails when the config is composed) -------------


@dataclass
class ModelConfig:
    """Which model file to run; ``levers`` maps policy fields to the model's constants."""

    name: str = MISSING
    path: str = MISSING
    levers: dict[str, str] = field(default_factory=dict)


@dataclass
class ScenarioConfig:
    """The world: shocks and starting conditions, as constants set by Vensim name."""

    name: str = MISSING
    description: str = ""
    shock_windows: list[Any] = field(default_factory=list)  # [start, end, label]
    set: dict[str, float] = field(default_factory=dict)


@dataclass
class PolicyConfig:
    """The alliance's levers (None keeps the model's status-quo value)."""

    name: str = "status_quo"
    description: str = ""
    joint_exercises: float | None = None
    consultation: float | None = None
    defence_spending: float | None = None
    forward_presence: float | None = None
    diplomatic_engagement: float | None = None
    multi_domain_integration: float | None = None
    declaratory_clarity: float | None = None
    set: dict[str, float] = field(default_factory=dict)


@dataclass
class SolverConfig:
    method: str = "euler"
    rtol: float = 1e-6
    atol: float = 1e-8
    max_step: float | None = None
    time_step: float | None = None
    saveper: float | None = None
    final_time: float | None = None
    # the run's size limits: "16GiB", "500MB", bytes or "inf"; None: the engine's default
    max_memory: str | None = None
    max_steps: float | None = None


def _limits(s: Any) -> dict[str, Any]:
    """The size limits a solver config sets (absent ones keep the engine's defaults)."""
    return {k: getattr(s, k) for k in ("max_memory", "max_steps")
            if getattr(s, k, None) is not None}


@dataclass
class SensitivityConfig:
    """Global sensitivity: a Sobol (Saltelli) sample of the constants' declared ranges."""

    n: int = 128  # base sample size, a power of 2; the ensemble has n * (D + 2) runs
    names: list[str] | None = None  # None: every constant with a [min,max] not set already
    outcomes: list[str] = field(default_factory=lambda: ["deterrence_survival"])
    reduce: str = "final"  # final | min | max | mean over time
    seed: int = 20261128


@dataclass
class ExperimentConfig:
    """``batch``: swept keys (as in a multirun) run as one ensemble inside one job;
    ``sensitivity``: a Sobol sample around the composed scenario and policy instead."""

    name: str = "single"
    description: str = ""
    batch: dict[str, list[Any]] = field(default_factory=dict)
    sensitivity: SensitivityConfig | None = None


@dataclass
class OutputConfig:
    plot: bool = True
    plot_format: str = "png"
    baseline_scenario: str = "baseline"
    variables: list[str] | None = None  # None keeps every variable


@dataclass
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    scenario: ScenarioConfig = field(default_factory=ScenarioConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    solver: SolverConfig = field(default_factory=SolverConfig)
    experiment: ExperimentConfig = field(default_factory=ExperimentConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    params: dict[str, float] = field(default_factory=dict)  # any constant, by name


LEVER_FIELDS = tuple(f for f in PolicyConfig.__dataclass_fields__
                     if f not in ("name", "description", "set"))


def register_configs() -> None:
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    cs.store(name="base_config", node=Config)


# -- locating conf/ and models ---------------------------------------------------------


def conf_dir() -> Path:
    """``$DETERRENCE_CONF``, else ``./conf``, else the project's ``conf/``."""
    candidates = [os.environ.get("DETERRENCE_CONF"), Path.cwd() / "conf",
                  Path(__file__).resolve().parents[2] / "conf"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "config.yaml").exists():
            return Path(candidate).resolve()
    raise ModelError("cannot find the experiment configuration (conf/config.yaml)",
                     hint="run from the project folder or set DETERRENCE_CONF")


def model_path(cfg_path: str) -> Path:
    """A model path as written in the config: absolute, from the cwd, or from the project."""
    path = Path(cfg_path).expanduser()
    if path.is_absolute():
        return path
    for base in (_original_cwd(), conf_dir().parent):
        if (base / path).exists():
            return (base / path).resolve()
    return (_original_cwd() / path).resolve()


def _original_cwd() -> Path:
    try:
        from hydra.utils import get_original_cwd

        return Path(get_original_cwd())
    except (ImportError, ValueError):
        return Path.cwd()


@functools.cache
def _load_cached(path: str, mtime_ns: int, size: int) -> Model:
    del mtime_ns, size  # part of the cache key: an edited file is compiled again
    return load(path)


def get_model(path: str | Path) -> Model:
    """The compiled model, compiled once per process (per file version)."""
    p = Path(path)
    if not p.exists():
        raise ModelError("model file not found", path=p,
                         hint="set model.path=FILE.mdl (relative to the project or cwd)")
    stat = p.stat()
    return _load_cached(str(p.resolve()), stat.st_mtime_ns, stat.st_size)


# -- from a config to parameters --------------------------------------------------------


def group_option(group: str, name: str, schema: type) -> DictConfig:
    """Load ``conf/<group>/<name>.yaml`` checked against its schema (for batches)."""
    path = conf_dir() / group / f"{name}.yaml"
    if not path.exists():
        options = sorted(p.stem for p in (conf_dir() / group).glob("*.yaml"))
        raise ParameterError(f"{group} {name!r} does not exist; options: {', '.join(options)}",
                             path=path.parent)
    node = OmegaConf.load(path)
    node.pop("defaults", None)
    return OmegaConf.merge(OmegaConf.structured(schema), node)


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


def scenario_params(model: Model, scenario: Any) -> dict[str, Any]:
    return _resolve(model, dict(scenario.set), f"scenario {scenario.name!r}")


def policy_params(model: Model, levers: Any, policy: Any) -> dict[str, Any]:
    """The policy's levers (through the model's lever map), then its ``set``."""
    params: dict[str, Any] = {}
    for lever in LEVER_FIELDS:
        value = policy.get(lever)
        if value is None:
            continue
        if lever not in levers:
            raise ParameterError(
                f"policy.{lever} is set, but model {model.name!r} maps no constant to it",
                path=model.path, hint="add it to model.levers, or set the constant with "
                "+params.NAME=VALUE")
        params.update(_resolve(model, {levers[lever]: value}, f"policy.{lever}"))
    params.update(_resolve(model, dict(policy.set), f"policy {policy.name!r}"))
    return params


def job_params(model: Model, cfg: Any) -> dict[str, Any]:
    """Scenario < policy levers < policy.set < params: later settings win."""
    params = scenario_params(model, cfg.scenario)
    params.update(policy_params(model, cfg.model.levers, cfg.policy))
    params.update(_resolve(model, dict(cfg.params), "params"))
    model.check_ranges(params)
    return params


def simulate_config(model: Model, cfg: Any, params: dict[str, Any]) -> xr.Dataset:
    s = cfg.solver
    return model.simulate(params, method=s.method, rtol=s.rtol, atol=s.atol,
                          max_step=s.max_step, time_step=s.time_step, saveper=s.saveper,
                          final_time=s.final_time, **_limits(s),
                          variables=list(cfg.output.variables) if cfg.output.variables else None)


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
    values = [list(cfg.experiment.batch[k]) for k in keys]
    for key, vals in zip(keys, values, strict=True):
        if not vals:
            raise ParameterError(f"experiment.batch.{key} has no values")
    rank = {"scenario": 0, "policy": 1}
    order = sorted(range(len(keys)), key=lambda i: rank.get(keys[i].lstrip("+~"), 2 + i))
    base = {} if "scenario" in keys else scenario_params(model, cfg.scenario)
    if "policy" not in keys:
        base.update(policy_params(model, cfg.model.levers, cfg.policy))
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
    model.check_ranges(arrays)
    return keys, values, arrays


def _contribution(model: Model, cfg: Any, key: str, value: Any) -> dict[str, Any]:
    """The constants one swept value sets."""
    key = key.lstrip("+~")
    if key == "scenario":
        return scenario_params(model, group_option("scenario", str(value), ScenarioConfig))
    if key == "policy":
        option = group_option("policy", str(value), PolicyConfig)
        return policy_params(model, cfg.model.levers, option)
    group, _, name = key.partition(".")
    if group == "policy" and name in LEVER_FIELDS:
        if name not in cfg.model.levers:
            raise ParameterError(f"policy.{name} is swept, but model {model.name!r} maps no "
                                 "constant to it", path=model.path)
        return _resolve(model, {cfg.model.levers[name]: value}, key)
    if group == "params" and name:
        return _resolve(model, {name: value}, key)
    raise ParameterError(
        f"experiment.batch cannot sweep {key!r} inside one ensemble",
        hint="batch scenario, policy, policy.<lever> or params.<name>; sweep the rest "
        "with a multirun (-m)")


def reshape_runs(ds: xr.Dataset, keys: list[str], values: list[list[Any]]) -> xr.Dataset:
    """Turn the ensemble's ``run`` axis into one dimension per batch key."""
    combos = list(itertools.product(*values))
    plan = [_dim_for(k, ds, [c[i] for c in combos]) for i, k in enumerate(keys)]
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


def _dim_for(key: str, ds: xr.Dataset, values: Sequence[Any]) -> tuple[str, bool]:
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


# -- one job ----------------------------------------------------------------------------


def sensitivity_sample(model: Model, cfg: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """SALib's problem from the declared ranges, and the ensemble's parameter arrays."""
    from SALib.sample import sobol as sobol_sample

    s = cfg.experiment.sensitivity
    if s.n < 2 or s.n & (s.n - 1):
        raise ParameterError(f"experiment.sensitivity.n={s.n}: use a power of 2 (Sobol "
                             "sequences balance only then), e.g. 64, 128 or 256")
    if cfg.experiment.batch:
        raise ParameterError("an experiment has either a batch or a sensitivity sample")
    base = job_params(model, cfg)
    for outcome in s.outcomes:
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


def run_sensitivity(model: Model, cfg: Any, output_dir: Path) -> xr.Dataset:
    """The Sobol ensemble in one call; ``sensitivity.nc`` holds the indices."""
    from .analysis import sobol_indices

    s = cfg.experiment.sensitivity
    problem, params = sensitivity_sample(model, cfg)
    n_runs = len(next(iter(params[n] for n in problem["names"])))
    log.info("Sobol sample: %d parameters, %d runs in one ensemble", problem["num_vars"],
             n_runs)
    solver = cfg.solver
    ds = model.simulate(params, method=solver.method, rtol=solver.rtol, atol=solver.atol,
                        max_step=solver.max_step, time_step=solver.time_step,
                        saveper=solver.saveper, final_time=solver.final_time,
                        **_limits(solver), variables=[*s.outcomes, *problem["names"]])
    indices = sobol_indices(ds, problem, list(s.outcomes), s.reduce, seed=s.seed)
    indices["parameter"].attrs["long_name"] = "sampled constant"
    indices = indices.assign_coords(vensim_name=("parameter", [
        model.variables[n].name for n in problem["names"]]))
    indices.attrs.update({"model_file": str(model.path), "model_sha256": model.sha256,
                          "scenario": cfg.scenario.name, "policy": cfg.policy.name})
    write_results(indices, _fresh(output_dir / "sensitivity.nc"))
    return ds


def run_job(cfg: DictConfig, output_dir: Path, sweep_id: str | None = None) -> xr.Dataset:
    """Simulate one configured job (a batch if the experiment has one); write results.

    ``sweep_id`` (a multirun's job) goes into the results, so that a merge takes this
    file only for the sweep that wrote it.
    """
    model = get_model(model_path(cfg.model.path))
    if cfg.experiment.sensitivity is not None:
        ds = run_sensitivity(model, cfg, output_dir)
        windows = {cfg.scenario.name: [list(w) for w in cfg.scenario.shock_windows]}
    elif cfg.experiment.batch:
        keys, values, arrays = batch_grid(model, cfg)
        log.info("batched grid: %s (%d runs in one ensemble)",
                 " x ".join(f"{k}[{len(v)}]" for k, v in zip(keys, values, strict=True)),
                 int(np.prod([len(v) for v in values])))
        ds = reshape_runs(simulate_config(model, cfg, arrays), keys, values)
        windows = _batch_windows(keys, values, cfg)
    else:
        ds = simulate_config(model, cfg, job_params(model, cfg))
        windows = {cfg.scenario.name: [list(w) for w in cfg.scenario.shock_windows]}
    ds.attrs.update({
        "scenario": cfg.scenario.name, "policy": cfg.policy.name,
        "experiment": cfg.experiment.name, "shock_windows": json.dumps(windows),
        "config": OmegaConf.to_yaml(cfg, resolve=True),
    })
    if sweep_id is not None:
        ds.attrs["sweep_id"] = sweep_id
    results = write_results(ds, _fresh(output_dir / RESULTS))
    if cfg.experiment.batch:  # the batch is its own merged sweep: same file, two names
        try:
            os.link(results, _fresh(output_dir / COMBINED))
        except OSError:  # a file system without hard links
            shutil.copy2(results, output_dir / COMBINED)
    if cfg.output.plot and cfg.experiment.sensitivity is not None:
        _plot_sensitivity(ds, output_dir, cfg.output.plot_format)
    elif cfg.output.plot:
        _plot_job(model, cfg, ds, output_dir)
    return ds


def _plot_sensitivity(ds: xr.Dataset, folder: Path, fmt: str) -> None:
    from . import plot

    try:
        with xr.open_dataset(folder / "sensitivity.nc") as opened:
            indices = opened.load()
        plot.save_figure(plot.sensitivity_bars(indices), _fresh(folder / f"sensitivity.{fmt}"))
        plot.save_figure(plot.fan_chart(ds, vars=[str(v) for v in indices["outcome"].values]),
                         _fresh(folder / f"fan.{fmt}"))
    except Exception as exc:
        log.warning("sensitivity plots not drawn: %s", exc)


def _batch_windows(keys: list[str], values: list[list[Any]], cfg: Any) -> dict[str, Any]:
    if "scenario" not in keys:
        return {cfg.scenario.name: [list(w) for w in cfg.scenario.shock_windows]}
    names = values[keys.index("scenario")]
    return {n: [list(w) for w in group_option("scenario", n, ScenarioConfig).shock_windows]
            for n in names}


def _fresh(path: Path) -> Path:
    """Never overwrite: an existing file (or folder) is kept aside, named by its time.

    The aside name is reserved atomically before the move, so two processes setting
    aside at once each keep what they moved instead of one renaming over the other.
    """
    while path.exists():
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(path.stat().st_mtime))
        counter = 0
        while True:
            tail = f"{stamp}-{counter}" if counter else stamp
            aside = path.with_name(f"{path.stem}.{tail}{path.suffix}")
            try:
                if path.is_dir():
                    aside.mkdir()
                else:
                    os.close(os.open(aside, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
                break
            except FileExistsError:
                counter += 1
        try:
            os.replace(path, aside)
        except FileNotFoundError:  # another process moved it first: nothing of ours to keep
            (aside.rmdir if aside.is_dir() else aside.unlink)()
    return path


# -- owning an output folder ------------------------------------------------------------


class FolderInUse(ModelError):
    """Another run or sweep is writing into the folder this one was given."""


_CLAIMS: dict[str, tuple[int, Path | None]] = {}  # folder -> (lock fd, lock file or None)


def claim_folder(folder: Path, what: str) -> None:
    """Own ``folder`` until :func:`release_folder`: a second run or sweep into it is refused.

    The lock is an ``flock`` on the folder itself, so it ends with the process: a killed
    run leaves nothing behind to clean up. (Without ``fcntl``, a lock file made with
    ``O_EXCL`` plays its part and is removed on release.)
    """
    folder.mkdir(parents=True, exist_ok=True)
    key = str(folder.resolve())
    if key in _CLAIMS:
        return
    hint = f"wait for it to finish, or give this {what} its own folder"
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        lock = folder / ".deterrence.lock"
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            raise FolderInUse(f"another run or sweep is writing into this folder ({lock} "
                              "exists)", path=folder, hint=hint + "; delete the lock file "
                              "if no run is left") from None
        _CLAIMS[key] = (fd, lock)
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise FolderInUse("another run or sweep is writing into this folder", path=folder,
                          hint=hint) from None
    _CLAIMS[key] = (fd, None)


def release_folder(folder: Path | None = None) -> None:
    """Give up one claimed folder (``None``: every folder this process claimed)."""
    keys = list(_CLAIMS) if folder is None else [str(folder.resolve())]
    for key in keys:
        if key not in _CLAIMS:
            continue
        fd, lock = _CLAIMS.pop(key)
        os.close(fd)  # closing the descriptor releases the flock
        if lock is not None:
            lock.unlink(missing_ok=True)


def _refuse(exc: ModelError) -> None:
    """Stop the command with one line: Hydra would print a callback's error with a stack."""
    print(f"error: {exc}", file=sys.stderr)
    raise SystemExit(2)


def _hydra_dir(value: Any) -> Path:
    path = Path(str(value))
    return path if path.is_absolute() else _original_cwd() / path


def _unique_name() -> str:
    """A short random tag for default folder names: two commands started in the same
    second (on one machine or many) never share a folder."""
    import secrets

    return secrets.token_hex(3)


if not OmegaConf.has_resolver("deterrence.unique"):
    # cached: every use in one composed config (and the jobs copied from it) agrees
    OmegaConf.register_new_resolver("deterrence.unique", _unique_name, use_cache=True)


def _plot_job(model: Model, cfg: Any, ds: xr.Dataset, output_dir: Path) -> None:
    """A comparison against the baseline scenario, with the same policy and solver."""
    from . import plot

    try:
        if cfg.experiment.batch:
            _plot_combined(ds, output_dir, cfg.output)
            return
        by, label, reference = _reference(cfg)
        runs = {label(cfg): ds}
        if reference is not None:
            base = simulate_config(model, reference, job_params(model, reference))
            runs = {label(reference): base, **runs}
        both = xr.concat([d.drop_attrs(deep=False) for d in runs.values()],
                         dim=xr.DataArray(list(runs), dims=by, name=by),
                         data_vars="all", coords="minimal", compat="override")
        both.attrs["shock_windows"] = ds.attrs["shock_windows"]
        fig = plot.scenario_comparison(both, by=by, baseline=label(reference or cfg))
        plot.save_figure(fig, _fresh(output_dir / f"comparison.{cfg.output.plot_format}"))
    except Exception as exc:
        log.warning("comparison plot not drawn: %s", exc)


def _reference(cfg: Any) -> tuple[str, Any, Any]:
    """What a single run is compared with: the baseline scenario under the same policy;
    for the baseline scenario itself, the status-quo policy (None: it is the reference)."""
    baseline = cfg.output.baseline_scenario
    reference = OmegaConf.merge(OmegaConf.structured(Config),
                                OmegaConf.to_container(cfg, resolve=True))
    if cfg.scenario.name != baseline:
        reference.scenario = group_option("scenario", baseline, ScenarioConfig)
        return "scenario", lambda c: c.scenario.name, reference
    if cfg.policy.name != "status_quo" or any(
            cfg.policy.get(lever) is not None for lever in LEVER_FIELDS):
        reference.policy = group_option("policy", "status_quo", PolicyConfig)
        return "policy", _policy_label, reference
    return "scenario", lambda c: c.scenario.name, None


def _policy_label(cfg: Any) -> str:
    levers = [f"{lever}={cfg.policy.get(lever)}" for lever in LEVER_FIELDS
              if cfg.policy.get(lever) is not None]
    return cfg.policy.name + (f" ({', '.join(levers)})" if levers and cfg.policy.name
                              == "status_quo" else "")


def _plot_combined(ds: xr.Dataset, folder: Path, output: Any) -> None:
    from . import plot

    sweep_dims = [d for d in ds.dims if d not in ("time",)]
    fmt = output.plot_format
    if "scenario" in sweep_dims:
        reduced = ds.isel({d: 0 for d in sweep_dims if d not in ("scenario", "run")})
        fig = plot.scenario_comparison(reduced, by="scenario",
                                       baseline=output.baseline_scenario)
        plot.save_figure(fig, _fresh(folder / f"comparison.{fmt}"))
    elif len(sweep_dims) == 1:
        fig = plot.scenario_comparison(ds, by=sweep_dims[0], baseline=None)
        plot.save_figure(fig, _fresh(folder / f"comparison.{fmt}"))
    numeric = [d for d in sweep_dims if d in ds.coords and ds[d].dtype.kind in "if"]
    if len(numeric) >= 2:
        reduced = ds.isel({d: 0 for d in sweep_dims if d not in numeric[:2]})
        # The alliance's default outcome, until the experiments read it from conf/model.
        outcome = plot.default_outcome(reduced.assign_attrs(default_outcome="deterrence_survival"))
        fig = plot.policy_map(reduced, outcome, x=numeric[0], y=numeric[1])
        plot.save_figure(fig, _fresh(folder / f"policy_map.{fmt}"))


def task(cfg: DictConfig) -> dict[str, Any]:
    """Hydra's task function: never raises, so one failed job cannot stop a sweep."""
    from hydra.core.hydra_config import HydraConfig

    output_dir = Path(HydraConfig.get().runtime.output_dir)
    overrides = list(HydraConfig.get().overrides.task)
    started = time.perf_counter()
    if (output_dir / FAILURE).exists():  # from an earlier run into this folder: keep it
        _fresh(output_dir / FAILURE)
    sweep_id = None
    try:
        sweep_id = _current_sweep_id()
        check_keys(cfg)
        ds = run_job(cfg, output_dir, sweep_id=sweep_id)
    except Exception as exc:
        message = str(exc) if isinstance(exc, ModelError) else (
            f"{type(exc).__name__}: {exc}")
        log.error("job failed: %s", message)
        record = {"overrides": overrides, "error": message,
                  "traceback": "" if isinstance(exc, ModelError) else traceback.format_exc(),
                  **({"sweep_id": sweep_id} if sweep_id is not None else {})}
        atomic_write_text(output_dir / FAILURE, yaml.safe_dump(record, sort_keys=False))
        _FAILED.append(record)
        return {"status": "failed", "error": message}
    log.info("wrote %s (%.2f s)", output_dir / RESULTS, time.perf_counter() - started)
    return {"status": "ok", "sizes": dict(ds.sizes)}


_FAILED: list[dict[str, Any]] = []  # jobs that failed in this process
_SWEEP_FAILED: list[str] = []  # one line per sweep whose merge found failed or lost jobs


# -- the sweep record --------------------------------------------------------------------


def _current_sweep_id() -> str | None:
    """In a multirun's job: the id in its sweep's record (written before any job starts)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    hydra_cfg = HydraConfig.get()
    if hydra_cfg.mode != RunMode.MULTIRUN:
        return None
    record = _hydra_dir(hydra_cfg.sweep.dir) / SWEEP
    return (_read_yaml(record, missing_ok=True) or {}).get("sweep_id")


def sweep_jobs(config: DictConfig) -> list[list[str]] | None:
    """The overrides of each job the basic sweeper launches, by job number (None: the
    sweep cannot be expanded here, e.g. a glob over a config group without a loader)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    params = config.hydra.sweeper.get("params") or {}
    args = [f"{k}={v}" for k, v in params.items()] + list(config.hydra.overrides.task)
    hydra = GlobalHydra.instance()
    loader = hydra.config_loader() if hydra.is_initialized() else None
    try:
        parsed = OverridesParser.create(config_loader=loader).parse_overrides(args)
        batches = BasicSweeper.split_arguments(parsed, None)
    except (HydraException, ValueError) as exc:
        log.warning("cannot list the sweep's jobs in advance (%s): a job killed before it "
                    "writes anything will not be reported", exc)
        return None
    return [list(job) for batch in batches for job in batch]


def start_sweep(sweep_dir: Path, config: DictConfig) -> dict[str, Any]:
    """Write the sweep record after setting the folder's earlier records aside.

    A used folder is set aside, not refused: rerunning a sweep into its folder is how a
    partly failed or killed sweep is redone, and each earlier file is kept under a
    time-stamped name. The merge then takes only jobs carrying this record's id.
    """
    import socket
    import uuid

    jobs = sweep_jobs(config)
    for name in (SWEEP, "multirun.yaml"):
        _fresh(sweep_dir / name)
    for num in range(len(jobs or ())):  # job folders this sweep writes into again
        _fresh(sweep_dir / str(num) / ".hydra")
    record = {"sweep_id": uuid.uuid4().hex,
              "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "host": socket.gethostname(), "pid": os.getpid(),
              "overrides": list(config.hydra.overrides.task),
              "jobs": None if jobs is None else [{"job": i, "overrides": job}
                                                 for i, job in enumerate(jobs)]}
    atomic_write_text(sweep_dir / SWEEP, yaml.safe_dump(record, sort_keys=False))
    earlier = [] if jobs is None else [n for n in _job_numbers(sweep_dir) if n >= len(jobs)]
    if earlier:
        log.warning("%s holds job folder(s) %s of an earlier sweep: kept, not merged",
                    sweep_dir, ", ".join(map(str, earlier)))
    return record


def _job_numbers(sweep_dir: Path) -> list[int]:
    return sorted(int(p.name) for p in sweep_dir.iterdir() if p.is_dir() and p.name.isdigit())


def _in_use(sweep_dir: Path, exc: FolderInUse) -> FolderInUse:
    """Say which sweep holds the folder, from its record."""
    record = _read_yaml(sweep_dir / SWEEP, missing_ok=True)
    if not isinstance(record, dict) or "sweep_id" not in record:
        return exc
    return FolderInUse(f"another sweep (started {record.get('started')}, pid "
                       f"{record.get('pid')} on {record.get('host')}) is writing into this "
                       "folder", path=sweep_dir, hint=exc.hint)


# -- merging a multirun -----------------------------------------------------------------


def _job_value(job_cfg: dict[str, Any], choices: dict[str, str], key: str) -> Any:
    """The value a job ran with for a swept key (a group's option name for groups)."""
    key = key.lstrip("+~")
    if key in GROUPS:
        return choices.get(key, _select(job_cfg, f"{key}.name"))
    return _select(job_cfg, key)


def _select(tree: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(tree, dict) or part not in tree:
            return None
        tree = tree[part]
    return tree


def _read_yaml(path: Path, missing_ok: bool = False) -> Any:
    """Hydra's job records are plain YAML; the C loader reads 100 jobs in a blink.

    ``missing_ok``: a file that does not exist reads as ``None``.
    """
    if missing_ok and not path.exists():
        return None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=loader)


def merge_sweep(sweep_dir: Path, baseline: str = "baseline", plot: bool = True,
                plot_format: str = "png") -> xr.Dataset | None:
    """Merge the jobs of the sweep recorded in ``sweep_dir`` into ``combined.nc``.

    With a sweep record (``sweep.yaml``) exactly its jobs are merged, and a job's files
    count only if they carry the record's id: a job that wrote nothing of this sweep's
    (killed, out of memory) is a failure, and folders of an earlier sweep are left out.
    Without a record (a folder from before records), every numbered folder is merged.
    """
    record = _read_yaml(sweep_dir / SWEEP, missing_ok=True)
    sweep_id = record.get("sweep_id") if isinstance(record, dict) else None
    listed = record.get("jobs") if sweep_id is not None else None
    expected = None if listed is None else {int(j["job"]): list(j["overrides"])
                                            for j in listed}
    present = _job_numbers(sweep_dir)
    numbers = present if expected is None else sorted(expected)
    left_out = sorted(set(present) - set(numbers))
    records: list[tuple[dict[str, Any], xr.Dataset | None]] = []
    failures = []
    swept: list[str] = []
    for num in numbers:
        job = sweep_dir / str(num)
        overrides, choices, job_cfg = _job_records(job, None if expected is None
                                                   else expected[num])
        keys = [o.split("=", 1)[0] for o in overrides]
        for k in keys:
            if k not in swept:
                swept.append(k)
        point = {k: _job_value(job_cfg, choices, k) for k in keys}
        failure = _read_yaml(job / FAILURE, missing_ok=True)
        if failure is not None and sweep_id is not None and (
                failure.get("sweep_id") != sweep_id):
            failure = None  # an earlier sweep's
        ds = None
        if failure is None and (job / RESULTS).exists():
            ds = xr.load_dataset(job / RESULTS)
            if sweep_id is not None and ds.attrs.get("sweep_id") != sweep_id:
                ds = None  # an earlier sweep's results: this sweep's job wrote none
        if ds is None:
            if failure is None:
                failure = {"overrides": overrides, "error": _lost_reason(sweep_dir, num)}
                if sweep_id is not None and job.is_dir():
                    atomic_write_text(_fresh(job / FAILURE), yaml.safe_dump(
                        {**failure, "sweep_id": sweep_id}, sort_keys=False))
            failures.append({"job": num, **{k: v for k, v in failure.items()
                                            if k != "sweep_id"}})
        records.append((point, ds))
    # keys that do not vary between jobs are settings, not dimensions
    varying = [k for k in swept
               if len({json.dumps(p.get(k), sort_keys=True) for p, _ in records}) > 1]
    atomic_write_text(_fresh(sweep_dir / FAILURES), yaml.safe_dump(failures, sort_keys=False))
    loaded = [(p, ds) for p, ds in records if ds is not None]
    if left_out:
        log.info("left out job folder(s) %s: not jobs of this sweep",
                 ", ".join(map(str, left_out)))
    if not loaded:
        log.error("no job of the sweep in %s succeeded; see %s", sweep_dir, FAILURES)
        return None
    combined = _combine(loaded, [p for p, _ in records], varying)
    windows: dict[str, Any] = {}
    for _, ds in loaded:
        windows.update(json.loads(ds.attrs.get("shock_windows", "{}")))
    first = loaded[0][1].attrs
    combined.attrs = {k: v for k, v in first.items()
                      if k not in ("config", "scenario", "policy", "overrides", "created")}
    combined.attrs.update({
        "shock_windows": json.dumps(windows), "sweep_dir": str(sweep_dir),
        **({"sweep_id": sweep_id} if sweep_id is not None else {}),
        "swept_keys": json.dumps(varying), "n_jobs": len(records),
        "n_failed": len(failures),
        "failures": json.dumps([{"job": f["job"], "overrides": f["overrides"],
                                 "error": f["error"]} for f in failures]),
    })
    write_results(combined, _fresh(sweep_dir / COMBINED))
    log.info("merged %d jobs (%d failed) into %s", len(records), len(failures),
             sweep_dir / COMBINED)
    if plot:
        try:
            _plot_combined(combined, sweep_dir, OutputConfig(
                plot=True, plot_format=plot_format, baseline_scenario=baseline))
        except Exception as exc:
            log.warning("sweep plot not drawn: %s", exc)
    return combined


def _job_records(job: Path, overrides: list[str] | None
                 ) -> tuple[list[str], dict[str, Any], dict[str, Any]]:
    """A job's overrides, group choices and config from its ``.hydra`` folder; for a job
    that never wrote them (or wrote another sweep's), its values from the sweep record."""
    hydra_dir = job / ".hydra"
    written = _read_yaml(hydra_dir / "overrides.yaml", missing_ok=True)
    if written is not None and (overrides is None or list(written) == overrides):
        choices = _select(_read_yaml(hydra_dir / "hydra.yaml"), "hydra.runtime.choices") or {}
        return list(written), choices, _read_yaml(hydra_dir / "config.yaml") or {}
    overrides = list(overrides or [])
    values: dict[str, Any] = {}
    for item in overrides:
        key, _, text = item.partition("=")
        key = key.lstrip("+~")
        values[key] = yaml.safe_load(text) if text else None
    tree: dict[str, Any] = {}
    for key, value in values.items():
        node = tree
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return overrides, {k: str(v) for k, v in values.items() if k in GROUPS}, tree


_LOST: dict[tuple[str, int], str] = {}  # (sweep folder, job) -> how a launcher lost it


def job_lost(sweep_dir: Path, num: int, reason: str) -> None:
    """A launcher's note that job ``num`` ended without a result (the merge reports it)."""
    _LOST[(str(sweep_dir.resolve()), num)] = reason


def _lost_reason(sweep_dir: Path, num: int) -> str:
    return _LOST.pop((str(sweep_dir.resolve()), num), (
        "the job wrote no results (it was killed, ran out of memory or timed out)"))


def _combine(loaded: list[tuple[dict[str, Any], xr.Dataset]], points: list[dict[str, Any]],
             keys: list[str]) -> xr.Dataset:
    """A grid gets one dim per key (failed cells NaN); anything else a ``run`` dim."""
    first = loaded[0][1]
    plan = [_dim_for(k, first, [loaded[0][0].get(k)]) for k in keys]
    dims = [d for d, _ in plan]
    levels = [list(dict.fromkeys(_hashable(p.get(k)) for p in points)) for k in keys]
    combos = {tuple(_hashable(p.get(k)) for k in keys) for p in points}
    is_grid = bool(keys) and len(combos) == len(points) == int(np.prod([len(v) for v in levels]))
    absorbed = [d for d, a in plan if a]
    datasets = [ds.drop_attrs(deep=False).drop_vars(absorbed) for _, ds in loaded]
    cells = [tuple(_hashable(p.get(k)) for k in keys) for p, _ in loaded]
    if is_grid and _same_layout(datasets):
        merged = _fill_grid(datasets, cells, dims, levels)
    else:
        parts = []
        for i, (ds, cell) in enumerate(zip(datasets, cells, strict=True)):
            coords = {d: [v] for d, v in zip(dims, cell, strict=True)}
            parts.append(ds.expand_dims(coords) if is_grid else ds.expand_dims(
                run=[i]).assign_coords({d: ("run", v) for d, v in coords.items()}))
        if is_grid:  # jobs saved different times (a swept solver setting): align them
            merged = xr.merge(parts, join="outer", compat="no_conflicts",
                              combine_attrs="drop")
            merged = merged.reindex({d: lv for d, lv in zip(dims, levels, strict=True)})
        else:
            merged = xr.concat(parts, dim="run", join="outer", data_vars="all",
                               coords="different", compat="equals")
    for d in absorbed:
        merged[d].attrs.update(first[d].attrs)
    return merged


def _same_layout(datasets: list[xr.Dataset]) -> bool:
    """Whether every job has the same variables, shapes and saved times."""
    def layout(ds: xr.Dataset) -> dict[Any, Any]:
        return {k: (v.dims, v.shape) for k, v in ds.variables.items()}

    first = datasets[0]
    return all(layout(ds) == layout(first) and np.array_equal(
        ds.variables["time"].values, first.variables["time"].values) for ds in datasets[1:])


def _fill_grid(datasets: list[xr.Dataset], cells: list[tuple[Any, ...]], dims: list[str],
               levels: list[list[Any]]) -> xr.Dataset:
    """Place each job's arrays in a NaN-filled grid (failed jobs leave NaN cells)."""
    first = datasets[0]
    shape = tuple(len(lv) for lv in levels)
    position = [{v: i for i, v in enumerate(lv)} for lv in levels]
    data = {name: xr.Variable((*dims, *var.dims), np.full(shape + var.shape, np.nan),
                              var.attrs)
            for name, var in first.data_vars.variables.items()}
    for ds, cell in zip(datasets, cells, strict=True):
        index = tuple(position[k][v] for k, v in enumerate(cell))
        for name, var in data.items():
            var.values[index] = ds.variables[name].values
    coords: dict[str, Any] = {d: xr.Variable((d,), np.asarray(lv))
                              for d, lv in zip(dims, levels, strict=True)}
    coords.update({c: first.coords[c].variable for c in first.coords})
    return xr.Dataset(data, coords=coords)


def _hashable(value: Any) -> Any:
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True)
    return value


class MergeSweep(Callback):
    """Hydra callback: a run owns its folder; after a multirun, merge the jobs and draw
    the comparison."""

    def __init__(self, **_: Any) -> None:
        pass

    def on_run_start(self, config: DictConfig, **_: Any) -> None:
        try:
            claim_folder(_hydra_dir(config.hydra.run.dir), "run")
        except FolderInUse as exc:
            _refuse(exc)

    def on_run_end(self, config: DictConfig, **_: Any) -> None:
        release_folder(_hydra_dir(config.hydra.run.dir))

    def on_multirun_start(self, config: DictConfig, **_: Any) -> None:
        sweep_dir = _hydra_dir(config.hydra.sweep.dir)
        try:
            claim_folder(sweep_dir, "sweep")
        except FolderInUse as exc:
            _refuse(_in_use(sweep_dir, exc))
        start_sweep(sweep_dir, config)

    def on_multirun_end(self, config: DictConfig, **_: Any) -> None:
        sweep_dir = _hydra_dir(config.hydra.sweep.dir)
        out = config.get("output", {})
        try:
            merged = merge_sweep(sweep_dir, baseline=out.get("baseline_scenario", "baseline"),
                                 plot=bool(out.get("plot", True)),
                                 plot_format=out.get("plot_format", "png"))
        finally:
            release_folder(sweep_dir)
        failures = _read_yaml(sweep_dir / FAILURES, missing_ok=True) or []
        if merged is None or failures:
            total = merged.attrs["n_jobs"] if merged is not None else len(failures)
            _SWEEP_FAILED.append(f"{len(failures)} of {total} jobs failed or were lost; "
                                 f"see {sweep_dir / FAILURES}")


# -- the command ------------------------------------------------------------------------


def preflight(overrides: Sequence[str]) -> None:
    """Compose and check every swept value before any job starts (one clear line each)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser

    plain = [o for o in overrides if not o.startswith("-")]
    parsed = OverridesParser.create().parse_overrides(plain)
    base, alternatives = [], []
    for override, text in zip(parsed, plain, strict=True):
        if override.is_sweep_override():
            key = text.split("=", 1)[0]
            values = list(override.sweep_string_iterator())
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
                cfg = compose(config_name="config", overrides=candidate,
                              return_hydra_config=True)
                check_keys(cfg)
                model = get_model(model_path(cfg.model.path))
                check_settings(model, cfg)
                if cfg.experiment.sensitivity is not None:
                    sensitivity_sample(model, cfg)
                elif cfg.experiment.batch:
                    batch_grid(model, cfg)
                else:
                    job_params(model, cfg)
                if cfg.solver.method.lower() not in {m.lower() for m in _methods()}:
                    raise ParameterError(f"solver.method={cfg.solver.method!r} is unknown; "
                                         f"choose one of {', '.join(_methods())}")
    finally:
        GlobalHydra.instance().clear()


def check_settings(model: Model, cfg: Any) -> None:
    """What the engine refuses only once a job runs, refused before any job starts:
    a NaN or infinite setting, a solver step that is not positive, an unknown output."""
    settings = [(f"params.{k}", v, "") for k, v in cfg.params.items()]
    settings += [(f"scenario.set.{k}", v, f" (scenario {cfg.scenario.name!r})")
                 for k, v in cfg.scenario.set.items()]
    settings += [(f"policy.{lever}", cfg.policy.get(lever), "") for lever in LEVER_FIELDS]
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
    if not (math.isfinite(s.atol) and s.atol >= 0):
        raise ParameterError(f"solver.atol={s.atol}: expected a number >= 0",
                             hint="set solver.atol=1e-8")
    if s.final_time is not None and not math.isfinite(s.final_time):
        raise ParameterError(f"solver.final_time={s.final_time}: expected a finite number",
                             hint="set solver.final_time to the last time to simulate, or "
                             "null to keep the model's FINAL TIME")
    for name in cfg.output.variables or []:
        try:
            model.variable(str(name))
        except ParameterError as exc:
            raise ParameterError(f"output.variables: {exc.message}", path=exc.path,
                                 hint=(exc.hint or "") + "; or set output.variables=null "
                                 "to keep every variable") from None


_SCHEMAS = {"model": ModelConfig, "scenario": ScenarioConfig, "policy": PolicyConfig,
            "experiment.sensitivity": SensitivityConfig,
            "solver": SolverConfig, "experiment": ExperimentConfig, "output": OutputConfig}


def check_keys(cfg: DictConfig) -> None:
    """Keys added with ``+`` bypass Hydra's checks: only ``params`` takes new keys."""
    for key in cfg:
        if key == "hydra":
            continue
        if key not in Config.__dataclass_fields__:
            raise ParameterError(f"unknown config key {key!r}" + _suggest(
                str(key), list(Config.__dataclass_fields__)))
        nodes = [(str(key), cfg[key])]
        if key == "experiment" and cfg[key].get("sensitivity") is not None:
            nodes.append(("experiment.sensitivity", cfg[key]["sensitivity"]))
        for path, node in nodes:
            schema = _SCHEMAS.get(path)
            if schema is None:
                continue
            for sub in node:
                if sub not in schema.__dataclass_fields__:
                    raise ParameterError(f"unknown config key '{path}.{sub}'" + _suggest(
                        str(sub), list(schema.__dataclass_fields__)))


def _suggest(word: str, options: list[str]) -> str:
    close = close_matches(word, options, n=3, cutoff=0.5)
    if close:
        return "; did you mean " + " or ".join(repr(c) for c in close) + "?"
    return "; valid keys: " + ", ".join(options)


def one_line(exc: BaseException) -> str:
    """Hydra's multi-line errors as one line that still says what exists and what to do."""
    import re

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
            text += f": no key {key!r} in {group or 'the config'}" + _suggest(key, fields)
            explained = True
        elif append:  # the key exists (a dict) or is free-form: adding needs a '+'
            text += "; " + append[0].lower() + append[1:]
    cause = exc.__cause__
    if cause is not None and str(cause).strip() and not explained:
        text += f" ({str(cause).strip().splitlines()[0]})"
    return text


def _methods() -> tuple[str, ...]:
    from .integrate import METHODS

    return METHODS


def hydra_main(argv: Sequence[str]) -> int:
    """``deterrence run ...``: check the overrides, then hand the command line to Hydra."""
    import hydra
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    argv = list(argv)
    if not any(a in ("--help", "-h", "--hydra-help", "--info", "-i") or a.startswith("--cfg")
               for a in argv):
        try:
            preflight(argv)
        except (ModelError, HydraException, OmegaConfBaseException, ValueError) as exc:
            print(f"error: {one_line(exc)}", file=sys.stderr)
            return 2
    register_configs()
    _FAILED.clear()
    _SWEEP_FAILED.clear()
    main = hydra.main(config_path=str(conf_dir()), config_name="config",
                      version_base="1.3")(task)
    saved = sys.argv
    sys.argv = ["deterrence run", *argv]
    try:
        main()
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        sys.argv = saved
        release_folder()
    if _SWEEP_FAILED:  # a multirun: its merge counted failed and lost jobs (any launcher)
        print(f"warning: {'; '.join(_SWEEP_FAILED)}", file=sys.stderr)
        return 1
    if _FAILED:
        print(f"warning: {len(_FAILED)} job(s) failed; see failure.yaml", file=sys.stderr)
        return 1
    return 0
