"""Briefing-ready pictures of deterrence results.

Results are read as pictures: an analyst compares scenarios, sees how far each one
departs from the baseline, how wide an ensemble spreads, and where in a grid of policy
levers deterrence holds.  This package draws those kinds of figure from the xarray
Datasets that the engine and the experiments write.  It never imports the engine, so any
saved NetCDF file can be plotted on its own, and single runs, multiruns and the command
line all go through the same functions.

Dataset conventions read here:

* dim ``time``, whose coordinate carries ``units`` (e.g. ``"Year"``);
* optional dim ``run``: ensemble members, or a multirun that is not a grid, whose
  overrides are then non-index coordinates along ``run``;
* one dim per swept key, e.g. ``scenario`` or ``policy`` (string labels) or a numeric
  lever such as ``joint_exercise_intensity``;
* data variables with attrs ``units``, ``long_name`` and ``vensim_name``; variables
  without ``time`` are constants and are never drawn as lines;
* optional Dataset attr ``key_outputs``: the variables drawn when none are named (else
  the first few time-varying ones), and ``default_outcome``: the policy map's default;
* an uncertainty run's per-run metrics (dims ``policy`` x ``run``, no ``time``), its
  ``sensitivity.nc``, ``prim.csv`` and ``robustness.csv``, read by
  :mod:`deterrence.analysis.outputs` (the ``outcomes``, ``tornado``, ``prim``,
  ``prim_box`` and ``robustness`` kinds);
* optional Dataset attr ``shock_windows``: JSON mapping a scenario label to a list of
  ``[start, end, label]`` windows, shaded in that scenario's colour;
* optional Dataset attr ``policy_timing``: JSON ``{"start": NAME, "ramp": NAME}``, the
  constants holding when the policy starts and how long it ramps in, read per line; a
  start after the run's first time is marked by a dash-dot line (a ramp by a wedge).

Every public function returns a :class:`matplotlib.figure.Figure` built without pyplot,
so nothing piles up in pyplot's global registry when a multirun callback draws many
figures and no window ever opens; :func:`save_figure` writes through the Agg canvas.
"""

from __future__ import annotations

from .discovery import prim_box, prim_tradeoff, robustness_bars
from .errors import (
    DimensionNotFoundError,
    LabelNotFoundError,
    MissingRunDimensionError,
    PlotInputError,
    VariableNotFoundError,
)
from .fans import fan_chart
from .figures import DEFAULT_KIND, KIND_HELP, KINDS, make_figure, plot_command
from .maps import REDUCTIONS, policy_map
from .outcomes import outcome_distribution
from .save import SUFFIXES, save_figure
from .select import (
    DEFAULT_BASELINE,
    DEFAULT_BY,
    default_outcome,
    fix_other_dims,
    select_labels,
)
from .sensitivity import sensitivity_bars, sensitivity_figure, tornado
from .series import difference_from_baseline, scenario_comparison
from .style import BASELINE_COLOR, PALETTE, plain

__all__ = [
    "BASELINE_COLOR",
    "DEFAULT_BASELINE",
    "DEFAULT_BY",
    "DEFAULT_KIND",
    "KINDS",
    "KIND_HELP",
    "PALETTE",
    "REDUCTIONS",
    "SUFFIXES",
    "DimensionNotFoundError",
    "LabelNotFoundError",
    "MissingRunDimensionError",
    "PlotInputError",
    "VariableNotFoundError",
    "default_outcome",
    "difference_from_baseline",
    "fan_chart",
    "fix_other_dims",
    "make_figure",
    "outcome_distribution",
    "plain",
    "plot_command",
    "policy_map",
    "prim_box",
    "prim_tradeoff",
    "robustness_bars",
    "save_figure",
    "scenario_comparison",
    "select_labels",
    "sensitivity_bars",
    "sensitivity_figure",
    "tornado",
]
