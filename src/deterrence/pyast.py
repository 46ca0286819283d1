"""Constructors for the Python AST the compiler emits.

Generated code is built node by node from these helpers: identifiers we generate, numbers,
and calls into :mod:`deterrence.functions`. No text from a model file ever becomes code.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable

import numpy as np

TIME_NAMES = ("t", "tc", "ts")  # true time, time for comparisons, time for switches
BINOPS = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div, "^": ast.Pow}



def ref(identifier: str) -> ast.Name:
    return ast.Name(id=identifier, ctx=ast.Load())


def store(identifier: str) -> ast.Name:
    return ast.Name(id=identifier, ctx=ast.Store())


def call(func: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ref(func), args=list(args), keywords=[])


def num(value: float) -> ast.Constant:
    return ast.Constant(value=float(value))


def binop(op: str, left: ast.expr, right: ast.expr) -> ast.expr:
    if isinstance(left, ast.Constant) and isinstance(right, ast.Constant):
        with np.errstate(all="ignore"):  # fold, so Python never divides two literals
            a, b = np.float64(left.value), np.float64(right.value)
            value = {"+": a + b, "-": a - b, "*": a * b, "/": a / b, "^": a**b}[op]
        return num(float(value))
    return ast.BinOp(left=left, op=BINOPS[op](), right=right)


def assign(target: str, value: ast.expr) -> ast.Assign:
    return ast.Assign(targets=[store(target)], value=value, lineno=0)


def unpack(targets: list[str], value: ast.expr) -> ast.stmt:
    if not targets:
        return ast.Expr(value=ast.Constant(value=None))
    return ast.Assign(
        targets=[ast.Tuple(elts=[store(t) for t in targets], ctx=ast.Store())],
        value=value, lineno=0,
    )


def tup(items: Iterable[ast.expr]) -> ast.Tuple:
    return ast.Tuple(elts=list(items), ctx=ast.Load())


def names_in(expr: ast.AST | None) -> set[str]:
    if expr is None:
        return set()
    return {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)}


def _shallow(node: ast.AST) -> ast.AST:
    new = type(node).__new__(type(node))
    new.__dict__.update(node.__dict__)
    return new


def transform(tree: ast.AST, fn: Callable[[ast.AST], ast.AST]) -> ast.AST:
    """A copy of ``tree`` with ``fn`` applied to every node, children first.

    Iterative, so a tree of any depth is fine (``copy.deepcopy`` and ``NodeTransformer``
    recurse once per level), and the input is never changed: lowered expressions are
    shared between nodes and between generated programs.
    """
    root = _shallow(tree)
    order: list[ast.AST] = []
    stack = [root]
    while stack:  # copy every node, parents before children
        node = stack.pop()
        order.append(node)
        for name, value in ast.iter_fields(node):
            if isinstance(value, ast.AST):
                child = _shallow(value)
                setattr(node, name, child)
                stack.append(child)
            elif isinstance(value, list):
                items = [_shallow(v) if isinstance(v, ast.AST) else v for v in value]
                setattr(node, name, items)
                stack.extend(v for v in items if isinstance(v, ast.AST))
    replaced: dict[int, ast.AST] = {}
    for node in reversed(order):  # children before parents
        for name, value in ast.iter_fields(node):
            if isinstance(value, ast.AST) and id(value) in replaced:
                setattr(node, name, replaced[id(value)])
            elif isinstance(value, list):
                setattr(node, name, [replaced.get(id(v), v) if isinstance(v, ast.AST) else v
                                     for v in value])
        new = fn(node)
        if new is not node:
            replaced[id(node)] = new
    return replaced.get(id(root), root)


def _is_call(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
        and node.func.id == name


def resolve_active(expr: ast.expr | None, pick: int) -> ast.expr | None:
    """Resolve ACTIVE INITIAL markers: ``_ai(dynamic, initial)`` -> one of them."""
    if expr is None or "_ai" not in names_in(expr):
        return expr
    return transform(expr, lambda n: n.args[pick] if _is_call(n, "_ai") else n)  # type: ignore[attr-defined,return-value]


def _scalar_node(node: ast.AST) -> ast.AST:
    if _is_call(node, "_where"):
        cond, a, b = node.args  # type: ignore[attr-defined]
        return ast.IfExp(test=cond, body=a, orelse=b)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        return call("_power", node.left, node.right)
    return node


def scalar_flavour(module: ast.Module) -> ast.Module:
    """The scalar flavour of generated code: ``_where(c, a, b)`` becomes ``a if c else b``
    (only one branch runs), and ``**`` becomes ``math.pow``, which raises instead of
    returning a complex number or overflowing, so the caller falls back to NumPy."""
    return transform(module, _scalar_node)  # type: ignore[return-value]
