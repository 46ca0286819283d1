"""Stock-and-flow structure drawn from the model file itself, and its feedback loops.

The picture is generated, never drawn by hand, so it stays true when the model changes:
stocks are boxes listing their inflows and outflows (read from each INTEG's net rate),
and an arrow from stock A to stock B means A enters the equations of B's flows, through
auxiliaries and hidden stocks (SMOOTH, DELAY). Its polarity is the sign of the partial
derivative of B's net flow with respect to A, measured by finite differences along the
default run; a link whose derivative is zero along that run (it acts only under a shock)
is drawn dashed. Feedback loops are the cycles of that signed graph: reinforcing (R) when
the product of signs is positive, balancing (B) when negative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from . import integrate
from .errors import ModelError
from .model import Model
from .plot import plain

POSITIVE, NEGATIVE, INACTIVE = "#0072B2", "#D55E00", "#999999"


@dataclass(frozen=True)
class Link:
    """Stock ``source`` enters the net flow of stock ``target`` with ``sign`` (0: unknown)."""

    source: str
    target: str
    sign: int
    active: bool  # non-zero derivative somewhere along the default run


@dataclass(frozen=True)
class Loop:
    stocks: tuple[str, ...]
    polarity: str  # "R" reinforcing, "B" balancing, "?" a link of unknown sign

    def describe(self) -> str:
        return " -> ".join((*self.stocks, self.stocks[0]))


def _structural_parents(model: Model) -> dict[str, set[str]]:
    """For each state node, the state nodes its derivative reads (through auxiliaries)."""
    nodes = model.compiled.nodes
    stocks = {n.id for n in nodes.values() if n.kind == "stock"}
    parents: dict[str, set[str]] = {}
    for sid in stocks:
        seen: set[str] = set()
        todo = list(nodes[sid].dyn_deps)
        found: set[str] = set()
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            if current in stocks:
                found.add(current)
            elif nodes[current].kind in ("aux", "discrete"):
                todo.extend(nodes[current].dyn_deps)
        parents[sid] = found
    return parents


def _jacobians(model: Model, samples: int = 6) -> tuple[list[str], list[np.ndarray]]:
    """d(rates)/d(state) by central differences at a few states of the default run."""
    program = model.program(frozenset(), True)
    params = model._param_values(program, {})
    with np.errstate(all="ignore"):
        controls, y0_raw, constants, z_init, z_delays = program.setup(params, True, 1e-9)
        rates, *_ = program.make_vector(constants)
        grid = _default_grid(model, controls)
        y0 = np.array([[float(np.ravel(v)[0])] for v in y0_raw]).reshape(len(y0_raw), 1)
        trajectory = integrate.fixed_step(rates, y0, z_init, z_delays, grid, "euler")
        picks = np.unique(np.linspace(0, len(grid.save_times) - 1, samples).astype(int))
        jacobians = []
        for k in picks:
            y = trajectory.states[:, k, :].copy()
            z = tuple(trajectory.discrete[:, k])
            t = float(grid.save_times[k])
            n = y.shape[0]
            jac = np.zeros((n, n))
            for j in range(n):
                h = 1e-6 * max(1.0, abs(float(y[j, 0])))
                up, down = y.copy(), y.copy()
                up[j] += h
                down[j] -= h
                f_up, _ = rates(t, t, t + grid.dt / 2, up, z)
                f_down, _ = rates(t, t, t + grid.dt / 2, down, z)
                jac[:, j] = (f_up[:, 0] - f_down[:, 0]) / (2 * h)
            jacobians.append(jac)
    return program.stock_ids, jacobians


def _default_grid(model: Model, controls: tuple[Any, ...]) -> integrate.Grid:
    """The default run's Euler grid, from the engine's public grid builder."""
    try:
        return integrate.make_grid(*(float(np.ravel(v)[0]) for v in controls), method="euler")
    except ValueError as exc:
        raise ModelError(str(exc), path=model.path) from None


def stock_links(model: Model) -> list[Link]:
    """Signed influences between the model's (visible) stocks; hidden stocks collapsed."""
    nodes = model.compiled.nodes
    order, jacobians = _jacobians(model)
    index = {sid: i for i, sid in enumerate(order)}
    parents = _structural_parents(model)
    visible = {sid for sid in order if nodes[sid].var is not None}

    def sign(source: str, target: str) -> int:
        values = [jac[index[target], index[source]] for jac in jacobians]
        scale = max(abs(v) for v in values) if values else 0.0
        significant = [v for v in values if abs(v) > 1e-9 * max(1.0, scale)]
        signs = {int(np.sign(v)) for v in significant}
        return signs.pop() if len(signs) == 1 else 0

    links: dict[tuple[str, str], Link] = {}
    for target in visible:
        # walk back from the target through hidden stocks to visible sources
        stack = [(p, sign(p, target)) for p in parents[target]]
        seen: set[str] = set()
        while stack:
            source, s = stack.pop()
            if source in seen:
                continue
            seen.add(source)
            if source in visible:
                if source != target:
                    active = s != 0
                    key = (nodes[source].label, nodes[target].label)
                    previous = links.get(key)
                    if previous is not None and previous.sign != s:
                        s = 0
                    links[key] = Link(*key, sign=s, active=active or bool(
                        previous and previous.active))
                continue
            for p in parents[source]:
                inner = sign(p, source)
                stack.append((p, s * inner))
    return sorted(links.values(), key=lambda link: (link.source, link.target))


def feedback_loops(model: Model, max_length: int = 4,
                   links: list[Link] | None = None) -> list[Loop]:
    """Cycles of the stock graph up to ``max_length`` stocks, with their polarity."""
    links = stock_links(model) if links is None else links
    graph = nx.DiGraph()
    for link in links:
        graph.add_edge(link.source, link.target, sign=link.sign)
    loops = []
    for cycle in nx.simple_cycles(graph, length_bound=max_length):
        signs = [graph.edges[a, b]["sign"] for a, b in zip(cycle, cycle[1:] + cycle[:1],
                                                          strict=True)]
        product = math.prod(signs)
        polarity = "?" if product == 0 else ("R" if product > 0 else "B")
        start = cycle.index(min(cycle))
        loops.append(Loop(tuple(cycle[start:] + cycle[:start]), polarity))
    return sorted(loops, key=lambda loop: (len(loop.stocks), loop.stocks))


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
    mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
    dx, dy = b[0] - a[0], b[1] - a[1]
    return mx + rad * dy / 2, my - rad * dx / 2


def write(model: Model, out: str | Path, max_loop_length: int = 4) -> tuple[Path, list[Loop]]:
    """Draw the diagram to ``out`` (its metadata records the model's sha256)."""
    from .plot import save_figure

    links = stock_links(model)
    path = save_figure(draw(model, links), out, description=f"model sha256 {model.sha256}")
    return path, feedback_loops(model, max_loop_length, links)
