"""Vensim macros (``:MACRO: name(params) ... :END OF MACRO:``), expanded at each call.

PySD's abstract model gives each macro as a section of type ``"macro"`` with its
``params`` and its own elements; the element named as the macro is its value. Every call
of a macro becomes hidden nodes of the calling variable, as if the macro's equations were
written out there: its parameters are the call's arguments (computed in the caller), each
of its auxiliaries a hidden auxiliary and each of its stocks (INTEG, and the hidden stocks
of SMOOTH, DELAY, ...) a hidden stock, one set per call. Inside a macro, names are the
macro's own: its parameters and its equations; Time and the control variables (TIME
STEP, ...) are the model's. A macro may call another (not itself).

Refused with an :class:`UnsupportedError` that names the macro and the calling variable,
never guessed: macros with extra outputs (``name(in : out)``), subscripted macro
equations, data equations, a reference to a name the macro neither receives nor defines,
a macro that calls itself. Macro and parameter names are matched, never executed: like
every name, they become generated identifiers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pysd.translators.structures import abstract_expressions as ae
from pysd.translators.structures import abstract_model as am

from ..errors import ModelError, UnsupportedError
from ..frontend.translate import find_definition_line
from ..names import clean_key
from . import ir
from .ir import Node, NodeKind, ref

if TYPE_CHECKING:
    from .lower import Lowerer

CONTROLS = ("initial_time", "final_time", "time_step", "saveper")


@dataclass
class Scope:
    """The names visible while one call of a macro is lowered."""

    macro: str  # the macro's name, as written
    key: str
    values: dict[str, ir.Expr]  # parameters and the macro's equations -> their IR
    lookups: dict[str, str] = field(default_factory=dict)  # macro's lookups -> table id
    parent: Scope | None = None
    text: str = ""  # the equation being lowered, as written (for -2^2 and the like)

    def chain(self) -> list[str]:
        scope: Scope | None = self
        keys = []
        while scope is not None:
            keys.append(scope.key)
            scope = scope.parent
        return keys


def sections(abstract: am.AbstractModel) -> dict[str, am.AbstractSection]:
    """The model's macros by their folded name."""
    return {clean_key(s.name): s for s in abstract.sections if s.type == "macro"}


def expand(lw: Lowerer, key: str, raw_args: list[Any]) -> ir.Expr:
    """The value of one call of the macro ``key``, its equations added as hidden nodes."""
    section = lw.macros[key]
    name = _display(lw, section)
    outer = lw.scope
    if outer is not None and key in outer.chain():
        raise _refuse(lw, name, "calls itself (recursion cannot be expanded)")
    if section.returns:
        raise _refuse(lw, name, "has extra outputs (name(inputs : outputs))")
    if len(raw_args) != len(section.params):
        raise lw.error(ModelError, f"the macro {name!r} takes {len(section.params)} "
                       f"argument(s), {lw.owner!r} gives {len(raw_args)}",
                       "check the commas and brackets of the call")
    args = [lw.lower(a) for a in raw_args]  # in the caller's names
    lw.macro_calls[(lw.owner, key)] = count = lw.macro_calls.get((lw.owner, key), 0) + 1
    label = f"macro {name} in {lw.owner!r}" + (f" (call {count})" if count > 1 else "")
    scope = Scope(name, key, {}, parent=outer)
    for param, arg in zip(section.params, args, strict=True):
        scope.values[clean_key(param)] = lw.hidden_aux(arg, f"{label}: {param}")
    nodes: list[tuple[am.AbstractElement, Node]] = []
    for element in section.elements:
        node = _declare(lw, scope, element, label)
        if node is not None:
            nodes.append((element, node))
    if key not in scope.values:
        raise _refuse(lw, name, f"defines no equation named {name!r} (its value)")
    saved_memo, lw.scope, lw._memo = lw._memo, scope, {}
    try:
        for element, node in nodes:
            scope.text = _equation_text(lw.source.text, section.name, element.name)
            lw.lower_node(node, element.components[0].ast)
    finally:
        lw.scope, lw._memo = outer, saved_memo
    return scope.values[key]


def _declare(lw: Lowerer, scope: Scope, element: am.AbstractElement,
             label: str) -> Node | None:
    """A hidden node for one of the macro's equations (None for a lookup table)."""
    ekey = clean_key(element.name)
    if ekey in scope.values or ekey in scope.lookups:
        raise _refuse(lw, scope.macro, f"defines {element.name!r} twice (or also as a "
                      "parameter)")
    if len(element.components) != 1 or element.components[0].subscripts[0]:
        raise _refuse(lw, scope.macro, f"has the subscripted equation {element.name!r}")
    component = element.components[0]
    if isinstance(component, am.AbstractData):
        raise _refuse(lw, scope.macro, f"has the data equation {element.name!r}")
    if isinstance(component, am.AbstractLookup) or isinstance(
            component.ast, ae.LookupsStructure | ae.GetLookupsStructure):
        scope.lookups[ekey] = lw._table(component.ast)
        return None
    kind = NodeKind.STOCK if isinstance(component.ast, ae.IntegStructure) else NodeKind.AUX
    node = lw.new(kind, f"{label}: {element.name}")
    scope.values[ekey] = ref(node.id)
    return node


def reference(lw: Lowerer, scope: Scope, key: str, written: str) -> ir.Expr:
    """A name inside a macro: its parameter or equation, else a control variable."""
    found = scope.values.get(key)
    if found is not None:
        return found
    if key in scope.lookups:
        raise lw.unsupported(f"using the lookup {written!r} without an argument")
    if key in CONTROLS:
        return ref(lw.control_node(key))
    if key == "pi":
        return ir.num(3.141592653589793)
    raise _refuse(lw, scope.macro, f"refers to {written.replace('_', ' ')!r}, which is "
                  "neither one of its parameters nor defined in it")


def _refuse(lw: Lowerer, macro: str, what: str) -> ModelError:
    return lw.error(UnsupportedError, f"the macro {macro!r} (called by {lw.owner!r}) "
                    f"{what}: it cannot be expanded", "rewrite the macro, or expand it "
                    "into plain equations; or run it with PySD (--engine pysd)")


def _display(lw: Lowerer, section: am.AbstractSection) -> str:
    """The macro's name as the file writes it (PySD's section name is folded)."""
    match = re.search(r":MACRO:\s*([^(\n]+?)\s*\(", lw.source.text[_start(lw.source.text,
                                                                        section.name):])
    return match.group(1).strip() if match else section.name


def _start(text: str, name: str) -> int:
    """Offset of the ``:MACRO:`` line of the macro ``name`` (0 if not found)."""
    words = [re.escape(w) for w in re.split(r"[\s_]+", name.strip()) if w]
    match = re.search(r":MACRO:\s*" + r"[\s_]+".join(words) + r"\s*\(", text, re.IGNORECASE)
    return match.start() if match else 0


def _equation_text(text: str, macro: str, element: str) -> str:
    """The written equation of ``element`` inside the macro ``macro`` (or empty)."""
    start = _start(text, macro)
    end = text.upper().find(":END OF MACRO:", start)
    block = text[start:end if end > 0 else len(text)]
    line = find_definition_line(block, element, "vensim")
    if line is None:
        return ""
    rest = "\n".join(block.splitlines()[line - 1:])
    stop = rest.find("~")
    return rest if stop < 0 else rest[:stop]
