"""The variables of a model run by PySD, described as the compiled engine describes them.

The same names (:func:`deterrence.names.python_name`), kinds, units, ranges and
documentation, read from the parsed file before it is neutralised; and which variables
never change during a run (:func:`invariant`), so that the Dataset gives them no
``time`` dimension, as the compiled engine does for the values it hoists out of the loop.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from ..compile import CONTROLS, Variable, VarKind
from ..compile.amr import additive_terms, literal
from ..frontend.translate import SourceFile
from ..names import clean_key, python_name


class Catalogue:
    """What :class:`Model`'s look-ups read of a compiled model: its variables."""

    def __init__(self, variables: list[Variable]) -> None:
        self.variables = variables
        self.by_key = {clean_key(v.name): v for v in variables}
        self.order_dependencies: dict[str, set[str]] = {}


def catalogue(source: SourceFile) -> list[Variable]:
    """The main section's variables, classified as the compiled engine classifies them
    (stock, flow, auxiliary, constant, lookup, control), with their Python names."""
    section = next((s for s in source.abstract.sections if s.type == "main"),
                   source.abstract.sections[0])
    used: set[str] = set()
    variables: list[Variable] = []
    by_key: dict[str, Variable] = {}
    stocks = []
    for element in section.elements:
        component = element.components[0]
        key = clean_key(element.name)
        limits_ = tuple(None if (v is None or not math.isfinite(v)) else float(v)
                        for v in tuple(element.limits or (None, None))[:2])
        var = Variable(name=element.name, py_name=python_name(element.name, used),
                       kind=VarKind.AUXILIARY, units=(element.units or "").strip(),
                       limits=(*limits_, None, None)[:2],  # type: ignore[arg-type]
                       doc=(element.documentation or "").strip(),
                       line=source.line_of(element.name))
        var.node = var.py_name
        ast = component.ast
        scalar = len(element.components) == 1 and not component.subscripts[0]
        value = literal(ast) if scalar else None
        if type(component).__name__ == "AbstractLookup" or type(ast).__name__ in (
                "LookupsStructure", "GetLookupsStructure"):
            var.kind = VarKind.LOOKUP
        elif type(ast).__name__ == "IntegStructure":
            var.kind = VarKind.STOCK
            stocks.append(ast)
        elif value is not None or all(_numbers(c.ast) for c in element.components):
            var.kind = VarKind.CONTROL if key in CONTROLS else VarKind.CONSTANT
            var.default = value
            var.overridable = type(component).__name__ != "AbstractUnchangeableConstant"
        elif key in CONTROLS:
            var.kind = VarKind.CONTROL
        variables.append(var)
        by_key.setdefault(key, var)
    for ast in stocks:
        for term, _ in additive_terms(ast.flow):
            target = by_key.get(clean_key(term))
            if target is not None and target.kind == VarKind.AUXILIARY:
                target.kind = VarKind.FLOW
    return variables


def _numbers(ast: Any) -> bool:
    """A literal number, or an array of them (a subscripted constant)."""
    return literal(ast) is not None or isinstance(ast, np.ndarray)


#: functions whose value depends on their arguments only (not on time, not on a state)
PURE = frozenset({
    "abs", "min", "max", "exp", "ln", "log", "sqrt", "sin", "cos", "tan", "arcsin",
    "arccos", "arctan", "sinh", "cosh", "tanh", "integer", "int", "modulo", "power",
    "xidz", "zidz", "quantum", "if_then_else", "sum", "prod", "vmin", "vmax", "elmcount",
    "gamma_ln", "sign"})
#: structures whose value changes during a run (states, delays, data, time itself)
_DYNAMIC = ("Integ", "Delay", "Smooth", "Trend", "Forecast", "SampleIfTrue", "Data",
            "GetData", "Game", "Allocate")


def invariant(source: SourceFile) -> set[str]:
    """Keys (:func:`clean_key`) of the main section's variables whose value is fixed for a
    run: literals, INITIAL values, and expressions of them and of lookups through pure
    functions, as the compiled engine's plan classifies them. Anything not known to be
    fixed (a call of another function, Time, a state) is taken to vary."""
    section = next((s for s in source.abstract.sections if s.type == "main"),
                   source.abstract.sections[0])
    elements = {clean_key(e.name): e for e in section.elements}
    fixed: dict[str, bool] = {}

    def of(key: str) -> bool:
        if key not in fixed:
            fixed[key] = False  # a loop through itself is not fixed
            element = elements.get(key)
            fixed[key] = element is not None and all(
                tree_fixed(c.ast) for c in element.components)
        return fixed[key]

    def tree_fixed(tree: Any) -> bool:
        todo = [tree]
        while todo:
            node = todo.pop()
            name = type(node).__name__
            if name == "InitialStructure":
                continue
            if name.endswith("Structure") and name[:-len("Structure")].startswith(_DYNAMIC):
                return False
            if name == "ReferenceStructure":
                if not of(clean_key(node.reference)):
                    return False
                continue
            if name == "CallStructure":
                function = getattr(node.function, "reference", "")
                key = clean_key(str(function))
                if key not in PURE and not (key in elements and of(key)):
                    return False
                todo.extend(node.arguments)
                continue
            if dataclasses.is_dataclass(node) and not isinstance(node, type):
                todo.extend(getattr(node, f.name) for f in dataclasses.fields(node))
            elif isinstance(node, list | tuple):
                todo.extend(node)
        return True

    return {key for key in elements if of(key)}
