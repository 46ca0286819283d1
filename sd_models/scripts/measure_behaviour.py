"""Measure the behaviour of alliance_deterrence.mdl that sd_models/README.md reports.

    .venv/bin/python sd_models/scripts/measure_behaviour.py

Prints, for the status quo, each reality check of the model concept, each scenario of
conf/scenario and each policy of conf/policy under the leadership change, the figures the
README quotes. Runs the `deterrence` engine (Euler at the model's TIME STEP) on the model
and the scenarios and policies exactly as `deterrence run` reads them from conf/, and
measures with `deterrence.analysis`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from omegaconf import OmegaConf

import deterrence
from deterrence.analysis import (
    fall_and_recovery,
    relative_difference,
    series,
    share_of_change,
    time_of_max,
    time_of_min,
)
from deterrence.experiments.config import (
    ModelConfig,
    PolicyConfig,
    ScenarioConfig,
    conf_dir,
    group_option,
    model_path,
)
from deterrence.experiments.params import policy_params, scenario_params

INDEX_STOCKS = ["mutual_trust", "perceived_commitment", "complacency",
                "adversary_risk_estimate", "crisis_tension", "deterrence_survival"]
CAPABILITY_STOCKS = ["alliance_capability", "perceived_capability", "adversary_capability"]
KEY = ["mutual_trust", "perceived_commitment", "adversary_risk_estimate",
       "hazard_of_aggression", "deterrence_survival", "escalation_risk", "alliance_capability"]


def options(group: str) -> list[str]:
    """A config group's options: first as the shipped experiments list them (the README's
    order: the shocks, then the case studies; the policies), then any others."""
    listed: list[str] = []
    for experiment in ("scenarios", "case_studies", "policy_by_scenario"):
        batch = OmegaConf.load(conf_dir() / "experiment" / f"{experiment}.yaml").batch
        listed += [str(n) for n in batch.get(group, []) if str(n) not in listed]
    names = sorted(p.stem for p in (conf_dir() / group).glob("*.yaml"))
    return [n for n in listed if n in names] + [n for n in names if n not in listed]


ALLIANCE = group_option("model", "alliance", ModelConfig)
MODEL = deterrence.load(model_path(ALLIANCE.path))
SCENARIOS = {n: group_option("scenario", n, ScenarioConfig) for n in options("scenario")}
POLICIES = {n: group_option("policy", n, PolicyConfig) for n in options("policy")}


def scenario(name: str) -> dict[str, Any]:
    """The constants a scenario sets, by Python name."""
    return scenario_params(MODEL, SCENARIOS[name], ALLIANCE.timing)


def policy(name: str, **timing: float) -> dict[str, Any]:
    """The constants a policy sets (through the model's lever map), by Python name;
    ``start_time=12`` times it as ``policy.start_time=12`` does."""
    option = OmegaConf.merge(POLICIES[name], timing)
    return policy_params(MODEL, ALLIANCE.levers, option, ALLIANCE.timing)


def onset(name: str) -> float:
    return float(SCENARIOS[name].shock_windows[0][0])


def sim(params: dict[str, Any] | None = None, method: str = "euler",
        time_step: float | None = None) -> xr.Dataset:
    return MODEL.simulate(params or {}, method=method, time_step=time_step)


base = sim()


def f(x: float) -> str:
    return f"{x:.3g}"


def section(title: str) -> None:
    print(f"\n## {title}")


def balance() -> None:
    section("Status quo: balance")
    for s in INDEX_STOCKS + CAPABILITY_STOCKS:
        drift = float(np.abs(base[s] - base[s].isel(time=0)).max())
        print(f"{s}: start {f(float(base[s][0]))}, max drift {drift:.2g}")
    print(f"hazard {f(float(base.hazard_of_aggression[0]))}/yr, "
          f"Deterrence Survival at 50: {f(float(base.deterrence_survival[-1]))}")


def trust_asymmetry() -> None:
    section("RC1 trust slow to build, quick to lose")
    for name in ("leadership_change", "abandonment", "disinformation"):
        ds = sim(scenario(name))
        fall, rec = fall_and_recovery(ds.mutual_trust, base.mutual_trust, onset(name))
        print(f"{name}: trust {f(float(base.mutual_trust[0]))} -> min "
              f"{f(float(ds.mutual_trust.min()))}; fall time {fall:.2f} y, "
              f"recovery time {rec:.2f} y, ratio {rec / fall:.1f}")


def perception_delays() -> None:
    section("RC2 perception delays (Joint Exercise Intensity 0.5 -> 0.8 at t=0)")
    ds = sim({"Joint Exercise Intensity": 0.8})
    for v in ("capability_visibility", "perceived_capability", "adversary_risk_estimate"):
        shares = [share_of_change(ds, base, v, at, 20.0) for at in (0.5, 1, 2, 5)]
        print(f"{v}: share of its 20-year change reached at t=0.5,1,2,5: "
              + ", ".join(f"{s:.2f}" for s in shares))


def complacency() -> None:
    section("RC3 complacency")
    ds = sim({"Complacency Initial": 0})
    t_peak = time_of_max(ds.mutual_trust)
    print(f"after a crisis (Complacency Initial 0): complacency 0 -> "
          f"{f(float(ds.complacency.sel(time=20)))} at t=20; effective spending "
          f"{f(float(ds.effective_defence_spending[0]))} -> "
          f"{f(float(ds.effective_defence_spending.sel(time=20)))}; trust peaks "
          f"{f(float(ds.mutual_trust.max()))} at t={t_peak:g} then falls to "
          f"{f(float(ds.mutual_trust[-1]))} at 50 (friction)")
    nofr = sim({"Complacency Spending Cut": 0})
    print(f"free riding off (Complacency Spending Cut 0): trust at 50 "
          f"{f(float(nofr.mutual_trust[-1]))} vs {f(float(base.mutual_trust[-1]))}; "
          f"capability {f(float(nofr.alliance_capability[-1]))} vs "
          f"{f(float(base.alliance_capability[-1]))}")
    rp = sim(scenario("rising_power"))
    print(f"rising power resets vigilance: complacency min {f(float(rp.complacency.min()))} "
          f"(status quo {f(float(base.complacency[0]))}), effective spending at 50 "
          f"{f(float(rp.effective_defence_spending[-1]))}")


def security_dilemma() -> None:
    section("RC4 security dilemma (Defence Spending 0.02 -> 0.04)")
    for fear in (0.0, 0.5, 1.0):
        lo = sim({"Adversary Fear Coefficient": fear})
        hi = sim({"Adversary Fear Coefficient": fear, "Defence Spending": 0.04})
        d = {v: float(hi[v][-1] - lo[v][-1]) for v in
             ("alliance_capability", "adversary_capability", "adversary_risk_estimate")}
        print(f"fear {fear}: change at 50 of alliance capability {d['alliance_capability']:+.3f}, "
              f"adversary capability {d['adversary_capability']:+.3f}, risk estimate "
              f"{d['adversary_risk_estimate']:+.3f}")


def entrapment() -> None:
    section("RC5 entrapment (max Escalation Risk over the run)")
    for rise in (0.0, 0.6):
        for clarity in (0.5, 0.9):
            row = []
            for dipl in (0.5, 0.9):
                ds = sim({"Declaratory Clarity": clarity, "Diplomatic Engagement": dipl,
                          "Rising Power Size": rise})
                row.append(f"diplomacy {dipl}: {f(float(ds.escalation_risk.max()))}")
            print(f"rising power {rise}, clarity {clarity}: " + "; ".join(row))
    dip = sim({"Diplomatic Engagement": 0.9})
    print(f"diplomacy 0.9, no shock: tension {f(float(dip.crisis_tension[-1]))} vs "
          f"{f(float(base.crisis_tension[-1]))}, complacency {f(float(dip.complacency[-1]))} vs "
          f"{f(float(base.complacency[-1]))}, hazard {f(float(dip.hazard_of_aggression[-1]))} vs "
          f"{f(float(base.hazard_of_aggression[-1]))}")


def erosion_chain() -> None:
    section("RC6 divergence and disinformation")
    for name in ("disinformation", "interest_divergence"):
        ds = sim(scenario(name))
        if name == "disinformation":
            times = {v: time_of_min(ds[v]) for v in
                     ("mutual_trust", "perceived_commitment", "adversary_risk_estimate")}
            times["hazard_of_aggression (max)"] = time_of_max(ds.hazard_of_aggression)
            print(f"{name}: time of trough " + ", ".join(f"{k} {v:g}" for k, v in times.items()))
        print(f"{name}: peak hazard {f(float(ds.hazard_of_aggression.max()))} vs "
              f"{f(float(base.hazard_of_aggression[0]))} status quo; survival at 50 "
              f"{f(float(ds.deterrence_survival[-1]))} vs {f(float(base.deterrence_survival[-1]))}")


def extremes() -> None:
    section("RC7 extreme conditions")
    ds = sim({"Alliance Capability Initial": 0, "Defence Spending": 0})
    risk = ds.adversary_risk_estimate
    print(f"no capability: risk estimate at 10 {f(float(risk.sel(time=10)))}, "
          f"at 50 {f(float(risk[-1]))}")
    ds = sim({"Mutual Trust Initial": 0})
    print(f"no trust: indicated commitment at 0 {f(float(ds.indicated_commitment[0]))}, "
          f"perceived commitment at 2 {f(float(ds.perceived_commitment.sel(time=2)))}")
    ds = sim({"Adversary Ambition": 0})
    print(f"no ambition: max propensity {f(float(ds.aggression_propensity.max()))}, "
          f"survival at 50 {f(float(ds.deterrence_survival[-1]))}")


def numerics() -> None:
    section("RC8 numerics: max over the run of |difference| / max |value|, worst key output")
    step = float(base.attrs["time_step"])
    for name in SCENARIOS:
        params = scenario(name)
        full = sim(params)
        d = {"halving TIME STEP": relative_difference(full, sim(params, time_step=step / 2),
                                                      KEY),
             "vs step/32": relative_difference(full, sim(params, time_step=step / 32), KEY),
             "RK45 vs euler": relative_difference(sim(params, method="RK45"), full, KEY)}
        print(f"{name}: " + "; ".join(f"{k} {max(v.values()):.2%} ({max(v, key=v.get)})"
                                      for k, v in d.items()))


def summary(ds) -> str:
    """The figures the README quotes for one run."""
    def v(name, how):
        values = series(ds, name).values
        return f({"first": values[0], "end": values[-1], "min": values.min(),
                  "max": values.max()}[how])

    return (f"trust {v('mutual_trust', 'first')}->{v('mutual_trust', 'end')} "
            f"(min {v('mutual_trust', 'min')}); commitment min {v('perceived_commitment', 'min')}"
            f" end {v('perceived_commitment', 'end')}; risk estimate min "
            f"{v('adversary_risk_estimate', 'min')} max {v('adversary_risk_estimate', 'max')} "
            f"end {v('adversary_risk_estimate', 'end')}; capability "
            f"{v('alliance_capability', 'end')} vs adversary {v('adversary_capability', 'end')} "
            f"at 50; complacency end {v('complacency', 'end')}; peak hazard "
            f"{v('hazard_of_aggression', 'max')}; max escalation {v('escalation_risk', 'max')}; "
            f"survival at 50 {v('deterrence_survival', 'end')}")


def scenarios() -> None:
    section("Scenarios")
    for name in SCENARIOS:
        print(f"{name}: {summary(sim(scenario(name)))}")
    cw = scenario("cold_war_nato")
    adversary = {k: v for k, v in cw.items() if k.startswith("adversary") or "initial" in k}
    print(f"cold_war_nato adversary and start with status-quo levers: {summary(sim(adversary))}")
    wp = scenario("warsaw_pact")
    print(f"warsaw_pact without coercion: {summary(sim({**wp, 'coercive_control': 0}))}")


def policies() -> None:
    section("Policies under the leadership change (trust recovery to 90%; risk estimate trough)")
    shock = scenario("leadership_change")
    for name in POLICIES:
        levers = policy(name)
        ds, calm = sim({**shock, **levers}), sim(levers)
        _, rec = fall_and_recovery(ds.mutual_trust, calm.mutual_trust,
                                   onset("leadership_change"))
        print(f"{name}: trust recovery {rec:.1f} y; risk estimate min "
              f"{f(float(ds.adversary_risk_estimate.min()))}, end "
              f"{f(float(ds.adversary_risk_estimate[-1]))}; survival at 50 "
              f"{f(float(ds.deterrence_survival[-1]))}")


def late_policies(start: float = 12) -> None:
    section(f"Policies enacted at year {start:g}, under the leadership change (recovery to "
            "90% of the gap to the same timed policy without the shock)")
    shock = scenario("leadership_change")
    for name in POLICIES:
        levers = policy(name, start_time=start)
        ds, calm = sim({**shock, **levers}), sim(levers)
        recoveries = [fall_and_recovery(ds[v], calm[v], onset("leadership_change"))[1]
                      for v in ("adversary_risk_estimate", "mutual_trust")]
        print(f"{name}: risk estimate min {f(float(ds.adversary_risk_estimate.min()))}, "
              f"recovery {recoveries[0]:.2f} y; trust recovery {recoveries[1]:.2f} y; "
              f"survival at 50 {f(float(ds.deterrence_survival[-1]))}")


if __name__ == "__main__":
    for part in (balance, trust_asymmetry, perception_delays, complacency, security_dilemma,
                 entrapment, erosion_chain, extremes, scenarios, policies, late_policies,
                 numerics):
        part()
