"""An outcome across the futures of an uncertainty ensemble, one distribution per policy.

The nominal run is one future among many; this figure puts it where it belongs: on the
distribution of the metric over the sampled futures. Left, the empirical CDF of every
policy on one axis (the share of futures at or below each value, so the policies compare
at a glance, and the share failing a threshold is read off where the line crosses it);
right, one histogram per policy with its mean and its nominal run marked.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib as mpl
import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter

from ..analysis import ensembles
from .errors import PlotInputError
from .sensitivity import wrapped
from .style import PALETTE, STYLE, SUBTITLE_SIZE, new_figure, plain, pretty, units_text

NOMINAL_COLOR = "#000000"
THRESHOLD_COLOR = "#555555"
MAX_POLICIES = len(PALETTE)


def _metric_title(da: xr.DataArray, name: str) -> str:
    units = units_text(str(da.attrs.get("units", "")).strip())
    return plain(name.replace("_", " ") + (f" [{units}]" if units else ""))


#: Above this many futures the cumulative distribution is drawn through this many of its
#: steps (sample quantiles, each a run's value): the same curve at any figure's resolution,
#: without a million-point line.
ECDF_POINTS = 2001


def _ecdf(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The empirical CDF's steps: each sorted value and the share at or below it."""
    x = np.sort(values)
    y = np.arange(1, x.size + 1) / max(x.size, 1)
    if x.size > ECDF_POINTS:
        keep = np.unique(np.linspace(0, x.size - 1, ECDF_POINTS).round().astype(int))
        x, y = x[keep], y[keep]
    return x, y


def outcome_distribution(ds: xr.Dataset, metric: str | None = None, *,
                         figsize: tuple[float, float] | None = None) -> Figure:
    """The distribution of ``metric`` over the futures, per policy (default metric: the
    one the run's failure condition is on, else its first).

    ``ds``: per-run metrics with dims (policy, run), as
    :func:`deterrence.analysis.ensembles.read_metrics` returns them; its recorded
    ``nominal`` values are marked, and its ``failure`` and ``satisficing`` thresholds on
    this metric drawn, with each policy's share of futures meeting them in the legend.
    """
    if "policy" not in ds.dims and "policy" in ds.coords:  # one policy, selected
        ds = ds.expand_dims("policy")
    if set(ds.dims) - {"policy", "run"} or "run" not in ds.dims:
        raise PlotInputError("the outcome distribution draws per-run metrics (dims policy, "
                             f"run); these have dims {', '.join(map(str, ds.dims))}")
    name = metric or ensembles.primary_metric(ds)
    name = ensembles.choose_metrics(ds, name, PlotInputError)[0]
    policies = [str(p) for p in ds["policy"].values]
    if len(policies) > MAX_POLICIES:
        raise PlotInputError(f"{len(policies)} policies are more than the {MAX_POLICIES} "
                             "this figure keeps apart", hint="choose one with --sel "
                             "policy=NAME, or compare them all with --kind robustness")
    da = ds[name]
    values = {p: np.asarray(da.sel(policy=p).values, dtype=float) for p in policies}
    finite = {p: v[np.isfinite(v)] for p, v in values.items()}
    left_out = sum(v.size - finite[p].size for p, v in values.items())
    pooled = np.concatenate(list(finite.values()))
    if not pooled.size:
        raise PlotInputError(f"{name} is not finite in any run: nothing to draw")
    edges = np.histogram_bin_edges(pooled, bins="auto")
    if len(edges) > 41:
        edges = np.histogram_bin_edges(pooled, bins=40)
    pad = 0.02 * (edges[-1] - edges[0])  # a line at the smallest value clear of the axis
    limits = (edges[0] - pad, edges[-1] + pad)
    nominal = ensembles.nominal(ds)
    conds = [(role, c) for role, c in ensembles.conditions(ds).items() if c.metric == name]
    rows = len(policies)
    with mpl.rc_context(STYLE):
        fig = new_figure(figsize or (12.5, max(5.6, 2.0 * rows + 2.4)))
        mosaic = [["ecdf", f"h{i}"] for i in range(rows)]
        axes = fig.subplot_mosaic(mosaic, width_ratios=[1.15, 1], sharex=False)
        ecdf = axes["ecdf"]
        handles: list[Line2D] = []
        for i, policy in enumerate(policies):
            color = PALETTE[i]
            x, y = _ecdf(finite[policy])
            shares = [f"{np.mean(c.of(values[policy])):.0%} "
                      f"{'fail' if role == 'failure' else 'satisfice'} ({c.op} {c.threshold:g})"
                      for role, c in conds]
            label = wrapped(policy, 28) + (f"\n({', '.join(shares)})" if shares else "")
            (line,) = ecdf.step(x, y, where="post",
                                color=color, linewidth=2.0, label=label)
            handles.append(line)
            hist = axes[f"h{i}"]
            hist.hist(finite[policy], bins=edges, color=color, alpha=0.85,
                      edgecolor="white", linewidth=0.4)
            mean = float(finite[policy].mean()) if finite[policy].size else np.nan
            hist.axvline(mean, color="black", linewidth=1.4)
            marks = [f"mean {mean:#.3g}"]
            value = nominal.get(policy, {}).get(name)
            if value is not None and np.isfinite(value):
                y = float(np.mean(finite[policy] <= value)) if finite[policy].size else 0
                ecdf.plot([value], [y], "D", color=color, markeredgecolor=NOMINAL_COLOR,
                          markersize=8, zorder=4)
                hist.axvline(value, color=NOMINAL_COLOR, linestyle=(0, (2, 1.5)),
                             linewidth=1.4)
                marks.append(f"nominal {value:#.3g}")
            hist.set_title(plain(wrapped(policy, 60) + "\n" + ", ".join(marks)), loc="left",
                           fontsize=10, color=color, linespacing=1.15)
            hist.set_xlim(*limits)
            hist.set_ylabel("futures", fontsize=9)
            hist.grid(axis="x", visible=False)
            if i < rows - 1:
                hist.tick_params(labelbottom=False)
            for _, cond in conds:
                hist.axvline(cond.threshold, color=THRESHOLD_COLOR, linestyle=(0, (4, 3)),
                             linewidth=0.9)
        top = max(axes[f"h{i}"].get_ylim()[1] for i in range(rows))
        for i in range(rows):  # one count scale, so the bars compare across policies
            axes[f"h{i}"].set_ylim(0, top)
        axes[f"h{rows - 1}"].set_xlabel(_metric_title(da, name))
        for _, cond in conds:
            ecdf.axvline(cond.threshold, color=THRESHOLD_COLOR, linestyle=(0, (4, 3)),
                         linewidth=0.9)
        ecdf.set_ylim(0, 1.02)
        ecdf.set_xlim(*limits)
        ecdf.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ecdf.set_ylabel("share of futures at or below the value")
        ecdf.set_xlabel(_metric_title(da, name))
        ecdf.set_title("cumulative distribution over the futures", loc="left", fontsize=11)
        if any(name in nominal.get(p, {}) for p in policies):
            handles.append(Line2D([], [], marker="D", linestyle="none", color="#bbbbbb",
                                  markeredgecolor=NOMINAL_COLOR, markersize=8,
                                  label="nominal run (dotted on the right)"))
        handles.append(Line2D([], [], color="black", linewidth=1.4,
                              label="mean (right)"))
        if conds:
            handles.append(Line2D([], [], color=THRESHOLD_COLOR, linewidth=0.9,
                                  linestyle=(0, (4, 3)), label="\n".join(
                                      f"{role}: {c}" for role, c in conds)))
        ecdf.legend(handles=handles, loc="best", frameon=True, framealpha=0.9,
                    fontsize=9.5)
        runs = ds.sizes["run"]
        what = str(da.attrs.get("long_name", "") or da.attrs.get("metric", ""))
        fig.suptitle(plain(f"{pretty(name)}: its distribution over {runs} futures, "
                           f"{'one policy' if rows == 1 else f'{rows} policies'}"),
                     x=0.01, ha="left", fontweight="bold")
        model = Path(str(ds.attrs.get("model_file", ""))).name
        notes = [f"scenario {ds.attrs['scenario']}" if ds.attrs.get("scenario") else "",
                 f"model {model}" if model else "",
                 f"metric: {what}" if what else "",
                 "nominal: the run at the model's own values of the uncertain constants"
                 if nominal else "no nominal run recorded",
                 f"{left_out} runs not finite left out" if left_out else ""]
        note = "\n".join(textwrap.wrap("; ".join(n for n in notes if n),
                                       int(fig.get_figwidth() * 14)))
        fig.supxlabel(plain(note), x=0.01, ha="left",
                      fontsize=SUBTITLE_SIZE, color="#444444")
    return fig
