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
import copy
import dataclasses
import difflib
import keyword
import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pysd.translators.structures import abstract_expressions as ae
from pysd.translators.structures import abstract_model as am

from . import functions
from .errors import (
    CircularDependencyError,
    ModelError,
    UndefinedReferenceError,
    UnsupportedError,
)
from .translate import SourceFile

CONTROLS = ("initial_time", "final_time", "time_step", "saveper")
TIME_NAMES = ("t", "tc", "ts")  # true time, time for comparisons, time for switches

_BINOPS = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div, "^": ast.Pow}
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
    owner: str | None = None  # the variable whose equation created this node
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


def python_name(name: str, used: set[str]) -> str:
    """A Python-safe, unique, readable identifier for a variable name.

    'Mutual Trust' -> 'mutual_trust'; accents dropped; a leading digit gets 'nvs_'.
    """
    s = unicodedata.normalize("NFD", name.strip().strip('"').lower())
    s = s.encode("ascii", "ignore").decode("ascii")
    s = re.sub(r"[\s_]+", "_", s)
    s = re.sub(r"[^0-9a-z_]", "", s)
    s = re.sub(r"_+", "_", s).strip("_")
    if not s or s[0].isdigit():
        s = "nvs_" + s
    candidate, i = s, 1
    while candidate in used or keyword.iskeyword(candidate) or candidate in ("time", "run"):
        candidate = f"{s}_{i}"
        i += 1
    used.add(candidate)
    return candidate


def clean_key(name: str) -> str:
    """Vensim's identity of a name: case-insensitive, spaces and underscores alike."""
    return re.sub(r"[\s_]+", "_", name.strip().strip('"').lower()).strip("_")


# -- ast helpers -----------------------------------------------------------------------


def _name(identifier: str) -> ast.Name:
    return ast.Name(id=identifier, ctx=ast.Load())


def _store(identifier: str) -> ast.Name:
    return ast.Name(id=identifier, ctx=ast.Store())


def _call(func: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=_name(func), args=list(args), keywords=[])


def _num(value: float) -> ast.Constant:
    return ast.Constant(value=float(value))


def _binop(op: str, left: ast.expr, right: ast.expr) -> ast.expr:
    if isinstance(left, ast.Constant) and isinstance(right, ast.Constant):
        with np.errstate(all="ignore"):  # fold, so Python never divides two literals
            a, b = np.float64(left.value), np.float64(right.value)
            value = {"+": a + b, "-": a - b, "*": a * b, "/": a / b, "^": a**b}[op]
        return _num(float(value))
    return ast.BinOp(left=left, op=_BINOPS[op](), right=right)


def _assign(target: str, value: ast.expr) -> ast.Assign:
    return ast.Assign(targets=[_store(target)], value=value, lineno=0)


def _unpack(targets: list[str], value: ast.expr) -> ast.stmt:
    if not targets:
        return ast.Expr(value=ast.Constant(value=None))
    return ast.Assign(
        targets=[ast.Tuple(elts=[_store(t) for t in targets], ctx=ast.Store())],
        value=value, lineno=0,
    )


def _tuple(items: Iterable[ast.expr]) -> ast.Tuple:
    return ast.Tuple(elts=list(items), ctx=ast.Load())


def _names_in(expr: ast.AST | None) -> set[str]:
    if expr is None:
        return set()
    return {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)}


class _ActiveInitial(ast.NodeTransformer):
    """Resolve ACTIVE INITIAL markers: ``_ai(dynamic, initial)`` -> one of them."""

    def __init__(self, pick: int) -> None:
        self.pick = pick

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "_ai":
            return node.args[self.pick]
        return node


def _resolve(expr: ast.expr | None, pick: int) -> ast.expr | None:
    if expr is None:
        return None
    return _ActiveInitial(pick).visit(copy.deepcopy(expr))


class _ScalarFlavour(ast.NodeTransformer):
    """Rewrite ``_where(c, a, b)`` as ``a if c else b`` so only one branch runs."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "_where":
            cond, a, b = node.args
            return ast.IfExp(test=cond, body=a, orelse=b)
        return node


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
        self._owner = ""
        self._owner_var: Variable | None = None
        self._in_compare = 0

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
        owner = self._owner_var.name if self._owner_var else None
        node = Node(id=f"_v{len(self.nodes)}", kind=kind, label=label, owner=owner, **kw)
        self.nodes[node.id] = node
        return node

    def _hidden_aux(self, expr: ast.expr, label: str) -> ast.expr:
        """A value worth naming once (used in several places); literals stay inline."""
        if isinstance(expr, ast.Name | ast.Constant):
            return expr
        node = self._new("aux", label, raw=expr)
        return _name(node.id)

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
            node.dyn = _resolve(node.raw, 0)
            node.init = _resolve(node.raw_init if node.kind != "aux" else node.raw, 1)
            node.dyn_deps = _names_in(node.dyn) & self.nodes.keys()
            node.init_deps = _names_in(node.init) & self.nodes.keys()
            node.uses_time = bool(_names_in(node.dyn) & set(TIME_NAMES))
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
        self._owner, self._owner_var = var.name, var
        node = self.nodes[var.node]  # type: ignore[index]
        tree = element.components[0].ast
        if node.kind == "param":
            node.raw = _num(node.default)  # type: ignore[arg-type]
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
            for ref, sign in _additive_terms(element.components[0].ast.flow):
                target = self.elements.get(clean_key(ref))
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
            return ast.Constant(value=tree)
        if isinstance(tree, int | float | np.number):
            value = float(tree)
            return _name("_nan") if math.isnan(value) else _num(value)
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
            return _name(node.id)
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
                    return _num(-arg.value)
                return ast.UnaryOp(op=ast.USub(), operand=arg)
            return args[0]
        if all(op == "^" for op in ops):  # exponentiation groups to the right
            base = _literal(tree.arguments[0])
            negate = base is not None and base < 0 and not self._parenthesised()
            if negate:  # PySD folds the sign of "-2^2" into the literal; Vensim reads -(2^2)
                args[0] = _num(-base)  # type: ignore[operator]
            result = args[-1]
            for op, arg in zip(reversed(ops), reversed(args[:-1]), strict=True):
                result = _binop(op, arg, result)
            if not negate:
                return result
            if isinstance(result, ast.Constant):
                return _num(-result.value)
            return ast.UnaryOp(op=ast.USub(), operand=result)
        result = args[0]
        for op, arg in zip(ops, args[1:], strict=True):
            result = _binop(op, result, arg)
        return result

    def _parenthesised(self) -> bool:
        """Whether the current equation writes a negative number in brackets before ^."""
        text = self.source.definition_text(self._owner) if self._owner else ""
        return re.search(r"\(\s*-\s*[\d.]+(?:[eE][-+]?\d+)?\s*\)\s*\^", text) is not None

    def _logic(self, tree: ae.LogicStructure) -> ast.expr:
        ops = [op.lower() for op in tree.operators]
        if ops in ([":not:"], ["not"]):
            return _call("_not", self._lower(tree.arguments[0]))
        if all(op in _COMPARE for op in ops):
            self._in_compare += 1
            try:
                args = [self._lower(a) for a in tree.arguments]
            finally:
                self._in_compare -= 1
            if len(args) == 2 and any(_has_time(a) for a in tree.arguments) and all(
                    _affine_in_time(a) for a in tree.arguments):
                self.switches.append(Switch(self._owner, [_root_in_time(
                    _binop("-", args[0], args[1]))]))
            result = args[0]
            for op, arg in zip(ops, args[1:], strict=True):
                result = ast.Compare(left=result, ops=[_COMPARE[op]()], comparators=[arg])
            return result
        args = [self._lower(a) for a in tree.arguments]
        result = args[0]
        for op, arg in zip(ops, args[1:], strict=True):
            if op in (":and:", "and"):
                result = _call("_and", result, arg)
            elif op in (":or:", "or"):
                result = _call("_or", result, arg)
            elif op in _COMPARE:
                result = ast.Compare(left=result, ops=[_COMPARE[op]()], comparators=[arg])
            else:
                raise self._unsupported(f"the operator {op!r}")
        return result

    def _reference(self, tree: ae.ReferenceStructure) -> ast.expr:
        if tree.subscripts is not None:
            raise self._unsupported("subscripted references")
        key = clean_key(tree.reference)
        if key == "time":
            return _name("tc" if self._in_compare else "t")
        found = self.elements.get(key)
        if found is None:
            if key == "pi":
                return _num(math.pi)
            raise self._undefined(tree.reference)
        var = found[1]
        if var.kind == "lookup":
            raise self._unsupported(f"using the lookup {var.name!r} without an argument")
        return _name(var.node)  # type: ignore[arg-type]

    def _undefined(self, reference: str) -> ModelError:
        names = [v.name for v in self.variables]
        close = difflib.get_close_matches(
            reference.replace("_", " "), names, n=3, cutoff=0.6
        )
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
            return _call(_LOOKUP_FUNCS[key], self._lower(raw_args[1]), xp, fp)
        if key == "active_initial":
            self._arity(fname, raw_args, 2)
            return _call("_ai", self._lower(raw_args[0]), self._lower(raw_args[1]))
        if fname in ("Xpulse", "Xpulse_train", "Xramp"):
            return self._xmile_switch(fname, raw_args)
        if key in _ARRAY_FUNCS:
            raise self._unsupported(_display(fname),
                                    "array functions need subscripts (next engine release)")
        args = [self._lower(a) for a in raw_args]
        if key in _UNARY_FUNCS:
            self._arity(fname, args, 1)
            return _call(_UNARY_FUNCS[key], *args)
        if key in _BINARY_FUNCS:
            self._arity(fname, args, 2)
            return _call(_BINARY_FUNCS[key], *args)
        if key == "power":
            self._arity(fname, args, 2)
            return _binop("^", *args)
        if key == "xidz":
            self._arity(fname, args, 3)
            return _call("_xidz", *args)
        if key == "if_then_else":
            self._arity(fname, args, 3)
            return _call("_where", *args)
        if key == "pi":
            return _num(math.pi)
        if key == "step":
            self._arity(fname, args, 2)
            self.switches.append(Switch(self._owner, [args[1]]))
            return _call("_step", _name("ts"), *args)
        if key == "pulse":
            self._arity(fname, args, 2)
            start, width = args
            self.switches.append(Switch(self._owner, [start, _binop("+", start, width)]))
            return _call("_pulse", _name("tc"), _name("ts"), start, width)
        if key == "pulse_train":  # PySD orders the arguments (start, interval, width, end)
            self._arity(fname, args, 4)
            start, interval, width, end = args
            self.switches.append(Switch(self._owner, [start, width, interval, end], train=True))
            return _call("_pulse_train", _name("ts"), start, width, interval, end)
        if key == "ramp":
            self._arity(fname, args, 3)
            self.switches.append(Switch(self._owner, [args[1], args[2]]))
            return _call("_ramp", _name("t"), *args)
        if key.startswith("random") or key in ("get_time_value",):
            raise self._unsupported(_display(fname))
        raise self._unsupported(f"the function {_display(fname)}")

    def _xmile_switch(self, fname: str, raw_args: list[Any]) -> ast.expr:
        args = [self._lower(a) for a in raw_args]
        dt = _name(self._control_node("time_step"))
        if fname == "Xramp":
            self._arity(fname, args, 2)
            self.switches.append(Switch(self._owner, [args[1]]))
            return _call("_ramp", _name("t"), *args)
        if fname == "Xpulse":  # (start, magnitude)
            self._arity(fname, args, 2)
            start = args[0]
            self.switches.append(Switch(self._owner, [start, _binop("+", start, dt)]))
            return _call("_xpulse", _name("ts"), start, args[1], dt)
        self._arity(fname, args, 3)  # Xpulse_train: (start, interval, magnitude)
        start, interval, magnitude = args
        self.switches.append(Switch(self._owner, [start, dt, interval, _num(math.inf)],
                                    train=True))
        return _call("_xpulse_train", _name("ts"), start, interval, magnitude, dt)

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
        return _name(table_id + "x"), _name(table_id + "y")

    def _lookup_call(self, table_id: str, x: ast.expr) -> ast.expr:
        xp, fp = self._table_names(table_id)
        return _call(self.tables[table_id][2], x, xp, fp)

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
        tau = self._hidden_aux(_binop("/", self._lower(tree.smooth_time), _num(order)),
                               label + " stage time")
        init = self._lower(tree.initial)
        upstream = inp
        for k in range(order):
            stock = self._new("stock", f"{label} stage {k + 1}", raw_init=init)
            stock.raw = _binop("/", _binop("-", upstream, _name(stock.id)), tau)
            upstream = _name(stock.id)
        return upstream

    def _delay(self, tree: Any, order: int, what: str, lagged: bool = False) -> ast.expr:
        """DELAY1/3/N as ``order`` stocks in series, each holding ``delay/order``.

        Vensim's DELAY N lets each stage keep the delay time of the step at which its
        content was computed (stage k sees the delay time of k steps ago, the output that
        of the previous step); ``lagged`` reproduces that for fixed steps.
        """
        label = f"{what} in {self._owner!r}"
        inp = self._hidden_aux(self._lower(tree.input), label + " input")
        tau = self._hidden_aux(_binop("/", self._lower(tree.delay_time), _num(order)),
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
                              raw_init=_binop("*", init, tau))
            outflow = self._new("aux", f"{label} outflow {k + 1}",
                                raw=_binop("/", _name(stock.id), taus[k]))
            stock.raw = _binop("-", inflow, _name(outflow.id))
            inflow = _name(outflow.id)
        if lagged and stock is not None:
            return _name(self._new("aux", label, raw=_binop("/", _name(stock.id),
                                                              out_tau)).id)
        return inflow

    def _lagged(self, value: ast.expr, steps: int, label: str) -> ast.expr:
        """``value`` as it was ``steps`` time steps ago (its current value if adaptive)."""
        if isinstance(value, ast.Constant):
            return value
        dt = _name(self._control_node("time_step"))
        delay = self._new("aux", f"{label} lag {steps}", raw=_binop("*", _num(steps), dt))
        node = self._new("discrete", f"{label} lag {steps}", raw=value, raw_init=value,
                         delay=delay.id, alt=value)
        return _name(node.id)

    def _trend(self, tree: ae.TrendStructure) -> ast.expr:
        label = f"TREND in {self._owner!r}"
        inp = self._hidden_aux(self._lower(tree.input), label + " input")
        avg = self._hidden_aux(self._lower(tree.average_time), label + " average time")
        init_trend = self._lower(tree.initial_trend)
        stock = self._new("stock", label + " average")
        stock.raw = _binop("/", _binop("-", inp, _name(stock.id)), avg)
        stock.raw_init = _binop("/", inp, _binop("+", _num(1), _binop("*", init_trend, avg)))
        out = self._new("aux", label, raw=_call(
            "_zidz", _binop("-", inp, _name(stock.id)),
            _binop("*", avg, _call("_abs", _name(stock.id)))))
        return _name(out.id)

    def _delay_fixed(self, tree: ae.DelayFixedStructure) -> ast.expr:
        label = f"DELAY FIXED in {self._owner!r}"
        inp = self._hidden_aux(self._lower(tree.input), label + " input")
        delay = self._new("aux", label + " delay time", raw=self._lower(tree.delay_time))
        node = self._new("discrete", label, raw=inp, raw_init=self._lower(tree.initial),
                         delay=delay.id)
        return _name(node.id)


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


class _AtTime(ast.NodeTransformer):
    def __init__(self, value: float) -> None:
        self.value = value

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return _num(self.value) if node.id in TIME_NAMES else node


def _root_in_time(expr: ast.expr) -> ast.expr:
    """For ``expr`` affine in time, the time where it crosses zero: -f(0) / (f(1) - f(0))."""
    f0 = _AtTime(0.0).visit(copy.deepcopy(expr))
    f1 = _AtTime(1.0).visit(copy.deepcopy(expr))
    return ast.UnaryOp(op=ast.USub(), operand=ast.BinOp(
        left=f0, op=ast.Div(), right=ast.BinOp(left=f1, op=ast.Sub(), right=copy.deepcopy(f0))))


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
        if isinstance(tree, int | float | np.number) and not isinstance(tree, bool):
            return float(tree)
        if isinstance(tree, ae.ArithmeticStructure):
            values = [self.fold(a) for a in tree.arguments]
            if tree.operators == ["negative"]:
                return -values[0]
            result = values[0]
            for op, v in zip(tree.operators, values[1:], strict=True):
                result = {"+": result + v, "-": result - v, "*": result * v,
                          "/": result / v if v else math.inf, "^": result**v}[op]
            return result
        if isinstance(tree, ae.ReferenceStructure):
            key = clean_key(tree.reference)
            if key == "time":
                return self.fold(self._element_ast("initial_time"))
            self.deps.add(key)
            return self.fold(self._element_ast(key))
        if isinstance(tree, ae.CallStructure):
            key = clean_key(tree.function.reference)
            args = [self.fold(a) for a in tree.arguments]
            t = self.fold(self._element_ast("initial_time"))
            half = self.fold(self._element_ast("time_step")) / 2
            simple: dict[str, Callable[..., float]] = {
                "step": lambda h, s: h if t + half > s else 0.0,
                "min": min, "max": max, "abs": abs, "integer": math.trunc,
                "if_then_else": lambda c, a, b: a if c else b,
                "pulse": lambda s, w: 1.0 if s < t + half <= s + w else 0.0,
                "ramp": lambda sl, s, e: sl * (min(t, e) - s) if t > s else 0.0,
            }
            if key in simple:
                return float(simple[key](*args))
        raise _NotConstantError(type(tree).__name__)

    def _element_ast(self, key: str) -> Any:
        found = self.compiler.elements.get(key)
        if found is None:
            raise _NotConstantError(f"{key!r} is not defined")
        component = found[0].components[0]
        if isinstance(component.ast, ae.IntegStructure):
            raise _NotConstantError(f"it depends on the stock {found[1].name!r}")
        return component.ast


# -- code generation ------------------------------------------------------------------


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


class CompiledModel:
    """A compiled model: variables, nodes and generated programs (one per override set)."""

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
        self._programs: dict[tuple[frozenset[str], bool], Program] = {}

    def program(self, overridden: frozenset[str] = frozenset(), fixed: bool = True) -> Program:
        """The generated code where the nodes in ``overridden`` are parameters too.

        ``fixed``: for Euler/RK4, which may keep step-based (discrete) state.
        """
        key = (overridden, fixed)
        if key not in self._programs:
            self._programs[key] = _Generator(self, overridden, fixed).build()
        return self._programs[key]


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
            alt_dyn, alt_init = _resolve(n.alt, 0), _resolve(n.alt, 1)
            self.nodes[nid] = dataclasses.replace(
                n, kind="aux", dyn=alt_dyn, init=alt_init,
                dyn_deps=_names_in(alt_dyn) & self.nodes.keys(),
                init_deps=_names_in(alt_init) & self.nodes.keys(),
                uses_time=bool(_names_in(alt_dyn) & set(TIME_NAMES)))
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
            module = _ScalarFlavour().visit(module)
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
            names = set().union(*(_names_in(e) for e in switch.exprs))
            if (names & set(TIME_NAMES)) or not (names & self.nodes.keys()) <= const:
                dynamic.append(switch.owner)
                continue
            resolved = [_resolve(e, 0) for e in switch.exprs]
            if switch.train:
                trains.append(_tuple(resolved))  # type: ignore[arg-type]
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
        body: list[ast.stmt] = [_unpack(self.params, _name("P"))]
        body += [_assign(n, nodes[n].dyn) for n in control_order]  # type: ignore[arg-type]
        if start_order:
            body += [_assign(v, _num(0.0)) for v in TIME_NAMES]
            body += [_assign(n, nodes[n].dyn) for n in start_order]  # type: ignore[arg-type]
        it, _ft, dt, _sp = self.model.control_ids
        body.append(_assign("t", _name(it)))
        body.append(_assign("tc", _name("t")))
        half = _binop("*", _name(dt), _num(0.5)) if dt in const else _name("tiny")
        body.append(_assign("ts", ast.BinOp(left=_name("t"), op=ast.Add(), right=ast.IfExp(
            test=_name("fixed"), body=half, orelse=_name("tiny")))))
        for n in init_order:
            body.append(_assign(n, nodes[n].init))  # type: ignore[arg-type]
        for n in const_order:
            body.append(_assign(n, nodes[n].dyn))  # type: ignore[arg-type]
        known = const | set(start_order)
        body.append(ast.Return(value=_tuple([
            _tuple(_name(c) if c in known else ast.Constant(None)
                   for c in self.model.control_ids),
            _tuple(_name(s) for s in stocks),
            _tuple(_name(k) for k in k_ids),
            _tuple(_name(d) for d in discrete),
            _tuple(_name(nodes[d].delay) for d in discrete),  # type: ignore[arg-type]
        ])))
        return _function("_setup", ["P", "fixed", "tiny"], body)

    def _state_loads(self, stocks: list[str], discrete: list[str]) -> list[ast.stmt]:
        body: list[ast.stmt] = []
        for i, s in enumerate(stocks):
            body.append(_assign(s, ast.Subscript(value=_name("y"), slice=ast.Constant(i),
                                                 ctx=ast.Load())))
        for i, d in enumerate(discrete):
            body.append(_assign(d, ast.Subscript(value=_name("z"), slice=ast.Constant(i),
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
        rates_body += [_assign(n, nodes[n].dyn) for n in rate_order]  # type: ignore[misc]
        rates_body.append(_assign("_dy", _call("_empty", ast.Attribute(
            value=_name("y"), attr="shape", ctx=ast.Load()))))
        for i, s in enumerate(stocks):
            rates_body.append(ast.Assign(
                targets=[ast.Subscript(value=_name("_dy"), slice=ast.Constant(i),
                                       ctx=ast.Store())],
                value=nodes[s].dyn, lineno=0))  # type: ignore[arg-type]
        rates_body.append(ast.Return(value=_tuple([
            _name("_dy"), _tuple(nodes[d].dyn for d in discrete)])))  # type: ignore[misc]
        outputs_body = self._state_loads(stocks, discrete)
        outputs_body += [_assign(n, nodes[n].dyn) for n in dyn_order]  # type: ignore[misc]
        outputs_body.append(ast.Return(value=_tuple(_name(n) for n in output_ids)))
        controls_body = self._state_loads(stocks, discrete)
        controls_body += [_assign(n, nodes[n].dyn) for n in ctl_order]  # type: ignore[misc]
        controls_body.append(ast.Return(value=_tuple(
            _name(c) for c in self.model.control_ids)))
        body: list[ast.stmt] = [
            _unpack(k_ids, _name("K")),
            _function("rates", args, rates_body),
            _function("outputs", args, outputs_body),
            _function("breakpoints", [], [ast.Return(value=_tuple(breakpoints))]),
            _function("trains", [], [ast.Return(value=_tuple(trains))]),
            _function("controls", args, controls_body),
            ast.Return(value=_tuple([_name("rates"), _name("outputs"), _name("breakpoints"),
                                     _name("trains"), _name("controls")])),
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
        state = _tuple(_name(s) for s in stocks)
        loop: list[ast.stmt] = [
            _assign("t", _binop("+", _name("t0"), _binop("*", _name("_k"), _name("dt")))),
            _assign("tc", _name("t")),
            _assign("ts", _binop("+", _name("t"), _name("half"))),
            ast.If(test=ast.Compare(left=_binop_raw("%", _name("_k"), _name("every")),
                                    ops=[ast.Eq()], comparators=[ast.Constant(0)]),
                   body=[ast.Expr(value=_call("_append", state))], orelse=[]),
            ast.If(test=ast.Compare(left=_name("_k"), ops=[ast.Eq()],
                                    comparators=[_name("n")]),
                   body=[ast.Break()], orelse=[]),
        ]
        loop += [_assign(n, nodes[n].dyn) for n in rate_order]  # type: ignore[misc]
        loop += [_assign(d, nodes[s].dyn) for d, s in zip(derivs, stocks, strict=True)]  # type: ignore[misc]
        loop += [_assign(s, _binop("+", _name(s), _binop("*", _name("dt"), _name(d))))
                 for d, s in zip(derivs, stocks, strict=True)]
        if stocks:
            total: ast.expr = _name(stocks[0])
            for s in stocks[1:]:
                total = ast.BinOp(left=total, op=ast.Add(), right=_name(s))
            loop.append(ast.If(
                test=ast.UnaryOp(op=ast.Not(), operand=_call("_isfinite", total)),
                body=[ast.Return(value=_tuple([_name("_out"), _name("_k")]))], orelse=[]))
        body: list[ast.stmt] = [
            _unpack(k_ids, _name("K")),
            _unpack(stocks, _name("y0")),
            _assign("_out", ast.List(elts=[], ctx=ast.Load())),
            _assign("_append", ast.Attribute(value=_name("_out"), attr="append",
                                             ctx=ast.Load())),
            ast.For(target=_store("_k"),
                    iter=_call("range", _binop("+", _name("n"), ast.Constant(1))),
                    body=loop, orelse=[], lineno=0),
            ast.Return(value=_tuple([_name("_out"), ast.Constant(-1)])),
        ]
        return _function("_euler", ["K", "y0", "t0", "dt", "n", "every", "half"], body)


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


def compile_model(source: SourceFile) -> CompiledModel:
    """Lower a parsed model into a :class:`CompiledModel`."""
    return Compiler(source).compile()
