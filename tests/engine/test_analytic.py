"""Linear ODEs with closed-form solutions: adaptive accuracy and fixed-step orders.

Adaptive methods must reach 1e-6 relative error at every save time once rtol/atol are
tight; Euler and RK4 must show their textbook orders (error halves, or drops 16-fold,
when TIME STEP halves), and even their exact discrete solutions.
"""

from __future__ import annotations

import numpy as np
import pytest

import deterrence

ADAPTIVE = ["RK45", "DOP853", "RK23", "LSODA", "Radau", "BDF"]
TIGHT = {"rtol": 1e-10, "atol": 1e-12}
K, X0 = 0.3, 100.0


@pytest.fixture
def decay(make_model):
    """dx/dt = -k x, x(0) = 100, k = 0.3; saved every 0.5 up to 10."""
    return deterrence.load(make_model([
        ("Stock", "INTEG(-outflow, initial stock)", "widgets", "The decaying stock."),
        ("outflow", "k * Stock", "widgets/Month", ""),
        ("k", str(K), "1/Month", ""),
        ("initial stock", str(X0), "widgets", ""),
    ], final=10, step=0.125, saveper=0.5))


@pytest.fixture
def chain(make_model):
    """x' = -a x, y' = a x - b y (a = 0.5, b = 0.2, x0 = 10, y0 = 2): a two-stock chain."""
    return deterrence.load(make_model([
        ("x", "INTEG(-transfer, 10)"),
        ("y", "INTEG(transfer - loss, 2)"),
        ("transfer", "a * x"),
        ("loss", "b * y"),
        ("a", "0.5"),
        ("b", "0.2"),
    ], name="chain", final=20, step=0.25, saveper=0.5))


@pytest.fixture
def oscillator(make_model):
    """x' = y, y' = -x with x(0) = 1, y(0) = 0: x = cos t, y = -sin t."""
    return deterrence.load(make_model([
        ("x", "INTEG(y, 1)"),
        ("y", "INTEG(-x, 0)"),
    ], name="oscillator", final=20, step=0.125, saveper=0.25))


def decay_exact(t):
    return X0 * np.exp(-K * t)


@pytest.mark.parametrize("method", ADAPTIVE)
def test_exponential_decay_to_1e6_relative(decay, method):
    ds = decay.simulate(method=method, **TIGHT)
    t = ds["time"].values
    np.testing.assert_allclose(t, np.arange(0, 10.0001, 0.5))
    np.testing.assert_allclose(ds["stock"].values, decay_exact(t), rtol=1e-6, atol=0)
    # the flow is reported at the same times, consistent with the stock
    np.testing.assert_allclose(ds["outflow"].values, K * decay_exact(t), rtol=1e-6, atol=0)


@pytest.mark.parametrize("method", ADAPTIVE)
def test_two_stock_chain_to_1e6_relative(chain, method):
    ds = chain.simulate(method=method, **TIGHT)
    t = ds["time"].values
    a, b, x0, y0 = 0.5, 0.2, 10.0, 2.0
    x = x0 * np.exp(-a * t)
    y = y0 * np.exp(-b * t) + a * x0 / (b - a) * (np.exp(-a * t) - np.exp(-b * t))
    np.testing.assert_allclose(ds["x"].values, x, rtol=1e-6, atol=0)
    np.testing.assert_allclose(ds["y"].values, y, rtol=1e-6, atol=0)


@pytest.mark.parametrize("method", ADAPTIVE)
def test_oscillator_to_1e6_of_its_amplitude(oscillator, method):
    ds = oscillator.simulate(method=method, **TIGHT)
    t = ds["time"].values
    np.testing.assert_allclose(ds["x"].values, np.cos(t), rtol=0, atol=1e-6)
    np.testing.assert_allclose(ds["y"].values, -np.sin(t), rtol=0, atol=1e-6)


@pytest.mark.parametrize("method", ["RK45", "DOP853"])
def test_tighter_tolerance_gives_a_more_accurate_answer(oscillator, method):
    def error(rtol):
        ds = oscillator.simulate(method=method, rtol=rtol, atol=rtol * 1e-2)
        return np.max(np.abs(ds["x"].values - np.cos(ds["time"].values)))

    assert error(1e-10) < error(1e-4) / 100


def _final_error(model, method, dt):
    ds = model.simulate(method=method, time_step=dt, saveper=0.5)
    return abs(float(ds["stock"].isel(time=-1)) - decay_exact(10.0))


def test_euler_error_is_first_order(decay):
    errors = [_final_error(decay, "euler", dt) for dt in (1 / 8, 1 / 16, 1 / 32, 1 / 64)]
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all((ratios > 1.85) & (ratios < 2.15)), ratios


def test_rk4_error_is_fourth_order(decay):
    errors = [_final_error(decay, "rk4", dt) for dt in (1 / 2, 1 / 4, 1 / 8)]
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all((ratios > 14) & (ratios < 18)), ratios
    assert errors[-1] < 1e-5 * decay_exact(10.0)


@pytest.mark.parametrize("dt", [1 / 8, 1 / 32])
def test_euler_is_exactly_the_discrete_recurrence(decay, dt):
    """Vensim's Euler: x[n+1] = x[n] + dt * rate(x[n]), so x[n] = x0 (1 - k dt)^n."""
    ds = decay.simulate(method="euler", time_step=dt, saveper=0.5)
    n = np.rint(ds["time"].values / dt)
    np.testing.assert_allclose(ds["stock"].values, X0 * (1 - K * dt) ** n, rtol=1e-12)


def test_rk4_is_exactly_the_classic_runge_kutta_recurrence(decay):
    dt = 0.5
    h = K * dt
    factor = 1 - h + h**2 / 2 - h**3 / 6 + h**4 / 24
    ds = decay.simulate(method="rk4", time_step=dt, saveper=0.5)
    n = np.rint(ds["time"].values / dt)
    np.testing.assert_allclose(ds["stock"].values, X0 * factor**n, rtol=1e-12)


def test_euler_oscillator_gains_energy_exactly_as_theory_says(oscillator):
    """Euler on x'=y, y'=-x multiplies x^2 + y^2 by (1 + dt^2) every step."""
    dt = 0.125
    ds = oscillator.simulate(method="euler")
    energy = ds["x"].values ** 2 + ds["y"].values ** 2
    n = np.rint(ds["time"].values / dt)
    np.testing.assert_allclose(energy, (1 + dt**2) ** n, rtol=1e-12)


def test_euler_and_rk4_save_only_on_saveper(decay):
    for method in ("euler", "rk4"):
        ds = decay.simulate(method=method)
        np.testing.assert_allclose(ds["time"].values, np.arange(0, 10.0001, 0.5))


def test_saveper_that_is_not_a_multiple_of_time_step_is_refused(decay):
    with pytest.raises(deterrence.ModelError, match="SAVEPER"):
        decay.simulate(method="euler", time_step=0.3, saveper=0.5)
