"""Compare simulation results with Vensim's own output tables.

Vensim exports a table (``.tab``, tab-separated, or ``.csv``) with ``Time`` and one column
per variable. :func:`compare` matches its columns to a Dataset's variables by Vensim
name (case- and space-insensitive) and checks every saved time against
``|actual - expected| <= atol + rtol * |expected|``. The SDXorg test-models suite ships
such tables beside each model; :func:`find_cases` lists them for the conformance tests.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..names import clean_key

MODEL_SUFFIXES = (".mdl", ".xmile")


@dataclass
class Mismatch:
    column: str
    time: float
    expected: float
    actual: float


@dataclass
class Comparison:
    """Outcome of one comparison: columns checked, columns missing, worst mismatches."""

    checked: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)
    times_missing: list[float] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.mismatches or self.times_missing) and bool(self.checked)

    def summary(self, limit: int = 5) -> str:
        if self.ok:
            return f"{len(self.checked)} columns match"
        parts = []
        if not self.checked:
            parts.append("no column of the table matched a variable")
        if self.missing:
            parts.append("missing columns: " + ", ".join(self.missing[:limit]))
        if self.times_missing:
            parts.append(f"{len(self.times_missing)} table times not simulated "
                         f"(first {self.times_missing[0]:g})")
        seen: set[str] = set()
        for m in self.mismatches:
            if m.column in seen or len(seen) >= limit:
                continue
            seen.add(m.column)
            parts.append(f"{m.column!r} at time {m.time:g}: expected {m.expected:.6g}, "
                         f"got {m.actual:.6g}")
        return "; ".join(parts)


def read_vensim_table(path: str | Path) -> pd.DataFrame:
    """Read a Vensim output table into a frame indexed by time."""
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:  # Vensim on Windows writes Latin-1
        text = raw.decode("latin-1")
    lines = [ln for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
             if ln.strip()]
    sep = "\t" if "\t" in lines[0] else ","
    frame = pd.read_csv(io.StringIO("\n".join(lines)), sep=sep, dtype=str)
    first = str(frame.columns[0]).strip()
    if first.lower() != "time":  # "time across" layout: variables in rows
        frame = frame.set_index(frame.columns[0]).T.reset_index()
        frame = frame.rename(columns={"index": "Time"})
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.rename(columns={frame.columns[0]: "Time"})
    numbers = frame.apply(lambda col: pd.to_numeric(col.astype(str).str.strip(),
                                                    errors="coerce"))
    return numbers.set_index("Time").sort_index()


def compare(ds: xr.Dataset, expected: pd.DataFrame, rtol: float = 1e-5,
            atol: float = 1e-5) -> Comparison:
    """Check each table column against the Dataset at the table's times."""
    result = Comparison()
    by_key = {clean_key(str(da.attrs.get("vensim_name", name))): name
              for name, da in ds.data_vars.items()}
    times = ds["time"].values
    wanted = expected.index.to_numpy(dtype=float)
    # tables print about six significant digits, so match each row to the nearest
    # simulated time within a fraction of the save interval
    spacing = np.min(np.diff(times)) if len(times) > 1 else 1.0
    index = np.clip(np.searchsorted(times, wanted), 0, len(times) - 1)
    lower = np.clip(index - 1, 0, len(times) - 1)
    index = np.where(np.abs(times[lower] - wanted) < np.abs(times[index] - wanted),
                     lower, index)
    found = np.abs(times[index] - wanted) <= max(1e-9, 0.01 * spacing)
    result.times_missing = [float(t) for t in wanted[~found]]
    for column in expected.columns:
        da = _column(ds, by_key, column)
        if da is None:
            result.missing.append(column)
            continue
        result.checked.append(column)
        actual = (da.values[index] if "time" in da.dims
                  else np.broadcast_to(da.values, wanted.shape))
        exp = expected[column].to_numpy(dtype=float)
        valid = found & ~np.isnan(exp)
        bad = valid & ~(np.abs(actual - exp) <= atol + rtol * np.abs(exp))
        result.mismatches += [Mismatch(column, float(wanted[i]), float(exp[i]),
                                       float(actual[i])) for i in np.flatnonzero(bad)]
    return result


_SUBSCRIPTED = re.compile(r"^(?P<name>[^\[]+)\[(?P<elements>[^\]]*)\]$")


def _column(ds: xr.Dataset, by_key: dict[str, Any], column: str) -> xr.DataArray | None:
    """The Dataset's values for a table column: ``name`` or ``name[e1,e2]`` (Vensim's
    names of the elements of a subscripted variable, in the order of its subscripts)."""
    name = by_key.get(clean_key(column))
    if name is not None:
        return ds[name]
    match = _SUBSCRIPTED.match(column.strip())
    if match is None:
        return None
    name = by_key.get(clean_key(match["name"]))
    if name is None:
        return None
    da = ds[name]
    axes = [d for d in da.dims if d not in ("time", "run")]
    wanted = [clean_key(e) for e in match["elements"].split(",")]
    if len(wanted) != len(axes):
        return None
    pick = {}
    for dim, element in zip(axes, wanted, strict=True):
        keys = [clean_key(str(c)) for c in da[dim].values]
        if element not in keys:
            return None
        pick[dim] = keys.index(element)
    return da.isel(pick)


@dataclass(frozen=True)
class Case:
    """One model of the test suite with the table Vensim produced for it."""

    name: str  # folder/model-file
    model: Path
    expected: Path


def find_cases(root: str | Path) -> Iterator[Case]:
    """Every Vensim and XMILE model under ``root`` that has an output table beside it."""
    root = Path(root)
    for folder in sorted(p for p in root.glob("*/*") if p.is_dir()):
        tables = [folder / n for n in ("output.tab", "output.csv") if (folder / n).exists()]
        if not tables:
            continue
        for model in sorted(folder.iterdir()):
            if model.suffix.lower() in MODEL_SUFFIXES:
                yield Case(f"{folder.relative_to(root)}/{model.name}", model, tables[0])

