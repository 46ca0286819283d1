"""sd_models/richardson_arms_race.mdl against the closed-form solution of Richardson's system.

dx/dt = a*y - m*x + g, dy/dt = b*x - n*y + h is linear: with A = [[-m, a], [b, -n]] and the
equilibrium z* = -A^-1 (g, h), z(t) = z* + expm(A t) (z(0) - z*).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm

NAMES = {"a": "Fear Coefficient A", "b": "Fear Coefficient B", "m": "Fatigue Coefficient M",
         "n": "Fatigue Coefficient N", "g": "Grievance G", "h": "Grievance H",
         "x0": "X Initial", "y0": "Y Initial"}


def closed_form(p, times):
    A = np.array([[-p["m"], p["a"]], [p["b"], -p["n"]]])
    star = np.linalg.solve(A, -np.array([p["g"], p["h"]]))
    z0 = np.array([p["x0"], p["y0"]])
    return np.array([star + expm(A * t) @ (z0 - star) for t in times])


def parameters(richardson, **overrides):
    p = {k: richardson.variable(v).default for k, v in NAMES.items()}
    p.update(overrides)
    return p, {NAMES[k]: v for k, v in overrides.items()}


def error(ds, p):
    exact = closed_form(p, ds.time.values)
    scale = np.abs(exact).max()
    return max(float(np.abs(ds.x_armament.values - exact[:, 0]).max()),
               float(np.abs(ds.y_armament.values - exact[:, 1]).max())) / scale


def test_every_constant_is_documented_with_a_range(richardson):
    for name in NAMES.values():
        param = richardson.constants[richardson.variable(name).py_name]
        lo, hi = param.limits
        assert lo is not None
        assert hi is not None
        assert lo <= param.default <= hi
        assert param.doc.strip()


def test_default_race_is_stable_and_settles_at_the_equilibrium(richardson, simulate_richardson):
    p, _ = parameters(richardson)
    assert p["m"] * p["n"] > p["a"] * p["b"], "the defaults describe a stable race"
    ds = simulate_richardson()
    star = closed_form(p, [1e3])[0]
    assert abs(float(ds.x_armament[-1]) - star[0]) < abs(p["x0"] - star[0])


def test_euler_matches_the_closed_form_within_half_a_percent(richardson, simulate_richardson):
    p, _ = parameters(richardson)
    assert error(simulate_richardson(), p) < 5e-3


def test_euler_error_halves_with_the_time_step(richardson, simulate_richardson):
    """First-order convergence to the closed form: the integrator, not luck, is right."""
    p, _ = parameters(richardson)
    coarse = error(simulate_richardson(time_step=1 / 32), p)
    fine = error(simulate_richardson(time_step=1 / 64), p)
    assert 1.8 < coarse / fine < 2.2


@pytest.mark.parametrize(("a", "b"), [(0.6, 0.5), (1.0, 0.3)])
def test_a_runaway_race_when_fear_outweighs_fatigue(richardson, simulate_richardson, a, b):
    p, params = parameters(richardson, a=a, b=b)
    assert p["a"] * p["b"] > p["m"] * p["n"]
    ds = simulate_richardson(params)
    assert np.all(np.diff(ds.x_armament.values[-20:]) > 0)
    assert np.all(np.diff(ds.y_armament.values[-20:]) > 0)
    assert error(ds, p) < 2e-2


@pytest.mark.parametrize("overrides", [{}, {"a": 0.6, "b": 0.5}, {"g": -0.2, "h": 0.3},
                                       {"m": 0.05, "n": 1.0, "x0": 0, "y0": 2}])
def test_an_adaptive_solver_matches_the_closed_form(richardson, simulate_richardson,
                                                    overrides):
    p, params = parameters(richardson, **overrides)
    assert error(simulate_richardson(params, method="RK45"), p) < 1e-4
