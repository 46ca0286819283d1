"""One job: simulate the composed config (one run, a batched grid or a Sobol sample),
write its results and draw its plots. Hydra's task function never raises, so one failed
job cannot stop a sweep: its error goes to ``failure.yaml`` in the job's folder.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
import yaml
from omegaconf import DictConfig, OmegaConf

from ..errors import ModelError, ParameterError
from ..files import atomic_write_text
from ..model import Model
from ..results import write_results
from .compose import compose_scenarios, expand_grid, scenario_option
from .config import (
    COMBINED,
    FAILURE,
    RESULTS,
    Config,
    PolicyConfig,
    ScenarioConfig,
    get_model,
    group_option,
    method_source,
    model_path,
    solver_kwargs,
)
from .folders import current_sweep_id, fresh
from .params import (
    TIMING_KEYS,
    batch_grid,
    job_params,
    policy_levers,
    reshape_runs,
    sensitivity_outcomes,
    sensitivity_sample,
)
from .preflight import check_keys
from .tables import write_summary

log = logging.getLogger("deterrence.experiments")


def model_marks(model: Model, cfg: Any) -> dict[str, Any]:
    """What plots take as their defaults, as Dataset attributes: the model's key outputs
    (``model.key_outputs``) and its default outcome (``model.default_outcome``), as
    Python names. Absent ones are left out (NetCDF cannot store an empty list)."""
    marks: dict[str, Any] = {}
    names = [_py_name(model, name, "model.key_outputs")
             for name in cfg.model.get("key_outputs") or []]
    if names:
        marks["key_outputs"] = names
    if cfg.model.get("default_outcome"):
        marks["default_outcome"] = _py_name(model, cfg.model.default_outcome,
                                            "model.default_outcome")
    timing = {key: _py_name(model, cfg.model.timing[f"{key}_time"], f"model.timing.{key}_time")
              for key in ("start", "ramp") if (cfg.model.get("timing") or {}).get(f"{key}_time")}
    if timing:  # the constants plots read to mark when each line's policy starts
        marks["policy_timing"] = json.dumps(timing)
    return marks


def _py_name(model: Model, name: Any, key: str) -> str:
    try:
        return model.variable(str(name)).py_name
    except ParameterError as exc:
        raise ParameterError(f"{key}: {exc.message}", path=exc.path, hint=exc.hint) from None


def simulate_config(model: Model, cfg: Any, params: dict[str, Any]) -> xr.Dataset:
    variables = list(cfg.output.variables) if cfg.output.variables else None
    timing = cfg.model.get("timing") or {}
    if variables is not None:  # the figures mark the policy's start from these constants
        variables += [str(timing[k]) for k in TIMING_KEYS if timing.get(k)]
    ds = model.simulate(params, **solver_kwargs(cfg.solver, model), variables=variables)
    ds.attrs["method_source"] = method_source(model, cfg.solver)
    return ds


def run_sensitivity(model: Model, cfg: Any, output_dir: Path) -> xr.Dataset:
    """The Sobol ensemble in one call; ``sensitivity.nc`` holds the indices."""
    from ..analysis import sobol_indices

    s = cfg.experiment.sensitivity
    outcomes = sensitivity_outcomes(cfg)
    problem, params = sensitivity_sample(model, cfg)
    n_runs = len(next(iter(params[n] for n in problem["names"])))
    log.info("Sobol sample: %d parameters, %d runs in one ensemble", problem["num_vars"],
             n_runs)
    timing = cfg.model.get("timing") or {}  # the figures mark the policy start from it
    ds = model.simulate(params, **solver_kwargs(cfg.solver, model), variables=list(
        dict.fromkeys([*outcomes, *problem["names"],
                       *(str(timing[k]) for k in TIMING_KEYS if timing.get(k))])))
    ds.attrs["method_source"] = method_source(model, cfg.solver)
    indices = sobol_indices(ds, problem, outcomes, s.reduce, seed=s.seed)
    indices["parameter"].attrs["long_name"] = "sampled constant"
    indices = indices.assign_coords(vensim_name=("parameter", [
        model.variables[n].name for n in problem["names"]]))
    indices.attrs.update({"model_file": str(model.path), "model_sha256": model.sha256,
                          "scenario": cfg.scenario.name, "policy": cfg.policy.name})
    indices.attrs.update(model_marks(model, cfg))
    write_results(indices, fresh(output_dir / "sensitivity.nc"))
    return ds


def run_job(cfg: DictConfig, output_dir: Path, sweep_id: str | None = None) -> xr.Dataset:
    """Simulate one configured job (a batch if the experiment has one); write results.

    ``sweep_id`` (a multirun's job) goes into the results, so that a merge takes this
    file only for the sweep that wrote it.
    """
    model = get_model(model_path(cfg.model.path), cfg.model.engine)
    for lever, value in policy_levers(cfg.policy, cfg.model.levers, model.name).items():
        cfg.policy[lever] = value  # a float, as the config records it
    if cfg.experiment.samples is not None:  # an uncertainty ensemble: its own module
        from .uncertainty import run_uncertainty

        return run_uncertainty(model, cfg, output_dir, sweep_id)
    marks = model_marks(model, cfg)
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
    ds.attrs.update(marks)
    if sweep_id is not None:
        ds.attrs["sweep_id"] = sweep_id
    results = write_results(ds, fresh(output_dir / RESULTS))
    write_summary(ds, output_dir)
    if cfg.experiment.batch:  # the batch is its own merged sweep: same file, two names
        try:
            os.link(results, fresh(output_dir / COMBINED))
        except OSError:  # a file system without hard links
            shutil.copy2(results, output_dir / COMBINED)
    if cfg.output.plot and cfg.experiment.sensitivity is not None:
        _plot_sensitivity(ds, output_dir, cfg.output.plot_format)
    elif cfg.output.plot:
        _plot_job(model, cfg, ds, output_dir)
    return ds


def _plot_sensitivity(ds: xr.Dataset, folder: Path, fmt: str) -> None:
    from .. import plot

    try:
        with xr.open_dataset(folder / "sensitivity.nc") as opened:
            indices = opened.load()
        plot.save_figure(plot.sensitivity_bars(indices), fresh(folder / f"sensitivity.{fmt}"))
        plot.save_figure(plot.fan_chart(ds, vars=[str(v) for v in indices["outcome"].values]),
                         fresh(folder / f"fan.{fmt}"))
    except Exception as exc:
        log.warning("sensitivity plots not drawn: %s", exc)


def _batch_windows(keys: list[str], values: list[list[Any]], cfg: Any) -> dict[str, Any]:
    if "scenario" not in keys:
        return {cfg.scenario.name: [list(w) for w in cfg.scenario.shock_windows]}
    names = values[keys.index("scenario")]
    return {n: [list(w) for w in scenario_option(str(n)).shock_windows] for n in names}


def _default_outcome(model: Model, cfg: Any) -> str | None:
    name = cfg.model.get("default_outcome")
    return None if name is None else model.variable(str(name)).py_name


def _plot_job(model: Model, cfg: Any, ds: xr.Dataset, output_dir: Path) -> None:
    """A comparison against the baseline scenario, with the same policy and solver."""
    from .. import plot

    try:
        if cfg.experiment.batch:
            plot_combined(ds, output_dir, cfg.output, _default_outcome(model, cfg))
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
        for key in ("key_outputs", "policy_timing"):
            if key in ds.attrs:
                both.attrs[key] = ds.attrs[key]
        both = both.assign_coords(_held(cfg, by, model))  # named on the figure
        fig = plot.scenario_comparison(both, by=by, baseline=label(reference or cfg))
        plot.save_figure(fig, fresh(output_dir / f"comparison.{cfg.output.plot_format}"))
    except Exception as exc:
        log.warning("comparison plot not drawn: %s", exc)


def _held(cfg: Any, by: str, model: Model) -> dict[str, Any]:
    """What the lines of a single run's figure share, so the figure can say it: the
    policy (or scenario) not compared, the constants set by ``params``, the model."""
    held: dict[str, Any] = {"scenario": str(cfg.scenario.name)} if by == "policy" else \
        {"policy": _policy_label(cfg)} if cfg.model.levers else {}
    for name, value in cfg.params.items():
        held[model.variable(str(name)).py_name] = value
    if model.name != "alliance_deterrence":
        held["model"] = model.name
    return held


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
            v is not None for v in policy_levers(cfg.policy, cfg.model.levers).values()):
        reference.policy = group_option("policy", "status_quo", PolicyConfig)
        return "policy", _policy_label, reference
    return "scenario", lambda c: c.scenario.name, None


def _policy_label(cfg: Any) -> str:
    """The policy's name; the status quo's levers if set; its timing if set."""
    levers = [f"{lever}={value}" for lever, value in
              policy_levers(cfg.policy, cfg.model.levers).items() if value is not None
              and cfg.policy.name == "status_quo"]
    label = cfg.policy.name + (f" ({', '.join(levers)})" if levers else "")
    start, ramp = (cfg.policy.get(key) for key in TIMING_KEYS)  # no brackets in brackets
    if start:
        label += f" from year {start:g}"
    if ramp:
        label += f", ramped in over {ramp:g} years"
    return label


def plot_combined(ds: xr.Dataset, folder: Path, output: Any,
                  outcome: str | None = None) -> None:
    """A batch's or a sweep's plots: a comparison along the scenario (or the one swept
    dim), a policy map of ``outcome`` over the first two numeric dims."""
    from .. import plot

    sweep_dims = [d for d in ds.dims if d not in ("time",)]
    fmt = output.plot_format
    if "scenario" in sweep_dims:
        reduced = plot.fix_other_dims(ds, keep=("scenario", "run"))
        fig = plot.scenario_comparison(reduced, by="scenario",
                                       baseline=output.baseline_scenario)
        plot.save_figure(fig, fresh(folder / f"comparison.{fmt}"))
    elif len(sweep_dims) == 1:
        fig = plot.scenario_comparison(ds, by=sweep_dims[0], baseline=None)
        plot.save_figure(fig, fresh(folder / f"comparison.{fmt}"))
    numeric = [d for d in sweep_dims if d in ds.coords and ds[d].dtype.kind in "if"]
    if len(numeric) >= 2:
        reduced = plot.fix_other_dims(ds, keep=numeric[:2])
        if outcome is None or outcome not in reduced.data_vars:
            outcome = plot.default_outcome(reduced)
        fig = plot.policy_map(reduced, outcome, x=numeric[0], y=numeric[1])
        plot.save_figure(fig, fresh(folder / f"policy_map.{fmt}"))


def task(cfg: DictConfig) -> dict[str, Any]:
    """Hydra's task function: never raises, so one failed job cannot stop a sweep."""
    from hydra.core.hydra_config import HydraConfig

    output_dir = Path(HydraConfig.get().runtime.output_dir)
    overrides = list(HydraConfig.get().overrides.task)
    started = time.perf_counter()
    if (output_dir / FAILURE).exists():  # from an earlier run into this folder: keep it
        fresh(output_dir / FAILURE)
    sweep_id = None
    try:
        sweep_id = current_sweep_id()
        check_keys(cfg)
        compose_scenarios(cfg, overrides)
        expand_grid(cfg)
        ds = run_job(cfg, output_dir, sweep_id=sweep_id)
    except Exception as exc:
        message = str(exc) if isinstance(exc, ModelError) else (
            f"{type(exc).__name__}: {exc}")
        log.error("job failed: %s", message)
        record = {"overrides": overrides, "error": message,
                  "traceback": "" if isinstance(exc, ModelError) else traceback.format_exc(),
                  **({"sweep_id": sweep_id} if sweep_id is not None else {})}
        atomic_write_text(output_dir / FAILURE, yaml.safe_dump(record, sort_keys=False))
        return {"status": "failed", "error": message}
    log.info("wrote %s (%.2f s)", output_dir / RESULTS, time.perf_counter() - started)
    return {"status": "ok", "sizes": dict(ds.sizes)}
