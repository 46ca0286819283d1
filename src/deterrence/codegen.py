"""Generate the batched NumPy functions of a compiled model (its "program").

From the nodes the compiler lowered, build Python functions as ``ast`` trees and compile
them: ``_setup`` (parameters -> initial state and hoisted constants), ``_make`` (closures
over the constants: the vectorised ``rates`` function whose arrays carry a run axis,
``outputs``, switch times, control values) and, for single runs, a whole Euler loop on
Python floats. One program is generated per choice of which variables are parameters and
whether the method steps at a fixed TIME STEP.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from . import functions
from .compiler import CompiledModel
from .errors import CircularDependencyError, ModelError, UnsupportedError
from .limits import deep_call
from .pyast import (
    TIME_NAMES,
    assign,
    binop,
    call,
    names_in,
    num,
    ref,
    resolve_active,
    scalar_flavour,
    store,
    tup,
    unpack,
)


def _toposort(ids: Iterable[str], deps: Callable[[str], set[str]],
              label: Callable[[str], str], what: str, path: Any) -> list[str]:
    """Dependency order of ``ids`` (deps outside ``ids`` are ignored); loops raise."""
    pending = list(dict.fromkeys(ids))
    members = set(pending)
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done
    for root in pending:
        if state.get(root) == 2:
            continue
        stack: list[tuple[str, Iterable[str]]] = [(root, iter(sorted(deps(root) & members)))]
        state[root] = 1
        while stack:
            current, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                state[current] = 2
                order.append(current)
            elif state.get(child) == 1:
                cycle = [c for c, _ in stack]
                cycle = [*cycle[cycle.index(child):], child]
                raise CircularDependencyError(
                    f"{what}: " + " -> ".join(repr(label(c)) for c in cycle),
                    path=path,
                    hint="break the loop with a stock (INTEG, SMOOTH or DELAY), "
                    "or give it an initial value",
                )
            elif state.get(child) is None:
                state[child] = 1
                stack.append((child, iter(sorted(deps(child) & members))))
    return order


def _ancestors(roots: Iterable[str], deps: Callable[[str], set[str]],
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
class Program:
    """Generated functions for one choice of which variables are parameters."""

    param_ids: list[str]
    const_ids: list[str]  # the closure constants K, in order
    stock_ids: list[str]
    discrete_ids: list[str]
    output_ids: list[str]  # time-varying nodes returned by ``outputs``
    control_ids: tuple[str, str, str, str]
    setup: Callable[..., Any]
    make_vector: Callable[..., Any]
    make_scalar_euler: Callable[..., Any] | None
    dynamic_switches: list[str]
    dynamic_controls: bool  # TIME STEP, SAVEPER or FINAL TIME change during the run
    source: str  # generated code, for reading when debugging


class _Generator:
    def __init__(self, model: CompiledModel, overridden: frozenset[str], fixed: bool) -> None:
        self.model = model
        self.fixed = fixed
        self.nodes = dict(model.nodes)
        self.params = [n.id for n in self.nodes.values()
                       if n.kind == "param" or n.id in overridden]
        self.is_param = set(self.params)
        self.path = model.path
        self._continuous_lags(fixed)

    def _continuous_lags(self, fixed: bool) -> None:
        """Lagged values become their current value unless a fixed step needs the lag."""
        lags = {nid: n for nid, n in self.nodes.items()
                if n.kind == "discrete" and n.alt is not None}
        for nid, n in lags.items():
            alt_dyn, alt_init = resolve_active(n.alt, 0), resolve_active(n.alt, 1)
            self.nodes[nid] = dataclasses.replace(
                n, kind="aux", dyn=alt_dyn, init=alt_init,
                dyn_deps=names_in(alt_dyn) & self.nodes.keys(),
                init_deps=names_in(alt_init) & self.nodes.keys(),
                uses_time=bool(names_in(alt_dyn) & set(TIME_NAMES)))
        if fixed:
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
        const = set(self.params) | {n.id for n in self.nodes.values() if n.kind == "snapshot"}
        aux = [n for n in self.nodes.values() if n.kind == "aux" and n.id not in const]
        changed = True
        while changed:
            changed = False
            for n in aux:
                if n.id not in const and not n.uses_time and n.dyn_deps <= const:
                    const.add(n.id)
                    changed = True
        return const

    def build(self) -> Program:
        nodes, path = self.nodes, self.path
        const = self.classify()
        stocks = [n.id for n in nodes.values() if n.kind == "stock"]
        discrete = [n.id for n in nodes.values() if n.kind == "discrete"]
        controls = self.model.control_ids
        dynamic_controls = [c for c in controls if c not in const]
        if dynamic_controls:
            self.check_dynamic_controls(dynamic_controls, const, stocks, discrete)
        varying_aux = [n.id for n in nodes.values() if n.kind == "aux" and n.id not in const]
        dyn_order = _toposort(varying_aux, self.dyn_deps, self.label,
                              "algebraic loop among auxiliaries", path)
        rate_needs = _ancestors(stocks + discrete, self.dyn_deps, lambda d: d in const)
        rate_order = [n for n in dyn_order if n in rate_needs]

        const_aux = [n.id for n in nodes.values()
                     if n.kind == "aux" and n.id in const and n.id not in self.is_param]
        const_order = _toposort(const_aux, self.dyn_deps, self.label,
                                "circular definition among constants", path)
        control_needs = _ancestors(self.model.control_ids, self.dyn_deps, lambda d: False)
        control_order = [n for n in const_order
                         if n in control_needs or n in self.model.control_ids]
        start_needs = _ancestors(controls[:1], self.dyn_deps, lambda d: d in const)
        start_order = [n for n in dyn_order if n in start_needs or n == controls[0]]
        ctl_needs = _ancestors(controls, self.dyn_deps, lambda d: d in const)
        ctl_order = [n for n in dyn_order if n in ctl_needs or n in controls]

        snapshots = [n.id for n in nodes.values() if n.kind == "snapshot"]
        delays = [nodes[d].delay for d in discrete]
        init_roots = stocks + snapshots + discrete + delays  # type: ignore[operator]
        init_needs = _ancestors(init_roots, self.init_deps, lambda d: d in self.is_param)
        init_needs |= {r for r in init_roots if r not in self.is_param}  # type: ignore[misc]
        init_order = _toposort(init_needs, self.init_deps, self.label,
                               "circular initialisation", path)

        k_ids = [n for n in nodes if n in const]
        output_ids = stocks + discrete + dyn_order
        dynamic_switches, breakpoints, trains = self.switch_exprs(const)

        module = ast.Module(body=[
            self.setup_fn(init_order, const_order, control_order, start_order, stocks,
                          discrete, k_ids, const),
            self.vector_fn(k_ids, stocks, discrete, rate_order, dyn_order, output_ids,
                           breakpoints, trains, ctl_order),
        ], type_ignores=[])
        scalar_module = None
        if not discrete and not dynamic_controls:
            scalar_module = ast.Module(body=[self.scalar_euler_fn(k_ids, stocks, rate_order)],
                                       type_ignores=[])
        vector_ns = self.run(module, "vector")
        scalar_ns = self.run(scalar_module, "scalar") if scalar_module else None
        return Program(
            param_ids=self.params, const_ids=k_ids, stock_ids=stocks, discrete_ids=discrete,
            output_ids=output_ids, control_ids=self.model.control_ids,  # type: ignore[arg-type]
            setup=vector_ns["_setup"], make_vector=vector_ns["_make"],
            make_scalar_euler=scalar_ns["_euler"] if scalar_ns else None,
            dynamic_switches=dynamic_switches, dynamic_controls=bool(dynamic_controls),
            source=ast.unparse(module) + ("\n\n" + ast.unparse(scalar_module)
                                          if scalar_module else ""),
        )

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
        if start in dynamic and _ancestors([start], self.dyn_deps,
                                           lambda d: d in const) & set(stocks):
            raise ModelError(f"{self.label(start)!r} depends on a stock, so the run has no "
                             "defined start", path=self.path)

    def run(self, module: ast.Module, flavour: str) -> dict[str, Any]:
        """Compile the generated module (our AST; nothing from the file is text here)."""
        if flavour == "scalar":
            module = scalar_flavour(module)
        ast.fix_missing_locations(module)
        code = compile(module, f"<deterrence:{self.path.name}:{flavour}>", "exec")
        namespace = functions.namespace(flavour)
        for table_id, (xp, fp, _kind) in self.model.tables.items():
            if flavour == "vector":
                namespace[table_id + "x"], namespace[table_id + "y"] = xp, fp
            else:
                namespace[table_id + "x"], namespace[table_id + "y"] = list(xp), list(fp)
        exec(code, namespace)
        return namespace

    def switch_exprs(self, const: set[str]) -> tuple[list[str], list[ast.expr], list[ast.expr]]:
        dynamic: list[str] = []
        points: list[ast.expr] = []
        trains: list[ast.expr] = []
        for switch in self.model.switches:
            names = set().union(*(names_in(e) for e in switch.exprs))
            if (names & set(TIME_NAMES)) or not (names & self.nodes.keys()) <= const:
                dynamic.append(switch.owner)
                continue
            resolved = [resolve_active(e, 0) for e in switch.exprs]
            if switch.train:
                trains.append(tup(resolved))  # type: ignore[arg-type]
            else:
                points.extend(resolved)  # type: ignore[arg-type]
        return sorted(set(dynamic)), points, trains

    # -- functions ---------------------------------------------------------------------

    def setup_fn(self, init_order: list[str], const_order: list[str],
                 control_order: list[str], start_order: list[str], stocks: list[str],
                 discrete: list[str], k_ids: list[str], const: set[str]) -> ast.FunctionDef:
        """``_setup(P, fixed, tiny) -> (controls, y0, K, discrete inits, delays)``.

        Controls that change during the run are returned as None, except INITIAL TIME,
        which is then evaluated at Time = 0, as Vensim does.
        """
        nodes = self.nodes
        body: list[ast.stmt] = [unpack(self.params, ref("P"))]
        body += [assign(n, _numpy_scalar(nodes[n].dyn))  # type: ignore[arg-type]
                 for n in control_order]
        if start_order:
            body += [assign(v, num(0.0)) for v in TIME_NAMES]
            body += [assign(n, nodes[n].dyn) for n in start_order]  # type: ignore[arg-type]
        it, _ft, dt, _sp = self.model.control_ids
        body.append(assign("t", call("_f64", ref(it))))
        body.append(assign("tc", ref("t")))
        half = binop("*", ref(dt), num(0.5)) if dt in const else ref("tiny")
        body.append(assign("ts", ast.BinOp(left=ref("t"), op=ast.Add(), right=ast.IfExp(
            test=ref("fixed"), body=half, orelse=ref("tiny")))))
        for n in init_order:
            body.append(assign(n, _numpy_scalar(nodes[n].init)))  # type: ignore[arg-type]
        for n in const_order:
            body.append(assign(n, _numpy_scalar(nodes[n].dyn)))  # type: ignore[arg-type]
        known = const | set(start_order)
        body.append(ast.Return(value=tup([
            tup(ref(c) if c in known else ast.Constant(None)
                   for c in self.model.control_ids),
            tup(ref(s) for s in stocks),
            tup(ref(k) for k in k_ids),
            tup(ref(d) for d in discrete),
            tup(ref(nodes[d].delay) for d in discrete),  # type: ignore[arg-type]
        ])))
        return _function("_setup", ["P", "fixed", "tiny"], body)

    def _state_loads(self, stocks: list[str], discrete: list[str]) -> list[ast.stmt]:
        body: list[ast.stmt] = []
        for i, s in enumerate(stocks):
            body.append(assign(s, ast.Subscript(value=ref("y"), slice=ast.Constant(i),
                                                 ctx=ast.Load())))
        for i, d in enumerate(discrete):
            body.append(assign(d, ast.Subscript(value=ref("z"), slice=ast.Constant(i),
                                                 ctx=ast.Load())))
        return body

    def vector_fn(self, k_ids: list[str], stocks: list[str], discrete: list[str],
                  rate_order: list[str], dyn_order: list[str], output_ids: list[str],
                  breakpoints: list[ast.expr], trains: list[ast.expr],
                  ctl_order: list[str]) -> ast.FunctionDef:
        """``_make(K) -> (rates, outputs, breakpoints, trains, controls)`` closures.

        ``rates(t, tc, ts, y, z)``: ``y`` has shape (stocks, runs); returns the derivative
        array and the values entering each DELAY FIXED pipe. ``outputs`` takes any
        trailing shape, e.g. (stocks, times, runs), and returns every varying value.
        """
        nodes = self.nodes
        args = ["t", "tc", "ts", "y", "z"]
        rates_body = self._state_loads(stocks, discrete)
        rates_body += [assign(n, nodes[n].dyn) for n in rate_order]  # type: ignore[misc]
        rates_body.append(assign("_dy", call("_empty", ast.Attribute(
            value=ref("y"), attr="shape", ctx=ast.Load()))))
        for i, s in enumerate(stocks):
            rates_body.append(ast.Assign(
                targets=[ast.Subscript(value=ref("_dy"), slice=ast.Constant(i),
                                       ctx=ast.Store())],
                value=nodes[s].dyn, lineno=0))  # type: ignore[arg-type]
        rates_body.append(ast.Return(value=tup([
            ref("_dy"), tup(nodes[d].dyn for d in discrete)])))  # type: ignore[misc]
        outputs_body = self._state_loads(stocks, discrete)
        outputs_body += [assign(n, nodes[n].dyn) for n in dyn_order]  # type: ignore[misc]
        outputs_body.append(ast.Return(value=tup(ref(n) for n in output_ids)))
        controls_body = self._state_loads(stocks, discrete)
        controls_body += [assign(n, nodes[n].dyn) for n in ctl_order]  # type: ignore[misc]
        controls_body.append(ast.Return(value=tup(
            ref(c) for c in self.model.control_ids)))
        body: list[ast.stmt] = [
            unpack(k_ids, ref("K")),
            _function("rates", args, rates_body),
            _function("outputs", args, outputs_body),
            _function("breakpoints", [], [ast.Return(value=tup(breakpoints))]),
            _function("trains", [], [ast.Return(value=tup(trains))]),
            _function("controls", args, controls_body),
            ast.Return(value=tup([ref("rates"), ref("outputs"), ref("breakpoints"),
                                     ref("trains"), ref("controls")])),
        ]
        return _function("_make", ["K"], body)

    def scalar_euler_fn(self, k_ids: list[str], stocks: list[str],
                        rate_order: list[str]) -> ast.FunctionDef:
        """``_euler(K, y0, t0, dt, n, every, half) -> (saved states, failed step)``.

        The whole Euler loop on Python floats: for one run, NumPy's per-call overhead
        would cost more than the model's arithmetic.
        """
        nodes = self.nodes
        derivs = [f"_d{i}" for i in range(len(stocks))]
        state = tup(ref(s) for s in stocks)
        loop: list[ast.stmt] = [
            assign("t", binop("+", ref("t0"), binop("*", ref("_k"), ref("dt")))),
            assign("tc", ref("t")),
            assign("ts", binop("+", ref("t"), ref("half"))),
            ast.If(test=ast.Compare(left=_binop_raw("%", ref("_k"), ref("every")),
                                    ops=[ast.Eq()], comparators=[ast.Constant(0)]),
                   body=[ast.Expr(value=call("_append", state))], orelse=[]),
            ast.If(test=ast.Compare(left=ref("_k"), ops=[ast.Eq()],
                                    comparators=[ref("n")]),
                   body=[ast.Break()], orelse=[]),
        ]
        loop += [assign(n, nodes[n].dyn) for n in rate_order]  # type: ignore[misc]
        loop += [assign(d, nodes[s].dyn) for d, s in zip(derivs, stocks, strict=True)]  # type: ignore[misc]
        loop += [assign(s, binop("+", ref(s), binop("*", ref("dt"), ref(d))))
                 for d, s in zip(derivs, stocks, strict=True)]
        if stocks:
            total = _balanced_sum([ref(s) for s in stocks])
            loop.append(ast.If(
                test=ast.UnaryOp(op=ast.Not(), operand=call("_isfinite", total)),
                body=[ast.Return(value=tup([ref("_out"), ref("_k")]))], orelse=[]))
        body: list[ast.stmt] = [
            unpack(k_ids, ref("K")),
            unpack(stocks, ref("y0")),
            assign("_out", ast.List(elts=[], ctx=ast.Load())),
            assign("_append", ast.Attribute(value=ref("_out"), attr="append",
                                             ctx=ast.Load())),
            ast.For(target=store("_k"),
                    iter=call("range", binop("+", ref("n"), ast.Constant(1))),
                    body=loop, orelse=[], lineno=0),
            ast.Return(value=tup([ref("_out"), ast.Constant(-1)])),
        ]
        return _function("_euler", ["K", "y0", "t0", "dt", "n", "every", "half"], body)


def _balanced_sum(terms: list[ast.expr]) -> ast.expr:
    """``a + b + ...`` as a balanced tree: thousands of stocks stay a few levels deep."""
    if len(terms) == 1:
        return terms[0]
    mid = len(terms) // 2
    return ast.BinOp(left=_balanced_sum(terms[:mid]), op=ast.Add(),
                     right=_balanced_sum(terms[mid:]))


def _numpy_scalar(expr: ast.expr) -> ast.expr:
    """A literal as np.float64, so arithmetic on the value follows NumPy (1/0 is inf)."""
    return call("_f64", expr) if isinstance(expr, ast.Constant) else expr


def _binop_raw(op: str, left: ast.expr, right: ast.expr) -> ast.BinOp:
    return ast.BinOp(left=left, op={"%": ast.Mod}[op](), right=right)


def _function(name: str, args: list[str], body: list[ast.stmt]) -> ast.FunctionDef:
    return ast.FunctionDef(
        name=name,
        args=ast.arguments(posonlyargs=[], args=[ast.arg(arg=a) for a in args],
                           kwonlyargs=[], kw_defaults=[], defaults=[]),
        body=body or [ast.Pass()], decorator_list=[], returns=None, type_params=[],
        lineno=0,
    )



def build_program(model: CompiledModel, overridden: frozenset[str], fixed: bool) -> Program:
    """The generated code where the nodes in ``overridden`` are parameters too.

    ``fixed``: for Euler/RK4, which may keep step-based (discrete) state. Python's
    ``compile`` and the tree rewrites recurse once a level of nesting, hence the limit.
    """
    return deep_call(lambda: _Generator(model, overridden, fixed).build())
