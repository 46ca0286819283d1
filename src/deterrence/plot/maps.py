"""Policy maps: one outcome over two swept levers, where deterrence holds and where not."""

from __future__ import annotations

import math
import textwrap
from typing import Any

import matplotlib as mpl
import numpy as np
import xarray as xr
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .errors import DimensionNotFoundError, PlotInputError, dims_text, names_text, source_of
from .select import RUN, TIME, fixed_coords, resolve_var
from .style import (
    STYLE,
    contrast,
    fmt,
    new_figure,
    plain,
    pretty,
    short_title,
    units_of,
    units_text,
)
from .windows import policy_note

REDUCTIONS = ("final", "initial", "min", "max", "mean")


def _reduce_time(ds: xr.Dataset, da: xr.DataArray, reduce: str) -> tuple[xr.DataArray, str]:
    """One number per cell from the time series, and the words that say how."""
    if reduce not in REDUCTIONS:
        raise PlotInputError(f"reduce={reduce!r} unknown; choose one of {names_text(REDUCTIONS)}")
    if TIME not in da.dims:
        return da, "constant"
    units = units_of(ds[TIME])
    if reduce in ("final", "initial"):
        index = -1 if reduce == "final" else 0
        at = da[TIME].values[index]
        when = f"t = {fmt(at)} {units}".strip()
        return da.isel({TIME: index}), f"at the {reduce} time ({when})"
    reduced = getattr(da, reduce)(TIME)
    word = {"min": "minimum", "max": "maximum", "mean": "mean"}[reduce]
    return reduced, f"{word} over time"


def _map_axis(ds: xr.Dataset, dim: str) -> tuple[np.ndarray, list[str] | None]:
    """Positions for a swept dim: its numbers, or 0..n-1 with tick labels for text."""
    coord = ds[dim]
    if coord.dtype.kind in "iuf" and coord.size > 1:
        return coord.values.astype(float), None
    return np.arange(coord.size, dtype=float), [fmt(v) for v in coord.values]


def _axis_title(ds: xr.Dataset, dim: str) -> str:
    """A swept dimension's axis title, with its units when it has them."""
    units = units_of(ds[dim])
    return f"{pretty(dim)} ({units})" if units else pretty(dim)


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
    name = resolve_var(ds, outcome)
    da = ds[name]
    for dim in (x, y):
        if dim not in ds.dims:
            raise DimensionNotFoundError(
                f"dimension {dim!r} not in {source_of(ds)}; dimensions: {dims_text(ds)}"
            )
        if dim in (TIME, RUN):
            raise PlotInputError(f"the map's axes must be swept levers, not {dim!r}")
        if dim not in da.dims:
            raise PlotInputError(
                f"variable {name!r} does not vary along {dim!r}; its dimensions: "
                f"{names_text(da.dims)}"
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
            f"{names_text(refused)}; select one value first (e.g. ds.sel({refused[0]}=...)); "
            f"dimensions: {dims_text(ds)}"
        )
    da = da.squeeze([d for d in da.dims if d not in (x, y)]).transpose(y, x)
    xs, xticks = _map_axis(ds, x)
    ys, yticks = _map_axis(ds, y)
    z = np.asarray(da.values, dtype=float)
    # pcolormesh needs increasing coordinates; sort numeric levers.
    xo, yo = np.argsort(xs, kind="stable"), np.argsort(ys, kind="stable")
    xs, ys, z = xs[xo], ys[yo], z[np.ix_(yo, xo)]
    short = short_title(name, ds[name])
    units = units_of(ds[name])
    with mpl.rc_context(STYLE | {"axes.grid": False}):
        fig = new_figure(figsize)
        ax = fig.add_subplot()
        finite = z[np.isfinite(z)]
        norm = Normalize(*(finite.min(), finite.max()) if finite.size else (0, 1))
        categorical = xticks is not None or yticks is not None
        # Between numbers, colours are interpolated and the axes end at the swept values
        # (no half cell of padding past them); labels keep one cell each.
        shading = "nearest" if categorical or min(len(xs), len(ys)) < 2 else "gouraud"
        mesh = ax.pcolormesh(xs, ys, z, cmap=cmap, norm=norm, shading=shading)
        if shading == "gouraud":
            ax.set_xlim(xs[0], xs[-1])
            ax.set_ylim(ys[0], ys[-1])
            for axis, values in ((ax.xaxis, xs), (ax.yaxis, ys)):
                if len(values) <= 11:
                    axis.set_ticks(values, [fmt(v) for v in values])
        cs, labels = None, []
        if not categorical and finite.size and np.ptp(finite) > 0:
            # Contours only between numbers: between labels they would invent a gradient.
            levels = MaxNLocator(nbins=6).tick_values(finite.min(), finite.max())
            levels = levels[(levels > finite.min()) & (levels < finite.max())]
            if levels.size:
                colours = [contrast(mesh.cmap(norm(v))) for v in levels]
                cs = ax.contour(xs, ys, z, levels=levels, colors=colours, linewidths=1.2)
                labels = ax.clabel(cs, fmt=fmt, fontsize=9, inline=False)
        elif z.size <= 150 and finite.size:
            # Three significant digits of the largest value, the same decimals everywhere.
            biggest = float(np.max(np.abs(finite))) or 1.0
            decimals = max(0, 2 - math.floor(math.log10(biggest)))
            for (i, j), value in np.ndenumerate(z):
                if np.isfinite(value):
                    colour = contrast(mesh.cmap(norm(value)))
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
            chars = sum(len(t) + 2 for t in xticks) * 0.6 * STYLE["xtick.labelsize"]
            if chars > 0.75 * figsize[0] * 72:
                ax.tick_params(axis="x", labelrotation=30)
                for tick in ax.get_xticklabels():
                    tick.set_horizontalalignment("right")
                    tick.set_rotation_mode("anchor")
        if yticks is not None:
            ax.set_yticks(ys, [plain(yticks[i]) for i in yo])
        ax.set_xlabel(plain(_axis_title(ds, x)))
        ax.set_ylabel(plain(_axis_title(ds, y)))
        label = f"{short} ({units_text(units)})" if units else short
        if finite.size:  # the colours span only this range: say so, it may be narrow
            label += f"\ncolours span {finite.min():.4g} to {finite.max():.4g} only"
        fig.colorbar(mesh, ax=ax, label=plain("\n".join(
            textwrap.fill(part, 40) for part in label.split("\n"))))
        fixed = fixed_coords(ds)  # the scenario, policy, ... the map is drawn under
        timed = policy_note(ds)  # the outcome may depend on it as much as on the levers
        fixed += [timed] if timed else []
        text = title if title is not None else plain(
            f"{short}, {how}" + (f" ({'; '.join(fixed)})" if fixed else ""))
        ax.set_title(textwrap.fill(text, 70), fontweight="bold", loc="left")
        if cs is not None:
            _legible_labels(fig, ax, cs, labels)
    return fig


def _legible_labels(fig: Figure, ax: Any, cs: Any, labels: list[Any]) -> None:
    """Keep only the contour labels a reader can read: a label cut by the frame or
    overlapping another is dropped (the colour bar still gives the values), and the
    kept ones are placed again, inline, where they were."""
    fig.canvas.draw()  # the final layout: label extents are measured in it
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    kept: list[Any] = []
    boxes: list[Any] = []
    for text in labels:
        box = text.get_window_extent(renderer).expanded(1.1, 1.2)
        inside = (frame.x0 <= box.x0 and box.x1 <= frame.x1
                  and frame.y0 <= box.y0 and box.y1 <= frame.y1)
        if inside and not any(box.overlaps(other) for other in boxes):
            kept.append(text.get_position())
            boxes.append(box)
    for text in list(labels):
        text.remove()
    cs.labelTexts.clear()
    cs.labelCValues.clear()
    if kept:
        ax.clabel(cs, fmt=fmt, fontsize=9, inline=True, manual=kept)
