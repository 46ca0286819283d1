"""Vensim's rules at the edges of PULSE TRAIN and DELAY N (the two silent mismatches).

Expectations are worked out by hand from the rules, which come from Vensim's reference
and two implementations checked against Vensim's output:

- PULSE TRAIN(start, width, tbetween, end): pulse k is PULSE(start + k*tbetween, width),
  tested at Time + TIME STEP/2 (Vensim's PULSE: ``time plus > start :AND: time plus <
  start + width``), at least one TIME STEP wide ("If width is less than or equal to TIME
  STEP the pulses will only last one TIME STEP"), while Time <= end (SDEverywhere's
  ``_PULSE_TRAIN``: ``_time <= end``; xmutil, Vensim's XMILE converter, writes
  ``TIME <= end``). A pulse that starts exactly at ``end`` lasts one step; one still on at
  ``end`` stops after the step at ``end``. "If tbetween is smaller than width then 1 will
  be returned between start and end."
- DELAY N: "for the DELAY N function to make sense delay time must be bigger than
  order * TIME STEP. If this is not the case Vensim will ... reduce the order so that
  this is true"; the behaviour is then "essentially the same as DELAY MATERIAL" (a
  pipeline). Without the reduction, Euler with a stage time below TIME STEP drains a
  stage by more than it holds and the output oscillates.
"""

from __future__ import annotations

import numpy as np
import pytest

import deterrence


def train_model(make_model, equation, **controls):
    return deterrence.load(make_model([
        ("x", "INTEG(u, 0)"), ("u", equation)], name="train",
        **{"final": 8, "step": 0.25, "saveper": 0.25, **controls}))


def on_at(ds, times):
    t = ds["time"].values
    return np.isin(np.round(t, 9), np.round(times, 9)).astype(float)


@pytest.mark.parametrize(("equation", "on"), [
    # pulses at 1, 3 and 5; the one at 5 starts at the end time: one step (Time 5 <= 5)
    ("PULSE TRAIN(1, 0.5, 2, 5)", [1, 1.25, 3, 3.25, 5]),
    # the end falls inside the second pulse: on up to and including Time = end
    ("PULSE TRAIN(1, 1, 2, 3.5)", [1, 1.25, 1.5, 1.75, 3, 3.25, 3.5]),
    # the end just after a step's time (3.1): that step is on, since Time 3 <= 3.1
    ("PULSE TRAIN(1, 0.5, 2, 3.1)", [1, 1.25, 3]),
    # a width shorter than TIME STEP lasts one TIME STEP
    ("PULSE TRAIN(1, 0.1, 2, 6)", [1, 3, 5]),
    # tbetween shorter than width: 1 from start to end
    ("PULSE TRAIN(1, 3, 2, 4)", np.arange(1, 4.01, 0.25)),
    # no pulse starts after the end, even one whose window would reach past it
    ("PULSE TRAIN(1, 0.5, 2, 4.9)", [1, 1.25, 3, 3.25]),
])
def test_euler_pulse_train_follows_vensim_near_the_end(make_model, equation, on):
    for backend in ("numpy", "native"):
        ds = train_model(make_model, equation).simulate(method="euler", backend=backend)
        np.testing.assert_array_equal(ds["u"].values, on_at(ds, on), err_msg=backend)
        assert float(ds["x"].isel(time=-1)) == pytest.approx(0.25 * len(on))


def test_euler_ensemble_pulse_trains_end_per_run(make_model):
    """The end time may differ between runs (a parameter): each run ends its own train."""
    model = deterrence.load(make_model([
        ("x", "INTEG(u, 0)"), ("u", "PULSE TRAIN(1, 0.5, 2, train end)"),
        ("train end", "5")], name="ends", final=8, step=0.25))
    ds = model.simulate(method="euler", params={"train end": [5, 3.1, 8]})
    np.testing.assert_allclose(ds["x"].isel(time=-1).values, [1.25, 0.75, 2.0])


def test_adaptive_pulse_train_integrates_to_the_end_time(make_model):
    """Adaptive methods see continuous time: on during [1, 2) and [3, 3.5] (area 1.5)."""
    ds = train_model(make_model, "PULSE TRAIN(1, 1, 2, 3.5)").simulate(method="RK45")
    assert float(ds["x"].isel(time=-1)) == pytest.approx(1.5, abs=1e-6)


def test_adaptive_pulse_train_with_a_short_interval_is_on_from_start_to_end(make_model):
    ds = train_model(make_model, "PULSE TRAIN(1, 3, 0, 4.4)").simulate(method="RK45")
    assert float(ds["x"].isel(time=-1)) == pytest.approx(3.4, abs=1e-6)


def delay_model(make_model, delay, order, step=0.5, final=6):
    return deterrence.load(make_model([
        ("out", f"DELAY N(inp, delay time, 0, {order})"), ("inp", "STEP(10, 1)"),
        ("delay time", str(delay)),
        ("sent", "INTEG(inp, 0)"), ("received", "INTEG(out, 0)")],
        name="delayn", final=final, step=step))


def test_delay_n_with_stages_shorter_than_time_step_reduces_its_order(make_model):
    """DELAY N(STEP(10, 1), 1, 0, 4) with TIME STEP 0.5: stage time 0.25 < 0.5, so the
    order is reduced to 1 / 0.5 = 2; two stages of one TIME STEP each pass the input on
    one step each (L' = in - L/dt gives L = dt * in after a step): a pipeline of 1 time
    unit, so the output is 10 from time 2 on, never negative, never above 10."""
    ds = delay_model(make_model, 1, 4).simulate(method="euler")
    t = ds["time"].values
    np.testing.assert_allclose(ds["out"].values, np.where(t >= 2, 10.0, 0.0), atol=1e-12)


def test_delay_n_shorter_than_one_time_step_delays_one_step(make_model):
    """Delay 0.2 < TIME STEP 0.5: order 1 with a stage time of one TIME STEP (the minimum,
    as for DELAY FIXED and DELAY MATERIAL): the input of the previous step."""
    ds = delay_model(make_model, 0.2, 3).simulate(method="euler")
    t = ds["time"].values
    np.testing.assert_allclose(ds["out"].values, np.where(t >= 1.5, 10.0, 0.0), atol=1e-12)


def test_delay_n_with_long_enough_stages_is_unchanged(make_model, tmp_path):
    """Delay 3, order 3, TIME STEP 0.5: stage time 1 >= 0.5, no reduction: DELAY3's
    values exactly (the delay time is constant)."""
    ds = delay_model(make_model, 3, 3).simulate(method="euler")
    ref = deterrence.load(make_model([
        ("out", "DELAY3I(inp, 3, 0)"), ("inp", "STEP(10, 1)")], name="delay3",
        final=6, step=0.5)).simulate(method="euler")
    np.testing.assert_allclose(ds["out"].values, ref["out"].values, rtol=1e-12, atol=1e-12)


def test_delay_n_reduces_the_order_run_by_run_and_conserves(make_model):
    """An ensemble whose delay times differ: run 0 (delay 1, order 4 -> 2) is the pipeline
    above, run 1 (delay 4, order 4, stage time 1 >= 0.5) a DELAY N of order 4. What was
    sent and is not yet received is in the stages: received never exceeds sent."""
    model = delay_model(make_model, 1, 4, final=30)
    ds = model.simulate(method="euler", params={"delay time": [1, 4]})
    t = ds["time"].values
    np.testing.assert_allclose(ds["out"].isel(run=0).values, np.where(t >= 2, 10.0, 0.0),
                               atol=1e-12)
    alone = model.simulate(method="euler", params={"delay time": 4})
    np.testing.assert_allclose(ds["out"].isel(run=1).values, alone["out"].values,
                               rtol=1e-12, atol=1e-12)
    assert np.all(ds["received"].values <= ds["sent"].values + 1e-9)
    assert np.all(ds["out"].values >= -1e-12)
