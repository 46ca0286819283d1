"""External data files (GET XLS/DIRECT DATA, CONSTANTS, LOOKUPS), read once at load time.

Only cell values are read, never a formula evaluated nor anything of the file executed:
``.xlsx``/``.xlsm`` with openpyxl (``data_only``: the values Excel saved), ``.csv``,
``.tab`` and ``.txt`` with the csv module (GET DIRECT's "tab" argument is then the
delimiter, e.g. ',' or '\\t'). PySD's own external-data code is not used. Paths are
relative to the model's folder and must stay inside it (a model file is data and may
be hostile: it cannot make the engine read files elsewhere). Every error names the file,
the sheet and the cell.
"""

from __future__ import annotations

import csv
import itertools
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import ModelError

SPREADSHEETS = (".xlsx", ".xlsm")
TEXT = (".csv", ".tab", ".txt")
_CELL = re.compile(r"^\s*([A-Za-z]{1,3})\s*([1-9][0-9]{0,6})\s*$")


class ExternalError(ModelError):
    """An external data file, sheet or cell that cannot be read as the model says."""


@dataclass(frozen=True)
class Sheet:
    """The cells of one sheet: ``cells[row][col]`` (0-based), None where empty."""

    path: Path
    name: str
    cells: tuple[tuple[object, ...], ...]

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
    """'B2' -> (1, 1), 0-based; named ranges are refused."""
    match = _CELL.match(str(text))
    if match is None:
        raise ExternalError(f"{text!r} is not a cell such as 'B2' (named ranges are not "
                            "read)", path=path, hint="give the first cell, e.g. 'B2'")
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
        if sheet not in book.sheetnames:
            raise ExternalError(f"{path.name} has no sheet {sheet!r} (it has "
                                + ", ".join(repr(s) for s in book.sheetnames) + ")",
                                path=path)
        rows = tuple(tuple(r) for r in book[sheet].iter_rows(values_only=True))
    finally:
        book.close()
    return Sheet(path, sheet, rows)


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
    if suffix in TEXT:
        delimiter = {"\\t": "\t", "tab": "\t", "": ","}.get(str(tab).lower(), str(tab))
        if len(delimiter) != 1:
            raise ExternalError(f"{tab!r} is not a delimiter for {path.name}", path=path,
                                hint="for a .csv or .tab file, give ',' or '\\t'")
        return _text_sheet(path, path.stat().st_mtime, delimiter)
    raise ExternalError(f"{path.name}: unknown data file type {path.suffix!r}", path=path,
                        hint="expected " + ", ".join(SPREADSHEETS + TEXT))


def constant(model_path: Path, file: str, tab: str, cell: str) -> float:
    data = sheet(model_path, file, tab)
    return data.number(*parse_cell(cell, data.path))


def series(model_path: Path, file: str, tab: str, axis: str, cell: str
           ) -> tuple[list[float], list[float]]:
    """(x, y) of GET ... DATA/LOOKUPS: the x values along row (a number) or column (a
    letter) ``axis``, from the first cell's column (or row) on, until an empty x cell;
    the y values from ``cell`` on, in parallel. An empty y cell is a missing value (:NA:),
    left out."""
    data = sheet(model_path, file, tab)
    row, col = parse_cell(cell, data.path)
    axis = str(axis).strip()
    if axis.isdigit() and int(axis) >= 1:
        x_at = [(int(axis) - 1, c) for c in range(col, col + 100_000)]
        y_at = [(row, c) for c in range(col, col + 100_000)]
    elif re.fullmatch(r"[A-Za-z]{1,3}", axis):
        x_col = parse_cell(axis + "1", data.path)[1]
        x_at = [(r, x_col) for r in range(row, row + 1_000_000)]
        y_at = [(r, col) for r in range(row, row + 1_000_000)]
    else:
        raise ExternalError(f"{axis!r} is neither a row number nor a column letter",
                            path=data.path, hint="e.g. '1' (times in row 1) or 'A'")
    xs: list[float] = []
    ys: list[float] = []
    for (xr, xc), (yr, yc) in zip(x_at, y_at, strict=True):
        if data.get(xr, xc) is None:
            break
        x = data.number(xr, xc)
        if data.get(yr, yc) is None:
            continue  # a missing value
        y = data.number(yr, yc)
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ExternalError(f"{data.where(yr, yc)} is not finite", path=data.path)
        xs.append(x)
        ys.append(y)
    if not xs:
        raise ExternalError(f"no values at {data.where(row, col)} (the x values along "
                            f"{axis!r} start empty)", path=data.path)
    if any(b <= a for a, b in itertools.pairwise(xs)):
        raise ExternalError(f"the x values along {axis!r} in {data.path.name} are not "
                            "increasing", path=data.path)
    return xs, ys
