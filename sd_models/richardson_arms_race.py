"""
Python model 'richardson_arms_race.py'
Translated using PySD
"""

from pathlib import Path
import numpy as np

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
    "final_time": lambda: 20,
    "time_step": lambda: 0.015625,
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
    The final time for the simulation: four time constants of the slow mode (1/0.2 years) at the defaults.
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
    The time step for the simulation (1/64 year): Euler's error against the closed form stays below 0.5% at the defaults.
    """
    return __data["time"].time_step()


#######################################################################
#                           MODEL VARIABLES                           #
#######################################################################


@component.add(
    name="X Armament",
    units="Dmnl",
    comp_type="Stateful",
    comp_subtype="Integ",
    depends_on={"_integ_x_armament": 1},
    other_deps={
        "_integ_x_armament": {
            "initial": {"x_initial": 1},
            "step": {"x_armament_change": 1},
        }
    },
)
def x_armament():
    """
    Armament level of rival X (x).
    """
    return _integ_x_armament()


_integ_x_armament = Integ(
    lambda: x_armament_change(), lambda: x_initial(), "_integ_x_armament"
)


@component.add(
    name="X Armament Change",
    units="1/Year",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "fear_coefficient_a": 1,
        "y_armament": 1,
        "x_armament": 1,
        "fatigue_coefficient_m": 1,
        "grievance_g": 1,
    },
)
def x_armament_change():
    """
    dx/dt = a*y - m*x + g.
    """
    return (
        fear_coefficient_a() * y_armament()
        - fatigue_coefficient_m() * x_armament()
        + grievance_g()
    )


@component.add(
    name="Y Armament",
    units="Dmnl",
    comp_type="Stateful",
    comp_subtype="Integ",
    depends_on={"_integ_y_armament": 1},
    other_deps={
        "_integ_y_armament": {
            "initial": {"y_initial": 1},
            "step": {"y_armament_change": 1},
        }
    },
)
def y_armament():
    """
    Armament level of rival Y (y).
    """
    return _integ_y_armament()


_integ_y_armament = Integ(
    lambda: y_armament_change(), lambda: y_initial(), "_integ_y_armament"
)


@component.add(
    name="Y Armament Change",
    units="1/Year",
    comp_type="Auxiliary",
    comp_subtype="Normal",
    depends_on={
        "fear_coefficient_b": 1,
        "x_armament": 1,
        "fatigue_coefficient_n": 1,
        "y_armament": 1,
        "grievance_h": 1,
    },
)
def y_armament_change():
    """
    dy/dt = b*x - n*y + h.
    """
    return (
        fear_coefficient_b() * x_armament()
        - fatigue_coefficient_n() * y_armament()
        + grievance_h()
    )


@component.add(
    name="Fear Coefficient A",
    units="1/Year",
    limits=(0.0, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def fear_coefficient_a():
    """
    a: rate at which X arms per unit of Y's armament (defence, fear).
    """
    return 0.2


@component.add(
    name="Fear Coefficient B",
    units="1/Year",
    limits=(0.0, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def fear_coefficient_b():
    """
    b: rate at which Y arms per unit of X's armament.
    """
    return 0.3


@component.add(
    name="Fatigue Coefficient M",
    units="1/Year",
    limits=(0.05, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def fatigue_coefficient_m():
    """
    m: rate at which the economic burden of its own arms restrains X.
    """
    return 0.5


@component.add(
    name="Fatigue Coefficient N",
    units="1/Year",
    limits=(0.05, 1.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def fatigue_coefficient_n():
    """
    n: rate at which the economic burden of its own arms restrains Y.
    """
    return 0.4


@component.add(
    name="Grievance G",
    units="1/Year",
    limits=(-0.5, 0.5),
    comp_type="Constant",
    comp_subtype="Normal",
)
def grievance_g():
    """
    g: X's standing grievance (negative: goodwill), arming X regardless of Y.
    """
    return 0.1


@component.add(
    name="Grievance H",
    units="1/Year",
    limits=(-0.5, 0.5),
    comp_type="Constant",
    comp_subtype="Normal",
)
def grievance_h():
    """
    h: Y's standing grievance (negative: goodwill).
    """
    return 0.05


@component.add(
    name="X Initial",
    units="Dmnl",
    limits=(0.0, 2.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def x_initial():
    """
    x(0): X's armament at the start.
    """
    return 1


@component.add(
    name="Y Initial",
    units="Dmnl",
    limits=(0.0, 2.0),
    comp_type="Constant",
    comp_subtype="Normal",
)
def y_initial():
    """
    y(0): Y's armament at the start.
    """
    return 0.5
