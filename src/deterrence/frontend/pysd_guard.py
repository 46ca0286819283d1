"""Make PySD's translators treat model text as data: no ``eval`` of text from the file.

PySD's Vensim and XMILE visitors call the builtin ``eval()`` on fragments of the model
file: a lookup's range (``[(0,0)-(10,1)]``, which its grammar lets hold any character
but ``]``), its points, array literals, numbers, quoted strings and call arguments. A
crafted range such as ``[(0,0)-(__import__('os').system('...'),1)]`` would run on parse.

This module, imported by the front end before any translator is used, binds the name
``eval`` in every PySD translator module that calls it to :func:`literal`, which accepts
only numbers, the tuples and lists of numbers they form, and quoted strings, checked
character by character before Python's parser reads them into a tree that is
evaluated only for numbers, signs, sums and tuples. Module globals shadow
builtins, so every ``eval(...)`` written in those modules, present or added by a later
PySD, resolves to it; the installed PySD is not modified on disk. Anything else raises
:class:`UnsafeText`, which the front end reports as a syntax error naming the variable
and line. :func:`check` verifies the guard covers every translator module that calls
``eval`` or ``exec``, and is run by the tests and at import.
"""

from __future__ import annotations

import ast
import importlib
import itertools
import pkgutil
import re
from typing import Any

#: characters a numeric literal, or a tuple/list of them, can be written with
_NUMERIC = re.compile(r"[0-9eE.+\-(),\[\]\s\\]*")
#: a quoted string as PySD's grammars match it (no quote inside)
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"", re.DOTALL)
_MAX_TEXT = 10_000_000  # a lookup of a million points is about 20 MB of text
_MAX_DEPTH = 50  # tuples of tuples: a lookup is depth 2


class UnsafeText(ValueError):
    """Text from the model file that PySD wanted to evaluate but is not a literal."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        shown = text if len(text) <= 80 else text[:77] + "..."
        super().__init__(f"{reason}: {shown!r}")


def literal(text: Any, *_ignored: Any) -> Any:
    """What PySD's ``eval`` of model text may return: numbers, tuples of them, strings.

    Extra arguments (globals, locals) are accepted for signature compatibility with
    ``eval`` and ignored: nothing is ever looked up in a namespace.
    """
    if not isinstance(text, str):
        raise UnsafeText(repr(text), "expected text of a number")
    if len(text) > _MAX_TEXT:
        raise UnsafeText(text, f"literal longer than {_MAX_TEXT:,} characters")
    stripped = text.strip()
    if _QUOTED.fullmatch(stripped):
        value = ast.literal_eval(stripped)
        if isinstance(value, str):
            return value
        raise UnsafeText(text, "expected a quoted string")  # pragma: no cover
    if not _NUMERIC.fullmatch(text):
        bad = next(ch for ch in text if not _NUMERIC.fullmatch(ch))
        raise UnsafeText(text, f"expected numbers, found {bad!r}")
    # Vensim writes '\' for a line continuation; inside numbers it is only a space
    source = " ".join(text.replace("\\", " ").split())
    if not source:
        raise UnsafeText(text, "expected a number, found nothing")
    try:
        tree = ast.parse(source, mode="eval")
    except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
        raise UnsafeText(text, "not a number or a list of numbers") from exc
    return _value(tree.body, text, 0)


def _value(node: ast.AST, text: str, depth: int) -> Any:
    """Evaluate numbers, signs, sums and differences of numbers, and tuples/lists of them.

    PySD's grammar reads ``5 - 5`` as an array of the numbers 5 and -5 and lets Python's
    ``eval`` add them, so sums of signed numbers are part of what its ``eval`` computes;
    nothing else is (no names, calls, attributes, other operators).
    """
    if depth > _MAX_DEPTH:
        raise UnsafeText(text, f"nested deeper than {_MAX_DEPTH} levels")
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise UnsafeText(text, "expected numbers")
        return node.value
    if isinstance(node, ast.Tuple | ast.List):
        items = [_value(item, text, depth + 1) for item in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else items
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
        operand = _number(node.operand, text, depth)
        return -operand if isinstance(node.op, ast.USub) else +operand
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
        terms = []  # walk the left spine iteratively: 1-1-1-... can be long
        while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
            terms.append((node.op, node.right))
            node = node.left
        total = _number(node, text, depth)
        for op, right in reversed(terms):
            value = _number(right, text, depth)
            total = total + value if isinstance(op, ast.Add) else total - value
        return total
    raise UnsafeText(text, "expected numbers")


def _number(node: ast.AST, text: str, depth: int) -> int | float:
    value = _value(node, text, depth + 1)
    if not isinstance(value, int | float):
        raise UnsafeText(text, "expected a number")
    return value


#: PySD packages whose modules read model text
_PACKAGES = ("pysd.translators",)
_CALLS = re.compile(r"(?<![\w.])(eval|exec)\s*\(")


def _translator_modules() -> list[Any]:
    modules = []
    for package_name in _PACKAGES:
        package = importlib.import_module(package_name)
        modules.append(package)
        for info in pkgutil.walk_packages(package.__path__, package_name + "."):
            modules.append(importlib.import_module(info.name))
    return modules


def _calls_in(module: Any) -> set[str]:
    """Names of the builtins ``eval``/``exec`` the module's source calls."""
    path = getattr(module, "__file__", None)
    if not path or not path.endswith(".py"):
        return set()
    with open(path, encoding="utf-8") as handle:
        return set(_CALLS.findall(handle.read()))


def _refuse_exec(*_args: Any, **_kwargs: Any) -> None:
    raise UnsafeText("", "PySD's translator tried to execute model text")


def install() -> list[str]:
    """Shadow ``eval``/``exec`` in every PySD translator module that calls them.

    Also tells the visitors to let :class:`UnsafeText` through unwrapped, so the front
    end can tell a refused literal from a grammar error. Returns the guarded modules.
    """
    guarded = []
    for module in _translator_modules():
        calls = _calls_in(module)
        if "eval" in calls:
            module.eval = literal
        if "exec" in calls:
            module.exec = _refuse_exec
        if calls:
            guarded.append(module.__name__)
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and obj.__module__ == module.__name__
                and hasattr(obj, "unwrapped_exceptions")
                and UnsafeText not in obj.unwrapped_exceptions
            ):
                obj.unwrapped_exceptions = (*obj.unwrapped_exceptions, UnsafeText)
    return guarded


def check() -> None:
    """Raise if a translator module calls ``eval``/``exec`` without the guard bound."""
    for module in _translator_modules():
        calls = _calls_in(module)
        if "eval" in calls and vars(module).get("eval") is not literal:
            raise RuntimeError(f"{module.__name__} calls eval() without the guard")
        if "exec" in calls and vars(module).get("exec") is not _refuse_exec:
            raise RuntimeError(f"{module.__name__} calls exec() without the guard")


#: attribute set on a LookupsStructure whose points the file lists out of x order
UNSORTED_MARK = "_deterrence_unsorted_x"


def _unsorted(points_text: str) -> bool:
    points = literal(points_text)
    xs = [p[0] for p in points if isinstance(p, tuple | list) and p]
    return any(b < a for a, b in itertools.pairwise(xs))


def _mark_unsorted_lookups() -> None:
    """PySD sorts a lookup's points by x and forgets their order; remember when the file
    listed them out of order, so the front end can say so (Vensim sorts them too)."""
    from pysd.translators.vensim import vensim_element as ve

    regular = ve.LookupsVisitor.visit_regularLookup
    inline = ve.EquationVisitor.visit_lookup_with_def
    if getattr(regular, "_guarded", False):
        return

    def visit_regular_lookup(self, n, vc):
        regular(self, n, vc)
        if _unsorted(vc[2]):
            setattr(self.translation, UNSORTED_MARK, True)

    def visit_lookup_with_def(self, n, vc):
        ref = inline(self, n, vc)
        if _unsorted(vc[11]):
            setattr(self.elements[ref].lookups, UNSORTED_MARK, True)
        return ref

    visit_regular_lookup._guarded = True  # type: ignore[attr-defined]
    ve.LookupsVisitor.visit_regularLookup = visit_regular_lookup
    ve.EquationVisitor.visit_lookup_with_def = visit_lookup_with_def


GUARDED = install()
check()
_mark_unsorted_lookups()
