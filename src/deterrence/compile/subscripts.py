"""Subscripts: Vensim's ranges as named axes, and what each equation's subscripts select.

A range (``Region: north, south``) is an :class:`~.ir.Axis`; a subrange is a range whose
elements all belong to another; a copy (``B <-> A``) has A's elements; a mapping
(``B: b1, b2 -> A``) pairs B's elements with A's by position. A variable's axes are, at
each position of its subscripts, the smallest range holding every element its
equations define there (PySD's rule). Each equation (component) writes the elements of
its left-hand side, less its ``:EXCEPT:`` elements; references on its right-hand side
are reduced to the left-hand side's ranges by name (:meth:`Ranges.reference`).
Everything here happens at compile time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from pysd.translators.structures import abstract_expressions as ae
from pysd.translators.structures import abstract_model as am

from ..errors import ModelError, UnsupportedError
from ..library import Function
from ..names import clean_key
from . import amr, arrayops, data, ir
from .ir import Axis, LookupMode, Node, NodeKind, Variable, VarKind

if TYPE_CHECKING:
    from .lower import Lowerer

Fail = Callable[..., Exception]  # (message[, error class]) -> the error to raise


@dataclass(frozen=True)
class Grid:
    """One component's left-hand side within its variable's axes.

    ``names``: per variable axis, the range the equation spans there (its name is the
    axis name of the equation's value), or "" where it names one element;
    ``target``: per axis, the element positions it writes, in the variable's axis;
    ``mask``: the elements of the grid it writes (False: excepted), or None for all.
    """

    names: tuple[str, ...]
    ranges: tuple[Axis, ...]  # the ranges among ``names``, in order
    target: tuple[np.ndarray, ...]
    mask: np.ndarray | None

    @property
    def whole(self) -> bool:
        """Whether it writes every element of its variable."""
        return self.mask is None and all(n for n in self.names)


class Ranges:
    """The model's subscript ranges, looked up by name as Vensim does (case, spaces)."""

    def __init__(self, declared: Sequence[Any], fail: Fail,
                 read: Callable[[str, dict[str, str]], list[str]] | None = None) -> None:
        """``read(name, spec)``: the elements of a range read from a file (GET XLS/DIRECT
        SUBSCRIPT, PySD's dict of file, tab, firstcell, lastcell and prefix)."""
        self.axes: dict[str, Axis] = {}
        self.maps: dict[str, set[str]] = {}
        raw: dict[str, Any] = {}
        for rng in declared:
            subs = rng.subscripts
            if isinstance(subs, dict) and read is not None:
                rng = am.AbstractSubscriptRange(rng.name, read(rng.name, subs), rng.mapping)
                subs = rng.subscripts
            if not (isinstance(subs, str) or (isinstance(subs, list) and all(
                    isinstance(s, str) for s in subs))):
                raise fail(f"the subscript range {rng.name!r} is read from a file "
                           "(GET ... SUBSCRIPT), which the engine does not read yet",
                           UnsupportedError)
            raw[clean_key(rng.name)] = rng
            for other in rng.mapping or ():
                if not isinstance(other, str):
                    raise fail(f"the mapping of {rng.name!r} is not a range name")
                self.maps.setdefault(clean_key(rng.name), set()).add(clean_key(other))
                self.maps.setdefault(clean_key(other), set()).add(clean_key(rng.name))

        def expand(key: str, seen: tuple[str, ...]) -> tuple[str, ...]:
            """A range's elements, the ranges it lists (or copies) expanded in place."""
            if key in self.axes:
                return self.axes[key].elements
            if key in seen:
                raise fail(f"the subscript range {raw[key].name!r} contains itself")
            subs = raw[key].subscripts
            items = [subs] if isinstance(subs, str) else subs
            elements: list[str] = []
            for item in items:
                inner = clean_key(item)
                if inner in raw and inner != key:
                    elements += expand(inner, (*seen, key))
                elif isinstance(subs, str):
                    raise fail(f"the subscript range {raw[key].name!r} copies {subs!r}, "
                               "which is not a range")
                else:
                    elements.append(item.strip())
            if len(set(map(clean_key, elements))) != len(elements):
                raise fail(f"the subscript range {raw[key].name!r} lists an element twice")
            self.axes[key] = Axis(raw[key].name.strip(), tuple(elements))
            return self.axes[key].elements

        for key in raw:
            expand(key, ())
        self.by_name = {a.name: a for a in self.axes.values()}
        for key, others in self.maps.items():
            for other in others:
                a, b = self.axes.get(key), self.axes.get(other)
                if a is None or b is None:
                    raise fail(f"the subscript mapping between {key!r} and {other!r} "
                               "names a range that does not exist")
                if len(a.elements) != len(b.elements):
                    raise fail(f"the subscript range {a.name!r} ({len(a.elements)} elements) "
                               f"is mapped to {b.name!r} ({len(b.elements)} elements); a "
                               "mapping pairs elements by position, so both need as many")
        self.elements: dict[str, str] = {}
        for axis in self.axes.values():
            for e in axis.elements:
                self.elements.setdefault(clean_key(e), e)

    def position(self, element: str) -> int:
        """An element as a number: its position, from 1, in the largest range holding it."""
        home = max((a for a in self.axes.values() if element in a.elements),
                   key=lambda a: len(a.elements))
        return home.elements.index(element) + 1

    def __bool__(self) -> bool:
        return bool(self.axes)

    def find(self, name: str) -> Axis | None:
        return self.axes.get(clean_key(name))

    def element(self, name: str) -> str | None:
        return self.elements.get(clean_key(name))

    def _members(self, name: str, fail: Fail) -> tuple[str, ...]:
        axis = self.find(name)
        if axis is not None:
            return axis.elements
        element = self.element(name)
        if element is None:
            raise fail(f"the subscript {name!r} is neither a range nor an element of one")
        return (element,)

    # -- variables ---------------------------------------------------------------------

    def variable_axes(self, subscripts: list[list[str]], fail: Fail) -> tuple[Axis, ...]:
        """The axes of a variable whose components have these left-hand sides."""
        if not subscripts[0]:
            return ()
        if any(len(s) != len(subscripts[0]) for s in subscripts):
            raise fail("its equations have different numbers of subscripts")
        axes = []
        for p in range(len(subscripts[0])):
            written = [s[p] for s in subscripts]
            if all(clean_key(w) == clean_key(written[0]) for w in written) and self.find(
                    written[0]):
                axes.append(self.find(written[0]))
                continue
            needed = {e for w in written for e in self._members(w, fail)}
            fits = [a for a in self.axes.values() if needed <= set(a.elements)]
            if not fits:
                raise fail(f"no subscript range holds all of {sorted(needed)}, the elements "
                           f"its equations define at subscript position {p + 1}")
            used = {clean_key(w) for w in written}
            axes.append(min(fits, key=lambda a: (len(a.elements),
                                                 clean_key(a.name) not in used)))
        return self._distinct(axes, subscripts, fail)

    def _distinct(self, axes: list[Axis], subscripts: list[list[str]], fail: Fail
                  ) -> tuple[Axis, ...]:
        """Axes with distinct names (PySD's rule): where one range would be the axis at two
        positions (``x[A, Dims]``, ``x[B, Dims]`` with A, B elements of Dims), a position
        whose equations only name elements takes another range of the same elements
        (a copy, ``D2 <-> Dims``), else a new copy of the range, ``Dims1``."""
        for p, axis in enumerate(axes):
            if sum(a.name == axis.name for a in axes) < 2:
                continue
            if any(clean_key(s[p]) == clean_key(axis.name) for s in subscripts):
                continue  # written as the range here: another position gives way
            others = {a.name for q, a in enumerate(axes) if q != p}
            same = [a for a in self.axes.values() if a.elements == axis.elements
                    and a.name not in others]
            if same:
                axes[p] = same[0]
                continue
            j = 1
            while clean_key(f"{axis.name}{j}") in self.axes or f"{axis.name}{j}" in others:
                j += 1
            axes[p] = Axis(f"{axis.name}{j}", axis.elements)
        if len({a.name for a in axes}) != len(axes):
            raise fail("it spans one subscript range twice (a square matrix on one range), "
                       "which the engine does not support yet; declare a copy (B <-> A) "
                       "for the second subscript", UnsupportedError)
        return tuple(axes)

    def grid(self, axes: tuple[Axis, ...], lhs: list[str], exceptions: list[list[str]],
             fail: Fail) -> Grid:
        """Where one component's equation writes, within its variable's ``axes``."""
        names: list[str] = []
        ranges: list[Axis] = []
        target: list[np.ndarray] = []
        for axis, written in zip(axes, lhs, strict=True):
            rng = self.find(written)
            members = self._members(written, fail)
            missing = [e for e in members if e not in axis.elements]
            if missing:
                raise fail(f"{missing[0]!r} is not an element of {axis.name!r}")
            target.append(np.array([axis.elements.index(e) for e in members], dtype=np.intp))
            names.append(rng.name if rng is not None else "")
            if rng is not None:
                ranges.append(rng)
        mask = None
        for exc in exceptions:
            if len(exc) != len(lhs):
                raise fail(f":EXCEPT: [{', '.join(exc)}] does not have one subscript per "
                           "position of the left-hand side")
            mask = np.ones([len(t) for t in target], dtype=bool) if mask is None else mask
            picks = []
            for axis, idx, written in zip(axes, target, exc, strict=True):
                excluded = {axis.elements.index(e) for e in self._members(written, fail)
                            if e in axis.elements}
                picks.append([i for i, k in enumerate(idx) if k in excluded])
            if all(picks):
                mask[np.ix_(*picks)] = False
        if mask is not None and mask.all():
            mask = None
        return Grid(tuple(names), tuple(ranges), tuple(np.ix_(*target)), mask)

    # -- references --------------------------------------------------------------------

    def reference(self, expr: ir.Expr, axes: tuple[Axis, ...], written: list[str] | None,
                  context: tuple[Axis, ...], fail: Fail) -> ir.Expr:
        """``expr`` (a variable with ``axes``) as subscripted with ``written`` in an equation
        whose left-hand side spans the ranges ``context``: an element selects it, a range
        keeps (a subrange takes, a mapping renames) an axis, ``A!`` keeps it apart."""
        if written is None:
            return expr
        if len(written) != len(axes):
            raise fail(f"it has {len(axes)} subscript(s), but is used with {len(written)}")
        in_context = {clean_key(a.name): a for a in context}
        steps: list[tuple[Axis, int | tuple[int, ...], str]] = []
        for axis, sub in zip(axes, written, strict=True):
            name = sub.strip()
            bang = name.endswith("!")
            name = name.rstrip("!").strip()
            rng = self.find(name)
            if rng is None:
                element = self.element(name)
                if element is None or element not in axis.elements:
                    raise fail(f"{name!r} is not an element of {axis.name!r}, its "
                               f"subscript range there")
                steps.append((axis, axis.elements.index(element), ""))
                continue
            new = rng
            if not bang and clean_key(rng.name) not in in_context:
                new = self._counterpart(rng, context, fail) or rng
            source = rng.elements
            if not set(source) <= set(axis.elements):
                raise fail(f"the range {rng.name!r} is not {axis.name!r} or a subrange of it")
            if new is not rng and set(new.elements) <= set(rng.elements):
                source = new.elements  # the parent range used for one of its subranges
            steps.append((axis, tuple(axis.elements.index(e) for e in source),
                          new.name + ("!" if bang else "")))
        originals = [a.name for a in axes]
        outs = [out for _, _, out in steps if out]
        if len(set(outs)) != len(outs):
            raise fail(f"it is used with the range {outs[0]!r} twice")
        clash = any(out and out != a.name and out in originals for a, _, out in steps)
        names = [f"#{i}" if clash else a.name for i, a in enumerate(axes)]
        if clash:  # a transposition: rename by position first
            expr = ir.Relabel(expr, tuple(names))
        for (axis, index, out), name in zip(steps, names, strict=True):
            if isinstance(index, int):
                expr = ir.Take(expr, name, index)
            elif index != tuple(range(len(axis.elements))) or (out != name and not clash):
                expr = ir.Take(expr, name, index, name if clash else out)
        if clash:
            expr = ir.Relabel(expr, tuple(out for _, _, out in steps if out))
        return expr

    def _counterpart(self, rng: Axis, context: tuple[Axis, ...], fail: Fail) -> Axis | None:
        """The left-hand side's range that ``rng`` stands for: a mapped range, or a
        subrange of ``rng``; two candidates are an error, never a guess."""
        key = clean_key(rng.name)
        for found in ([a for a in context if clean_key(a.name) in self.maps.get(key, ())],
                      [a for a in context if set(a.elements) < set(rng.elements)]):
            if len(found) > 1:
                raise fail(f"{rng.name!r} could stand for {found[0].name!r} or "
                           f"{found[1].name!r} of the left-hand side; name the range meant")
            if found:
                return found[0]
        return None


# -- lowering subscripted variables (called by compile/lower.py) -----------------------


def declare(lw: Lowerer, element: Any, var: Variable, axes: tuple[Axis, ...]) -> Node:
    """The node of a subscripted variable: a stock if its equations are INTEG, a
    constant if they are numbers, else an auxiliary."""
    comps = element.components
    lookups = [isinstance(c, am.AbstractLookup) or isinstance(
        c.ast, ae.LookupsStructure | ae.GetLookupsStructure) for c in comps]
    if any(lookups):
        if not all(lookups):
            raise lw.error(ModelError, f"some equations of {var.name!r} are lookup tables "
                           "and others not")
        var.kind = VarKind.LOOKUP
        lw.array_lookups[clean_key(element.name)] = _tables(lw, element, axes)
        node = lw.new(NodeKind.AUX, var.name, var=var, axes=axes, raw=ir.num(math.nan))
        var.node = node.id
        return node
    integ = [isinstance(c.ast, ae.IntegStructure) for c in comps]
    if any(integ) and not all(integ):
        raise lw.error(ModelError, f"some equations of {var.name!r} are INTEG and others "
                       "not; a variable is a stock for all its elements or for none")
    if all(integ):
        var.kind, kind = VarKind.STOCK, NodeKind.STOCK
    else:
        kind = NodeKind.AUX
        literal = all(isinstance(c.ast, np.ndarray | ae.GetConstantsStructure)
                      or amr.literal(c.ast) is not None for c in comps)
        var.kind = VarKind.CONSTANT if literal else VarKind.AUXILIARY
        var.overridable = False  # a subscripted constant is not a parameter (yet)
    node = lw.new(kind, var.name, var=var, axes=axes)
    var.node = node.id
    return node


def lower_array(lw: Lowerer, element: Any, var: Variable, node: Node) -> None:
    """Each equation on its grid, then the variable assembled from them."""
    fail = _failing(lw)
    axes = node.axes
    grids = [lw.ranges.grid(axes, c.subscripts[0], c.subscripts[1], fail)
             for c in element.components]
    shape = tuple(len(a.elements) for a in axes)
    coverage = np.zeros(shape, dtype=int)
    for g in grids:
        coverage[g.target] += 1 if g.mask is None else g.mask
    hits = np.argwhere(coverage >= 2)  # elements no equation defines are NaN
    if len(hits):
        name = ", ".join(a.elements[i] for a, i in zip(axes, hits[0], strict=True))
        raise lw.error(ModelError, f"the element {var.name}[{name}] is defined more than "
                       "once", "give every element exactly one equation (:EXCEPT: removes "
                       "elements from an equation)")
    flows, inits = [], []
    for comp, g in zip(element.components, grids, strict=True):
        lw.context, lw._memo = g.ranges, {}
        try:
            if node.kind == NodeKind.STOCK:
                if getattr(comp.ast, "non_negative", False):
                    raise lw.unsupported("non-negative stocks")
                flows.append(_checked(lw, lw.lower(comp.ast.flow), g))
                inits.append(_checked(lw, lw.lower(comp.ast.initial), g))
            else:
                flows.append(_checked(lw, lw.lower(comp.ast), g))
        finally:
            lw.context, lw._memo = (), {}
    node.raw = _combine(lw, node, flows, grids)
    if node.kind == NodeKind.STOCK:
        node.raw_init = _combine(lw, node, inits, grids)


def _tables(lw: Lowerer, element: Any, axes: tuple[Axis, ...]) -> tuple[ir.Expr, ir.Expr]:
    """One table per element, stacked along a last axis of points (padded by repeating
    each table's last point, which interpolation then never tells apart). A GET LOOKUPS
    on a range reads a row (or column) per element; elements no equation defines get a
    table of NaN (a use of one is NaN, as of any undefined element)."""
    fail = _failing(lw)
    grids = [lw.ranges.grid(axes, c.subscripts[0], c.subscripts[1], fail)
             for c in element.components]
    tables = []
    for comp, g in zip(element.components, grids, strict=True):
        grid_shape = tuple(t.size for t in g.target)
        if isinstance(comp.ast, ae.GetLookupsStructure) and math.prod(grid_shape) > 1:
            lw.context = g.ranges
            try:
                xp, fp = data.lookup_block(lw, comp.ast, grid_shape)
            finally:
                lw.context = ()
        else:
            table_id = lw._table(comp.ast)
            xp, fp, mode = lw.tables.pop(table_id)
            if mode is not LookupMode.INTERPOLATE:
                raise lw.unsupported(f"subscripted lookups read with {mode.name} "
                                     "(GET XLS LOOKUPS keywords)")
        tables.append((np.broadcast_to(xp, (*grid_shape, xp.shape[-1])),
                       np.broadcast_to(fp, (*grid_shape, fp.shape[-1]))))
    shape = tuple(len(a.elements) for a in axes)
    points = max(xp.shape[-1] for xp, _ in tables)
    stacked = []
    for k in (0, 1):
        out = np.full((*shape, points), np.nan)
        for pair, g in zip(tables, grids, strict=True):
            values = pair[k]
            pad = np.repeat(values[..., -1:], points - values.shape[-1], axis=-1)
            where = (*g.target, slice(None))
            block = np.concatenate([values, pad], axis=-1)
            out[where] = block if g.mask is None else np.where(g.mask[..., None], block,
                                                               out[where])
        stacked.append(lw.constant_array(out, (*(a.name for a in axes), ir.POINTS)))
    return stacked[0], stacked[1]


def table_lookup(lw: Lowerer, key: str, written: list[str] | None, x: ir.Expr) -> ir.Expr:
    """``tab[A](x)``: the tables the subscripts select, read at ``x``."""
    xp, fp = lw.array_lookups[key]
    node = lw.nodes[lw.elements[key][1].node]  # type: ignore[index]
    fail = lambda m: lw.error(ModelError, f"{lw.owner!r} uses the lookup {node.label!r}: {m}")  # noqa: E731
    if written is None:
        raise fail("it is subscripted; call it as name[subscripts](x)")
    pick = [lw.ranges.reference(t, node.axes, written, lw.context, fail) for t in (xp, fp)]
    return ir.TableLookup(x, *pick)


def array_constant(lw: Lowerer, values: np.ndarray) -> ir.Expr:
    """A literal table of numbers (``1, 2; 3, 4``) on the equation's ranges. A flat list
    of exactly as many numbers (``TABBED ARRAY`` pasted from a spreadsheet, which PySD's
    parser hands over flat, or ``1, 2, 3, 4``) fills the table row by row, as in PySD."""
    shape = tuple(len(a.elements) for a in lw.context)
    values = np.asarray(values, dtype=float)
    if values.ndim == 1 and len(shape) > 1 and values.size == int(np.prod(shape)):
        values = values.reshape(shape)
    if values.shape != shape:
        raise lw.error(ModelError, f"the numbers of {lw.owner!r} have shape "
                       f"{values.shape}, but its subscripts need {shape}")
    return lw.constant_array(values, tuple(a.name for a in lw.context))


def range_value(lw: Lowerer, rng: Axis) -> ir.Expr:
    """A range's name used as a number: each element's position in the range, from 1
    in the largest range that holds it, as Vensim numbers elements (so a subrange's
    elements compare equal to the same elements of its parent range)."""
    context = {a.name: a for a in lw.context}
    target = rng if rng.name in context else next(
        (a for a in lw.context if set(a.elements) < set(rng.elements)), None)
    if target is None:
        raise lw.error(ModelError, f"{lw.owner!r} uses the subscript range {rng.name!r} as "
                       "a number, but its left-hand side does not have that range")
    values = np.array([lw.ranges.position(e) for e in target.elements], dtype=float)
    return lw.constant_array(values, (target.name,))


def _failing(lw: Lowerer) -> Fail:
    return lambda message: lw.error(ModelError, f"{lw.owner!r}: {message}")


def _checked(lw: Lowerer, expr: ir.Expr, grid: Grid) -> ir.Expr:
    extra = [a for a in lw.axes_of(expr) if a not in grid.names]
    if extra:
        bang = [a for a in extra if a.endswith("!")]
        raise lw.error(ModelError, (
            f"{lw.owner!r} uses {bang[0]} outside an array function such as SUM" if bang
            else f"{lw.owner!r} uses the subscript range {extra[0]!r}, which its left-hand "
            "side does not have (and no mapping or subrange relates it to one)"),
            "name the element to use, or add the range to the left-hand side")
    return expr


def _combine(lw: Lowerer, node: Node, values: list[ir.Expr], grids: list[Grid]) -> ir.Expr:
    """One array from the equations: folded when they are all numbers."""
    names = tuple(a.name for a in node.axes)
    if len(values) == 1 and grids[0].names == names and grids[0].mask is None:
        return values[0]
    shape = tuple(len(a.elements) for a in node.axes)
    if all(isinstance(v, ir.Const | ir.ArrayConst) for v in values):
        parts = []
        for v, g in zip(values, grids, strict=True):
            x = v.value if isinstance(v, ir.Const) else lw.arrays[v.name]
            source = () if isinstance(v, ir.Const) else v.axes
            parts.append((arrayops.align(x, *arrayops.alignment(source, g.names)),
                          (g.target, g.mask)))
        return lw.constant_array(arrayops.assemble(shape, *parts), names)
    targets = []
    for g in grids:
        targets.append(f"_ix{len(lw.arrays)}")
        lw.arrays[targets[-1]] = (g.target, g.mask)
    return ir.Assemble(names, shape, tuple(values), tuple(targets),
                       tuple(g.names for g in grids))


# -- array functions (the lowerer's handlers of their registry entries) ----------------


def display(fname: str) -> str:
    return fname.replace("_", " ").upper()


def array_reduce(self: Lowerer, entry: Function, fname: str, raw_args: list[Any]) -> ir.Expr:
    """SUM, PROD, VMIN, VMAX over the ranges marked ``!`` in their argument."""
    self._arity(fname, raw_args, 1)
    result = self.lower(raw_args[0])
    marked = [a for a in self.axes_of(result) if a.endswith("!")]
    if not marked:
        raise self.error(ModelError, f"{display(fname)} in {self.owner!r} has no range "
                         "to work over", f"mark it with !, as in {display(fname)}(x[A!])")
    for axis in marked:
        result = ir.Reduce(entry.key, result, axis)
    return result

def array_call(self: Lowerer, entry: Function, fname: str, raw_args: list[Any]) -> ir.Expr:
    """INVERT MATRIX(m[A, B], n) over the last two axes; VECTOR SORT ORDER and
    VECTOR RANK(v[A], direction) over the last (or the one marked ``!``)."""
    self._arity(fname, raw_args, 2)
    arg = self.lower(raw_args[0])
    axes = self.axes_of(arg)
    second = amr.literal(raw_args[1])
    if second is None:
        raise self.unsupported(f"{display(fname)} whose second argument is not a number")
    if entry.key == "invert_matrix":
        sizes = [len(self.ranges.find(a.rstrip("!")).elements)  # type: ignore[union-attr]
                 for a in axes[-2:]] if self.ranges else []
        if sizes != [round(second)] * 2:
            raise self.error(ModelError, f"INVERT MATRIX in {self.owner!r} needs a square "
                             f"matrix of size {second:g} on its last two subscripts")
        return ir.ArrayCall(entry.key, arg, axes[-2])
    marked = [a for a in axes if a.endswith("!")] or list(axes[-1:])
    if len(marked) != 1:
        raise self.error(ModelError, f"{display(fname)} in {self.owner!r} needs one "
                         "subscript range to work along")
    result: ir.Expr = ir.ArrayCall(entry.key, arg, marked[0], (second,))
    if marked[0].endswith("!"):  # the result lies along the range without its mark
        result = ir.Relabel(result, tuple(a.rstrip("!") if a == marked[0] else a
                                          for a in axes))
    return result

def elmcount(self: Lowerer, entry: Function, fname: str, raw_args: list[Any]) -> ir.Expr:
    self._arity(fname, raw_args, 1)
    arg = raw_args[0]
    name = arg.reference if isinstance(arg, ae.ReferenceStructure) else str(arg)
    rng = self.ranges.find(name.rstrip("!")) if self.ranges else None
    if rng is None:
        raise self.error(ModelError, f"ELMCOUNT in {self.owner!r} needs a subscript "
                         f"range, got {name!r}")
    return ir.num(len(rng.elements))


#: registry key -> handler (``Lowering.SPECIAL`` entries of the library's array family)
ARRAY_FUNCTIONS: dict[str, Callable[..., ir.Expr]] = {
    **dict.fromkeys(("sum", "prod", "vmin", "vmax"), array_reduce),
    "elmcount": elmcount,
    **dict.fromkeys(("invert_matrix", "vector_sort_order", "vector_rank"), array_call),
}
