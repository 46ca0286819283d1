"""Every function the engine knows, one entry each (see :mod:`.registry`).

To add a function: write its vector and scalar implementations in :mod:`.numeric` (or
name NumPy's and ``math``'s), add one ``Function`` here, and add a test; nothing else
changes. docs/extending.md walks through an example.
"""

from __future__ import annotations

import math

import numpy as np

from . import native as nv
from . import numeric as n
from . import random as rnd
from .registry import Clock, Family, Function, Lowering, Registry

FUNCTIONS = Registry()
_add = FUNCTIONS.add

# -- mathematics: plain calls ----------------------------------------------------------
for _key, _name, _vector, _scalar in [
    ("abs", "ABS", np.abs, abs),
    ("sqrt", "SQRT", np.sqrt, math.sqrt),
    ("exp", "EXP", np.exp, math.exp),
    ("ln", "LN", np.log, math.log),
    ("log10", "LOG10", np.log10, math.log10),
    ("sin", "SIN", np.sin, math.sin),
    ("cos", "COS", np.cos, math.cos),
    ("tan", "TAN", np.tan, math.tan),
    ("arcsin", "ARCSIN", np.arcsin, math.asin),
    ("arccos", "ARCCOS", np.arccos, math.acos),
    ("arctan", "ARCTAN", np.arctan, math.atan),
    ("sinh", "SINH", np.sinh, math.sinh),
    ("cosh", "COSH", np.cosh, math.cosh),
    ("tanh", "TANH", np.tanh, math.tanh),
    ("integer", "INTEGER", np.trunc, math.trunc),
]:
    _add(Function(_key, _name, Family.MATH, 1, _vector, _scalar))
for _key, _name, _vector, _scalar, _native in [
    ("min", "MIN", np.minimum, n.s_min, nv.n_min),
    ("max", "MAX", np.maximum, n.s_max, nv.n_max),
    ("modulo", "MODULO", n.v_modulo, n.s_modulo, nv.n_modulo),
    ("quantum", "QUANTUM", n.v_quantum, n.s_quantum, nv.n_quantum),
    ("zidz", "ZIDZ", n.v_zidz, n.s_zidz, nv.n_zidz),
    ("log", "LOG", n.v_log, n.s_log, nv.n_log),
]:
    _add(Function(_key, _name, Family.MATH, 2, _vector, _scalar, _native))
_add(Function("xidz", "XIDZ", Family.MATH, 3, n.v_xidz, n.s_xidz, nv.n_xidz))
_add(Function("gamma_ln", "GAMMA LN", Family.MATH, 1, n.v_gamma_ln, n.s_gamma_ln,
              nv.n_gamma_ln))
# a ^ b: lowered to the operator; ``_power`` is the scalar flavour's ``**`` (math.pow
# raises where ``**`` would give a complex number)
_add(Function("power", "POWER", Family.MATH, 2, np.power, math.pow,
              lowering=Lowering.SPECIAL))
_add(Function("pi", "PI", Family.MATH, 0, lowering=Lowering.SPECIAL))

# -- logic and selection ---------------------------------------------------------------
_add(Function("if_then_else", "IF THEN ELSE", Family.LOGIC, 3, np.where, n.s_where,
              nv.n_where))
_add(Function("not", ":NOT:", Family.LOGIC, 1, np.logical_not, n.s_not, nv.n_not,
              lowering=Lowering.OPERATOR))
_add(Function("and", ":AND:", Family.LOGIC, 2, np.logical_and, n.s_and, nv.n_and,
              lowering=Lowering.OPERATOR))
_add(Function("or", ":OR:", Family.LOGIC, 2, np.logical_or, n.s_or, nv.n_or,
              lowering=Lowering.OPERATOR))
_add(Function("active_initial", "ACTIVE INITIAL", Family.LOGIC, 2,
              lowering=Lowering.SPECIAL))

# -- inputs that switch in time --------------------------------------------------------
_add(Function("step", "STEP", Family.SWITCH, 2, n.v_step, n.s_step, nv.n_step,
              clocks=(Clock.SWITCH,), switches=((1,),)))
_add(Function("pulse", "PULSE", Family.SWITCH, 2, n.v_pulse, n.s_pulse, nv.n_pulse,
              clocks=(Clock.STEP_START, Clock.SWITCH), switches=((0,), (0, 1))))
# PySD gives (start, interval, width, end); the implementation takes (start, width, ...)
_add(Function("pulse_train", "PULSE TRAIN", Family.SWITCH, 4, n.v_pulse_train,
              n.s_pulse_train, nv.n_pulse_train, clocks=(Clock.STEP_START, Clock.SWITCH),
              order=(0, 2, 1, 3),
              train=(0, 2, 1, 3)))
_add(Function("ramp", "RAMP", Family.SWITCH, 3, n.v_ramp, n.s_ramp, nv.n_ramp,
              clocks=(Clock.TIME,), switches=((1,), (2,))))
# XMILE's PULSE(magnitude, start[, interval]) and RAMP(slope, start), as PySD names them
_add(Function("Xramp", "RAMP (XMILE)", Family.SWITCH, 2, n.v_ramp, n.s_ramp, nv.n_ramp,
              clocks=(Clock.TIME,), switches=((1,),)))
_add(Function("Xpulse", "PULSE (XMILE)", Family.SWITCH, 2, n.v_xpulse, n.s_xpulse, nv.n_xpulse,
              clocks=(Clock.SWITCH,), controls=("time_step",), switches=((0,), (0, 2))))
_add(Function("Xpulse_train", "PULSE with an interval (XMILE)", Family.SWITCH, 3,
              n.v_xpulse_train, n.s_xpulse_train, nv.n_xpulse_train, clocks=(Clock.SWITCH,),
              controls=("time_step",), train=(0, 3, 1, math.inf)))

# -- lookups: (x, xp, fp); a table is read through lookup_interpolate unless it says
# otherwise (GET XLS LOOKUPS' keywords, or one of the calls below)
_add(Function("lookup_interpolate", "a lookup call", Family.LOOKUP, 1, n.v_interp,
              n.s_interp, nv.n_interp, lowering=Lowering.SPECIAL))
_add(Function("lookup_extrapolate", "LOOKUP EXTRAPOLATE", Family.LOOKUP, 2,
              n.v_extrapolate, n.s_extrapolate, nv.n_extrapolate, lowering=Lowering.SPECIAL))
_add(Function("lookup_forward", "LOOKUP FORWARD", Family.LOOKUP, 2, n.v_forward,
              n.s_forward, nv.n_forward, lowering=Lowering.SPECIAL))
_add(Function("lookup_backward", "LOOKUP BACKWARD", Family.LOOKUP, 2, n.v_backward,
              n.s_backward, nv.n_backward, lowering=Lowering.SPECIAL))
_add(Function("with_lookup", "WITH LOOKUP", Family.LOOKUP, lowering=Lowering.SPECIAL))

# -- stocks and stateful functions: built from PySD's structures by compile/stateful.py
for _key, _name in [
    ("integ", "INTEG"), ("smooth", "SMOOTH"), ("smoothi", "SMOOTHI"),
    ("smooth3", "SMOOTH3"), ("smooth3i", "SMOOTH3I"), ("smooth_n", "SMOOTH N"),
    ("delay1", "DELAY1"), ("delay1i", "DELAY1I"), ("delay3", "DELAY3"),
    ("delay3i", "DELAY3I"), ("delay_n", "DELAY N"), ("delay_fixed", "DELAY FIXED"),
    ("trend", "TREND"), ("initial", "INITIAL"), ("forecast", "FORECAST"),
    ("sample_if_true", "SAMPLE IF TRUE"),
]:
    _add(Function(_key, _name, Family.STATEFUL, lowering=Lowering.STATEFUL, stocks=True))
# a call (not a structure of PySD's): its hidden stocks are built by compile/stateful.py
_add(Function("npv", "NPV", Family.STATEFUL, 4, lowering=Lowering.SPECIAL, stocks=True))
_add(Function("game", "GAME", Family.OTHER, lowering=Lowering.STATEFUL))

# -- known, not yet computed: refused with a reason, never a wrong number -------------
_ARRAYS = "not computed yet (subscripts are; this array function is not)"
for _key, _name in [("vmin_xmile", "MIN (XMILE array)"), ("vmax_xmile", "MAX (XMILE array)")]:
    _add(Function(_key, _name, Family.ARRAY, lowering=Lowering.UNSUPPORTED, hint=_ARRAYS))
# -- data: data variables (:=) and external files, read by frontend/external.py when the
# model is compiled; lowered by compile/data.py
for _key, _name in [("get_xls_data", "GET XLS DATA"), ("get_direct_data", "GET DIRECT DATA"),
                    ("get_xls_constants", "GET XLS CONSTANTS"),
                    ("get_direct_constants", "GET DIRECT CONSTANTS"),
                    ("get_xls_lookups", "GET XLS LOOKUPS"),
                    ("get_direct_lookups", "GET DIRECT LOOKUPS")]:
    _add(Function(_key, _name, Family.DATA, lowering=Lowering.STATEFUL))
for _key, _name, _arity in [("get_data_at_time", "GET DATA AT TIME", 2),
                            ("get_data_first_time", "GET DATA FIRST TIME", 1),
                            ("get_data_last_time", "GET DATA LAST TIME", 1)]:
    _add(Function(_key, _name, Family.DATA, _arity, lowering=Lowering.SPECIAL))
_add(Function("get_direct_subscript", "GET DIRECT SUBSCRIPT", Family.DATA,
              lowering=Lowering.UNSUPPORTED, hint="subscript ranges from files need "
              "subscripts"))
# GET TIME VALUE(0, offset, 0) is Time + offset; the computer's clock is refused
_add(Function("get_time_value", "GET TIME VALUE", Family.OTHER, 3, lowering=Lowering.SPECIAL))
# a stock of the investments and a DELAY FIXED pipe of it (compile/stateful.py)
_add(Function("depreciate_straightline", "DEPRECIATE STRAIGHTLINE", Family.STATEFUL, 4,
              lowering=Lowering.SPECIAL, stocks=True))
_add(Function("delay_material", "DELAY MATERIAL", Family.STATEFUL,
              lowering=Lowering.UNSUPPORTED, hint="not computed yet"))
# -- random numbers: the draw is a hash of (run key, call site, time), see library/random;
# lowered by compile/randomness.py (the arity counts Vensim's final stream ID)
for _key, _name, _impl, _arity in rnd.FUNCTIONS:
    _add(Function(_key, _name, Family.RANDOM, _arity, _impl, _impl,
                  lowering=Lowering.SPECIAL))
_add(Function("random_lookup", "RANDOM LOOKUP", Family.RANDOM,
              lowering=Lowering.UNSUPPORTED, hint="not computed yet; the other RANDOM "
              "functions are"))

# -- array functions over subscript ranges (compile/lower.py ``_array_reduce``; their
# implementations, NumPy's reductions over one trailing axis, are compile/arrayops.py's)
for _key, _name in [("sum", "SUM"), ("prod", "PROD"), ("vmin", "VMIN"), ("vmax", "VMAX")]:
    _add(Function(_key, _name, Family.ARRAY, 1, lowering=Lowering.SPECIAL))
_add(Function("elmcount", "ELMCOUNT", Family.ARRAY, 1, lowering=Lowering.SPECIAL))
# keep their argument's axes (compile/lower.py ``_array_call``, compile/arrayops.py)
for _key, _name in [("invert_matrix", "INVERT MATRIX"),
                    ("vector_sort_order", "VECTOR SORT ORDER"), ("vector_rank", "VECTOR RANK")]:
    _add(Function(_key, _name, Family.ARRAY, 2, lowering=Lowering.SPECIAL))
# several array arguments (compile/arraycalls.py -> ``ir.ArrayApply``, computed by
# compile/arrayfns.py); the allocations are structures in PySD's abstract model
_add(Function("vector_select", "VECTOR SELECT", Family.ARRAY, 5, lowering=Lowering.SPECIAL))
_add(Function("vector_reorder", "VECTOR REORDER", Family.ARRAY, 2, lowering=Lowering.SPECIAL))
_add(Function("allocate_by_priority", "ALLOCATE BY PRIORITY", Family.ARRAY, 5,
              lowering=Lowering.STATEFUL))
_add(Function("allocate_available", "ALLOCATE AVAILABLE", Family.ARRAY, 3,
              lowering=Lowering.STATEFUL))
