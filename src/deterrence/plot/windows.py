"""Shock windows and policy onsets: when each scenario's shocks act, shaded behind its
lines, and when a timed policy takes effect, a dash-dot line (its ramp a graded band).

Shocks are read from the Dataset's ``shock_windows`` attribute (JSON: scenario label ->
list of ``[start, end, label]``); policy timing from ``policy_timing`` (JSON: ``start``
and ``ramp``, the names of the constants holding them, read per line so a sweep over
the start time marks each line's own). A malformed attribute warns and is ignored,
since a figure without the marks is still worth having.
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon

from .select import RUN_LABELS, TIME, Frame, find_label
from .style import BASELINE_COLOR, fmt, units_of


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
) -> list[Window | Onset]:
    """Shade each scenario's shock windows in its colour and mark when each line's policy
    starts (:func:`mark_policies`); return what was drawn, for the legend."""
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
        spans = _shared_once(spans, neutral)
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
    shocks: list[Window | Onset] = [
        dataclasses.replace(w, end=math.inf) if _persistent(w, end) else w for w in spans]
    return shocks + mark_policies(axes, ds, frame, styles)


def _shared_once(spans: list[Window], neutral: str) -> list[Window]:
    """A shock several lines share (a scenario and a composition with it, ``a`` and
    ``a+b``) is drawn once, neutral, rather than as bands of one name in two colours."""
    colours: dict[tuple[float, float, str], set[str]] = {}
    for w in spans:
        colours.setdefault((w.start, w.end, w.label), set()).add(str(w.colour))
    out: list[Window] = []
    seen: set[tuple[float, float, str]] = set()
    for w in spans:
        key = (w.start, w.end, w.label)
        if len(colours[key]) == 1:
            out.append(w)
        elif key not in seen:
            seen.add(key)
            out.append(dataclasses.replace(w, colour=neutral))
    return out


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


def window_legend(marks: list[Window | Onset]) -> tuple[list[Any], list[str]]:
    """Name each window in the legend while that stays short, else one generic entry;
    then each policy onset."""
    spans = [w for w in marks if isinstance(w, Window)]
    onsets = onset_legend([w for w in marks if isinstance(w, Onset)])
    handles, labels = _shock_legend(spans)
    return handles + onsets[0], labels + onsets[1]


def _shock_legend(spans: list[Window]) -> tuple[list[Any], list[str]]:
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


# -- policy onsets ------------------------------------------------------------------------

#: a policy every line of a figure shares is marked in this dark neutral (shocks use their
#: scenario's colour or a mid grey), dash-dot (a lasting shock's onset is dotted)
POLICY_COLOUR = "#333333"
POLICY_DASH = (0, (6, 2, 1.5, 2))
#: the artists' ids (``get_gid()``; ids in an SVG), so a reader's tools can find them
ONSET_GID, RAMP_GID = "policy_onset", "policy_ramp"
#: a ramp's wedge rises to this share of the panel's height, from its floor
RAMP_HEIGHT = 0.09


@dataclass
class Onset:
    """When a line's policy takes effect: from ``start``, ramped in until ``end``.

    ``label``: the line whose policy it is ("" when every line shares it); ``text``:
    its legend entry."""

    start: float
    end: float
    label: str
    colour: Any
    text: str
    marked: bool = True  # False: it starts with the run, only its ramp is drawn


def policy_timing(ds: xr.Dataset) -> tuple[str | None, str | None]:
    """The constants holding the policy's start and ramp time (``policy_timing`` attr)."""
    raw = ds.attrs.get("policy_timing")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, None
    try:
        data = json.loads(raw) if isinstance(raw, str | bytes) else raw
    except json.JSONDecodeError as exc:
        warnings.warn(f"ignoring attr policy_timing: not JSON ({exc})", stacklevel=4)
        return None, None
    if not isinstance(data, Mapping):
        warnings.warn("ignoring attr policy_timing: expected {\"start\": NAME, "
                      "\"ramp\": NAME}", stacklevel=4)
        return None, None
    start, ramp = data.get("start"), data.get("ramp")
    return (str(start) if start else None), (str(ramp) if ramp else None)


def _line_value(ds: xr.Dataset, name: str | None, frame: Frame, i: int) -> float | None:
    """The constant ``name`` for line ``i``; None if absent or not one value for it."""
    if name is None or name not in ds.data_vars or TIME in ds[name].dims:
        return None
    da = ds[name]
    if frame.by is not None and frame.by in da.dims:
        try:
            da = da.sel({frame.by: frame.values[i]})
        except (KeyError, ValueError, IndexError):
            da = da.isel({frame.by: i})
    try:
        values = np.unique(np.asarray(da.values, dtype=float))
    except (TypeError, ValueError):
        return None
    values = values[np.isfinite(values)]
    return float(values[0]) if values.size == 1 else None


def _when(ds: xr.Dataset, t: float) -> str:
    """``year 12`` for a model in years; ``t = 12`` when the time has no units."""
    units = units_of(ds[TIME]).lower()
    units = units[:-1] if units.endswith("s") and len(units) > 2 else units
    return f"{units} {fmt(t)}" if units and " " not in units else f"t = {fmt(t)}"


def policy_onsets(ds: xr.Dataset, frame: Frame,
                  styles: list[dict[str, Any]]) -> list[Onset]:
    """Each distinct policy start and ramp of the lines, where it does not act from the
    run's start: one mark per timing, in the colour of its line when it is one line's
    alone, neutral (naming its lines unless it is every line's) when several share it."""
    start_name, ramp_name = policy_timing(ds)
    if start_name is None or TIME not in ds.dims:
        return []
    t0, t1 = float(ds[TIME].values[0]), float(ds[TIME].values[-1])
    n = len(frame.labels) if frame.by is not None else 1
    groups: dict[tuple[float, float], list[int]] = {}
    timed = 0
    for i in range(n):
        start = _line_value(ds, start_name, frame, i)
        if start is None:
            continue
        timed += 1
        ramp = max(_line_value(ds, ramp_name, frame, i) or 0.0, 0.0)
        groups.setdefault((start, min(start + ramp, t1)), []).append(i)
    onsets = []
    for (start, end), lines in groups.items():
        if not (start > t0 or end > start) or start >= t1:
            continue  # in force from the start of the run (or after its end): no mark
        text = f"policy from {_when(ds, start)}" + (
            f", ramped in to {fmt(end)}" if end > start else "")
        colour, label = POLICY_COLOUR, ""
        if len(lines) == 1 and n > 1:
            colour = styles[lines[0]].get("color", POLICY_COLOUR)
            label = frame.labels[lines[0]]
        elif len(lines) < timed:
            label = ", ".join(frame.labels[i] for i in lines)
            text = f"{label}: {text}"
        if colour == BASELINE_COLOR:
            colour = POLICY_COLOUR
        onsets.append(Onset(start, end, label, colour, text, marked=start > t0))
    return onsets


def mark_policies(axes: list[Axes], ds: xr.Dataset, frame: Frame,
                  styles: list[dict[str, Any]]) -> list[Onset]:
    """Draw each policy onset: a dash-dot line at its start, and its ramp as a wedge on
    the panel's floor rising to the policy's full effect, so it never reads as a shock's
    full-height shading."""
    onsets = policy_onsets(ds, frame, styles)
    for ax in axes:
        for o in onsets:
            if o.end > o.start:
                ax.add_patch(Polygon([(o.start, 0.0), (o.end, RAMP_HEIGHT), (o.end, 0.0)],
                                     closed=True, transform=ax.get_xaxis_transform(),
                                     facecolor=to_rgba(o.colour, 0.45), linewidth=0,
                                     zorder=2, gid=RAMP_GID))
            if o.marked:
                ax.axvline(o.start, color=o.colour, linestyle=POLICY_DASH, linewidth=1.5,
                           zorder=2, gid=ONSET_GID)
    return onsets


def onset_legend(onsets: list[Onset]) -> tuple[list[Any], list[str]]:
    """One entry per distinct onset: its line, over a band if it ramps."""
    handles: list[Any] = []
    labels: list[str] = []
    for o in {(o.text, str(o.colour)): o for o in onsets}.values():
        line = Line2D([], [], color=o.colour, linestyle=POLICY_DASH, linewidth=1.5)
        band = Patch(facecolor=to_rgba(o.colour, 0.45), linewidth=0)
        if o.end > o.start:
            handles.append((band, line) if o.marked else band)
        else:
            handles.append(line)
        labels.append(o.text)
    return handles, labels


def policy_note(ds: xr.Dataset) -> str | None:
    """``policy from year 12`` when the whole Dataset shares one late policy start (a
    figure without a time axis, such as a policy map, says it in its title)."""
    if policy_timing(ds)[0] is None or TIME not in ds.dims:
        return None
    one = Frame(arrays={}, by=None)
    onsets = policy_onsets(ds, one, [{}])
    return onsets[0].text if onsets else None
