"""One chunk of an ensemble: the plan every chunk shares, a chunk's parameter arrays
(policies x futures, policy-major) and its metrics. The same code runs in this process
and on a Dask worker (:mod:`.distributed`), so the numbers are the same wherever it runs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from ..errors import ParameterError
from .design import Design, DesignError
from .metrics import OutcomeMetric, needed_variables

#: The policy label of an ensemble run without named policies.
NOMINAL = "nominal"


@dataclass(frozen=True)
class Plan:
    """What one chunk needs to be computed anywhere (small and picklable; the sample is
    sliced per chunk): the model file, the constants every run shares (``base``), each
    policy's constants, the metrics, the solver's keyword arguments, the series kept."""

    model_path: str
    model_sha256: str
    names: tuple[str, ...]  # the sampled constants, the design's columns
    metrics: tuple[OutcomeMetric, ...]
    policies: tuple[tuple[str, tuple[tuple[str, float], ...]], ...]
    base: tuple[tuple[str, float], ...] = ()
    simulate: Mapping[str, Any] = field(default_factory=dict)
    series: tuple[str, ...] = ()
    thin: int = 1

    def record(self, design: Design, chunk: int) -> dict[str, Any]:
        """What decides the numbers, as the store records it (JSON, order-free)."""
        solver = {k: (v.record() if hasattr(v, "record") else v)
                  for k, v in sorted(self.simulate.items()) if k != "max_memory"}
        return {"design": design.fingerprint(), "model_sha256": self.model_sha256,
                "metrics": {m.name: m.spec for m in self.metrics},
                "policies": {p: dict(v) for p, v in self.policies},
                "base": dict(self.base), "solver": json.loads(json.dumps(solver,
                                                                           default=str)),
                "series": list(self.series), "thin": self.thin, "chunk": int(chunk),
                "runs": design.n_runs}


def make_plan(model: Any, design: Design, metrics: Mapping[str, OutcomeMetric], *,
              policies: Mapping[str, Mapping[str, float]] | None = None,
              base: Mapping[str, float] | None = None, series: Sequence[str] = (),
              thin: int = 1, **simulate: Any) -> Plan:
    """The plan, every name resolved against ``model`` and every clash refused."""
    base = {model.variable(k).py_name: float(v) for k, v in (base or {}).items()}
    policies = dict(policies or {NOMINAL: {}})
    if not policies:
        raise ParameterError("no policy to run: give at least one")
    resolved = {str(p): {model.variable(k).py_name: float(v) for k, v in ps.items()}
                for p, ps in policies.items()}
    sampled = set(design.names)
    for where, values in [("the fixed settings", base), *(
            (f"policy {p!r}", v) for p, v in resolved.items())]:
        clash = sorted(sampled & set(values))
        if clash:
            raise DesignError(f"{', '.join(clash)}: set by {where} and sampled as "
                              "uncertain; choose one", hint="drop it from the "
                              "uncertainties, or do not set it")
    every = {**base, **{k: v for ps in resolved.values() for k, v in ps.items()}}
    model.check_ranges(every)
    model.check_ranges({n: design.sample[:, i] for i, n in enumerate(design.names)})
    if isinstance(thin, bool) or not isinstance(thin, int) or thin < 1:
        raise ParameterError(f"thin={thin!r}: keep every thin-th saved time, thin >= 1")
    kept = tuple(model.variable(v).py_name for v in series)
    return Plan(str(model.path), model.sha256, tuple(design.names), tuple(metrics.values()),
                tuple((p, tuple(sorted(v.items()))) for p, v in resolved.items()),
                tuple(sorted(base.items())), dict(simulate), kept, int(thin))


def chunk_params(model: Any, plan: Plan, sample: np.ndarray) -> dict[str, Any]:
    """The parameter arrays of one chunk: policies x futures, policy-major."""
    n_pol, n = len(plan.policies), sample.shape[0]
    params: dict[str, Any] = dict(plan.base)
    for i, name in enumerate(plan.names):
        params[name] = np.tile(sample[:, i], n_pol)
    set_by_policy = sorted({k for _, values in plan.policies for k, _ in values})
    for name in set_by_policy:
        default = params.get(name, model.variables[name].default)
        params[name] = np.repeat([dict(v).get(name, default) for _, v in plan.policies], n)
    return params


def compute_chunk(model: Any, plan: Plan, sample: np.ndarray) -> dict[str, np.ndarray]:
    """Metrics (and thinned series) of one chunk: arrays (policy, run[, series_time])."""
    n_pol, n = len(plan.policies), sample.shape[0]
    keep = list(dict.fromkeys([*needed_variables({m.name: m for m in plan.metrics}),
                               *plan.series]))
    params = chunk_params(model, plan, sample)
    if not any(np.ndim(v) for v in params.values()):  # one run: still an ensemble of 1
        first = plan.names[0] if plan.names else next(iter(params))
        params[first] = np.atleast_1d(params[first])
    ds = model.simulate(params, variables=keep, **plan.simulate)
    if "run" not in ds.dims:
        ds = ds.expand_dims(run=[0]).transpose("time", "run", ...)
    out = {m.name: m.of(ds).reshape(n_pol, n) for m in plan.metrics}
    for name in plan.series:
        da = ds[name].transpose("time", "run") if "time" in ds[name].dims else \
            ds[name].expand_dims(time=ds["time"].values)
        values = da.values[::plan.thin]  # (series_time, policy*run)
        out[f"series_{name}"] = values.T.reshape(n_pol, n, -1)
    return out


def part_dataset(part: dict[str, np.ndarray]) -> xr.Dataset:
    """One chunk's arrays as the store's region: (policy, run[, series_time])."""
    dims = ("policy", "run", "series_time")
    return xr.Dataset({k: xr.Variable(dims[:v.ndim], v) for k, v in part.items()})
