"""The IR (compile/ir.py): what lowering produces and emitters read."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest

import deterrence
from deterrence.compile import NodeKind, VarKind, ir
from deterrence.compile.emit_numpy import _Expressions
from deterrence.library import FUNCTIONS, Clock


def test_numbers_fold_with_numpy_semantics_and_comparisons_fold_to_numbers() -> None:
    assert ir.binop("/", ir.num(1), ir.num(0)).value == math.inf
    assert math.isnan(ir.binop("^", ir.num(-1), ir.num(0.5)).value)
    folded = ir.compare("<", ir.num(1), ir.num(2))
    assert isinstance(folded, ir.Const)
    assert folded.value == 1.0
    assert isinstance(ir.binop("+", ir.ref("_v0"), ir.num(1)), ir.Binary)


def test_transform_keeps_shared_subtrees_shared_and_never_changes_its_input() -> None:
    shared = ir.binop("*", ir.ref("_v0"), ir.Time(Clock.TIME))
    expr = ir.binop("+", shared, ir.call("abs", shared))
    moved = ir.at_time(expr, 2.0)
    assert moved.left is moved.right.args[0]  # rewritten once, still one subtree
    assert isinstance(moved.left.right, ir.TimeAt)
    assert isinstance(expr.left.right, ir.Time)  # the input is intact
    assert ir.uses_time(expr)
    assert not ir.uses_time(moved)


def test_active_initial_resolves_to_either_side() -> None:
    expr = ir.binop("+", ir.ActiveInitial(ir.ref("_v1"), ir.ref("_v2")), ir.num(1))
    assert ir.refs(ir.resolve_active(expr, 0)) == {"_v1"}
    assert ir.refs(ir.resolve_active(expr, 1)) == {"_v2"}


def test_a_deep_tree_is_walked_and_rewritten_without_recursion() -> None:
    expr: ir.Expr = ir.Time(Clock.TIME)
    for _ in range(50_000):
        expr = ir.Neg(expr)
    assert ir.uses_time(expr)
    assert not ir.uses_time(ir.at_time(expr, 0.0))


def test_emitted_expressions_name_only_generated_identifiers_and_the_library() -> None:
    expr = ir.call("if_then_else", ir.compare(">", ir.ref("_v3"), ir.num(1)),
                   ir.binop("^", ir.ref("_v4"), ir.num(2)), ir.num(math.nan))
    vector = ast.unparse(_Expressions("vector")(expr))
    scalar = ast.unparse(_Expressions("scalar")(expr))
    assert vector == f"{FUNCTIONS['if_then_else'].ident}(_v3 > 1.0, _v4 ** 2.0, _nan)"
    assert scalar == "_power(_v4, 2.0) if _v3 > 1.0 else _nan"


def test_subscripted_references_are_refused_by_the_emitter_until_subscripts_arrive() -> None:
    with pytest.raises(deterrence.UnsupportedError, match="subscripted"):
        _Expressions("vector")(ir.Ref("_v0", select=("a1",)))


def test_kinds_are_enums_that_read_as_the_names_users_see(tmp_path: Path) -> None:
    path = tmp_path / "m.mdl"
    path.write_text("S = INTEG(f, 1) ~~|\nf = k * S ~~|\nk = 0.1 ~~|\ng = SMOOTH(S, 2) ~~|\n"
                    "INITIAL TIME = 0 ~~|\nFINAL TIME = 1 ~~|\nTIME STEP = 0.5 ~~|\n"
                    "SAVEPER = 0.5 ~~|\n")
    model = deterrence.load(path)
    kinds = {v.py_name: v.kind for v in model.variables.values()}
    assert kinds["s"] is VarKind.STOCK
    assert kinds["f"] is VarKind.FLOW
    assert kinds["k"] == "constant"  # a str enum: Dataset attributes read as before
    hidden = [n for n in model.compiled.nodes.values() if n.var is None]
    assert [n.kind for n in hidden].count(NodeKind.STOCK) == 1  # SMOOTH's stage
    ds = model.simulate(method="euler")
    assert ds["s"].attrs["kind"] == "stock"
