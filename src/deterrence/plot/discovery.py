"""Scenario discovery and robustness as pictures: PRIM's trade-off and box, policies' regret.

The PRIM figures read a :class:`deterrence.analysis.discovery.PrimResult` (its
``trajectory``, ``chosen``, ``threshold`` and ``box_limits``); the robustness bars read the
table of :func:`deterrence.analysis.robustness.robustness`.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from .errors import PlotInputError
from .sensitivity import wrapped
from .style import PALETTE, STYLE, SUBTITLE_SIZE, new_figure, plain

if TYPE_CHECKING:
    from ..analysis.discovery import PrimResult

CHOSEN_COLOR = "#d62728"
BOX_COLOR = PALETTE[0]
RANGE_COLOR = "#e3e3e3"


def _check_prim(result: Any) -> None:
    if not all(hasattr(result, a) for a in ("trajectory", "chosen", "box_limits")):
        raise PlotInputError(f"not a PRIM result: {type(result).__name__}; pass what "
                             "analysis.discovery.prim returns")


def prim_tradeoff(result: PrimResult, *, figsize: tuple[float, float] | None = None) -> Figure:
    """Every box on PRIM's peeling trajectory: coverage against density, the chosen one ringed.

    Colour counts the restricted parameters (simpler boxes are easier to act on); the
    dashed line is the density threshold that picked the chosen box.
    """
    _check_prim(result)
    t = result.trajectory
    res = t["res_dim"].to_numpy(dtype=int)
    top = max(int(res.max()), 1)
    viridis = mpl.colormaps["viridis"]  # without its last, pale yellow: it fades on white
    cmap = ListedColormap([viridis(0.85 * k / max(top, 1)) for k in range(top + 1)])
    norm = BoundaryNorm(np.arange(-0.5, top + 1.5), cmap.N)
    with mpl.rc_context(STYLE):
        fig = new_figure(figsize or (9.0, 6.2))
        ax = fig.add_subplot()
        ax.plot(t["coverage"], t["density"], color="#999999", linewidth=0.8, zorder=1)
        points = ax.scatter(t["coverage"], t["density"], c=res, cmap=cmap, norm=norm, s=30,
                            edgecolors="white", linewidths=0.25, zorder=2)
        bar = fig.colorbar(points, ax=ax, ticks=np.arange(top + 1), pad=0.02)
        bar.set_label("restricted parameters")
        chosen = t.loc[result.chosen]
        ax.scatter([chosen["coverage"]], [chosen["density"]], s=220, facecolors="none",
                   edgecolors=CHOSEN_COLOR, linewidths=2.2, zorder=3, label="chosen box")
        ax.annotate(
            f"chosen: box {result.chosen}\ncoverage {chosen['coverage']:.0%}, "
            f"density {chosen['density']:.0%}\n{int(chosen['res_dim'])} restricted",
            (chosen["coverage"], chosen["density"]), xytext=(-16, -14),
            textcoords="offset points", ha="right", va="top", color=CHOSEN_COLOR,
            fontsize=10, arrowprops={"arrowstyle": "-", "color": CHOSEN_COLOR})
        threshold = getattr(result, "threshold", None)
        if threshold is not None:
            ax.axhline(threshold, color="#555555", linestyle=(0, (4, 3)), linewidth=0.9)
            ax.text(0.01, threshold, f" density threshold {threshold:.0%}", va="bottom",
                    ha="left", fontsize=SUBTITLE_SIZE, color="#555555",
                    transform=ax.get_yaxis_transform())
        low = float(t["density"].min())
        ax.set_xlim(0, 1.02)
        ax.set_ylim(max(0.0, low - 0.08), 1.02)
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel("coverage: share of all cases of interest inside the box")
        ax.set_ylabel("density: share of the box's runs that are cases")
        ax.set_title("PRIM peeling trajectory: coverage against density", loc="left",
                     fontweight="bold")
        n, cases = int(t.loc[0, "n"]), int(t.loc[0, "k"])
        _footnote(fig, f"{n} runs, {cases} cases of interest ({cases / n:.0%})"
                  f"{_cases(result)}; {len(t)} boxes from the whole sample (right) to the "
                  "smallest (left)")
        ax.legend(loc="lower left", frameon=False)
    return fig


def _footnote(fig: Figure, text: str) -> None:
    """A note under the figure, wrapped to its width (about 14 characters an inch)."""
    width = int(fig.get_figwidth() * 14)
    fig.supxlabel(plain("\n".join(textwrap.wrap(text, width))), x=0.01, ha="left",
                  fontsize=SUBTITLE_SIZE, color="#444444")


def _cases(result: Any) -> str:
    """What the cases of interest are, when the result says (``label``)."""
    label = str(getattr(result, "label", "") or "")
    return f": futures with {label}" if label else ""


def _fmt(value: float, span: float) -> str:
    """A limit to the precision its range calls for: 0.00 rather than 6.87e-07 on [0, 1]."""
    if not np.isfinite(span) or span <= 0:
        return f"{value:.3g}"
    decimals = max(0, 2 - int(np.floor(np.log10(span) + 1e-3)))
    return f"{value:.{decimals}f}" if decimals <= 6 else f"{value:.3g}"


def qp_text(qp: float) -> str:
    """A quasi-p-value as a reader takes it: tiny values as a bound, not as 0 or 5e-114."""
    if not np.isfinite(qp):
        return "qp n/a"
    return "qp < 0.001" if qp < 0.001 else f"qp {qp:.2g}"


def prim_box(result: PrimResult, i: int | None = None, *,
             figsize: tuple[float, float] | None = None) -> Figure:
    """One PRIM box (default: the chosen one): each restricted range within its sampled range.

    One row per restricted parameter, most significant first: the grey bar is the range
    sampled, the coloured bar the box's range, labelled with its limits; the axis labels
    carry the quasi-p-value (small: the restriction matters).
    """
    _check_prim(result)
    box = result.chosen if i is None else i
    limits = result.box_limits(box)
    box = int(result.trajectory.index[box]) if box < 0 else int(box)
    stats = result.trajectory.loc[box]
    rows = len(limits)
    labels = [wrapped(name) + "\n" + qp_text(qp) for name, qp in
              zip(limits["parameter"], limits["qp_value"], strict=True)]
    lines = sum(label.count("\n") + 1 for label in labels)
    with mpl.rc_context(STYLE):
        fig = new_figure(figsize or (10.0, max(3.0, 0.24 * lines + 0.3 * rows + 1.6)))
        ax = fig.add_subplot()
        y = np.arange(rows)[::-1].astype(float)
        for row, yi in zip(limits.itertuples(), y, strict=True):
            span = row.sampled_max - row.sampled_min
            lo = (row.min - row.sampled_min) / span if span else 0.0
            hi = (row.max - row.sampled_min) / span if span else 1.0
            ax.barh(yi, 1.0, left=0.0, height=0.55, color=RANGE_COLOR, zorder=1)
            ax.barh(yi, hi - lo, left=lo, height=0.55, color=BOX_COLOR, zorder=2)
            ax.text(-0.01, yi, _fmt(row.sampled_min, span), ha="right", va="center",
                    fontsize=SUBTITLE_SIZE, color="#555555")
            ax.text(1.01, yi, _fmt(row.sampled_max, span), ha="left", va="center",
                    fontsize=SUBTITLE_SIZE, color="#555555")
            for edge, value in ((lo, row.min), (hi, row.max)):
                if 0.001 < edge < 0.999:
                    ax.text(edge, yi + 0.3, _fmt(value, span), ha="center", va="bottom",
                            fontsize=SUBTITLE_SIZE, color=BOX_COLOR, fontweight="bold")
        if rows:
            ax.set_yticks(y, labels)
        else:
            ax.set_yticks([])
            ax.text(0.5, 0.5, f"box {box} restricts no parameter: it is the whole sample",
                    ha="center", va="center", transform=ax.transAxes)
        ax.set_xlim(-0.12, 1.12)
        ax.set_ylim(-0.7, max(rows, 1) - 0.2)
        ax.set_xticks([])
        ax.tick_params(axis="y", length=0)
        ax.grid(False)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        ax.set_xlabel("position within the sampled range (grey); the box's range (blue)")
        chosen = " (chosen)" if box == result.chosen else ""
        ax.set_title(f"PRIM box {box}{chosen}: coverage {stats['coverage']:.0%}, density "
                     f"{stats['density']:.0%}, mass {stats['mass']:.0%}", loc="left",
                     fontweight="bold")
        _footnote(fig, f"{int(stats['k'])} cases of interest{_cases(result)}, among the "
                  f"box's {int(stats['n'])} runs; qp: quasi-p-value of the restriction "
                  "(one-sided binomial test)")
    return fig


def robustness_bars(table: pd.DataFrame, *,
                    figsize: tuple[float, float] | None = None) -> Figure:
    """Policies compared across the same futures: satisficing share, regret, and spread.

    Reads :func:`deterrence.analysis.robustness.robustness`'s table (rows in its order, the
    most robust at the top): the share of futures meeting the threshold, the largest and
    mean regret, and the median with the 5th-95th percentile range of the metric.
    """
    needed = ["satisficing", "max_regret", "mean_regret", "p5", "p50", "p95"]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise PlotInputError(f"not a robustness table: it lacks {', '.join(missing)}; "
                             "pass what analysis.robustness.robustness returns")
    if table.empty:
        raise PlotInputError("the robustness table has no policies")
    labels = [wrapped(str(p), 24) for p in table.index]
    lines = sum(label.count("\n") + 1 for label in labels)
    metric = str(table.attrs.get("metric", "metric")).replace("_", " ")
    threshold = table.attrs.get("threshold")
    better = table.attrs.get("larger_is_better", True)
    with mpl.rc_context(STYLE):
        fig = new_figure(figsize or (12.0, max(3.5, 0.34 * lines + 0.2 * len(table) + 2.2)))
        axes = fig.subplots(1, 3, sharey=True, width_ratios=[1, 1.2, 1.2])
        y = np.arange(len(table))[::-1].astype(float)
        share = table["satisficing"].to_numpy(dtype=float)
        axes[0].barh(y, share, height=0.6, color=PALETTE[2])
        for yi, s in zip(y, share, strict=True):
            axes[0].text(min(s, 1.0) + 0.02, yi, f"{s:.0%}", va="center",
                         fontsize=SUBTITLE_SIZE)
        axes[0].set_xlim(0, 1.18)
        axes[0].xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        sign = ">=" if better else "<="
        condition = table.attrs.get("condition")
        axes[0].set_title(plain(f"futures with {condition}") if condition else
                          plain(f"futures with {sign} {threshold:g}") if threshold is not None
                          else "futures meeting the threshold", loc="left", fontsize=11)
        axes[0].set_xlabel("share of futures")
        axes[1].barh(y + 0.17, table["max_regret"], height=0.32, color=PALETTE[3],
                     label="largest regret")
        axes[1].barh(y - 0.17, table["mean_regret"], height=0.32, color=PALETTE[1],
                     label="mean regret")
        for yi, worst_regret in zip(y, table["max_regret"].to_numpy(dtype=float), strict=True):
            if worst_regret == 0:
                axes[1].text(0.0, yi, "  no regret: best in every future", va="center",
                             fontsize=SUBTITLE_SIZE, color="#444444")
        axes[1].set_title("regret: shortfall from the best policy", loc="left", fontsize=11)
        axes[1].set_xlabel("per future, in the metric's units")
        p5, p50, p95 = (table[c].to_numpy(dtype=float) for c in ("p5", "p50", "p95"))
        axes[2].hlines(y, p5, p95, color="#555555", linewidth=2.2)
        axes[2].plot(p50, y, "o", color=PALETTE[0], markersize=7)
        if threshold is not None:
            axes[2].axvline(threshold, color="#555555", linestyle=(0, (4, 3)), linewidth=0.9)
            axes[2].text(threshold, 0.0, f" threshold {threshold:g}", ha="left",
                         va="bottom", fontsize=SUBTITLE_SIZE, color="#555555",
                         transform=axes[2].get_xaxis_transform())
        axes[2].set_title("median (dot), 5th to 95th percentile (line)", loc="left",
                          fontsize=10.5)
        axes[2].set_xlabel(plain(metric))
        worst = float(table["max_regret"].max())
        axes[1].set_xlim(0, worst * 1.5 if worst > 0 else 1)  # room for the legend
        axes[1].legend(loc="lower right", frameon=False, fontsize=9.5)
        axes[0].set_yticks(y, labels)
        for ax in axes:
            ax.grid(axis="y", visible=False)
        futures = table.attrs.get("futures")
        fig.suptitle(plain(f"Robustness of {len(table)} policies across "
                           f"{futures if futures else 'the same'} futures: {metric}"),
                     x=0.01, ha="left", fontweight="bold")
        gap = ("the best policy's value minus this one's" if better else
               "this one's value minus the best policy's")
        scenario = table.attrs.get("scenario")
        _footnote(fig, "most robust (smallest largest regret) at the top; regret in each "
                  f"future: {gap}" + (f"; scenario {scenario}" if scenario else ""))
    return fig
