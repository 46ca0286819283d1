"""Emit a plan as NumPy code: IR -> Python ``ast`` -> compiled functions (a "program").

``_setup`` (parameters -> initial state and hoisted constants), ``_make`` (closures over
the constants: the vectorised ``rates`` whose arrays carry a run axis, ``outputs``,
switch times, control values) and, for single runs, a whole Euler loop on Python floats.
The code is built node by node from generated identifiers, numbers and library entries,
and compiled with the built-in ``compile``: no text from the model file becomes code.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from ..errors import UnsupportedError
from ..library import FUNCTIONS, namespace
from ..limits import deep_call
from . import arrayops, ir
from .lower import CompiledModel
from .plan import Plan, make_plan


class Controls(NamedTuple):
    """INITIAL TIME, FINAL TIME, TIME STEP and SAVEPER (None: changes during the run)."""

    initial_time: Any
    final_time: Any
    time_step: Any
    saveper: Any


class Setup(NamedTuple):
    """What ``Program.setup`` returns: the start of a run."""

    controls: Controls
    y0: tuple[Any, ...]  # one value (or run array) per stock
    constants: tuple[Any, ...]  # the hoisted constants, handed to ``make_vector``
    discrete_init: tuple[Any, ...]  # DELAY FIXED pipes: initial values
    discrete_delays: tuple[Any, ...]  # and delay times


class Kernels(NamedTuple):
    """What ``Program.make_vector`` returns: the run's functions, closed over constants.

    ``rates(t, tc, ts, y, z) -> Rates``; ``outputs(...)`` -> every varying value in
    ``Program.output_ids`` order; ``breakpoints()``/``trains()`` -> switch times;
    ``controls(...) -> Controls`` during the run.
    """

    rates: Callable[..., Rates]
    outputs: Callable[..., tuple[Any, ...]]
    breakpoints: Callable[[], tuple[Any, ...]]
    trains: Callable[[], tuple[tuple[Any, ...], ...]]
    controls: Callable[..., Controls]


class Rates(NamedTuple):
    dy: np.ndarray  # derivative of each stock, shape of y
    pipe_in: tuple[Any, ...]  # the values entering each DELAY FIXED pipe


class EulerRun(NamedTuple):
    saved: list[tuple[float, ...]]  # the stocks at each save
    failed_step: int  # the step where a stock stopped being finite, or -1


@dataclass
class Program:
    """Generated functions for one choice of which variables are parameters."""

    param_ids: list[str]
    const_ids: list[str]  # the closure constants K, in order
    stock_ids: list[str]
    discrete_ids: list[str]
    output_ids: list[str]  # time-varying nodes returned by ``outputs``
    control_ids: tuple[str, str, str, str]
    setup: Callable[..., Setup]  # (P, fixed, tiny)
    make_vector: Callable[..., Kernels]  # (K)
    make_scalar_euler: Callable[..., EulerRun] | None  # (K, y0, t0, dt, n, every, half)
    dynamic_switches: list[str]
    dynamic_controls: bool  # TIME STEP, SAVEPER or FINAL TIME change during the run
    source: str  # generated code, for reading when debugging
    plan: Plan | None = None  # what the native backend compiles (compile/emit_native.py)
    native: Any = None  # its NativeProgram, built when first asked for (backends.py)
    #: subscripted nodes' axes; a subscripted stock is several rows of the state (its
    #: elements, in C order), ``rows[node] = (start, stop)``, its id repeated in stock_ids
    axes: dict[str, tuple[ir.Axis, ...]] = field(default_factory=dict)
    rows: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: what callers work out once per program (the Dataset layout of results.py)
    memo: dict[Any, Any] = field(default_factory=dict)

    def element_shapes(self) -> list[tuple[int, ...]]:
        """The subscript shape of each computed output, () if scalar (worked out once)."""
        found = self.memo.get("element shapes")
        if found is None:
            found = self.memo["element shapes"] = [
                tuple(len(a.elements) for a in self.axes.get(node, ()))
                for node in self.output_ids[len(self.stock_ids):]]
        return found  # type: ignore[no-any-return]


_RESULTS = {"_Controls": Controls, "_Setup": Setup, "_Kernels": Kernels, "_Rates": Rates,
            "_EulerRun": EulerRun}
_BINOPS = {ir.Op.ADD: ast.Add, ir.Op.SUB: ast.Sub, ir.Op.MUL: ast.Mult, ir.Op.DIV: ast.Div,
           ir.Op.POW: ast.Pow}
_CMPOPS = {ir.Cmp.EQ: ast.Eq, ir.Cmp.NE: ast.NotEq, ir.Cmp.LT: ast.Lt, ir.Cmp.LE: ast.LtE,
           ir.Cmp.GT: ast.Gt, ir.Cmp.GE: ast.GtE}


# -- small AST constructors ------------------------------------------------------------


def _ref(identifier: str) -> ast.Name:
    return ast.Name(id=identifier, ctx=ast.Load())


def _store(identifier: str) -> ast.Name:
    return ast.Name(id=identifier, ctx=ast.Store())


def _call(func: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=_ref(func), args=list(args), keywords=[])


def _assign(target: str, value: ast.expr) -> ast.Assign:
    return ast.Assign(targets=[_store(target)], value=value, lineno=0)


def _unpack(targets: list[str], value: ast.expr) -> ast.stmt:
    if not targets:
        return ast.Expr(value=ast.Constant(value=None))
    return ast.Assign(targets=[ast.Tuple(elts=[_store(t) for t in targets], ctx=ast.Store())],
                      value=value, lineno=0)


def _tup(items: Iterable[ast.expr]) -> ast.Tuple:
    return ast.Tuple(elts=list(items), ctx=ast.Load())


def _function(name: str, args: list[str], body: list[ast.stmt]) -> ast.FunctionDef:
    return ast.FunctionDef(
        name=name, args=ast.arguments(posonlyargs=[], args=[ast.arg(arg=a) for a in args],
                                      kwonlyargs=[], kw_defaults=[], defaults=[]),
        body=body or [ast.Pass()], decorator_list=[], returns=None, type_params=[], lineno=0)


# -- expressions -----------------------------------------------------------------------


class _Expressions:
    """IR -> ``ast`` for one flavour; shared subtrees are emitted once and shared.

    The native flavour (numba, :mod:`.emit_native`) makes every value a float64: a
    comparison is 1.0 or 0.0 and IF THEN ELSE ``a if c else b``. The scalar flavour
    (Python floats, one run) writes IF THEN ELSE as ``a if c else b``
    (only one branch runs) and ``^`` as ``math.pow``, which raises instead of returning
    a complex number, so the caller falls back to the vector flavour.
    """

    def __init__(self, flavour: str,
                 node_axes: Callable[[str], tuple[str, ...]] | None = None) -> None:
        # subscripts: operands are aligned by axis name (only the vector flavour has them)
        self.node_axes = node_axes
        self.axes_memo: dict[int, tuple[str, ...]] = {}
        self.scalar = flavour == "scalar"
        # numba's flavour (emit_native): every value a float64, a comparison 1.0 or 0.0
        self.native = flavour == "native"
        self.done: dict[int, ast.expr] = {}

    def __call__(self, expr: ir.Expr) -> ast.expr:
        cached = self.done.get(id(expr))
        if cached is None:
            cached = self.done[id(expr)] = self._emit(expr)
        return cached

    def axes(self, e: ir.Expr) -> tuple[str, ...]:
        if self.node_axes is None:
            return ()
        return ir.axes_of(e, self.node_axes, self.axes_memo)

    def aligned(self, e: ir.Expr, target: tuple[str, ...]) -> ast.expr:
        """``e`` with its axes transposed and expanded to ``target`` (computed here, at
        compile time); a number broadcasts as it is."""
        code = self(e)
        source = self.axes(e)
        if not target or source == target or isinstance(e, ir.Const):
            return code
        perm, index = arrayops.alignment(source, target)
        return _call("_a_align", code, _tup(ast.Constant(p) for p in perm), _tup(
            _ref("_a_all") if i is arrayops.ALL else ast.Constant(None) for i in index))

    def _args(self, e: ir.Expr, args: Iterable[ir.Expr]) -> list[ast.expr]:
        target = self.axes(e)
        return [self.aligned(a, target) for a in args]

    def _array(self, e: ir.Expr) -> ast.expr:
        """The subscript nodes (vector flavour only)."""
        if isinstance(e, ir.ArrayConst):
            return _ref(e.name)
        if isinstance(e, ir.Relabel):
            return self(e.arg)
        if isinstance(e, ir.ArrayCall):
            inner = self.axes(e.arg)
            return _call(f"_a_{e.function}", self(e.arg), ast.Constant(
                inner.index(e.axis) - len(inner)), *(ast.Constant(v) for v in e.extra))
        if isinstance(e, ir.ArrayApply):
            args = [self.aligned(a, g) for a, g in zip(e.args, e.grids, strict=True)]
            return _call(f"_a_{e.function}", *args, *(ast.Constant(v) for v in e.extra),
                         _ref(e.where))
        if isinstance(e, ir.TableLookup):
            target = self.axes(e)
            table = (*target, ir.POINTS)
            args = (self.aligned(e.x, target), self.aligned(e.xp, table),
                    self.aligned(e.fp, table))
            if e.mode is ir.LookupMode.INTERPOLATE:
                return _call("_a_interp", *args)
            if e.mode not in (ir.LookupMode.BACKWARD, ir.LookupMode.FORWARD):
                raise UnsupportedError(f"subscripted tables read with {e.mode.name}")
            return _call("_a_hold", *args, ast.Constant(e.mode is ir.LookupMode.FORWARD))
        if isinstance(e, ir.Take):
            inner = self.axes(e.arg)
            index = ast.Constant(e.index) if isinstance(e.index, int) else _tup(
                ast.Constant(i) for i in e.index)
            return _call("_a_take", self(e.arg), ast.Constant(
                inner.index(e.axis) - len(inner)), index)
        if isinstance(e, ir.Reduce):
            inner = self.axes(e.arg)
            return _call(f"_a_{e.function}", self(e.arg), ast.Constant(
                inner.index(e.axis) - len(inner)))
        if isinstance(e, ir.Assemble):
            return _call("_a_assemble", _tup(ast.Constant(n) for n in e.shape), *(
                _tup([self.aligned(part, grid), _ref(target)])
                for part, grid, target in zip(e.parts, e.grids, e.targets, strict=True)))
        raise TypeError(f"cannot emit {type(e).__name__}")

    def _emit(self, e: ir.Expr) -> ast.expr:
        if isinstance(e, ir.ArrayConst | ir.Take | ir.Relabel | ir.Reduce | ir.Assemble
                          | ir.TableLookup | ir.ArrayCall | ir.ArrayApply):
            if self.node_axes is None:
                raise UnsupportedError("subscripts are computed by the NumPy backend only")
            return self._array(e)
        if isinstance(e, ir.Const):
            return _ref("_nan") if math.isnan(e.value) else ast.Constant(value=e.value)
        if isinstance(e, ir.Ref):
            if e.select:
                raise UnsupportedError("subscripted references are not emitted yet")
            return _ref(e.node)
        if isinstance(e, ir.Time):
            return _ref(e.clock.value)
        if isinstance(e, ir.TimeAt):
            if self.native:
                return ast.Constant(value=float(e.value))
            return _call("_f64", ast.Constant(value=float(e.value)))
        if isinstance(e, ir.Neg):
            return ast.UnaryOp(op=ast.USub(), operand=self(e.arg))
        if isinstance(e, ir.Binary):
            if self.scalar and e.op is ir.Op.POW:
                return _call(FUNCTIONS["power"].ident, self(e.left), self(e.right))
            left, right = self._args(e, (e.left, e.right))
            return ast.BinOp(left=left, op=_BINOPS[e.op](), right=right)
        if isinstance(e, ir.Compare):
            left, right = self._args(e, (e.left, e.right))
            test = ast.Compare(left=left, ops=[_CMPOPS[e.op]()], comparators=[right])
            if self.native:
                return ast.IfExp(test=test, body=ast.Constant(value=1.0),
                                 orelse=ast.Constant(value=0.0))
            return test
        if isinstance(e, ir.Call):
            if (self.scalar or self.native) and e.function == "if_then_else":
                cond, a, b = (self(x) for x in e.args)
                return ast.IfExp(test=cond, body=a, orelse=b)
            return _call(FUNCTIONS[e.function].ident, *self._args(e, e.args))
        if isinstance(e, ir.Lookup):
            return _call(FUNCTIONS[e.mode.value].ident, self(e.x), _ref(e.table + "x"),
                         _ref(e.table + "y"))
        raise TypeError(f"cannot emit {type(e).__name__}; ACTIVE INITIAL is resolved first")


def _as_float64(expr: ast.expr) -> ast.expr:
    """A literal as np.float64, so arithmetic on the value follows NumPy (1/0 is inf)."""
    return _call("_f64", expr) if isinstance(expr, ast.Constant) else expr


# -- functions -------------------------------------------------------------------------


class _Emitter:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.axes = {n.id: n.axes for n in plan.nodes.values() if n.axes}
        names = {nid: tuple(a.name for a in axes) for nid, axes in self.axes.items()}
        self.vector = _Expressions("vector", (lambda n: names.get(n, ())) if names else None)
        self.rows: dict[str, tuple[int, int]] = {}
        self.row_ids: list[str] = []
        for s in plan.stocks:
            size = int(np.prod(self.shape(s)))
            self.rows[s] = (len(self.row_ids), len(self.row_ids) + size)
            self.row_ids += [s] * size
        # a subscripted pipe (DELAY FIXED, SAMPLE IF TRUE) is a pipe per element, rows
        # ``zrows[node]`` of the pipes' values ``z``, as a subscripted stock of ``y``
        self._kept: list[ir.Expr] = []
        self.zrows: dict[str, tuple[int, int]] = {}
        self.zrow_ids: list[str] = []
        for d in plan.discrete:
            size = int(np.prod(self.shape(d)))
            self.zrows[d] = (len(self.zrow_ids), len(self.zrow_ids) + size)
            self.zrow_ids += [d] * size

    def shape(self, node_id: str) -> tuple[int, ...]:
        return tuple(len(a.elements) for a in self.axes.get(node_id, ()))

    def value(self, node_id: str, initial: bool = False) -> ast.expr:
        node = self.plan.nodes[node_id]
        expr = node.init if initial else node.dyn
        if not node.axes:
            return self.vector(expr)  # type: ignore[arg-type]
        names = tuple(a.name for a in node.axes)
        code = self.vector.aligned(expr, names)  # type: ignore[arg-type]
        if self.vector.axes(expr) == names:  # type: ignore[arg-type]
            return code
        return _call("_a_full", code, _tup(ast.Constant(n) for n in self.shape(node_id)))

    def _shape_code(self, node_id: str) -> ast.Tuple:
        return _tup(ast.Constant(n) for n in self.shape(node_id))

    def state_loads(self) -> list[ast.stmt]:
        p = self.plan
        body: list[ast.stmt] = []
        for s in p.stocks:
            start, stop = self.rows[s]
            body.append(_assign(s, _call("_a_load", _ref("y"), ast.Constant(start),
                                         ast.Constant(stop), self._shape_code(s))
                                if s in self.axes else ast.Subscript(
                                    value=_ref("y"), slice=ast.Constant(start),
                                    ctx=ast.Load())))
        for d in p.discrete:
            start, stop = self.zrows[d]
            body.append(_assign(d, _call("_a_zload", _ref("z"), ast.Constant(start),
                                         ast.Constant(stop), self._shape_code(d))
                                if d in self.axes else ast.Subscript(
                                    value=_ref("z"), slice=ast.Constant(start),
                                    ctx=ast.Load())))
        return body

    def _delay(self, d: str) -> ast.expr:
        """A pipe's delay time, on the pipe's axes."""
        delay: str = self.plan.nodes[d].delay  # type: ignore[assignment]
        if d not in self.axes:
            return _ref(delay)
        expr = ir.ref(delay)
        self._kept.append(expr)  # the emitter's memo is by id: keep the node alive
        return self.vector.aligned(expr, tuple(a.name for a in self.axes[d]))

    def _pipes(self, values: Iterable[tuple[str, ast.expr]]) -> ast.Tuple:
        """One value per pipe row: a subscripted pipe's value split per element."""
        return _tup(ast.Starred(value=_call("_a_split", _call(
            "_a_full", v, self._shape_code(d)), self._shape_code(d)), ctx=ast.Load())
            if d in self.axes else v for d, v in values)

    def _y0(self) -> ast.Tuple:
        return _tup(ast.Starred(value=_call("_a_split", _ref(s), self._shape_code(s)),
                                ctx=ast.Load()) if s in self.axes else _ref(s)
                    for s in self.plan.stocks)

    def setup_fn(self) -> ast.FunctionDef:
        """``_setup(P, fixed, tiny) -> Setup``.

        Controls that change during the run are returned as None, except INITIAL TIME,
        which is then evaluated at Time = 0, as Vensim does.
        """
        p = self.plan
        body: list[ast.stmt] = [_unpack(p.params, _ref("P"))]
        body += [_assign(n, _as_float64(self.value(n))) for n in p.control_order]
        if p.start_order:
            body += [_assign(c.value, ast.Constant(value=0.0)) for c in ir.Clock]
            body += [_assign(n, self.value(n)) for n in p.start_order]
        it, _ft, dt, _sp = p.model.control_ids
        body.append(_assign("t", _call("_f64", _ref(it))))
        body.append(_assign("tc", _ref("t")))
        half = ast.BinOp(left=_ref(dt), op=ast.Mult(), right=ast.Constant(value=0.5)) \
            if dt in p.const else _ref("tiny")
        body.append(_assign("ts", ast.BinOp(left=_ref("t"), op=ast.Add(), right=ast.IfExp(
            test=_ref("fixed"), body=half, orelse=_ref("tiny")))))
        body += [_assign(n, _as_float64(self.value(n, initial=True))) for n in p.init_order]
        body += [_assign(n, _as_float64(self.value(n))) for n in p.const_order]
        known = p.const | set(p.start_order)
        body.append(ast.Return(value=_call(
            "_Setup",
            _call("_Controls", *(_ref(c) if c in known else ast.Constant(None)
                                 for c in p.model.control_ids)),
            self._y0(),
            _tup(_ref(k) for k in p.k_ids),
            self._pipes((d, _ref(d)) for d in p.discrete),
            self._pipes((d, self._delay(d)) for d in p.discrete))))
        return _function("_setup", ["P", "fixed", "tiny"], body)

    def vector_fn(self) -> ast.FunctionDef:
        """``_make(K) -> Kernels``: ``rates``' ``y`` has shape (stocks, runs); ``outputs``
        takes any trailing shape, e.g. (stocks, times, runs)."""
        p = self.plan
        args = ["t", "tc", "ts", "y", "z"]
        rates = self.state_loads() + [_assign(n, self.value(n)) for n in p.rate_order]
        rates.append(_assign("_dy", _call("_empty", ast.Attribute(
            value=_ref("y"), attr="shape", ctx=ast.Load()))))
        for s in p.stocks:
            start, stop = self.rows[s]
            value = self.value(s)
            where: ast.expr = ast.Constant(start)
            if s in self.axes:
                where = ast.Slice(lower=ast.Constant(start), upper=ast.Constant(stop))
                value = _call("_a_rows", value, self._shape_code(s), ast.Subscript(
                    value=ast.Attribute(value=_ref("y"), attr="shape", ctx=ast.Load()),
                    slice=ast.Slice(lower=ast.Constant(1)), ctx=ast.Load()))
            rates.append(ast.Assign(targets=[ast.Subscript(value=_ref("_dy"), slice=where,
                                                           ctx=ast.Store())],
                                    value=value, lineno=0))
        rates.append(ast.Return(value=_call("_Rates", _ref("_dy"), self._pipes(
            (d, self.value(d)) for d in p.discrete))))
        outputs = self.state_loads() + [_assign(n, self.value(n)) for n in p.dyn_order]
        outputs.append(ast.Return(value=_tup(_ref(n) for n in self.output_ids())))
        controls = self.state_loads() + [_assign(n, self.value(n)) for n in p.ctl_order]
        controls.append(ast.Return(value=_call("_Controls", *(
            _ref(c) for c in p.model.control_ids))))
        trains = _tup(_tup(self.vector(e) for e in train) for train in p.trains)
        body: list[ast.stmt] = [
            _unpack(p.k_ids, _ref("K")),
            _function("rates", args, rates),
            _function("outputs", args, outputs),
            _function("breakpoints", [], [ast.Return(value=_tup(
                self.vector(e) for e in p.breakpoints))]),
            _function("trains", [], [ast.Return(value=trains)]),
            _function("controls", args, controls),
            ast.Return(value=_call("_Kernels", *(_ref(f) for f in Kernels._fields))),
        ]
        return _function("_make", ["K"], body)

    def scalar_euler_fn(self) -> ast.FunctionDef:
        """``_euler(K, y0, t0, dt, n, every, half) -> EulerRun``.

        The whole Euler loop on Python floats: for one run, NumPy's per-call overhead
        would cost more than the model's arithmetic.
        """
        p = self.plan
        scalar = _Expressions("scalar")
        derivs = [f"_d{i}" for i in range(len(p.stocks))]
        state = _tup(_ref(s) for s in p.stocks)
        loop: list[ast.stmt] = [
            _assign("t", ast.BinOp(left=_ref("t0"), op=ast.Add(), right=ast.BinOp(
                left=_ref("_k"), op=ast.Mult(), right=_ref("dt")))),
            _assign("tc", _ref("t")),
            _assign("ts", ast.BinOp(left=_ref("t"), op=ast.Add(), right=_ref("half"))),
            ast.If(test=ast.Compare(left=ast.BinOp(left=_ref("_k"), op=ast.Mod(),
                                                   right=_ref("every")),
                                    ops=[ast.Eq()], comparators=[ast.Constant(0)]),
                   body=[ast.Expr(value=_call("_append", state))], orelse=[]),
            ast.If(test=ast.Compare(left=_ref("_k"), ops=[ast.Eq()], comparators=[_ref("n")]),
                   body=[ast.Break()], orelse=[]),
        ]
        loop += [_assign(n, scalar(p.nodes[n].dyn)) for n in p.rate_order]  # type: ignore[arg-type]
        loop += [_assign(d, scalar(p.nodes[s].dyn))  # type: ignore[arg-type]
                 for d, s in zip(derivs, p.stocks, strict=True)]
        loop += [_assign(s, ast.BinOp(left=_ref(s), op=ast.Add(), right=ast.BinOp(
            left=_ref("dt"), op=ast.Mult(), right=_ref(d))))
            for d, s in zip(derivs, p.stocks, strict=True)]
        if p.stocks:  # a balanced sum: thousands of stocks stay a few levels deep
            total = ir.chain([ir.Op.ADD] * (len(p.stocks) - 1), [ir.ref(s) for s in p.stocks])
            loop.append(ast.If(
                test=ast.UnaryOp(op=ast.Not(), operand=_call("_isfinite", scalar(total))),
                body=[ast.Return(value=_call("_EulerRun", _ref("_out"), _ref("_k")))],
                orelse=[]))
        body: list[ast.stmt] = [
            _unpack(p.k_ids, _ref("K")),
            _unpack(p.stocks, _ref("y0")),
            _assign("_out", ast.List(elts=[], ctx=ast.Load())),
            _assign("_append", ast.Attribute(value=_ref("_out"), attr="append",
                                             ctx=ast.Load())),
            ast.For(target=_store("_k"), iter=_call("range", ast.BinOp(
                left=_ref("n"), op=ast.Add(), right=ast.Constant(1))), body=loop, orelse=[],
                lineno=0),
            ast.Return(value=_call("_EulerRun", _ref("_out"), ast.Constant(-1))),
        ]
        return _function("_euler", ["K", "y0", "t0", "dt", "n", "every", "half"], body)

    def output_ids(self) -> list[str]:
        """The stocks' rows, then the other time-varying values."""
        return self.row_ids + self.plan.output_ids[len(self.plan.stocks):]

    def compile(self, module: ast.Module, flavour: str) -> dict[str, Any]:
        """Compile a generated module (our AST; nothing from the file is text here)."""
        ast.fix_missing_locations(module)
        code = compile(module, f"<deterrence:{self.plan.path.name}:{flavour}>", "exec")
        globals_ = namespace(flavour) | _RESULTS
        for table_id, (xp, fp, _mode) in self.plan.model.tables.items():
            as_list = flavour == "scalar"
            globals_[table_id + "x"] = list(xp) if as_list else xp
            globals_[table_id + "y"] = list(fp) if as_list else fp
        if flavour == "vector":
            globals_.update(arrayops.NAMESPACE)
            globals_.update(self.plan.model.arrays)
        exec(code, globals_)
        return globals_

    def build(self) -> Program:
        p = self.plan
        module = ast.Module(body=[self.setup_fn(), self.vector_fn()], type_ignores=[])
        scalar_module = None
        if not p.discrete and not p.dynamic_controls and not self.axes:
            scalar_module = ast.Module(body=[self.scalar_euler_fn()], type_ignores=[])
        vector_ns = self.compile(module, "vector")
        scalar_ns = self.compile(scalar_module, "scalar") if scalar_module else None
        return Program(
            param_ids=p.params, const_ids=p.k_ids, stock_ids=self.row_ids,
            discrete_ids=self.zrow_ids, output_ids=self.output_ids(),
            control_ids=p.model.control_ids, setup=vector_ns["_setup"],
            make_vector=vector_ns["_make"],
            make_scalar_euler=scalar_ns["_euler"] if scalar_ns else None,
            dynamic_switches=p.dynamic_switches, dynamic_controls=bool(p.dynamic_controls),
            source=ast.unparse(module) + ("\n\n" + ast.unparse(scalar_module)
                                          if scalar_module else ""), plan=p,
            axes=self.axes, rows=self.rows)


def build_program(model: CompiledModel, overridden: frozenset[str], fixed: bool) -> Program:
    """The generated code where the nodes in ``overridden`` are parameters too.

    ``fixed``: for Euler/RK4, which may keep step-based (discrete) state. Python's
    ``compile`` and the emitter recurse once a level of nesting, hence ``deep_call``.
    """
    return deep_call(lambda: _Emitter(make_plan(model, overridden, fixed)).build())
