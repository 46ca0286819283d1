"""Compile PySD's Abstract Model Representation into batched NumPy code.

The compiler walks the AMR once and lowers every equation into a Python ``ast``
expression over identifiers it generates itself (``_v0``, ``_v1``, ...), numbers, and the
function library in :mod:`deterrence.functions`. No text from the model file reaches the
code: names become generated identifiers, numbers become constants, and the resulting
``ast.Module`` is compiled with the built-in ``compile``.

Every stock, including the hidden stocks of SMOOTH, DELAY and TREND, gets one row of the
state array. Constants and everything that depends only on constants are hoisted out of
the time loop; auxiliaries are computed in dependency order. The same lowered equations
are emitted in two flavours (see :mod:`deterrence.functions`): a vector flavour whose
arrays carry a run axis (N parameter sets per call) and a scalar flavour, a whole Euler
loop on Python floats for single runs.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pysd.translators.structures import abstract_expressions as ae
from pysd.translators.structures import abstract_model as am

from .errors import (
    ModelError,
    UndefinedReferenceError,
    UnsupportedError,
)
from .limits import MAX_NESTING, deep_call
from .names import clean_key, close_matches, python_name
from .pyast import (
    TIME_NAMES,
    binop,
    call,
    names_in,
    num,
    ref,
    resolve_active,
    transform,
)
from .frontend.translate import SourceFile

CONTROLS = ("initial_time", "final_time", "time_step", "saveper")

_COMPARE = {"=": ast.Eq, "<>": ast.NotEq, "<": ast.Lt, "<=": ast.LtE, ">": ast.Gt,
            ">=": ast.GtE}
_UNARY_FUNCS = {
    "abs": "_abs", "sqrt": "_sqrt", "exp": "_exp", "ln": "_ln", "log10": "_log10",
    "sin": "_sin", "cos": "_cos", "tan": "_tan", "arcsin": "_arcsin", "arccos": "_arccos",
    "arctan": "_arctan", "sinh": "_sinh", "cosh": "_cosh", "tanh": "_tanh",
    "integer": "_integer",
}
_BINARY_FUNCS = {"min": "_min", "max": "_max", "modulo": "_modulo", "quantum": "_quantum",
                 "zidz": "_zidz", "log": "_log"}
_LOOKUP_FUNCS = {"lookup_extrapolate": "_extrapolate", "lookup_forward": "_forward",
                 "lookup_backward": "_backward"}
_LOOKUP_TYPES = {"interpolate": "_interp", "extrapolate": "_extrapolate",
                 "hold_backward": "_backward", "look_forward": "_forward"}
_ARRAY_FUNCS = {"sum", "prod", "vmin", "vmax", "vmin_xmile", "vmax_xmile", "elmcount",
                "vector_select", "vector_sort_order", "vector_reorder", "vector_rank",
                "invert_matrix"}

_STRUCTURE_NAMES = {
    ae.ForecastStructure: "FORECAST",
    ae.SampleIfTrueStructure: "SAMPLE IF TRUE",
    ae.GameStructure: "GAME",
    ae.AllocateAvailableStructure: "ALLOCATE AVAILABLE",
    ae.AllocateByPriorityStructure: "ALLOCATE BY PRIORITY",
    ae.GetLookupsStructure: "GET LOOKUPS",
    ae.GetDataStructure: "GET DATA",
    ae.GetConstantsStructure: "GET CONSTANTS",
    ae.DataStructure: "data variables",
}


# -- public description of a model ---------------------------------------------------


@dataclass
class Variable:
    """A model variable as users see it: one per equation in the file."""

    name: str  # as written in the model file
    py_name: str  # Python-safe name used in Datasets and as a parameter key
    kind: str  # stock | flow | auxiliary | constant | lookup | control
    units: str
    limits: tuple[float | None, float | None]
    doc: str
    line: int | None
    default: float | None = None  # literal constants and control values
    overridable: bool = True
    node: str | None = None  # generated identifier of its value

    @property
    def long_name(self) -> str:
        return self.doc.strip() or self.name


@dataclass
class Node:
    """One value in the generated code: a parameter, auxiliary, stock or snapshot."""

    id: str
    kind: str  # param | aux | stock | snapshot | discrete
    label: str  # how errors name it: the variable, or "SMOOTH in 'X'"
    var: Variable | None = None
    raw: ast.expr | None = None  # value (aux), derivative (stock), pipe input (discrete)
    raw_init: ast.expr | None = None  # initial value (stock, snapshot, discrete)
    default: float | None = None  # literal value of a parameter
    delay: str | None = None  # discrete: node holding the delay time
    alt: ast.expr | None = None  # discrete: the continuous value adaptive methods use
    dyn: ast.expr | None = None
    init: ast.expr | None = None
    dyn_deps: set[str] = field(default_factory=set)
    init_deps: set[str] = field(default_factory=set)
    uses_time: bool = False


@dataclass
class Switch:
    """A time at which an input jumps (STEP, PULSE, Time comparisons) or bends (RAMP)."""

    owner: str
    exprs: list[ast.expr]
    train: bool = False  # (start, width, interval, end) of a PULSE TRAIN


# -- the compiler ----------------------------------------------------------------------


class Compiler:
    """Lower one model's AMR into :class:`Node` expressions. Used once per file."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.nodes: dict[str, Node] = {}
        self.variables: list[Variable] = []
        self.elements: dict[str, tuple[am.AbstractElement, Variable]] = {}
        self.tables: dict[str, tuple[np.ndarray, np.ndarray, str]] = {}
        self.lookup_keys: dict[str, str] = {}  # element key -> table id
        self.switches: list[Switch] = []
        self.stock_flows: dict[str, list[tuple[str, int]]] = {}  # stock -> (flow, +1/-1)
        self.order_dependencies: dict[str, set[str]] = {}
        self._memo: dict[int, ast.expr] = {}
        self._owner_var: Variable | None = None  # the variable being lowered
        self._in_compare = 0

    @property
    def _owner(self) -> str:
        """Name of the variable being lowered, for labels and messages."""
        return self._owner_var.name if self._owner_var else ""

    # -- errors ------------------------------------------------------------------------

    def _error(self, cls: type[ModelError], message: str, hint: str | None = None,
               variable: Variable | None = None) -> ModelError:
        var = variable or self._owner_var
        return cls(
            message,
            path=self.source.path,
            line=var.line if var else None,
            variable=var.name if var else None,
            hint=hint,
        )

    def _unsupported(self, construct: str, hint: str | None = None) -> ModelError:
        owner = self._owner_var.name if self._owner_var else "?"
        return self._error(
            UnsupportedError,
            f"{construct} (in {owner!r}) is not supported by the engine yet",
            hint or "see docs/conformance.md for what is supported; "
            "rewrite the equation with supported functions",
        )

    # -- nodes -------------------------------------------------------------------------

    def _new(self, kind: str, label: str, **kw: Any) -> Node:
        node = Node(id=f"_v{len(self.nodes)}", kind=kind, label=label, **kw)
        self.nodes[node.id] = node
        return node

    def _hidden_aux(self, expr: ast.expr, label: str) -> ast.expr:
        """A value worth naming once (used in several places); literals stay inline."""
        if isinstance(expr, ast.Name | ast.Constant):
            return expr
        node = self._new("aux", label, raw=expr)
        return ref(node.id)

    # -- entry point -------------------------------------------------------------------

    def compile(self) -> CompiledModel:
        sections = self.source.abstract.sections
        main = [s for s in sections if s.type == "main"] or list(sections[:1])
        section = main[0]
        if len(sections) > len(main):
            macro = next(s for s in sections if s not in main)
            user = next((e.name for e in section.elements
                         if _calls(e, clean_key(macro.name))), None)
            raise UnsupportedError(
                f"macros (here {macro.name!r}) are not supported by the engine yet"
                + (f"; {user!r} uses it" if user else ""),
                path=self.source.path, variable=user,
                line=self.source.line_of(user) if user else _macro_line(self.source.text,
                                                                         macro.name),
                hint="expand the macro into plain equations",
            )
        if section.subscripts:
            names = ", ".join(s.name for s in section.subscripts)
            user = next((e.name for e in section.elements
                         if any(c.subscripts[0] for c in e.components)), None)
            raise UnsupportedError(
                f"subscript ranges ({names}) are not supported by the engine yet"
                + (f"; {user!r} is subscripted" if user else ""),
                path=self.source.path, variable=user,
                line=self.source.line_of(user or section.subscripts[0].name),
                hint="subscripts arrive in the next engine release",
            )
        self._declare(section.elements)
        for key, (element, var) in self.elements.items():
            if var.kind != "lookup":
                self._lower_element(key, element, var)
        self._mark_flows()
        missing = [c for c in CONTROLS if c not in self.elements]
        if missing:
            raise ModelError(
                "the model lacks the control variable(s) "
                + ", ".join(c.replace("_", " ").upper() for c in missing),
                path=self.source.path,
                hint="add INITIAL TIME, FINAL TIME, TIME STEP and SAVEPER equations",
            )
        for node in self.nodes.values():
            node.dyn = resolve_active(node.raw, 0)
            node.init = resolve_active(node.raw_init if node.kind != "aux" else node.raw, 1)
            node.dyn_deps = names_in(node.dyn) & self.nodes.keys()
            node.init_deps = names_in(node.init) & self.nodes.keys()
            node.uses_time = bool(names_in(node.dyn) & set(TIME_NAMES))
        return CompiledModel(self)

    def _declare(self, elements: Iterable[am.AbstractElement]) -> None:
        used: set[str] = set()
        for element in elements:
            key = clean_key(element.name)
            line = self.source.line_of(element.name)
            if key in self.elements:
                raise self._error(
                    ModelError, f"variable {element.name!r} is defined twice",
                    variable=Variable(element.name, "", "", "", (None, None), "", line),
                )
            if len(element.components) > 1 and not any(
                    c.subscripts[0] for c in element.components):
                raise ModelError(
                    f"variable {element.name!r} is defined twice (names are the same when "
                    "case, spaces and underscores are ignored)", path=self.source.path,
                    line=line, variable=element.name, hint="rename or remove one equation")
            if len(element.components) != 1 or element.components[0].subscripts[0]:
                raise UnsupportedError(
                    f"{element.name!r} is subscripted; subscripts are not supported by "
                    "the engine yet", path=self.source.path, line=line,
                    variable=element.name,
                )
            component = element.components[0]
            depth = _depth(component.ast)
            if depth > MAX_NESTING:
                raise UnsupportedError(
                    f"the equation of {element.name!r} nests {depth:,} levels deep; nesting "
                    f"deeper than {MAX_NESTING:,} levels is not supported",
                    path=self.source.path, line=line, variable=element.name,
                    hint="split the equation into auxiliary variables")
            limits = tuple(element.limits or (None, None))[:2]
            limits = tuple(None if (v is None or not math.isfinite(v)) else float(v)
                           for v in limits) + (None,) * (2 - len(limits))
            var = Variable(
                name=element.name, py_name=python_name(element.name, used), kind="auxiliary",
                units=(element.units or "").strip(), limits=limits,  # type: ignore[arg-type]
                doc=(element.documentation or "").strip(), line=line,
            )
            self.elements[key] = (element, var)
            self.variables.append(var)
            if isinstance(component, am.AbstractData):
                self._owner_var = var
                raise self._unsupported("data variables")
            if isinstance(component, am.AbstractLookup) or isinstance(
                component.ast, ae.LookupsStructure | ae.GetLookupsStructure
            ):
                var.kind = "lookup"
                self._owner_var = var
                self.lookup_keys[key] = self._table(component.ast)
                continue
            literal = _literal(component.ast)
            if isinstance(component.ast, ae.IntegStructure):
                var.kind = "stock"
                node = self._new("stock", var.name, var=var)
            elif literal is not None:
                var.kind = "control" if key in CONTROLS else "constant"
                var.default = literal
                var.overridable = not isinstance(component, am.AbstractUnchangeableConstant)
                node = self._new("param", var.name, var=var, default=literal)
            else:
                var.kind = "control" if key in CONTROLS else "auxiliary"
                node = self._new("aux", var.name, var=var)
            var.node = node.id
        self._owner_var = None

    def _lower_element(self, key: str, element: am.AbstractElement, var: Variable) -> None:
        self._owner_var = var
        node = self.nodes[var.node]  # type: ignore[index]
        tree = element.components[0].ast
        if node.kind == "param":
            node.raw = num(node.default)  # type: ignore[arg-type]
        elif node.kind == "stock":
            if getattr(tree, "non_negative", False):
                raise self._unsupported("non-negative stocks")
            node.raw = self._lower(tree.flow)
            node.raw_init = self._lower(tree.initial)
        else:
            node.raw = self._lower(tree)
        self._owner_var = None

    def _mark_flows(self) -> None:
        """A flow is an auxiliary that appears as a term of a stock's net rate."""
        for element, var in self.elements.values():
            if var.kind != "stock":
                continue
            flows = self.stock_flows.setdefault(var.name, [])
            for term, sign in _additive_terms(element.components[0].ast.flow):
                target = self.elements.get(clean_key(term))
                if target and target[1].kind in ("auxiliary", "flow", "constant"):
                    if target[1].kind == "auxiliary":
                        target[1].kind = "flow"
                    flows.append((target[1].name, sign))

    # -- lowering ----------------------------------------------------------------------

    def _lower(self, tree: Any) -> ast.expr:
        memo = self._memo.get(id(tree))
        if memo is not None:
            return memo
        result = self._lower_uncached(tree)
        if not isinstance(tree, int | float | str | bool):
            self._memo[id(tree)] = result
        return result

    def _lower_uncached(self, tree: Any) -> ast.expr:
        if isinstance(tree, bool):
            return num(float(tree))
        if isinstance(tree, int | float | np.number):
            value = float(tree)
            return ref("_nan") if math.isnan(value) else num(value)
        if isinstance(tree, ae.ArithmeticStructure):
            return self._arithmetic(tree)
        if isinstance(tree, ae.LogicStructure):
            return self._logic(tree)
        if isinstance(tree, ae.ReferenceStructure):
            return self._reference(tree)
        if isinstance(tree, ae.CallStructure):
            return self._function(tree)
        if isinstance(tree, ae.InlineLookupsStructure):
            table = self._table(tree.lookups)
            return self._lookup_call(table, self._lower(tree.argument))
        if isinstance(tree, ae.IntegStructure):
            raise self._unsupported("INTEG inside an expression",
                                    "INTEG must be the whole equation of a stock")
        if isinstance(tree, ae.GameStructure):  # GAME only matters in gaming mode
            return self._lower(tree.expression)
        if isinstance(tree, ae.InitialStructure):
            node = self._new("snapshot", f"INITIAL in {self._owner!r}",
                             raw_init=self._lower(tree.initial))
            return ref(node.id)
        if isinstance(tree, ae.SmoothStructure):
            return self._smooth(tree, int(tree.order), "SMOOTH")
        if isinstance(tree, ae.SmoothNStructure):
            return self._smooth(tree, self._order(tree.order, "SMOOTH N"), "SMOOTH N")
        if isinstance(tree, ae.DelayStructure):
            return self._delay(tree, int(tree.order), "DELAY")
        if isinstance(tree, ae.DelayNStructure):
            return self._delay(tree, self._order(tree.order, "DELAY N"), "DELAY N",
                               lagged=True)
        if isinstance(tree, ae.TrendStructure):
            return self._trend(tree)
        if isinstance(tree, ae.DelayFixedStructure):
            return self._delay_fixed(tree)
        if isinstance(tree, str):
            raise self._unsupported(f"the text literal {tree[:30]!r}")
        if isinstance(tree, np.ndarray):
            raise self._unsupported("array constants",
                                    "arrays need subscripts, which arrive in the next release")
        name = _STRUCTURE_NAMES.get(type(tree), type(tree).__name__)
        raise self._unsupported(name)

    def _arithmetic(self, tree: ae.ArithmeticStructure) -> ast.expr:
        args = [self._lower(a) for a in tree.arguments]
        ops = list(tree.operators)
        if len(args) == 1:
            if ops == ["negative"]:
                (arg,) = args
                if isinstance(arg, ast.Constant):
                    return num(-arg.value)
                return ast.UnaryOp(op=ast.USub(), operand=arg)
            return args[0]
        if all(op == "^" for op in ops):  # exponentiation groups to the right
            base = _literal(tree.arguments[0])
            negate = base is not None and base < 0 and not self._parenthesised()
            if negate:  # PySD folds the sign of "-2^2" into the literal; Vensim reads -(2^2)
                args[0] = num(-base)  # type: ignore[operator]
            result = args[-1]
            for op, arg in zip(reversed(ops), reversed(args[:-1]), strict=True):
                result = binop(op, arg, result)
            if not negate:
                return result
            if isinstance(result, ast.Constant):
                return num(-result.value)
            return ast.UnaryOp(op=ast.USub(), operand=result)
        return _chain(ops, args)

    def _parenthesised(self) -> bool:
        """Whether the current equation writes a negative number in brackets before ^."""
        text = self.source.definition_text(self._owner) if self._owner else ""
        return re.search(r"\(\s*-\s*[\d.]+(?:[eE][-+]?\d+)?\s*\)\s*\^", text) is not None

    def _logic(self, tree: ae.LogicStructure) -> ast.expr:
        ops = [op.lower() for op in tree.operators]
        if ops in ([":not:"], ["not"]):
            return call("_not", self._lower(tree.arguments[0]))
        if all(op in _COMPARE for op in ops):
            self._in_compare += 1
            try:
                args = [self._lower(a) for a in tree.arguments]
            finally:
                self._in_compare -= 1
            if len(args) == 2 and any(_has_time(a) for a in tree.arguments) and all(
                    _affine_in_time(a) for a in tree.arguments):
                self.switches.append(Switch(self._owner, [_root_in_time(
                    binop("-", args[0], args[1]))]))
            result = args[0]
            for op, arg in zip(ops, args[1:], strict=True):
                result = _compare(op, result, arg)
            return result
        args = [self._lower(a) for a in tree.arguments]
        result = args[0]
        for op, arg in zip(ops, args[1:], strict=True):
            if op in (":and:", "and"):
                result = call("_and", result, arg)
            elif op in (":or:", "or"):
                result = call("_or", result, arg)
            elif op in _COMPARE:
                result = _compare(op, result, arg)
            else:
                raise self._unsupported(f"the operator {op!r}")
        return result

    def _reference(self, tree: ae.ReferenceStructure) -> ast.expr:
        if tree.subscripts is not None:
            raise self._unsupported("subscripted references")
        key = clean_key(tree.reference)
        if key == "time":
            return ref("tc" if self._in_compare else "t")
        found = self.elements.get(key)
        if found is None:
            if key == "pi":
                return num(math.pi)
            raise self._undefined(tree.reference)
        var = found[1]
        if var.kind == "lookup":
            raise self._unsupported(f"using the lookup {var.name!r} without an argument")
        return ref(var.node)  # type: ignore[arg-type]

    def _undefined(self, reference: str) -> ModelError:
        names = [v.name for v in self.variables]
        close = close_matches(reference.replace("_", " "), names, n=3, cutoff=0.6)
        hint = ("did you mean " + " or ".join(repr(c) for c in close) + "?") if close else (
            "define it, or correct the spelling")
        return self._error(
            UndefinedReferenceError,
            f"{self._owner!r} refers to {reference.replace('_', ' ')!r}, "
            "which is not defined in the model",
            hint,
        )

    # -- functions ---------------------------------------------------------------------

    def _function(self, tree: ae.CallStructure) -> ast.expr:
        fname = tree.function.reference if isinstance(
            tree.function, ae.ReferenceStructure) else str(tree.function)
        key = clean_key(fname)
        raw_args = list(tree.arguments)
        if key in self.lookup_keys:
            self._arity(fname, raw_args, 1)
            return self._lookup_call(self.lookup_keys[key], self._lower(raw_args[0]))
        if key in self.elements:
            raise self._unsupported(f"calling the variable {fname!r} like a function")
        if key in _LOOKUP_FUNCS:
            self._arity(fname, raw_args, 2)
            table = raw_args[0]
            tkey = clean_key(table.reference) if isinstance(
                table, ae.ReferenceStructure) else None
            if tkey not in self.lookup_keys:
                raise self._unsupported(f"{_display(fname)} on something other than a lookup")
            xp, fp = self._table_names(self.lookup_keys[tkey])
            return call(_LOOKUP_FUNCS[key], self._lower(raw_args[1]), xp, fp)
        if key == "active_initial":
            self._arity(fname, raw_args, 2)
            return call("_ai", self._lower(raw_args[0]), self._lower(raw_args[1]))
        if fname in ("Xpulse", "Xpulse_train", "Xramp"):
            return self._xmile_switch(fname, raw_args)
        if key in _ARRAY_FUNCS:
            raise self._unsupported(_display(fname),
                                    "array functions need subscripts (next engine release)")
        args = [self._lower(a) for a in raw_args]
        if key in _UNARY_FUNCS:
            self._arity(fname, args, 1)
            return call(_UNARY_FUNCS[key], *args)
        if key in _BINARY_FUNCS:
            self._arity(fname, args, 2)
            return call(_BINARY_FUNCS[key], *args)
        if key == "power":
            self._arity(fname, args, 2)
            return binop("^", *args)
        if key == "xidz":
            self._arity(fname, args, 3)
            return call("_xidz", *args)
        if key == "if_then_else":
            self._arity(fname, args, 3)
            return call("_where", *args)
        if key == "pi":
            return num(math.pi)
        if key == "step":
            self._arity(fname, args, 2)
            self.switches.append(Switch(self._owner, [args[1]]))
            return call("_step", ref("ts"), *args)
        if key == "pulse":
            self._arity(fname, args, 2)
            start, width = args
            self.switches.append(Switch(self._owner, [start, binop("+", start, width)]))
            return call("_pulse", ref("tc"), ref("ts"), start, width)
        if key == "pulse_train":  # PySD orders the arguments (start, interval, width, end)
            self._arity(fname, args, 4)
            start, interval, width, end = args
            self.switches.append(Switch(self._owner, [start, width, interval, end], train=True))
            return call("_pulse_train", ref("ts"), start, width, interval, end)
        if key == "ramp":
            self._arity(fname, args, 3)
            self.switches.append(Switch(self._owner, [args[1], args[2]]))
            return call("_ramp", ref("t"), *args)
        if key.startswith("random") or key in ("get_time_value",):
            raise self._unsupported(_display(fname))
        raise self._unsupported(f"the function {_display(fname)}")

    def _xmile_switch(self, fname: str, raw_args: list[Any]) -> ast.expr:
        args = [self._lower(a) for a in raw_args]
        dt = ref(self._control_node("time_step"))
        if fname == "Xramp":
            self._arity(fname, args, 2)
            self.switches.append(Switch(self._owner, [args[1]]))
            return call("_ramp", ref("t"), *args)
        if fname == "Xpulse":  # (start, magnitude)
            self._arity(fname, args, 2)
            start = args[0]
            self.switches.append(Switch(self._owner, [start, binop("+", start, dt)]))
            return call("_xpulse", ref("ts"), start, args[1], dt)
        self._arity(fname, args, 3)  # Xpulse_train: (start, interval, magnitude)
        start, interval, magnitude = args
        self.switches.append(Switch(self._owner, [start, dt, interval, num(math.inf)],
                                    train=True))
        return call("_xpulse_train", ref("ts"), start, interval, magnitude, dt)

    def _control_node(self, key: str) -> str:
        found = self.elements.get(key)
        if found is None:
            raise self._error(ModelError, f"the model has no {key.replace('_', ' ').upper()}")
        return found[1].node  # type: ignore[return-value]

    def _arity(self, fname: str, args: list[Any], n: int) -> None:
        if len(args) != n:
            raise self._error(
                ModelError,
                f"{_display(fname)} in {self._owner!r} takes {n} argument(s), "
                f"got {len(args)}",
                "check the commas and brackets of the call",
            )

    # -- lookups -----------------------------------------------------------------------

    def _table(self, tree: Any) -> str:
        if not isinstance(tree, ae.LookupsStructure):
            raise self._unsupported(_STRUCTURE_NAMES.get(type(tree), "this lookup"))
        xp = np.asarray(tree.x, dtype=float)
        fp = np.asarray(tree.y, dtype=float)
        if xp.ndim != 1 or xp.size == 0 or xp.shape != fp.shape:
            raise self._error(ModelError, f"the lookup in {self._owner!r} has no valid points")
        if np.any(np.diff(xp) < 0):
            order = np.argsort(xp, kind="stable")
            xp, fp = xp[order], fp[order]
        table_id = f"_tbl{len(self.tables)}"
        kind = _LOOKUP_TYPES.get(getattr(tree, "type", "interpolate"), "_interp")
        self.tables[table_id] = (xp, fp, kind)
        return table_id

    def _table_names(self, table_id: str) -> tuple[ast.expr, ast.expr]:
        return ref(table_id + "x"), ref(table_id + "y")

    def _lookup_call(self, table_id: str, x: ast.expr) -> ast.expr:
        xp, fp = self._table_names(table_id)
        return call(self.tables[table_id][2], x, xp, fp)

    # -- stateful functions: hidden stocks ---------------------------------------------

    def _order(self, tree: Any, what: str) -> int:
        """DELAY N / SMOOTH N orders fix the number of stocks, so they must be constants."""
        deps: set[str] = set()
        try:
            value = _Folder(self, deps).fold(tree)
        except _NotConstantError as exc:
            raise self._unsupported(
                f"a {what} whose order is not a constant ({exc})",
                "the order fixes the number of hidden stocks; make it a number",
            ) from None
        if not math.isfinite(value):
            raise self._error(ModelError, f"the order of {what} in {self._owner!r} is "
                              f"{value}; it must be a finite number, at least 1")
        order = round(value) if abs(value - round(value)) < 1e-9 else int(value)
        if order < 1:
            raise self._error(ModelError, f"the order of {what} in {self._owner!r} is "
                              f"{value:g}; it must be at least 1")
        for dep in deps:
            self.order_dependencies.setdefault(dep, set()).add(self._owner)
        return order

    def _smooth(self, tree: Any, order: int, what: str) -> ast.expr:
        label = f"{what} in {self._owner!r}"
        inp = self._hidden_aux(self._lower(tree.input), label + " input")
        tau = self._hidden_aux(binop("/", self._lower(tree.smooth_time), num(order)),
                               label + " stage time")
        init = self._lower(tree.initial)
        upstream = inp
        for k in range(order):
            stock = self._new("stock", f"{label} stage {k + 1}", raw_init=init)
            stock.raw = binop("/", binop("-", upstream, ref(stock.id)), tau)
            upstream = ref(stock.id)
        return upstream

    def _delay(self, tree: Any, order: int, what: str, lagged: bool = False) -> ast.expr:
        """DELAY1/3/N as ``order`` stocks in series, each holding ``delay/order``.

        Vensim's DELAY N lets each stage keep the delay time of the step at which its
        content was computed (stage k sees the delay time of k steps ago, the output that
        of the previous step); ``lagged`` reproduces that for fixed steps.
        """
        label = f"{what} in {self._owner!r}"
        inp = self._hidden_aux(self._lower(tree.input), label + " input")
        tau = self._hidden_aux(binop("/", self._lower(tree.delay_time), num(order)),
                               label + " stage time")
        init = self._lower(tree.initial)
        taus = [tau] * order
        out_tau = tau
        if lagged:
            taus = [tau] + [self._lagged(tau, k, label) for k in range(1, order)]
            out_tau = self._lagged(tau, 1, label)
        inflow: ast.expr = inp
        stock = None
        for k in range(order):
            stock = self._new("stock", f"{label} stage {k + 1}",
                              raw_init=binop("*", init, tau))
            outflow = self._new("aux", f"{label} outflow {k + 1}",
                                raw=binop("/", ref(stock.id), taus[k]))
            stock.raw = binop("-", inflow, ref(outflow.id))
            inflow = ref(outflow.id)
        if lagged and stock is not None:
            return ref(self._new("aux", label, raw=binop("/", ref(stock.id),
                                                              out_tau)).id)
        return inflow

    def _lagged(self, value: ast.expr, steps: int, label: str) -> ast.expr:
        """``value`` as it was ``steps`` time steps ago (its current value if adaptive)."""
        if isinstance(value, ast.Constant):
            return value
        dt = ref(self._control_node("time_step"))
        delay = self._new("aux", f"{label} lag {steps}", raw=binop("*", num(steps), dt))
        node = self._new("discrete", f"{label} lag {steps}", raw=value, raw_init=value,
                         delay=delay.id, alt=value)
        return ref(node.id)

    def _trend(self, tree: ae.TrendStructure) -> ast.expr:
        label = f"TREND in {self._owner!r}"
        inp = self._hidden_aux(self._lower(tree.input), label + " input")
        avg = self._hidden_aux(self._lower(tree.average_time), label + " average time")
        init_trend = self._lower(tree.initial_trend)
        stock = self._new("stock", label + " average")
        stock.raw = binop("/", binop("-", inp, ref(stock.id)), avg)
        stock.raw_init = binop("/", inp, binop("+", num(1), binop("*", init_trend, avg)))
        out = self._new("aux", label, raw=call(
            "_zidz", binop("-", inp, ref(stock.id)),
            binop("*", avg, call("_abs", ref(stock.id)))))
        return ref(out.id)

    def _delay_fixed(self, tree: ae.DelayFixedStructure) -> ast.expr:
        label = f"DELAY FIXED in {self._owner!r}"
        inp = self._hidden_aux(self._lower(tree.input), label + " input")
        delay = self._new("aux", label + " delay time", raw=self._lower(tree.delay_time))
        node = self._new("discrete", label, raw=inp, raw_init=self._lower(tree.initial),
                         delay=delay.id)
        return ref(node.id)


#: Chains of + - (or * /) up to this length are evaluated left to right, as Vensim does;
#: longer ones as a balanced tree of such blocks, so 100,000 terms are 12 levels deep.
LEFT_TO_RIGHT = 32
_INVERSE = {"+": "-", "-": "+", "*": "/", "/": "*"}


def _chain(ops: list[str], args: list[ast.expr]) -> ast.expr:
    """``a0 op0 a1 op1 a2 ...``: left to right, or balanced when long.

    The right half of a split is computed on its own, so when the operator joining it is
    ``-`` (``/``) the operators inside it are inverted: a - b + c = a - (b - c).
    """
    if len(args) <= LEFT_TO_RIGHT or not (set(ops) <= {"+", "-"} or set(ops) <= {"*", "/"}):
        result = args[0]
        for op, arg in zip(ops, args[1:], strict=True):
            result = binop(op, result, arg)
        return result
    mid = len(args) // 2
    joint = ops[mid - 1]
    right_ops = ops[mid:] if joint in ("+", "*") else [_INVERSE[o] for o in ops[mid:]]
    return binop(joint, _chain(ops[:mid - 1], args[:mid]), _chain(right_ops, args[mid:]))


def _depth(tree: Any) -> int:
    """Levels of nested structures (calls, operators) in an AMR expression, iteratively."""
    deepest = 0
    todo: list[tuple[Any, int]] = [(tree, 0)]
    while todo:
        node, level = todo.pop()
        if dataclasses.is_dataclass(node) and not isinstance(node, type):
            level += 1
            deepest = max(deepest, level)
            todo.extend((getattr(node, f.name), level) for f in dataclasses.fields(node))
        elif isinstance(node, list | tuple):
            todo.extend((item, level) for item in node)
    return deepest


def _calls(element: am.AbstractElement, key: str) -> bool:
    """Whether any equation of ``element`` calls the function (macro) ``key``."""
    todo: list[Any] = [c.ast for c in element.components]
    while todo:
        node = todo.pop()
        if isinstance(node, ae.CallStructure) and isinstance(
                node.function, ae.ReferenceStructure) and clean_key(
                node.function.reference) == key:
            return True
        if dataclasses.is_dataclass(node):
            todo.extend(getattr(node, f.name) for f in dataclasses.fields(node))
        elif isinstance(node, list | tuple):
            todo.extend(node)
    return False


def _macro_line(text: str, name: str) -> int | None:
    match = re.search(r":MACRO:\s*" + re.escape(name.strip()), text, re.IGNORECASE)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _display(fname: str) -> str:
    return fname.replace("_", " ").upper()


def _literal(tree: Any) -> float | None:
    if isinstance(tree, bool):
        return None
    if isinstance(tree, int | float | np.number):
        return float(tree)
    if isinstance(tree, ae.ArithmeticStructure) and tree.operators == ["negative"]:
        inner = _literal(tree.arguments[0])
        return -inner if inner is not None else None
    return None


def _is_time(tree: Any) -> bool:
    return isinstance(tree, ae.ReferenceStructure) and clean_key(tree.reference) == "time"


def _has_time(tree: Any) -> bool:
    if _is_time(tree):
        return True
    if isinstance(tree, ae.ArithmeticStructure | ae.LogicStructure | ae.CallStructure):
        children = tree.arguments
        return any(_has_time(c) for c in children)
    return False


def _affine_in_time(tree: Any) -> bool:
    """Whether ``tree`` is a*Time + b with a and b free of Time (so its root is a switch)."""
    if not _has_time(tree):
        return True  # constant in time here (whether it is a constant is checked later)
    if _is_time(tree):
        return True
    if not isinstance(tree, ae.ArithmeticStructure):
        return False
    args, ops = tree.arguments, tree.operators
    if ops == ["negative"]:
        return _affine_in_time(args[0])
    if all(op in ("+", "-") for op in ops):
        return all(_affine_in_time(a) for a in args)
    if all(op in ("*", "/") for op in ops):
        with_time = [i for i, a in enumerate(args) if _has_time(a)]
        return (len(with_time) == 1 and _affine_in_time(args[with_time[0]])
                and (with_time[0] == 0 or ops[with_time[0] - 1] == "*"))
    return False


def _at_time(expr: ast.expr, value: float) -> ast.expr:
    """``expr`` with the time replaced by ``value`` (an np.float64: NumPy's arithmetic)."""
    return transform(expr, lambda n: call("_f64", num(value)) if isinstance(n, ast.Name)
                     and n.id in TIME_NAMES else n)  # type: ignore[return-value]


def _root_in_time(expr: ast.expr) -> ast.expr:
    """For ``expr`` affine in time, the time where it crosses zero: -f(0) / (f(1) - f(0))."""
    f0 = _at_time(expr, 0.0)  # used twice: generated trees are never changed in place
    return ast.UnaryOp(op=ast.USub(), operand=ast.BinOp(
        left=f0, op=ast.Div(), right=ast.BinOp(left=_at_time(expr, 1.0), op=ast.Sub(),
                                               right=f0)))


def _compare(op: str, left: ast.expr, right: ast.expr) -> ast.expr:
    """A comparison; of two literals, folded to 1.0 or 0.0 (never a Python bool, which
    would divide like an integer)."""
    if isinstance(left, ast.Constant) and isinstance(right, ast.Constant):
        a, b = float(left.value), float(right.value)
        return num(float({"=": a == b, "<>": a != b, "<": a < b, "<=": a <= b, ">": a > b,
                          ">=": a >= b}[op]))
    return ast.Compare(left=left, ops=[_COMPARE[op]()], comparators=[right])


def _additive_terms(tree: Any, sign: int = 1) -> list[tuple[str, int]]:
    """References added to (+1) or subtracted from (-1) a stock's net rate."""
    if isinstance(tree, ae.ReferenceStructure):
        return [(tree.reference, sign)]
    if not isinstance(tree, ae.ArithmeticStructure):
        return []
    if tree.operators == ["negative"]:
        return _additive_terms(tree.arguments[0], -sign)
    if all(op in ("+", "-") for op in tree.operators):
        terms = _additive_terms(tree.arguments[0], sign)
        for op, arg in zip(tree.operators, tree.arguments[1:], strict=True):
            terms += _additive_terms(arg, sign if op == "+" else -sign)
        return terms
    return []


class _NotConstantError(Exception):
    pass


class _Folder:
    """Evaluate an AMR expression of literals at INITIAL TIME (for DELAY N orders)."""

    def __init__(self, compiler: Compiler, deps: set[str]) -> None:
        self.compiler = compiler
        self.deps = deps

    def fold(self, tree: Any) -> float:
        """The value, with NumPy's float semantics (1/0 is inf, (-1)^0.5 is NaN)."""
        with np.errstate(all="ignore"):
            return float(self._fold(tree))

    def _fold(self, tree: Any) -> np.float64:
        if isinstance(tree, int | float | np.number) and not isinstance(tree, bool):
            return np.float64(tree)
        if isinstance(tree, ae.ArithmeticStructure):
            values = [self._fold(a) for a in tree.arguments]
            if tree.operators == ["negative"]:
                return -values[0]
            result = values[0]
            for op, v in zip(tree.operators, values[1:], strict=True):
                result = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide,
                          "^": np.power}[op](result, v)
            return result
        if isinstance(tree, ae.ReferenceStructure):
            key = clean_key(tree.reference)
            if key == "time":
                return self._fold(self._element_ast("initial_time"))
            self.deps.add(key)
            return self._fold(self._element_ast(key))
        if isinstance(tree, ae.CallStructure):
            key = clean_key(tree.function.reference)
            args = [self._fold(a) for a in tree.arguments]
            t = self._fold(self._element_ast("initial_time"))
            half = self._fold(self._element_ast("time_step")) / 2
            simple: dict[str, Callable[..., float]] = {
                "step": lambda h, s: h if t + half > s else 0.0,
                "min": np.minimum, "max": np.maximum, "abs": np.abs, "integer": np.trunc,
                "if_then_else": lambda c, a, b: a if c else b,
                "pulse": lambda s, w: 1.0 if s < t + half <= s + w else 0.0,
                "ramp": lambda sl, s, e: sl * (min(t, e) - s) if t > s else 0.0,
            }
            if key in simple:
                return np.float64(simple[key](*args))
        raise _NotConstantError(type(tree).__name__)

    def _element_ast(self, key: str) -> Any:
        found = self.compiler.elements.get(key)
        if found is None:
            raise _NotConstantError(f"{key!r} is not defined")
        component = found[0].components[0]
        if isinstance(component.ast, ae.IntegStructure):
            raise _NotConstantError(f"it depends on the stock {found[1].name!r}")
        return component.ast


class CompiledModel:
    """A compiled model: its variables and the lowered nodes code is generated from."""

    def __init__(self, compiler: Compiler) -> None:
        self.path = compiler.source.path
        self.nodes = compiler.nodes
        self.variables = compiler.variables
        self.tables = compiler.tables
        self.switches = compiler.switches
        self.stock_flows = compiler.stock_flows
        self.order_dependencies = compiler.order_dependencies
        self.by_key = {clean_key(v.name): v for v in self.variables}
        self.control_ids = tuple(
            compiler.elements[c][1].node for c in CONTROLS)  # type: ignore[misc]


def compile_model(source: SourceFile) -> CompiledModel:
    """Lower a parsed model into a :class:`CompiledModel` (nesting is bounded by
    MAX_NESTING, and the lowering recurses once or twice a level)."""
    return deep_call(lambda: Compiler(source).compile())
