"""Timed policies: a policy's levers take effect at Policy Start Time, at once or ramped in
over Policy Ramp Time years; before that the model runs exactly as without the policy.

The timing constants are set as ``deterrence run policy.start_time=... policy.ramp_time=...``
sets them (``policy_params`` through ``model.timing``; a scenario's levers are also the
levels before the policy, ``scenario_params`` with the timing).
"""

from __future__ import annotations

import numpy as np
import pytest
from omegaconf import OmegaConf

from deterrence.experiments.params import policy_params, scenario_params

LEVERS = ("Joint Exercise Intensity", "Consultation and Transparency", "Defence Spending",
          "Forward Presence", "Diplomatic Engagement", "Multi Domain Integration",
          "Declaratory Clarity")


@pytest.fixture(scope="module")
def timed(alliance, alliance_config, catalogue):
    """``params(scenario, policy, start_time=None, ramp_time=None)`` as a job sets them."""

    def params(scenario: str, policy: str, **timing) -> dict:
        option = OmegaConf.merge(catalogue.policies[policy], timing)
        return {**scenario_params(alliance, catalogue.scenarios[scenario],
                                  alliance_config.timing),
                **policy_params(alliance, alliance_config.levers, option,
                                alliance_config.timing)}

    return params


def _py(alliance, name: str) -> str:
    return alliance.variable(name).py_name


def test_untimed_levers_are_in_force_exactly_from_the_start(alliance, simulate, timed):
    ds = simulate(timed("leadership_change", "comprehensive"))
    assert (ds["policy_switch"].values == 1.0).all()
    for lever in LEVERS:  # exactly the lever's value: every other number is as before
        in_force = ds[_py(alliance, lever + " In Force")].values
        assert np.array_equal(in_force, np.broadcast_to(ds[_py(alliance, lever)].values,
                                                        in_force.shape)), lever


@pytest.mark.parametrize("scenario", ["leadership_change", "cold_war_nato"])
def test_a_policy_from_year_12_changes_nothing_before_year_12(simulate, timed, scenario):
    quo = simulate(timed(scenario, "status_quo"))
    late = simulate(timed(scenario, "comprehensive", start_time=12))
    before = quo["time"].values < 12
    changed = []
    for name, da in quo.data_vars.items():
        if name == "policy_switch" or "time" not in da.dims or "time" not in late[name].dims:
            continue  # the switch itself, and constants
        assert np.array_equal(da.values[before], late[name].values[before]), name
        if not np.allclose(da.values[~before], late[name].values[~before]):
            changed.append(name)
    # and then it acts: the risk estimate and survival differ from the status quo
    assert {"adversary_risk_estimate", "deterrence_survival", "mutual_trust"} <= set(changed)
    at_once = simulate(timed(scenario, "comprehensive"))
    gain = at_once["deterrence_survival"][-1] - quo["deterrence_survival"][-1]
    late_gain = late["deterrence_survival"][-1] - quo["deterrence_survival"][-1]
    assert 0 < abs(late_gain) < abs(gain)  # acting later changes less, but something


def test_a_case_studys_levers_hold_until_the_policy_starts(alliance, simulate, timed):
    """cold_war_nato sets the exercises to 0.8: that is the level before a policy."""
    ds = simulate(timed("cold_war_nato", "strategic_ambiguity", start_time=20))
    t = ds["time"].values
    exercises = ds[_py(alliance, "Joint Exercise Intensity In Force")].values
    clarity = ds[_py(alliance, "Declaratory Clarity In Force")].values
    assert (exercises == 0.8).all()  # not a lever of the policy: the case study's, always
    assert (clarity[t < 20] == 0.8).all()
    assert (clarity[t >= 20] == 0.1).all()


def test_a_ramp_reaches_full_effect_at_start_plus_ramp(alliance, simulate, timed):
    ds = simulate(timed("baseline", "reassurance", start_time=12, ramp_time=2))
    t = ds["time"].values
    switch = ds["policy_switch"].values
    assert (switch[t <= 12] == 0).all()
    assert (switch[t >= 14] == 1).all()
    np.testing.assert_allclose(switch[t == 13], 0.5, rtol=1e-12)
    assert np.all(np.diff(switch) >= 0)
    exercises = ds[_py(alliance, "Joint Exercise Intensity In Force")].values
    assert (exercises[t <= 12] == 0.5).all()
    assert (exercises[t >= 14] == 0.8).all()
    np.testing.assert_allclose(exercises[t == 13], 0.65, rtol=1e-12)
    step = simulate(timed("baseline", "reassurance", start_time=12))
    # a ramp is gentler than a step: less of the policy's gain by year 14, most of it later
    quo = simulate(timed("baseline", "status_quo"))["adversary_risk_estimate"]
    ramp_gain = ds["adversary_risk_estimate"] - quo
    step_gain = step["adversary_risk_estimate"] - quo
    assert 0 < float(ramp_gain.sel(time=14)) < float(step_gain.sel(time=14))
    np.testing.assert_allclose(float(ramp_gain[-1]), float(step_gain[-1]), rtol=0.05)


def test_the_timing_constants_are_documented_with_ranges(alliance):
    for name, (lo, hi) in {"Policy Start Time": (0, 50), "Policy Ramp Time": (0, 20)}.items():
        var = alliance.variable(name)
        assert var.units == "Year"
        assert var.limits == (lo, hi)
        assert var.default == 0
        assert var.long_name  # documented
    for lever in LEVERS:
        prior = alliance.variable(lever + " Before Policy")
        assert prior.default == alliance.variable(lever).default
        assert prior.limits == alliance.variable(lever).limits
