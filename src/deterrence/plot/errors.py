"""The plots' input errors, and the wording their messages share.

Each message says what the results do hold (variables, dimensions, labels), so a typo
is fixed without opening the file.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from pathlib import Path

import xarray as xr

from ..errors import ModelError


class PlotInputError(ModelError, ValueError):
    """Input the plots cannot use; the message says what the results do hold.

    A :class:`~deterrence.errors.ModelError` (one line on the command line) and, as
    before, a ``ValueError``.
    """


class _PlotLookupError(PlotInputError, KeyError):
    """Also a KeyError, so ``except KeyError`` callers work; printed without quotes."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class VariableNotFoundError(_PlotLookupError):
    """A named variable is not in the results."""


class DimensionNotFoundError(_PlotLookupError):
    """A named dimension is not in the results."""


class LabelNotFoundError(_PlotLookupError):
    """A label (e.g. the baseline) is not along the chosen dimension."""


class MissingRunDimensionError(PlotInputError):
    """A fan chart was asked of results without ensemble members."""


def source_of(ds: xr.Dataset) -> str:
    """The file the Dataset came from, for error messages."""
    src = ds.encoding.get("source")
    return Path(src).name if src else "the results"


def dims_text(ds: xr.Dataset) -> str:
    """Every dimension with its size, so a message shows what there is to choose."""
    return ", ".join(f"{d} ({n})" for d, n in ds.sizes.items()) or "(none)"


def names_text(names: Iterable[Hashable]) -> str:
    """Names joined for a message; ``(none)`` rather than an empty list."""
    listed = ", ".join(str(n) for n in names)
    return listed or "(none)"
