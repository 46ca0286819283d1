"""The signed stock graph of a model and its feedback loops.

An arrow from stock A to stock B means A enters the equations of B's flows, through
auxiliaries and hidden stocks (SMOOTH, DELAY). Its polarity is the sign of the partial
derivative of B's net flow with respect to A, measured along the default run
(:meth:`Model.jacobians`); a link whose derivative is zero along that run (it acts only
under a shock) is inactive. Feedback loops are the cycles of that signed graph:
reinforcing (R) when the product of signs is positive, balancing (B) when negative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np

from ..model import Model


@dataclass(frozen=True)
class Link:
    """Stock ``source`` enters the net flow of stock ``target`` with ``sign`` (0: unknown)."""

    source: str
    target: str
    sign: int
    active: bool  # non-zero derivative somewhere along the default run


@dataclass(frozen=True)
class Loop:
    """A feedback loop: its stocks in order, starting from the first by name."""

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


def stock_links(model: Model) -> list[Link]:
    """Signed influences between the model's (visible) stocks; hidden stocks collapsed."""
    nodes = model.compiled.nodes
    order, jacobians = model.jacobians()
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
