"""The shipped scenarios (conf/scenario) and policies (conf/policy) of the alliance model:
well-formed, within the model's ranges, and showing what their descriptions say."""

from __future__ import annotations

import re

import pytest

from deterrence.analysis import fall_and_recovery, series
from deterrence.experiments.params import policy_levers

SHOCK_SCENARIOS = ["leadership_change", "interest_divergence", "rising_power",
                   "technological_disruption", "disinformation", "abandonment"]
MAGNITUDE = re.compile(r"_(depth|rate|size|intensity|severity)$")
ONSET = re.compile(r"_(time|start)$")


def options(catalogue):
    yield from (("scenario", name, option) for name, option in catalogue.scenarios.items())
    yield from (("policy", name, option) for name, option in catalogue.policies.items())


def settings(catalogue):
    """(group, name, {py_name: value}) of every option, as the experiments set them."""
    yield from (("scenario", n, catalogue.scenario(n)) for n in catalogue.scenarios)
    yield from (("policy", n, catalogue.policy(n)) for n in catalogue.policies)


def test_options_are_named_after_their_files_and_described(catalogue):
    for group, name, option in options(catalogue):
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name), f"conf/{group}/{name}.yaml"
        assert option.name == name, f"conf/{group}/{name}.yaml is named {option.name!r}"
        assert option.description.strip(), f"conf/{group}/{name}.yaml has no description"
    assert set(SHOCK_SCENARIOS) < set(catalogue.scenarios)
    assert {"baseline", "cold_war_nato", "warsaw_pact", "us_japan_1951"} \
        < set(catalogue.scenarios)
    assert "status_quo" in catalogue.policies


def test_shock_windows_are_well_formed(catalogue):
    for name, scenario in catalogue.scenarios.items():
        for start, end, label in scenario.shock_windows:
            assert 0 <= start <= end <= 50, f"{name}: window [{start}, {end}]"
            assert isinstance(label, str), f"{name}: window label {label!r}"


@pytest.mark.parametrize("scenario", SHOCK_SCENARIOS)
def test_each_shock_window_starts_when_the_shock_does(catalogue, scenario):
    """The shaded window and the measured onset are the shock's own start time."""
    starts = {k: v for k, v in catalogue.scenario(scenario).items() if ONSET.search(k)}
    assert len(starts) == 1, starts
    assert catalogue.onset(scenario) == next(iter(starts.values()))


def test_the_lever_map_sets_a_ranged_constant_for_every_policy_lever(alliance,
                                                                      alliance_config,
                                                                      catalogue):
    used = {lever for policy in catalogue.policies.values()
            for lever in policy_levers(policy, alliance_config.levers)}
    assert set(alliance_config.levers) == used  # every lever, and only levers, used
    for lever, name in alliance_config.levers.items():
        var = alliance.variable(name)
        assert var.kind == "constant", f"levers.{lever}: {name!r} is a {var.kind}"
        assert None not in var.limits, f"levers.{lever}: {name!r} has no declared range"


def test_every_setting_is_a_ranged_model_constant_within_its_range(catalogue, constants):
    for group, name, params in settings(catalogue):
        for var, value in params.items():
            param = constants.get(var)
            assert param is not None, f"{group} {name}: {var!r} is not a model constant"
            lo, hi = param.limits
            assert lo is not None, f"{var} has no declared range"
            assert hi is not None, f"{var} has no declared range"
            assert lo <= value <= hi, f"{group} {name}: {var} = {value} outside [{lo}, {hi}]"


def test_baseline_and_status_quo_keep_the_models_defaults(catalogue):
    """The model's defaults are the status quo: these two options set nothing."""
    assert catalogue.scenario("baseline") == {}
    assert not catalogue.scenarios["baseline"].shock_windows
    assert catalogue.policy("status_quo") == {}


@pytest.mark.parametrize("scenario", SHOCK_SCENARIOS)
def test_each_shock_is_off_at_zero_magnitude(simulate, base, catalogue, scenario):
    params = catalogue.scenario(scenario)
    magnitudes = [k for k in params if MAGNITUDE.search(k)]
    assert len(magnitudes) == 1, magnitudes
    params[magnitudes[0]] = 0
    ds = simulate(params)
    for v in ("mutual_trust", "adversary_risk_estimate", "deterrence_survival"):
        assert float(abs(series(ds, v) - series(base, v)).max()) < 1e-12


@pytest.mark.parametrize("scenario", SHOCK_SCENARIOS)
def test_every_shock_makes_deterrence_less_likely_to_hold(simulate, base, catalogue, scenario):
    ds = simulate(catalogue.scenario(scenario))
    assert float(ds.deterrence_survival[-1]) < float(base.deterrence_survival[-1])


def test_cold_war_nato_posture_deters_better_than_the_status_quo_against_the_same_adversary(
        simulate, catalogue):
    scenario = catalogue.scenario("cold_war_nato")
    world = {k: v for k, v in scenario.items() if k.startswith("adversary") or "initial" in k}
    assert len(world) == 4, world
    posture, status_quo = simulate(scenario), simulate(world)
    risk = "adversary_risk_estimate"
    assert float(posture[risk][-1]) > float(status_quo[risk][-1])
    assert float(posture.deterrence_survival[-1]) > float(status_quo.deterrence_survival[-1])
    assert float(posture.adversary_capability[-1]) > float(status_quo.adversary_capability[-1])


def test_warsaw_pact_commitment_is_held_by_coercion_not_trust(simulate, catalogue):
    scenario = catalogue.scenario("warsaw_pact")
    coerced, free = simulate(scenario), simulate({**scenario, "coercive_control": 0})
    assert float(coerced.mutual_trust[-1]) < float(coerced.mutual_trust[0])
    assert float(coerced.perceived_commitment[-1]) > 2 * float(free.perceived_commitment[-1])
    assert float(coerced.mutual_trust[-1]) < float(free.mutual_trust[-1])


def test_us_japan_trust_builds_while_dependence_breeds_complacency(simulate, base, catalogue):
    ds = simulate(catalogue.scenario("us_japan_1951"))
    assert float(ds.mutual_trust[-1]) > float(ds.mutual_trust[0])
    assert float(ds.complacency[-1]) > float(base.complacency[-1])


def test_comprehensive_policy_restores_trust_and_deterrence_faster(simulate, catalogue):
    shock = catalogue.scenario("leadership_change")
    result = {}
    for policy in ("status_quo", "comprehensive"):
        levers = catalogue.policy(policy)
        ds, calm = simulate({**shock, **levers}), simulate(levers)
        _, recovery = fall_and_recovery(ds.mutual_trust, calm.mutual_trust,
                                        catalogue.onset("leadership_change"))
        result[policy] = (recovery, float(ds.adversary_risk_estimate.min()))
    assert result["comprehensive"][0] < result["status_quo"][0]
    assert result["comprehensive"][1] > result["status_quo"][1]
