"""Behaviour measures: how far, how fast and how long a simulated variable moves.

A plot shows that trust fell after a shock and came back; an analyst needs to say *how
fast* it fell, *how long* it took to recover, *when* it bottomed out, how much of a
policy's effect had arrived after two years, and how far two solvers disagree. This module
turns those questions into numbers with one definition each, so that the model's
documentation (``sd_models/README.md``), its behaviour tests (``tests/model``) and analyses
of saved results all measure the same thing.

It also turns a Saltelli ensemble into Sobol sensitivity indices (with SALib):
:func:`sobol_indices` for a Dataset of outcomes, :mod:`.sensitivity` for one metric
(Sobol with second order, Morris), :mod:`.discovery` for the conditions under which an
outcome occurs (PRIM, CART, feature scores) and :mod:`.robustness` for policies compared
across futures.

It reads xarray objects only -- Datasets as ``Model.simulate`` returns them or as read back
from ``results.nc`` / ``combined.nc`` -- and never imports the engine. The architecture runs
one way (compile -> integrate -> experiments -> plots/analysis), so any saved NetCDF file
can be analysed without the model file, the compiler or a solver.

Conventions read here (those of the engine's Datasets): dim ``time``; a variable that does
not change over time (a constant) is stored without ``time``; ensembles and sweeps add
dims such as ``run``, ``scenario`` or a lever.

The response to a shock is measured against a counterfactual: the *gap* ``base - run``
between the run and the same world without the shock (same levers, same starting state),
not against the run's own starting value. That separates the shock's effect from any trend
the run has anyway (a case study that starts out of balance, a policy changed at time 0).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np
import xarray as xr

from .sensitivity import morris, morris_sample, sobol

__all__ = [
    "fall_and_recovery",
    "morris",
    "morris_sample",
    "recovery_time",
    "reduce_time",
    "relative_difference",
    "series",
    "share_of_change",
    "sobol",
    "sobol_indices",
    "time_of_max",
    "time_of_min",
]

TIME = "time"


# -- helpers -------------------------------------------------------------------------------


def _label(da: xr.DataArray) -> str:
    return str(da.name) if da.name is not None else "the series"


def _require_time(da: xr.DataArray) -> None:
    if TIME not in da.dims:
        raise ValueError(
            f"{_label(da)} has no {TIME!r} dimension (dims: {tuple(map(str, da.dims))}); "
            "a constant is stored without time: use series(ds, name) to spread it over time")


def _one_run(da: xr.DataArray, measure: str) -> None:
    """Measures that return one number need one time series, not an ensemble or a sweep."""
    _require_time(da)
    extra = [str(d) for d in da.dims if d != TIME]
    if extra:
        raise ValueError(
            f"{measure} measures one run, but {_label(da)} also has the dims {extra}; "
            f"select one run first, e.g. .sel({extra[0]}=...) or .isel({extra[0]}=0)")


def _check_share(share: float) -> None:
    if not 0 < share < 1:
        raise ValueError(f"share must be between 0 and 1 (exclusive), got {share!r}")


def _same_times(run: xr.DataArray, base: xr.DataArray) -> None:
    """The gap is taken point by point: a silent alignment would drop or invent times."""
    if not np.array_equal(run[TIME].values, base[TIME].values):
        raise ValueError(
            f"{_label(run)}: the run and the base run are saved at different times "
            f"({run.sizes[TIME]} points from {float(run[TIME][0]):g} to "
            f"{float(run[TIME][-1]):g} vs {base.sizes[TIME]} from {float(base[TIME][0]):g} "
            f"to {float(base[TIME][-1]):g}); simulate both with the same TIME STEP and "
            "SAVEPER, or interpolate the base with base.interp(time=run.time)")


def _where(coords: dict[Hashable, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in coords.items())


# -- series and extremes -------------------------------------------------------------------


def series(ds: xr.Dataset, name: str) -> xr.DataArray:
    """``ds[name]`` as a time series, also when it is a constant.

    The engine stores a variable that does not change over time without the ``time``
    dimension (saving a column of repeats per run); comparing it with a time-varying
    variable, or with the same variable in a run where it does change, needs it spread
    over ``time``.
    """
    if TIME not in ds.dims:
        raise ValueError(f"the Dataset has no {TIME!r} dimension; is it simulation results?")
    return ds[name].broadcast_like(ds[TIME])


def _time_of_extreme(da: xr.DataArray, after: float, measure: str, pick: Any) -> float:
    _one_run(da, measure)
    window = da.sel({TIME: da[TIME] >= after})
    if window.sizes[TIME] == 0:
        raise ValueError(f"{measure}: {_label(da)} has no time at or after t={after:g} "
                         f"(it ends at t={float(da[TIME][-1]):g})")
    values = window.values
    if np.isnan(values).all():
        raise ValueError(f"{measure}: {_label(da)} is NaN at every time from t={after:g}")
    return float(window[TIME][int(pick(values))])


def time_of_min(da: xr.DataArray, after: float = -math.inf) -> float:
    """The time at which one run's ``da`` is lowest (the first such time on a tie).

    The order in which variables reach their trough after a shock (trust, then perceived
    commitment, then the adversary's risk estimate) is how perception delays show in a
    run. ``after`` ignores the part of the run before the shock, where a variable that
    only declines would otherwise have its "trough" at time 0.
    """
    return _time_of_extreme(da, after, "time_of_min", np.nanargmin)


def time_of_max(da: xr.DataArray, after: float = -math.inf) -> float:
    """The time at which one run's ``da`` is highest (the first such time on a tie).

    The counterpart of :func:`time_of_min` for variables a shock raises (the hazard of
    aggression peaks after the risk estimate bottoms out).
    """
    return _time_of_extreme(da, after, "time_of_max", np.nanargmax)


# -- fall and recovery after a shock -------------------------------------------------------


def _dip_1d(gap: np.ndarray, time: np.ndarray, share: float) -> tuple[float, float]:
    """(time the gap first reaches share of its maximum, time from that maximum to closing).

    Called on the part of the run from the onset; the caller has checked the gap is
    positive somewhere. Closing means shrinking to ``1 - share`` of the maximum; inf when
    that does not happen before the run ends.
    """
    widest = np.nanmax(gap)
    peak = int(np.nanargmax(gap))
    t_fall = float(time[int(np.argmax(gap >= share * widest))])
    closed = gap[peak:] <= (1 - share) * widest
    t_rec = float(time[peak + int(np.argmax(closed))] - time[peak]) if closed.any() \
        else math.inf
    return t_fall, t_rec


def _dips(run: xr.DataArray, base: xr.DataArray, onset: float,
          share: float) -> tuple[xr.DataArray, xr.DataArray]:
    """Fall and recovery times over every dim of run and base except ``time``."""
    _check_share(share)
    _require_time(run)
    _require_time(base)
    _same_times(run, base)
    name = _label(run)
    if float(run[TIME][-1]) < onset:
        raise ValueError(f"{name}: the onset t={onset:g} is after the end of the run "
                         f"(t={float(run[TIME][-1]):g})")
    gap = (base - run).sel({TIME: run[TIME] >= onset})
    widest = gap.max(TIME)
    no_dip = ~(widest > 0)  # NaN counts as no dip
    if bool(no_dip.any()):
        index = np.unravel_index(int(np.argmax(no_dip.values)), no_dip.shape)
        first = {d: no_dip[d].values[i].item() if d in no_dip.coords else int(i)
                 for d, i in zip(no_dip.dims, index, strict=True)}
        where = f" ({_where(first)})" if first else ""
        raise ValueError(
            f"{name}{where}: no dip below the base run at or after t={onset:g} (base - run "
            "is never positive), so there is no fall or recovery to time; check the onset "
            "and that the shock lowers this variable (for a rise, pass run and base the "
            "other way round)")
    fall, recovery = xr.apply_ufunc(
        _dip_1d, gap, gap[TIME], input_core_dims=[[TIME], [TIME]],
        output_core_dims=[[], []], vectorize=True, kwargs={"share": share},
        output_dtypes=[float, float])
    return fall - onset, recovery


def fall_and_recovery(run: xr.DataArray, base: xr.DataArray, onset: float,
                      share: float = 0.9) -> tuple[float, float]:
    """(fall time, recovery time) of one run's dip below its base run after ``onset``.

    The gap is ``base - run``: ``base`` is the same world without the shock (same levers,
    same start), so the dip is the shock's effect and not a trend the run has anyway.

    - fall time: from ``onset`` until the gap first reaches ``share`` of its largest value
      after the onset (how quickly the shock bites);
    - recovery time: from the largest gap until the gap has closed to ``1 - share`` of it,
      ``inf`` if that does not happen before the run ends (a permanent shock).

    With ``share=0.9``, "trust recovers in 16 years" means 90% of the lost trust is back 16
    years after the worst point. Both times are on the saved time grid (SAVEPER).

    Raises ValueError if the run never dips below the base after the onset, or if run and
    base are not single runs saved at the same times.
    """
    _one_run(run, "fall_and_recovery")
    _one_run(base, "fall_and_recovery")
    fall, recovery = _dips(run, base, onset, share)
    return float(fall), float(recovery)


def recovery_time(run: xr.DataArray, base: xr.DataArray, onset: float,
                  share: float = 0.9) -> xr.DataArray:
    """How long ``run`` takes to recover from a shock at ``onset``, for every run at once.

    The "time for trust to recover after a shock" output: the recovery time of
    :func:`fall_and_recovery` (from the largest gap below ``base`` until ``share`` of it
    has closed; ``inf`` when it does not close before the run ends), computed over every
    dimension of ``run`` and ``base`` other than ``time``, broadcast against each other.
    So a sweep can be read in one call, e.g. for a ``policy`` x ``scenario`` grid::

        shocked = combined.mutual_trust.sel(scenario="leadership_change")
        calm = combined.mutual_trust.sel(scenario="baseline")
        recovery_time(shocked, calm, onset=10)        # one value per policy

    Returns a DataArray (0-d for a single run: ``float(...)`` it) named ``recovery_time``
    in the units of ``time``. Raises ValueError, naming the run, if any run never dips
    below its base after the onset.
    """
    _, recovery = _dips(run, base, onset, share)
    recovery.name = "recovery_time"
    recovery.attrs = {
        "units": run[TIME].attrs.get("units", ""),
        "long_name": f"time for {_label(run)} to close {share:.0%} of its largest gap "
                     f"below the base run after t={onset:g}",
    }
    return recovery


# -- changes and differences between runs --------------------------------------------------


def share_of_change(run: xr.Dataset, base: xr.Dataset, name: str, at: float,
                    end: float) -> float:
    """The fraction of the change ``run - base`` in ``name`` at ``end`` already there at ``at``.

    How delays show: a lever changed at time 0 moves what the alliance does at once, what
    the adversary perceives later and what it concludes later still; comparing the shares
    of each variable's eventual change reached after 1 or 2 years orders them by delay.
    ``at`` and ``end`` must be saved times.
    """
    diff = series(run, name) - series(base, name)
    _one_run(diff.rename(name), "share_of_change")
    try:
        now, final = float(diff.sel({TIME: at})), float(diff.sel({TIME: end}))
    except KeyError:
        raise ValueError(f"share_of_change: t={at:g} and t={end:g} must be saved times of "
                         f"{name} (saved every {float(diff[TIME][1] - diff[TIME][0]):g} "
                         f"from {float(diff[TIME][0]):g})") from None
    if final == 0:
        raise ValueError(f"share_of_change: {name} is the same in both runs at t={end:g}, "
                         "so there is no change to take a share of")
    return now / final


def relative_difference(a: xr.Dataset, b: xr.Dataset,
                        names: Iterable[str]) -> dict[str, float]:
    """max over time of ``|a - b|``, divided by max ``|b|``, for each variable name.

    A trajectory-wide measure of how far two runs of the same model disagree (two time
    steps, two solvers, the engine against a reference): scaling by the variable's own
    size makes a 0.5% difference in capability (about 1) and in a hazard (about 0.005)
    mean the same. ``b`` is interpolated to ``a``'s times, so runs saved on different grids
    compare; ``a`` must lie within ``b``'s horizon. A variable that is zero throughout
    ``b`` gives 0 if ``a`` is zero too, else inf.
    """
    t_a, t_b = a[TIME].values, b[TIME].values
    if t_a.min() < t_b.min() or t_a.max() > t_b.max():
        raise ValueError(f"relative_difference: the first run covers t={t_a.min():g} to "
                         f"{t_a.max():g}, outside the second's t={t_b.min():g} to "
                         f"{t_b.max():g}; b is interpolated to a's times")
    out: dict[str, float] = {}
    for name in names:
        va, vb = series(a, name), series(b, name)
        diff = float(np.abs(va - vb.interp({TIME: a[TIME]})).max())
        scale = float(np.abs(vb).max())
        out[name] = diff / scale if scale else (0.0 if diff == 0 else math.inf)
    return out


REDUCTIONS = ("final", "min", "max", "mean")


def reduce_time(da: xr.DataArray, how: str) -> xr.DataArray:
    """One number per run from a time series: its final, minimum, maximum or mean value."""
    if how not in REDUCTIONS:
        raise ValueError(f"reduce={how!r}: choose one of {', '.join(REDUCTIONS)}")
    if "time" not in da.dims:
        return da
    if how == "final":
        return da.isel(time=-1)
    return getattr(da, how)("time")


def sobol_indices(ds: xr.Dataset, problem: dict[str, Any], outcomes: Sequence[str],
                  reduce: str = "final", seed: int | None = None) -> xr.Dataset:
    """First-order and total Sobol indices of each outcome, from a Saltelli ensemble.

    ``ds`` holds the runs of SALib's Sobol sample of ``problem`` along ``run``, in the
    sample's order; each outcome is reduced over time (``reduce``) to one number per run.
    Returns dims (outcome, parameter) with ``S1``, ``S1_conf``, ``ST``, ``ST_conf``.
    """
    names = list(problem["names"])
    missing = [o for o in outcomes if o not in ds.data_vars]
    if missing:
        raise KeyError(f"outcome(s) {', '.join(missing)} not in the results; variables: "
                       f"{', '.join(map(str, ds.data_vars))}")
    if "run" not in ds.dims:
        raise ValueError("Sobol indices need an ensemble: the results have no 'run' dim")
    expected = ds.sizes["run"] / (len(names) + 2)
    if expected != int(expected):
        raise ValueError(f"{ds.sizes['run']} runs is not a Saltelli sample of {len(names)} "
                         "parameters (N * (D + 2) runs, without second-order terms)")
    fields = ("S1", "S1_conf", "ST", "ST_conf")
    table = {f: np.empty((len(outcomes), len(names))) for f in fields}
    for i, outcome in enumerate(outcomes):
        y = reduce_time(ds[outcome], reduce).transpose("run", ...).values.reshape(-1)
        if not np.all(np.isfinite(y)):
            raise ValueError(f"{outcome}: some runs are not finite; Sobol indices need all")
        if np.ptp(y) == 0:  # no variance to apportion: the indices are undefined
            for f in fields:
                table[f][i] = np.nan
            continue
        result = sobol(problem, xr.DataArray(y, dims="run", name=outcome),
                       second_order=False, seed=seed)
        for f in fields:
            table[f][i] = result[f].values
    descriptions = {
        "S1": "first-order Sobol index: share of the outcome's variance due to the "
              "parameter alone",
        "ST": "total Sobol index: share of the variance involving the parameter, "
              "interactions included",
    }
    data = {}
    for f in fields:
        base = f.split("_")[0]
        long_name = descriptions[base] + (" (95% confidence half-width)" if "conf" in f else "")
        data[f] = (("outcome", "parameter"), table[f], {"units": "1", "long_name": long_name})
    coords = {"outcome": list(outcomes), "parameter": names,
              "bound_min": ("parameter", [b[0] for b in problem["bounds"]]),
              "bound_max": ("parameter", [b[1] for b in problem["bounds"]])}
    return xr.Dataset(data, coords=coords,
                      attrs={"reduce": reduce, "n_runs": int(ds.sizes["run"]),
                             "method": "Sobol (SALib, Saltelli sampling, first and total "
                                       "order)"})
