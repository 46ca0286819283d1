"""Ensembles as fan charts: how far the runs spread, not only where the median goes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib as mpl
import xarray as xr
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .errors import MissingRunDimensionError, dims_text, source_of
from .panels import (
    baseline_text,
    drawing_order,
    figure_legend,
    label_axes,
    legend_order,
    line_styles,
    panel_grid,
    suptitle,
)
from .select import DEFAULT_BASELINE, RUN, TIME, prepare, resolve_baseline
from .style import PALETTE, STYLE, plain, pretty, units_text
from .windows import shade_windows, window_legend


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
    """Ensemble spread: median with 50% and 90% bands over ``dim``.

    ``by=None`` uses the only swept dimension if there is one.  With several labels the
    fans are small multiples, one column per label and one row per variable (y shared
    along a row), not overlays: overlapping bands turn to mud.
    """
    if dim not in ds.dims:
        raise MissingRunDimensionError(
            f"a fan chart needs ensemble members along {dim!r}, but {source_of(ds)} has no "
            f"{dim!r} dimension; dimensions: {dims_text(ds)}"
        )
    frame = prepare(ds, vars, by, purpose="fan chart", keep=dim)
    base = resolve_baseline(ds, frame, baseline, required=False) if frame.by else None
    styles = line_styles(frame, base)
    if frame.by is None:
        styles = [{"color": PALETTE[0], "linestyle": "-", "linewidth": 2.2, "zorder": 3}]
    n = len(frame.labels) if frame.by else 1
    if n > 1:
        return _fan_columns(ds, frame, base, styles, dim, title, figsize)
    outer = min(0.15, 0.5 / n)
    inner = 2.2 * outer
    with mpl.rc_context(STYLE):
        fig, axes, ncols = panel_grid(len(frame.arrays), figsize)
        for ax, da in zip(axes, frame.arrays.values(), strict=True):
            t = da[TIME].values
            q = da.quantile([0.05, 0.25, 0.5, 0.75, 0.95], dim=dim)
            for i in drawing_order(n, base):
                qv = (q.isel({frame.by: i}) if frame.by else q).values
                colour = styles[i]["color"]
                ax.fill_between(t, qv[0], qv[4], color=colour, alpha=outer, linewidth=0)
                ax.fill_between(t, qv[1], qv[3], color=colour, alpha=inner, linewidth=0)
                line = {**styles[i], "linestyle": "-"}
                ax.plot(t, qv[2], label=plain(frame.labels[i]) if frame.by else "median", **line)
        label_axes(axes, ncols, ds, frame, fig, units_text)
        spans = shade_windows(axes, ds, frame, styles)
        handles: list[Any] = []
        labels: list[str] = []
        if frame.by is not None:
            order = legend_order(n, base)
            handles = [Line2D([], [], **{**styles[i], "linestyle": "-"}) for i in order]
            labels = [frame.labels[i] for i in order]
            if base is not None:
                labels[0] = baseline_text(labels[0])
        key_colour = "#555555" if frame.by is not None else styles[0]["color"]
        window_handles, window_labels = window_legend(spans)
        both = inner + outer * (1 - inner)
        key_handles = [
            Line2D([], [], color=key_colour, linewidth=2.2),
            # A thin outline keeps the faint 90% swatch findable in the legend.
            Patch(facecolor=to_rgba(key_colour, both), edgecolor=key_colour, linewidth=0.5),
            Patch(facecolor=to_rgba(key_colour, outer), edgecolor=key_colour, linewidth=0.5),
            *window_handles,
        ]
        key_labels = ["median", "50% band", "90% band", *window_labels]
        legend_title = pretty(frame.by) if frame.by else None
        figure_legend(fig, handles, labels, legend_title, (key_handles, key_labels))
        default = f"Ensemble of {ds.sizes[dim]} runs: median, 50% and 90% bands"
        suptitle(fig, title, default, frame.notes)
    return fig


def _bands(ax: Any, da: xr.DataArray, dim: str, style: dict[str, Any], label: str) -> None:
    """Median, 50% and 90% bands of ``da`` (time, ``dim``) in one colour."""
    q = da.quantile([0.05, 0.25, 0.5, 0.75, 0.95], dim=dim).values
    t = da[TIME].values
    ax.fill_between(t, q[0], q[4], color=style["color"], alpha=OUTER, linewidth=0)
    ax.fill_between(t, q[1], q[3], color=style["color"], alpha=INNER, linewidth=0)
    ax.plot(t, q[2], label=label, **{**style, "linestyle": "-"})


OUTER, INNER = 0.15, 0.33  # the 90% and 50% bands' opacity, one fan per panel


def _fan_columns(ds: xr.Dataset, frame: Any, base: int | None, styles: list[dict[str, Any]],
                 dim: str, title: str | None, figsize: tuple[float, float] | None) -> Figure:
    """One column per label, one row per variable; each row shares its y axis so the
    columns compare at a glance; each column is shaded with its own shock windows."""
    import dataclasses
    import textwrap

    from .style import BRIEFING_SIZE, new_figure, short_title, units_of

    order = legend_order(len(frame.labels), base)
    names = list(frame.arrays)
    ncols, nrows = len(order), len(names)
    if figsize is None:
        figsize = (max(BRIEFING_SIZE[0], 2.3 * ncols + 1.2), max(4.0, 2.3 * nrows + 2.2))
    with mpl.rc_context(STYLE):
        fig = new_figure(figsize)
        grid = fig.subplots(nrows, ncols, sharex=True, sharey="row", squeeze=False)
        panel = (figsize[0] - 1.4) / ncols - 0.25  # inches a column's title may take
        chars = max(10, int(panel * 72 / (STYLE["axes.titlesize"] * 0.62)))
        spans: list[Any] = []
        for col, i in enumerate(order):
            label = baseline_text(frame.labels[i]) if i == base else frame.labels[i]
            grid[0, col].set_title(plain(textwrap.fill(label, chars, max_lines=2,
                                                       placeholder=" …")),
                                   fontweight="bold", loc="left", color=styles[i]["color"])
            for row, name in enumerate(names):
                _bands(grid[row, col], frame.arrays[name].isel({frame.by: i}), dim,
                       styles[i], plain(frame.labels[i]))
            one = dataclasses.replace(frame, values=[frame.values[i]], labels=[frame.labels[i]])
            spans += shade_windows(list(grid[:, col]), ds, one, [styles[i]])
        for row, name in enumerate(names):
            da = frame.arrays[name]
            units = units_text(units_of(da))
            text = short_title(name, da) + (f" ({units})" if units else "")
            grid[row, 0].set_ylabel(plain(textwrap.fill(text, 22)))
        for ax in grid[-1]:
            units = units_of(ds[TIME])
            ax.set_xlabel(plain(f"Time ({units})" if units else "Time"))
            ax.margins(x=0)
        fig.align_ylabels(list(grid[:, 0]))
        unique = list({(w.label, w.start, w.end, str(w.colour)): w for w in spans}.values())
        window_handles, window_labels = window_legend(unique)
        key_colour = "#555555"
        both = INNER + OUTER * (1 - INNER)
        key = ([Line2D([], [], color=key_colour, linewidth=2.2),
                Patch(facecolor=to_rgba(key_colour, both), edgecolor=key_colour,
                      linewidth=0.5),
                Patch(facecolor=to_rgba(key_colour, OUTER), edgecolor=key_colour,
                      linewidth=0.5), *window_handles],
               ["median", "50% band", "90% band", *window_labels])
        figure_legend(fig, [], [], None, key)
        per = ds.sizes[dim]
        default = (f"Ensembles by {pretty(frame.by)}: {ncols} x {per} = {ncols * per} runs "
                   f"drawn, median, 50% and 90% bands")
        suptitle(fig, title, default, frame.notes)
    return fig
