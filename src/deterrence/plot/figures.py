"""One entry per plot kind, and a results file to a saved figure.

The command line and the multirun callbacks both come through here, so a figure drawn
either way is the same figure.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import xarray as xr
from matplotlib.figure import Figure

from ..results import read_results
from .errors import PlotInputError
from .fans import fan_chart
from .maps import policy_map
from .save import save_figure
from .select import (
    DEFAULT_BASELINE,
    DEFAULT_BY,
    default_map_dims,
    default_outcome,
    select_labels,
    split_names,
)
from .sensitivity import sensitivity_bars
from .series import difference_from_baseline, scenario_comparison

KINDS = ("compare", "diff", "fan", "map", "sensitivity")


def make_figure(
    ds: xr.Dataset,
    kind: str = "compare",
    *,
    vars: Sequence[str] | str | None = None,
    by: str | None = None,
    baseline: str | None = None,
    x: str | None = None,
    y: str | None = None,
    outcome: str | None = None,
    reduce: str = "final",
) -> Figure:
    """One entry for every plot kind, shared by the command line and multirun callbacks.

    ``None`` means "not given": the defaults of each kind apply.
    """
    if kind not in KINDS:
        raise PlotInputError(f"unknown plot kind {kind!r}; choose one of {', '.join(KINDS)}")
    base = DEFAULT_BASELINE if baseline is None else baseline
    if kind == "compare":
        return scenario_comparison(ds, vars, DEFAULT_BY if by is None else by, base)
    if kind == "diff":
        return difference_from_baseline(ds, vars, DEFAULT_BY if by is None else by, base)
    if kind == "fan":
        return fan_chart(ds, vars, by, baseline=base)
    if kind == "sensitivity":
        return sensitivity_bars(ds)
    if outcome is None:
        named = split_names([vars] if isinstance(vars, str) else vars or [])
        if len(named) > 1:
            raise PlotInputError(
                f"a policy map shows one outcome; got {len(named)} variables ({', '.join(named)})"
            )
        outcome = named[0] if named else default_outcome(ds)
    x, y = default_map_dims(ds, x, y)
    return policy_map(ds, outcome, x, y, reduce=reduce)


def plot_command(
    results: str | os.PathLike[str],
    vars: Sequence[str] | None = None,
    by: str | None = None,
    baseline: str | None = None,
    out: str | os.PathLike[str] | None = None,
    kind: str = "compare",
    *,
    x: str | None = None,
    y: str | None = None,
    outcome: str | None = None,
    reduce: str = "final",
    sel: Sequence[str] = (),
) -> Path:
    """``deterrence plot``: read a results file, draw one figure, save it, return its path.

    Without ``out`` the figure goes next to the results as ``<stem>_<kind>.png``.
    ``sel`` picks one label of other swept dimensions, as ``"dim=label"`` strings.
    """
    path = Path(results)
    if not path.is_file():
        raise FileNotFoundError(f"results file not found: {path}")
    ds = _read_results(path)
    ds.encoding.setdefault("source", str(path))
    ds = select_labels(ds, sel)
    fig = make_figure(
        ds, kind, vars=vars, by=by, baseline=baseline, x=x, y=y, outcome=outcome, reduce=reduce
    )
    target = Path(out) if out is not None else path.with_name(f"{path.stem}_{kind}.png")
    return save_figure(fig, target)


def _read_results(path: Path) -> xr.Dataset:
    """The whole results file, or a one-line error naming it (truncated, not NetCDF)."""
    return read_results(path, error=PlotInputError)
