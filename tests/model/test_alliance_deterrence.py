"""Behaviour of sd_models/alliance_deterrence.mdl: the reality checks of the model concept.

Each test states a behaviour the concept (../shared/design/model-concept.md) asks for and
checks it by comparing runs (signs, orderings, ratios), never against numbers copied from a
run.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deterrence.analysis import (
    fall_and_recovery,
    relative_difference,
    series,
    share_of_change,
    time_of_max,
    time_of_min,
)
from deterrence.experiments import conf_dir

STOCKS = [
    "mutual_trust", "alliance_capability", "perceived_capability", "perceived_commitment",
    "complacency", "adversary_capability", "adversary_risk_estimate", "crisis_tension",
    "deterrence_survival",
]
INDEX_STOCKS = ["mutual_trust", "perceived_commitment", "complacency",
                "adversary_risk_estimate", "crisis_tension", "deterrence_survival"]
CAPABILITY_STOCKS = ["alliance_capability", "perceived_capability", "adversary_capability"]
OUTPUTS = ["deterrence_effectiveness", "hazard_of_aggression", "aggression_propensity",
           "escalation_risk", "alliance_cohesion"]
KEY_OUTPUTS = ["mutual_trust", "perceived_commitment", "adversary_risk_estimate",
               "hazard_of_aggression", "deterrence_survival", "escalation_risk",
               "alliance_capability"]
LEVERS = ["Joint Exercise Intensity", "Consultation and Transparency", "Defence Spending",
          "Forward Presence", "Diplomatic Engagement", "Multi Domain Integration",
          "Declaratory Clarity"]
SHOCK_MAGNITUDES = ["Leadership Change Depth", "Divergence Rate", "Rising Power Size",
                    "Technological Disruption Size", "Disinformation Intensity",
                    "Abandonment Severity"]
SCENARIOS = sorted(p.stem for p in (conf_dir() / "scenario").glob("*.yaml"))
SHOCK_TIMING = ["Leadership Change Time", "Leadership Change Duration", "Divergence Start",
                "Rising Power Start", "Rising Power Duration", "Technological Disruption Time",
                "Disinformation Start", "Disinformation Duration", "Abandonment Time"]


def final(ds, name):
    return float(series(ds, name).isel(time=-1))


def at(ds, name, t):
    return float(series(ds, name).sel(time=t))


# --- structure -----------------------------------------------------------------------------


def test_every_stock_and_output_of_the_concept_is_simulated(base):
    missing = [v for v in STOCKS + OUTPUTS if v not in base]
    assert not missing, f"missing from the results: {missing}"


@pytest.mark.parametrize("name", LEVERS + SHOCK_MAGNITUDES + SHOCK_TIMING)
def test_levers_and_shocks_are_constants_with_a_declared_range(alliance, constants, name):
    param = constants[alliance.variable(name).py_name]
    lo, hi = param.limits
    assert lo is not None, f"{name} has no declared range"
    assert hi is not None, f"{name} has no declared range"
    assert lo <= param.default <= hi


@pytest.mark.parametrize("name", SHOCK_MAGNITUDES)
def test_every_shock_is_off_by_default(alliance, name):
    assert alliance.variable(name).default == 0


def test_defence_spending_status_quo_is_the_two_percent_guideline(constants):
    assert constants["defence_spending"].default == pytest.approx(0.02)


def test_every_variable_has_units_and_documentation(alliance):
    undocumented = [v.name for v in alliance.variables.values() if not v.doc.strip()]
    unitless = [v.name for v in alliance.variables.values() if not v.units.strip()]
    assert len(alliance.variables) > 100
    assert not undocumented, f"no documentation comment: {undocumented}"
    assert not unitless, f"no units: {unitless}"


# --- start in balance ----------------------------------------------------------------------


@pytest.mark.parametrize("stock", [s for s in STOCKS if s != "deterrence_survival"])
def test_status_quo_starts_in_balance(base, stock):
    """No stock drifts by more than 1% of its range (capability: of its value) in 50 years."""
    values = series(base, stock)
    scale = 1.0 if stock in INDEX_STOCKS else float(values[0])
    assert float(np.abs(values - values[0]).max()) < 0.01 * scale


def test_deterrence_survival_declines_steadily_under_the_status_quo(base):
    """The one intended trend: a constant hazard erodes the probability that deterrence holds."""
    s = series(base, "deterrence_survival").values
    assert s[0] == pytest.approx(1.0)
    assert np.all(np.diff(s) < 0)
    assert s[-1] > 0
    hazard = series(base, "hazard_of_aggression")
    assert float(hazard.max() - hazard.min()) < 1e-3 * float(hazard.mean())


# --- 1. trust is slow to build and quick to lose --------------------------------------------


@pytest.mark.parametrize("scenario", ["leadership_change", "abandonment", "disinformation"])
def test_trust_recovers_at_least_three_times_slower_than_it_falls(simulate, base, catalogue,
                                                                   scenario):
    ds = simulate(catalogue.scenario(scenario))
    onset = catalogue.onset(scenario)
    fall, recovery = fall_and_recovery(ds.mutual_trust, base.mutual_trust, onset)
    assert fall <= 5, "trust should fall within a few years"
    assert recovery >= 3 * fall


def test_trust_is_slow_to_build_from_a_low_start(simulate, base):
    """A new alliance (trust 0.3) needs more than a decade to close most of the gap."""
    ds = simulate({"Mutual Trust Initial": 0.3})
    gap = series(base, "mutual_trust") - series(ds, "mutual_trust")
    assert float(gap.sel(time=10)) > 0.1 * float(gap.sel(time=0))


# --- 2. signals act through perception delays -----------------------------------------------


def test_exercises_raise_the_risk_estimate_later_than_capability_visibility(simulate, base):
    ds = simulate({"Joint Exercise Intensity": 0.8})
    end = 20.0
    for v in ("capability_visibility", "perceived_capability", "adversary_risk_estimate"):
        assert at(ds, v, end) > at(base, v, end), f"more exercises should raise {v}"
    for t in (0.5, 1.0, 2.0):
        visible = share_of_change(ds, base, "capability_visibility", t, end)
        perceived = share_of_change(ds, base, "perceived_capability", t, end)
        risk = share_of_change(ds, base, "adversary_risk_estimate", t, end)
        assert visible > perceived > risk, f"at t={t}: {visible}, {perceived}, {risk}"
    assert share_of_change(ds, base, "adversary_risk_estimate", 1.0, end) < 0.5


# --- 3. complacency ------------------------------------------------------------------------


def test_a_long_peace_breeds_complacency_that_cuts_spending(simulate):
    """After a crisis (complacency 0), complacency grows through the peace and spending falls."""
    ds = simulate({"Complacency Initial": 0})
    q = series(ds, "complacency").sel(time=slice(0, 20)).values
    assert np.all(np.diff(q) > 0)
    spending = series(ds, "effective_defence_spending")
    assert at(ds, "effective_defence_spending", 20) < float(spending[0])


def test_complacency_erodes_trust_through_burden_sharing_friction(simulate):
    """Trust built in the vigilant years after a crisis declines as complacency sets in."""
    ds = simulate({"Complacency Initial": 0})
    peak = time_of_max(ds.mutual_trust)
    assert 0 < peak < 50
    assert final(ds, "mutual_trust") < float(ds.mutual_trust.max())


def test_free_riding_costs_capability_and_trust(simulate, base):
    no_free_riding = simulate({"Complacency Spending Cut": 0})
    assert final(no_free_riding, "alliance_capability") > final(base, "alliance_capability")
    assert final(no_free_riding, "mutual_trust") > final(base, "mutual_trust")


def test_a_crisis_resets_vigilance(simulate, base, catalogue):
    """A rising adversary raises tension; complacency falls and spending rises."""
    ds = simulate(catalogue.scenario("rising_power"))
    assert float(ds.crisis_tension.max()) > float(base.crisis_tension.max())
    assert final(ds, "complacency") < final(base, "complacency")
    assert final(ds, "effective_defence_spending") > final(base, "effective_defence_spending")


# --- 4. the security dilemma ---------------------------------------------------------------


def test_alliance_build_up_provokes_adversary_build_up(simulate, base):
    ds = simulate({"Defence Spending": 0.04})
    assert final(ds, "alliance_capability") > final(base, "alliance_capability")
    assert final(ds, "adversary_capability") > final(base, "adversary_capability")


def test_without_fear_there_is_no_security_dilemma(simulate):
    calm = simulate({"Adversary Fear Coefficient": 0})
    armed = simulate({"Adversary Fear Coefficient": 0, "Defence Spending": 0.04})
    assert final(armed, "adversary_capability") == pytest.approx(
        final(calm, "adversary_capability"), rel=1e-9)


def test_the_security_dilemma_reinforces_the_alliance_build_up(simulate):
    """The adversary's reaction feeds back into alliance spending: the build-up is larger."""
    gain = {}
    for fear in (0.0, 0.5):
        lo = simulate({"Adversary Fear Coefficient": fear})
        hi = simulate({"Adversary Fear Coefficient": fear, "Defence Spending": 0.04})
        gain[fear] = final(hi, "alliance_capability") - final(lo, "alliance_capability")
    assert gain[0.5] > gain[0.0] > 0


# --- 5. entrapment and diplomacy -----------------------------------------------------------


def test_high_commitment_under_high_tension_raises_escalation_risk(simulate):
    rising = {"Rising Power Size": 0.6}
    calm_low = simulate({"Declaratory Clarity": 0.5})
    tense_low = simulate({**rising, "Declaratory Clarity": 0.5})
    tense_high = simulate({**rising, "Declaratory Clarity": 0.9})
    assert float(tense_low.escalation_risk.max()) > float(calm_low.escalation_risk.max())
    assert float(tense_high.escalation_risk.max()) > float(tense_low.escalation_risk.max())
    assert final(tense_high, "perceived_commitment") > final(tense_low, "perceived_commitment")


def test_diplomatic_engagement_lowers_tension_and_escalation_risk(simulate):
    tense = {"Rising Power Size": 0.6, "Declaratory Clarity": 0.9}
    little = simulate({**tense, "Diplomatic Engagement": 0.5})
    much = simulate({**tense, "Diplomatic Engagement": 0.9})
    assert float(much.escalation_risk.max()) < float(little.escalation_risk.max())
    assert float(much.crisis_tension.max()) < float(little.crisis_tension.max())


def test_escalation_risk_restrains_commitment(simulate):
    """Entrapment loop: without domestic reluctance, commitment under tension is higher."""
    tense = {"Rising Power Size": 0.6}
    reluctant = simulate(tense)
    willing = simulate({**tense, "Reluctance Sensitivity": 0})
    assert final(willing, "perceived_commitment") > final(reluctant, "perceived_commitment")


# --- 6. divergence and disinformation ------------------------------------------------------


@pytest.mark.parametrize("scenario", ["disinformation", "leadership_change"])
def test_a_trust_shock_erodes_trust_then_credibility_then_the_risk_estimate(
        simulate, base, catalogue, scenario):
    ds = simulate(catalogue.scenario(scenario))
    trough = {v: time_of_min(ds[v]) for v in
              ("mutual_trust", "perceived_commitment", "adversary_risk_estimate")}
    assert trough["mutual_trust"] <= trough["perceived_commitment"] \
        < trough["adversary_risk_estimate"]
    assert time_of_max(ds.hazard_of_aggression) >= trough["adversary_risk_estimate"]
    assert float(ds.hazard_of_aggression.max()) > float(base.hazard_of_aggression.max())


def test_diverging_interests_raise_the_hazard_of_aggression(simulate, base, catalogue):
    ds = simulate(catalogue.scenario("interest_divergence"))
    for v in ("mutual_trust", "perceived_commitment", "adversary_risk_estimate"):
        assert final(ds, v) < final(base, v)
    assert final(ds, "hazard_of_aggression") > final(base, "hazard_of_aggression")
    assert final(ds, "deterrence_survival") < final(base, "deterrence_survival")


@pytest.mark.parametrize("intensity", [0.25, 0.5, 1.0])
def test_stronger_disinformation_does_more_harm(simulate, catalogue, intensity):
    campaign = catalogue.scenario("disinformation")
    weaker = simulate({**campaign, "disinformation_intensity": intensity / 2})
    stronger = simulate({**campaign, "disinformation_intensity": intensity})
    assert float(stronger.mutual_trust.min()) < float(weaker.mutual_trust.min())
    assert final(stronger, "deterrence_survival") < final(weaker, "deterrence_survival")


# --- 7. extreme conditions -----------------------------------------------------------------


def test_no_capability_means_no_deterrence(simulate, base):
    ds = simulate({"Alliance Capability Initial": 0, "Defence Spending": 0})
    assert float(series(ds, "alliance_capability").max()) == 0
    assert final(ds, "adversary_risk_estimate") < 0.01 * final(base, "adversary_risk_estimate")


@pytest.mark.parametrize("coercion", [0.0, 0.8])
def test_no_trust_means_no_credible_commitment_unless_coerced(simulate, coercion):
    ds = simulate({"Mutual Trust Initial": 0, "Coercive Control": coercion})
    indicated = float(series(ds, "indicated_commitment")[0])
    if coercion == 0:
        assert indicated == 0
        assert at(ds, "perceived_commitment", 1) < float(ds.perceived_commitment[0])
    else:
        assert indicated > 0


def test_no_adversary_ambition_means_no_aggression(simulate):
    ds = simulate({"Adversary Ambition": 0})
    assert float(series(ds, "aggression_propensity").max()) == 0
    assert float(series(ds, "hazard_of_aggression").max()) == 0
    assert final(ds, "deterrence_survival") == 1


def test_full_ambition_against_no_deterrent_maximises_the_hazard(simulate, base):
    ds = simulate({"Adversary Ambition": 1, "Alliance Capability Initial": 0,
                   "Defence Spending": 0})
    assert final(ds, "aggression_propensity") > 0.99
    assert final(ds, "deterrence_survival") < final(base, "deterrence_survival")


# --- bounds: property over the declared ranges ---------------------------------------------


def ranged(constants):
    return {p.name: p.limits for p in constants.values()
            if p.limits[0] is not None and p.limits[1] is not None}


@pytest.mark.slow
def test_index_stocks_stay_in_unit_interval_for_any_levers_and_parameters(simulate, constants):
    ranges = ranged(constants)
    assert len(ranges) >= len(LEVERS) + len(SHOCK_MAGNITUDES) + len(SHOCK_TIMING)
    # ends of the ranges as often as the interior: the corners hold the runaway arms race
    draw = st.fixed_dictionaries({
        name: st.one_of(st.sampled_from([lo, hi]), st.floats(lo, hi, allow_nan=False))
        for name, (lo, hi) in ranges.items()})

    @settings(max_examples=100, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(draw)
    def check(params):
        ds = simulate(params)
        for name, var in ds.data_vars.items():
            assert not np.isnan(var.values).any(), f"{name} is NaN"
        for stock in INDEX_STOCKS:
            v = series(ds, stock)
            assert float(v.min()) >= 0, (stock, params)
            assert float(v.max()) <= 1, (stock, params)
        for stock in CAPABILITY_STOCKS:
            assert float(series(ds, stock).min()) >= 0, (stock, params)

    check()


# --- 8. numerics ---------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_halving_the_time_step_moves_key_outputs_less_than_one_percent(
        simulate, catalogue, scenario):
    params = catalogue.scenario(scenario)
    full = simulate(params)
    step = float(full.attrs.get("time_step") or series(full, "time_step")[0])
    diff = relative_difference(full, simulate(params, time_step=step / 2), KEY_OUTPUTS)
    assert max(diff.values()) < 0.01, diff


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_an_adaptive_solver_agrees_with_euler_within_one_percent(simulate, catalogue, scenario):
    params = catalogue.scenario(scenario)
    diff = relative_difference(simulate(params, method="RK45"), simulate(params), KEY_OUTPUTS)
    assert max(diff.values()) < 0.01, diff


@pytest.fixture(scope="module")
def pysd_alliance(alliance):
    """The same model file translated and run by PySD, the reference implementation."""
    import pysd

    return pysd.read_vensim(str(alliance.path))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_engine_and_pysd_agree_with_euler(alliance, pysd_alliance, catalogue, scenario):
    """Every variable PySD outputs, at every saved time, to 1e-6 (both Euler)."""
    params = dict(catalogue.scenarios[scenario].set)  # Vensim names, as PySD takes them
    engine = alliance.simulate(params, method="euler")
    reference = pysd_alliance.run(params=params, reload=True)
    assert np.array_equal(reference.index.to_numpy(dtype=float), engine.time.values)
    worst = {}
    for column in reference.columns:
        name = alliance.variable(column).py_name
        assert name in engine, f"{column} ({name}) is missing from the engine's results"
        worst[name] = float(np.abs(series(engine, name).values
                                   - reference[column].to_numpy(dtype=float)).max())
    assert len(worst) > 100
    assert max(worst.values()) < 1e-6, max(worst, key=worst.get)


def test_recovery_is_infinite_only_when_trust_never_recovers(simulate, base):
    """Guard for the measure the trust tests use: a permanent shock never recovers."""
    ds = simulate({"Divergence Start": 10, "Divergence Rate": 0.05})
    _, recovery = fall_and_recovery(ds.mutual_trust, base.mutual_trust, 10)
    assert math.isinf(recovery)
