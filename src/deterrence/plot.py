"""Briefing-ready pictures of deterrence results.

Results are read as pictures: an analyst compares scenarios, sees how far each one
departs from the baseline, how wide an ensemble spreads, and where in a grid of policy
levers deterrence holds.  This module draws those four kinds of figure from the xarray
Datasets that the engine and the experiments write.  It never imports the engine, so any
saved NetCDF file can be plotted on its own, and single runs, multiruns and the command
line all go through the same functions.

Dataset conventions read here:

* dim ``time``, whose coordinate carries ``units`` (e.g. ``"Year"``);
* optional dim ``run``: ensemble members, or a multirun that is not a grid, whose
  overrides are then non-index coordinates along ``run``;
* one dim per swept key, e.g. ``scenario`` or ``policy`` (string labels) or a numeric
  lever such as ``joint_exercise_intensity``;
* data variables with attrs ``units``, ``long_name`` and ``vensim_name``; variables
  without ``time`` are constants and are never drawn as lines;
* optional Dataset attr ``shock_windows``: JSON mapping a scenario label to a list of
  ``[start, end, label]`` windows, shaded in that scenario's colour.

Every public function returns a :class:`matplotlib.figure.Figure` built without pyplot,
so nothing piles up in pyplot's global registry when a multirun callback draws many
figures and no window ever opens; :func:`save_figure` writes through the Agg canvas.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import re
import textwrap
import warnings
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize, to_rgb, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from .errors import ModelError
from .files import atomic_write
from .names import close_matches

__all__ = [
    "BASELINE_COLOR",
    "DEFAULT_BASELINE",
    "DEFAULT_BY",
    "KEY_OUTPUTS",
    "KINDS",
    "PALETTE",
    "REDUCTIONS",
    "SUFFIXES",
    "DimensionNotFoundError",
    "LabelNotFoundError",
    "MissingRunDimensionError",
    "PlotInputError",
    "VariableNotFoundError",
    "add_arguments",
    "default_outcome",
    "difference_from_baseline",
    "fan_chart",
    "make_figure",
    "plain",
    "plot_command",
    "policy_map",
    "run_from_args",
    "save_figure",
    "scenario_comparison",
    "select_labels",
    "sensitivity_bars",
]

TIME = "time"
RUN = "run"
DEFAULT_BY = "scenario"
DEFAULT_BASELINE = "baseline"
#: The alliance model's key outputs, drawn when no variables are named.
KEY_OUTPUTS = (
    "adversary_risk_estimate",
    "hazard_of_aggression",
    "deterrence_survival",
    "mutual_trust",
    "perceived_commitment",
    "crisis_tension",
)
MAX_DEFAULT_VARS = 6
KINDS = ("compare", "diff", "fan", "map", "sensitivity")
REDUCTIONS = ("final", "initial", "min", "max", "mean")
SUFFIXES = (".png", ".svg", ".pdf")

#: Okabe-Ito (Wong 2011) without black, which is kept for the baseline.  Yellow goes last:
#: it is the weakest on white, so it is only used once seven other labels are drawn.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442")
BASELINE_COLOR = "#000000"
#: After the palette runs out, lines repeat the colours with another dash pattern.
_DASHES: tuple[Any, ...] = ("-", (0, (5, 2)), (0, (1, 1.5)), (0, (6, 2, 1, 2)))
_BASELINE_DASH = (0, (4, 1.6))
#: A non-grid multirun with at most this many runs is drawn one line per run; more runs
#: are treated as an ensemble and summarised by the median.
_MULTIRUN_MAX_LINES = 12
_BRIEFING_SIZE = (12.0, 7.0)
_SUBTITLE_SIZE = 9.0
_STYLE: dict[str, Any] = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10.5,
    "legend.title_fontsize": 11,
    "figure.titlesize": 14,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "axes.titlelocation": "left",
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
}


# --------------------------------------------------------------------------- errors


class PlotInputError(ModelError, ValueError):
    """Input the plots cannot use; the message says what the results do hold.

    A :class:`~deterrence.errors.ModelError` (one line on the command line) and, as
    before, a ``ValueError``.
    """


class _PlotLookupError(PlotInputError, KeyError):
    """Also a KeyError, so ``except KeyError`` callers work; printed without quotes."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class VariableNotFoundError(_PlotLookupError):
    """A named variable is not in the results."""


class DimensionNotFoundError(_PlotLookupError):
    """A named dimension is not in the results."""


class LabelNotFoundError(_PlotLookupError):
    """A label (e.g. the baseline) is not along the chosen dimension."""


class MissingRunDimensionError(PlotInputError):
    """A fan chart was asked of results without ensemble members."""


# --------------------------------------------------------------------------- naming


def _source(ds: xr.Dataset) -> str:
    """The file the Dataset came from, for error messages."""
    src = ds.encoding.get("source")
    return Path(src).name if src else "the results"


def _dims_text(ds: xr.Dataset) -> str:
    return ", ".join(f"{d} ({n})" for d, n in ds.sizes.items()) or "(none)"


def _names_text(names: Iterable[Hashable]) -> str:
    listed = ", ".join(str(n) for n in names)
    return listed or "(none)"


def _normalise(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def _pretty(name: Hashable) -> str:
    """``joint_exercise_intensity`` -> ``Joint exercise intensity``."""
    text = str(name).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _fmt(value: Any) -> str:
    """A coordinate value as a short label."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | str):
        return str(value)
    if isinstance(value, int | float):
        return f"{value:g}"
    return str(value)


def _units(obj: xr.DataArray) -> str:
    return " ".join(str(obj.attrs.get("units", "")).split())


def _units_text(units: str) -> str:
    """Vensim's ``Dmnl`` spelled out, since a briefing audience will not know it."""
    return "Dmnl, dimensionless" if units.lower() == "dmnl" else units


def _short_title(name: str, da: xr.DataArray) -> str:
    vensim = " ".join(str(da.attrs.get("vensim_name", "")).split())
    return vensim or _pretty(name)


def plain(text: Any) -> str:
    """Text from a model or dataset, drawn as written rather than parsed as mathtext.

    Matplotlib reads a pair of ``$`` as TeX-like math, so a name or documentation with
    ``$^^$`` would stop a figure. Escaping each ``$`` is the only change.
    """
    return str(text).replace("$", r"\$")


def _close_matches(word: str, options: Sequence[str]) -> list[str]:
    return close_matches(word, options, n=3, cutoff=0.6)


# --------------------------------------------------------------------------- variables


def _require_time(ds: xr.Dataset) -> None:
    if TIME not in ds.dims:
        raise DimensionNotFoundError(
            f"{_source(ds)} has no {TIME!r} dimension to draw over; dimensions: {_dims_text(ds)}"
        )


def _time_varying(ds: xr.Dataset) -> list[str]:
    return [str(n) for n, v in ds.data_vars.items() if TIME in v.dims]


def _resolve_var(ds: xr.Dataset, name: str) -> str:
    """Find a variable by its Python-safe name, or by its Vensim name as a courtesy."""
    if name in ds.data_vars:
        return name
    wanted = _normalise(name)
    for key, var in ds.data_vars.items():
        if wanted in (_normalise(str(key)), _normalise(str(var.attrs.get("vensim_name", "")))):
            return str(key)
    names = [str(n) for n in ds.data_vars]
    close = _close_matches(name, names)
    hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
    raise VariableNotFoundError(
        f"variable {name!r} not in {_source(ds)}{hint}; available: {_names_text(names)}"
    )


def _split_names(vars: Iterable[str]) -> list[str]:
    """Accept ``["a", "b"]`` as well as ``["a,b"]`` (the command line allows both)."""
    return [part.strip() for item in vars for part in str(item).split(",") if part.strip()]


def _select_vars(ds: xr.Dataset, vars: Sequence[str] | str | None) -> list[str]:
    """The variables to draw: those named, else the key outputs, else the first few."""
    if isinstance(vars, str):
        vars = [vars]
    wanted = _split_names(vars) if vars else []
    if not wanted:
        present = [v for v in KEY_OUTPUTS if v in ds.data_vars and TIME in ds[v].dims]
        chosen = present or _time_varying(ds)[:MAX_DEFAULT_VARS]
        if not chosen:
            raise PlotInputError(
                f"{_source(ds)} holds no time-varying variable to draw; "
                f"variables: {_names_text(ds.data_vars)}; dimensions: {_dims_text(ds)}"
            )
        return chosen
    chosen = []
    for item in wanted:
        name = _resolve_var(ds, item)
        if TIME not in ds[name].dims:
            raise PlotInputError(
                f"variable {name!r} in {_source(ds)} has no {TIME!r} dimension (a constant), "
                f"so it cannot be drawn over time; time-varying variables: "
                f"{_names_text(_time_varying(ds))}"
            )
        if name not in chosen:
            chosen.append(name)
    return chosen


# --------------------------------------------------------------------------- frames


@dataclass
class _Frame:
    """What a line plot needs: arrays ordered (by?, kept?, time), labels and notes."""

    arrays: dict[str, xr.DataArray]
    by: str | None
    values: list[Any] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    numeric: bool = False
    notes: list[str] = field(default_factory=list)


def _is_multirun(ds: xr.Dataset) -> bool:
    """``run`` carrying overrides as coordinates, few enough to draw one line each."""
    if RUN not in ds.dims or ds.sizes[RUN] > _MULTIRUN_MAX_LINES:
        return False
    return any(c != RUN and ds[c].dims == (RUN,) for c in ds.coords)


def _resolve_by(
    ds: xr.Dataset, extra: list[str], by: str | None, *, keep: str | None
) -> str | None:
    """The dimension drawn as one line per label.

    An explicit dimension must exist.  ``None`` or the default ``"scenario"`` when the
    results have no scenario dimension pick the only swept dimension, if there is one.
    """
    if by is not None and by in ds.dims:
        if by == TIME:
            raise PlotInputError(f"by={TIME!r} is the x axis; choose one of {_dims_text(ds)}")
        if by == keep:
            raise PlotInputError(
                f"by={by!r} is the dimension the bands are taken over; "
                f"choose another of: {_dims_text(ds)}"
            )
        return by
    if by is not None and by != DEFAULT_BY:
        raise DimensionNotFoundError(
            f"dimension {by!r} not in {_source(ds)}; dimensions: {_dims_text(ds)}"
        )
    swept = [d for d in extra if d not in (RUN, keep)]
    if len(swept) == 1:
        return swept[0]
    if len(swept) > 1:
        raise PlotInputError(
            f"{_source(ds)} varies along several dimensions ({_names_text(swept)}); choose "
            f"the one drawn as lines with by=... (--by) and select the others first; "
            f"dimensions: {_dims_text(ds)}"
        )
    if keep is None and RUN in extra and _is_multirun(ds):
        return RUN
    return None


def _label_values(ds: xr.Dataset, by: str) -> tuple[list[Any], list[str], bool]:
    """Raw coordinate values, display labels, and whether the labels are numbers."""
    coord = ds[by]
    values = list(coord.values)
    if by == RUN:
        extras = [c for c in ds.coords if c != RUN and ds[c].dims == (RUN,)]
        if extras:
            labels = [
                ", ".join(f"{c}={_fmt(ds[c].values[i])}" for c in extras)
                for i in range(len(values))
            ]
            return values, labels, False
        return values, [f"run {_fmt(v)}" for v in values], False
    numeric = coord.dtype.kind in "iuf" and by in ds.coords
    return values, [_fmt(v) for v in values], numeric


def _prepare(
    ds: xr.Dataset,
    vars: Sequence[str] | str | None,
    by: str | None,
    *,
    purpose: str,
    keep: str | None = None,
) -> _Frame:
    """Choose variables and the line dimension, and reduce or refuse every other dim."""
    _require_time(ds)
    names = _select_vars(ds, vars)
    extra: list[str] = []
    for name in names:
        extra.extend(str(d) for d in ds[name].dims if d != TIME and d not in extra)
    by_dim = _resolve_by(ds, extra, by, keep=keep)
    notes: list[str] = []
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
            f"the {purpose} draws {lines}, but {_source(ds)} also varies along "
            f"{_names_text(refused)}; pick the dimension for the lines with by=... (--by) "
            f"and select one value of the others first (e.g. ds.sel({refused[0]}=...)); "
            f"dimensions: {_dims_text(ds)}"
        )
    order = [d for d in (by_dim, keep) if d is not None]
    for name, arr in arrays.items():
        for dim in order:
            if dim not in arr.dims:
                arr = arr.expand_dims({dim: ds.sizes[dim]})
        arrays[name] = arr.transpose(*order, TIME)
    frame = _Frame(arrays=arrays, by=by_dim, notes=notes)
    if by_dim is not None:
        frame.values, frame.labels, frame.numeric = _label_values(ds, by_dim)
    return frame


def _find_label(frame: _Frame, wanted: Any) -> int | None:
    for i, (value, label) in enumerate(zip(frame.values, frame.labels, strict=True)):
        if _fmt(value) == str(wanted) or label == str(wanted):
            return i
        with contextlib.suppress(TypeError, ValueError):
            if float(value) == float(wanted):
                return i
    return None


def _resolve_baseline(
    ds: xr.Dataset, frame: _Frame, baseline: str | None, *, required: bool
) -> int | None:
    """Index of the baseline label; the default label may be absent unless required."""
    if frame.by is None:
        if required:
            raise PlotInputError(
                f"a difference from the baseline needs a dimension of labels (e.g. "
                f"{DEFAULT_BY!r}) to subtract from; {_source(ds)} has dimensions: "
                f"{_dims_text(ds)}"
            )
        return None
    if baseline is None and not required:
        return None
    wanted = DEFAULT_BASELINE if baseline is None else baseline
    index = _find_label(frame, wanted)
    if index is None and (required or wanted != DEFAULT_BASELINE):
        raise LabelNotFoundError(
            f"baseline label {wanted!r} not found along {frame.by!r} in {_source(ds)}; "
            f"labels: {_names_text(frame.labels)}"
        )
    return index


# --------------------------------------------------------------------------- styling


def _line_styles(frame: _Frame, baseline: int | None) -> list[dict[str, Any]]:
    """One style per label: black dashed baseline, Okabe-Ito for the rest.

    Labels that are numbers (a swept lever) get an ordered colour ramp instead, so a
    reader sees more and less of the lever as darker and lighter.
    """
    n = len(frame.labels) if frame.by is not None else 1
    others = [i for i in range(n) if i != baseline]
    styles: list[dict[str, Any]] = [{} for _ in range(n)]
    if frame.numeric and len(others) > 1:
        ramp = mpl.colormaps["viridis"]
        for k, i in enumerate(others):
            colour = ramp(0.88 * k / (len(others) - 1))
            styles[i] = {"color": colour, "linestyle": "-", "linewidth": 2.0, "zorder": 3}
    else:
        for k, i in enumerate(others):
            styles[i] = {
                "color": PALETTE[k % len(PALETTE)],
                "linestyle": _DASHES[(k // len(PALETTE)) % len(_DASHES)],
                "linewidth": 2.0,
                "zorder": 3,
            }
    if baseline is not None:
        styles[baseline] = {
            "color": BASELINE_COLOR,
            "linestyle": _BASELINE_DASH,
            "linewidth": 2.6,
            "zorder": 4,
        }
    return styles


def _drawing_order(n: int, baseline: int | None) -> list[int]:
    """Baseline last, so it stays visible on top of lines that coincide with it."""
    return [i for i in range(n) if i != baseline] + ([baseline] if baseline is not None else [])


def _legend_order(n: int, baseline: int | None) -> list[int]:
    return ([baseline] if baseline is not None else []) + [i for i in range(n) if i != baseline]


def _new_figure(figsize: tuple[float, float]) -> Figure:
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _panel_grid(n: int, figsize: tuple[float, float] | None) -> tuple[Figure, list[Axes], int]:
    """Small multiples, 2 or 3 columns, x shared, tick labels under each column's last."""
    ncols = 1 if n == 1 else 2 if n in (2, 4) else 3 if n <= 9 else 4
    nrows = math.ceil(n / ncols)
    if figsize is None:
        width, height = _BRIEFING_SIZE
        figsize = (width, max(height, 2.6 * nrows + 1.8))
    fig = _new_figure(figsize)
    grid = fig.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()
    for ax in grid[n:]:
        ax.remove()
    axes = list(grid[:n])
    for i, ax in enumerate(axes):
        if i + ncols >= n:  # nothing below it: it carries the time axis
            ax.tick_params(axis="x", labelbottom=True)
    return fig, axes, ncols


def _panel_text(name: str, da: xr.DataArray, fig: Figure, ncols: int) -> tuple[str, list[str]]:
    """Short bold title and up to two lines of the documentation sentence, fitted."""
    panel_inches = fig.get_figwidth() / ncols - 0.9
    title_chars = max(12, int(panel_inches * 72 / (_STYLE["axes.titlesize"] * 0.62)))
    sub_chars = max(16, int(panel_inches * 72 / (_SUBTITLE_SIZE * 0.52)))
    title = textwrap.shorten(_short_title(name, da), width=title_chars, placeholder=" …")
    long_name = " ".join(str(da.attrs.get("long_name", "")).split())
    lines: list[str] = []
    if long_name and _normalise(long_name) not in (_normalise(title), _normalise(name)):
        lines = textwrap.wrap(long_name, width=sub_chars, max_lines=2, placeholder=" …")
    return title, lines


def _title_panel(ax: Axes, title: str, lines: list[str], room: int) -> None:
    """Title at the same height in every panel (room for ``room`` subtitle lines).

    The subtitle hangs under the title, so panels with shorter descriptions keep their
    titles in line with their neighbours.
    """
    line_height = _SUBTITLE_SIZE * 1.2
    pad = 5 + (room * line_height + 4 if room else 0)
    ax.set_title(plain(title), fontweight="bold", pad=pad, loc="left")
    if lines:
        ax.annotate(
            plain("\n".join(lines)),
            xy=(0, 1),
            xycoords="axes fraction",
            xytext=(0, pad - 2),
            textcoords="offset points",
            ha="left",
            va="top",
            fontsize=_SUBTITLE_SIZE,
            color="#444444",
            annotation_clip=False,
        )


def _time_label(ds: xr.Dataset) -> str:
    units = _units(ds[TIME])
    return f"Time ({units})" if units else "Time"


def _label_axes(
    axes: list[Axes], ncols: int, ds: xr.Dataset, frame: _Frame, fig: Figure, ylabel: Any
) -> None:
    xlabel = _time_label(ds)
    texts = [_panel_text(name, da, fig, ncols) for name, da in frame.arrays.items()]
    room = max((len(lines) for _, lines in texts), default=0)
    for i, (ax, da, (title, lines)) in enumerate(
        zip(axes, frame.arrays.values(), texts, strict=True)
    ):
        _title_panel(ax, title, lines, room)
        ax.set_ylabel(plain(ylabel(_units(da))))
        # The axis title only on the bottom row: a panel above an empty slot keeps its
        # tick labels but no title, so the rows stay evenly spaced.
        if i >= (math.ceil(len(axes) / ncols) - 1) * ncols:
            ax.set_xlabel(plain(xlabel))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5))
        ax.margins(x=0)
    fig.align_ylabels(axes)


def _shock_windows(ds: xr.Dataset) -> dict[str, list[tuple[float, float, str]]]:
    """Parse the ``shock_windows`` attr; a malformed attr warns rather than failing."""
    raw = ds.attrs.get("shock_windows")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}
    try:
        data = json.loads(raw) if isinstance(raw, str | bytes) else raw
    except json.JSONDecodeError as exc:
        warnings.warn(f"ignoring attr shock_windows: not JSON ({exc})", stacklevel=4)
        return {}
    if isinstance(data, list):
        data = {"": data}
    if not isinstance(data, Mapping):
        warnings.warn("ignoring attr shock_windows: not a mapping of windows", stacklevel=4)
        return {}
    windows: dict[str, list[tuple[float, float, str]]] = {}
    for key, items in data.items():
        parsed = []
        for item in items or []:
            try:
                start, end = float(item[0]), float(item[1])
                label = str(item[2]) if len(item) > 2 else ""
            except (TypeError, ValueError, IndexError):
                warnings.warn(
                    f"ignoring shock window {item!r} of {key!r}: expected [start, end, label]",
                    stacklevel=4,
                )
                continue
            parsed.append((min(start, end), max(start, end), label))
        windows[str(key)] = parsed
    return windows


@dataclass
class _Window:
    start: float
    end: float
    label: str
    colour: Any


def _shade_windows(
    axes: list[Axes], ds: xr.Dataset, frame: _Frame, styles: list[dict[str, Any]]
) -> list[_Window]:
    """Shade each scenario's shock windows in its colour; return what was shaded."""
    windows = _shock_windows(ds)
    spans: list[_Window] = []
    neutral = "#7f7f7f"
    if frame.by is not None:
        for key, items in windows.items():
            index = _find_label(frame, key) if key else None
            if index is None and key:
                continue  # a scenario not in this figure
            colour = styles[index]["color"] if index is not None else neutral
            if colour == BASELINE_COLOR:
                colour = neutral
            spans.extend(_Window(s, e, label or key, colour) for s, e, label in items)
    else:
        # One run: use its own scenario's windows if the Dataset says which it is.
        scalar = [_fmt(ds[c].values.item()) for c in ds.coords if ds[c].ndim == 0]
        keys = [k for k in windows if k in scalar]
        if not keys and len(windows) == 1:
            keys = list(windows)
        for key in keys:
            spans.extend(_Window(s, e, label or key, neutral) for s, e, label in windows[key])
    end = float(ds[TIME].values[-1])
    for ax in axes:
        for w in spans:
            if _persistent(w, end):  # lasts to the horizon: mark its onset, do not shade
                ax.axvline(w.start, color=w.colour, linestyle=":", linewidth=1.6,
                           alpha=0.9, zorder=1)
            else:
                ax.axvspan(w.start, w.end, color=w.colour, alpha=0.14, linewidth=0, zorder=0)
    return [dataclasses.replace(w, end=math.inf) if _persistent(w, end) else w
            for w in spans]


def _persistent(window: _Window, end: float) -> bool:
    return window.end >= end


def _window_legend(spans: list[_Window]) -> tuple[list[Any], list[str]]:
    """Name each window in the legend while that stays short; else one generic entry."""
    if not spans:
        return [], []
    distinct = list(dict.fromkeys((w.label, w.start, w.end, str(w.colour)) for w in spans))
    if len(distinct) > 4:
        patch = Patch(facecolor="#7f7f7f", alpha=0.3, linewidth=0)
        label = "shock windows (shaded in scenario colour)"
        if any(math.isinf(w.end) for w in spans):
            onset = Line2D([], [], color="#7f7f7f", linestyle=":", linewidth=1.6)
            return [patch, onset], [label, "lasting shocks (dotted at their onset)"]
        return [patch], [label]
    colours = {(w.label, w.start, w.end, str(w.colour)): w.colour for w in spans}
    handles: list[Any] = []
    labels: list[str] = []
    for key in distinct:
        label, start, end, _ = key
        if math.isinf(end):
            handles.append(Line2D([], [], color=colours[key], linestyle=":", linewidth=1.6))
            span = f"from {_fmt(start)}"
        else:
            handles.append(Patch(facecolor=colours[key], alpha=0.3, linewidth=0))
            span = f"{_fmt(start)}–{_fmt(end)}"
        labels.append(f"shock: {label} ({span})".replace("shock: shock", "shock"))
    return handles, labels


def _figure_legend(
    fig: Figure,
    handles: list[Any],
    labels: list[str],
    title: str | None,
    key: tuple[list[Any], list[str]] = ([], []),
) -> None:
    """One legend under the panels, in as few rows as the figure width allows.

    ``key`` entries (median, bands, shock windows) start in a column of their own, so they
    never read as one more scenario.
    """
    key_handles, key_labels = key
    groups = [
        (list(handles), [textwrap.shorten(s, width=48, placeholder=" …") for s in labels]),
        (list(key_handles), [textwrap.shorten(s, width=48, placeholder=" …") for s in key_labels]),
    ]
    groups = [g for g in groups if g[0]]
    if not groups:
        return
    em = _STYLE["legend.fontsize"]
    room = fig.get_figwidth() * 72 - 2 * em

    def width(rows: int) -> float:
        # Points taken by the columns: the longest label of each, a handle, spacing.
        total = 0.0
        for _, names in groups:
            for c in range(0, len(names), rows):
                longest = max(len(s) for s in names[c : c + rows])
                total += (longest * 0.56 + 3.2 + 0.8 + 1.8) * em
        return total

    longest_group = max(len(g[0]) for g in groups)
    rows = next((r for r in range(1, longest_group + 1) if width(r) <= room), longest_group)
    all_handles: list[Any] = []
    all_labels: list[str] = []
    for group_handles, names in groups:
        pad = -len(names) % rows  # blanks so the next group starts a new column
        all_handles += group_handles + [Line2D([], [], linestyle="none")] * pad
        all_labels += names + [""] * pad
    fig.legend(
        all_handles,
        [plain(s) for s in all_labels],
        loc="outside lower center",
        ncols=len(all_labels) // rows,
        title=None if title is None else plain(title),
        frameon=False,
        handlelength=3.2,
        columnspacing=1.8,
    )


def _suptitle(fig: Figure, title: str | None, default: str, notes: list[str]) -> None:
    """A caller's ``title`` as given (it may use mathtext); the default, from the data, plain."""
    text = plain(default) if title is None else title
    if notes and title is None:
        text = f"{text} ({plain('; '.join(notes))})"
    if text:
        fig.suptitle(text, fontweight="bold", x=0.01, ha="left")


# --------------------------------------------------------------------------- figures


def _fixed_coords(ds: xr.Dataset) -> list[str]:
    """Scalar coordinates (e.g. ``scenario='leadership_change'`` after ``sel``) as text."""
    return [
        f"{c} = {_fmt(ds[c].values.item())}"
        for c in ds.coords
        if ds[c].ndim == 0 and c not in (TIME, RUN)
    ]


def _baseline_text(label: str, suffix: str = "baseline") -> str:
    return label if suffix == "baseline" and "baseline" in label.lower() else f"{label} ({suffix})"


def scenario_comparison(
    ds: xr.Dataset,
    vars: Sequence[str] | str | None = None,
    by: str | None = DEFAULT_BY,
    baseline: str | None = DEFAULT_BASELINE,
    *,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Small multiples, one panel per variable and one line per label along ``by``.

    The baseline is drawn black and dashed on top; shock windows are shaded in their
    scenario's colour.  ``by=None`` (or the default when the results have no scenario
    dimension) uses the only swept dimension; an ensemble ``run`` is reduced to its
    median.  ``baseline=None`` distinguishes no label.
    """
    frame = _prepare(ds, vars, by, purpose="scenario comparison")
    base = _resolve_baseline(ds, frame, baseline, required=False)
    styles = _line_styles(frame, base)
    with mpl.rc_context(_STYLE):
        fig, axes, ncols = _panel_grid(len(frame.arrays), figsize)
        for ax, da in zip(axes, frame.arrays.values(), strict=True):
            t = da[TIME].values
            if frame.by is None:
                ax.plot(t, da.values, color=PALETTE[0], linewidth=2.2)
                continue
            for i in _drawing_order(len(frame.labels), base):
                ax.plot(t, da.isel({frame.by: i}).values, label=plain(frame.labels[i]), **styles[i])
        _label_axes(axes, ncols, ds, frame, fig, _units_text)
        spans = _shade_windows(axes, ds, frame, styles)
        handles: list[Any] = []
        labels: list[str] = []
        if frame.by is not None:
            order = _legend_order(len(frame.labels), base)
            handles = [Line2D([], [], **styles[i]) for i in order]
            labels = [frame.labels[i] for i in order]
            if base is not None:
                labels[0] = _baseline_text(labels[0])
        _figure_legend(
            fig, handles, labels, _pretty(frame.by) if frame.by else None, _window_legend(spans)
        )
        if frame.by:
            default = f"{_pretty(frame.by)} comparison"
        else:
            default = ", ".join(["Model outputs", *_fixed_coords(ds)])
        _suptitle(fig, title, default, frame.notes)
    return fig


def difference_from_baseline(
    ds: xr.Dataset,
    vars: Sequence[str] | str | None = None,
    by: str | None = DEFAULT_BY,
    baseline: str | None = DEFAULT_BASELINE,
    *,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """The comparison panels as differences from the baseline, so small effects show.

    The baseline itself is the zero line.  Raises :class:`LabelNotFoundError` listing the
    labels when the baseline label is not along ``by``.
    """
    frame = _prepare(ds, vars, by, purpose="difference from baseline")
    base = _resolve_baseline(ds, frame, baseline, required=True)
    assert frame.by is not None  # guaranteed by required=True
    assert base is not None
    styles = _line_styles(frame, base)
    base_label = frame.labels[base]
    # On top, so where every scenario still equals the baseline the reader sees black.
    zero = {"color": BASELINE_COLOR, "linewidth": 1.4, "zorder": 5}
    with mpl.rc_context(_STYLE):
        fig, axes, ncols = _panel_grid(len(frame.arrays), figsize)
        for ax, da in zip(axes, frame.arrays.values(), strict=True):
            t = da[TIME].values
            delta = da - da.isel({frame.by: base})
            ax.axhline(0.0, **zero)
            for i in _drawing_order(len(frame.labels), base):
                if i != base:
                    ax.plot(t, delta.isel({frame.by: i}).values,
                            label=plain(frame.labels[i]), **styles[i])
        _label_axes(
            axes, ncols, ds, frame, fig, lambda u: f"Difference ({u})" if u else "Difference"
        )
        spans = _shade_windows(axes, ds, frame, styles)
        others = [i for i in range(len(frame.labels)) if i != base]
        handles: list[Any] = [Line2D([], [], **zero)]
        labels = [
            _baseline_text(
                base_label,
                "zero line" if "baseline" in base_label.lower() else "baseline, zero line",
            )
        ]
        handles += [Line2D([], [], **styles[i]) for i in others]
        labels += [frame.labels[i] for i in others]
        _figure_legend(fig, handles, labels, _pretty(frame.by), _window_legend(spans))
        _suptitle(fig, title, f"Difference from {base_label}", frame.notes)
    return fig


def fan_chart(
    ds: xr.Dataset,
    vars: Sequence[str] | str | None = None,
    by: str | None = None,
    dim: str = RUN,
    *,
    baseline: str | None = DEFAULT_BASELINE,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Ensemble spread: median with 50% and 90% bands over ``dim``, one colour per label.

    ``by=None`` uses the only swept dimension if there is one.  Bands get fainter as
    labels are added so overlaps stay readable; with many labels,
    :func:`difference_from_baseline` of the medians is often the clearer picture.
    """
    if dim not in ds.dims:
        raise MissingRunDimensionError(
            f"a fan chart needs ensemble members along {dim!r}, but {_source(ds)} has no "
            f"{dim!r} dimension; dimensions: {_dims_text(ds)}"
        )
    frame = _prepare(ds, vars, by, purpose="fan chart", keep=dim)
    base = _resolve_baseline(ds, frame, baseline, required=False) if frame.by else None
    styles = _line_styles(frame, base)
    if frame.by is None:
        styles = [{"color": PALETTE[0], "linestyle": "-", "linewidth": 2.2, "zorder": 3}]
    n = len(frame.labels) if frame.by else 1
    outer = min(0.15, 0.5 / n)
    inner = 2.2 * outer
    with mpl.rc_context(_STYLE):
        fig, axes, ncols = _panel_grid(len(frame.arrays), figsize)
        for ax, da in zip(axes, frame.arrays.values(), strict=True):
            t = da[TIME].values
            q = da.quantile([0.05, 0.25, 0.5, 0.75, 0.95], dim=dim)
            for i in _drawing_order(n, base):
                qv = (q.isel({frame.by: i}) if frame.by else q).values
                colour = styles[i]["color"]
                ax.fill_between(t, qv[0], qv[4], color=colour, alpha=outer, linewidth=0)
                ax.fill_between(t, qv[1], qv[3], color=colour, alpha=inner, linewidth=0)
                line = {**styles[i], "linestyle": "-"}
                ax.plot(t, qv[2], label=plain(frame.labels[i]) if frame.by else "median", **line)
        _label_axes(axes, ncols, ds, frame, fig, _units_text)
        spans = _shade_windows(axes, ds, frame, styles)
        handles: list[Any] = []
        labels: list[str] = []
        if frame.by is not None:
            order = _legend_order(n, base)
            handles = [Line2D([], [], **{**styles[i], "linestyle": "-"}) for i in order]
            labels = [frame.labels[i] for i in order]
            if base is not None:
                labels[0] = _baseline_text(labels[0])
        key_colour = "#555555" if frame.by is not None else styles[0]["color"]
        window_handles, window_labels = _window_legend(spans)
        both = inner + outer * (1 - inner)
        key_handles = [
            Line2D([], [], color=key_colour, linewidth=2.2),
            # A thin outline keeps the faint 90% swatch findable in the legend.
            Patch(facecolor=to_rgba(key_colour, both), edgecolor=key_colour, linewidth=0.5),
            Patch(facecolor=to_rgba(key_colour, outer), edgecolor=key_colour, linewidth=0.5),
            *window_handles,
        ]
        key_labels = ["median", "50% band", "90% band", *window_labels]
        legend_title = _pretty(frame.by) if frame.by else None
        _figure_legend(fig, handles, labels, legend_title, (key_handles, key_labels))
        default = f"Ensemble of {ds.sizes[dim]} runs: median, 50% and 90% bands"
        _suptitle(fig, title, ", ".join([default, *_fixed_coords(ds)]), frame.notes)
    return fig


def _reduce_time(ds: xr.Dataset, da: xr.DataArray, reduce: str) -> tuple[xr.DataArray, str]:
    if reduce not in REDUCTIONS:
        raise PlotInputError(f"reduce={reduce!r} unknown; choose one of {_names_text(REDUCTIONS)}")
    if TIME not in da.dims:
        return da, "constant"
    units = _units(ds[TIME])
    if reduce in ("final", "initial"):
        index = -1 if reduce == "final" else 0
        at = da[TIME].values[index]
        when = f"t = {_fmt(at)} {units}".strip()
        return da.isel({TIME: index}), f"at the {reduce} time ({when})"
    reduced = getattr(da, reduce)(TIME)
    word = {"min": "minimum", "max": "maximum", "mean": "mean"}[reduce]
    return reduced, f"{word} over time"


def _map_axis(ds: xr.Dataset, dim: str) -> tuple[np.ndarray, list[str] | None]:
    """Positions for a swept dim: its numbers, or 0..n-1 with tick labels for text."""
    coord = ds[dim]
    if coord.dtype.kind in "iuf" and coord.size > 1:
        return coord.values.astype(float), None
    return np.arange(coord.size, dtype=float), [_fmt(v) for v in coord.values]


def _axis_title(ds: xr.Dataset, dim: str) -> str:
    units = _units(ds[dim])
    return f"{_pretty(dim)} ({units})" if units else _pretty(dim)


def policy_map(
    ds: xr.Dataset,
    outcome: str,
    x: str,
    y: str,
    reduce: str = "final",
    *,
    cmap: str = "viridis",
    title: str | None = None,
    figsize: tuple[float, float] = (9.0, 6.5),
) -> Figure:
    """An outcome over two swept levers: heatmap, labelled contours and a colorbar.

    ``reduce`` turns the time series into one number per cell: ``final`` (e.g. the
    probability that deterrence holds at the horizon), ``initial``, ``min``, ``max`` or
    ``mean`` over time.  An ensemble ``run`` is averaged.
    """
    name = _resolve_var(ds, outcome)
    da = ds[name]
    for dim in (x, y):
        if dim not in ds.dims:
            raise DimensionNotFoundError(
                f"dimension {dim!r} not in {_source(ds)}; dimensions: {_dims_text(ds)}"
            )
        if dim in (TIME, RUN):
            raise PlotInputError(f"the map's axes must be swept levers, not {dim!r}")
        if dim not in da.dims:
            raise PlotInputError(
                f"variable {name!r} does not vary along {dim!r}; its dimensions: "
                f"{_names_text(da.dims)}"
            )
    if x == y:
        raise PlotInputError(f"x and y are both {x!r}; choose two different dimensions")
    da, how = _reduce_time(ds, da, reduce)
    if RUN in da.dims:
        how = f"{how}, mean of {ds.sizes[RUN]} runs"
        da = da.mean(RUN)
    refused = [d for d in da.dims if d not in (x, y) and da.sizes[d] > 1]
    if refused:
        raise PlotInputError(
            f"the map shows {name!r} over {x!r} and {y!r}, but it also varies along "
            f"{_names_text(refused)}; select one value first (e.g. ds.sel({refused[0]}=...)); "
            f"dimensions: {_dims_text(ds)}"
        )
    da = da.squeeze([d for d in da.dims if d not in (x, y)]).transpose(y, x)
    xs, xticks = _map_axis(ds, x)
    ys, yticks = _map_axis(ds, y)
    z = np.asarray(da.values, dtype=float)
    # pcolormesh needs increasing coordinates; sort numeric levers.
    xo, yo = np.argsort(xs, kind="stable"), np.argsort(ys, kind="stable")
    xs, ys, z = xs[xo], ys[yo], z[np.ix_(yo, xo)]
    short = _short_title(name, ds[name])
    units = _units(ds[name])
    with mpl.rc_context(_STYLE | {"axes.grid": False}):
        fig = _new_figure(figsize)
        ax = fig.add_subplot()
        finite = z[np.isfinite(z)]
        norm = Normalize(*(finite.min(), finite.max()) if finite.size else (0, 1))
        mesh = ax.pcolormesh(xs, ys, z, cmap=cmap, norm=norm, shading="nearest")
        categorical = xticks is not None or yticks is not None
        if not categorical and finite.size and np.ptp(finite) > 0:
            # Contours only between numbers: between labels they would invent a gradient.
            levels = MaxNLocator(nbins=6).tick_values(finite.min(), finite.max())
            levels = levels[(levels > finite.min()) & (levels < finite.max())]
            if levels.size:
                colours = [_contrast(mesh.cmap(norm(v))) for v in levels]
                cs = ax.contour(xs, ys, z, levels=levels, colors=colours, linewidths=1.2)
                ax.clabel(cs, fmt=_fmt, fontsize=9, inline=True)
        elif z.size <= 150 and finite.size:
            # Three significant digits of the largest value, the same decimals everywhere.
            biggest = float(np.max(np.abs(finite))) or 1.0
            decimals = max(0, 2 - math.floor(math.log10(biggest)))
            for (i, j), value in np.ndenumerate(z):
                if np.isfinite(value):
                    colour = _contrast(mesh.cmap(norm(value)))
                    ax.text(
                        xs[j],
                        ys[i],
                        f"{value:.{decimals}f}",
                        ha="center",
                        va="center",
                        fontsize=9,
                        color=colour,
                    )
        if xticks is not None:
            ax.set_xticks(xs, [plain(xticks[i]) for i in xo])
            # Rotate text labels that would run into each other.
            chars = sum(len(t) + 2 for t in xticks) * 0.6 * _STYLE["xtick.labelsize"]
            if chars > 0.75 * figsize[0] * 72:
                ax.tick_params(axis="x", labelrotation=30)
                for tick in ax.get_xticklabels():
                    tick.set_horizontalalignment("right")
                    tick.set_rotation_mode("anchor")
        if yticks is not None:
            ax.set_yticks(ys, [plain(yticks[i]) for i in yo])
        ax.set_xlabel(plain(_axis_title(ds, x)))
        ax.set_ylabel(plain(_axis_title(ds, y)))
        label = f"{short} ({_units_text(units)})" if units else short
        fig.colorbar(mesh, ax=ax, label=plain(textwrap.fill(label, 40)))
        text = title if title is not None else plain(f"{short}, {how}")
        ax.set_title(textwrap.fill(text, 70), fontweight="bold", loc="left")
    return fig


def _contrast(rgba: Any) -> str:
    """Black or white, whichever reads better on the given colour."""
    r, g, b = to_rgb(rgba)
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 else "white"


# --------------------------------------------------------------------------- saving


def sensitivity_bars(indices: xr.Dataset, *, top: int = 12,
                     figsize: tuple[float, float] | None = None) -> Figure:
    """Sobol indices as bars, one panel per outcome: the ``top`` parameters by total index.

    Total (interactions included) and first-order indices side by side, with their 95%
    confidence half-widths, read from a Dataset with dims (outcome, parameter) and
    variables ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (as ``analysis.sobol_indices`` writes).
    """
    needed = [v for v in ("S1", "ST") if v not in indices.data_vars]
    if needed or "parameter" not in indices.dims:
        raise PlotInputError(
            f"not Sobol indices: {_source(indices)} lacks {', '.join(needed) or 'parameter'}; "
            f"variables: {_names_text(indices.data_vars)}; {_dims_text(indices)}")
    outcomes = [str(o) for o in indices["outcome"].values] if "outcome" in indices.dims \
        else [""]
    names = [str(n) for n in (indices["vensim_name"].values if "vensim_name" in indices.coords
                              else indices["parameter"].values)]
    ncols = min(len(outcomes), 3)
    nrows = math.ceil(len(outcomes) / ncols)
    shown = min(top, len(names))
    size = figsize or (5.2 * ncols + 1.5, 0.34 * shown * nrows + 1.8 * nrows + 0.8)
    with mpl.rc_context(_STYLE):
        fig = _new_figure(size)
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for ax, outcome in zip(axes, outcomes, strict=False):
            row = indices.sel(outcome=outcome) if outcome else indices
            st, s1 = row["ST"].values, row["S1"].values
            order = np.argsort(-np.nan_to_num(st, nan=-1.0))[:shown][::-1]
            y = np.arange(len(order))
            err = {k: (row[f"{k}_conf"].values[order] if f"{k}_conf" in row else None)
                   for k in ("ST", "S1")}
            ax.barh(y + 0.2, st[order], height=0.38, xerr=err["ST"], color=PALETTE[0],
                    label="total (ST)", error_kw={"elinewidth": 0.8, "capsize": 2})
            ax.barh(y - 0.2, s1[order], height=0.38, xerr=err["S1"], color=PALETTE[1],
                    label="first order (S1)", error_kw={"elinewidth": 0.8, "capsize": 2})
            ax.set_yticks(y, [plain(names[i]) for i in order])
            ax.set_xlim(0, max(1.0, float(np.nanmax(st[order] + (err["ST"] if err["ST"]
                                                                 is not None else 0)))))
            ax.axvline(0, color="black", linewidth=0.8)
            title = outcome.replace("_", " ") if outcome else "outcome"
            reduce = indices.attrs.get("reduce")
            ax.set_title(plain(f"{title}" + (f" ({reduce} value)" if reduce else "")), loc="left",
                         fontweight="bold")
            ax.set_xlabel("share of the outcome's variance")
        for ax in axes[len(outcomes):]:
            ax.set_axis_off()
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=2, frameon=False)
        runs = indices.attrs.get("n_runs")
        suptitle = "Global sensitivity (Sobol indices)" + (f", {runs} runs" if runs else "")
        fig.suptitle(plain(suptitle), x=0.01, ha="left", fontweight="bold")
    return fig


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: float = 150,
                description: str | None = None) -> Path:
    """Write ``fig`` as .png, .svg or .pdf (by suffix), atomically, creating folders.

    ``description`` is stored in the file's metadata (e.g. the model's sha256, so a
    generated diagram can be checked against the model it was drawn from).
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in SUFFIXES:
        raise PlotInputError(
            f"cannot save a figure as {target.name!r}: unknown suffix {suffix or '(none)'!r}; "
            f"allowed: {', '.join(SUFFIXES)}"
        )
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    metadata: dict[str, Any] = {".png": {}, ".svg": {"Date": None},
                                ".pdf": {"CreationDate": None}}[suffix]
    if description:
        metadata["Description" if suffix != ".pdf" else "Subject"] = description

    def write(tmp: str) -> None:
        with open(tmp, "wb") as handle:
            fig.savefig(handle, format=suffix[1:], dpi=dpi, metadata=metadata or None)

    return atomic_write(target, write)


# --------------------------------------------------------------------------- command line


def default_outcome(ds: xr.Dataset) -> str:
    """The policy map's default outcome: deterrence survival, else the first key output."""
    for name in ("deterrence_survival", *KEY_OUTPUTS):
        if name in ds.data_vars:
            return name
    raise PlotInputError(
        f"choose the map's outcome with outcome=... (--outcome); variables in "
        f"{_source(ds)}: {_names_text(ds.data_vars)}"
    )


def _default_map_dims(ds: xr.Dataset, x: str | None, y: str | None) -> tuple[str, str]:
    swept = [str(d) for d in ds.dims if d not in (TIME, RUN)]
    missing = [d for d in (x, y) if d is not None and d not in ds.dims]
    if missing:
        raise DimensionNotFoundError(
            f"dimension {missing[0]!r} not in {_source(ds)}; dimensions: {_dims_text(ds)}"
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
        f"{_source(ds)} has dimensions: {_dims_text(ds)}"
    )


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
        named = _split_names([vars] if isinstance(vars, str) else vars or [])
        if len(named) > 1:
            raise PlotInputError(
                f"a policy map shows one outcome; got {len(named)} variables ({', '.join(named)})"
            )
        outcome = named[0] if named else default_outcome(ds)
    x, y = _default_map_dims(ds, x, y)
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


_NETCDF_MAGIC = (b"CDF\x01", b"CDF\x02", b"CDF\x05", b"\x89HDF\r\n\x1a\n")


def _read_results(path: Path) -> xr.Dataset:
    """The whole results file, or a one-line error naming it (truncated, not NetCDF)."""
    try:
        with xr.open_dataset(path) as opened:
            return opened.load()
    except ValueError as exc:  # no backend recognises the bytes
        with open(path, "rb") as handle:
            if handle.read(8).startswith(_NETCDF_MAGIC):
                raise
        raise PlotInputError("cannot read the results: not a NetCDF file", path=path) from exc
    except OSError as exc:
        if exc.errno is not None and exc.errno > 0:  # the operating system's reason
            raise
        raise PlotInputError(
            f"cannot read the results: {exc.strerror or exc}", path=path,
            hint="the file is damaged or incomplete; write it again") from exc


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
                f"--sel {item!r}: no dimension {dim!r} in {_source(ds)}; {_dims_text(ds)}")
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
                                         f"{_names_text(labels.tolist())}")
            value = labels[matches[0]]
        elif value not in labels.tolist():
            raise LabelNotFoundError(f"--sel {item!r}: {value!r} not among {dim} labels "
                                     f"{_names_text(labels.tolist())}")
        picks[dim] = value
    return ds.sel(picks) if picks else ds


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Register the ``deterrence plot`` options on ``parser`` (see :func:`run_from_args`)."""
    parser.add_argument("results", metavar="RESULTS.nc", type=Path, help="results file (NetCDF)")
    parser.add_argument(
        "--vars",
        nargs="+",
        metavar="VAR",
        default=None,
        help="variables to draw (space- or comma-separated); default: the key outputs",
    )
    parser.add_argument(
        "--by",
        metavar="DIM",
        default=None,
        help=f"dimension drawn as one line per label; default: {DEFAULT_BY!r} or the only "
        "swept dimension",
    )
    parser.add_argument(
        "--baseline",
        metavar="LABEL",
        default=None,
        help="label drawn as the baseline and subtracted by --kind diff; "
        f"default: {DEFAULT_BASELINE!r}",
    )
    parser.add_argument(
        "--kind",
        choices=KINDS,
        default="compare",
        help="compare: lines per label; diff: difference from baseline; fan: ensemble "
        "bands over 'run'; map: outcome over two swept levers; sensitivity: Sobol index "
        "bars from sensitivity.nc (default: compare)",
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        type=Path,
        default=None,
        help="output .png, .svg or .pdf; default: RESULTS_<kind>.png beside the results",
    )
    parser.add_argument(
        "--sel",
        action="append",
        default=[],
        metavar="DIM=LABEL",
        help="keep one label of another swept dimension, e.g. --sel scenario=baseline",
    )
    parser.add_argument("--x", metavar="DIM", default=None, help="map: lever on the x axis")
    parser.add_argument("--y", metavar="DIM", default=None, help="map: lever on the y axis")
    parser.add_argument(
        "--outcome", metavar="VAR", default=None, help="map: variable shown as colour"
    )
    parser.add_argument(
        "--reduce",
        choices=REDUCTIONS,
        default="final",
        help="map: how time becomes one number per cell (default: final)",
    )
    return parser


def run_from_args(args: argparse.Namespace) -> Path:
    """Run :func:`plot_command` from the options :func:`add_arguments` registered."""
    return plot_command(
        args.results,
        args.vars,
        args.by,
        args.baseline,
        args.out,
        args.kind,
        x=args.x,
        y=args.y,
        outcome=args.outcome,
        reduce=args.reduce,
        sel=args.sel,
    )
