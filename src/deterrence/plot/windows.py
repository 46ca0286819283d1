"""Shock windows: when each scenario's shocks act, shaded behind its lines.

Read from the Dataset's ``shock_windows`` attribute (JSON: scenario label -> list of
``[start, end, label]``); a malformed attribute warns and is ignored, since a figure
without shading is still worth having.
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import xarray as xr
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .select import RUN_LABELS, TIME, Frame, find_label
from .style import BASELINE_COLOR, fmt


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
class Window:
    """One shaded span: its times, its legend label and its scenario's colour."""

    start: float
    end: float
    label: str
    colour: Any
    hatch: str | None = None  # set when windows overlap, so each stays visible


def shade_windows(
    axes: list[Axes], ds: xr.Dataset, frame: Frame, styles: list[dict[str, Any]]
) -> list[Window]:
    """Shade each scenario's shock windows in its colour; return what was shaded."""
    windows = _shock_windows(ds)
    spans: list[Window] = []
    neutral = "#7f7f7f"
    # the scenario (or other label) every line of the figure shares, if it is fixed
    scalar = [fmt(ds[c].values.item()) for c in ds.coords if ds[c].ndim == 0]
    scalar += [str(ds.attrs[k]) for k in RUN_LABELS if k not in ds.dims and ds.attrs.get(k)]
    if frame.by is not None:
        for key, items in windows.items():
            index = find_label(frame, key) if key else None
            if index is None and key and key not in scalar:
                continue  # a scenario not in this figure
            colour = styles[index]["color"] if index is not None else neutral
            if colour == BASELINE_COLOR:
                colour = neutral
            spans.extend(Window(s, e, label or key, colour) for s, e, label in items)
    else:
        # One run: use its own scenario's windows if the Dataset says which it is.
        keys = [k for k in windows if k in scalar]
        if not keys and len(windows) == 1:
            keys = list(windows)
        for key in keys:
            spans.extend(Window(s, e, label or key, neutral) for s, e, label in windows[key])
    end = float(ds[TIME].values[-1])
    spans = _hatch_overlaps(spans, end)
    for ax in axes:
        for w in spans:
            if _persistent(w, end):  # lasts to the horizon: mark its onset, do not shade
                ax.axvline(w.start, color=w.colour, linestyle=":", linewidth=1.6,
                           alpha=0.9, zorder=1)
            elif w.hatch:  # overlapping: a light fill and a hatch in the window's colour
                ax.axvspan(w.start, w.end, facecolor=to_rgba(w.colour, 0.08),
                           edgecolor=to_rgba(w.colour, 0.6), hatch=w.hatch, linewidth=0,
                           zorder=0)
            else:
                ax.axvspan(w.start, w.end, color=w.colour, alpha=0.14, linewidth=0, zorder=0)
    return [dataclasses.replace(w, end=math.inf) if _persistent(w, end) else w
            for w in spans]


#: windows named one by one in the legend (and hatched where they overlap); beyond, one
#: generic entry
LEGEND_WINDOWS = 4
_HATCHES = ("//", "\\\\", "..", "xx", "--", "||")


def _hatch_overlaps(spans: list[Window], end: float) -> list[Window]:
    """Windows that overlap another in time get a hatch each (in order), so two shocks
    starting in the same year read as two, not one darker band."""
    shaded = [w for w in spans if not _persistent(w, end)]
    if len(shaded) > LEGEND_WINDOWS:  # too many to tell apart: one generic legend entry
        return spans
    overlapping = {id(a) for a in shaded for b in shaded
                   if a is not b and a.start < b.end and b.start < a.end}
    hatches = iter(_HATCHES * (1 + len(spans) // len(_HATCHES)))
    return [dataclasses.replace(w, hatch=next(hatches)) if id(w) in overlapping else w
            for w in spans]


def _persistent(window: Window, end: float) -> bool:
    """A shock that lasts to the end of the run, drawn as its onset."""
    return window.end >= end


def window_legend(spans: list[Window]) -> tuple[list[Any], list[str]]:
    """Name each window in the legend while that stays short; else one generic entry."""
    if not spans:
        return [], []
    distinct = list(dict.fromkeys((w.label, w.start, w.end, str(w.colour)) for w in spans))
    if len(distinct) > LEGEND_WINDOWS:
        patch = Patch(facecolor="#7f7f7f", alpha=0.3, linewidth=0)
        label = "shock windows (shaded in scenario colour)"
        if any(math.isinf(w.end) for w in spans):
            onset = Line2D([], [], color="#7f7f7f", linestyle=":", linewidth=1.6)
            return [patch, onset], [label, "lasting shocks (dotted at their onset)"]
        return [patch], [label]
    colours = {(w.label, w.start, w.end, str(w.colour)): w.colour for w in spans}
    hatches = {(w.label, w.start, w.end, str(w.colour)): w.hatch for w in spans}
    handles: list[Any] = []
    labels: list[str] = []
    for key in distinct:
        label, start, end, _ = key
        if math.isinf(end):
            handles.append(Line2D([], [], color=colours[key], linestyle=":", linewidth=1.6))
            span = f"from {fmt(start)}"
        else:
            hatch = hatches.get(key)
            handles.append(Patch(facecolor=to_rgba(colours[key], 0.08),
                                 edgecolor=to_rgba(colours[key], 0.6), hatch=hatch,
                                 linewidth=0) if hatch else
                           Patch(facecolor=colours[key], alpha=0.3, linewidth=0))
            span = f"{fmt(start)}–{fmt(end)}"
        labels.append(f"shock: {label} ({span})".replace("shock: shock", "shock"))
    return handles, labels
