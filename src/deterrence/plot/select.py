"""What a figure shows: its variables, the dimension drawn as lines, the baseline.

Every check of the user's choices against the Dataset happens here, before anything is
drawn, so a wrong name costs a one-line message and no half-made figure.  The defaults
are generic: the variables come from the Dataset's ``key_outputs`` attribute (the
experiments write the model's own), else the first few time-varying ones.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from ..names import close_matches
from ..results import key_outputs
from .errors import (
    DimensionNotFoundError,
    LabelNotFoundError,
    PlotInputError,
    VariableNotFoundError,
    dims_text,
    names_text,
    source_of,
)
from .style import fmt, normalise

TIME = "time"
RUN = "run"
DEFAULT_BY = "scenario"
DEFAULT_BASELINE = "baseline"
#: Without key outputs, this many time-varying variables are drawn.
MAX_DEFAULT_VARS = 6
#: A non-grid multirun with at most this many runs is drawn one line per run; more runs
#: are treated as an ensemble and summarised by the median.
MULTIRUN_MAX_LINES = 12


def require_time(ds: xr.Dataset) -> None:
    """Every figure here is drawn over time: refuse results without it."""
    if TIME not in ds.dims:
        raise DimensionNotFoundError(
            f"{source_of(ds)} has no {TIME!r} dimension to draw over; dimensions: {dims_text(ds)}"
        )


def time_varying(ds: xr.Dataset) -> list[str]:
    """The variables that can be drawn as lines (constants have no time)."""
    return [str(n) for n, v in ds.data_vars.items() if TIME in v.dims]


def resolve_var(ds: xr.Dataset, name: str) -> str:
    """Find a variable by its Python-safe name, or by its Vensim name as a courtesy."""
    if name in ds.data_vars:
        return name
    wanted = normalise(name)
    for key, var in ds.data_vars.items():
        if wanted in (normalise(str(key)), normalise(str(var.attrs.get("vensim_name", "")))):
            return str(key)
    names = [str(n) for n in ds.data_vars]
    close = close_matches(name, names, n=3, cutoff=0.6)
    hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
    raise VariableNotFoundError(
        f"variable {name!r} not in {source_of(ds)}{hint}; available: {names_text(names)}"
    )


def split_names(vars: Iterable[str]) -> list[str]:
    """Accept ``["a", "b"]`` as well as ``["a,b"]`` (the command line allows both)."""
    return [part.strip() for item in vars for part in str(item).split(",") if part.strip()]


def select_vars(ds: xr.Dataset, vars: Sequence[str] | str | None) -> list[str]:
    """The variables to draw: those named, else the key outputs, else the first few."""
    if isinstance(vars, str):
        vars = [vars]
    wanted = split_names(vars) if vars else []
    if not wanted:
        present = [v for v in key_outputs(ds) if v in ds.data_vars and TIME in ds[v].dims]
        chosen = present or time_varying(ds)[:MAX_DEFAULT_VARS]
        if not chosen:
            raise PlotInputError(
                f"{source_of(ds)} holds no time-varying variable to draw; "
                f"variables: {names_text(ds.data_vars)}; dimensions: {dims_text(ds)}"
            )
        return chosen
    chosen = []
    for item in wanted:
        name = resolve_var(ds, item)
        if TIME not in ds[name].dims:
            raise PlotInputError(
                f"variable {name!r} in {source_of(ds)} has no {TIME!r} dimension (a constant), "
                f"so it cannot be drawn over time; time-varying variables: "
                f"{names_text(time_varying(ds))}"
            )
        if name not in chosen:
            chosen.append(name)
    return chosen


@dataclass
class Frame:
    """What a line plot needs: arrays ordered (by?, kept?, time), labels and notes."""

    arrays: dict[str, xr.DataArray]
    by: str | None
    values: list[Any] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    numeric: bool = False
    notes: list[str] = field(default_factory=list)


def _run_parameters(ds: xr.Dataset) -> list[str]:
    """What tells the runs apart: coordinates along ``run`` (a merged multirun), else the
    constants that vary from run to run (an ensemble of a few parameter sets)."""
    coords = [str(c) for c in ds.coords if c != RUN and ds[c].dims == (RUN,)]
    if coords:
        return coords
    varying = [str(n) for n, v in ds.data_vars.items() if v.dims == (RUN,)
               and v.size > 1 and not bool((v == v.isel({RUN: 0})).all())]
    return varying if len(varying) <= 3 else []


def _is_multirun(ds: xr.Dataset) -> bool:
    """``run`` told apart by parameters (see above), few enough to draw one line each."""
    if RUN not in ds.dims or ds.sizes[RUN] > MULTIRUN_MAX_LINES:
        return False
    return bool(_run_parameters(ds))


def _resolve_by(
    ds: xr.Dataset, extra: list[str], by: str | None, *, keep: str | None
) -> str | None:
    """The dimension drawn as one line per label.

    An explicit dimension must exist.  ``None`` or the default ``"scenario"`` when the
    results have no scenario dimension pick the only swept dimension, if there is one.
    """
    if by is not None and by in ds.dims:
        if by == TIME:
            raise PlotInputError(f"by={TIME!r} is the x axis; choose one of {dims_text(ds)}")
        if by == keep:
            raise PlotInputError(
                f"by={by!r} is the dimension the bands are taken over; "
                f"choose another of: {dims_text(ds)}"
            )
        return by
    if by is not None and by != DEFAULT_BY:
        raise DimensionNotFoundError(
            f"dimension {by!r} not in {source_of(ds)}; dimensions: {dims_text(ds)}"
        )
    swept = [d for d in extra if d not in (RUN, keep)]
    if len(swept) == 1:
        return swept[0]
    if len(swept) > 1:
        raise PlotInputError(
            f"{source_of(ds)} varies along several dimensions ({names_text(swept)}); choose "
            f"the one drawn as lines with by=... (--by) and select the others first; "
            f"dimensions: {dims_text(ds)}"
        )
    if keep is None and RUN in extra and _is_multirun(ds):
        return RUN
    return None


def _label_values(ds: xr.Dataset, by: str) -> tuple[list[Any], list[str], bool]:
    """Raw coordinate values, display labels, and whether the labels are numbers."""
    coord = ds[by]
    values = list(coord.values)
    if by == RUN:
        extras = _run_parameters(ds)
        if extras:
            labels = [
                ", ".join(f"{c}={fmt(ds[c].values[i])}" for c in extras)
                for i in range(len(values))
            ]
            return values, labels, False
        return values, [f"run {fmt(v)}" for v in values], False
    numeric = coord.dtype.kind in "iuf" and by in ds.coords
    return values, [fmt(v) for v in values], numeric


#: Dataset attributes the experiments write for what a job ran under (named on figures
#: when they are not a dimension)
RUN_LABELS = ("scenario", "policy")
#: Dataset attribute: how many labels each dimension fixed by :func:`fix_other_dims` had
FIXED_OF = "fixed_of"


def fix_other_dims(ds: xr.Dataset, keep: Sequence[str]) -> xr.Dataset:
    """The first label of every swept dimension not in ``keep``, and a record of it, so
    the figure says which label it shows and out of how many (it never hides data)."""
    picks = {str(d): 0 for d in ds.dims if d != TIME and d not in keep}
    if not picks:
        return ds
    fixed = ds.isel(picks)
    counts = dict(_fixed_counts(ds), **{d: int(ds.sizes[d]) for d in picks})
    fixed.attrs[FIXED_OF] = ",".join(f"{d}:{n}" for d, n in counts.items())
    return fixed


def _fixed_counts(ds: xr.Dataset) -> dict[str, int]:
    text = str(ds.attrs.get(FIXED_OF, ""))
    return {d: int(n) for d, _, n in (item.partition(":") for item in text.split(",") if item)
            if n.isdigit()}


def fixed_coords(ds: xr.Dataset) -> list[str]:
    """Labels fixed before drawing (``scenario = leadership_change`` after a selection),
    with how many there were when :func:`fix_other_dims` chose them."""
    counts = _fixed_counts(ds)
    notes = [f"{key} = {ds.attrs[key]}" for key in RUN_LABELS  # what one job ran under
             if key not in ds.dims and key not in ds.coords and ds.attrs.get(key)
             and not (key == "policy" and ds.attrs[key] == "status_quo")]
    for c in ds.coords:
        if ds[c].ndim == 0 and c not in (TIME, RUN):
            label = f"{c} = {fmt(ds[c].values.item())}"
            n = counts.get(str(c), 1)
            notes.append(f"only {label} shown, 1 of {n}" if n > 1 else label)
    return notes


def prepare(
    ds: xr.Dataset,
    vars: Sequence[str] | str | None,
    by: str | None,
    *,
    purpose: str,
    keep: str | None = None,
) -> Frame:
    """Choose variables and the line dimension, and reduce or refuse every other dim."""
    require_time(ds)
    names = select_vars(ds, vars)
    extra: list[str] = []
    for name in names:
        extra.extend(str(d) for d in ds[name].dims if d != TIME and d not in extra)
    by_dim = _resolve_by(ds, extra, by, keep=keep)
    notes: list[str] = fixed_coords(ds)
    arrays = {name: ds[name] for name in names}
    leftover = [d for d in extra if d not in (by_dim, keep)]
    refused = []
    for dim in leftover:
        size = ds.sizes[dim]
        if size == 1:
            arrays = {n: a.isel({dim: 0}) if dim in a.dims else a for n, a in arrays.items()}
        elif dim == RUN:
            # An ensemble in a line plot: the median is the one line a reader can follow.
            arrays = {n: a.median(RUN) if RUN in a.dims else a for n, a in arrays.items()}
            notes.append(f"median of {size} runs")
        else:
            refused.append(dim)
    if refused:
        lines = f"one line per {by_dim!r} label" if by_dim else "one line per panel"
        raise PlotInputError(
            f"the {purpose} draws {lines}, but {source_of(ds)} also varies along "
            f"{names_text(refused)}; pick the dimension for the lines with by=... (--by) "
            f"and select one value of the others first (e.g. ds.sel({refused[0]}=...)); "
            f"dimensions: {dims_text(ds)}"
        )
    order = [d for d in (by_dim, keep) if d is not None]
    for name, arr in arrays.items():
        for dim in order:
            if dim not in arr.dims:
                arr = arr.expand_dims({dim: ds.sizes[dim]})
        arrays[name] = arr.transpose(*order, TIME)
    frame = Frame(arrays=arrays, by=by_dim, notes=notes)
    if by_dim is not None:
        frame.values, frame.labels, frame.numeric = _label_values(ds, by_dim)
    return frame


def find_label(frame: Frame, wanted: Any) -> int | None:
    """Index of a label given as text or as a number, or None."""
    for i, (value, label) in enumerate(zip(frame.values, frame.labels, strict=True)):
        if fmt(value) == str(wanted) or label == str(wanted):
            return i
        with contextlib.suppress(TypeError, ValueError):
            if float(value) == float(wanted):
                return i
    return None


def resolve_baseline(
    ds: xr.Dataset, frame: Frame, baseline: str | None, *, required: bool
) -> int | None:
    """Index of the baseline label; the default label may be absent unless required."""
    if frame.by is None:
        if required:
            raise PlotInputError(
                f"a difference from the baseline needs a dimension of labels (e.g. "
                f"{DEFAULT_BY!r}) to subtract from; {source_of(ds)} has dimensions: "
                f"{dims_text(ds)}"
            )
        return None
    if baseline is None and not required:
        return None
    wanted = DEFAULT_BASELINE if baseline is None else baseline
    index = find_label(frame, wanted)
    if index is None and (required or wanted != DEFAULT_BASELINE):
        raise LabelNotFoundError(
            f"baseline label {wanted!r} not found along {frame.by!r} in {source_of(ds)}; "
            f"labels: {names_text(frame.labels)}"
        )
    return index


def default_outcome(ds: xr.Dataset) -> str:
    """The policy map's default outcome: ``attrs["default_outcome"]``, else the first key
    output; both are the model's to name (the experiments write them), not the plots'."""
    named = ds.attrs.get("default_outcome")
    for name in ([str(named)] if named else []) + key_outputs(ds):
        if name in ds.data_vars:
            return name
    raise PlotInputError(
        f"choose the map's outcome with outcome=... (--outcome); variables in "
        f"{source_of(ds)}: {names_text(ds.data_vars)}"
    )


def default_map_dims(ds: xr.Dataset, x: str | None, y: str | None) -> tuple[str, str]:
    """The map's two axes: those named, else the only two swept dimensions."""
    swept = [str(d) for d in ds.dims if d not in (TIME, RUN)]
    missing = [d for d in (x, y) if d is not None and d not in ds.dims]
    if missing:
        raise DimensionNotFoundError(
            f"dimension {missing[0]!r} not in {source_of(ds)}; dimensions: {dims_text(ds)}"
        )
    free = [d for d in swept if d not in (x, y)]
    if x is None and y is None and len(swept) == 2:
        return swept[0], swept[1]
    if x is not None and y is None and len(free) == 1:
        return x, free[0]
    if y is not None and x is None and len(free) == 1:
        return free[0], y
    if x is not None and y is not None:
        return x, y
    raise PlotInputError(
        f"choose the map's two swept dimensions with x=... and y=... (--x, --y); "
        f"{source_of(ds)} has dimensions: {dims_text(ds)}"
    )


def select_labels(ds: xr.Dataset, sel: Sequence[str]) -> xr.Dataset:
    """Apply ``"dim=label"`` selections, reading the label with the coordinate's type."""
    picks: dict[str, Any] = {}
    for item in sel:
        dim, sep, text = item.partition("=")
        dim = dim.strip()
        if not sep or not dim:
            raise PlotInputError(f"--sel {item!r}: expected DIM=LABEL, e.g. scenario=baseline")
        if dim not in ds.dims:
            raise DimensionNotFoundError(
                f"--sel {item!r}: no dimension {dim!r} in {source_of(ds)}; {dims_text(ds)}")
        labels = ds[dim].values
        value: Any = text.strip()
        if labels.dtype.kind in "iuf":
            try:
                value = float(value)
            except ValueError:
                raise PlotInputError(f"--sel {item!r}: {dim} labels are numbers") from None
            matches = np.flatnonzero(np.isclose(labels.astype(float), value))
            if not matches.size:
                raise LabelNotFoundError(f"--sel {item!r}: {value:g} not among {dim} labels "
                                         f"{names_text(labels.tolist())}")
            value = labels[matches[0]]
        elif value not in labels.tolist():
            raise LabelNotFoundError(f"--sel {item!r}: {value!r} not among {dim} labels "
                                     f"{names_text(labels.tolist())}")
        picks[dim] = value
    return ds.sel(picks) if picks else ds
