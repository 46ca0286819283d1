"""Attack: equations too long or too deeply nested for recursive code (issue 8, item 8).

A sum of 250 terms raised RecursionError (a left-deep expression tree, a ``deepcopy``
in the lowering); 80 nested brackets or 40 nested MAX() failed with "maximum recursion
depth" and a misleading "fix the syntax" hint. Now long chains of + - * / become
balanced trees, every tree rewrite is iterative, parsing and compiling run with a
raised (bounded, restored) recursion limit, and an equation nested deeper than
``limits.MAX_NESTING`` levels is refused with a message naming that limit.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from adversarial_support import run_cli

import deterrence
from deterrence import limits
from deterrence.compile.ir import LEFT_TO_RIGHT, chain, num, ref
from deterrence.errors import UnsupportedError


def write(tmp_path: Path, rate: str, *extra: str, name: str = "deep") -> Path:
    blocks = ["S = INTEG(r, 0)", f"r = {rate}", "a = 1", "b = 2", *extra,
              "INITIAL TIME = 0", "FINAL TIME = 10", "TIME STEP = 1", "SAVEPER = 1"]
    path = tmp_path / f"{name}.mdl"
    path.write_text("{UTF-8}\n" + "".join(f"{b}\n\t~\t\n\t~\t\n\t|\n\n" for b in blocks),
                    encoding="utf-8")
    return path


def nested(kind: str, n: int) -> str:
    return {"brackets": "(" * n + "a" + ")" * n,
            "max": "MAX(a, " * n + "a" + ")" * n,
            "if": "IF THEN ELSE(a > 0, " * n + "a" + ", 0)" * n,
            "power": "^".join(["a"] * n)}[kind]


def final(path: Path) -> tuple[float, float]:
    """S at the end with the scalar Euler loop and with an adaptive ensemble."""
    model = deterrence.load(path)
    euler = float(model.simulate(method="euler")["s"][-1])
    adaptive = float(model.simulate({"a": [1.0, 1.0]}, method="RK45")["s"][-1, 0])
    return euler, adaptive


@pytest.mark.parametrize("n", [250, 30_000])
def test_long_sums(tmp_path: Path, n: int) -> None:
    euler, adaptive = final(write(tmp_path, "+".join(["a"] * n)))
    assert euler == 10 * n
    assert adaptive == pytest.approx(10 * n)


def test_long_products_and_mixed_signs_keep_their_value(tmp_path: Path) -> None:
    signs = "+-" * 500
    terms = "a" + "".join(f" {op} b" for op in signs[:999])  # a + b - b + b ...
    ratio = "b" + "".join(f" {op} b" for op in "*/" * 500)  # b * b / b ... = b
    euler, _ = final(write(tmp_path, f"({terms}) * ({ratio}) / b"))
    assert euler == 10 * (1 + 2) * 2 / 2


@pytest.mark.parametrize("n", [10, 33, 1000, 100_000])
def test_balanced_chains_equal_left_to_right(n: int) -> None:
    """Integers, so the value is exact whatever the grouping; depth stays logarithmic."""
    ops = ["+-*"[i % 2] for i in range(n - 1)]
    args = [num(i + 1) for i in range(n)]
    expected = 1.0
    for op, i in zip(ops, range(2, n + 1), strict=True):
        expected = expected + i if op == "+" else expected - i
    tree = _emit(chain(ops, [ref(f"x{i}") for i in range(n)]))
    code = compile(ast.fix_missing_locations(ast.Expression(body=tree)), "<t>", "eval")
    assert eval(code, {f"x{i}": float(a.value) for i, a in enumerate(args)}) == expected
    if n > LEFT_TO_RIGHT:
        assert _depth_of(tree) <= LEFT_TO_RIGHT + 20


def _emit(expr: object) -> ast.expr:
    """The IR expression as the NumPy emitter writes it."""
    from deterrence.compile.emit_numpy import _Expressions

    return _Expressions("vector")(expr)  # type: ignore[arg-type]


def _depth_of(tree: ast.AST) -> int:
    deepest, todo = 0, [(tree, 1)]
    while todo:
        node, level = todo.pop()
        deepest = max(deepest, level)
        todo.extend((child, level + 1) for child in ast.iter_child_nodes(node))
    return deepest


@pytest.mark.parametrize(("kind", "n"), [("brackets", 80), ("max", 40), ("brackets", 1000),
                                         ("max", 1000), ("if", 1000), ("power", 1000)])
def test_deep_nesting_runs(tmp_path: Path, kind: str, n: int) -> None:
    before = sys.getrecursionlimit()
    euler, adaptive = final(write(tmp_path, nested(kind, n)))
    assert euler == 10
    assert adaptive == pytest.approx(10)
    assert sys.getrecursionlimit() == before


def test_nesting_over_the_limit_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedError) as info:
        deterrence.load(write(tmp_path, nested("max", limits.MAX_NESTING + 100)))
    text = str(info.value)
    assert f"nesting deeper than {limits.MAX_NESTING:,} levels is not supported" in text
    assert "'r'" in text
    assert info.value.line == 7  # the line of r
    assert "syntax" not in text


def test_nesting_too_deep_for_the_parser_is_refused_honestly(tmp_path: Path) -> None:
    path = write(tmp_path, nested("max", 8 * limits.MAX_NESTING))
    before = sys.getrecursionlimit()
    with pytest.raises(UnsupportedError) as info:
        deterrence.load(path)
    text = str(info.value)
    assert f"nesting deeper than {limits.MAX_NESTING:,} levels" in text
    assert "'r'" in text
    assert "fix the equation's syntax" not in text
    assert sys.getrecursionlimit() == before


def test_thousands_of_stocks(tmp_path: Path) -> None:
    stocks = [f"S{i} = INTEG(a, 0)" for i in range(2000)]
    model = deterrence.load(write(tmp_path, "a", *stocks))
    assert float(model.simulate(method="euler")["s1999"][-1]) == 10


def test_command_line(tmp_path: Path) -> None:
    ok = run_cli(["simulate", str(write(tmp_path, nested("max", 1000)))], cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    deep = write(tmp_path, nested("if", limits.MAX_NESTING + 1), name="deeper")
    refused = run_cli(["simulate", str(deep)], cwd=tmp_path)
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "is not supported" in lines[0]
    assert "Traceback" not in refused.stderr


def test_deep_recursion_is_bounded_and_restored_across_threads() -> None:
    before = sys.getrecursionlimit()
    inside, release = threading.Barrier(3), threading.Event()
    seen: list[int] = []

    def work() -> None:
        with limits.deep_recursion():
            inside.wait()
            release.wait()
            seen.append(sys.getrecursionlimit())

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    inside.wait()
    assert sys.getrecursionlimit() == limits.RECURSION_LIMIT
    release.set()
    for thread in threads:
        thread.join()
    assert seen == [limits.RECURSION_LIMIT] * 2  # the first to leave does not restore it
    assert sys.getrecursionlimit() == before
    with limits.deep_recursion(), limits.deep_recursion():  # nested use
        assert sys.getrecursionlimit() == limits.RECURSION_LIMIT
    assert sys.getrecursionlimit() == before


def test_deep_c_recursion_is_an_error_not_a_crash(tmp_path: Path) -> None:
    """With the raised limit, C code (json, compile) may recurse 100,000 levels: on the
    deep thread's large stack that ends in a RecursionError, never a segmentation fault."""
    script = ("import json; from deterrence import limits\n"
              "try:\n    limits.deep_call(json.loads, '[' * 300000 + ']' * 300000)\n"
              "except RecursionError:\n    print('refused')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "refused"
    assert limits.deep_call(limits.deep_call, sum, [1, 2]) == 3  # nested: runs directly
