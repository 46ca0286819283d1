"""Outcome metrics: one number per run from its time series, chosen by name in config.

A metric is ``VARIABLE:MEASURE`` under a name of the user's choice, e.g.
``survival_50y: deterrence_survival:final``. Measures:

- ``final``, ``min``, ``max``, ``mean``, ``time_below=X``, ``time_above=X``: as in
  ``deterrence summary`` (:class:`deterrence.analysis.summary.Metric`, one definition);
  ``final`` of ``deterrence_survival`` is the probability that deterrence holds at the
  horizon;
- ``at=T``: the value at the saved time T;
- ``recovery=ONSET``: years from the largest fall below the run's own value at ONSET
  (the shock's start) until 90% of that fall has closed, the definition of
  :mod:`deterrence.analysis` with the run's pre-shock value as the reference; NaN where
  the run does not fall, inf where it does not recover before the horizon.

A :class:`Condition` (``survival_50y < 0.5``, defined in
:mod:`deterrence.analysis.ensembles` so that the summaries and figures of a finished run
read it too) turns a metric into the binary outcome scenario discovery explains, or the
satisficing test robustness counts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from ..analysis.ensembles import Condition, MetricError
from ..analysis.summary import RECOVERY_SHARE
from ..analysis.summary import Metric as _Measure
from ..errors import ParameterError

__all__ = ["MEASURES", "Condition", "MetricError", "OutcomeMetric", "needed_variables",
           "parse_metrics", "recovery"]

MEASURES = "final, min, max, mean, time_below=X, time_above=X, at=T, recovery=ONSET"


@dataclass(frozen=True)
class OutcomeMetric:
    """``name``: ``measure`` of ``variable`` (a Python name of the model)."""

    name: str
    variable: str
    measure: str
    value: float | None = None  # the threshold, time or onset of the measure

    @classmethod
    def parse(cls, name: str, spec: str, model: Any = None) -> OutcomeMetric:
        """``VARIABLE:MEASURE``; with ``model``, the variable is checked and resolved."""
        where = f"experiment.metrics.{name}"
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(name)):
            raise MetricError(f"{where}: a metric's name must be a Python identifier")
        variable, sep, text = str(spec).rpartition(":")
        if not sep or not variable.strip():
            raise MetricError(f"{where}={spec!r}: expected VARIABLE:MEASURE",
                              hint=f"e.g. deterrence_survival:final; measures: {MEASURES}")
        variable = variable.strip()
        if model is not None:
            try:
                variable = model.variable(variable).py_name
            except ParameterError as exc:
                raise MetricError(f"{where}: {exc.message}", path=exc.path,
                                  hint=exc.hint) from None
        key, eq, number = text.strip().partition("=")
        key = key.strip().lower()
        if key in ("at", "recovery"):
            try:
                value = float(number)
            except ValueError:
                value = math.nan
            if not eq or not math.isfinite(value):
                raise MetricError(f"{where}={spec!r}: {key} needs a time, e.g. {key}=10",
                                  hint=f"measures: {MEASURES}")
            return cls(str(name), variable, key, value)
        try:
            measure = _Measure.parse(text)
        except ParameterError as exc:
            raise MetricError(f"{where}={spec!r}: {exc.message}",
                              hint=f"measures: {MEASURES}") from None
        if measure.name == "recovery":  # the sweep table's recovery needs a baseline
            raise MetricError(f"{where}={spec!r}: recovery needs the shock's onset here, "
                              "e.g. recovery=10", hint=f"measures: {MEASURES}")
        return cls(str(name), variable, measure.name, measure.threshold)

    @property
    def spec(self) -> str:
        tail = self.measure if self.value is None else f"{self.measure}={self.value:g}"
        return f"{self.variable}:{tail}"

    def of(self, ds: xr.Dataset) -> np.ndarray:
        """The metric of every run of ``ds`` (dims time and run), as a float array."""
        da = ds[self.variable]
        if "time" not in da.dims:  # a constant is its own value at every time
            da = da.expand_dims(time=ds["time"].values)
        da = da.transpose("time", ...)
        if self.measure == "at":
            times = da["time"].values
            hits = np.flatnonzero(np.isclose(times, self.value))
            if not hits.size:
                raise MetricError(f"metric {self.name}: no saved time at t={self.value:g} "
                                  f"(saved from {times[0]:g} to {times[-1]:g})")
            return np.asarray(da.values[hits[0]], dtype=float)
        if self.measure == "recovery":
            return recovery(da.values, da["time"].values, float(self.value))
        return np.asarray(_Measure(self.measure, self.value).of(da).values, dtype=float)

    def attrs(self, ds: xr.Dataset) -> dict[str, Any]:
        source = ds[self.variable].attrs
        timed = self.measure in ("time_below", "time_above", "recovery")
        units = ds["time"].attrs.get("units", "") if timed else source.get("units", "")
        return {"long_name": f"{self.spec} ({source.get('vensim_name', self.variable)})",
                "units": units, "metric": self.spec}


def recovery(values: np.ndarray, times: np.ndarray, onset: float,
             share: float = RECOVERY_SHARE) -> np.ndarray:
    """Per run (columns of ``values``, rows are ``times``): the time from the largest
    fall below the value at ``onset`` until ``share`` of it has closed. Vectorised."""
    start = int(np.searchsorted(times, onset - 1e-9 * max(1.0, abs(onset))))
    if start >= len(times):
        raise MetricError(f"recovery={onset:g}: the onset is after the horizon "
                          f"(t={times[-1]:g})")
    window = values[start:]
    gap = window[0] - window  # how far below the value at the onset
    widest = np.nanmax(gap, axis=0)
    peak = np.nanargmax(np.where(np.isnan(gap), -np.inf, gap), axis=0)
    after = np.arange(gap.shape[0])[:, None] >= peak[None, :]
    closed = after & (gap <= (1 - share) * widest[None, :])
    found = closed.any(axis=0)
    first = np.argmax(closed, axis=0)
    t = times[start:]
    result = np.where(found, t[first] - t[peak], math.inf)
    return np.where(widest > 0, result, math.nan)


def parse_metrics(specs: Mapping[str, str], model: Any = None) -> dict[str, OutcomeMetric]:
    """``{name: VARIABLE:MEASURE}`` parsed (and resolved against ``model``)."""
    if not specs:
        raise MetricError("experiment.metrics is empty: name at least one metric",
                          hint="e.g. experiment.metrics.survival_50y=deterrence_survival:final")
    return {str(k): OutcomeMetric.parse(str(k), str(v), model) for k, v in specs.items()}


def needed_variables(metrics: Mapping[str, OutcomeMetric]) -> list[str]:
    return list(dict.fromkeys(m.variable for m in metrics.values()))
