"""deterrence.analysis on small synthetic series whose answers are known by construction.

Times are multiples of 1/4 and the dips are piecewise linear with binary-fraction slopes,
so every threshold falls exactly on a saved time and the expected values are exact.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from deterrence import analysis
from deterrence.analysis import (
    fall_and_recovery,
    recovery_time,
    relative_difference,
    series,
    share_of_change,
    time_of_max,
    time_of_min,
)

TIME = np.arange(0, 50.25, 0.25)


def trajectory(values, name="mutual_trust", time=TIME):
    return xr.DataArray(np.asarray(values, dtype=float), dims="time",
                        coords={"time": xr.Variable("time", time, {"units": "Year"})},
                        name=name)


def dip(onset=10.0, bottom=14.0, closed=30.0, depth=0.4, time=TIME):
    """A gap of `depth` below 0.7, growing linearly from `onset` to `bottom`, then closing
    linearly until `closed`."""
    gap = np.interp(time, [onset, bottom, closed], [0.0, depth, 0.0])
    return trajectory(0.7 - gap, time=time)


@pytest.fixture
def base():
    return trajectory(np.full(TIME.size, 0.7))


# --- series ---------------------------------------------------------------------------------


def test_series_spreads_a_constant_over_time():
    ds = xr.Dataset({"defence_spending": 0.02, "mutual_trust": trajectory(TIME / 50)},
                    coords={"time": TIME})
    spending = series(ds, "defence_spending")
    assert spending.dims == ("time",)
    assert np.all(spending.values == 0.02)
    xr.testing.assert_identical(series(ds, "mutual_trust"), ds.mutual_trust)


def test_series_needs_simulation_results():
    with pytest.raises(ValueError, match="no 'time' dimension"):
        series(xr.Dataset({"x": 1.0}), "x")


# --- time_of_min / time_of_max -----------------------------------------------------------


def test_time_of_min_and_max_find_the_trough_and_the_peak():
    wave = trajectory(np.sin(2 * np.pi * TIME / 20))  # peaks at 5, 25, 45; troughs at 15, 35
    assert time_of_max(wave) == 5
    assert time_of_min(wave) == 15
    assert time_of_max(wave, after=10) == 25
    assert time_of_min(wave, after=20) == 35


def test_time_of_min_after_skips_an_earlier_lower_value():
    # lowest at the start (a stock building up from a low value), then a shock's trough
    run = trajectory(np.interp(TIME, [0, 5, 10, 14, 30], [0.1, 0.7, 0.7, 0.3, 0.7]))
    assert time_of_min(run) == 0
    assert time_of_min(run, after=5) == 14


def test_a_tie_gives_the_first_time():
    flat = trajectory(np.ones(TIME.size))
    assert time_of_min(flat) == 0
    assert time_of_max(flat, after=7) == 7


def test_time_of_min_measures_one_run():
    runs = xr.concat([dip(), dip(depth=0.2)], dim="run")
    with pytest.raises(ValueError, match=r"one run.*\['run'\].*\.sel\(run="):
        time_of_min(runs)


def test_time_of_max_after_the_end_is_an_error():
    with pytest.raises(ValueError, match="no time at or after t=60"):
        time_of_max(dip(), after=60)


def test_a_constant_has_no_time_of_min():
    with pytest.raises(ValueError, match=r"no 'time' dimension.*series"):
        time_of_min(xr.DataArray(0.5, name="defence_spending"))


# --- fall_and_recovery -----------------------------------------------------------------------


def test_a_known_dip_gives_the_known_fall_and_recovery_times(base):
    # gap 0.4 (t-10)/4 until 14, then 0.4 (30-t)/16: 75% of it at t=13 (3 years after the
    # onset); closed to 25% of it at t=26 (12 years after the worst point)
    assert fall_and_recovery(dip(), base, onset=10, share=0.75) == (3.0, 12.0)
    # the default share 0.9: 90% at t=13.6 -> first saved time 13.75; 10% left at t=28.4 ->
    # first saved time 28.5, 14.5 years after the worst point
    assert fall_and_recovery(dip(), base, onset=10) == (3.75, 14.5)


def test_the_dip_is_measured_against_the_base_run_not_the_start():
    """A run that declines anyway: the shock's dip is the gap to the declining base."""
    trend = trajectory(0.7 - 0.004 * TIME)
    shocked = trend - (0.7 - dip())
    assert fall_and_recovery(shocked, trend, onset=10, share=0.75) == (3.0, 12.0)


def test_an_exponential_recovery_takes_tau_ln10_to_close_ninety_percent(base):
    tau = 4.0
    gap = np.where(TIME < 14, np.interp(TIME, [10, 14], [0, 0.25]),
                   0.25 * np.exp(-(TIME - 14) / tau))
    run = trajectory(0.7 - gap)
    fall, recovery = fall_and_recovery(run, base, onset=10)
    assert fall == 3.75  # 90% of the gap at t=13.6, first saved time 13.75
    assert recovery == pytest.approx(tau * math.log(10), abs=0.25)  # 9.21 -> 9.25


def test_a_permanent_shock_never_recovers(base):
    run = dip(onset=10, bottom=14, closed=200)  # closes long after the run ends
    fall, recovery = fall_and_recovery(run, base, onset=10, share=0.75)
    assert fall == 3
    assert math.isinf(recovery)


def test_no_dip_raises_a_clear_error(base):
    with pytest.raises(ValueError, match=r"mutual_trust: no dip below the base run at or "
                                         r"after t=10"):
        fall_and_recovery(base.copy(), base, onset=10)
    above = base + 0.1
    with pytest.raises(ValueError, match="other way round"):
        fall_and_recovery(above, base, onset=10)


def test_a_dip_before_the_onset_does_not_count(base):
    with pytest.raises(ValueError, match="no dip"):
        fall_and_recovery(dip(onset=2, bottom=4, closed=8), base, onset=10)


def test_fall_and_recovery_checks_its_inputs(base):
    with pytest.raises(ValueError, match="after the end of the run"):
        fall_and_recovery(dip(), base, onset=51)
    for share in (0, 1, 1.5):
        with pytest.raises(ValueError, match="share must be between 0 and 1"):
            fall_and_recovery(dip(), base, onset=10, share=share)
    coarse = base.isel(time=slice(None, None, 2))
    with pytest.raises(ValueError, match=r"different times.*interp"):
        fall_and_recovery(dip(), coarse, onset=10)
    with pytest.raises(ValueError, match="one run"):
        fall_and_recovery(xr.concat([dip(), dip()], dim="run"), base, onset=10)


# --- recovery_time ---------------------------------------------------------------------------


def test_recovery_time_of_one_run_is_that_of_fall_and_recovery(base):
    value = recovery_time(dip(), base, onset=10)
    assert value.dims == ()
    assert float(value) == fall_and_recovery(dip(), base, onset=10)[1]
    assert value.name == "recovery_time"
    assert value.attrs["units"] == "Year"


def test_recovery_time_over_a_sweep(base):
    """One value per policy, each against the same base; inf where trust never recovers."""
    runs = xr.concat([dip(closed=30), dip(closed=22), dip(closed=200)],
                     dim=xr.Variable("policy", ["status_quo", "reassurance", "none"]))
    times = recovery_time(runs, base, onset=10, share=0.75)
    assert times.dims == ("policy",)
    assert list(times.policy.values) == ["status_quo", "reassurance", "none"]
    assert times.sel(policy="status_quo") == 12  # 16-year closing: 75% closed after 12
    assert times.sel(policy="reassurance") == 6  # 8-year closing: after 6
    assert math.isinf(times.sel(policy="none"))


def test_recovery_time_names_the_run_without_a_dip(base):
    runs = xr.concat([dip(), base], dim=xr.Variable("scenario", ["shock", "baseline"]))
    with pytest.raises(ValueError, match=r"mutual_trust \(scenario='baseline'\): no dip"):
        recovery_time(runs, base, onset=10)


# --- share_of_change -----------------------------------------------------------------------


def test_share_of_change_of_a_first_order_delay():
    """A first-order approach with time constant 2 has 1 - exp(-t/2) of its change at t."""
    calm = xr.Dataset({"perceived_capability": 1.0}, coords={"time": TIME})  # a constant
    run = xr.Dataset({"perceived_capability": ("time", 1 + 0.5 * (1 - np.exp(-TIME / 2)))},
                     coords={"time": TIME})
    for at in (0.5, 1, 2, 5):
        assert share_of_change(run, calm, "perceived_capability", at, 50) == pytest.approx(
            (1 - np.exp(-at / 2)) / (1 - np.exp(-25)))


def test_share_of_change_needs_a_change_and_saved_times():
    ds = xr.Dataset({"x": ("time", TIME / 50)}, coords={"time": TIME})
    with pytest.raises(ValueError, match="same in both runs"):
        share_of_change(ds, ds, "x", 1, 50)
    other = ds + 1
    with pytest.raises(ValueError, match="saved times"):
        share_of_change(other, ds, "x", 1.1, 50)


# --- relative_difference --------------------------------------------------------------------


def test_relative_difference_is_scaled_by_the_variables_size():
    b = xr.Dataset({"hazard": ("time", 0.005 + 0.001 * np.sin(TIME)),
                    "capability": ("time", 1.5 + 0 * TIME)}, coords={"time": TIME})
    a = b.copy()
    a["hazard"] = b.hazard * 1.01
    a["capability"] = b.capability + 0.015
    diff = relative_difference(a, b, ["hazard", "capability"])
    assert diff["hazard"] == pytest.approx(0.01)
    assert diff["capability"] == pytest.approx(0.01)


def test_relative_difference_interpolates_to_the_first_runs_times():
    fine = np.arange(0, 50.0 + 1 / 64, 1 / 64)
    b = xr.Dataset({"x": ("time", 1 + fine / 50)}, coords={"time": fine})
    a = xr.Dataset({"x": ("time", 1 + TIME / 50)}, coords={"time": TIME})
    assert relative_difference(a, b, ["x"])["x"] == pytest.approx(0, abs=1e-12)
    longer = xr.Dataset({"x": ("time", np.ones(12))}, coords={"time": np.arange(0, 60, 5.0)})
    with pytest.raises(ValueError, match="outside"):
        relative_difference(longer, b, ["x"])


def test_relative_difference_of_a_variable_that_is_zero_throughout():
    zero = xr.Dataset({"x": ("time", 0 * TIME)}, coords={"time": TIME})
    assert relative_difference(zero, zero, ["x"]) == {"x": 0.0}
    assert math.isinf(relative_difference(zero + 1e-9, zero, ["x"])["x"])


# --- architecture --------------------------------------------------------------------------


def test_analysis_never_imports_the_engine():
    """compile -> integrate -> experiments -> plots/analysis: imports run one way."""
    tree = ast.parse(Path(analysis.__file__).read_text())
    siblings = {p.stem for p in Path(analysis.__file__).parent.glob("*.py")}
    imported = [node.module or "" for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and (node.level or
                                                         (node.module or "").startswith("deter"))
                and not (node.level == 1 and node.module in siblings)]  # analysis's own
    imported += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names if alias.name.startswith("deterrence")]
    assert not imported, f"deterrence.analysis imports {imported}"
