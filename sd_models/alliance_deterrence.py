"""
Python model 'alliance_deterrence.py'
Translated using PySD
"""

from pathlib import Path
import numpy as np

from pysd.py_backend.functions import ramp, pulse, xidz, step
from pysd.py_backend.statefuls import Integ
from pysd import Component

__pysd_version__ = "3.14.3"

__data = {"scope": None, "time": lambda: 0}

_root = Path(__file__).parent


component = Component()

#######################################################################
#                          CONTROL VARIABLES                          #
#######################################################################

_control_vars = {
    "initial_time": lambda: 0,
    "final_time": lambda: 50,
    "time_step": lambda: 0.03125,
    "saveper": lambda: 0.25,
}


def _init_outer_references(data):
    for key in data:
        __data[key] = data[key]


@component.add(name="Time")
def time():
    """
    Current time of the model.
    """
    return __data["time"]()


@component.add(
    name="FINAL TIME", units="Year", comp_type="Constant", comp_subtype="Normal"
)
def final_time():
    """
    The final time for the simulation.
    """
    return __data["time"].final_time()


@component.add(
    name="INITIAL TIME", units="Year", comp_type="Constant", comp_subtype="Normal"
)
def initial_time():
    """
    The initial time for the simulation.
    """
    return __data["time"].initial_time()


@component.add(
    name="SAVEPER",
    units="Year",
    limits=(0.0, np.nan),
    comp_type="Constant",
    comp_subtype="Normal",
)
def saveper():
    """
    The frequency with which output is stored.
    """
    return __data["time"].saveper()


@component.add(
    name="TIME STEP",
    units="Year",
    limits=(0.0, np.nan),
    comp_type="Constant",
    comp_subtype="Normal",
)
def time_step():
    """
    The time step for the simulation.
    """
    return __data["time"].time_step()


#######################################################################
#                           MODEL VARIABLES                           #
#######################################################################


@component.add(
    name="Joint Exercise Intensity",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def joint_exercise_intensity():
    """
    Intensity of joint training exercises and operations (0 none, 1 continuous large-scale). Builds trust and makes capability visible to the adversary. Status quo 0.5.
    """
    return 0.5


@component.add(
    name="Consultation and Transparency",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def consultation_and_transparency():
    """
    Depth of consultation and transparent decision-making among allies (0 none, 1 full). Builds mutual trust. Status quo 0.5.
    """
    return 0.5


@component.add(
    name="Defence Spending",
    units="Dmnl",
    limits=(0.0, 0.05),
    comp_type="Constant",
    comp_subtype="Normal",
)
def defence_spending():
    """
    Committed defence spending as a share of GDP, alliance average. Status quo 0.02 (the NATO 2% guideline).
    """
    return 0.02


@component.add(
    name="Forward Presence",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def forward_presence():
    """
    Forward deployment of allied forces on the threatened member's territory (0 none, 1 large permanent presence). Makes capability visible and commitment credible (a tripwire). Status quo 0.5.
    """
    return 0.5


@component.add(
    name="Diplomatic Engagement",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def diplomatic_engagement():
    """
    Diplomatic engagement with the adversary and crisis management (0 none, 1 intensive). Speeds the relief of crisis tension. Status quo 0.5.
    """
    return 0.5


@component.add(
    name="Multi Domain Integration",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def multi_domain_integration():
    """
    Integration of cyber, AI and missile defence across allies (0 none, 1 full). Raises interoperability and lets capability adapt to technological disruption. Status quo 0.5.
    """
    return 0.5


@component.add(
    name="Declaratory Clarity",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def declaratory_clarity():
    """
    Clarity of the alliance's declared commitments (0 strategic ambiguity, 1 explicit automatic commitment). Raises the resolve the adversary reads. Status quo 0.5.
    """
    return 0.5


@component.add(
    name="Leadership Change Time",
    units="Year",
    limits=(0.0, 50.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def leadership_change_time():
    """
    Year in which a leadership or domestic political change in a key member begins.
    """
    return 10


@component.add(
    name="Leadership Change Depth",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def leadership_change_depth():
    """
    Fraction of its alliance commitment the key member withdraws while the new leadership is in office (0 off, 0.5 halves it).
    """
    return 0


@component.add(
    name="Leadership Change Duration",
    units="Year",
    limits=(0.5, 10.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def leadership_change_duration():
    """
    How long the changed leadership stays in office (one term is 4 years).
    """
    return 4


@component.add(
    name="Leadership Commitment Loss",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "leadership_change_depth": 1,
        "leadership_change_duration": 1,
        "time": 1,
        "leadership_change_time": 1,
    },
)
def leadership_commitment_loss():
    """
    Fraction of commitment withdrawn by the key member at the current time: the leadership change shock as a time series.
    """
    return leadership_change_depth() * pulse(
        __data["time"], leadership_change_time(), width=leadership_change_duration()
    )


@component.add(
    name="Divergence Start",
    units="Year",
    limits=(0.0, 50.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def divergence_start():
    """
    Year in which the allies' strategic interests begin to diverge.
    """
    return 10


@component.add(
    name="Divergence Rate",
    units="1/Year",
    limits=(0.0, 0.1),
    comp_type="Constant",
    comp_subtype="Normal",
)
def divergence_rate():
    """
    Speed at which interests diverge once divergence starts (0 off). Divergence reaches 1-exp(-rate*years): 0.05/year gives 0.39 after 10 years.
    """
    return 0


@component.add(
    name="Interest Divergence",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "divergence_rate": 1,
        "divergence_start": 1,
        "final_time": 1,
        "time": 1,
    },
)
def interest_divergence():
    """
    Degree to which the allies' strategic interests have diverged (0 aligned, 1 opposed). Smooth and bounded below 1.
    """
    return 1 - float(
        np.exp(
            -ramp(__data["time"], divergence_rate(), divergence_start(), final_time())
        )
    )


@component.add(
    name="Rising Power Start",
    units="Year",
    limits=(0.0, 50.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def rising_power_start():
    """
    Year in which the adversary starts to rise (its ambition starts to grow).
    """
    return 10


@component.add(
    name="Rising Power Size",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def rising_power_size():
    """
    Fraction of the gap between the adversary's baseline ambition and maximal ambition (1) that the rise closes (0 off).
    """
    return 0


@component.add(
    name="Rising Power Duration",
    units="Year",
    limits=(1.0, 30.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def rising_power_duration():
    """
    Years over which the adversary's ambition grows to its new level.
    """
    return 10


@component.add(
    name="Rising Power Progress",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"rising_power_duration": 2, "rising_power_start": 2, "time": 1},
)
def rising_power_progress():
    """
    Fraction of the rise completed (0 before the start, 1 after start plus duration).
    """
    return ramp(
        __data["time"],
        1 / rising_power_duration(),
        rising_power_start(),
        rising_power_start() + rising_power_duration(),
    )


@component.add(
    name="Technological Disruption Time",
    units="Year",
    limits=(0.0, 50.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def technological_disruption_time():
    """
    Year in which a technological disruption (new weapons, cyber, AI) starts to make existing capability obsolete.
    """
    return 10


@component.add(
    name="Technological Disruption Size",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def technological_disruption_size():
    """
    Increase in the capability obsolescence rate caused by the disruption for an alliance with no multi-domain integration (0 off, 1 doubles it).
    """
    return 0


@component.add(
    name="Obsolescence Multiplier",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "technological_disruption_size": 1,
        "multi_domain_integration": 1,
        "time": 1,
        "technological_disruption_time": 1,
    },
)
def obsolescence_multiplier():
    """
    Multiplier on the normal capability depreciation rate: 1 before a disruption; after it, raised by the disruption size less the part the alliance absorbs by multi-domain integration.
    """
    return 1 + technological_disruption_size() * (
        1 - multi_domain_integration()
    ) * step(__data["time"], 1, technological_disruption_time())


@component.add(
    name="Disinformation Start",
    units="Year",
    limits=(0.0, 50.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def disinformation_start():
    """
    Year in which a hostile hybrid or disinformation campaign against allied publics begins.
    """
    return 10


@component.add(
    name="Disinformation Intensity",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def disinformation_intensity():
    """
    Intensity of the disinformation campaign (0 off, 1 as corrosive as total interest divergence).
    """
    return 0


@component.add(
    name="Disinformation Duration",
    units="Year",
    limits=(0.5, 20.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def disinformation_duration():
    """
    How long the disinformation campaign lasts.
    """
    return 5


@component.add(
    name="Disinformation Pressure",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "disinformation_intensity": 1,
        "time": 1,
        "disinformation_start": 1,
        "disinformation_duration": 1,
    },
)
def disinformation_pressure():
    """
    Disinformation acting on allied trust at the current time.
    """
    return disinformation_intensity() * pulse(
        __data["time"], disinformation_start(), width=disinformation_duration()
    )


@component.add(
    name="Abandonment Time",
    units="Year",
    limits=(0.0, 50.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def abandonment_time():
    """
    Year of a crisis in which an ally fails to act (abandonment).
    """
    return 10


@component.add(
    name="Abandonment Severity",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def abandonment_severity():
    """
    Severity of the abandonment (0 off). Trust and perceived commitment each lose about the fraction 1-exp(-severity) over the Betrayal Time: 0.7 roughly halves them.
    """
    return 0


@component.add(
    name="Abandonment Shock",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "abandonment_severity": 1,
        "betrayal_time": 1,
        "abandonment_time": 1,
        "time": 1,
    },
)
def abandonment_shock():
    """
    The abandonment shock as a time series: its severity while the betrayal registers, 0 otherwise.
    """
    return abandonment_severity() * pulse(
        __data["time"], abandonment_time(), width=betrayal_time()
    )


@component.add(
    name="Mutual Trust",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Stateful",
    comp_subtype="Integ",
    depends_on={"_integ_mutual_trust": 1},
    other_deps={
        "_integ_mutual_trust": {
            "initial": {"mutual_trust_initial": 1},
            "step": {"trust_building": 1, "trust_erosion": 1},
        }
    },
)
def mutual_trust():
    """
    Allies' confidence that the others will honour their commitments (0 none, 1 complete). Building is proportional to (1 - trust) and erosion to trust, so it stays in [0,1].
    """
    return _integ_mutual_trust()


_integ_mutual_trust = Integ(
    lambda: trust_building() - trust_erosion(),
    lambda: mutual_trust_initial(),
    "_integ_mutual_trust",
)


@component.add(
    name="Mutual Trust Initial",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def mutual_trust_initial():
    """
    Mutual trust at time 0. Default: the status-quo equilibrium (computed by sd_models/scripts/equilibrium.py). Case studies override it.
    """
    return 0.771305


@component.add(
    name="Trust Building",
    units="1/Year",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "mutual_trust": 1,
        "trust_building_drivers": 1,
        "trust_building_time": 1,
    },
)
def trust_building():
    """
    Inflow of trust: closes the gap to full trust at a speed set by the trust-building drivers.
    """
    return (1 - mutual_trust()) * trust_building_drivers() / trust_building_time()


@component.add(
    name="Trust Building Drivers",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "consultation_and_transparency": 1,
        "joint_exercise_intensity": 1,
        "deterrence_effectiveness": 1,
        "interest_divergence": 1,
    },
)
def trust_building_drivers():
    """
    Average of what builds trust: consultation and transparency, joint exercises and operations, shared success (deterrence that works) and aligned interests. Equal weights: the seed article ranks none above the others.
    """
    return (
        consultation_and_transparency()
        + joint_exercise_intensity()
        + deterrence_effectiveness()
        + (1 - interest_divergence())
    ) / 4


@component.add(
    name="Trust Building Time",
    units="Year",
    limits=(3.0, 15.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def trust_building_time():
    """
    Time constant of trust building when every driver is at its maximum. "Trust is built over time": years, not months.
    """
    return 6


@component.add(
    name="Trust Erosion",
    units="1/Year",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "mutual_trust": 1,
        "coercive_control": 1,
        "interest_divergence": 1,
        "disinformation_pressure": 1,
        "leadership_commitment_loss": 1,
        "betrayal_time": 1,
        "trust_erosion_time": 1,
        "free_riding": 1,
        "abandonment_shock": 1,
    },
)
def trust_erosion():
    """
    Outflow of trust: burden-sharing friction (free riding), diverging interests, disinformation, leadership change and the resentment that coercion breeds erode it over the Trust Erosion Time; abandonment destroys it over the Betrayal Time.
    """
    return mutual_trust() * (
        (
            free_riding()
            + interest_divergence()
            + disinformation_pressure()
            + leadership_commitment_loss()
            + coercive_control()
        )
        / trust_erosion_time()
        + abandonment_shock() / betrayal_time()
    )


@component.add(
    name="Trust Erosion Time",
    units="Year",
    limits=(2.0, 10.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def trust_erosion_time():
    """
    Time constant of trust erosion by a pressure of full strength (friction, divergence, disinformation, leadership change).
    """
    return 4


@component.add(
    name="Betrayal Time",
    units="Year",
    limits=(0.5, 3.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def betrayal_time():
    """
    Time over which an abandonment in a crisis registers and destroys trust and perceived commitment: betrayal is quick.
    """
    return 1


@component.add(
    name="Coercive Control",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def coercive_control():
    """
    Cohesion imposed by a hegemon rather than earned by trust (0 a voluntary alliance; high for the Warsaw Pact). It holds commitment up but breeds resentment that erodes trust.
    """
    return 0


@component.add(
    name="Alliance Cohesion",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"mutual_trust": 2, "coercive_control": 1},
)
def alliance_cohesion():
    """
    Readiness of the members to act together: trust, plus coercion filling part of the gap that trust leaves.
    """
    return mutual_trust() + coercive_control() * (1 - mutual_trust())


@component.add(
    name="Alliance Capability",
    units="Dmnl",
    limits=(0.0, np.nan),
    comp_type="Stateful",
    comp_subtype="Integ",
    depends_on={"_integ_alliance_capability": 1},
    other_deps={
        "_integ_alliance_capability": {
            "initial": {"alliance_capability_initial": 1},
            "step": {"capability_investment": 1, "capability_depreciation": 1},
        }
    },
)
def alliance_capability():
    """
    Combined military capability of the alliance, in units of the adversary's capability at the status-quo equilibrium (about 1).
    """
    return _integ_alliance_capability()


_integ_alliance_capability = Integ(
    lambda: capability_investment() - capability_depreciation(),
    lambda: alliance_capability_initial(),
    "_integ_alliance_capability",
)


@component.add(
    name="Alliance Capability Initial",
    units="Dmnl",
    limits=(0.0, 3.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def alliance_capability_initial():
    """
    Alliance capability at time 0. Default: the status-quo equilibrium.
    """
    return 1.50737


@component.add(
    name="Capability Investment",
    units="1/Year",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "capability_at_guideline_spending": 1,
        "effective_defence_spending": 1,
        "spending_guideline": 1,
        "interoperability": 1,
        "capability_lifetime": 1,
    },
)
def capability_investment():
    """
    Capability added per year by defence investment, scaled by interoperability ("pooling resources, technology").
    """
    return (
        capability_at_guideline_spending()
        * (effective_defence_spending() / spending_guideline())
        * interoperability()
        / capability_lifetime()
    )


@component.add(
    name="Capability at Guideline Spending",
    units="Dmnl",
    limits=(0.5, 3.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def capability_at_guideline_spending():
    """
    Capability the alliance would sustain spending exactly the guideline with perfect interoperability and no disruption.
    """
    return 2.25


@component.add(
    name="Spending Guideline", units="Dmnl", comp_type="Constant", comp_subtype="Normal"
)
def spending_guideline():
    """
    Reference share of GDP (the NATO 2% guideline) that normalises spending. A unit convention, not an uncertain parameter.
    """
    return 0.02


@component.add(
    name="Capability Lifetime",
    units="Year",
    limits=(8.0, 30.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def capability_lifetime():
    """
    Average service life of military capability before it is worn out or obsolete.
    """
    return 15


@component.add(
    name="Capability Depreciation",
    units="1/Year",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "alliance_capability": 1,
        "obsolescence_multiplier": 1,
        "capability_lifetime": 1,
    },
)
def capability_depreciation():
    """
    Capability lost per year to wear and obsolescence, faster after a technological disruption.
    """
    return alliance_capability() * obsolescence_multiplier() / capability_lifetime()


@component.add(
    name="Interoperability",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"alliance_cohesion": 1, "multi_domain_integration": 1},
)
def interoperability():
    """
    Yield of spending as usable combined capability (1/3 for a collection of national forces, 1 for a cohesive, fully integrated alliance).
    """
    return (1 + alliance_cohesion() + multi_domain_integration()) / 3


@component.add(
    name="Effective Defence Spending",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"defence_spending": 1, "free_riding": 1, "threat_response": 1},
)
def effective_defence_spending():
    """
    Spending actually delivered: the commitment, less what complacency cuts, raised or lowered by the threat the adversary's capability poses.
    """
    return defence_spending() * (1 - free_riding()) * threat_response()


@component.add(
    name="Threat Response",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"adversary_capability": 1, "threat_response_elasticity": 1},
)
def threat_response():
    """
    Spending multiplier from the adversary's capability (1 when the adversary is at 1): the alliance side of the security dilemma.
    """
    return adversary_capability() ** threat_response_elasticity()


@component.add(
    name="Threat Response Elasticity",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def threat_response_elasticity():
    """
    Elasticity of alliance spending to adversary capability (0: spending ignores the threat).
    """
    return 0.5


@component.add(
    name="Complacency",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Stateful",
    comp_subtype="Integ",
    depends_on={"_integ_complacency": 1},
    other_deps={
        "_integ_complacency": {
            "initial": {"complacency_initial": 1},
            "step": {"complacency_growth": 1, "vigilance_restoration": 1},
        }
    },
)
def complacency():
    """
    False sense of security among members that leads them to neglect their own preparedness (0 vigilant, 1 fully complacent).
    """
    return _integ_complacency()


_integ_complacency = Integ(
    lambda: complacency_growth() - vigilance_restoration(),
    lambda: complacency_initial(),
    "_integ_complacency",
)


@component.add(
    name="Complacency Initial",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def complacency_initial():
    """
    Complacency at time 0. Default: the status-quo equilibrium; 0 means just after a crisis.
    """
    return 0.232417


@component.add(
    name="Complacency Growth",
    units="1/Year",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "complacency": 1,
        "perceived_security": 1,
        "reliance_on_allies": 1,
        "complacency_formation_time": 1,
    },
)
def complacency_growth():
    """
    Complacency bred by perceived security, the more so the more members rely on their allies.
    """
    return (
        (1 - complacency())
        * perceived_security()
        * reliance_on_allies()
        / complacency_formation_time()
    )


@component.add(
    name="Complacency Formation Time",
    units="Year",
    limits=(5.0, 30.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def complacency_formation_time():
    """
    Time constant of complacency formation under full security and full reliance: it takes a long peace.
    """
    return 10


@component.add(
    name="Perceived Security",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"crisis_tension": 1},
)
def perceived_security():
    """
    Members' sense of security: the absence of crisis tension.
    """
    return 1 - crisis_tension()


@component.add(
    name="Alliance Dependence",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def alliance_dependence():
    """
    Structural dependence of members on allies for their security (asymmetry of the alliance; high for US-Japan).
    """
    return 0.3


@component.add(
    name="Reliance on Allies",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"alliance_dependence": 2, "free_riding": 1},
)
def reliance_on_allies():
    """
    How much members rely on allies rather than themselves: structural dependence plus the free riding of the moment.
    """
    return alliance_dependence() + (1 - alliance_dependence()) * free_riding()


@component.add(
    name="Vigilance Restoration",
    units="1/Year",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"complacency": 1, "threat_salience": 1, "vigilance_response_time": 1},
)
def vigilance_restoration():
    """
    Outflow of complacency: threat salience resets vigilance.
    """
    return complacency() * threat_salience() / vigilance_response_time()


@component.add(
    name="Vigilance Response Time",
    units="Year",
    limits=(0.5, 5.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def vigilance_response_time():
    """
    Time constant of the loss of complacency under a threat salience of 1: crises reset vigilance quickly.
    """
    return 1


@component.add(
    name="Threat Salience",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"crisis_tension": 1, "adversary_capability": 1},
)
def threat_salience():
    """
    How present the threat is to members: crisis tension weighted by the adversary's capability.
    """
    return crisis_tension() * adversary_capability()


@component.add(
    name="Free Riding",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"complacency_spending_cut": 1, "complacency": 1},
)
def free_riding():
    """
    Fraction of committed spending not delivered because of complacency; also the burden-sharing friction that erodes trust.
    """
    return complacency_spending_cut() * complacency()


@component.add(
    name="Complacency Spending Cut",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def complacency_spending_cut():
    """
    Fraction of committed spending a fully complacent alliance fails to deliver.
    """
    return 0.5


@component.add(
    name="Perceived Capability",
    units="Dmnl",
    limits=(0.0, np.nan),
    comp_type="Stateful",
    comp_subtype="Integ",
    depends_on={"_integ_perceived_capability": 1},
    other_deps={
        "_integ_perceived_capability": {
            "initial": {},
            "step": {"capability_perception_change": 1},
        }
    },
)
def perceived_capability():
    """
    The adversary's perception of alliance capability. Starts at the status-quo equilibrium.
    """
    return _integ_perceived_capability()


_integ_perceived_capability = Integ(
    lambda: capability_perception_change(),
    lambda: 1.00491,
    "_integ_perceived_capability",
)


@component.add(
    name="Capability Perception Change",
    units="1/Year",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "alliance_capability": 1,
        "capability_visibility": 1,
        "perceived_capability": 1,
        "capability_perception_time": 1,
    },
)
def capability_perception_change():
    """
    First-order adjustment of perceived capability toward visible capability.
    """
    return (
        alliance_capability() * capability_visibility() - perceived_capability()
    ) / capability_perception_time()


@component.add(
    name="Capability Visibility",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"joint_exercise_intensity": 1, "forward_presence": 1},
)
def capability_visibility():
    """
    Fraction of capability the adversary can see and believe (1/3 with neither exercises nor presence, 1 with both at maximum).
    """
    return (1 + joint_exercise_intensity() + forward_presence()) / 3


@component.add(
    name="Capability Perception Time",
    units="Year",
    limits=(0.5, 5.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def capability_perception_time():
    """
    Delay with which the adversary's perception of capability follows what it can see.
    """
    return 2


@component.add(
    name="Perceived Commitment",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Stateful",
    comp_subtype="Integ",
    depends_on={"_integ_perceived_commitment": 1},
    other_deps={
        "_integ_perceived_commitment": {
            "initial": {},
            "step": {"commitment_perception_change": 1, "broken_commitment_loss": 1},
        }
    },
)
def perceived_commitment():
    """
    Credibility: the adversary's reading of the alliance's resolve to respond collectively. Starts at the status-quo equilibrium.
    """
    return _integ_perceived_commitment()


_integ_perceived_commitment = Integ(
    lambda: commitment_perception_change() - broken_commitment_loss(),
    lambda: 0.526935,
    "_integ_perceived_commitment",
)


@component.add(
    name="Commitment Perception Change",
    units="1/Year",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "indicated_commitment": 1,
        "perceived_commitment": 1,
        "commitment_perception_time": 1,
    },
)
def commitment_perception_change():
    """
    First-order adjustment of perceived commitment toward the commitment the alliance's behaviour indicates.
    """
    return (
        indicated_commitment() - perceived_commitment()
    ) / commitment_perception_time()


@component.add(
    name="Commitment Perception Time",
    units="Year",
    limits=(0.5, 5.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def commitment_perception_time():
    """
    Delay with which the adversary's reading of resolve follows the alliance's behaviour.
    """
    return 2


@component.add(
    name="Broken Commitment Loss",
    units="1/Year",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"perceived_commitment": 1, "abandonment_shock": 1, "betrayal_time": 1},
)
def broken_commitment_loss():
    """
    Credibility destroyed when an ally is seen to fail to act.
    """
    return perceived_commitment() * abandonment_shock() / betrayal_time()


@component.add(
    name="Indicated Commitment",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "alliance_cohesion": 1,
        "resolve_signal": 1,
        "leadership_commitment_loss": 1,
        "domestic_reluctance": 1,
    },
)
def indicated_commitment():
    """
    Commitment the alliance's behaviour indicates: cohesion times its resolve signal, less a key member's withdrawal and the domestic reluctance that escalation risk provokes. 0 without cohesion.
    """
    return (
        alliance_cohesion()
        * resolve_signal()
        * (1 - leadership_commitment_loss())
        * (1 - domestic_reluctance())
    )


@component.add(
    name="Declared Resolve",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"declaratory_clarity": 1, "forward_presence": 1},
)
def declared_resolve():
    """
    Resolve signalled in peacetime: the treaty itself, its clarity and forward presence (a tripwire).
    """
    return (1 + declaratory_clarity() + forward_presence()) / 3


@component.add(
    name="Resolve Signal",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"declared_resolve": 2, "crisis_tension": 1},
)
def resolve_signal():
    """
    Resolve the adversary reads. In a crisis the adversary tests the alliance: declarations count less and the alliance's actual cohesion more.
    """
    return declared_resolve() + crisis_tension() * (1 - declared_resolve())


@component.add(
    name="Escalation Risk",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"perceived_commitment": 1, "crisis_tension": 1},
)
def escalation_risk():
    """
    Risk that the alliance is drawn into an unintended escalation: firm commitments under high tension.
    """
    return perceived_commitment() * crisis_tension()


@component.add(
    name="Domestic Reluctance",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"reluctance_sensitivity": 1, "escalation_risk": 1},
)
def domestic_reluctance():
    """
    Reluctance of member publics to honour commitments that risk escalation (fear of entrapment).
    """
    return reluctance_sensitivity() * escalation_risk()


@component.add(
    name="Reluctance Sensitivity",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def reluctance_sensitivity():
    """
    Domestic reluctance per unit of escalation risk.
    """
    return 0.5


@component.add(
    name="Adversary Capability",
    units="Dmnl",
    limits=(0.0, np.nan),
    comp_type="Stateful",
    comp_subtype="Integ",
    depends_on={"_integ_adversary_capability": 1},
    other_deps={
        "_integ_adversary_capability": {
            "initial": {"adversary_capability_initial": 1},
            "step": {"adversary_build_up": 1, "adversary_restraint": 1},
        }
    },
)
def adversary_capability():
    """
    The adversary's military capability (about 1 at the status-quo equilibrium).
    """
    return _integ_adversary_capability()


_integ_adversary_capability = Integ(
    lambda: adversary_build_up() - adversary_restraint(),
    lambda: adversary_capability_initial(),
    "_integ_adversary_capability",
)


@component.add(
    name="Adversary Capability Initial",
    units="Dmnl",
    limits=(0.0, 3.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def adversary_capability_initial():
    """
    Adversary capability at time 0. Default: the status-quo equilibrium.
    """
    return 1.00246


@component.add(
    name="Adversary Build Up",
    units="1/Year",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "adversary_ambition_level": 1,
        "perceived_capability": 1,
        "adversary_fear_coefficient": 1,
        "adversary_adjustment_time": 1,
    },
)
def adversary_build_up():
    """
    Adversary armament: its ambition (Richardson's grievance term) and its fear of the alliance's perceived capability (Richardson's defence term).
    """
    return (
        adversary_ambition_level()
        + adversary_fear_coefficient() * perceived_capability()
    ) / adversary_adjustment_time()


@component.add(
    name="Adversary Restraint",
    units="1/Year",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"adversary_capability": 1, "adversary_adjustment_time": 1},
)
def adversary_restraint():
    """
    Economic restraint on armament (Richardson's fatigue term).
    """
    return adversary_capability() / adversary_adjustment_time()


@component.add(
    name="Adversary Adjustment Time",
    units="Year",
    limits=(3.0, 15.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def adversary_adjustment_time():
    """
    Time constant of adversary armament (1/fatigue coefficient).
    """
    return 8


@component.add(
    name="Adversary Fear Coefficient",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def adversary_fear_coefficient():
    """
    Adversary capability built per unit of perceived alliance capability (0: no security dilemma).
    """
    return 0.5


@component.add(
    name="Adversary Ambition",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def adversary_ambition():
    """
    The adversary's baseline revisionist ambition or grievance (0 a status-quo power, 1 maximal).
    """
    return 0.5


@component.add(
    name="Adversary Ambition Level",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "adversary_ambition": 2,
        "rising_power_size": 1,
        "rising_power_progress": 1,
    },
)
def adversary_ambition_level():
    """
    Current ambition: baseline plus the part of the gap to maximal ambition a rise has closed.
    """
    return (
        adversary_ambition()
        + (1 - adversary_ambition()) * rising_power_size() * rising_power_progress()
    )


@component.add(
    name="Adversary Risk Estimate",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Stateful",
    comp_subtype="Integ",
    depends_on={"_integ_adversary_risk_estimate": 1},
    other_deps={
        "_integ_adversary_risk_estimate": {
            "initial": {},
            "step": {"risk_estimate_change": 1},
        }
    },
)
def adversary_risk_estimate():
    """
    The adversary's estimate of the risk that aggression meets an effective collective response. Starts at the status-quo equilibrium.
    """
    return _integ_adversary_risk_estimate()


_integ_adversary_risk_estimate = Integ(
    lambda: risk_estimate_change(), lambda: 0.351576, "_integ_adversary_risk_estimate"
)


@component.add(
    name="Risk Estimate Change",
    units="1/Year",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "indicated_risk": 1,
        "adversary_risk_estimate": 1,
        "risk_estimate_update_time": 1,
    },
)
def risk_estimate_change():
    """
    First-order updating of the risk estimate.
    """
    return (indicated_risk() - adversary_risk_estimate()) / risk_estimate_update_time()


@component.add(
    name="Risk Estimate Update Time",
    units="Year",
    limits=(0.5, 5.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def risk_estimate_update_time():
    """
    Delay with which the adversary's strategic calculation follows its perceptions.
    """
    return 1


@component.add(
    name="Indicated Risk",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"perceived_commitment": 1, "capability_balance": 1},
)
def indicated_risk():
    """
    Risk of aggression as the adversary reads it now: probability of a collective response times probability that the response succeeds.
    """
    return perceived_commitment() * capability_balance()


@component.add(
    name="Capability Balance",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "defender_advantage": 2,
        "perceived_capability": 2,
        "adversary_capability": 1,
    },
)
def capability_balance():
    """
    Probability the adversary expects a collective response to defeat its aggression: a contest-success function of perceived capability against its own. 0 without capability.
    """
    return xidz(
        defender_advantage() * perceived_capability(),
        defender_advantage() * perceived_capability() + adversary_capability(),
        0,
    )


@component.add(
    name="Defender Advantage",
    units="Dmnl",
    limits=(1.0, 4.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def defender_advantage():
    """
    Force multiplier of defence over offence in the contest-success function.
    """
    return 2


@component.add(
    name="Deterrence Effectiveness",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"adversary_risk_estimate": 1},
)
def deterrence_effectiveness():
    """
    Output: how well the alliance deters (the adversary's risk estimate). Also the shared success that builds trust.
    """
    return adversary_risk_estimate()


@component.add(
    name="Aggression Propensity",
    units="Dmnl",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"adversary_ambition_level": 1, "adversary_risk_estimate": 1},
)
def aggression_propensity():
    """
    Output: the adversary's inclination to aggression: ambition not held back by the risk it expects. 0 without ambition.
    """
    return adversary_ambition_level() * (1 - adversary_risk_estimate())


@component.add(
    name="Hazard of Aggression",
    units="1/Year",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"maximum_aggression_hazard": 1, "aggression_propensity": 1},
)
def hazard_of_aggression():
    """
    Output: annual hazard of deliberate aggression (convex: rare while propensity is low).
    """
    return maximum_aggression_hazard() * aggression_propensity() ** 2


@component.add(
    name="Maximum Aggression Hazard",
    units="1/Year",
    limits=(0.01, 0.2),
    comp_type="Constant",
    comp_subtype="Normal",
)
def maximum_aggression_hazard():
    """
    Annual hazard of aggression at full propensity.
    """
    return 0.05


@component.add(
    name="Deterrence Survival",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Stateful",
    comp_subtype="Integ",
    depends_on={"_integ_deterrence_survival": 1},
    other_deps={
        "_integ_deterrence_survival": {"initial": {}, "step": {"deterrence_failure": 1}}
    },
)
def deterrence_survival():
    """
    Probability that deterrence has held so far (no deliberate aggression). Its final value is the probability deterrence holds to the horizon.
    """
    return _integ_deterrence_survival()


_integ_deterrence_survival = Integ(
    lambda: -deterrence_failure(), lambda: 1, "_integ_deterrence_survival"
)


@component.add(
    name="Deterrence Failure",
    units="1/Year",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={"deterrence_survival": 1, "hazard_of_aggression": 1},
)
def deterrence_failure():
    """
    Probability per year that deterrence fails now, having held so far.
    """
    return deterrence_survival() * hazard_of_aggression()


@component.add(
    name="Crisis Tension",
    units="Dmnl",
    limits=(0.0, 1.0),
    comp_type="Stateful",
    comp_subtype="Integ",
    depends_on={"_integ_crisis_tension": 1},
    other_deps={
        "_integ_crisis_tension": {
            "initial": {},
            "step": {"tension_build_up": 1, "tension_relief": 1},
        }
    },
)
def crisis_tension():
    """
    Tension between the alliance and the adversary (0 calm, 1 acute crisis). Starts at the status-quo equilibrium.
    """
    return _integ_crisis_tension()


_integ_crisis_tension = Integ(
    lambda: tension_build_up() - tension_relief(),
    lambda: 0.111613,
    "_integ_crisis_tension",
)


@component.add(
    name="Tension Build Up",
    units="1/Year",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "crisis_tension": 1,
        "entrapment_coefficient": 1,
        "aggression_propensity": 1,
        "perceived_commitment": 1,
        "tension_build_time": 1,
    },
)
def tension_build_up():
    """
    Tension raised by adversary probing and by partners emboldened by the alliance's commitment (entrapment in partners' disputes).
    """
    return (
        (1 - crisis_tension())
        * (aggression_propensity() + entrapment_coefficient() * perceived_commitment())
        / tension_build_time()
    )


@component.add(
    name="Entrapment Coefficient",
    units="Dmnl",
    limits=(0.0, 0.5),
    comp_type="Constant",
    comp_subtype="Normal",
)
def entrapment_coefficient():
    """
    Tension drive from partners' disputes per unit of perceived commitment.
    """
    return 0.1


@component.add(
    name="Tension Build Time",
    units="Year",
    limits=(1.0, 6.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def tension_build_time():
    """
    Time constant with which probing at full propensity raises tension.
    """
    return 3


@component.add(
    name="Tension Relief",
    units="1/Year",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "crisis_tension": 1,
        "diplomatic_engagement": 1,
        "diplomacy_effectiveness": 1,
        "tension_relaxation_time": 1,
    },
)
def tension_relief():
    """
    Tension relieved by time and diplomacy.
    """
    return (
        crisis_tension()
        * (1 + diplomacy_effectiveness() * diplomatic_engagement())
        / tension_relaxation_time()
    )


@component.add(
    name="Tension Relaxation Time",
    units="Year",
    limits=(1.0, 5.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def tension_relaxation_time():
    """
    Time constant of tension relief without diplomacy.
    """
    return 2


@component.add(
    name="Diplomacy Effectiveness",
    units="Dmnl",
    limits=(0.0, 4.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def diplomacy_effectiveness():
    """
    Increase in the speed of tension relief at full diplomatic engagement (2 triples it).
    """
    return 2
