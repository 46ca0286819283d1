"""Time-switched inputs: adaptive methods neither step over nor smear a switch.

Each input u(t) drives two stocks: ``x' = u`` (its integral) and ``y' = u - y / tau`` (a
first-order response). Both have closed forms built from step and ramp responses, so the
adaptive solvers must hit them to 1e-6 with any ``max_step``: the engine integrates
segment by segment between switch times. The switch times are off the TIME STEP grid on
purpose. Fixed-step Euler follows Vensim's documented rules instead.
"""

from __future__ import annotations

import numpy as np
import pytest

import deterrence

ADAPTIVE = ["RK45", "RK23", "DOP853", "LSODA", "Radau", "BDF"]
TAU = 2.0


def step_integral(t, t0):
    return np.maximum(t - t0, 0.0)


def ramp_integral(t, t0):
    return np.maximum(t - t0, 0.0) ** 2 / 2


def step_response(t, t0):
    s = np.maximum(t - t0, 0.0)
    return TAU * (1 - np.exp(-s / TAU))


def ramp_response(t, t0):
    s = np.maximum(t - t0, 0.0)
    return TAU * (s - TAU * (1 - np.exp(-s / TAU)))


# input -> its decomposition into steps [(height, time)] and ramps [(slope, time)];
# the model starts at time 0, so a step at 0 is an input that is on from the start
TRAIN_STARTS = [1.1, 3.6, 6.1]  # PULSE TRAIN(1.1, 0.6, 2.5, 8.2): next start 8.6 > end
INPUTS = {
    "step": ("STEP(2, 3.3)", [(2, 3.3)], []),
    "pulse": ("PULSE(2.7, 1.9)", [(1, 2.7), (-1, 4.6)], []),
    "pulse train": ("PULSE TRAIN(1.1, 0.6, 2.5, 8.2)",
                    [(sign, s + off) for s in TRAIN_STARTS for sign, off in ((1, 0), (-1, 0.6))],
                    []),
    "ramp": ("RAMP(0.5, 2.2, 6.9)", [], [(0.5, 2.2), (-0.5, 6.9)]),
    "time comparison": ("IF THEN ELSE(Time >= 4.4, 3, 1)", [(1, 0.0), (2, 4.4)], []),
    "reversed comparison": ("IF THEN ELSE(4.4 < Time, 3, 1)", [(1, 0.0), (2, 4.4)], []),
    "comparison with a constant": ("IF THEN ELSE(Time > switch time, 3, 1)",
                                   [(1, 0.0), (2, 4.4)], []),
    "narrow window": ("IF THEN ELSE(Time >= 4 :AND: Time < 4.1, 10, 0)",
                      [(10, 4), (-10, 4.1)], []),
}


def exact(kind, t):
    _, steps, ramps = INPUTS[kind]
    x = sum(h * step_integral(t, t0) for h, t0 in steps) + sum(
        s * ramp_integral(t, t0) for s, t0 in ramps)
    y = sum(h * step_response(t, t0) for h, t0 in steps) + sum(
        s * ramp_response(t, t0) for s, t0 in ramps)
    return x, y


def switch_model(make_model, equation, **controls):
    return deterrence.load(make_model([
        ("x", "INTEG(u, 0)"),
        ("y", "INTEG(u - y / tau, 0)"),
        ("u", equation),
        ("tau", str(TAU)),
        ("switch time", "4.4"),
    ], name="switch", **{"final": 10, "step": 0.25, "saveper": 0.5, **controls}))


@pytest.mark.parametrize("max_step", [None, 1000.0], ids=["default max_step", "max_step=1000"])
@pytest.mark.parametrize("method", ADAPTIVE)
@pytest.mark.parametrize("kind", list(INPUTS))
def test_adaptive_methods_integrate_switches_exactly(make_model, kind, method, max_step):
    model = switch_model(make_model, INPUTS[kind][0])
    ds = model.simulate(method=method, max_step=max_step, rtol=1e-9, atol=1e-12)
    x, y = exact(kind, ds["time"].values)
    np.testing.assert_allclose(ds["x"].values, x, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ds["y"].values, y, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("method", ADAPTIVE)
def test_switch_is_exact_even_at_default_tolerances(make_model, method):
    """The integral of a STEP is piecewise linear: only a missed switch can spoil it."""
    model = switch_model(make_model, INPUTS["step"][0])
    ds = model.simulate(method=method, max_step=1000.0)
    x, _ = exact("step", ds["time"].values)
    np.testing.assert_allclose(ds["x"].values, x, rtol=0, atol=1e-9)


def test_a_switch_between_save_times_is_seen_with_a_coarse_saveper(make_model):
    """A one-unit pulse far from any save time still lands in the stock."""
    model = switch_model(make_model, "PULSE(3.31, 0.01)", saveper=5)
    ds = model.simulate(method="RK45", max_step=1000.0)
    np.testing.assert_allclose(ds["x"].values, [0.0, 0.01, 0.01], rtol=0, atol=1e-12)


@pytest.mark.parametrize("method", ["RK45", "LSODA", "BDF"])
def test_switch_times_that_differ_between_runs_are_all_exact(make_model, method):
    model = switch_model(make_model, "IF THEN ELSE(Time > switch time, 3, 1)")
    times = np.array([1.3, 4.4, 7.7])
    ds = model.simulate({"switch time": times}, method=method, max_step=1000.0,
                        rtol=1e-9, atol=1e-12)
    t = ds["time"].values
    for run, t_switch in enumerate(times):
        expected = t + 2 * step_integral(t, t_switch)
        np.testing.assert_allclose(ds["x"].isel(run=run).values, expected, atol=1e-6)


@pytest.mark.parametrize("method", ADAPTIVE)
def test_comparison_on_an_expression_of_time_is_not_stepped_over(make_model, method):
    model = switch_model(make_model, "IF THEN ELSE(Time - 4 >= 0 :AND: Time - 4.1 < 0, 10, 0)")
    ds = model.simulate(method=method, max_step=1000.0)
    x, _ = exact("narrow window", ds["time"].values)
    np.testing.assert_allclose(ds["x"].values, x, rtol=1e-6, atol=1e-6)


# -- Euler follows Vensim --------------------------------------------------------------


@pytest.mark.parametrize(("dt", "t_step"), [(0.25, 3.0), (1.0, 3.0), (0.1, 0.3), (0.125, 0.5)])
def test_euler_step_switches_at_the_step_whose_time_reaches_the_step_time(
        make_model, dt, t_step):
    model = switch_model(make_model, f"STEP(2, {t_step})", final=5, step=dt, saveper=dt)
    ds = model.simulate(method="euler")
    t = ds["time"].values
    k = round(t_step / dt)
    u = ds["u"].values
    assert np.all(u[:k] == 0), "STEP is 0 before the step time"
    assert np.all(u[k:] == 2), "STEP is on from the step whose time equals the step time"
    # the stock integrates the input from that step on: x(t) = 2 (t - t_step)
    np.testing.assert_allclose(ds["x"].values, 2 * step_integral(t, t_step), atol=1e-12)


def test_euler_step_off_the_grid_follows_vensims_half_step_rule(make_model):
    """Vensim: STEP = IF THEN ELSE(Time + TIME STEP/2 > step time, height, 0).

    With TIME STEP 1 a step at 3.3 is on at Time 3 (3.5 > 3.3), and one at 3.6 at Time 4.
    """
    model = switch_model(make_model, "STEP(1, 3.3) + STEP(10, 3.6)", final=6, step=1,
                         saveper=1)
    u = model.simulate(method="euler")["u"].values
    np.testing.assert_array_equal(u, [0, 0, 0, 1, 11, 11, 11])


def test_euler_time_comparison_uses_time_itself(make_model):
    model = switch_model(make_model, "IF THEN ELSE(Time >= 3.3, 1, 0)", final=6, step=1,
                         saveper=1)
    u = model.simulate(method="euler")["u"].values
    np.testing.assert_array_equal(u, [0, 0, 0, 0, 1, 1, 1])


def test_euler_pulse_lasts_its_width(make_model):
    model = switch_model(make_model, "PULSE(3, 1)", final=6, step=0.25, saveper=0.25)
    ds = model.simulate(method="euler")
    t, u = ds["time"].values, ds["u"].values
    np.testing.assert_array_equal(u, ((t >= 3) & (t < 4)).astype(float))
    assert float(ds["x"].isel(time=-1)) == pytest.approx(1.0, abs=1e-12)


def test_euler_pulse_train_repeats(make_model):
    model = switch_model(make_model, "PULSE TRAIN(1, 0.5, 2, 6)", final=8, step=0.25,
                         saveper=0.25)
    ds = model.simulate(method="euler")
    t, u = ds["time"].values, ds["u"].values
    on = np.zeros_like(t, dtype=bool)
    for start in (1, 3, 5):
        on |= (t >= start) & (t < start + 0.5)
    np.testing.assert_array_equal(u, on.astype(float))


def test_euler_ramp_rises_between_its_times(make_model):
    model = switch_model(make_model, "RAMP(2, 1, 3)", final=5, step=0.5, saveper=0.5)
    ds = model.simulate(method="euler")
    t = ds["time"].values
    np.testing.assert_allclose(ds["u"].values, 2 * (np.clip(t, 1, 3) - 1), atol=1e-12)


def test_euler_pulse_of_zero_width_lasts_one_time_step(make_model):
    model = switch_model(make_model, "PULSE(3, 0)", final=6, step=0.25, saveper=0.25)
    ds = model.simulate(method="euler")
    assert float(ds["u"].sel(time=3.0)) == 1.0
    assert float(ds["x"].isel(time=-1)) == pytest.approx(0.25)


@pytest.mark.parametrize("equation", ["STEP(2, 3)", "2 * PULSE(3, 10)"])
def test_rk4_integrates_a_step_with_the_right_area(make_model, equation):
    model = switch_model(make_model, equation, final=5, step=0.25, saveper=0.25)
    ds = model.simulate(method="rk4")
    t = ds["time"].values
    np.testing.assert_allclose(ds["x"].values, 2 * step_integral(t, 3.0), atol=1e-9)
