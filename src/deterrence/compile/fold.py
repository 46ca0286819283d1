"""Values of expressions at INITIAL TIME, computed while compiling.

DELAY N and SMOOTH N orders fix how many hidden stocks there are, so they must be known
before any code exists. The folder evaluates the abstract model's expression of numbers,
constants and plain library calls with the library's own vector implementations (NumPy's
semantics: 1/0 is inf), at the initial time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from pysd.translators.structures import abstract_expressions as ae
from pysd.translators.structures import abstract_model as am

from ..library import FUNCTIONS, Clock, Lowering
from ..names import clean_key

_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "^": np.power}


class NotConstantError(Exception):
    """The expression depends on something that is not known before the run."""


class Folder:
    """Evaluate an AMR expression of literals and constants at INITIAL TIME."""

    def __init__(self, elements: dict[str, tuple[am.AbstractElement, Any]],
                 deps: set[str]) -> None:
        self.elements = elements
        self.deps = deps  # the constants read, so that overriding them can be refused

    def fold(self, tree: Any) -> float:
        """The value, with NumPy's float semantics (1/0 is inf, (-1)^0.5 is NaN)."""
        with np.errstate(all="ignore"):
            return float(self._fold(tree))

    def _fold(self, tree: Any) -> np.float64:
        if isinstance(tree, int | float | np.number) and not isinstance(tree, bool):
            return np.float64(tree)
        if isinstance(tree, ae.ArithmeticStructure):
            values = [self._fold(a) for a in tree.arguments]
            if tree.operators == ["negative"]:
                return -values[0]
            result = values[0]
            for op, v in zip(tree.operators, values[1:], strict=True):
                result = _OPS[op](result, v)
            return result
        if isinstance(tree, ae.ReferenceStructure):
            key = clean_key(tree.reference)
            if key == "time":
                return self._fold(self._element_ast("initial_time"))
            self.deps.add(key)
            return self._fold(self._element_ast(key))
        if isinstance(tree, ae.CallStructure):
            entry = FUNCTIONS.get(clean_key(tree.function.reference))
            if entry is not None and entry.lowering is Lowering.CALL and not entry.controls:
                args = [self._fold(a) for a in tree.arguments]
                if entry.arity is not None and len(args) != entry.arity:
                    raise NotConstantError(f"{entry.name} takes {entry.arity} argument(s)")
                t = self._fold(self._element_ast("initial_time"))
                half = self._fold(self._element_ast("time_step")) / 2
                clocks = {Clock.TIME: t, Clock.STEP_START: t, Clock.SWITCH: t + half}
                if entry.order is not None:
                    args = [args[i] for i in entry.order]
                return np.float64(entry.vector(*(clocks[c] for c in entry.clocks), *args))
        raise NotConstantError(type(tree).__name__)

    def _element_ast(self, key: str) -> Any:
        found = self.elements.get(key)
        if found is None:
            raise NotConstantError(f"{key!r} is not defined")
        component = found[0].components[0]
        if isinstance(component.ast, ae.IntegStructure):
            raise NotConstantError(f"it depends on the stock {found[1].name!r}")
        return component.ast
