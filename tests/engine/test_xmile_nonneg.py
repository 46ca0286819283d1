"""XMILE non-negative stocks and flows (``<non_negative/>``).

A non-negative flow is ``MAX(flow, 0)`` (PySD's translator writes it so). A non-negative
stock follows PySD's and XMILE's Euler rule, the stock stops at zero: ``S(t + dt) =
MAX(S + dt * net, 0)``, which the engine writes as the rate ``MAX(net, -S / dt)`` so every
method integrates it; for rk4 and the adaptive methods that rate is an ODE whose stock
cannot cross zero, checked here against its closed form.
"""

from __future__ import annotations

import numpy as np
import pytest

import deterrence

XMILE = """<?xml version="1.0" encoding="UTF-8"?>
<xmile xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0" version="1.0">
  <header><vendor>tests</vendor><product version="1.0">tests</product></header>
  <sim_specs><start>0</start><stop>5</stop><dt>0.5</dt></sim_specs>
  <model><variables>
    <stock name="drained"><eqn>2</eqn><outflow>out</outflow><non_negative/></stock>
    <flow name="out"><eqn>1</eqn></flow>
    <stock name="plain"><eqn>2</eqn><outflow>out</outflow></stock>
    <stock name="swung"><eqn>1</eqn><inflow>swing</inflow><non_negative/></stock>
    <flow name="swing"><eqn>IF TIME &lt; 2 THEN -3 ELSE 1</eqn></flow>
    <flow name="one way"><eqn>-2 + TIME</eqn><non_negative/></flow>
    <stock name="filled"><eqn>0</eqn><inflow>one_way</inflow></stock>
  </variables></model>
</xmile>
"""


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "nonneg.xmile"
    path.write_text(XMILE, encoding="utf-8")
    return deterrence.load(path)


def test_euler_stops_a_non_negative_stock_at_zero(model):
    ds = model.simulate(method="euler")
    t = ds["time"].values
    # 2 - t until it is empty at t = 2, then 0; the plain stock goes on below zero
    np.testing.assert_allclose(ds["drained"].values, np.maximum(2 - t, 0), atol=1e-12)
    np.testing.assert_allclose(ds["plain"].values, 2 - t, atol=1e-12)
    # 1 - 1.5 = -0.5 is cut to 0 at t = 0.5; 0 until the inflow turns positive at t = 2,
    # then + 0.5 a step
    np.testing.assert_allclose(ds["swung"].values, np.where(t <= 2, np.where(t == 0, 1, 0),
                                                            0.5 * (t - 2) / 0.5 * 1.0),
                               atol=1e-12)


def test_a_non_negative_flow_is_never_negative(model):
    ds = model.simulate(method="euler")
    t = ds["time"].values
    np.testing.assert_allclose(ds["one_way"].values, np.maximum(t - 2, 0), atol=1e-12)
    # filled integrates MAX(t - 2, 0) with Euler: 0.5 * sum of the earlier values
    flows = np.maximum(t - 2, 0)
    np.testing.assert_allclose(ds["filled"].values,
                               np.concatenate([[0], 0.5 * np.cumsum(flows)[:-1]]), atol=1e-12)


@pytest.mark.parametrize("method", ["RK45", "LSODA", "rk4"])
def test_other_methods_keep_the_stock_non_negative(model, method):
    """S' = MAX(-1, -S/dt) from S = 2, dt = 0.5: S = 2 - t down to S = 0.5 at t = 1.5,
    then 0.5 exp(-(t - 1.5) / 0.5) (the adaptive solvers find the kink at 0.5): never
    below zero."""
    tight = {} if method == "rk4" else {"rtol": 1e-9, "atol": 1e-12}
    ds = model.simulate(method=method, **tight)
    t = ds["time"].values
    exact = np.where(t <= 1.5, 2 - t, 0.5 * np.exp(-(t - 1.5) / 0.5))
    if method == "rk4":  # one rk4 step of S' = -S/h with step h multiplies S by 3/8
        exact = np.where(t <= 1.5, 2 - t, 0.5 * 0.375 ** ((t - 1.5) / 0.5))
    np.testing.assert_allclose(ds["drained"].values, exact, atol=1e-6)
    assert np.all(ds["swung"].values >= -1e-9)
