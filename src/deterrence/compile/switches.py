"""Switch times: when an input jumps (STEP, PULSE, comparisons with Time) or bends (RAMP).

Adaptive solvers integrate between these times so that no step straddles a switch. They
come from two places: the library entries' ``switches``/``train`` specs, and comparisons
whose sides are affine in Time (``Time >= a * b``), whose root is solved in closed form.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pysd.translators.structures import abstract_expressions as ae

from ..library import Function
from ..names import clean_key
from . import ir


@dataclass
class Switch:
    """Times at which the value of ``owner`` may switch (``train``: a periodic one)."""

    owner: str
    exprs: list[ir.Expr]
    train: bool = False  # (start, width, interval, end) of a PULSE TRAIN


def from_entry(entry: Function, owner: str, args: Sequence[ir.Expr]) -> Switch | None:
    """The switch a library call makes, from its entry's spec (args as PySD gives them,
    then its control values)."""
    if entry.train is not None:
        return Switch(owner, [args[i] if isinstance(i, int) and not isinstance(i, bool)
                              else ir.num(i) for i in entry.train], train=True)
    if not entry.switches:
        return None
    exprs = []
    for indexes in entry.switches:
        total = args[indexes[0]]
        for i in indexes[1:]:
            total = ir.binop("+", total, args[i])
        exprs.append(total)
    return Switch(owner, exprs)


def is_time(tree: Any) -> bool:
    return isinstance(tree, ae.ReferenceStructure) and clean_key(tree.reference) == "time"


def has_time(tree: Any) -> bool:
    if is_time(tree):
        return True
    if isinstance(tree, ae.ArithmeticStructure | ae.LogicStructure | ae.CallStructure):
        return any(has_time(c) for c in tree.arguments)
    return False


def affine_in_time(tree: Any) -> bool:
    """Whether ``tree`` is a*Time + b with a and b free of Time (so its root is a switch)."""
    if not has_time(tree) or is_time(tree):
        return True  # constant in time here (whether it is a constant is checked later)
    if not isinstance(tree, ae.ArithmeticStructure):
        return False
    args, ops = tree.arguments, tree.operators
    if ops == ["negative"]:
        return affine_in_time(args[0])
    if all(op in ("+", "-") for op in ops):
        return all(affine_in_time(a) for a in args)
    if all(op in ("*", "/") for op in ops):
        with_time = [i for i, a in enumerate(args) if has_time(a)]
        return (len(with_time) == 1 and affine_in_time(args[with_time[0]])
                and (with_time[0] == 0 or ops[with_time[0] - 1] == "*"))
    return False


def root_in_time(expr: ir.Expr) -> ir.Expr:
    """For ``expr`` affine in time, the time where it crosses zero: -f(0) / (f(1) - f(0)).

    Built without folding: f(0) and f(1) are evaluated with NumPy's arithmetic at run time.
    """
    f0 = ir.at_time(expr, 0.0)
    return ir.Neg(ir.Binary(ir.Op.DIV, f0, ir.Binary(ir.Op.SUB, ir.at_time(expr, 1.0), f0)))

