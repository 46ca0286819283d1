"""Data variables and external data: GET XLS/DIRECT DATA, CONSTANTS and LOOKUPS, and
GET DATA AT TIME / FIRST TIME / LAST TIME.

The files are read once, when the model is compiled (:mod:`..frontend.external`); a data
variable becomes a table of (time, value) read at Time, as its keyword says:
``:INTERPOLATE:`` (the default; the first and last values hold outside the data),
``:HOLD BACKWARD:`` (the last value at or before Time), ``:LOOK FORWARD:`` (the first at
or after). ``:RAW:`` and data with no equation (values from a run's data file, as
Vensim's .vdf) are refused. Adaptive methods integrate between the data times.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import numpy as np
from pysd.translators.structures import abstract_expressions as ae

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
    if not isinstance(tree.cell, str) or ":" in tree.cell or "*" in tree.cell:
        raise lw.unsupported("GET CONSTANTS of a range of cells (a subscripted constant)")
    return float(_read(lw, "GET CONSTANTS", external.constant, tree.file, tree.tab,
                       tree.cell))


def lookup_points(lw: Lowerer, tree: ae.GetLookupsStructure) -> tuple[np.ndarray, np.ndarray]:
    """GET XLS/DIRECT LOOKUPS: the table's points."""
    xs, ys = _read(lw, "GET LOOKUPS", external.series, tree.file, tree.tab,
                   tree.x_row_or_col, tree.cell)
    return np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)


def data_table(lw: Lowerer, key: str) -> str:
    """The table of the data variable ``key`` (built once, whoever asks first)."""
    tables = _TABLES.setdefault(lw, {})
    if key in tables:
        return tables[key]
    element, var = lw.elements[key]
    component = element.components[0]
    tree, keyword = component.ast, getattr(component, "keyword", None)
    owner, lw._owner_var = lw._owner_var, var
    try:
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
        xs, ys = _read(lw, "GET DATA", external.series, tree.file, tree.tab,
                       tree.time_row_or_col, tree.cell)
    finally:
        lw._owner_var = owner
    table_id = f"_tbl{len(lw.tables)}"
    lw.tables[table_id] = (np.asarray(xs, float), np.asarray(ys, float), _MODES[keyword])
    tables[key] = table_id
    if len(xs) <= MAX_SWITCHES:
        lw.switches.append(Switch(var.name, [num(x) for x in xs]))
    return table_id


def get_data(lw: Lowerer, tree: ae.GetDataStructure) -> ir.Expr:
    """A data variable's value: its table read at Time."""
    key = clean_key(lw.owner)
    if key not in lw.elements or lw.scope is not None:
        raise lw.unsupported("GET DATA inside an expression or a macro",
                             "GET XLS/DIRECT DATA must be the whole equation of a data "
                             "variable (name := GET DIRECT DATA(...))")
    table = data_table(lw, key)
    mode = lw.tables[table][2]
    # held data jump at the data times: read at the step's start (Time itself with
    # euler; inside the segment for adaptive methods, so no step straddles a jump)
    clock = Clock.TIME if mode is LookupMode.INTERPOLATE else Clock.STEP_START
    return ir.Lookup(table, ir.Time(clock), mode)


def _data_argument(lw: Lowerer, fname: str, raw_args: list[Any], n: int) -> str:
    if len(raw_args) != n:
        raise lw.error(ModelError, f"{fname} in {lw.owner!r} takes {n} argument(s), got "
                       f"{len(raw_args)}")
    first = raw_args[0]
    key = clean_key(first.reference) if isinstance(first, ae.ReferenceStructure) else None
    found = lw.elements.get(key) if key else None
    if found is None or type(found[0].components[0]).__name__ != "AbstractData":
        raise lw.unsupported(f"{fname} of something other than a data variable")
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
BUILDERS: dict[type, Any] = {ae.GetDataStructure: get_data}
