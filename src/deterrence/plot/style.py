"""The look shared by every figure: colours, sizes, rc style, and text as drawn.

One place for the palette and the label wording, so the four kinds of figure read as one
briefing.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

#: Okabe-Ito (Wong 2011) without black, which is kept for the baseline.  Yellow goes last:
#: it is the weakest on white, so it is only used once seven other labels are drawn.
#: Ten colours that stay distinct from each other (and from the black baseline) with up
#: to ten lines: matplotlib's "tab10". A label keeps its colour in every figure of a run:
#: colours follow the label's place along its dimension, the baseline left out.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")
BASELINE_COLOR = "#000000"
#: After the palette runs out, lines repeat the colours with another dash pattern.
DASHES: tuple[Any, ...] = ("-", (0, (5, 2)), (0, (1, 1.5)), (0, (6, 2, 1, 2)))
BASELINE_DASH = (0, (4, 1.6))
BRIEFING_SIZE = (12.0, 7.0)
SUBTITLE_SIZE = 9.0
STYLE: dict[str, Any] = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10.5,
    "legend.title_fontsize": 11,
    "figure.titlesize": 14,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "axes.titlelocation": "left",
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
}


def normalise(name: str) -> str:
    """Lower case, runs of other characters as ``_``: names compare as a user reads them."""
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def pretty(name: Hashable) -> str:
    """``joint_exercise_intensity`` -> ``Joint exercise intensity``."""
    text = str(name).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def fmt(value: Any) -> str:
    """A coordinate value as a short label."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | str):
        return str(value)
    if isinstance(value, int | float):
        return f"{value:g}"
    return str(value)


def units_of(obj: xr.DataArray) -> str:
    """A variable's units on one line."""
    return " ".join(str(obj.attrs.get("units", "")).split())


def units_text(units: str) -> str:
    """Vensim's ``Dmnl`` spelled out, since a briefing audience will not know it."""
    return "Dmnl, dimensionless" if units.lower() == "dmnl" else units


def short_title(name: str, da: xr.DataArray) -> str:
    """The name as the model file writes it, else the Python name made readable."""
    vensim = " ".join(str(da.attrs.get("vensim_name", "")).split())
    return vensim or pretty(name)


def plain(text: Any) -> str:
    """Text from a model or dataset, drawn as written rather than parsed as mathtext.

    Matplotlib reads a pair of ``$`` as TeX-like math, so a name or documentation with
    ``$^^$`` would stop a figure. Escaping each ``$`` is the only change.
    """
    return str(text).replace("$", r"\$")


def new_figure(figsize: tuple[float, float]) -> Figure:
    """A figure on the Agg canvas, outside pyplot's registry (see the package doc)."""
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def contrast(rgba: Any) -> str:
    """Black or white, whichever reads better on the given colour."""
    r, g, b = to_rgb(rgba)
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 else "white"
