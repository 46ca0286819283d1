"""Questions about PySD's abstract model trees that lowering asks (iteratively where a
tree may nest thousands of levels)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from pysd.translators.structures import abstract_expressions as ae


def depth(tree: Any) -> int:
    """Levels of nested structures (calls, operators) in an AMR expression."""
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


def literal(tree: Any) -> float | None:
    """The number a tree is (``-3`` included), or None."""
    if isinstance(tree, bool):
        return None
    if isinstance(tree, int | float | np.number):
        return float(tree)
    if isinstance(tree, ae.ArithmeticStructure) and tree.operators == ["negative"]:
        inner = literal(tree.arguments[0])
        return -inner if inner is not None else None
    return None


def additive_terms(tree: Any, sign: int = 1) -> list[tuple[str, int]]:
    """References added to (+1) or subtracted from (-1) a stock's net rate."""
    if isinstance(tree, ae.ReferenceStructure):
        return [(tree.reference, sign)]
    if not isinstance(tree, ae.ArithmeticStructure):
        return []
    if tree.operators == ["negative"]:
        return additive_terms(tree.arguments[0], -sign)
    if all(op in ("+", "-") for op in tree.operators):
        terms = additive_terms(tree.arguments[0], sign)
        for op, arg in zip(tree.operators, tree.arguments[1:], strict=True):
            terms += additive_terms(arg, sign if op == "+" else -sign)
        return terms
    return []
