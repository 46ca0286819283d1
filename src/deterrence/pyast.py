"""Constructors for the Python AST the compiler emits.

Generated code is built node by node from these helpers: identifiers we generate, numbers,
and calls into :mod:`deterrence.functions`. No text from a model file ever becomes code.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterable

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


class ActiveInitial(ast.NodeTransformer):
    """Resolve ACTIVE INITIAL markers: ``_ai(dynamic, initial)`` -> one of them."""

    def __init__(self, pick: int) -> None:
        self.pick = pick

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "_ai":
            return node.args[self.pick]
        return node


def resolve_active(expr: ast.expr | None, pick: int) -> ast.expr | None:
    if expr is None:
        return None
    return ActiveInitial(pick).visit(copy.deepcopy(expr))


class ScalarFlavour(ast.NodeTransformer):
    """Rewrite ``_where(c, a, b)`` as ``a if c else b`` so only one branch runs."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "_where":
            cond, a, b = node.args
            return ast.IfExp(test=cond, body=a, orelse=b)
        return node


