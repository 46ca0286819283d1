"""One entry per plot kind, and a results file to a saved figure.

The command line and the multirun callbacks both come through here, so a figure drawn
either way is the same figure.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import xarray as xr
from matplotlib.figure import Figure

from ..analysis import ensembles, outputs
from ..results import read_results
from .discovery import prim_box, prim_tradeoff, robustness_bars
from .errors import PlotInputError
from .fans import fan_chart
from .maps import policy_map
from .outcomes import outcome_distribution
from .save import save_figure
from .select import (
    DEFAULT_BASELINE,
    DEFAULT_BY,
    default_map_dims,
    default_outcome,
    select_labels,
    split_names,
)
from .sensitivity import sensitivity_figure
from .series import difference_from_baseline, scenario_comparison

KINDS = ("compare", "diff", "fan", "map", "sensitivity", "tornado", "outcomes",
         "robustness", "prim", "prim_box")
#: What each kind draws, for ``--help``.
KIND_HELP = {
    "compare": "lines per label",
    "diff": "difference from the baseline",
    "fan": "ensemble bands over 'run'",
    "map": "an outcome over two swept levers",
    "sensitivity": "Sobol index bars of every outcome (sensitivity.nc)",
    "tornado": "the parameters ranked by their influence on one outcome (sensitivity.nc: "
               "Sobol, Morris or feature scores)",
    "outcomes": "an uncertainty run's metric over its futures, one distribution per "
                "policy (metrics.zarr or the run folder)",
    "robustness": "policies' satisficing share, regret and spread (metrics.zarr, the "
                  "run folder or robustness.csv)",
    "prim": "PRIM's trade-off of coverage against density (prim.csv)",
    "prim_box": "PRIM's chosen box (prim.csv; --box N for another)",
}
#: What each kind reads, as :data:`deterrence.analysis.outputs.CONTENTS` names it.
READS: dict[str, tuple[str, ...]] = {
    "compare": ("series",), "diff": ("series",), "fan": ("series",), "map": ("series",),
    "sensitivity": ("indices",), "tornado": ("indices",), "outcomes": ("metrics",),
    "robustness": ("metrics", "robustness"), "prim": ("prim",), "prim_box": ("prim",)}
#: The kind drawn from each content when ``--kind`` is not given.
DEFAULT_KIND = {"series": "compare", "indices": "tornado", "metrics": "outcomes",
                "prim": "prim", "robustness": "robustness"}


def make_figure(
    ds: Any,
    kind: str = "compare",
    *,
    vars: Sequence[str] | str | None = None,
    by: str | None = None,
    baseline: str | None = None,
    x: str | None = None,
    y: str | None = None,
    outcome: str | None = None,
    reduce: str = "final",
    box: int | None = None,
) -> Figure:
    """One entry for every plot kind, shared by the command line and multirun callbacks.

    ``ds`` is what the kind draws (:data:`READS`): a Dataset of time series, of
    sensitivity indices or of per-run metrics (dims policy x run), a robustness table
    (DataFrame) or PRIM's boxes. ``None`` means "not given": the defaults of each kind
    apply.
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
    if kind in ("sensitivity", "tornado"):
        return sensitivity_figure(ds, kind, _one(vars, outcome, kind))
    if kind == "outcomes":
        return outcome_distribution(ds, _one(vars, outcome, kind))
    if kind == "robustness":
        if isinstance(ds, xr.Dataset):
            ds = outputs.robustness_of(ds, _one(vars, outcome, kind), PlotInputError)
        return robustness_bars(ds)
    if kind == "prim":
        return prim_tradeoff(ds)
    if kind == "prim_box":
        return prim_box(ds, box)
    if outcome is None:
        named = split_names([vars] if isinstance(vars, str) else vars or [])
        if len(named) > 1:
            raise PlotInputError(
                f"a policy map shows one outcome; got {len(named)} variables ({', '.join(named)})"
            )
        outcome = named[0] if named else default_outcome(ds)
    x, y = default_map_dims(ds, x, y)
    return policy_map(ds, outcome, x, y, reduce=reduce)


def _one(vars: Sequence[str] | str | None, outcome: str | None, kind: str) -> str | None:
    """The one outcome a kind draws, named with --outcome or a single --vars."""
    named = split_names([vars] if isinstance(vars, str) else vars or [])
    if outcome is not None:
        named = [outcome, *[n for n in named if n != outcome]]
    if len(named) > 1:
        raise PlotInputError(f"--kind {kind} draws one outcome; got {len(named)} "
                             f"({', '.join(named)})", hint="name one with --outcome")
    return named[0] if named else None


def plot_command(
    results: str | os.PathLike[str],
    vars: Sequence[str] | None = None,
    by: str | None = None,
    baseline: str | None = None,
    out: str | os.PathLike[str] | None = None,
    kind: str | None = None,
    *,
    x: str | None = None,
    y: str | None = None,
    outcome: str | None = None,
    reduce: str = "final",
    sel: Sequence[str] = (),
    box: int | None = None,
) -> Path:
    """``deterrence plot``: read a results file (or a run folder), draw one figure, save
    it, return its path.

    Without ``kind``, the kind is chosen from what the file holds (:data:`DEFAULT_KIND`);
    a run folder gives the file of the kind (``metrics.zarr`` for ``outcomes``,
    ``sensitivity.nc`` for ``tornado``, ...), by default its per-run metrics. Without
    ``out`` the figure goes next to the results as ``<stem>_<kind>.png``. ``sel`` picks
    one label of other dimensions, as ``"dim=label"`` strings.
    """
    path = Path(results)
    if not path.exists():
        raise FileNotFoundError(f"results file not found: {path}")
    if kind is not None and kind not in KINDS:
        raise PlotInputError(f"unknown plot kind {kind!r}; choose one of {', '.join(KINDS)}")
    path, holds = _source(path, kind)
    kind = kind or DEFAULT_KIND[holds]
    data = _read(path, holds)
    if isinstance(data, xr.Dataset):
        data.encoding.setdefault("source", str(path))
        data = select_labels(data, sel)
    elif sel:
        raise PlotInputError(f"--sel: {path.name} is a table, not labelled results; "
                             "--sel applies to .nc files and metrics.zarr")
    fig = make_figure(data, kind, vars=vars, by=by, baseline=baseline, x=x, y=y,
                      outcome=outcome, reduce=reduce, box=box)
    target = Path(out) if out is not None else path.with_name(f"{path.stem}_{kind}.png")
    return save_figure(fig, target)


def _source(path: Path, kind: str | None) -> tuple[Path, str]:
    """The file to read and what it holds, checked against ``kind``."""
    holds = outputs.identify(path, PlotInputError)
    if holds == "folder":
        wanted = READS[kind] if kind else ("metrics", "series")
        path = outputs.find(path, wanted, f"--kind {kind}" if kind else "", PlotInputError)
        holds = outputs.identify(path, PlotInputError)
    if kind is not None and holds not in READS[kind]:
        fits = [k for k in KINDS if holds in READS[k]]
        raise PlotInputError(f"--kind {kind} draws "
                             f"{' or '.join(outputs.CONTENTS[c] for c in READS[kind])}; "
                             f"{path.name} holds {outputs.CONTENTS[holds]}",
                             hint=f"for this file choose --kind {', '.join(fits)}")
    return path, holds


def _read(path: Path, holds: str) -> Any:
    """What the kinds reading ``holds`` draw, from ``path``."""
    if holds == "metrics":
        return ensembles.read_metrics(path, PlotInputError)
    if holds == "prim":
        return outputs.read_prim(path, PlotInputError)
    if holds == "robustness":
        return outputs.read_robustness(path)
    ds = _read_results(path)
    if holds == "indices":
        ds.attrs.update(_recorded(path))
    return ds


def _recorded(path: Path) -> dict[str, str]:
    """The failure metric of the run beside ``sensitivity.nc``: its tornado's default."""
    try:
        ds = ensembles.read_metrics(path.parent, PlotInputError)
    except (PlotInputError, OSError):
        return {}
    return {"primary_outcome": ensembles.primary_metric(ds)}


def _read_results(path: Path) -> xr.Dataset:
    """The whole results file, or a one-line error naming it (truncated, not NetCDF)."""
    return read_results(path, error=PlotInputError)
