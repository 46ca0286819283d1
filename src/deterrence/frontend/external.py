"""External data files (GET XLS/DIRECT DATA, CONSTANTS, LOOKUPS), read once at load time.

A cell argument is a first cell ('B2') or, in a spreadsheet, a named range of the
workbook or of the sheet (Excel's "defined names"; a name's size must be the size the
subscripts need). GET CONSTANTS reads a row per element of a one-range value and a
table (rows: the first range) for two; a trailing ``*`` ('B2*') reads it transposed.
GET DATA and LOOKUPS read one row (or column) of values per element, beside the times.

Only cell values are read, never a formula evaluated nor anything of the file executed:
``.xlsx``/``.xlsm`` with openpyxl (``data_only``: the values Excel saved), ``.xls`` (the
old binary format) with xlrd, ``.csv``, ``.tab`` and ``.txt`` with the csv module (GET
DIRECT's "tab" argument is then the delimiter, e.g. ',' or '\\t'). PySD's own
external-data code is not used. Paths are relative to the model's folder and must stay
inside it (a model file is data and may be hostile: it cannot make the engine read files
elsewhere). Every error names the file, the sheet and the cell.
"""

from __future__ import annotations

import csv
import itertools
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import ModelError

SPREADSHEETS = (".xlsx", ".xlsm")
OLD_EXCEL = (".xls",)  # the binary format of Excel 97-2003, read with xlrd
TEXT = (".csv", ".tab", ".txt")
_CELL = re.compile(r"^\s*([A-Za-z]{1,3})\s*([1-9][0-9]{0,6})\s*$")
_RANGE = re.compile(r"^\$?([A-Za-z]{1,3})\$?([1-9][0-9]{0,6})"
                    r"(?::\$?([A-Za-z]{1,3})\$?([1-9][0-9]{0,6}))?$")
#: (first row, first column, rows, columns) of a block of cells, 0-based
Region = tuple[int, int, int, int]


class ExternalError(ModelError):
    """An external data file, sheet or cell that cannot be read as the model says."""


@dataclass(frozen=True)
class Sheet:
    """The cells of one sheet: ``cells[row][col]`` (0-based), None where empty."""

    path: Path
    name: str
    cells: tuple[tuple[object, ...], ...]
    #: the named ranges it can read: (lower-case name, its sheet, its cells 'A1:B2')
    names: tuple[tuple[str, str, str], ...] = ()

    def get(self, row: int, col: int) -> object:
        if row < len(self.cells) and col < len(self.cells[row]):
            value = self.cells[row][col]
            return None if value is None or (isinstance(value, str) and not value.strip()) \
                else value
        return None

    def where(self, row: int, col: int) -> str:
        return f"{self.path.name}, sheet {self.name!r}, cell {cell_name(row, col)}"

    def number(self, row: int, col: int) -> float:
        value = self.get(row, col)
        if value is None:
            raise ExternalError(f"{self.where(row, col)} is empty; a number was expected",
                                path=self.path)
        return to_number(value, self.where(row, col), self.path)

    def region(self, ref: str) -> Region | None:
        """A named range's cells; None if ``ref`` is a cell such as 'B2'."""
        if _CELL.match(ref):
            return None
        found = [(sheet, cells) for name, sheet, cells in self.names
                 if name == ref.strip().lower()]
        if not found:
            raise ExternalError(
                f"{ref!r} is neither a cell such as 'B2' nor a named range of "
                f"{self.path.name}, sheet {self.name!r}", path=self.path,
                hint="give the first cell, e.g. 'B2', or define the name in the workbook")
        sheet, cells = found[0]
        match = _RANGE.match(cells.strip())
        if sheet.lower() != self.name.lower() or match is None:
            raise ExternalError(f"the named range {ref!r} of {self.path.name} is {sheet}!"
                                f"{cells}, not a block of cells of sheet {self.name!r}",
                                path=self.path)
        first = parse_cell(match.group(1) + match.group(2), self.path)
        last = parse_cell((match.group(3) or match.group(1))
                          + (match.group(4) or match.group(2)), self.path)
        return (min(first[0], last[0]), min(first[1], last[1]),
                abs(last[0] - first[0]) + 1, abs(last[1] - first[1]) + 1)

    def numbers(self, region: Region, what: str) -> np.ndarray:
        """The numbers of a block of cells; an empty or a text cell is an error naming
        it, and the block (``what`` says why it has that size)."""
        row, col, rows, cols = region
        out = np.empty((rows, cols))
        for i, j in itertools.product(range(rows), range(cols)):
            if self.get(row + i, col + j) is None:
                raise ExternalError(
                    f"{self.where(row + i, col + j)} is empty; {what} reads {rows}x{cols} "
                    f"cells from {cell_name(row, col)}, and each must hold a number",
                    path=self.path, hint="fill the cells, or check the cell and the "
                    "subscripts of the equation")
            out[i, j] = self.number(row + i, col + j)
        return out


def to_number(value: object, where: str, path: Path) -> float:
    if isinstance(value, bool):
        raise ExternalError(f"{where} holds {value!r}, not a number", path=path)
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        raise ExternalError(f"{where} holds {text[:40]!r}, not a number", path=path,
                            hint="the cells a GET function reads must hold numbers") from None


def cell_name(row: int, col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"


def parse_cell(text: str, path: Path) -> tuple[int, int]:
    """'B2' -> (1, 1), 0-based (named ranges: :meth:`Sheet.region`)."""
    match = _CELL.match(str(text))
    if match is None:
        raise ExternalError(f"{text!r} is not a cell such as 'B2'", path=path,
                            hint="give the first cell, e.g. 'B2'")
    col = 0
    for ch in match.group(1).upper():
        col = col * 26 + ord(ch) - 64
    return int(match.group(2)) - 1, col - 1


def resolve(model_path: Path, file: str) -> Path:
    """The file named by the model, relative to the model's folder and inside it."""
    folder = Path(model_path).resolve().parent
    name = str(file).strip().strip("'\"")
    if not name:
        raise ExternalError("an external data function names no file", path=model_path)
    target = (folder / name).resolve()
    if folder != target and folder not in target.parents:
        raise ExternalError(f"the data file {name!r} is outside the model's folder "
                            f"{folder}", path=model_path,
                            hint="copy the file into the model's folder (a model may not "
                            "make the engine read files elsewhere)")
    if not target.is_file():
        raise ExternalError(f"the data file {name!r} does not exist (looked for {target})",
                            path=model_path, hint="put the file next to the model")
    return target


@lru_cache(maxsize=64)
def _workbook_sheet(path: Path, mtime: float, sheet: str) -> Sheet:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a corrupt or non-spreadsheet file
        raise ExternalError(f"cannot read the spreadsheet {path.name}: {exc}",
                            path=path) from None
    try:
        found = [s for s in book.sheetnames if s == sheet] or [
            s for s in book.sheetnames if s.lower() == sheet.lower()]  # Vensim ignores case
        if not found:
            raise ExternalError(f"{path.name} has no sheet {sheet!r} (it has "
                                + ", ".join(repr(s) for s in book.sheetnames) + ")",
                                path=path)
        ws = book[found[0]]
        rows = tuple(tuple(r) for r in ws.iter_rows(values_only=True))
        names = []
        for scope in (getattr(ws, "defined_names", {}), book.defined_names):
            for name, defined in scope.items():
                try:
                    names += [(name.lower(), s, c) for s, c in defined.destinations]
                except (AttributeError, TypeError, ValueError):
                    continue  # a name that is a formula or a constant, not cells
    finally:
        book.close()
    return Sheet(path, found[0], rows, tuple(names))


@lru_cache(maxsize=64)
def _xls_sheet(path: Path, mtime: float, sheet: str) -> Sheet:
    """A sheet of an ``.xls`` file (xlrd reads the cells' saved values; no formula is
    evaluated, no macro run). Its named ranges of one block of cells are kept."""
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), on_demand=True)
    except Exception as exc:  # a corrupt or non-spreadsheet file
        raise ExternalError(f"cannot read the spreadsheet {path.name}: {exc}",
                            path=path) from None
    try:
        names_of = book.sheet_names()
        found = [s for s in names_of if s == sheet] or [
            s for s in names_of if s.lower() == sheet.lower()]
        if not found:
            raise ExternalError(f"{path.name} has no sheet {sheet!r} (it has "
                                + ", ".join(repr(s) for s in names_of) + ")", path=path)
        ws = book.sheet_by_name(found[0])
        text = {xlrd.XL_CELL_TEXT, xlrd.XL_CELL_NUMBER, xlrd.XL_CELL_DATE,
                xlrd.XL_CELL_BOOLEAN}
        rows = tuple(tuple(
            (bool(c.value) if c.ctype == xlrd.XL_CELL_BOOLEAN else c.value)
            if c.ctype in text else xlrd.error_text_from_code.get(c.value, "#ERROR")
            if c.ctype == xlrd.XL_CELL_ERROR else None for c in ws.row(r))
            for r in range(ws.nrows))
        names = []
        for name in book.name_obj_list:
            try:
                target, r0, r1, c0, c1 = name.area2d()
            except Exception:  # a formula or a constant, not one block of cells
                continue
            names.append((name.name.lower(), target.name,
                          f"{cell_name(r0, c0)}:{cell_name(r1 - 1, c1 - 1)}"))
    finally:
        book.release_resources()
    return Sheet(path, found[0], rows, tuple(names))


@lru_cache(maxsize=64)
def _text_sheet(path: Path, mtime: float, delimiter: str) -> Sheet:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = tuple(tuple(r) for r in csv.reader(handle, delimiter=delimiter))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ExternalError(f"cannot read {path.name}: {exc}", path=path) from None
    return Sheet(path, f"delimiter {delimiter!r}", rows)


def sheet(model_path: Path, file: str, tab: str) -> Sheet:
    """The sheet ``tab`` of ``file`` (for text files, ``tab`` is the delimiter)."""
    path = resolve(model_path, file)
    suffix = path.suffix.lower()
    if suffix in SPREADSHEETS:
        return _workbook_sheet(path, path.stat().st_mtime, str(tab))
    if suffix in OLD_EXCEL:
        return _xls_sheet(path, path.stat().st_mtime, str(tab))
    if suffix in TEXT:
        delimiter = {"\\t": "\t", "tab": "\t", "": ","}.get(str(tab).lower(), str(tab))
        if len(delimiter) != 1:
            raise ExternalError(f"{tab!r} is not a delimiter for {path.name}", path=path,
                                hint="for a .csv or .tab file, give ',' or '\\t'")
        return _text_sheet(path, path.stat().st_mtime, delimiter)
    raise ExternalError(f"{path.name}: unknown data file type {path.suffix!r}", path=path,
                        hint="expected " + ", ".join(SPREADSHEETS + OLD_EXCEL + TEXT))


def constant(model_path: Path, file: str, tab: str, cell: str) -> float:
    return float(constants(model_path, file, tab, cell, ())[()])


def constants(model_path: Path, file: str, tab: str, cell: str, shape: tuple[int, ...]
              ) -> np.ndarray:
    """GET CONSTANTS of a value of ``shape`` (its ranges' sizes): a row of cells for one
    range, a table for two (rows: the first), read as a column or transposed if the
    cell ends with ``*`` (as Vensim and PySD)."""
    data = sheet(model_path, file, tab)
    text = str(cell).strip()
    transpose = text.endswith("*") and math.prod(shape) > 1
    text = text.rstrip("*").strip()
    big = [n for n in shape if n > 1]
    if len(big) > 2:
        raise ExternalError(f"GET CONSTANTS at {text!r} fills {len(big)} subscript ranges "
                            "at once; a sheet is a table of two", path=data.path,
                            hint="define the variable by parts of at most two ranges")
    table = [1] * (2 - len(big)) + big
    if transpose:
        table.reverse()
    region = data.region(text)
    what = "GET CONSTANTS" + (" (transposed, '*')" if transpose else "")
    if region is None:
        region = (*parse_cell(text, data.path), *table)
    elif list(region[2:]) != table:
        raise ExternalError(
            f"the named range {text!r} of {data.path.name} has {region[2]}x{region[3]} "
            f"cells, but the subscripts need {table[0]}x{table[1]}" + (
                " (transposed, '*')" if transpose else ""), path=data.path,
            hint="make the range as large as the subscripts, or check the equation's "
            "subscripts")
    values = data.numbers(region, what)
    return (values.T if transpose else values).reshape(shape)


def subscript_elements(model_path: Path, file: str, tab: str, first: str, last: str,
                       prefix: str) -> list[str]:
    """GET XLS/DIRECT SUBSCRIPT: the element names in the cells from ``first`` to
    ``last`` (a cell; a row number or a column letter: to the end of the other
    direction; empty: to the end of the sheet), or in the named range ``first``, read
    row by row, empty cells skipped, each after ``prefix`` (as PySD reads them)."""
    data = sheet(model_path, file, tab)
    first, last = str(first).strip(), str(last or "").strip()
    region = data.region(first)
    if region is None:
        row, col = parse_cell(first, data.path)
        end_row = len(data.cells) - 1
        end_col = max((len(r) for r in data.cells), default=0) - 1
        if _CELL.match(last):
            end_row, end_col = parse_cell(last, data.path)
        elif last.isdigit():
            end_row = int(last) - 1
        elif re.fullmatch(r"[A-Za-z]{1,3}", last):
            end_col = parse_cell(last + "1", data.path)[1]
        elif last:
            raise ExternalError(f"{last!r} is not a last cell, row number or column letter",
                                path=data.path, hint="e.g. 'D3', '3' or 'D'")
        region = (row, col, end_row - row + 1, end_col - col + 1)
    row, col, rows, cols = region
    values = [data.get(row + i, col + j) for i in range(max(rows, 0))
              for j in range(max(cols, 0))]
    names = [str(prefix or "") + _element_text(v) for v in values if v is not None]
    if not names:
        raise ExternalError(f"no element names in {data.where(row, col)} to "
                            f"{cell_name(row + max(rows, 1) - 1, col + max(cols, 1) - 1)}",
                            path=data.path, hint="check the first and last cells")
    return names


def _element_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def series(model_path: Path, file: str, tab: str, axis: str, cell: str
           ) -> tuple[list[float], list[float]]:
    """(x, y) of a scalar GET ... DATA/LOOKUPS; an empty y cell is a missing value
    (:NA:), left out."""
    xs, ys = series_block(model_path, file, tab, axis, cell, 1)
    keep = ~np.isnan(ys[:, 0])
    if not keep.any():
        raise ExternalError(f"no values at {cell!r} in {Path(file).name} (every cell "
                            "beside the x values is empty)", path=model_path)
    return xs[keep].tolist(), ys[keep, 0].tolist()


def series_block(model_path: Path, file: str, tab: str, axis: str, cell: str, size: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of GET ... DATA/LOOKUPS for ``size`` elements: the x values along row (a
    number) or column (a letter) ``axis``, from the first cell's column (or row) on,
    until an empty x cell, and ``size`` rows (columns) of y values from ``cell`` on, in
    parallel; or two named ranges. ``y`` is (points, size), NaN where a cell is empty."""
    data = sheet(model_path, file, tab)
    axis, text = str(axis).strip(), str(cell).strip()
    if axis.isdigit() and int(axis) >= 1:
        row, col = parse_cell(text, data.path)
        x_row = int(axis) - 1
        start = (x_row, col)
        stop = next(c for c in itertools.count(col) if data.get(x_row, c) is None)
        x_at = [(x_row, c) for c in range(col, stop)]
        y_at = [[(row + k, c) for k in range(size)] for c in range(col, stop)]
    elif re.fullmatch(r"[A-Za-z]{1,3}", axis):
        row, col = parse_cell(text, data.path)
        x_col = parse_cell(axis + "1", data.path)[1]
        start = (row, x_col)
        stop = next(r for r in itertools.count(row) if data.get(r, x_col) is None)
        x_at = [(r, x_col) for r in range(row, stop)]
        y_at = [[(r, col + k) for k in range(size)] for r in range(row, stop)]
    else:
        x_at, y_at = _named_series(data, axis, text, size)
        start = x_at[0]
    xs, ys = [], []
    for (xr, xc), cells in zip(x_at, y_at, strict=True):
        if data.get(xr, xc) is None:
            continue  # an empty cell in a named range of x values
        values = [(xr, xc, data.number(xr, xc))] + [
            (r, c, data.number(r, c)) for r, c in cells if data.get(r, c) is not None]
        bad = next(((r, c) for r, c, v in values if not math.isfinite(v)), None)
        if bad is not None:
            raise ExternalError(f"{data.where(*bad)} is not a finite number", path=data.path)
        xs.append(values[0][2])
        ys.append([math.nan if data.get(r, c) is None else data.number(r, c)
                   for r, c in cells])
    if not xs:
        raise ExternalError(f"no values at {text!r}: {data.where(*start)} (the x values "
                            f"along {axis!r}) is empty", path=data.path)
    if any(b <= a for a, b in itertools.pairwise(xs)):
        raise ExternalError(f"the x values along {axis!r} in {data.path.name} are not "
                            "increasing", path=data.path)
    return np.asarray(xs, dtype=float), np.asarray(ys, dtype=float).reshape(len(xs), size)


def _named_series(data: Sheet, axis: str, cell: str, size: int
                  ) -> tuple[list[tuple[int, int]], list[list[tuple[int, int]]]]:
    """The cells of x and y given as named ranges: x a row or a column, y beside it
    (one row or column per element, in the same direction)."""
    x_region, y_region = data.region(axis), data.region(cell)
    if x_region is None or y_region is None:
        raise ExternalError(f"the x values {axis!r} and the values {cell!r} must both be "
                            "named ranges, or a row number or column letter and a cell",
                            path=data.path)
    xr, xc, xrows, xcols = x_region
    if xrows > 1 and xcols > 1:
        raise ExternalError(f"the named range {axis!r} of {data.path.name} is a table "
                            f"({xrows}x{xcols}), not a row or a column of x values",
                            path=data.path)
    across = xrows == 1 and xcols > 1  # x values along a row: one row per element
    n = max(xrows, xcols)
    need = (size, n) if across else (n, size)
    yr, yc, yrows, ycols = y_region
    if (yrows, ycols) != need:
        raise ExternalError(
            f"the named range {cell!r} of {data.path.name} has {yrows}x{ycols} cells, but "
            f"{n} x values ({axis!r}) and {size} element(s) need {need[0]}x{need[1]}",
            path=data.path, hint="make the range as large as the subscripts and the x "
            "values, or check the equation's subscripts")
    if across:
        return ([(xr, xc + i) for i in range(n)],
                [[(yr + k, yc + i) for k in range(size)] for i in range(n)])
    return ([(xr + i, xc) for i in range(n)],
            [[(yr + i, yc + k) for k in range(size)] for i in range(n)])
