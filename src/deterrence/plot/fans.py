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
    """Ensemble spread: median with 50% and 90% bands over ``dim``, one colour per label.

    ``by=None`` uses the only swept dimension if there is one.  Bands get fainter as
    labels are added so overlaps stay readable; with many labels,
    :func:`difference_from_baseline` of the medians is often the clearer picture.
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
