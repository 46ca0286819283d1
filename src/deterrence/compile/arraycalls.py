"""Lowering VECTOR SELECT, VECTOR REORDER, ALLOCATE BY PRIORITY and ALLOCATE AVAILABLE
into ``ir.ArrayApply`` (computed by :mod:`.arrayfns`).

Each handler works out, at compile time, the axes its function works along (the ranges
marked ``!``, or the last subscript of the request or vector, as Vensim requires) and the
other axes of its arguments, which the value keeps; every argument is aligned to those
axes, the working ones last. Shapes that do not fit are errors naming the variable.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pysd.translators.structures import abstract_expressions as ae

from ..errors import ModelError, ModelWarning
from ..library import Function
from ..names import clean_key
from . import amr, ir
from .arrayfns import Where

if TYPE_CHECKING:
    from .lower import Lowerer

class AllocationWarning(ModelWarning):
    """ALLOCATE AVAILABLE is solved exactly; Vensim's own search stops near the answer."""


_ACTIONS = range(11)  # VECTOR SELECT's numerical actions
_ERRORS = range(4)  # and its error actions


def _where(lw: Lowerer, function: str) -> str:
    """A global naming the call site, for the errors the function raises as it runs."""
    name = f"_at{len(lw.arrays)}"
    var = lw._owner_var
    lw.arrays[name] = Where(function, lw.owner, lw.source.path, var.line if var else None)
    return name


def _fail(lw: Lowerer, function: str, message: str, hint: str | None = None) -> ModelError:
    return lw.error(ModelError, f"{function} in {lw.owner!r}: {message}", hint)


def _code(lw: Lowerer, function: str, tree: Any, what: str, allowed: range) -> float:
    value = amr.literal(tree)
    if value is None:
        raise lw.unsupported(f"{function} whose {what} is not a number")
    if value not in allowed:
        raise _fail(lw, function, f"its {what} is {value:g}; Vensim's are "
                    f"{allowed.start} to {allowed.stop - 1}", "see Vensim's help on "
                    f"{function}")
    return value


def _others(lw: Lowerer, args: list[ir.Expr], working: tuple[str, ...]) -> tuple[str, ...]:
    return ir.union(*(tuple(a for a in lw.axes_of(x) if a not in working) for x in args))


def vector_select(lw: Lowerer, entry: Function, fname: str, raw_args: list[Any]) -> ir.Expr:
    """VECTOR SELECT(sel[A!], expr[A!], missing, action, error): over the marked ranges."""
    name = "VECTOR SELECT"
    lw._arity(fname, raw_args, 5)
    sel, expr, missing = (lw.lower(a) for a in raw_args[:3])
    action = _code(lw, name, raw_args[3], "numerical action", _ACTIONS)
    error = _code(lw, name, raw_args[4], "error action", _ERRORS)
    marked = tuple(a for a in ir.union(lw.axes_of(sel), lw.axes_of(expr)) if a.endswith("!"))
    if not marked:
        raise _fail(lw, name, "it has no range to select along",
                    "mark it with !, as in VECTOR SELECT(sel[A!], x[A!], 0, 0, 0)")
    sides = [{a for a in lw.axes_of(x) if a.endswith("!")} for x in (sel, expr)]
    if sides[0] != sides[1]:
        raise _fail(lw, name, f"its selection is marked along {sorted(sides[0])} but its "
                    f"expression along {sorted(sides[1])}", "mark the same ranges with ! "
                    "in both")
    if any(a.endswith("!") for a in lw.axes_of(missing)):
        raise _fail(lw, name, "its missing value varies along a range marked with !")
    others = _others(lw, [sel, expr, missing], marked)
    grid = (*others, *marked)
    return ir.ArrayApply("vector_select", (sel, expr, missing), (grid, grid, others), others,
                         (float(len(marked)), action, error), _where(lw, name))


def vector_reorder(lw: Lowerer, entry: Function, fname: str, raw_args: list[Any]) -> ir.Expr:
    """VECTOR REORDER(vector[A], order[A]): along A, the last (or marked) range."""
    name = "VECTOR REORDER"
    lw._arity(fname, raw_args, 2)
    vector, order = (lw.lower(a) for a in raw_args)
    axes = lw.axes_of(vector)
    along = [a for a in axes if a.endswith("!")] or list(axes[-1:])
    if len(along) != 1:
        raise _fail(lw, name, "it needs one subscript range to reorder along")
    if along[0] not in lw.axes_of(order):
        raise _fail(lw, name, f"its order vector does not have the range "
                    f"{along[0].rstrip('!')!r} of the vector it reorders")
    others = _others(lw, [vector, order], (along[0],))
    grid = (*others, along[0])
    return ir.ArrayApply("vector_reorder", (vector, order), (grid, grid),
                         (*others, along[0].rstrip("!")), (), _where(lw, name))


def _requests(lw: Lowerer, name: str, request: ir.Expr) -> str:
    axes = lw.axes_of(request)
    if not axes:
        raise _fail(lw, name, "its request is not subscripted", "the request must vary "
                    "along the range being allocated, its last subscript")
    return axes[-1]


def _outside(lw: Lowerer, name: str, along: str, **args: ir.Expr) -> None:
    for what, expr in args.items():
        if along in lw.axes_of(expr):
            raise _fail(lw, name, f"its {what} varies along {along!r}, the range being "
                        "allocated", f"the {what} is one number per allocation")


def allocate_by_priority(lw: Lowerer, tree: ae.AllocateByPriorityStructure) -> ir.Expr:
    """ALLOCATE BY PRIORITY(request[..., A], priority[..., A], size, width, supply)."""
    name = "ALLOCATE BY PRIORITY"
    request, priority, size, width, supply = (lw.lower(t) for t in (
        tree.request, tree.priority, tree.size, tree.width, tree.supply))
    along = _requests(lw, name, request)
    if lw.axes_of(priority)[-1:] != (along,):
        raise _fail(lw, name, f"its priority does not have {along!r}, the last subscript "
                    "of the request, as its last subscript", "Vensim allocates along the "
                    "last subscript of the left-hand side, the request and the priority")
    _outside(lw, name, along, width=width, supply=supply)
    n = _length(lw, along)
    if isinstance(size, ir.Const) and n is not None and size.value != n:
        raise _fail(lw, name, f"its size is {size.value:g}, but {along!r} has {n} "
                    "elements", f"pass ELMCOUNT({along.rstrip('!')})")
    others = _others(lw, [request, priority, width, supply], (along,))
    grid = (*others, along)
    return ir.ArrayApply("allocate_by_priority", (request, priority, width, supply),
                         (grid, grid, others, others), grid, (), _where(lw, name))


def _length(lw: Lowerer, axis: str) -> int | None:
    rng = lw.ranges.find(axis.rstrip("!")) if lw.ranges else None
    return len(rng.elements) if rng is not None else None


def allocate_available(lw: Lowerer, tree: ae.AllocateAvailableStructure) -> ir.Expr:
    """ALLOCATE AVAILABLE(request[..., A], pp[..., A, ptype], avail): ``pp`` is written
    with the first element of its profile range (ptype); the function reads it and the
    elements after it (ppriority, pwidth, pextra), so the whole range is taken here."""
    name = "ALLOCATE AVAILABLE"
    request = lw.lower(tree.request)
    along = _requests(lw, name, request)
    pp, profile = _profiles(lw, name, tree.pp)
    if along not in lw.axes_of(pp):
        raise _fail(lw, name, f"its priority profiles do not have {along!r}, the last "
                    "subscript of the request", "write them as pp[..., A, ptype]: the "
                    "requests' range second last, the profile's first element last")
    avail = lw.lower(tree.avail)
    _outside(lw, name, along, available=avail)
    var = lw._owner_var
    warnings.warn(AllocationWarning(  # not a silent difference from Vensim's numbers
        f"{lw.source.path}:{var.line if var else '?'}: ALLOCATE AVAILABLE in {lw.owner!r} "
        "is solved for the priority at which the allocations add up to what is available "
        "exactly (as PySD does); Vensim's own search stops near it, so its allocations "
        "may differ by about 1e-4 of the supply (more on normal and exponential "
        "profiles; docs/engine.md)"), stacklevel=2)
    others = _others(lw, [request, pp, avail], (along, profile))
    grid = (*others, along)
    return ir.ArrayApply("allocate_available", (request, pp, avail),
                         (grid, (*grid, profile), others), grid, (), _where(lw, name))


def _profiles(lw: Lowerer, name: str, tree: Any) -> tuple[ir.Expr, str]:
    """The priority profiles, from the element written last (ptype) to three after it,
    along the profile range (their variable's last axis)."""
    written = list(tree.subscripts.subscripts) if isinstance(
        tree, ae.ReferenceStructure) and tree.subscripts is not None else []
    found = lw.elements.get(clean_key(tree.reference)) if written else None
    axes = lw.nodes[found[1].node].axes if found and found[1].node else ()  # type: ignore[index]
    element = lw.ranges.element(written[-1]) if written and lw.ranges else None
    if not axes or element is None or element not in axes[-1].elements:
        raise _fail(lw, name, "its second argument is not a priority profile written with "
                    "the first element of its profile range last (pp[..., A, ptype])")
    profile = axes[-1]
    start = profile.elements.index(element)
    if len(profile.elements) - start < 3:
        raise _fail(lw, name, f"the profile range {profile.name!r} has no ppriority and "
                    f"pwidth after {element!r}", "a profile is ptype, ppriority, pwidth, "
                    "pextra, in that order")
    whole = ae.ReferenceStructure(tree.reference, ae.SubscriptsReferenceStructure(
        [*written[:-1], profile.name]))
    pp = lw.lower(whole)
    stop = min(start + 4, len(profile.elements))
    if (start, stop) != (0, len(profile.elements)):
        pp = ir.Take(pp, profile.name, tuple(range(start, stop)))
    return pp, profile.name


#: registry key -> handler of its call (``Lowering.SPECIAL``)
CALLS: dict[str, Callable[..., ir.Expr]] = {"vector_select": vector_select,
                                            "vector_reorder": vector_reorder}
#: PySD's structure -> its lowering (the allocation functions are structures in PySD)
BUILDERS: dict[type, Callable[..., ir.Expr]] = {
    ae.AllocateByPriorityStructure: allocate_by_priority,
    ae.AllocateAvailableStructure: allocate_available}
