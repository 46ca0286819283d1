"""The stock-and-flow picture, generated from the model file, never drawn by hand.

Stocks are boxes listing their inflows and outflows (read from each INTEG's net rate);
arrows are the signed links of :mod:`deterrence.structure.graph`, dashed where a link
acts only under a shock. So the picture stays true when the model changes.
"""

from __future__ import annotations

import math
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from ..model import Model
from ..plot import plain, save_figure
from .graph import Link, Loop, feedback_loops, stock_links

POSITIVE, NEGATIVE, INACTIVE = "#0072B2", "#D55E00", "#999999"


def draw(model: Model, links: list[Link] | None = None) -> Figure:
    """The stock-and-flow picture: stock boxes with their flows, signed stock links."""
    links = stock_links(model) if links is None else links
    stocks = list(model.compiled.stock_flows)
    n = len(stocks)
    fig = Figure(figsize=(13, 11), layout="constrained")
    ax = fig.add_subplot()
    ax.set_axis_off()
    angle = {s: math.pi / 2 - 2 * math.pi * i / max(n, 1) for i, s in enumerate(stocks)}
    pos = {s: (math.cos(angle[s]), math.sin(angle[s])) for s in stocks}
    boxes = {}
    for stock in stocks:
        flows = model.compiled.stock_flows[stock]
        lines = [stock] + [("+ " if sign > 0 else "\u2212 ") + name for name, sign in flows]
        x, y = pos[stock]
        boxes[stock] = ax.text(
            x, y, plain("\n".join(lines)), ha="center", va="center", fontsize=9.5, zorder=3,
            bbox={"boxstyle": "square,pad=0.5", "facecolor": "white",
                  "edgecolor": "black", "linewidth": 1.6})
        boxes[stock].set_fontweight("normal")
    for link in links:
        if link.source not in pos or link.target not in pos:
            continue
        colour = INACTIVE if not link.active or link.sign == 0 else (
            POSITIVE if link.sign > 0 else NEGATIVE)
        arrow = FancyArrowPatch(
            posA=pos[link.source], posB=pos[link.target], patchA=boxes[link.source],
            patchB=boxes[link.target], arrowstyle="-|>", mutation_scale=14,
            connectionstyle="arc3,rad=0.12", color=colour, linewidth=1.3,
            linestyle="-" if link.active else "--", zorder=2, alpha=0.9)
        ax.add_patch(arrow)
        mid = _arc_midpoint(pos[link.source], pos[link.target], 0.12)
        if link.active and link.sign:
            ax.text(*mid, "+" if link.sign > 0 else "\u2212", color=colour, fontsize=12,
                    fontweight="bold", ha="center", va="center", zorder=4)
    ax.set_xlim(-1.45, 1.45)
    ax.set_ylim(-1.35, 1.35)
    ax.set_aspect("equal")
    fig.suptitle(plain(f"Stock-and-flow structure of {model.path.name} (generated from the file)"),
                 fontsize=14, fontweight="bold")
    ax.set_title("Boxes: stocks with their inflows (+) and outflows (\u2212).  Arrows: a stock "
                 "enters the flows of another;\nblue +: same direction, orange \u2212: "
                 "opposite direction (along the default run); grey dashed: acts only "
                 "under shocks.", fontsize=10)
    return fig


def _arc_midpoint(a: tuple[float, float], b: tuple[float, float],
                  rad: float) -> tuple[float, float]:
    """Where an ``arc3`` arrow of curvature ``rad`` peaks: its sign is drawn there."""
    mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
    dx, dy = b[0] - a[0], b[1] - a[1]
    return mx + rad * dy / 2, my - rad * dx / 2


def write(model: Model, out: str | Path, max_loop_length: int = 4) -> tuple[Path, list[Loop]]:
    """Draw the diagram to ``out`` (its metadata records the model's sha256)."""
    links = stock_links(model)
    path = save_figure(draw(model, links), out, description=f"model sha256 {model.sha256}")
    return path, feedback_loops(model, max_loop_length, links)
