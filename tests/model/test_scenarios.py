"""sd_models/scenarios.yaml: well-formed, within the model's ranges, and showing what it says."""

from __future__ import annotations

import re

import pytest
from behaviour import fall_and_recovery, py_name, series

SHOCK_SCENARIOS = ["leadership_change", "interest_divergence", "rising_power",
                   "technological_disruption", "disinformation", "abandonment"]
MAGNITUDE = re.compile(r"(Depth|Rate|Size|Intensity|Severity)$")


def entries(catalogue):
    for group in ("scenarios", "policies"):
        for name, entry in catalogue[group].items():
            yield group, name, entry


def test_names_are_snake_case_and_entries_described(catalogue):
    for group, name, entry in entries(catalogue):
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name), f"{group}.{name}"
        assert entry["description"].strip(), f"{group}.{name} has no description"
    assert "status_quo" in catalogue["policies"]
    for sc in catalogue["scenarios"].values():
        for start, end, label in sc["shock_windows"]:
            assert start <= end
            assert isinstance(label, str)


def test_every_setting_is_a_ranged_model_constant_within_its_range(catalogue, constants):
    for group, name, entry in entries(catalogue):
        for var, value in entry["set"].items():
            param = constants.get(py_name(var))
            assert param is not None, f"{group}.{name}: {var!r} is not a model constant"
            lo, hi = param.limits
            assert lo is not None, f"{var} has no declared range"
            assert hi is not None, f"{var} has no declared range"
            assert lo <= value <= hi, f"{group}.{name}: {var} = {value} outside [{lo}, {hi}]"


def test_status_quo_policy_is_the_models_default(catalogue, constants):
    for var, value in catalogue["policies"]["status_quo"]["set"].items():
        assert constants[py_name(var)].default == pytest.approx(value)


@pytest.mark.parametrize("scenario", SHOCK_SCENARIOS)
def test_each_shock_is_off_at_zero_magnitude(simulate, base, catalogue, scenario):
    params = dict(catalogue["scenarios"][scenario]["set"])
    magnitudes = [k for k in params if MAGNITUDE.search(k)]
    assert len(magnitudes) == 1, magnitudes
    params[magnitudes[0]] = 0
    ds = simulate(params)
    for v in ("mutual_trust", "adversary_risk_estimate", "deterrence_survival"):
        assert float(abs(series(ds, v) - series(base, v)).max()) < 1e-12


@pytest.mark.parametrize("scenario", SHOCK_SCENARIOS)
def test_every_shock_makes_deterrence_less_likely_to_hold(simulate, base, catalogue, scenario):
    ds = simulate(catalogue["scenarios"][scenario]["set"])
    assert float(ds.deterrence_survival[-1]) < float(base.deterrence_survival[-1])


def test_cold_war_nato_posture_deters_better_than_the_status_quo_against_the_same_adversary(
        simulate, catalogue):
    scenario = catalogue["scenarios"]["cold_war_nato"]["set"]
    world = {k: v for k, v in scenario.items() if k.startswith("Adversary") or "Initial" in k}
    posture, status_quo = simulate(scenario), simulate(world)
    risk = "adversary_risk_estimate"
    assert float(posture[risk][-1]) > float(status_quo[risk][-1])
    assert float(posture.deterrence_survival[-1]) > float(status_quo.deterrence_survival[-1])
    assert float(posture.adversary_capability[-1]) > float(status_quo.adversary_capability[-1])


def test_warsaw_pact_commitment_is_held_by_coercion_not_trust(simulate, catalogue):
    scenario = catalogue["scenarios"]["warsaw_pact"]["set"]
    coerced, free = simulate(scenario), simulate({**scenario, "Coercive Control": 0})
    assert float(coerced.mutual_trust[-1]) < float(coerced.mutual_trust[0])
    assert float(coerced.perceived_commitment[-1]) > 2 * float(free.perceived_commitment[-1])
    assert float(coerced.mutual_trust[-1]) < float(free.mutual_trust[-1])


def test_us_japan_trust_builds_while_dependence_breeds_complacency(simulate, base, catalogue):
    ds = simulate(catalogue["scenarios"]["us_japan_1951"]["set"])
    assert float(ds.mutual_trust[-1]) > float(ds.mutual_trust[0])
    assert float(ds.complacency[-1]) > float(base.complacency[-1])


def test_comprehensive_policy_restores_trust_and_deterrence_faster(simulate, catalogue):
    shock = catalogue["scenarios"]["leadership_change"]["set"]
    result = {}
    for policy in ("status_quo", "comprehensive"):
        levers = catalogue["policies"][policy]["set"]
        ds, calm = simulate({**shock, **levers}), simulate(levers)
        _, recovery = fall_and_recovery(ds.mutual_trust, calm.mutual_trust, 10)
        result[policy] = (recovery, float(ds.adversary_risk_estimate.min()))
    assert result["comprehensive"][0] < result["status_quo"][0]
    assert result["comprehensive"][1] > result["status_quo"][1]
