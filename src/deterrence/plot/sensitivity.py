"""Sensitivity indices as bars: which parameters the outcome's spread comes from.

:func:`sensitivity_bars` draws the Sobol indices of several outcomes side by side;
:func:`tornado` ranks the parameters of one outcome (Sobol or Morris), long names wrapped.
"""

from __future__ import annotations

import math
import textwrap

import matplotlib as mpl
import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from .errors import PlotInputError, dims_text, names_text, source_of
from .style import PALETTE, STYLE, SUBTITLE_SIZE, new_figure, plain


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


#: Characters per line of a parameter's name on a tornado's axis before it wraps.
WRAP = 30


def wrapped(name: str, width: int = WRAP) -> str:
    """A long parameter name on a few lines, so the bars keep their width.

    Python-style names (``maximum_aggression_hazard``, ``reassurance``) are spelled with
    spaces and a capital first, so they wrap between words and read as the others do.
    """
    text = plain(name)
    if " " not in text:  # a Python name (a policy's, status_quo or reassurance)
        text = text.replace("_", " ")
        text = text[:1].upper() + text[1:]
    return "\n".join(textwrap.wrap(text, width=width, break_long_words=True)) or "?"


def _measures(indices: xr.Dataset) -> tuple[str, list[tuple[str, str, str]]]:
    """Which kind of indices these are, and (variable, confidence, legend label) per bar."""
    if "ST" in indices.data_vars and "S1" in indices.data_vars:
        return "ST", [("ST", "ST_conf", "total (ST): interactions included"),
                      ("S1", "S1_conf", "first order (S1): alone")]
    if "mu_star" in indices.data_vars:
        return "mu_star", [("mu_star", "mu_star_conf", "mean absolute effect (mu*)")]
    if "feature_score" in indices.data_vars:
        return "feature_score", [("feature_score", "", "extra-trees feature score")]
    raise PlotInputError(
        f"not sensitivity indices: {source_of(indices)} has neither S1 and ST (Sobol) nor "
        f"mu_star (Morris) nor feature_score (extra trees); variables: "
        f"{names_text(indices.data_vars)}")


def sensitivity_figure(indices: xr.Dataset, kind: str = "tornado",
                       outcome: str | None = None) -> Figure:
    """``deterrence plot sensitivity.nc``: the ``tornado`` of one outcome (``outcome``,
    else the run's failure metric, else the first) or the ``sensitivity`` bars of every
    outcome; indices per policy (an uncertainty run's) show the first policy unless one
    is selected (``--sel policy=...``), and the figure says which."""
    notes = [f"scenario {indices.attrs['scenario']}" if indices.attrs.get("scenario")
             else ""]
    if "policy" in indices.dims:
        policies = [str(p) for p in indices["policy"].values]
        indices = indices.isel(policy=0)
        if len(policies) > 1:
            notes.append(f"policy {policies[0]}, the first of {len(policies)} (--sel "
                         "policy=NAME for another)")
    if "outcome" in indices.dims:
        names = [str(o) for o in indices["outcome"].values]
        primary = str(indices.attrs.get("primary_outcome", ""))
        chosen = outcome or (primary if primary in names else None)
        if chosen is None and kind == "tornado":
            chosen = names[0]
        if chosen is not None:
            if chosen not in names:
                raise PlotInputError(f"--outcome {chosen!r}: {source_of(indices)} has "
                                     f"indices of {names_text(names)}",
                                     hint="name one of them")
            indices = indices.sel(outcome=[chosen])
    elif outcome is not None:
        raise PlotInputError(f"--outcome {outcome!r}: {source_of(indices)} holds the "
                             "indices of one outcome only")
    if kind == "sensitivity":
        if "S1" not in indices.data_vars:
            raise PlotInputError(f"--kind sensitivity draws Sobol indices; "
                                 f"{source_of(indices)} holds "
                                 f"{names_text(indices.data_vars)}",
                                 hint="draw them with --kind tornado")
        return sensitivity_bars(indices)
    return tornado(indices, note="; ".join(n for n in notes if n))


def tornado(indices: xr.Dataset, *, top: int | None = None,
            figsize: tuple[float, float] | None = None, note: str = "") -> Figure:
    """Parameters ranked by their influence on one outcome, the largest at the top.

    Sobol indices (``analysis.sensitivity.sobol``): total and first-order bars with their
    confidence half-widths as whiskers; Morris (``analysis.sensitivity.morris``): ``mu_star``
    with its whisker. ``top`` keeps the most influential parameters and says on the figure
    how many were left out. Indices with an ``outcome`` dim need one outcome selected.
    Extra-trees ``feature_score`` (a space-filling design's) draw as one bar. A scalar
    ``policy`` coordinate (indices of one policy) is named in the title; ``note`` is
    added to the footnote.
    """
    rank_by, bars = _measures(indices)
    if "parameter" not in indices.dims:
        raise PlotInputError(f"sensitivity indices need a 'parameter' dim; {dims_text(indices)}")
    if "outcome" in indices.dims:
        if indices.sizes["outcome"] != 1:
            raise PlotInputError(
                f"tornado draws one outcome; these indices have {indices.sizes['outcome']}: "
                f"{names_text(indices['outcome'].values)}; select one with "
                ".sel(outcome=...), or draw them all with sensitivity_bars")
        outcome_label = str(indices["outcome"].values[0])
        indices = indices.isel(outcome=0)
    else:
        outcome_label = str(indices.attrs.get("outcome", "the outcome"))
    if top is not None and top < 1:
        raise PlotInputError(f"top must be at least 1, got {top!r}")
    names = [str(n) for n in (indices["vensim_name"].values if "vensim_name" in indices.coords
                              else indices["parameter"].values)]
    rank = np.nan_to_num(indices[rank_by].values.astype(float), nan=-np.inf)
    order = np.argsort(-rank, kind="stable")
    shown = order if top is None else order[:top]
    cut = len(names) - len(shown)
    labels = [wrapped(names[i]) for i in shown]
    lines = sum(label.count("\n") + 1 for label in labels)
    per_row = 0.26 + 0.16 * len(bars)
    height = per_row * len(shown) + 0.14 * (lines - len(shown)) + 1.7
    with mpl.rc_context(STYLE):
        fig = new_figure(figsize or (9.5, max(3.8, height)))
        ax = fig.add_subplot()
        y = np.arange(len(shown))[::-1].astype(float)  # the largest at the top
        step = 0.8 / len(bars)
        right = 0.0
        for k, (var, conf, label) in enumerate(bars):
            values = indices[var].values.astype(float)[shown]
            err = (np.abs(indices[conf].values.astype(float)[shown])
                   if conf and conf in indices.data_vars else None)
            offset = (len(bars) - 1) / 2 * step - k * step
            ax.barh(y + offset, values, height=step * 0.92, xerr=err, color=PALETTE[k],
                    label=label, error_kw={"elinewidth": 0.9, "capsize": 2.5,
                                           "ecolor": "#333333"})
            right = max(right, float(np.nanmax(values + (err if err is not None else 0))))
        ax.set_yticks(y, labels)
        ax.set_ylim(-0.6, len(shown) - 0.4)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.grid(axis="y", visible=False)
        if rank_by == "ST":
            ax.set_xlim(min(0.0, ax.get_xlim()[0]), max(1.0, right * 1.05))
            ax.set_xlabel("share of the outcome's variance (Sobol index); whiskers: "
                          f"{float(indices.attrs.get('conf_level', 0.95)):.0%} confidence")
            kind = "Sobol indices"
        elif rank_by == "mu_star":
            ax.set_xlim(0, right * 1.08 if right > 0 else 1)
            ax.set_xlabel("Morris mu*: mean absolute elementary effect, in the outcome's "
                          "units")
            kind = "Morris screening"
        else:
            ax.set_xlim(0, right * 1.08 if right > 0 else 1)
            ax.set_xlabel("extra-trees feature score: share of the trees' impurity "
                          "decrease (the scores sum to 1)")
            kind = "feature scores"
        runs = indices.attrs.get("n_runs") or indices.attrs.get("runs")
        policy = indices.coords.get("policy")
        under = (" under " + str(policy.item()).replace("_", " ")
                 if policy is not None and policy.ndim == 0 else "")
        title = f"What drives {outcome_label.replace('_', ' ')}{under}: {kind}"
        ax.set_title(plain("\n".join(textwrap.wrap(title, 62))), loc="left",
                     fontweight="bold")
        ranked = {"ST": "total index", "mu_star": "mu*"}.get(rank_by, "feature score")
        notes = [f"{runs} runs" if runs else "", f"ranked by {ranked}", note]
        if cut:
            notes.append(f"{len(shown)} most influential of {len(names)} parameters shown, "
                         f"{cut} left out")
        fig.supxlabel(plain("; ".join(n for n in notes if n)), x=0.01, ha="left",
                      fontsize=SUBTITLE_SIZE, color="#444444")
        ax.legend(loc="lower right", frameon=False)
        ax.tick_params(axis="y", length=0)
    return fig
