"""SAMPLE IF TRUE, FORECAST, NPV and GAMMA LN, against values worked out by hand or the
equations Vensim's reference gives for them."""

from __future__ import annotations

import math

import numpy as np
import pytest

import deterrence


def run(make_model, equations, method="euler", **controls):
    model = deterrence.load(make_model(equations, name="functions",
                                       **{"final": 5, "step": 0.5, **controls}))
    return model.simulate(method=method)


def test_sample_if_true_holds_the_last_sample(make_model):
    """Sampled while 2 <= Time < 3 (Time * 10: 20, 25), -1 before, 25 held after."""
    ds = run(make_model, [("s", "SAMPLE IF TRUE(Time >= 2 :AND: Time < 3, Time * 10, -1)")])
    t = ds["time"].values
    expected = np.where(t < 2, -1.0, np.where(t < 3, 10 * t, 25.0))
    np.testing.assert_array_equal(ds["s"].values, expected)


def test_sample_if_true_of_a_stock_and_an_ensemble(make_model):
    """A stock growing by 1 a unit, sampled each time it crosses a whole number of
    units; the threshold differs by run, and each run holds its own samples."""
    model = deterrence.load(make_model([
        ("level", "INTEG(1, 0)"),
        ("s", "SAMPLE IF TRUE(MODULO(level, every) = 0, level, 0)"),
        ("every", "2")], name="sampled", final=5, step=0.5))
    ds = model.simulate(method="euler", params={"every": [2, 3]})
    t = ds["time"].values
    np.testing.assert_array_equal(ds["s"].isel(run=0).values, 2 * np.floor(t / 2))
    np.testing.assert_array_equal(ds["s"].isel(run=1).values, 3 * np.floor(t / 3))


def test_sample_if_true_needs_a_fixed_step(make_model):
    with pytest.raises(deterrence.ModelError, match=r"SAMPLE IF TRUE.*fixed-step"):
        run(make_model, [("s", "SAMPLE IF TRUE(Time > 1, Time, 0)")], method="RK45")


def test_forecast_is_the_input_extrapolated_along_its_trend(make_model):
    """FORECAST(x, 2, 3) = x * (1 + TREND(x, 2, 0) * 3): written out as Vensim's
    reference defines TREND, on a growing input."""
    ds = run(make_model, [
        ("x", "10 + Time ^ 2"),
        ("f", "FORECAST(x, 2, 3)"),
        ("avg", "INTEG((x - avg) / 2, x)"),
        ("by hand", "x * (1 + ZIDZ(x - avg, 2 * ABS(avg)) * 3)"),
    ])
    np.testing.assert_allclose(ds["f"].values, ds["by_hand"].values, rtol=1e-14)
    assert float(ds["f"].isel(time=-1)) > float(ds["x"].isel(time=-1))


def test_npv_discounts_each_payment_but_the_current_one(make_model):
    """100 a year at 10 %, TIME STEP 1: NPV(t) = sum of 100 / 1.1^k for k = 0..t."""
    ds = run(make_model, [("value", "NPV(100, 0.1, 0, 1)")], final=3, step=1)
    expected = np.cumsum([100 / 1.1 ** k for k in range(4)])
    np.testing.assert_allclose(ds["value"].values, expected, rtol=1e-12)


def test_npv_factor_and_initial_value(make_model):
    ds = run(make_model, [("value", "NPV(100, 0.1, 50, 2)")], final=1, step=1)
    np.testing.assert_allclose(ds["value"].values, [2 * (50 + 100), 2 * (150 + 100 / 1.1)])


def test_npv_takes_four_arguments(make_model):
    with pytest.raises(deterrence.ModelError, match=r"NPV.*4 arguments"):
        run(make_model, [("value", "NPV(100, 0.1, 0)")])


@pytest.mark.parametrize("backend", ["numpy", "native"])
def test_gamma_ln(make_model, backend):
    ds = deterrence.load(make_model([
        ("g", "GAMMA LN(x + Time)"), ("x", "5"), ("s", "INTEG(g, 0)")], name="gamma",
        final=1, step=0.5)).simulate(method="euler", backend=backend,
                                     params={"x": [5, 0.5, 1]})
    np.testing.assert_allclose(ds["g"].sel(time=0).values,
                               [math.log(24), math.log(math.sqrt(math.pi)), 0.0], atol=1e-12)
    np.testing.assert_allclose(ds["g"].sel(time=1).values,
                               [math.log(120), math.log(math.sqrt(math.pi) / 2), 0.0],
                               atol=1e-12)


def test_get_time_value_of_the_simulation_time_is_time_plus_the_offset(make_model):
    """GET TIME VALUE(0, offset, 0): the simulation time moved by offset, in its units;
    each run of an ensemble its own offset, and the same numbers as PySD's run."""
    path = make_model([("later", "GET TIME VALUE(0, offset, 0)"), ("offset", "2"),
                       ("s", "INTEG(GET TIME VALUE(0, -1, 0), 0)")], name="clock",
                      final=3, step=1)
    model = deterrence.load(path)
    ds = model.simulate(method="euler", params={"offset": [2.0, -0.5]})
    t = ds["time"].values
    np.testing.assert_allclose(ds["later"].values, np.stack([t + 2, t - 0.5], axis=1))
    np.testing.assert_allclose(ds["s"].values[:, 0], [0, -1, -1, 0])  # Euler sum of t - 1
    pysd = pytest.importorskip("pysd")
    theirs = pysd.read_vensim(str(path)).run(return_columns=["later"])
    np.testing.assert_allclose(model.simulate(method="euler")["later"].values,
                               theirs["later"].values)


def test_depreciate_straightline_returns_each_investment_evenly_over_dtime(make_model):
    """SDEverywhere's depreciate model (Vensim's table: 1e9 invested in 2022 and 2.5e9 in
    2026 return 5e7 and 1.25e8 a year for 20 years each, from the year invested)."""
    ds = run(make_model, [
        ("new capacity", "IF THEN ELSE(Time = 2022, 1000, IF THEN ELSE(Time = 2026, 2500, "
                         "0))"),
        ("str", "1e+06 * new capacity"),
        ("depreciated", "DEPRECIATE STRAIGHTLINE(str, dtime, 1, 0)"), ("dtime", "20")],
        initial=2020, final=2050, step=1)
    t = ds["time"].values
    expected = (np.where((t >= 2022) & (t < 2042), 5e7, 0)
                + np.where((t >= 2026) & (t < 2046), 1.25e8, 0))
    np.testing.assert_allclose(ds["depreciated"].values, expected, rtol=1e-12)


def test_depreciate_straightline_on_a_finer_step_an_initial_value_and_an_ensemble(
        make_model):
    """TIME STEP 0.5: an investment flow of 4 for one step (2 in all) returns 2 / 3 a year
    for dtime 3 (6 steps); init 1 returns 1 as long as the stream stays 1."""
    model = deterrence.load(make_model([
        ("pulse in", "IF THEN ELSE(Time = 1, 4, 0)"), ("base", "1"),
        ("one off", "DEPRECIATE STRAIGHTLINE(pulse in, 3, 0.5, 0)"),
        ("steady", "DEPRECIATE STRAIGHTLINE(base, 3, 0.5, base)")],
        name="depreciation", final=6, step=0.5))
    ds = model.simulate(method="euler", params={"base": [1.0, 2.5]})
    t = ds["time"].values
    np.testing.assert_allclose(ds["one_off"].values[:, 0],
                               np.where((t >= 1) & (t < 4), 4 * 0.5 / 3, 0), atol=1e-12)
    np.testing.assert_allclose(ds["steady"].values, np.tile([1.0, 2.5], (len(t), 1)),
                               rtol=1e-12)


def test_depreciate_straightline_with_another_fiscal_period_is_refused(make_model):
    path = make_model([("d", "DEPRECIATE STRAIGHTLINE(1, 3, 1, 0)")], name="fiscal",
                      step=0.25)
    with pytest.raises(deterrence.UnsupportedError, match=r"fiscal period \(1\) other than "
                       r"the TIME STEP \(0.25\)"):
        deterrence.load(path)
    model = deterrence.load(make_model([("d", "DEPRECIATE STRAIGHTLINE(1, 3, 0.25, 0)")],
                                       name="adaptive", step=0.25))
    with pytest.raises(deterrence.ModelError, match=r"DEPRECIATE STRAIGHTLINE in 'd'.*fixed"):
        model.simulate(method="RK45")
