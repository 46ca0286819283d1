"""The engine's intermediate representation (IR): what a model computes, with no Python.

Lowering (:mod:`.lower`) turns PySD's abstract model into :class:`Node` values whose
expressions are the small typed trees below; emitters turn them into code (today
:mod:`.emit_numpy`, NumPy over a run axis; a native backend can read the same trees).
Every identifier in the IR is one the compiler generated (``_v12``, ``_tbl3``) and every
function a key of the library registry, so no text of a model file can reach the code.

Expressions are immutable and compared by identity (lowered subtrees are shared between
nodes, and a deep tree must never be compared or hashed recursively). Values carry
``axes``: the named dimensions (subscript ranges) after the run axis. An expression's
axes are the ordered union of its operands' (operands are broadcast by axis name, see
:func:`axes_of`); ``Take``, ``Reduce``, ``Assemble`` and ``ArrayApply`` are the only
nodes that change them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from ..library import FUNCTIONS, Clock


class NodeKind(StrEnum):
    """What a generated value is, which decides where its code goes."""

    PARAM = "param"  # a parameter of the run: literal constants and overridden values
    AUX = "aux"  # computed from others, at every evaluation (or once, if constant)
    STOCK = "stock"  # integrated: ``raw`` is its derivative, ``raw_init`` its start
    SNAPSHOT = "snapshot"  # INITIAL(x): ``raw_init`` evaluated once, at the start
    DISCRETE = "discrete"  # DELAY FIXED pipes and step lags: a value m steps ago


class VarKind(StrEnum):
    """How users see a variable (``deterrence info``, the Dataset's ``kind`` attribute)."""

    STOCK = "stock"
    FLOW = "flow"
    AUXILIARY = "auxiliary"
    CONSTANT = "constant"
    LOOKUP = "lookup"
    CONTROL = "control"


class Op(StrEnum):
    ADD = "+"
    SUB = "-"
    MUL = "*"
    DIV = "/"
    POW = "^"


class Cmp(StrEnum):
    EQ = "="
    NE = "<>"
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="


class LookupMode(StrEnum):
    """How a table is read between and beyond its points (library entries ``lookup_*``)."""

    INTERPOLATE = "lookup_interpolate"
    EXTRAPOLATE = "lookup_extrapolate"
    BACKWARD = "lookup_backward"
    FORWARD = "lookup_forward"


@dataclass(frozen=True)
class Axis:
    """A subscript range: a named dimension of a value, after the run axis."""

    name: str
    elements: tuple[str, ...]


# -- expressions -----------------------------------------------------------------------

_node = dataclass(frozen=True, eq=False, slots=True)


@_node
class Const:
    """A number (NaN included), folded at compile time where both sides are numbers."""

    value: float


@_node
class Ref:
    """The value of another node; ``select`` will pick elements of a subscripted one."""

    node: str
    select: tuple[str, ...] = ()


@_node
class Time:
    """The time, as one of the three clocks the library's functions read."""

    clock: Clock


@_node
class TimeAt:
    """The time fixed at a value: switch times are roots solved at t = 0 and t = 1."""

    value: float


@_node
class Neg:
    arg: Expr


@_node
class Binary:
    op: Op
    left: Expr
    right: Expr


@_node
class Compare:
    op: Cmp
    left: Expr
    right: Expr


@_node
class Call:
    """A library function (``function`` is a registry key) on lowered arguments."""

    function: str
    args: tuple[Expr, ...]


@_node
class Lookup:
    """Table ``table`` (points kept by the compiled model) read at ``x``."""

    table: str
    x: Expr
    mode: LookupMode


@_node
class ActiveInitial:
    """ACTIVE INITIAL: ``dynamic`` during the run, ``initial`` when stocks start."""

    dynamic: Expr
    initial: Expr


@_node
class ArrayConst:
    """A constant array (a global of the generated code) with named ``axes``."""

    name: str
    axes: tuple[str, ...]


@_node
class Take:
    """Elements ``index`` of ``arg`` along its axis ``axis``: an int drops the axis, a tuple
    keeps it under the name ``new`` (a subrange, a mapped range, or the axis itself)."""

    arg: Expr
    axis: str
    index: int | tuple[int, ...]
    new: str = ""


@_node
class Relabel:
    """``arg`` with its axes renamed ``names`` (same data; for transpositions such as
    ``m[B, A]`` of a matrix on (A, B), whose renamings would otherwise collide)."""

    arg: Expr
    names: tuple[str, ...]


@_node
class TableLookup:
    """A subscripted lookup (or data) read at ``x``: ``xp``/``fp`` hold one table per
    element, their points along a last axis ``POINTS`` (padded by repeating the last
    point); ``mode``: interpolated, or held backward or forward (data keywords)."""

    x: Expr
    xp: Expr
    fp: Expr
    mode: LookupMode = LookupMode.INTERPOLATE


POINTS = "#points"


@_node
class ArrayCall:
    """An array function of ``function`` (a key of ``arrayops.ARRAY_FUNCTIONS``) on the
    trailing axes of ``arg``: the value keeps ``arg``'s axes (INVERT MATRIX: its last two,
    VECTOR SORT ORDER and VECTOR RANK: ``axis``)."""

    function: str
    arg: Expr
    axis: str
    extra: tuple[float, ...] = ()


@_node
class ArrayApply:
    """An array function of several arguments (``function``, a key of
    ``arrayops.NAMESPACE`` without its ``_a_``): argument ``i`` is aligned to the axes
    ``grids[i]`` before the call (the axes it works along last); the value has ``axes``.
    ``extra``: numbers fixed at compile time; ``where``: the name of a global saying which
    variable calls it, for the errors the function raises while the model runs."""

    function: str
    args: tuple[Expr, ...]
    grids: tuple[tuple[str, ...], ...]
    axes: tuple[str, ...]
    extra: tuple[float, ...] = ()
    where: str = ""


@_node
class Reduce:
    """``function`` (sum, prod, vmin, vmax) of ``arg`` over its axis ``axis``."""

    function: str
    arg: Expr
    axis: str


@_node
class Assemble:
    """A variable defined piece by piece: ``parts[i]`` (whose axes are among ``axes``)
    is written into the elements ``targets[i]`` (the name of a global: per axis, the
    element positions, as ``np.ix_`` gives them; and a mask of the part's elements, or
    None) of an array of shape ``shape``; elements no part defines are NaN."""

    axes: tuple[str, ...]
    shape: tuple[int, ...]
    parts: tuple[Expr, ...]
    targets: tuple[str, ...]
    grids: tuple[tuple[str, ...], ...]  # each part's axes, as the target is laid out


Expr = (Const | Ref | Time | TimeAt | Neg | Binary | Compare | Call | Lookup | ActiveInitial
        | ArrayConst | Take | Relabel | Reduce | Assemble | TableLookup | ArrayCall
        | ArrayApply)



# -- nodes and variables ---------------------------------------------------------------


@dataclass
class Variable:
    """A model variable as users see it: one per equation in the file."""

    name: str  # as written in the model file
    py_name: str  # Python-safe name used in Datasets and as a parameter key
    kind: VarKind
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
    """One generated value: a parameter, auxiliary, stock, snapshot or discrete pipe.

    ``raw``/``raw_init`` are as lowered (ACTIVE INITIAL unresolved); ``dyn``/``init`` are
    the expressions for the run and for the start, with their dependencies.
    """

    id: str
    kind: NodeKind
    label: str  # how errors name it: the variable, or "SMOOTH in 'X'"
    var: Variable | None = None
    raw: Expr | None = None  # value (aux), derivative (stock), pipe input (discrete)
    raw_init: Expr | None = None  # initial value (stock, snapshot, discrete)
    default: float | None = None  # literal value of a parameter
    delay: str | None = None  # discrete: node holding the delay time
    alt: Expr | None = None  # discrete: the continuous value adaptive methods use
    dyn: Expr | None = None
    init: Expr | None = None
    dyn_deps: set[str] = field(default_factory=set)
    init_deps: set[str] = field(default_factory=set)
    uses_time: bool = False
    axes: tuple[Axis, ...] = ()

    def resolve(self, known: Collection[str]) -> None:
        """Fill ``dyn``/``init`` and their dependencies from ``raw``/``raw_init``."""
        self.dyn = resolve_active(self.raw, 0)
        self.init = resolve_active(self.raw_init if self.kind != NodeKind.AUX else self.raw, 1)
        self.dyn_deps = {r for r in refs(self.dyn) if r in known}
        self.init_deps = {r for r in refs(self.init) if r in known}
        self.uses_time = uses_time(self.dyn)


# -- constructors (constant folding with NumPy's float semantics) ----------------------


def num(value: float) -> Const:
    return Const(float(value))


def ref(node_id: str) -> Ref:
    return Ref(node_id)


_FOLD: dict[Op, Callable[[np.float64, np.float64], np.float64]] = {
    Op.ADD: np.add, Op.SUB: np.subtract, Op.MUL: np.multiply, Op.DIV: np.divide,
    Op.POW: np.power,
}


def binop(op: str | Op, left: Expr, right: Expr) -> Expr:
    """``left op right``; of two numbers, folded as NumPy would (1/0 is inf)."""
    op = Op(op)
    if isinstance(left, Const) and isinstance(right, Const):
        with np.errstate(all="ignore"):
            return num(float(_FOLD[op](np.float64(left.value), np.float64(right.value))))
    return Binary(op, left, right)


def negate(arg: Expr) -> Expr:
    return num(-arg.value) if isinstance(arg, Const) else Neg(arg)


def compare(op: str | Cmp, left: Expr, right: Expr) -> Expr:
    """A comparison; of two numbers, folded to 1.0 or 0.0 (a number, never a bool)."""
    op = Cmp(op)
    if isinstance(left, Const) and isinstance(right, Const):
        a, b = left.value, right.value
        return num(float({Cmp.EQ: a == b, Cmp.NE: a != b, Cmp.LT: a < b, Cmp.LE: a <= b,
                          Cmp.GT: a > b, Cmp.GE: a >= b}[op]))
    return Compare(op, left, right)


def call(function: str, *args: Expr) -> Call:
    """A call of the registry entry ``function`` (a misspelt key fails here, at once)."""
    if function not in FUNCTIONS:
        raise KeyError(f"{function!r} is not in the function registry")
    return Call(function, tuple(args))


#: Chains of + - (or * /) up to this length are evaluated left to right, as Vensim does;
#: longer ones as a balanced tree of such blocks, so 100,000 terms are 12 levels deep.
LEFT_TO_RIGHT = 32
_INVERSE = {Op.ADD: Op.SUB, Op.SUB: Op.ADD, Op.MUL: Op.DIV, Op.DIV: Op.MUL}


def chain(ops: list[str] | list[Op], args: list[Expr]) -> Expr:
    """``a0 op0 a1 op1 a2 ...``: left to right, or balanced when long.

    The right half of a split is computed on its own, so when the operator joining it is
    ``-`` (``/``) the operators inside it are inverted: a - b + c = a - (b - c).
    """
    ops = [Op(o) for o in ops]
    additive, multiplicative = {Op.ADD, Op.SUB}, {Op.MUL, Op.DIV}
    if len(args) <= LEFT_TO_RIGHT or not (set(ops) <= additive or set(ops) <= multiplicative):
        result = args[0]
        for op, arg in zip(ops, args[1:], strict=True):
            result = binop(op, result, arg)
        return result
    mid = len(args) // 2
    joint = ops[mid - 1]
    right_ops = ops[mid:] if joint in (Op.ADD, Op.MUL) else [_INVERSE[o] for o in ops[mid:]]
    return binop(joint, chain(ops[:mid - 1], args[:mid]), chain(right_ops, args[mid:]))


# -- walking and rewriting (iterative: equations may nest thousands of levels) ---------


_CHILDREN: dict[type, Callable[[Any], tuple[Expr, ...]]] = {
    Neg: lambda e: (e.arg,),
    Binary: lambda e: (e.left, e.right),
    Compare: lambda e: (e.left, e.right),
    Call: lambda e: e.args,
    Lookup: lambda e: (e.x,),
    ActiveInitial: lambda e: (e.dynamic, e.initial),
    Take: lambda e: (e.arg,),
    Relabel: lambda e: (e.arg,),
    TableLookup: lambda e: (e.x, e.xp, e.fp),
    ArrayCall: lambda e: (e.arg,),
    ArrayApply: lambda e: e.args,
    Reduce: lambda e: (e.arg,),
    Assemble: lambda e: e.parts,
}
_REBUILD: dict[type, Callable[[Any, tuple[Expr, ...]], Expr]] = {
    Neg: lambda e, c: Neg(*c),
    Binary: lambda e, c: Binary(e.op, *c),
    Compare: lambda e, c: Compare(e.op, *c),
    Call: lambda e, c: Call(e.function, c),
    Lookup: lambda e, c: Lookup(e.table, c[0], e.mode),
    ActiveInitial: lambda e, c: ActiveInitial(*c),
    Take: lambda e, c: Take(c[0], e.axis, e.index, e.new),
    Relabel: lambda e, c: Relabel(c[0], e.names),
    TableLookup: lambda e, c: TableLookup(*c, e.mode),
    ArrayCall: lambda e, c: ArrayCall(e.function, c[0], e.axis, e.extra),
    ArrayApply: lambda e, c: ArrayApply(e.function, c, e.grids, e.axes, e.extra, e.where),
    Reduce: lambda e, c: Reduce(e.function, c[0], e.axis),
    Assemble: lambda e, c: Assemble(e.axes, e.shape, c, e.targets, e.grids),
}


def children(expr: Expr) -> tuple[Expr, ...]:
    get = _CHILDREN.get(type(expr))
    return get(expr) if get else ()


def walk(expr: Expr | None) -> Iterator[Expr]:
    """Every distinct subexpression of ``expr`` (shared subtrees once)."""
    if expr is None:
        return
    seen: set[int] = set()
    todo = [expr]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend(children(current))


def refs(expr: Expr | None) -> set[str]:
    """The nodes ``expr`` reads."""
    return {e.node for e in walk(expr) if isinstance(e, Ref)}


def uses_time(expr: Expr | None) -> bool:
    return any(isinstance(e, Time) for e in walk(expr))


def transform(expr: Expr, fn: Callable[[Expr], Expr]) -> Expr:
    """A copy of ``expr`` with ``fn`` applied to every node, children first.

    Shared subtrees are rewritten once and stay shared; the input is never changed.
    """
    done: dict[int, Expr] = {}
    todo: list[tuple[Expr, bool]] = [(expr, False)]
    while todo:
        current, expanded = todo.pop()
        if id(current) in done:
            continue
        if not expanded:
            todo.append((current, True))
            todo.extend((c, False) for c in children(current) if id(c) not in done)
            continue
        old = children(current)
        new = tuple(done[id(c)] for c in old)
        changed = any(a is not b for a, b in zip(new, old, strict=True))
        rebuilt = _REBUILD[type(current)](current, new) if changed else current
        done[id(current)] = fn(rebuilt)
    return done[id(expr)]


def resolve_active(expr: Expr | None, pick: int) -> Expr | None:
    """ACTIVE INITIAL resolved: its dynamic (``pick`` 0) or its initial (1) value."""
    if expr is None or not any(isinstance(e, ActiveInitial) for e in walk(expr)):
        return expr
    return transform(expr, lambda e: (e.dynamic, e.initial)[pick]
                     if isinstance(e, ActiveInitial) else e)


def at_time(expr: Expr, value: float) -> Expr:
    """``expr`` with every clock replaced by the time ``value``."""
    return transform(expr, lambda e: TimeAt(value) if isinstance(e, Time) else e)



def union(*groups: tuple[str, ...]) -> tuple[str, ...]:
    """Axis names in order of first appearance."""
    return tuple(dict.fromkeys(name for group in groups for name in group))


def axes_of(expr: Expr, node_axes: Callable[[str], tuple[str, ...]],
            memo: dict[int, tuple[str, ...]] | None = None) -> tuple[str, ...]:
    """The axis names of ``expr``'s value, in the order its array holds them.

    ``node_axes`` gives a node's axis names; ``memo`` (by id) may be shared between calls.
    """
    memo = {} if memo is None else memo
    todo: list[tuple[Expr, bool]] = [(expr, False)]
    while todo:
        current, expanded = todo.pop()
        if id(current) in memo:
            continue
        kids = children(current)
        if not expanded and kids:
            todo.append((current, True))
            todo.extend((c, False) for c in kids if id(c) not in memo)
            continue
        if isinstance(current, Ref):
            result = node_axes(current.node)
        elif isinstance(current, ArrayConst | Assemble | ArrayApply):
            result = current.axes
        elif isinstance(current, Relabel):
            result = current.names
        elif isinstance(current, Take):
            inner = memo[id(current.arg)]
            kept = () if isinstance(current.index, int) else (current.new or current.axis,)
            result = tuple(b for a in inner for b in (kept if a == current.axis else (a,)))
        elif isinstance(current, TableLookup):
            result = tuple(a for a in union(*(memo[id(c)] for c in kids)) if a != POINTS)
        elif isinstance(current, Reduce):
            result = tuple(a for a in memo[id(current.arg)] if a != current.axis)
        else:
            result = union(*(memo[id(c)] for c in kids))
        memo[id(current)] = result
    return memo[id(expr)]
