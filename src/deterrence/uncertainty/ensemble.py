"""Ensembles in chunks along the run axis: every policy against the same futures.

The design's runs are cut into chunks of ``chunk`` futures; each chunk is ONE call of
``Model.simulate`` over ``policies x chunk`` parameter sets (policy-major), keeping only
the variables the metrics need, reduced at once to per-run metrics (and, when asked,
thinned series). Chunks are independent and every run is integrated elementwise, so the
numbers do not depend on the chunk size, on the order chunks run in, or on where they run
(in this process, or on a Dask cluster writing to the same store).

With a ``store`` (a Zarr folder) each chunk is written as it finishes, and a rerun with
the same plan computes only the chunks not marked done (:mod:`.store`). Memory is
bounded by the chunk: the whole ensemble's size is estimated before anything runs and
refused above the limit (:func:`estimate`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .. import limits
from ..errors import ParameterError, ResourceError
from . import store as zstore
from .chunks import NOMINAL, Plan, compute_chunk, make_plan, part_dataset
from .design import Design
from .metrics import OutcomeMetric, needed_variables

__all__ = ["NOMINAL", "Plan", "compute_chunk", "estimate", "make_plan", "probe",
           "run_ensemble", "template"]

log = logging.getLogger("deterrence.uncertainty")

_GRID = ("initial_time", "final_time", "time_step", "saveper")


def probe(model: Any, plan: Plan) -> xr.Dataset:
    """One Euler run on the ensemble's time grid: its saved times and the kept
    variables' attributes (the method does not change the saved times)."""
    grid = {k: plan.simulate[k] for k in _GRID if plan.simulate.get(k) is not None}
    return model.simulate({}, method="euler", backend="numpy", **grid, variables=list(
        dict.fromkeys([m.variable for m in plan.metrics] + list(plan.series))))


def template(model: Any, design: Design, plan: Plan, saved: xr.Dataset
             ) -> tuple[dict[str, Layout], dict[str, Any]]:
    """The ensemble's variables before their values exist (dims, shapes, attrs) and its
    coordinates: the layout of the store and of the result."""
    n_pol, n = len(plan.policies), design.n_runs
    data: dict[str, Layout] = {}
    for m in plan.metrics:
        data[m.name] = Layout(("policy", "run"), (n_pol, n), m.attrs(saved))
    coords: dict[str, Any] = {"policy": np.array([p for p, _ in plan.policies], dtype=object),
                              "run": xr.Variable(("run",), np.arange(n),
                                                 {"long_name": "future (design row)"})}
    if plan.series:
        coords["series_time"] = xr.Variable(("series_time",),
                                            saved["time"].values[::plan.thin],
                                            dict(saved["time"].attrs))
    for name in plan.series:
        data[f"series_{name}"] = Layout(("policy", "run", "series_time"),
                                        (n_pol, n, len(coords["series_time"])),
                                        dict(saved[name].attrs))
    for i, name in enumerate(design.names):
        coords[name] = xr.Variable(("run",), design.sample[:, i],
                                   {**dict(saved.get(name, xr.DataArray()).attrs),
                                    "uncertain": 1, "distribution": json.dumps(
                                        design.uncertainties[i].record())})
    return data, coords


@dataclass(frozen=True)
class Layout:
    """A variable of the ensemble before its values exist: dims, shape, attributes."""

    dims: tuple[str, ...]
    shape: tuple[int, ...]
    attrs: dict[str, Any]


def estimate(model: Any, plan: Plan, design: Design, chunk: int,
             max_memory: float | str | None = None, saved: xr.Dataset | None = None
             ) -> float:
    """Peak bytes: one chunk's simulation (every run's kept series at every saved time,
    the engine's temporaries for all its variables) plus the ensemble's metrics and
    design held at the end. Raises ResourceError above ``max_memory``. ``saved``: the
    :func:`probe` if made already."""
    budget = limits.parse_memory(max_memory)
    n_saves = (saved if saved is not None else probe(model, plan)).sizes["time"]
    runs = len(plan.policies) * min(chunk, design.n_runs)
    n_vars, n_stocks = len(model.variables), len(model.stocks)
    kept = len(needed_variables({m.name: m for m in plan.metrics})) + len(plan.series)
    cell = 8.0 * runs
    per_chunk = (n_stocks + kept) * n_saves * cell + min(2**30, n_vars * n_saves * cell)
    per_chunk += (n_vars + 8 * n_stocks) * cell + 4 * (len(plan.metrics) + kept) * cell
    held = 8.0 * design.n_runs * (2 * len(design.names) + 2 * len(plan.policies) * (
        len(plan.metrics) + len(plan.series) * math.ceil(n_saves / plan.thin)))
    total = per_chunk + held
    if total > budget:
        raise ResourceError(
            f"the ensemble needs about {limits.format_bytes(total)} (a chunk of {runs:,} "
            f"runs: {limits.format_bytes(per_chunk)}; the {design.n_runs:,} runs' metrics "
            f"and design: {limits.format_bytes(held)}), more than the limit "
            f"{limits.format_bytes(budget)}", path=model.path,
            hint="lower experiment.chunk, keep fewer series or thin them more, or raise "
            "solver.max_memory")
    return total


def _bounds(n_runs: int, chunk: int) -> list[tuple[int, int]]:
    return [(a, min(a + chunk, n_runs)) for a in range(0, n_runs, chunk)]


def _dataset(data: dict[str, Layout], coords: dict[str, Any], arrays: dict[str, np.ndarray],
             attrs: dict[str, Any]) -> xr.Dataset:
    return xr.Dataset({k: xr.Variable(v.dims, arrays[k], v.attrs) for k, v in data.items()},
                      coords=coords, attrs=attrs)


def run_ensemble(model: Any, design: Design, metrics: Mapping[str, OutcomeMetric], *,
                 store: str | Path | None = None, chunk: int = 10_000,
                 policies: Mapping[str, Mapping[str, float]] | None = None,
                 base: Mapping[str, float] | None = None, series: Sequence[str] = (),
                 thin: int = 1, dask: Any = None, progress: bool | None = None,
                 on_chunk: Callable[[int], None] | None = None,
                 max_memory: float | str | None = None, **simulate: Any) -> xr.Dataset:
    """Simulate every policy against every future of ``design``, chunk by chunk.

    Returns dims ``(policy, run)``: one variable per metric (``series_<name>`` with
    ``series_time`` for thinned series), the sampled values as coordinates along ``run``,
    the design in ``attrs["design"]``. ``store``: a Zarr folder written chunk by chunk
    and resumed when it exists (same plan only); ``dask``: a ``distributed.Client``, an
    address (``tcp://...``) or ``"local"`` (a LocalCluster), chunks computed by its
    workers and written by them to ``store``; ``progress``: a tqdm bar (default: when
    stderr is a terminal); ``on_chunk(k)``: called as chunk ``k`` is done;
    ``simulate``: keyword arguments of ``Model.simulate`` (``method``, ``solver``, ...).
    """
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ParameterError(f"chunk={chunk!r}: expected a positive number of runs")
    plan = make_plan(model, design, metrics, policies=policies, base=base, series=series,
                     thin=thin, max_memory=max_memory, **simulate)
    saved = probe(model, plan)
    estimate(model, plan, design, chunk, max_memory, saved)
    data, coords = template(model, design, plan, saved)
    bounds = _bounds(design.n_runs, chunk)
    record = plan.record(design, chunk)
    attrs = {"design": json.dumps(design.record()), "design_fingerprint":
             design.fingerprint(), "plan": json.dumps(record, sort_keys=True),
             "plan_sha256": hashlib.sha256(json.dumps(record, sort_keys=True).encode())
             .hexdigest(), "model_file": plan.model_path, "model_sha256": plan.model_sha256,
             "metrics": json.dumps(record["metrics"]), "chunk": chunk,
             "n_chunks": len(bounds)}
    if dask is not None and store is None:
        raise ParameterError("a Dask ensemble writes to a store: give store=PATH (a folder "
                             "every worker can reach)")
    if store is None:
        return _in_memory(model, plan, design, data, coords, attrs, bounds, progress,
                          on_chunk)
    path = Path(store)
    done = zstore.completed(path, json.loads(attrs["plan"]))
    if done is None:
        zstore.create(path, data, coords, attrs, chunk, len(bounds))
        done = np.zeros(len(bounds), dtype=bool)
    todo = [k for k in range(len(bounds)) if not done[k]]
    if len(todo) < len(bounds):
        log.info("resuming %s: %d of %d chunks already done", path, len(bounds) - len(todo),
                 len(bounds))
    bar = _bar(len(bounds), len(bounds) - len(todo), progress)
    try:
        if dask is not None:
            from .distributed import map_chunks

            map_chunks(dask, plan, design, bounds, todo, path, bar, on_chunk)
        else:
            for k in todo:
                a, b = bounds[k]
                part = compute_chunk(model, plan, design.sample[a:b])
                zstore.write_chunk(path, part_dataset(part), k, a, b)
                bar.update(1)
                if on_chunk is not None:
                    on_chunk(k)
    finally:
        bar.close()
    result = zstore.read(path)
    result.attrs.update(attrs)
    return result


def _in_memory(model: Any, plan: Plan, design: Design, data: dict[str, Layout],
               coords: dict[str, Any], attrs: dict[str, Any],
               bounds: list[tuple[int, int]], progress: bool | None,
               on_chunk: Callable[[int], None] | None) -> xr.Dataset:
    arrays = {k: np.full(v.shape, np.nan) for k, v in data.items()}
    bar = _bar(len(bounds), 0, progress)
    try:
        for k, (a, b) in enumerate(bounds):
            for name, values in compute_chunk(model, plan, design.sample[a:b]).items():
                arrays[name][:, a:b] = values
            bar.update(1)
            if on_chunk is not None:
                on_chunk(k)
    finally:
        bar.close()
    return _dataset(data, coords, arrays, attrs)


def _bar(total: int, initial: int, progress: bool | None) -> Any:
    from tqdm.auto import tqdm

    show = sys.stderr.isatty() if progress is None else progress
    return tqdm(total=total, initial=initial, unit="chunk", desc="ensemble",
                disable=not show, file=sys.stderr)
