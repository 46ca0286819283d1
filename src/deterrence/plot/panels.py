"""Small multiples over time: panels, line styles, titles and the shared legend.

The scenario comparison, the difference from baseline and the fan chart are all one
panel per variable over time, so they share this layout and read alike.
"""

from __future__ import annotations

import math
import re
import textwrap
from typing import Any

import matplotlib as mpl
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from .select import TIME, Frame
from .style import (
    BASELINE_COLOR,
    BASELINE_DASH,
    BRIEFING_SIZE,
    DASHES,
    PALETTE,
    STYLE,
    SUBTITLE_SIZE,
    new_figure,
    normalise,
    plain,
    short_title,
    units_of,
)


def line_styles(frame: Frame, baseline: int | None) -> list[dict[str, Any]]:
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
                "linestyle": DASHES[(k // len(PALETTE)) % len(DASHES)],
                "linewidth": 2.0,
                "zorder": 3,
            }
    if baseline is not None:
        styles[baseline] = {
            "color": BASELINE_COLOR,
            "linestyle": BASELINE_DASH,
            "linewidth": 2.6,
            "zorder": 4,
        }
    return styles


def drawing_order(n: int, baseline: int | None) -> list[int]:
    """Baseline last, so it stays visible on top of lines that coincide with it."""
    return [i for i in range(n) if i != baseline] + ([baseline] if baseline is not None else [])


def legend_order(n: int, baseline: int | None) -> list[int]:
    """Baseline first, so the legend starts with the reference."""
    return ([baseline] if baseline is not None else []) + [i for i in range(n) if i != baseline]


def panel_grid(n: int, figsize: tuple[float, float] | None) -> tuple[Figure, list[Axes], int]:
    """Small multiples, 2 or 3 columns, x shared, tick labels under each column's last."""
    ncols = 1 if n == 1 else 2 if n in (2, 4) else 3 if n <= 9 else 4
    nrows = math.ceil(n / ncols)
    if figsize is None:
        width, height = BRIEFING_SIZE
        figsize = (width, max(height, 2.6 * nrows + 1.8))
    fig = new_figure(figsize)
    grid = fig.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()
    for ax in grid[n:]:
        ax.remove()
    axes = list(grid[:n])
    for i, ax in enumerate(axes):
        if i + ncols >= n:  # nothing below it: it carries the time axis
            ax.tick_params(axis="x", labelbottom=True)
    return fig, axes, ncols


def _panel_text(name: str, da: xr.DataArray, fig: Figure, ncols: int) -> tuple[str, list[str]]:
    """Short bold title and whole sentences of the documentation, wrapped to fit."""
    panel_inches = fig.get_figwidth() / ncols - 0.9
    title_chars = max(12, int(panel_inches * 72 / (STYLE["axes.titlesize"] * 0.62)))
    sub_chars = max(16, int(panel_inches * 72 / (SUBTITLE_SIZE * 0.52)))
    title = textwrap.shorten(short_title(name, da), width=title_chars, placeholder=" …")
    long_name = " ".join(str(da.attrs.get("long_name", "")).split())
    lines: list[str] = []
    if long_name and normalise(long_name) not in (normalise(title), normalise(name)):
        lines = _subtitle(long_name, sub_chars)
    return title, lines


def _subtitle(text: str, width: int, room: int = 3, most: int = 4) -> list[str]:
    """Whole sentences of the documentation, wrapped: as many as fit in ``room`` lines,
    at least the first (cut, with an ellipsis, only past ``most`` lines)."""
    sentences = re.split(r"(?<=[.!?])\s+", text)
    shown = sentences[0]
    for sentence in sentences[1:]:
        if len(textwrap.wrap(f"{shown} {sentence}", width=width)) > room:
            break
        shown = f"{shown} {sentence}"
    return textwrap.wrap(shown, width=width, max_lines=most, placeholder=" …")


def _title_panel(ax: Axes, title: str, lines: list[str], room: int) -> None:
    """Title at the same height in every panel (room for ``room`` subtitle lines).

    The subtitle hangs under the title, so panels with shorter descriptions keep their
    titles in line with their neighbours.
    """
    line_height = SUBTITLE_SIZE * 1.2
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
            fontsize=SUBTITLE_SIZE,
            color="#444444",
            annotation_clip=False,
        )


def _time_label(ds: xr.Dataset) -> str:
    """The x axis title, with the time's units when the results give them."""
    units = units_of(ds[TIME])
    return f"Time ({units})" if units else "Time"


def label_axes(
    axes: list[Axes], ncols: int, ds: xr.Dataset, frame: Frame, fig: Figure, ylabel: Any
) -> None:
    """Titles, subtitles and axis labels of every panel, aligned across panels."""
    xlabel = _time_label(ds)
    texts = [_panel_text(name, da, fig, ncols) for name, da in frame.arrays.items()]
    room = max((len(lines) for _, lines in texts), default=0)
    for i, (ax, da, (title, lines)) in enumerate(
        zip(axes, frame.arrays.values(), texts, strict=True)
    ):
        _title_panel(ax, title, lines, room)
        ax.set_ylabel(plain(ylabel(units_of(da))))
        # The axis title only on the bottom row: a panel above an empty slot keeps its
        # tick labels but no title, so the rows stay evenly spaced.
        if i >= (math.ceil(len(axes) / ncols) - 1) * ncols:
            ax.set_xlabel(plain(xlabel))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5))
        ax.margins(x=0)
    fig.align_ylabels(axes)


def figure_legend(
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
    em = STYLE["legend.fontsize"]
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


def suptitle(fig: Figure, title: str | None, default: str, notes: list[str]) -> None:
    """A caller's ``title`` as given (it may use mathtext); the default, from the data, plain."""
    text = plain(default) if title is None else title
    if notes and title is None:
        text = f"{text} ({plain('; '.join(notes))})"
    if text:
        fig.suptitle(text, fontweight="bold", x=0.01, ha="left")


def baseline_text(label: str, suffix: str = "baseline") -> str:
    """``label (suffix)``; a baseline whose name already says so is left as it is."""
    return label if suffix == "baseline" and "baseline" in label.lower() else f"{label} ({suffix})"
