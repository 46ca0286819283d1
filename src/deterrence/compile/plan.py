"""The evaluation plan: which values are constant, and in which order the others run.

For one choice of which variables are parameters and whether the method steps at a fixed
TIME STEP, the plan classifies every node (constants are hoisted out of the time loop),
orders the auxiliaries by dependency (a loop among them is an error naming it), and
collects the switch times. Emitters turn a plan into code; it holds no code itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import CircularDependencyError, ModelError, UnsupportedError
from . import ir
from .ir import Node, NodeKind
from .lower import CompiledModel


def toposort(ids: Iterable[str], deps: Callable[[str], set[str]],
             label: Callable[[str], str], what: str, path: Path) -> list[str]:
    """Dependency order of ``ids`` (deps outside ``ids`` are ignored); loops raise."""
    pending = list(dict.fromkeys(ids))
    members = set(pending)
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done
    for root in pending:
        if state.get(root) == 2:
            continue
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(deps(root) & members)))]
        state[root] = 1
        while stack:
            current, todo = stack[-1]
            child = next(todo, None)
            if child is None:
                stack.pop()
                state[current] = 2
                order.append(current)
            elif state.get(child) == 1:
                cycle = [c for c, _ in stack]
                cycle = [*cycle[cycle.index(child):], child]
                raise CircularDependencyError(
                    f"{what}: " + " -> ".join(repr(label(c)) for c in cycle), path=path,
                    hint="break the loop with a stock (INTEG, SMOOTH or DELAY), "
                    "or give it an initial value")
            elif state.get(child) is None:
                state[child] = 1
                stack.append((child, iter(sorted(deps(child) & members))))
    return order


def ancestors(roots: Iterable[str], deps: Callable[[str], set[str]],
              stop: Callable[[str], bool]) -> set[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        current = todo.pop()
        for dep in deps(current):
            if dep not in seen and not stop(dep):
                seen.add(dep)
                todo.append(dep)
    return seen


@dataclass
class Plan:
    """Everything an emitter needs, as node ids in evaluation order."""

    model: CompiledModel
    nodes: dict[str, Node]  # the model's, with step lags resolved for this method
    fixed: bool
    params: list[str]
    const: set[str]  # nodes whose value never changes during a run
    k_ids: list[str]  # the constants handed to the run functions, in order
    stocks: list[str]
    discrete: list[str]
    dynamic_controls: list[str]  # controls that change during the run
    init_order: list[str]  # evaluated once, to start the stocks
    const_order: list[str]  # constant auxiliaries
    control_order: list[str]  # constants the control values need
    start_order: list[str]  # varying values INITIAL TIME needs (evaluated at Time = 0)
    dyn_order: list[str]  # every varying auxiliary
    rate_order: list[str]  # those the derivatives need
    ctl_order: list[str]  # those the control values need
    output_ids: list[str]  # time-varying values returned by ``outputs``
    dynamic_switches: list[str]  # owners whose switch times change during the run
    breakpoints: list[ir.Expr]
    trains: list[tuple[ir.Expr, ...]]

    @property
    def path(self) -> Path:
        return self.model.path

    def label(self, node_id: str) -> str:
        return self.nodes[node_id].label


class _Planner:
    def __init__(self, model: CompiledModel, overridden: frozenset[str], fixed: bool) -> None:
        self.model = model
        self.fixed = fixed
        self.nodes = dict(model.nodes)
        self.params = [n.id for n in self.nodes.values()
                       if n.kind == NodeKind.PARAM or n.id in overridden]
        self.is_param = set(self.params)
        self.path = model.path
        self._continuous_lags()

    def _continuous_lags(self) -> None:
        """Lagged values become their current value unless a fixed step needs the lag."""
        lags = {nid: n for nid, n in self.nodes.items()
                if n.kind == NodeKind.DISCRETE and n.alt is not None}
        for nid, n in lags.items():
            current = dataclasses.replace(n, kind=NodeKind.AUX, raw=n.alt, raw_init=None)
            current.resolve(self.nodes)
            self.nodes[nid] = current
        if self.fixed:
            const = self.classify()
            for nid, n in lags.items():
                if nid not in const:
                    self.nodes[nid] = n

    def label(self, node_id: str) -> str:
        return self.nodes[node_id].label

    def dyn_deps(self, node_id: str) -> set[str]:
        return set() if node_id in self.is_param else self.nodes[node_id].dyn_deps

    def init_deps(self, node_id: str) -> set[str]:
        return set() if node_id in self.is_param else self.nodes[node_id].init_deps

    def classify(self) -> set[str]:
        """Nodes whose value never changes during a run (hoisted out of the loop)."""
        const = set(self.params) | {n.id for n in self.nodes.values()
                                    if n.kind == NodeKind.SNAPSHOT}
        aux = [n for n in self.nodes.values() if n.kind == NodeKind.AUX and n.id not in const]
        changed = True
        while changed:
            changed = False
            for n in aux:
                if n.id not in const and not n.uses_time and n.dyn_deps <= const:
                    const.add(n.id)
                    changed = True
        return const

    def plan(self) -> Plan:
        nodes, path = self.nodes, self.path
        const = self.classify()
        stocks = [n.id for n in nodes.values() if n.kind == NodeKind.STOCK]
        discrete = [n.id for n in nodes.values() if n.kind == NodeKind.DISCRETE]
        controls = self.model.control_ids
        dynamic_controls = [c for c in controls if c not in const]
        if dynamic_controls:
            self.check_dynamic_controls(dynamic_controls, const, stocks, discrete)
        varying_aux = [n.id for n in nodes.values()
                       if n.kind == NodeKind.AUX and n.id not in const]
        dyn_order = toposort(varying_aux, self.dyn_deps, self.label,
                             "algebraic loop among auxiliaries", path)
        rate_needs = ancestors(stocks + discrete, self.dyn_deps, lambda d: d in const)
        const_aux = [n.id for n in nodes.values()
                     if n.kind == NodeKind.AUX and n.id in const and n.id not in self.is_param]
        const_order = toposort(const_aux, self.dyn_deps, self.label,
                               "circular definition among constants", path)
        control_needs = ancestors(controls, self.dyn_deps, lambda d: False)
        start_needs = ancestors(controls[:1], self.dyn_deps, lambda d: d in const)
        ctl_needs = ancestors(controls, self.dyn_deps, lambda d: d in const)

        snapshots = [n.id for n in nodes.values() if n.kind == NodeKind.SNAPSHOT]
        delays = [nodes[d].delay for d in discrete]
        init_roots: list[str] = stocks + snapshots + discrete + delays  # type: ignore[operator]
        init_needs = ancestors(init_roots, self.init_deps, lambda d: d in self.is_param)
        init_needs |= {r for r in init_roots if r not in self.is_param}
        dynamic_switches, breakpoints, trains = self.switch_exprs(const)
        return Plan(
            model=self.model, nodes=nodes, fixed=self.fixed, params=self.params, const=const,
            k_ids=[n for n in nodes if n in const], stocks=stocks, discrete=discrete,
            dynamic_controls=dynamic_controls,
            init_order=toposort(init_needs, self.init_deps, self.label,
                                "circular initialisation", path),
            const_order=const_order,
            control_order=[n for n in const_order if n in control_needs or n in controls],
            start_order=[n for n in dyn_order if n in start_needs or n == controls[0]],
            dyn_order=dyn_order, rate_order=[n for n in dyn_order if n in rate_needs],
            ctl_order=[n for n in dyn_order if n in ctl_needs or n in controls],
            output_ids=stocks + discrete + dyn_order, dynamic_switches=dynamic_switches,
            breakpoints=breakpoints, trains=trains)

    def check_dynamic_controls(self, dynamic: list[str], const: set[str], stocks: list[str],
                               discrete: list[str]) -> None:
        """Vensim lets TIME STEP, SAVEPER and FINAL TIME change during a run (fixed steps)."""
        names = ", ".join(repr(self.label(c)) for c in dynamic)
        if not self.fixed:
            raise ModelError(f"{names} change(s) during the run, which only the fixed-step "
                             "methods follow", path=self.path,
                             hint="simulate with method='euler' or 'rk4'")
        if discrete:
            raise UnsupportedError(f"{names} change(s) during the run, together with DELAY "
                                   "FIXED, whose pipeline assumes a constant TIME STEP",
                                   path=self.path)
        start = self.model.control_ids[0]
        if start in dynamic and ancestors([start], self.dyn_deps,
                                          lambda d: d in const) & set(stocks):
            raise ModelError(f"{self.label(start)!r} depends on a stock, so the run has no "
                             "defined start", path=self.path)

    def switch_exprs(self, const: set[str]
                     ) -> tuple[list[str], list[ir.Expr], list[tuple[ir.Expr, ...]]]:
        """Switch times known before the run (constant), and owners of the others."""
        dynamic: list[str] = []
        points: list[ir.Expr] = []
        trains: list[tuple[ir.Expr, ...]] = []
        for switch in self.model.switches:
            exprs = switch.exprs
            if any(ir.uses_time(e) for e in exprs) or not set().union(
                    *(ir.refs(e) for e in exprs)) & self.nodes.keys() <= const:
                dynamic.append(switch.owner)
                continue
            resolved = [ir.resolve_active(e, 0) for e in exprs]
            if switch.train:
                trains.append(tuple(resolved))  # type: ignore[arg-type]
            else:
                points.extend(resolved)  # type: ignore[arg-type]
        return sorted(set(dynamic)), points, trains


def make_plan(model: CompiledModel, overridden: frozenset[str], fixed: bool) -> Plan:
    """The plan where the nodes in ``overridden`` are parameters too (``fixed``: for
    Euler/RK4, which may keep step-based state)."""
    return _Planner(model, overridden, fixed).plan()
