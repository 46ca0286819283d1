"""Writing a figure: atomically, so a reader never finds half an image."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..files import atomic_write
from .errors import PlotInputError

SUFFIXES = (".png", ".svg", ".pdf")


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: float = 150,
                description: str | None = None) -> Path:
    """Write ``fig`` as .png, .svg or .pdf (by suffix), atomically, creating folders.

    ``description`` is stored in the file's metadata (e.g. the model's sha256, so a
    generated diagram can be checked against the model it was drawn from).
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in SUFFIXES:
        raise PlotInputError(
            f"cannot save a figure as {target.name!r}: unknown suffix {suffix or '(none)'!r}; "
            f"allowed: {', '.join(SUFFIXES)}"
        )
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    metadata: dict[str, Any] = {".png": {}, ".svg": {"Date": None},
                                ".pdf": {"CreationDate": None}}[suffix]
    if description:
        metadata["Description" if suffix != ".pdf" else "Subject"] = description

    def write(tmp: str) -> None:
        with open(tmp, "wb") as handle:
            fig.savefig(handle, format=suffix[1:], dpi=dpi, metadata=metadata or None)

    return atomic_write(target, write)
