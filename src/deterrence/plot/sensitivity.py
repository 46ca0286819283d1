"""Sobol sensitivity indices as bars: which parameters the outcome's spread comes from."""

from __future__ import annotations

import math

import matplotlib as mpl
import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from .errors import PlotInputError, dims_text, names_text, source_of
from .style import PALETTE, STYLE, new_figure, plain


def sensitivity_bars(indices: xr.Dataset, *, top: int = 12,
                     figsize: tuple[float, float] | None = None) -> Figure:
    """Sobol indices as bars, one panel per outcome: the ``top`` parameters by total index.

    Total (interactions included) and first-order indices side by side, with their 95%
    confidence half-widths, read from a Dataset with dims (outcome, parameter) and
    variables ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (as ``analysis.sobol_indices`` writes).
    """
    needed = [v for v in ("S1", "ST") if v not in indices.data_vars]
    if needed or "parameter" not in indices.dims:
        raise PlotInputError(
            f"not Sobol indices: {source_of(indices)} lacks {', '.join(needed) or 'parameter'}; "
            f"variables: {names_text(indices.data_vars)}; {dims_text(indices)}")
    outcomes = [str(o) for o in indices["outcome"].values] if "outcome" in indices.dims \
        else [""]
    names = [str(n) for n in (indices["vensim_name"].values if "vensim_name" in indices.coords
                              else indices["parameter"].values)]
    ncols = min(len(outcomes), 3)
    nrows = math.ceil(len(outcomes) / ncols)
    shown = min(top, len(names))
    size = figsize or (5.2 * ncols + 1.5, 0.34 * shown * nrows + 1.8 * nrows + 0.8)
    with mpl.rc_context(STYLE):
        fig = new_figure(size)
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for ax, outcome in zip(axes, outcomes, strict=False):
            row = indices.sel(outcome=outcome) if outcome else indices
            st, s1 = row["ST"].values, row["S1"].values
            order = np.argsort(-np.nan_to_num(st, nan=-1.0))[:shown][::-1]
            y = np.arange(len(order))
            err = {k: (row[f"{k}_conf"].values[order] if f"{k}_conf" in row else None)
                   for k in ("ST", "S1")}
            ax.barh(y + 0.2, st[order], height=0.38, xerr=err["ST"], color=PALETTE[0],
                    label="total (ST)", error_kw={"elinewidth": 0.8, "capsize": 2})
            ax.barh(y - 0.2, s1[order], height=0.38, xerr=err["S1"], color=PALETTE[1],
                    label="first order (S1)", error_kw={"elinewidth": 0.8, "capsize": 2})
            ax.set_yticks(y, [plain(names[i]) for i in order])
            ax.set_xlim(0, max(1.0, float(np.nanmax(st[order] + (err["ST"] if err["ST"]
                                                                 is not None else 0)))))
            ax.axvline(0, color="black", linewidth=0.8)
            title = outcome.replace("_", " ") if outcome else "outcome"
            reduce = indices.attrs.get("reduce")
            ax.set_title(plain(f"{title}" + (f" ({reduce} value)" if reduce else "")), loc="left",
                         fontweight="bold")
            ax.set_xlabel("share of the outcome's variance")
        for ax in axes[len(outcomes):]:
            ax.set_axis_off()
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=2, frameon=False)
        runs = indices.attrs.get("n_runs")
        suptitle = "Global sensitivity (Sobol indices)" + (f", {runs} runs" if runs else "")
        fig.suptitle(plain(suptitle), x=0.01, ha="left", fontweight="bold")
    return fig
