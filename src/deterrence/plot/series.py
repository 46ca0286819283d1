"""Scenarios side by side: the comparison over time and the difference from baseline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib as mpl
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

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
from .select import DEFAULT_BASELINE, DEFAULT_BY, TIME, prepare, resolve_baseline
from .style import BASELINE_COLOR, PALETTE, STYLE, plain, pretty, units_text
from .windows import shade_windows, window_legend


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
    frame = prepare(ds, vars, by, purpose="scenario comparison")
    base = resolve_baseline(ds, frame, baseline, required=False)
    styles = line_styles(frame, base)
    with mpl.rc_context(STYLE):
        fig, axes, ncols = panel_grid(len(frame.arrays), figsize)
        for ax, da in zip(axes, frame.arrays.values(), strict=True):
            t = da[TIME].values
            if frame.by is None:
                ax.plot(t, da.values, color=PALETTE[0], linewidth=2.2)
                continue
            for i in drawing_order(len(frame.labels), base):
                ax.plot(t, da.isel({frame.by: i}).values, label=plain(frame.labels[i]), **styles[i])
        label_axes(axes, ncols, ds, frame, fig, units_text)
        spans = shade_windows(axes, ds, frame, styles)
        handles: list[Any] = []
        labels: list[str] = []
        if frame.by is not None:
            order = legend_order(len(frame.labels), base)
            handles = [Line2D([], [], **styles[i]) for i in order]
            labels = [frame.labels[i] for i in order]
            if base is not None:
                labels[0] = baseline_text(labels[0])
        figure_legend(
            fig, handles, labels, pretty(frame.by) if frame.by else None, window_legend(spans)
        )
        # the labels fixed before drawing are named by the notes
        default = f"{pretty(frame.by)} comparison" if frame.by else "Model outputs"
        suptitle(fig, title, default, frame.notes)
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
    frame = prepare(ds, vars, by, purpose="difference from baseline")
    base = resolve_baseline(ds, frame, baseline, required=True)
    assert frame.by is not None  # guaranteed by required=True
    assert base is not None
    styles = line_styles(frame, base)
    base_label = frame.labels[base]
    # On top, so where every scenario still equals the baseline the reader sees black.
    zero = {"color": BASELINE_COLOR, "linewidth": 1.4, "zorder": 5}
    with mpl.rc_context(STYLE):
        fig, axes, ncols = panel_grid(len(frame.arrays), figsize)
        for ax, da in zip(axes, frame.arrays.values(), strict=True):
            t = da[TIME].values
            delta = da - da.isel({frame.by: base})
            ax.axhline(0.0, **zero)
            for i in drawing_order(len(frame.labels), base):
                if i != base:
                    ax.plot(t, delta.isel({frame.by: i}).values,
                            label=plain(frame.labels[i]), **styles[i])
        label_axes(
            axes, ncols, ds, frame, fig, lambda u: f"Difference ({u})" if u else "Difference"
        )
        spans = shade_windows(axes, ds, frame, styles)
        others = [i for i in range(len(frame.labels)) if i != base]
        handles: list[Any] = [Line2D([], [], **zero)]
        labels = [
            baseline_text(
                base_label,
                "zero line" if "baseline" in base_label.lower() else "baseline, zero line",
            )
        ]
        handles += [Line2D([], [], **styles[i]) for i in others]
        labels += [frame.labels[i] for i in others]
        figure_legend(fig, handles, labels, pretty(frame.by), window_legend(spans))
        suptitle(fig, title, f"Difference from {base_label}", frame.notes)
    return fig
