"""Data variables and external data: GET XLS/DIRECT DATA, CONSTANTS and LOOKUPS, and
GET DATA AT TIME / FIRST TIME / LAST TIME.

The files are read once, when the model is compiled (:mod:`..frontend.external`); a data
variable becomes a table of (time, value) read at Time, as its keyword says:
``:INTERPOLATE:`` (the default; the first and last values hold outside the data),
``:HOLD BACKWARD:`` (the last value at or before Time), ``:LOOK FORWARD:`` (the first at
or after). ``:RAW:`` and data with no equation (values from a run's data file, as
Vensim's .vdf) are refused. Adaptive methods integrate between the data times.

Subscripted: an equation of a data variable (or a GET CONSTANTS or GET LOOKUPS) on a
range reads one row (or column) per element, beside the times; a variable may mix such
equations with others (``x[d1] := GET DIRECT DATA(...)``, ``x[d2] = 5``). A subscripted
data equation becomes an :class:`~.ir.TableLookup` (one table per element).
"""

from __future__ import annotations

import math
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np
from pysd.translators.structures import abstract_expressions as ae
from pysd.translators.structures import abstract_model as am

from ..errors import ModelError
from ..frontend import external
from ..library import Clock, Function
from ..names import clean_key
from . import ir
from .ir import LookupMode, num
from .switches import Switch

if TYPE_CHECKING:
    from .lower import Lowerer

_MODES = {None: LookupMode.INTERPOLATE, "interpolate": LookupMode.INTERPOLATE,
          "hold_backward": LookupMode.BACKWARD, "look_forward": LookupMode.FORWARD}
#: data times up to this many become switch times of the adaptive solvers
MAX_SWITCHES = 2_000

_TABLES: weakref.WeakKeyDictionary[Any, dict[str, str]] = weakref.WeakKeyDictionary()


def _read(lw: Lowerer, what: str, fn: Any, *args: Any) -> Any:
    """An external read; its error raised again naming the variable and its line."""
    try:
        return fn(lw.source.path, *args)
    except external.ExternalError as exc:
        raise lw.error(external.ExternalError, f"{what} in {lw.owner!r}: {exc.message}",
                       exc.hint) from None


def constant(lw: Lowerer, tree: ae.GetConstantsStructure) -> float:
    """GET XLS/DIRECT CONSTANTS of one cell (a scalar constant)."""
    return float(_read(lw, "GET CONSTANTS", external.constants, tree.file, tree.tab,
                       tree.cell, ())[()])


def get_constants(lw: Lowerer, tree: ae.GetConstantsStructure) -> ir.Expr:
    """GET XLS/DIRECT CONSTANTS in an equation: the cells its left-hand side's ranges
    need (a row per range of one, a table for two; ``*`` transposes), as a constant."""
    shape = tuple(len(a.elements) for a in lw.context)
    values = _read(lw, "GET CONSTANTS", external.constants, tree.file, tree.tab,
                   tree.cell, shape)
    if not shape:
        return num(float(values))
    return lw.constant_array(values, tuple(a.name for a in lw.context))


def subscript_elements(lw: Lowerer, name: str, spec: dict[str, str]) -> list[str]:
    """GET XLS/DIRECT SUBSCRIPT: a range's elements, read from the file."""
    try:
        return external.subscript_elements(
            lw.source.path, spec.get("file", ""), spec.get("tab", ""),
            spec.get("firstcell", ""), spec.get("lastcell", ""), spec.get("prefix", ""))
    except external.ExternalError as exc:
        raise external.ExternalError(
            f"GET SUBSCRIPT of the subscript range {name!r}: {exc.message}",
            path=lw.source.path, line=lw.source.line_of(name), hint=exc.hint) from None


def lookup_points(lw: Lowerer, tree: ae.GetLookupsStructure) -> tuple[np.ndarray, np.ndarray]:
    """GET XLS/DIRECT LOOKUPS: the table's points."""
    xs, ys = _read(lw, "GET LOOKUPS", external.series, tree.file, tree.tab,
                   tree.x_row_or_col, tree.cell)
    return np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)


def lookup_block(lw: Lowerer, tree: ae.GetLookupsStructure, shape: tuple[int, ...]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """GET LOOKUPS of a subscripted lookup's equation: x (points,) and one row (or
    column) of y per element, ``(*shape, points)``; empty cells interpolated."""
    size = _one_range(lw, "GET LOOKUPS", shape)
    xs, ys = _read(lw, "GET LOOKUPS", external.series_block, tree.file, tree.tab,
                   tree.x_row_or_col, tree.cell, size)
    ys = _filled(lw, "GET LOOKUPS", xs, ys, LookupMode.INTERPOLATE, tree.cell)
    return xs, np.moveaxis(ys, 0, -1).reshape((*shape, len(xs)))


def _one_range(lw: Lowerer, what: str, shape: tuple[int, ...]) -> int:
    """The number of elements an equation reads (its ranges beyond one element: one)."""
    if sum(n > 1 for n in shape) > 1:
        raise lw.error(ModelError, f"{what} in {lw.owner!r} fills "
                       f"{sum(n > 1 for n in shape)} subscript ranges at once; a data "
                       "table has one row (or column) per element of one range",
                       "define the variable by parts, one equation per element of the "
                       "other ranges")
    return math.prod(shape)


def _mode(lw: Lowerer, component: Any) -> LookupMode:
    tree, keyword = component.ast, getattr(component, "keyword", None)
    if tree is None or isinstance(tree, ae.DataStructure):
        raise lw.unsupported(
            "a data variable with no equation (its values would come from a data "
            "file given to Vensim at run time)",
            "give it an equation, e.g. := GET DIRECT DATA('file.csv', ',', 'A', 'B2')")
    if keyword not in _MODES:
        raise lw.unsupported(f"the data keyword :{str(keyword).upper()}:",
                             "use :INTERPOLATE:, :HOLD BACKWARD: or :LOOK FORWARD:")
    if not isinstance(tree, ae.GetDataStructure):
        raise lw.unsupported("a data equation other than GET XLS/DIRECT DATA")
    return _MODES[keyword]


def _filled(lw: Lowerer, what: str, xs: np.ndarray, ys: np.ndarray, mode: LookupMode,
            cell: str) -> np.ndarray:
    """Empty cells (missing values) filled from the element's other values as its mode
    reads them, which is what leaving them out of the element's table would give."""
    ys = ys.copy()
    for k in range(ys.shape[1]):
        missing = np.isnan(ys[:, k])
        if not missing.any():
            continue
        if missing.all():
            shape = tuple(len(a.elements) for a in lw.context)
            at = np.unravel_index(k, shape) if shape else ()
            names = [a.elements[i] for a, i in zip(lw.context, at, strict=True)]
            raise lw.error(external.ExternalError, f"{what} in {lw.owner!r}: every value "
                           f"of element {k + 1} ({', '.join(names) or 'the only one'}) "
                           f"from {cell!r} on is empty", "the file has a row (or column) "
                           "of values per element of the subscripts, from the cell on; "
                           "check the cell and the subscripts")
        xr, yr = xs[~missing], ys[~missing, k]
        x = xs[missing]
        if mode is LookupMode.BACKWARD:
            ys[missing, k] = yr[np.clip(np.searchsorted(xr, x, "right") - 1, 0, len(xr) - 1)]
        elif mode is LookupMode.FORWARD:
            ys[missing, k] = yr[np.clip(np.searchsorted(xr, x, "left"), 0, len(xr) - 1)]
        else:
            ys[missing, k] = np.interp(x, xr, yr)
    return ys


def _add_table(lw: Lowerer, var: Any, xs: np.ndarray, ys: np.ndarray, mode: LookupMode
               ) -> str:
    table_id = f"_tbl{len(lw.tables)}"
    lw.tables[table_id] = (np.asarray(xs, float), np.asarray(ys, float), mode)
    _switch(lw, var, xs)
    return table_id


def _switch(lw: Lowerer, var: Any, xs: np.ndarray) -> None:
    if len(xs) <= MAX_SWITCHES:
        lw.switches.append(Switch(var.name, [num(float(x)) for x in xs]))


def data_table(lw: Lowerer, key: str) -> str:
    """The table of the scalar data variable ``key`` (built once, whoever asks first)."""
    tables = _TABLES.setdefault(lw, {})
    if key in tables:
        return tables[key]
    element, var = lw.elements[key]
    component = element.components[0]
    owner, lw._owner_var = lw._owner_var, var
    try:
        mode = _mode(lw, component)
        tree = component.ast
        xs, ys = _read(lw, "GET DATA", external.series, tree.file, tree.tab,
                       tree.time_row_or_col, tree.cell)
    finally:
        lw._owner_var = owner
    tables[key] = _add_table(lw, var, np.asarray(xs), np.asarray(ys), mode)
    return tables[key]


def get_data(lw: Lowerer, tree: ae.GetDataStructure) -> ir.Expr:
    """A data variable's value: its table read at Time."""
    found = lw.elements.get(clean_key(lw.owner)) if lw.scope is None else None
    component = next((c for c in found[0].components if c.ast is tree), None) \
        if found else None
    if component is None or not isinstance(component, am.AbstractData):
        raise lw.unsupported("GET DATA inside an expression or a macro",
                             "GET XLS/DIRECT DATA must be the whole equation of a data "
                             "variable (name := GET DIRECT DATA(...))")
    if not lw.nodes[found[1].node].axes:  # type: ignore[index]
        table = data_table(lw, clean_key(lw.owner))
        mode = lw.tables[table][2]
        return ir.Lookup(table, ir.Time(_clock(mode)), mode)
    return _array_data(lw, component, found[1])  # type: ignore[index]


def _clock(mode: LookupMode) -> Clock:
    # held data jump at the data times: read at the step's start (Time itself with
    # euler; inside the segment for adaptive methods, so no step straddles a jump)
    return Clock.TIME if mode is LookupMode.INTERPOLATE else Clock.STEP_START


def _array_data(lw: Lowerer, component: Any, var: Any) -> ir.Expr:
    """One equation of a subscripted data variable: a row (or column) of the file per
    element of its left-hand side's range, read at Time."""
    mode, tree = _mode(lw, component), component.ast
    shape = tuple(len(a.elements) for a in lw.context)
    size = _one_range(lw, "GET DATA", shape)
    xs, ys = _read(lw, "GET DATA", external.series_block, tree.file, tree.tab,
                   tree.time_row_or_col, tree.cell, size)
    ys = _filled(lw, "GET DATA", xs, ys, mode, tree.cell)
    if not shape:  # one element
        return ir.Lookup(_add_table(lw, var, xs, ys[:, 0], mode), ir.Time(_clock(mode)),
                         mode)
    _switch(lw, var, xs)
    names = tuple(a.name for a in lw.context)
    xp = lw.constant_array(xs, (ir.POINTS,))
    fp = lw.constant_array(np.moveaxis(ys, 0, -1).reshape((*shape, len(xs))),
                           (*names, ir.POINTS))
    return ir.TableLookup(ir.Time(_clock(mode)), xp, fp, mode)


def _data_argument(lw: Lowerer, fname: str, raw_args: list[Any], n: int) -> str:
    if len(raw_args) != n:
        raise lw.error(ModelError, f"{fname} in {lw.owner!r} takes {n} argument(s), got "
                       f"{len(raw_args)}")
    first = raw_args[0]
    key = clean_key(first.reference) if isinstance(first, ae.ReferenceStructure) else None
    found = lw.elements.get(key) if key else None
    if found is None or type(found[0].components[0]).__name__ != "AbstractData":
        raise lw.unsupported(f"{fname} of something other than a data variable")
    if lw.nodes[found[1].node].axes:  # type: ignore[index]
        raise lw.unsupported(f"{fname} of a subscripted data variable")
    return data_table(lw, key)  # type: ignore[arg-type]


def data_at_time(lw: Lowerer, entry: Function, fname: str, raw_args: list[Any]) -> ir.Expr:
    table = _data_argument(lw, "GET DATA AT TIME", raw_args, 2)
    return ir.Lookup(table, lw.lower(raw_args[1]), lw.tables[table][2])


def data_first_time(lw: Lowerer, entry: Function, fname: str, raw_args: list[Any]
                    ) -> ir.Expr:
    return num(lw.tables[_data_argument(lw, "GET DATA FIRST TIME", raw_args, 1)][0][0])


def data_last_time(lw: Lowerer, entry: Function, fname: str, raw_args: list[Any]
                   ) -> ir.Expr:
    return num(lw.tables[_data_argument(lw, "GET DATA LAST TIME", raw_args, 1)][0][-1])


#: registry key -> lowering (``Lowering.SPECIAL``)
CALLS = {"get_data_at_time": data_at_time, "get_data_first_time": data_first_time,
         "get_data_last_time": data_last_time}
#: PySD's structure -> its builder
BUILDERS: dict[type, Any] = {ae.GetDataStructure: get_data,
                             ae.GetConstantsStructure: get_constants}
