"""The per-run metrics of an uncertainty ensemble, read back with what the run recorded.

An uncertainty run (``experiment=uncertainty``) leaves one number per policy, future and
metric in ``metrics.zarr`` (and, with the run's settings in its attributes, in
``results.nc``; a sweep over policies merges them into ``combined.nc``). This module reads
any of them, or the run folder, as one Dataset with dims (policy, run) whose attributes
keep what the run recorded: the ``failure`` and ``satisficing`` conditions and each
policy's ``nominal`` metrics (the model at its own values). :func:`ensemble_table` is
``deterrence summary``'s table of it: per policy and metric, the mean and percentiles over
the futures, the nominal run beside them, and the shares of futures meeting the
conditions. :class:`Condition` (``survival_50y < 0.5``) lives here so that the ensemble
that records it (:mod:`deterrence.uncertainty`) and the tables and figures that read it
share one definition.
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import ModelError, ParameterError
from ..names import close_matches
from ..results import is_store, read_results, read_store

__all__ = [
    "ROLES",
    "STORE",
    "Condition",
    "MetricError",
    "as_metrics",
    "choose_metrics",
    "conditions",
    "ensemble_table",
    "is_ensemble",
    "locate",
    "metric_names",
    "nominal",
    "primary_metric",
    "read_metrics",
]

STORE, RESULTS, COMBINED = "metrics.zarr", "results.nc", "combined.nc"
POLICY, RUN = "policy", "run"
#: The conditions a run records, by the attribute that holds each, and how a table
#: names the share of futures meeting it.
ROLES = {"failure": "share failing", "satisficing": "share satisficing"}
QUANTILES = (5, 50, 95)


class MetricError(ParameterError):
    """A metric or condition that does not exist or cannot be computed."""


_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


@dataclass(frozen=True)
class Condition:
    """``metric OP threshold``: a binary outcome of every run."""

    metric: str
    op: str
    threshold: float

    @classmethod
    def parse(cls, text: str, metrics: Mapping[str, Any] | Sequence[str],
              where: str) -> Condition:
        match = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|<|>)\s*(\S+)\s*",
                             str(text))
        if not match:
            raise MetricError(f"{where}={text!r}: expected 'METRIC < NUMBER' (or <=, >, >=)",
                              hint="e.g. 'survival_50y < 0.5'")
        name, op, number = match.groups()
        if name not in metrics:
            raise MetricError(f"{where}: unknown metric {name!r}; the metrics are "
                              f"{', '.join(metrics) or 'none'}",
                              hint="define it in experiment.metrics")
        try:
            threshold = float(number)
        except ValueError:
            threshold = math.nan
        if not math.isfinite(threshold):
            raise MetricError(f"{where}={text!r}: {number!r} is not a finite number")
        return cls(name, op, threshold)

    def of(self, values: Any) -> Any:
        return _OPS[self.op](values, self.threshold)

    @property
    def larger_is_better(self) -> bool:
        return self.op in (">", ">=")

    @property
    def strict(self) -> bool:
        """``<`` or ``>``: a run exactly at the threshold does not meet it."""
        return self.op in ("<", ">")

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.threshold:g}"


# -- reading -------------------------------------------------------------------------------


def is_ensemble(ds: xr.Dataset) -> bool:
    """Per-run metrics of an uncertainty ensemble: a ``run`` dim and no ``time``."""
    return RUN in ds.dims and "time" not in ds.dims and (
        ds.attrs.get("ensemble") == "uncertainty" or "plan" in ds.attrs)


def locate(path: str | Path, error: type[ModelError] = ParameterError) -> Path:
    """The file a run folder's metrics are read from: ``metrics.zarr``, else a sweep's
    ``combined.nc``, else ``results.nc``; any other path as it is."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if not path.is_dir() or is_store(path):
        return path
    for name in (STORE, COMBINED, RESULTS):
        if (path / name).exists():
            return path / name
    raise error("no metrics.zarr, results.nc or combined.nc in this folder",
                path=path, hint="name a run folder of deterrence run, or a file in one")


def read_metrics(path: str | Path, error: type[ModelError] = ParameterError) -> xr.Dataset:
    """The per-run metrics at ``path`` (a run folder, ``metrics.zarr``, or the run's
    ``results.nc`` / a sweep's ``combined.nc``) with dims (policy, run).

    Attributes ``failure``, ``satisficing`` and ``nominal`` come from the run's
    ``results.nc`` when the store is read (the store does not keep them). Anything else
    is one ``error`` naming what was expected.
    """
    path = locate(path, error)
    if is_store(path):
        ds = read_store(path, error)
        sibling = path.parent / RESULTS
        if sibling.exists():
            with xr.open_dataset(sibling) as recorded:
                for key in (*ROLES, "nominal", "scenario", "experiment"):
                    if key in recorded.attrs:
                        ds.attrs.setdefault(key, recorded.attrs[key])
    else:
        ds = read_results(path, error=error)
    return as_metrics(ds, path, error)


def as_metrics(ds: xr.Dataset, path: Path, error: type[ModelError] = ParameterError
               ) -> xr.Dataset:
    """``ds`` read from ``path`` as per-run metrics, dims (policy, run): a single
    policy's results get the ``policy`` dim back, thinned series are left out."""
    if not is_ensemble(ds):
        raise error("no per-run metrics of an uncertainty ensemble in this file "
                    f"(dims: {', '.join(f'{d} ({n})' for d, n in ds.sizes.items())})",
                    path=path, hint="expected an uncertainty run's folder, its "
                    "metrics.zarr, or its results.nc or combined.nc")
    if POLICY not in ds.dims:
        ds = ds.expand_dims({POLICY: [str(ds.attrs.get("policy", "nominal"))]})
    keep = [str(v) for v, da in ds.data_vars.items() if set(da.dims) == {POLICY, RUN}]
    ds = ds[keep].transpose(POLICY, RUN, ...)
    ds = ds.assign_coords({POLICY: [str(p) for p in ds[POLICY].values]})
    ds.encoding["source"] = str(path)
    return ds


def metric_names(ds: xr.Dataset) -> list[str]:
    """The metrics in the order the run's config lists them (its ``metrics`` attr)."""
    names = [str(v) for v in ds.data_vars]
    try:
        listed = list(json.loads(str(ds.attrs.get("metrics", "{}"))))
    except (ValueError, TypeError):
        listed = []
    return [n for n in listed if n in names] + [n for n in names if n not in listed]


def conditions(ds: xr.Dataset) -> dict[str, Condition]:
    """The conditions the run recorded (role -> condition), on metrics the Dataset has."""
    found = {}
    for role in ROLES:
        text = str(ds.attrs.get(role, "") or "")
        if text:
            try:
                found[role] = Condition.parse(text, metric_names(ds), role)
            except MetricError:  # a metric left out of these results
                continue
    return found


def nominal(ds: xr.Dataset) -> dict[str, dict[str, float]]:
    """Each policy's metrics in the nominal run, as recorded (policy -> metric -> value)."""
    try:
        values = json.loads(str(ds.attrs.get("nominal", "{}")))
    except ValueError:
        return {}
    return values if isinstance(values, dict) else {}


def primary_metric(ds: xr.Dataset) -> str:
    """The metric a figure shows by default: the failure condition's, else the
    satisficing condition's, else the first."""
    found = conditions(ds)
    for role in ROLES:
        if role in found:
            return found[role].metric
    return metric_names(ds)[0]


def choose_metrics(ds: xr.Dataset, names: Sequence[str] | str | None,
                   error: type[ModelError] = ParameterError) -> list[str]:
    """``names`` (space- or comma-separated) checked against the ensemble's metrics."""
    items = [names] if isinstance(names, str) else list(names or [])
    wanted = [n.strip() for item in items for n in str(item).split(",") if n.strip()]
    available = metric_names(ds)
    for name in wanted:
        if name not in available:
            close = close_matches(name, available)
            raise error(f"{name!r} is not a metric of the ensemble in "
                        f"{Path(str(ds.encoding.get('source', 'the results'))).name}; its "
                        f"metrics: {', '.join(available)}",
                        hint=("did you mean " + " or ".join(map(repr, close)) + "?")
                        if close else "name one of them")
    return wanted or available


# -- the table -----------------------------------------------------------------------------


def ensemble_table(ds: xr.Dataset, variables: Sequence[str] | str | None = None,
                   quantiles: Sequence[float] = QUANTILES) -> pd.DataFrame:
    """One row per policy and metric: the nominal run, then the mean and ``quantiles``
    (percent) over the futures, the shares of futures meeting the recorded conditions
    (on their metric's rows), the number of runs.

    Statistics are over the finite runs (a recovery that never happens is inf); a column
    ``not finite`` counts the others when there are any. The table's
    ``attrs["caption"]`` says what it shows.
    """
    names = choose_metrics(ds, variables)
    found = conditions(ds)
    recorded = nominal(ds)
    rows = []
    for policy in [str(p) for p in ds[POLICY].values]:
        for name in names:
            values = np.asarray(ds[name].sel({POLICY: policy}).values, dtype=float)
            finite = values[np.isfinite(values)]
            row: dict[str, Any] = {
                POLICY: policy, "metric": name,
                "units": str(ds[name].attrs.get("units", "")),
                "nominal": float(recorded.get(policy, {}).get(name, np.nan)),
                "mean": float(finite.mean()) if finite.size else np.nan}
            q = np.percentile(finite, quantiles) if finite.size else [np.nan] * len(quantiles)
            row.update({f"p{p:g}": float(v) for p, v in zip(quantiles, q, strict=True)})
            for cond in found.values():
                row[f"share {cond}"] = (float(np.mean(cond.of(values)))
                                                   if cond.metric == name else np.nan)
            row["runs"] = int(values.size)
            row["not finite"] = int(values.size - finite.size)
            rows.append(row)
    table = pd.DataFrame(rows).set_index([POLICY, "metric"])
    if not table["not finite"].any():
        table = table.drop(columns="not finite")
    if not np.isfinite(table["nominal"]).any():
        table = table.drop(columns="nominal")
    runs = ds.sizes[RUN]
    notes = [f"per-run metrics of {runs} futures under {ds.sizes[POLICY]} "
             f"{'policy' if ds.sizes[POLICY] == 1 else 'policies'} "
             f"({Path(str(ds.encoding.get('source', 'the results'))).name})",
             "mean and percentiles over the futures"
             + (" with a finite value" if "not finite" in table else "")]
    if "nominal" in table:
        notes.append("nominal: the run at the model's own values of the uncertain constants")
    notes += [f"share {cond}: of the futures, the {role} condition" for role, cond in
              found.items()]
    table.attrs["caption"] = "; ".join(notes)
    table.attrs["blank"] = ""  # a share that does not apply to a metric's row
    return table
