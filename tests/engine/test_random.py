"""The RANDOM functions: a recorded seed, one reproducible stream per run, a new draw every
TIME STEP, Vensim's conventions (stretch, shift, then truncate to [min, max])."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import deterrence

N_RUNS = 20_000


def random_model(make_model, equations, **controls):
    return deterrence.load(make_model([*equations, ("dummy", "0")], name="random",
                                      **{"final": 10, "step": 0.5, **controls}))


@pytest.fixture
def noise(make_model):
    return random_model(make_model, [("u", "RANDOM UNIFORM(2, 5, 0)"),
                                     ("total", "INTEG(u, 0)")])


def test_the_same_seed_gives_the_same_draws_and_another_seed_others(noise):
    a = noise.simulate(method="euler", seed=7)
    b = noise.simulate(method="euler", seed=7)
    c = noise.simulate(method="euler", seed=8)
    np.testing.assert_array_equal(a["u"].values, b["u"].values)
    assert not np.any(a["u"].values == c["u"].values)
    assert a.attrs["seed"] == 7
    assert c.attrs["seed"] == 8


def test_a_new_draw_every_time_step_the_same_for_every_rk4_stage(noise):
    euler = noise.simulate(method="euler", seed=1)
    u = euler["u"].values
    assert len(np.unique(u)) == len(u)  # a draw per step
    np.testing.assert_array_equal(noise.simulate(method="rk4", seed=1)["u"].values, u)
    # the stock integrates the draws it was given (the outputs are the same draws)
    total = euler["total"].values
    np.testing.assert_allclose(np.diff(total), 0.5 * u[:-1], rtol=1e-12)


def test_each_run_has_its_own_stream_whatever_the_ensemble(noise):
    five = noise.simulate(method="euler", seed=3, params={"dummy": np.zeros(5)})
    three = noise.simulate(method="euler", seed=3, params={"dummy": np.zeros(3)})
    one = noise.simulate(method="euler", seed=3)
    u5 = five["u"].values  # (time, run)
    assert len({tuple(u5[:, i]) for i in range(5)}) == 5
    np.testing.assert_array_equal(three["u"].values, u5[:, :3])
    np.testing.assert_array_equal(one["u"].values, u5[:, 0])


DISTRIBUTIONS = {
    # equation: (mean, variance, low, high, whole numbers)
    "RANDOM UNIFORM(2, 5, 0)": (3.5, 0.75, 2, 5, False),
    "RANDOM NORMAL(-1, 1, 0, 2, 0)": (0.0, stats.truncnorm.var(-0.5, 0.5, scale=2), -1, 1,
                                      False),
    "RANDOM NORMAL(-1e9, 1e9, 10, 3, 0)": (10.0, 9.0, -math.inf, math.inf, False),
    "RANDOM EXPONENTIAL(0, 1000, 1, 2, 0)": (3.0, 4.0, 1, 1000, False),
    "RANDOM EXPONENTIAL(1.5, 2, 0, 1, 0)": (
        stats.truncexpon.mean(0.5, loc=1.5), stats.truncexpon.var(0.5, loc=1.5), 1.5, 2,
        False),
    "RANDOM GAMMA(0, 1e9, 3, 0, 1, 0)": (1.0, 1 / 3, 0, math.inf, False),
    "RANDOM BETA(0, 1, 2, 5, 0, 1, 0)": (2 / 7, 10 / (49 * 8), 0, 1, False),
    "RANDOM WEIBULL(0, 1e9, 2, 0, 1, 0)": (1.0, 4 / math.pi - 1, 0, math.inf, False),
    "RANDOM TRIANGULAR(0, 10, 1, 2, 6, 0)": (3.0, 21 / 18, 1, 6, False),
    "RANDOM POISSON(0, 1000, 4, 0, 1, 0)": (4.0, 4.0, 0, 1000, True),
    "RANDOM POISSON(0, 1000, 4, 10, 2, 0)": (18.0, 16.0, 10, 1000, False),
    "RANDOM BINOMIAL(0, 100, 0.3, 10, 0, 1, 0)": (3.0, 2.1, 0, 10, True),
    # trials up to the 3rd success: mean N / P, variance N (1 - P) / P^2, from N up
    "RANDOM NEGATIVE BINOMIAL(0, 1e6, 0.4, 3, 0, 1, 0)": (7.5, 11.25, 3, 1e6, True),
    "RANDOM NEGATIVE BINOMIAL(0, 1e6, 0.5, 2, 1, 2, 0)": (9.0, 16.0, 5, 1e6, False),
}


@pytest.mark.parametrize("equation", list(DISTRIBUTIONS))
def test_distribution_moments_and_bounds(make_model, equation):
    """20,000 runs, two draws each: the mean within 4.5 standard errors of the
    distribution's (after Vensim's stretch, shift and truncation), the variance within
    6 %, every draw inside [min, max] (and a whole number for counts)."""
    mean, var, low, high, whole = DISTRIBUTIONS[equation]
    model = random_model(make_model, [("x", equation)], final=0.5)
    ds = model.simulate(method="euler", seed=11, params={"dummy": np.zeros(N_RUNS)})
    x = ds["x"].values.ravel()
    assert np.all((x >= low) & (x <= high))
    if whole:
        np.testing.assert_array_equal(x, np.round(x))
    assert abs(x.mean() - mean) < 4.5 * math.sqrt(var / x.size)
    assert x.var() == pytest.approx(var, rel=0.06)


def test_truncated_counts_stay_in_range(make_model):
    model = random_model(make_model, [("x", "RANDOM POISSON(2, 5, 4, 0, 1, 0)")], final=0.5)
    x = model.simulate(method="euler", params={"dummy": np.zeros(5000)})["x"].values
    assert set(np.unique(x)) == {2.0, 3.0, 4.0, 5.0}


def test_adaptive_methods_are_refused_naming_the_variable(noise):
    with pytest.raises(deterrence.UnsupportedError, match="'u' draws random numbers"):
        noise.simulate(method="RK45")


@pytest.mark.parametrize("seed", [-1, 1.5, True, "7"])
def test_a_bad_seed_is_refused(noise, seed):
    with pytest.raises(deterrence.ParameterError, match="seed"):
        noise.simulate(method="euler", seed=seed)


def test_the_seed_is_a_solver_option(noise):
    solver = deterrence.SolverOptions(method="euler", seed=5)
    np.testing.assert_array_equal(noise.simulate(solver=solver)["u"].values,
                                  noise.simulate(method="euler", seed=5)["u"].values)


def test_a_wrong_number_of_arguments_is_an_error(make_model):
    with pytest.raises(deterrence.ModelError, match=r"RANDOM UNIFORM.*3 argument"):
        random_model(make_model, [("x", "RANDOM UNIFORM(0, 1)")]).simulate(method="euler")
