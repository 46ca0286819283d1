"""Robustness of policies across futures: regret and the satisficing share.

Under deep uncertainty no policy is best in every future. Two standard measures compare
policies that faced the same sampled futures (the same ``run`` in every policy):

- regret (Savage): in each future, how far a policy falls short of the best policy in
  that future; a robust policy keeps its largest (or mean) regret small;
- satisficing share: in how many futures the outcome meets a threshold (e.g. deterrence
  survival at 50 years at least 0.7), whichever policy does best.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["COLUMNS", "robustness"]

#: What each column of :func:`robustness`'s table holds (also in the table's ``attrs``).
COLUMNS = {
    "mean": "mean of the metric over the futures",
    "p5": "5th percentile over the futures",
    "p50": "median over the futures",
    "p95": "95th percentile over the futures",
    "max_regret": "largest regret over the futures (regret: the best policy's value in "
                  "that future minus this policy's, or this minus the best when smaller "
                  "is better; 0 where this policy is best)",
    "mean_regret": "mean regret over the futures",
    "satisficing": "share of the futures in which the metric meets the threshold",
}


def robustness(metric: xr.DataArray, *, threshold: float,
               larger_is_better: bool = True, strict: bool = False) -> pd.DataFrame:
    """One row per policy: the spread of ``metric`` over futures, its regret, its satisficing.

    ``metric`` has dims (``policy``, ``run``): one value per policy and future, every
    policy facing the same futures. A future meets the threshold when the metric is at
    least ``threshold`` (at most, with ``larger_is_better=False``; above or below it with
    ``strict=True``, as a condition ``survival > 0.7`` says). Rows are sorted from
    the most robust: smallest maximum regret, then largest satisficing share. Columns are
    described in :data:`COLUMNS` and in the table's ``attrs["columns"]``.
    """
    if not isinstance(metric, xr.DataArray):
        raise ValueError(f"metric must be an xarray DataArray with dims (policy, run), got "
                         f"{type(metric).__name__}")
    if set(metric.dims) != {"policy", "run"}:
        raise ValueError(f"metric must have exactly the dims (policy, run), got "
                         f"{tuple(map(str, metric.dims))}; select or reduce the others first")
    if not isinstance(threshold, int | float) or not math.isfinite(threshold):
        raise ValueError(f"threshold must be a finite number, got {threshold!r}")
    values = metric.transpose("policy", "run").values.astype(float)
    if values.shape[0] == 0 or values.shape[1] == 0:
        raise ValueError(f"metric has {values.shape[0]} policies and {values.shape[1]} "
                         "futures; robustness needs at least one of each")
    bad = ~np.isfinite(values)
    if bad.any():
        p, r = np.unravel_index(int(np.argmax(bad)), bad.shape)
        raise ValueError(f"metric is not finite in {int(bad.sum())} (policy, run) cells, "
                         f"first at policy {_labels(metric)[p]!r}, run {r}")
    if larger_is_better:
        regret = values.max(axis=0, keepdims=True) - values
        meets = values > threshold if strict else values >= threshold
    else:
        regret = values - values.min(axis=0, keepdims=True)
        meets = values < threshold if strict else values <= threshold
    p5, p50, p95 = np.percentile(values, [5, 50, 95], axis=1)
    table = pd.DataFrame({
        "mean": values.mean(axis=1), "p5": p5, "p50": p50, "p95": p95,
        "max_regret": regret.max(axis=1), "mean_regret": regret.mean(axis=1),
        "satisficing": meets.mean(axis=1)}, index=pd.Index(_labels(metric), name="policy"))
    table = table.sort_values(["max_regret", "satisficing"], ascending=[True, False],
                              kind="stable")
    table.attrs.update({
        "metric": str(metric.name) if metric.name is not None else "metric",
        "threshold": float(threshold), "larger_is_better": bool(larger_is_better),
        "strict": bool(strict),
        "futures": int(values.shape[1]), "columns": dict(COLUMNS)})
    return table


def _labels(metric: xr.DataArray) -> list[str]:
    if "policy" in metric.coords:
        return [str(p) for p in metric["policy"].values]
    return [str(i) for i in range(metric.sizes["policy"])]
