"""Global sensitivity of one outcome metric: Sobol indices and Morris screening (SALib).

Which uncertain assumptions decide the outcome, and how much of its spread each one
carries. SALib does the statistics; this module checks that the runs are the sample the
analysis assumes (a wrong order or a cut ensemble gives plausible but wrong indices, with
no error from SALib), and returns the indices as an xarray Dataset along ``parameter``
that the tornado figure (:func:`deterrence.plot.tornado`) and ``sensitivity.nc`` read.

The problem is SALib's dict: ``num_vars``, ``names``, ``bounds`` (and optionally
``dists``). SALib is imported when an analysis runs, not with the package.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

__all__ = ["morris", "morris_sample", "sobol"]

RUN = "run"


def _names(problem: Mapping[str, Any]) -> list[str]:
    """The problem's parameter names, checked against ``num_vars`` and ``bounds``."""
    if not isinstance(problem, Mapping) or "names" not in problem:
        raise ValueError("the problem must be SALib's dict with 'num_vars', 'names' and "
                         f"'bounds'; got {type(problem).__name__}")
    names = [str(n) for n in problem["names"]]
    if not names:
        raise ValueError("the problem has no parameters ('names' is empty)")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"the problem names these parameters more than once: "
                         f"{', '.join(repeated)}")
    if problem.get("groups") is not None:
        raise ValueError("grouped problems ('groups') are not supported: the indices here "
                         "are per parameter; drop 'groups' from the problem")
    num_vars = problem.get("num_vars", len(names))
    if num_vars != len(names):
        raise ValueError(f"the problem says num_vars={num_vars} but names {len(names)} "
                         f"parameters ({', '.join(names)})")
    bounds = problem.get("bounds")
    if bounds is None or len(bounds) != len(names):
        raise ValueError(f"the problem needs one [low, high] bound per parameter: "
                         f"{len(names)} names, {0 if bounds is None else len(bounds)} bounds")
    return names


def _values(y: Any, what: str) -> np.ndarray:
    """``y`` as a 1-D float array along ``run``, every value finite."""
    if isinstance(y, xr.DataArray):
        others = [str(d) for d in y.dims if d != RUN]
        if others:
            raise ValueError(f"{what} needs one number per run, but the metric also has the "
                             f"dims {others}; select or reduce them first "
                             f"(e.g. .sel({others[0]}=...))")
    values = np.asarray(y, dtype=float).reshape(-1)
    if values.size == 0:
        raise ValueError(f"{what}: the metric has no runs")
    bad = ~np.isfinite(values)
    if bad.any():
        raise ValueError(f"{what}: {int(bad.sum())} of {values.size} runs are not finite "
                         f"(first at run {int(np.argmax(bad))}); the indices need all runs")
    return values


def _label(y: Any) -> str:
    name = getattr(y, "name", None)
    return str(name) if name is not None else "outcome"


def _check_conf(conf_level: float) -> None:
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level must be between 0 and 1 (exclusive), got {conf_level!r}")


def sobol(problem: Mapping[str, Any], y: xr.DataArray | np.ndarray, *,
          second_order: bool = True, seed: int | None = None, num_resamples: int = 100,
          conf_level: float = 0.95) -> xr.Dataset:
    """Sobol indices of one metric from runs of SALib's Saltelli/Sobol sample of ``problem``.

    ``y`` holds one value per run along ``run``, in the sample's order
    (``SALib.sample.sobol.sample(problem, N, calc_second_order=second_order)``): N (2D + 2)
    runs with second-order terms, N (D + 2) without, for D parameters. Returns a Dataset
    along ``parameter`` with ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` and, with
    ``second_order``, ``S2``, ``S2_conf`` over (``parameter``, ``parameter_2``), symmetric,
    NaN on the diagonal. ``*_conf`` are half-widths of the ``conf_level`` bootstrap
    interval (``num_resamples`` resamples, seeded by ``seed``).
    """
    from SALib.analyze import sobol as salib_sobol

    names = _names(problem)
    values = _values(y, "Sobol indices")
    _check_conf(conf_level)
    d = len(names)
    per_base = 2 * d + 2 if second_order else d + 2
    if values.size % per_base:
        order = "with" if second_order else "without"
        raise ValueError(
            f"{values.size} runs is not a Saltelli sample of {d} parameters {order} "
            f"second-order terms (N * {per_base} runs); run the sample as drawn, or pass "
            f"second_order={not second_order} if it was drawn "
            f"{'without' if second_order else 'with'} them")
    if np.ptp(values) == 0:
        raise ValueError(f"Sobol indices: {_label(y)} is the same ({values[0]:g}) in every "
                         "run, so it has no variance to apportion")
    result = salib_sobol.analyze(dict(problem), values, calc_second_order=second_order,
                                 num_resamples=num_resamples, conf_level=conf_level,
                                 seed=seed)
    level = f"{conf_level:.0%}"
    data: dict[str, Any] = {
        "S1": ("parameter", np.asarray(result["S1"]),
               {"long_name": "first-order Sobol index: share of the variance due to the "
                             "parameter alone", "units": "1"}),
        "S1_conf": ("parameter", np.asarray(result["S1_conf"]),
                    {"long_name": f"S1, {level} confidence half-width", "units": "1"}),
        "ST": ("parameter", np.asarray(result["ST"]),
               {"long_name": "total Sobol index: share of the variance involving the "
                             "parameter, interactions included", "units": "1"}),
        "ST_conf": ("parameter", np.asarray(result["ST_conf"]),
                    {"long_name": f"ST, {level} confidence half-width", "units": "1"}),
    }
    if second_order:
        for key, long_name in (("S2", "second-order Sobol index: share of the variance due "
                                      "to the pair's interaction alone"),
                               ("S2_conf", f"S2, {level} confidence half-width")):
            upper = np.asarray(result[key], dtype=float)
            full = np.where(np.isnan(upper), upper.T, upper)
            np.fill_diagonal(full, np.nan)
            data[key] = (("parameter", "parameter_2"), full,
                         {"long_name": long_name, "units": "1"})
    coords: dict[str, Any] = {"parameter": names,
                              "bound_min": ("parameter", [b[0] for b in problem["bounds"]]),
                              "bound_max": ("parameter", [b[1] for b in problem["bounds"]])}
    if second_order:
        coords["parameter_2"] = names
    return xr.Dataset(data, coords=coords, attrs={
        "method": "Sobol (SALib, Saltelli sampling, first, total"
                  + (" and second" if second_order else "") + " order)",
        "outcome": _label(y), "N": values.size // per_base, "n_runs": int(values.size),
        "second_order": int(second_order), "conf_level": conf_level,
        "num_resamples": num_resamples, "seed": "none" if seed is None else int(seed)})


def morris_sample(problem: Mapping[str, Any], trajectories: int, *, num_levels: int = 4,
                  seed: int | None = None) -> np.ndarray:
    """SALib's Morris sample: ``trajectories * (D + 1)`` rows, one column per parameter."""
    from SALib.sample import morris as salib_morris

    _names(problem)
    if trajectories < 2:
        raise ValueError(f"Morris screening needs at least 2 trajectories, got {trajectories}")
    return salib_morris.sample(dict(problem), trajectories, num_levels=num_levels, seed=seed)


def morris(problem: Mapping[str, Any], x: np.ndarray, y: xr.DataArray | np.ndarray, *,
           num_levels: int = 4, num_resamples: int = 1000, conf_level: float = 0.95,
           seed: int | None = None) -> xr.Dataset:
    """Morris elementary effects of one metric from runs of :func:`morris_sample`.

    ``x`` is the sample as drawn (rows in order, one column per parameter), ``y`` one
    value per row; ``num_levels`` must be the sample's. Returns a Dataset along
    ``parameter`` with ``mu_star`` (mean absolute effect: the ranking), ``mu_star_conf``,
    ``sigma`` (spread: non-linearity or interactions) and ``mu`` (signed mean effect).
    """
    from SALib.analyze import morris as salib_morris

    names = _names(problem)
    _check_conf(conf_level)
    x = np.asarray(x, dtype=float)
    values = _values(y, "Morris screening")
    d = len(names)
    if x.ndim != 2 or x.shape[1] != d:
        raise ValueError(f"the Morris sample must have one column per parameter ({d}); "
                         f"got shape {x.shape}")
    if x.shape[0] != values.size:
        raise ValueError(f"the Morris sample has {x.shape[0]} rows but the metric has "
                         f"{values.size} runs; they must match row for row")
    if values.size % (d + 1):
        raise ValueError(f"{values.size} runs is not a Morris sample of {d} parameters "
                         f"(trajectories * {d + 1} runs)")
    steps = np.diff(x.reshape(-1, d + 1, d), axis=1)
    moved = np.count_nonzero(steps, axis=2)
    if (moved != 1).any():
        t, k = np.argwhere(moved != 1)[0]
        raise ValueError(
            f"x is not a Morris sample in its drawn order: in trajectory {t}, step {k + 1} "
            f"changes {moved[t, k]} parameters instead of one; pass the rows of "
            "morris_sample unshuffled")
    result = salib_morris.analyze(dict(problem), x, values, num_resamples=num_resamples,
                                  conf_level=conf_level, num_levels=num_levels, seed=seed)
    level = f"{conf_level:.0%}"
    data = {
        "mu_star": ("parameter", np.asarray(result["mu_star"], dtype=float),
                    {"long_name": "mean absolute elementary effect (the ranking)"}),
        "mu_star_conf": ("parameter", np.asarray(result["mu_star_conf"], dtype=float),
                         {"long_name": f"mu_star, {level} confidence half-width"}),
        "sigma": ("parameter", np.asarray(result["sigma"], dtype=float),
                  {"long_name": "standard deviation of the elementary effects "
                                "(non-linearity or interactions)"}),
        "mu": ("parameter", np.asarray(result["mu"], dtype=float),
               {"long_name": "mean elementary effect (signed)"}),
    }
    return xr.Dataset(data, coords={"parameter": names}, attrs={
        "method": "Morris elementary effects (SALib)", "outcome": _label(y),
        "trajectories": values.size // (d + 1), "n_runs": int(values.size),
        "num_levels": num_levels, "conf_level": conf_level,
        "seed": "none" if seed is None else int(seed)})
