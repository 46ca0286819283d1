"""Lowering: PySD's abstract model -> IR nodes (see :mod:`.ir`).

The lowerer walks the abstract model once. Like PySD's builders it dispatches on the type
of each structure (``_BY_TYPE``); calls are looked up in the library registry, whose
entry says how to lower them. Every stock, including the hidden stocks of SMOOTH, DELAY
and TREND (:mod:`.stateful`), becomes a node; names become generated identifiers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from pysd.translators.structures import abstract_expressions as ae
from pysd.translators.structures import abstract_model as am

from ..errors import ModelError, UndefinedReferenceError, UnsupportedError
from ..frontend.translate import SourceFile
from ..library import FUNCTIONS, Clock, Family, Function, Lowering
from ..limits import MAX_NESTING, deep_call
from ..names import clean_key, close_matches, python_name
from . import amr, arraycalls, data, ir, macros, randomness, stateful, subscripts, switches
from .ir import LookupMode, Node, NodeKind, Variable, VarKind, binop, call, num, ref
from .switches import Switch

CONTROLS = ("initial_time", "final_time", "time_step", "saveper")
_COMPARE = {"=", "<>", "<", "<=", ">", ">="}
_LOOKUP_TYPES = {"interpolate": LookupMode.INTERPOLATE, "extrapolate": LookupMode.EXTRAPOLATE,
                 "hold_backward": LookupMode.BACKWARD, "look_forward": LookupMode.FORWARD}
_STRUCTURE_NAMES = {
    ae.ForecastStructure: "FORECAST",
    ae.SampleIfTrueStructure: "SAMPLE IF TRUE",
    ae.GameStructure: "GAME",
    ae.GetLookupsStructure: "GET LOOKUPS",
    ae.GetDataStructure: "GET DATA",
    ae.GetConstantsStructure: "GET CONSTANTS",
    ae.DataStructure: "data variables",
}


class Lowerer:
    """Lower one model's abstract model into :class:`Node` values. Used once per file."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.nodes: dict[str, Node] = {}
        self.variables: list[Variable] = []
        self.elements: dict[str, tuple[am.AbstractElement, Variable]] = {}
        self.tables: dict[str, tuple[np.ndarray, np.ndarray, LookupMode]] = {}
        self.lookup_keys: dict[str, str] = {}  # element key -> table id
        self.switches: list[Switch] = []
        self.stock_flows: dict[str, list[tuple[str, int]]] = {}  # stock -> (flow, +1/-1)
        self.order_dependencies: dict[str, set[str]] = {}
        self._memo: dict[int, ir.Expr] = {}
        self._owner_var: Variable | None = None  # the variable being lowered
        self.macros = macros.sections(source.abstract)
        self.scope: macros.Scope | None = None  # the macro call being expanded, if any
        self.macro_calls: dict[tuple[str, str], int] = {}  # (caller, macro) -> calls
        self._in_compare = 0
        self.ranges: subscripts.Ranges | None = None
        self.context: tuple[ir.Axis, ...] = ()  # the ranges of the equation being lowered
        self.arrays: dict[str, Any] = {}  # constant arrays of the generated code, by name
        self.array_lookups: dict[str, tuple[ir.Expr, ir.Expr]] = {}  # subscripted tables

    @property
    def owner(self) -> str:
        """Name of the variable being lowered, for labels and messages."""
        return self._owner_var.name if self._owner_var else ""

    # -- errors ------------------------------------------------------------------------

    def error(self, cls: type[ModelError], message: str, hint: str | None = None,
              variable: Variable | None = None) -> ModelError:
        var = variable or self._owner_var
        return cls(message, path=self.source.path, line=var.line if var else None,
                   variable=var.name if var else None, hint=hint)

    def unsupported(self, construct: str, hint: str | None = None) -> ModelError:
        owner = self._owner_var.name if self._owner_var else "?"
        via = f", in the macro {self.scope.macro!r}" if self.scope else ""
        return self.error(
            UnsupportedError,
            f"{construct} (in {owner!r}{via}) is not supported by the engine yet",
            hint or "see docs/conformance.md for what is supported; "
            "rewrite the equation with supported functions")

    # -- nodes -------------------------------------------------------------------------

    def new(self, kind: NodeKind, label: str, **kw: Any) -> Node:
        if kw.get("var") is None:  # a hidden node spans its equation's ranges
            kw.setdefault("axes", self.context)
        node = Node(id=f"_v{len(self.nodes)}", kind=kind, label=label, **kw)
        self.nodes[node.id] = node
        return node

    def hidden_aux(self, expr: ir.Expr, label: str) -> ir.Expr:
        """A value worth naming once (used in several places); literals stay inline."""
        if isinstance(expr, ir.Ref | ir.Const | ir.Time):
            return expr
        return ref(self.new(NodeKind.AUX, label, raw=expr).id)

    def axes_of(self, expr: ir.Expr) -> tuple[str, ...]:
        return ir.axes_of(expr, lambda n: tuple(a.name for a in self.nodes[n].axes))

    def constant_array(self, values: np.ndarray, axes: tuple[str, ...]) -> ir.Expr:
        name = f"_arr{len(self.arrays)}"
        self.arrays[name] = values
        return ir.ArrayConst(name, axes)

    def control_node(self, key: str) -> str:
        found = self.elements.get(key)
        if found is None:
            raise self.error(ModelError, f"the model has no {key.replace('_', ' ').upper()}")
        return found[1].node  # type: ignore[return-value]

    # -- entry point -------------------------------------------------------------------

    def compile(self) -> CompiledModel:
        sections = self.source.abstract.sections
        main = [s for s in sections if s.type == "main"] or list(sections[:1])
        section = main[0]
        self.ranges = subscripts.Ranges(section.subscripts, lambda m, cls=ModelError: cls(
            m, path=self.source.path, hint="check the subscript range definitions"),
            lambda name, spec: data.subscript_elements(self, name, spec))
        self._declare(section.elements)
        for key, (element, var) in self.elements.items():
            if var.kind != VarKind.LOOKUP:
                self._lower_element(key, element, var)
        self._mark_flows()
        missing = [c for c in CONTROLS if c not in self.elements]
        if missing:
            raise ModelError(
                "the model lacks the control variable(s) "
                + ", ".join(c.replace("_", " ").upper() for c in missing),
                path=self.source.path,
                hint="add INITIAL TIME, FINAL TIME, TIME STEP and SAVEPER equations")
        for node in self.nodes.values():
            node.resolve(self.nodes)
        return CompiledModel(self)

    def _declare(self, elements: Iterable[am.AbstractElement]) -> None:
        used: set[str] = set()
        for element in elements:
            key = clean_key(element.name)
            line = self.source.line_of(element.name)
            self._check_single(element, key, line)
            component = element.components[0]
            limits = tuple(element.limits or (None, None))[:2]
            limits = tuple(None if (v is None or not math.isfinite(v)) else float(v)
                           for v in limits) + (None,) * (2 - len(limits))
            var = Variable(
                name=element.name, py_name=python_name(element.name, used),
                kind=VarKind.AUXILIARY, units=(element.units or "").strip(),
                limits=limits,  # type: ignore[arg-type]
                doc=(element.documentation or "").strip(), line=line)
            self.elements[key] = (element, var)
            self.variables.append(var)
            axes = self.ranges.variable_axes(  # type: ignore[union-attr]
                [c.subscripts[0] for c in element.components],
                lambda m, cls=ModelError, v=var: self.error(cls, f"{v.name!r}: {m}",
                                                             variable=v))
            if axes:
                self._owner_var = var
                subscripts.declare(self, element, var, axes)
                continue
            if isinstance(component, am.AbstractData):
                self._owner_var = var
                data.data_table(self, key)
            if isinstance(component, am.AbstractLookup) or isinstance(
                    component.ast, ae.LookupsStructure | ae.GetLookupsStructure):
                var.kind = VarKind.LOOKUP
                self._owner_var = var
                self.lookup_keys[key] = self._table(component.ast)
                continue
            literal = amr.literal(component.ast)
            if isinstance(component.ast, ae.GetConstantsStructure):
                self._owner_var = var
                literal = data.constant(self, component.ast)
            control = key in CONTROLS
            if isinstance(component.ast, ae.IntegStructure):
                var.kind = VarKind.STOCK
                node = self.new(NodeKind.STOCK, var.name, var=var)
            elif literal is not None:
                var.kind = VarKind.CONTROL if control else VarKind.CONSTANT
                var.default = literal
                var.overridable = not isinstance(component, am.AbstractUnchangeableConstant)
                node = self.new(NodeKind.PARAM, var.name, var=var, default=literal)
            else:
                var.kind = VarKind.CONTROL if control else VarKind.AUXILIARY
                node = self.new(NodeKind.AUX, var.name, var=var)
            var.node = node.id
        self._owner_var = None

    def _check_single(self, element: am.AbstractElement, key: str, line: int | None) -> None:
        """One scalar equation per variable, of a depth the engine promises to handle."""
        if key in self.elements:
            raise self.error(ModelError, f"variable {element.name!r} is defined twice",
                             variable=Variable(element.name, "", VarKind.AUXILIARY, "",
                                               (None, None), "", line))
        if len(element.components) > 1 and not any(
                c.subscripts[0] for c in element.components):
            raise ModelError(
                f"variable {element.name!r} is defined twice (names are the same when "
                "case, spaces and underscores are ignored)", path=self.source.path,
                line=line, variable=element.name, hint="rename or remove one equation")
        depth = max(amr.depth(c.ast) for c in element.components)
        if depth > MAX_NESTING:
            raise UnsupportedError(
                f"the equation of {element.name!r} nests {depth:,} levels deep; nesting "
                f"deeper than {MAX_NESTING:,} levels is not supported",
                path=self.source.path, line=line, variable=element.name,
                hint="split the equation into auxiliary variables")

    def _lower_element(self, key: str, element: am.AbstractElement, var: Variable) -> None:
        self._owner_var = var
        node = self.nodes[var.node]  # type: ignore[index]
        if node.axes:
            subscripts.lower_array(self, element, var, node)
        elif node.kind == NodeKind.PARAM:
            node.raw = num(node.default)  # type: ignore[arg-type]
        else:
            self.lower_node(node, element.components[0].ast)
            for expr in (node.raw, node.raw_init):
                free = self.axes_of(expr) if expr is not None else ()
                if free:
                    raise self.error(ModelError, f"{var.name!r} is not subscripted, but its "
                                     f"equation has the subscript range {free[0]!r}",
                                     "name one element, or sum over the range with SUM")
        self._owner_var = None

    def lower_node(self, node: Node, tree: Any) -> None:
        """A stock's net flow and initial value, or an auxiliary's value (macros too)."""
        if node.kind == NodeKind.STOCK:
            node.raw = self.lower(tree.flow)
            if getattr(tree, "non_negative", False):  # XMILE <non_negative/>
                node.raw = stateful.non_negative(self, node)
            node.raw_init = self.lower(tree.initial)
        else:
            node.raw = self.lower(tree)

    def _mark_flows(self) -> None:
        """A flow is an auxiliary that appears as a term of a stock's net rate."""
        for element, var in self.elements.values():
            if var.kind != VarKind.STOCK:
                continue
            flows = self.stock_flows.setdefault(var.name, [])
            terms = [t for c in element.components for t in amr.additive_terms(c.ast.flow)]
            for term, sign in dict.fromkeys(terms):
                target = self.elements.get(clean_key(term))
                if target and target[1].kind in (VarKind.AUXILIARY, VarKind.FLOW,
                                                 VarKind.CONSTANT):
                    if target[1].kind == VarKind.AUXILIARY:
                        target[1].kind = VarKind.FLOW
                    flows.append((target[1].name, sign))

    # -- lowering ----------------------------------------------------------------------

    def lower(self, tree: Any) -> ir.Expr:
        memo = self._memo.get(id(tree))
        if memo is not None:
            return memo
        result = self._lower_uncached(tree)
        if not isinstance(tree, int | float | str | bool):
            self._memo[id(tree)] = result
        return result

    def _lower_uncached(self, tree: Any) -> ir.Expr:
        if isinstance(tree, bool):
            return num(float(tree))
        if isinstance(tree, int | float | np.number):
            return num(float(tree))
        method = _BY_TYPE.get(type(tree))
        if method is not None:
            return method(self, tree)
        if isinstance(tree, str):
            raise self.unsupported(f"the text literal {tree[:30]!r}")
        if isinstance(tree, np.ndarray):
            return subscripts.array_constant(self, tree)
        raise self.unsupported(_STRUCTURE_NAMES.get(type(tree), type(tree).__name__))

    def _arithmetic(self, tree: ae.ArithmeticStructure) -> ir.Expr:
        args = [self.lower(a) for a in tree.arguments]
        ops = list(tree.operators)
        if len(args) == 1:
            return ir.negate(args[0]) if ops == ["negative"] else args[0]
        if all(op == "^" for op in ops):  # exponentiation groups to the right
            base = amr.literal(tree.arguments[0])
            negative = base is not None and base < 0 and not self._parenthesised()
            if negative:  # PySD folds the sign of "-2^2" into the literal; Vensim: -(2^2)
                args[0] = num(-base)  # type: ignore[operator]
            result = args[-1]
            for op, arg in zip(reversed(ops), reversed(args[:-1]), strict=True):
                result = binop(op, arg, result)
            return ir.negate(result) if negative else result
        return ir.chain(ops, args)

    def _parenthesised(self) -> bool:
        """Whether the current equation writes a negative number in brackets before ^."""
        text = self.scope.text if self.scope else (
            self.source.definition_text(self.owner) if self.owner else "")
        return re.search(r"\(\s*-\s*[\d.]+(?:[eE][-+]?\d+)?\s*\)\s*\^", text) is not None

    def _logic(self, tree: ae.LogicStructure) -> ir.Expr:
        ops = [op.lower() for op in tree.operators]
        if ops in ([":not:"], ["not"]):
            return call("not", self.lower(tree.arguments[0]))
        if all(op in _COMPARE for op in ops):
            self._in_compare += 1
            try:
                args = [self.lower(a) for a in tree.arguments]
            finally:
                self._in_compare -= 1
            if len(args) == 2 and any(switches.has_time(a) for a in tree.arguments) and all(
                    switches.affine_in_time(a) for a in tree.arguments):
                self.switches.append(Switch(self.owner, [switches.root_in_time(
                    binop("-", args[0], args[1]))]))
            result = args[0]
            for op, arg in zip(ops, args[1:], strict=True):
                result = ir.compare(op, result, arg)
            return result
        args = [self.lower(a) for a in tree.arguments]
        result = args[0]
        for op, arg in zip(ops, args[1:], strict=True):
            if op in (":and:", "and"):
                result = call("and", result, arg)
            elif op in (":or:", "or"):
                result = call("or", result, arg)
            elif op in _COMPARE:
                result = ir.compare(op, result, arg)
            else:
                raise self.unsupported(f"the operator {op!r}")
        return result

    def _reference(self, tree: ae.ReferenceStructure) -> ir.Expr:
        if tree.subscripts is not None and self.scope is not None:
            raise self.unsupported("subscripts inside a macro")
        key = clean_key(tree.reference)
        if key == "time":
            return ir.Time(Clock.STEP_START if self._in_compare else Clock.TIME)
        if self.scope is not None:
            return macros.reference(self, self.scope, key, tree.reference)
        found = self.elements.get(key)
        if found is None:
            if key == "pi":
                return num(math.pi)
            rng = self.ranges.find(key) if self.ranges else None
            if rng is not None:
                return subscripts.range_value(self, rng)
            element = self.ranges.element(key) if self.ranges else None
            if element is not None:  # an element's name as a number: its position
                return num(self.ranges.position(element))  # type: ignore[union-attr]
            raise self._undefined(tree.reference)
        var = found[1]
        if var.kind == VarKind.LOOKUP:
            raise self.unsupported(f"using the lookup {var.name!r} without an argument")
        axes = self.nodes[var.node].axes  # type: ignore[index]
        written = None if tree.subscripts is None else list(tree.subscripts.subscripts)
        if written and not axes:
            raise self.error(ModelError, f"{self.owner!r} uses {var.name!r} with subscripts "
                             f"[{', '.join(written)}], but {var.name!r} is not subscripted")
        return self.ranges.reference(  # type: ignore[union-attr]
            ref(var.node), axes, written, self.context,  # type: ignore[arg-type]
            lambda m: self.error(ModelError, f"{self.owner!r} uses {var.name!r}: {m}"))

    def _undefined(self, reference: str) -> ModelError:
        close = close_matches(reference.replace("_", " "), [v.name for v in self.variables],
                              n=3, cutoff=0.6)
        hint = ("did you mean " + " or ".join(repr(c) for c in close) + "?") if close else (
            "define it, or correct the spelling")
        return self.error(UndefinedReferenceError, f"{self.owner!r} refers to "
                          f"{reference.replace('_', ' ')!r}, which is not defined in the "
                          "model", hint)

    # -- calls: looked up in the library registry --------------------------------------

    def _call(self, tree: ae.CallStructure) -> ir.Expr:
        fname = tree.function.reference if isinstance(
            tree.function, ae.ReferenceStructure) else str(tree.function)
        key = clean_key(fname)
        raw_args = list(tree.arguments)
        if key in self.array_lookups and self.scope is None:
            self._arity(fname, raw_args, 1)
            subs = getattr(tree.function, "subscripts", None)
            return subscripts.table_lookup(self, key, None if subs is None else list(
                subs.subscripts), self.lower(raw_args[0]))
        lookups = self.visible_lookups()
        if key in lookups:
            self._arity(fname, raw_args, 1)
            return self._lookup(lookups[key], self.lower(raw_args[0]))
        if key in self.macros:
            return self._macro_call(key, raw_args)
        if key in (self.scope.values if self.scope else self.elements):
            raise self.unsupported(f"calling the variable {fname!r} like a function")
        # XMILE's builtins keep PySD's exact spelling (Xpulse), so they never shadow a
        # Vensim name; everything else is matched as Vensim does, by its folded name
        entry = FUNCTIONS.get(fname) if fname.startswith("X") else None
        entry = entry or FUNCTIONS.get(key)
        if entry is not None and entry.lowering is Lowering.SPECIAL:
            return _SPECIAL[entry.key](self, entry, fname, raw_args)
        if entry is not None and entry.family is Family.ARRAY:
            raise self.unsupported(_display(fname), entry.hint or None)
        args = [self.lower(a) for a in raw_args]  # their errors come first
        if entry is None or entry.lowering is not Lowering.CALL:
            known = entry is not None and entry.lowering is Lowering.UNSUPPORTED
            if known or key.startswith("random"):  # known of, not computed (yet)
                raise self.unsupported(_display(fname),
                                       entry.hint or None if entry is not None else None)
            raise self.unsupported(f"the function {_display(fname)}")
        if entry.arity is not None:
            self._arity(fname, args, entry.arity)
        return self.library_call(entry, args)

    def _macro_call(self, key: str, raw_args: list[Any]) -> ir.Expr:
        """One call of a macro. In a subscripted equation only on scalar arguments: the
        macro is then expanded once, as a scalar (its stocks too), and its value is
        broadcast over the equation's ranges, as every element's copy would be equal."""
        if not self.context:
            return macros.expand(self, key, raw_args)
        if any(self.axes_of(self.lower(a)) for a in raw_args):
            raise self.unsupported("a macro called in a subscripted equation on "
                                   "subscripted arguments")
        saved, self.context = self.context, ()
        try:
            return macros.expand(self, key, raw_args)
        finally:
            self.context = saved

    def library_call(self, entry: Function, args: list[ir.Expr]) -> ir.Expr:
        """A plain registry call: its clocks, its arguments (in the implementation's
        order), its control values; and the switch it makes, if any."""
        args = args + [ref(self.control_node(c)) for c in entry.controls]
        switch = switches.from_entry(entry, self.owner, args)
        if switch is not None:
            self.switches.append(switch)
        if entry.order is not None:
            args = [args[i] for i in entry.order] + args[len(entry.order):]
        return ir.Call(entry.key, tuple([ir.Time(c) for c in entry.clocks] + args))

    def visible_lookups(self) -> dict[str, str]:
        """Lookup tables by name: the model's, or inside a macro the macro's own."""
        return self.scope.lookups if self.scope is not None else self.lookup_keys

    def _arity(self, fname: str, args: list[Any], n: int) -> None:
        if len(args) != n:
            raise self.error(
                ModelError, f"{_display(fname)} in {self.owner!r} takes {n} argument(s), "
                f"got {len(args)}", "check the commas and brackets of the call")

    def _lookup_function(self, entry: Function, fname: str, raw_args: list[Any]) -> ir.Expr:
        """LOOKUP EXTRAPOLATE/FORWARD/BACKWARD(table, x)."""
        self._arity(fname, raw_args, 2)
        table = raw_args[0]
        tkey = clean_key(table.reference) if isinstance(table, ae.ReferenceStructure) else None
        lookups = self.visible_lookups()
        if tkey not in lookups:
            raise self.unsupported(f"{_display(fname)} on something other than a lookup")
        return ir.Lookup(lookups[tkey], self.lower(raw_args[1]),
                         LookupMode(entry.key))

    def _power(self, entry: Function, fname: str, raw_args: list[Any]) -> ir.Expr:
        args = [self.lower(a) for a in raw_args]
        self._arity(fname, args, 2)
        return binop("^", *args)

    def _active_initial(self, entry: Function, fname: str, raw_args: list[Any]) -> ir.Expr:
        self._arity(fname, raw_args, 2)
        return ir.ActiveInitial(self.lower(raw_args[0]), self.lower(raw_args[1]))

    def _get_time_value(self, entry: Function, fname: str, raw_args: list[Any]) -> ir.Expr:
        """GET TIME VALUE(relativeto, offset, measure): relative to the simulation time
        (0), in the model's units of time (0), it is Time + offset; the computer's clock
        (2) would make runs irreproducible, and the calendar measures need a date."""
        self._arity(fname, raw_args, 3)
        relative, measure = amr.literal(raw_args[0]), amr.literal(raw_args[2])
        if relative != 0 or measure != 0:
            raise self.unsupported(
                f"GET TIME VALUE({'?' if relative is None else f'{relative:g}'}, ..., "
                f"{'?' if measure is None else f'{measure:g}'})", "the engine computes "
                "GET TIME VALUE(0, offset, 0), the simulation time plus offset; the "
                "computer's clock (relativeto 2) would make runs irreproducible")
        return binop("+", ir.Time(Clock.STEP_START if self._in_compare else Clock.TIME),
                     self.lower(raw_args[1]))

    def _pi(self, entry: Function, fname: str, raw_args: list[Any]) -> ir.Expr:
        for arg in raw_args:  # lowered for their errors only
            self.lower(arg)
        return num(math.pi)

    # -- lookups -----------------------------------------------------------------------

    def _table(self, tree: Any) -> str:
        if isinstance(tree, ae.GetLookupsStructure):  # read from its file (compile/data)
            xp, fp = data.lookup_points(self, tree)
        elif not isinstance(tree, ae.LookupsStructure):
            raise self.unsupported(_STRUCTURE_NAMES.get(type(tree), "this lookup"))
        else:
            xp = np.asarray(tree.x, dtype=float)
            fp = np.asarray(tree.y, dtype=float)
        if xp.ndim != 1 or xp.size == 0 or xp.shape != fp.shape:
            raise self.error(ModelError, f"the lookup in {self.owner!r} has no valid points")
        if np.any(np.diff(xp) < 0):
            order = np.argsort(xp, kind="stable")
            xp, fp = xp[order], fp[order]
        table_id = f"_tbl{len(self.tables)}"
        mode = _LOOKUP_TYPES.get(getattr(tree, "type", "interpolate"), LookupMode.INTERPOLATE)
        self.tables[table_id] = (xp, fp, mode)
        return table_id

    def _lookup(self, table_id: str, x: ir.Expr) -> ir.Expr:
        return ir.Lookup(table_id, x, self.tables[table_id][2])

    def _inline_lookup(self, tree: ae.InlineLookupsStructure) -> ir.Expr:
        return self._lookup(self._table(tree.lookups), self.lower(tree.argument))

    def _integ(self, tree: ae.IntegStructure) -> ir.Expr:
        raise self.unsupported("INTEG inside an expression",
                               "INTEG must be the whole equation of a stock")

    def _game(self, tree: ae.GameStructure) -> ir.Expr:  # GAME only matters in gaming
        return self.lower(tree.expression)


def _display(fname: str) -> str:
    return fname.replace("_", " ").upper()


_Method = Callable[[Lowerer, Any], ir.Expr]
#: PySD's structure type -> how it is lowered (stateful families: :mod:`.stateful`)
_BY_TYPE: dict[type, _Method] = {
    ae.ArithmeticStructure: Lowerer._arithmetic,
    ae.LogicStructure: Lowerer._logic,
    ae.ReferenceStructure: Lowerer._reference,
    ae.CallStructure: Lowerer._call,
    ae.InlineLookupsStructure: Lowerer._inline_lookup,
    ae.IntegStructure: Lowerer._integ,
    ae.GameStructure: Lowerer._game,
    **stateful.BUILDERS,
    **data.BUILDERS,
    **arraycalls.BUILDERS,
}
#: registry entries lowered by hand (``Lowering.SPECIAL``), by key
_SPECIAL: dict[str, Callable[[Lowerer, Function, str, list[Any]], ir.Expr]] = {
    "power": Lowerer._power,
    "pi": Lowerer._pi,
    "get_time_value": Lowerer._get_time_value,
    "active_initial": Lowerer._active_initial,
    "lookup_extrapolate": Lowerer._lookup_function,
    "lookup_forward": Lowerer._lookup_function,
    "lookup_backward": Lowerer._lookup_function,
    **stateful.CALLS,
    **randomness.CALLS,
    **data.CALLS,
    **subscripts.ARRAY_FUNCTIONS,
    **arraycalls.CALLS,
}


class CompiledModel:
    """A compiled model: its variables and the lowered nodes code is generated from."""

    def __init__(self, lowerer: Lowerer) -> None:
        self.path = lowerer.source.path
        self.nodes = lowerer.nodes
        self.variables = lowerer.variables
        self.tables = lowerer.tables
        self.switches = lowerer.switches
        self.stock_flows = lowerer.stock_flows
        self.order_dependencies = lowerer.order_dependencies
        self.arrays = lowerer.arrays  # constant arrays and index tables of subscripts
        self.by_key = {clean_key(v.name): v for v in self.variables}
        self.control_ids: tuple[str, str, str, str] = tuple(  # type: ignore[assignment]
            lowerer.elements[c][1].node for c in CONTROLS)


def compile_model(source: SourceFile) -> CompiledModel:
    """Lower a parsed model into a :class:`CompiledModel` (nesting is bounded by
    MAX_NESTING, and the lowering recurses once or twice a level)."""
    return deep_call(lambda: Lowerer(source).compile())
