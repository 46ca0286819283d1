"""Merging a multirun: every job of the sweep into ``combined.nc`` (one dimension per
swept key for a grid, a ``run`` dimension otherwise), failed and lost jobs listed in the
sweep's ``failures.yaml``, the file :func:`sweep_outcome` reads the sweep's outcome from.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
import yaml
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from ..files import atomic_write_text
from ..results import write_results
from .compose import listed_options
from .config import COMBINED, FAILURE, FAILURES, GROUPS, POLICY_KEYS, RESULTS, SWEEP, OutputConfig
from .folders import (
    FolderInUse,
    claim_folder,
    fresh,
    hydra_dir,
    in_use,
    job_numbers,
    read_yaml,
    refuse,
    start_sweep,
)
from .job import plot_combined
from .params import dim_for
from .tables import write_summary

log = logging.getLogger("deterrence.experiments")

_LOST: dict[tuple[str, int], str] = {}  # (sweep folder, job) -> how a launcher lost it


def job_lost(sweep_dir: Path, num: int, reason: str) -> None:
    """A launcher's note that job ``num`` ended without a result (the merge reports it)."""
    _LOST[(str(sweep_dir.resolve()), num)] = reason


def _lost_reason(sweep_dir: Path, num: int) -> str:
    return _LOST.pop((str(sweep_dir.resolve()), num), (
        "the job wrote no results (it was killed, ran out of memory or timed out)"))


def _sweep_record(sweep_dir: Path) -> tuple[str | None, dict[int, list[str]] | None,
                                            list[int]]:
    """The sweep's id, its listed jobs' overrides (None: not listed) and job numbers."""
    record = read_yaml(sweep_dir / SWEEP, missing_ok=True)
    sweep_id = record.get("sweep_id") if isinstance(record, dict) else None
    listed = record.get("jobs") if sweep_id is not None else None
    expected = None if listed is None else {int(j["job"]): list(j["overrides"])
                                            for j in listed}
    return sweep_id, expected, job_numbers(sweep_dir) if expected is None else sorted(expected)


def sweep_outcome(sweep_dir: Path) -> str | None:
    """After the merge: one line if a job of the sweep failed or was lost (or the sweep
    had no job), read from its ``failures.yaml``; None if every job succeeded."""
    failures = read_yaml(sweep_dir / FAILURES, missing_ok=True) or []
    total = len(_sweep_record(sweep_dir)[2])
    if failures or not total:
        return (f"{len(failures)} of {total} jobs failed or were lost; "
                f"see {sweep_dir / FAILURES}")
    return None


def _job_value(job_cfg: dict[str, Any], choices: dict[str, str], key: str) -> Any:
    """The value a job ran with for a swept key (a group's option name for groups)."""
    key = key.lstrip("+~")
    if key in GROUPS:
        return choices.get(key, _select(job_cfg, f"{key}.name"))
    value = _select(job_cfg, key)
    group, _, name = key.partition(".")
    if group == "policy" and name not in POLICY_KEYS and isinstance(value, int) \
            and not isinstance(value, bool):
        return float(value)  # a lever is a float, as the job ran it
    return value


def _select(tree: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(tree, dict) or part not in tree:
            return None
        tree = tree[part]
    return tree


def merge_sweep(sweep_dir: Path, baseline: str = "baseline", plot: bool = True,
                plot_format: str = "png", outcome: str | None = None) -> xr.Dataset | None:
    """Merge the jobs of the sweep recorded in ``sweep_dir`` into ``combined.nc``.

    With a sweep record (``sweep.yaml``) exactly its jobs are merged, and a job's files
    count only if they carry the record's id: a job that wrote nothing of this sweep's
    (killed, out of memory) is a failure, and folders of an earlier sweep are left out.
    Without a record (a folder from before records), every numbered folder is merged.
    ``outcome``: the policy map's (None: the plot's default).
    """
    sweep_id, expected, numbers = _sweep_record(sweep_dir)
    left_out = sorted(set(job_numbers(sweep_dir)) - set(numbers))
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
        for k in keys:  # scenario=[a,b] in a sweep: the composition's name, a+b
            listed = listed_options(overrides, k.lstrip("+~")) if k.lstrip("+~") in GROUPS \
                else None
            if listed:
                point[k] = "+".join(listed)
        failure = read_yaml(job / FAILURE, missing_ok=True)
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
                    atomic_write_text(fresh(job / FAILURE), yaml.safe_dump(
                        {**failure, "sweep_id": sweep_id}, sort_keys=False))
            failures.append({"job": num, **{k: v for k, v in failure.items()
                                            if k != "sweep_id"}})
        records.append((point, ds))
    # keys that do not vary between jobs are settings, not dimensions
    varying = [k for k in swept
               if len({json.dumps(p.get(k), sort_keys=True) for p, _ in records}) > 1]
    atomic_write_text(fresh(sweep_dir / FAILURES), yaml.safe_dump(failures, sort_keys=False))
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
    for key in ("scenario", "policy"):  # what every job ran under, named on its figures
        shared = {str(ds.attrs.get(key)) for _, ds in loaded}
        if len(shared) == 1 and key in first and key not in combined.dims:
            combined.attrs[key] = first[key]
    combined.attrs.update({
        "shock_windows": json.dumps(windows), "sweep_dir": str(sweep_dir),
        **({"sweep_id": sweep_id} if sweep_id is not None else {}),
        "swept_keys": json.dumps(varying), "n_jobs": len(records),
        "n_failed": len(failures),
        "failures": json.dumps([{"job": f["job"], "overrides": f["overrides"],
                                 "error": f["error"]} for f in failures]),
    })
    if first.get("ensemble") == "uncertainty":  # every job's nominal run, by policy
        nominal: dict[str, Any] = {}
        for _, ds in loaded:
            nominal.update(json.loads(str(ds.attrs.get("nominal", "{}"))))
        combined.attrs["nominal"] = json.dumps(nominal)
    write_results(combined, fresh(sweep_dir / COMBINED))
    write_summary(combined, sweep_dir)
    if combined.attrs.get("ensemble") == "uncertainty":  # policies on the same futures
        from .uncertainty import analyse_sweep

        analyse_sweep(combined, sweep_dir, plot_format)
    log.info("merged %d jobs (%d failed) into %s", len(records), len(failures),
             sweep_dir / COMBINED)
    if plot:
        try:
            plot_combined(combined, sweep_dir, OutputConfig(
                plot=True, plot_format=plot_format, baseline_scenario=baseline), outcome)
        except Exception as exc:
            log.warning("sweep plot not drawn: %s", exc)
    return combined


def _job_records(job: Path, overrides: list[str] | None
                 ) -> tuple[list[str], dict[str, Any], dict[str, Any]]:
    """A job's overrides, group choices and config from its ``.hydra`` folder; for a job
    that never wrote them (or wrote another sweep's), its values from the sweep record."""
    hydra_dir = job / ".hydra"
    written = read_yaml(hydra_dir / "overrides.yaml", missing_ok=True)
    if written is not None and (overrides is None or list(written) == overrides):
        choices = _select(read_yaml(hydra_dir / "hydra.yaml"), "hydra.runtime.choices") or {}
        return list(written), choices, read_yaml(hydra_dir / "config.yaml") or {}
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


def _combine(loaded: list[tuple[dict[str, Any], xr.Dataset]], points: list[dict[str, Any]],
             keys: list[str]) -> xr.Dataset:
    """A grid gets one dim per key (failed cells NaN); anything else a ``run`` dim."""
    first = loaded[0][1]
    plan = [dim_for(k, first, [loaded[0][0].get(k)]) for k in keys]
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
    def times(ds: xr.Dataset) -> Any:  # per-run metrics (an uncertainty job) have none
        return ds.variables["time"].values if "time" in ds.variables else None

    return all(layout(ds) == layout(first) and np.array_equal(times(ds), times(first))
               for ds in datasets[1:])


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
    """Hydra callback: a run or sweep owns its folder (released by the command when it
    has read the outcome); after a multirun, merge the jobs and draw the comparison."""

    def on_run_start(self, config: DictConfig, **_: Any) -> None:
        try:
            claim_folder(hydra_dir(config.hydra.run.dir), "run")
        except FolderInUse as exc:
            refuse(exc)

    def on_multirun_start(self, config: DictConfig, **_: Any) -> None:
        sweep_dir = hydra_dir(config.hydra.sweep.dir)
        try:
            claim_folder(sweep_dir, "sweep")
        except FolderInUse as exc:
            refuse(in_use(sweep_dir, exc))
        start_sweep(sweep_dir, config)

    def on_multirun_end(self, config: DictConfig, **_: Any) -> None:
        out = config.get("output", {})
        merge_sweep(hydra_dir(config.hydra.sweep.dir),
                    baseline=out.get("baseline_scenario", "baseline"),
                    plot=bool(out.get("plot", True)), plot_format=out.get("plot_format", "png"),
                    outcome=config.get("model", {}).get("default_outcome"))
