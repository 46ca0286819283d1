"""Integrate a compiled model's rates: arrays in, arrays out, no names.

The state is an array of shape (stocks, runs): every run advances in the same NumPy
calls. Fixed-step schemes (:mod:`.schemes`, with Vensim's semantics: the clock runs t0,
t0+dt, ... to FINAL TIME, values are saved every SAVEPER, STEP and PULSE test
``t + dt/2``) and SciPy's adaptive methods (:mod:`.adaptive`, segment by segment between
switch times) are each one registry; the method names are read from them. A failure
raises one of :mod:`.failures` with indices and times; ``deterrence.diagnose`` words it.

To add a method, register one class (and add one test): a fixed-step scheme subclasses
:class:`Scheme` (``name``, ``evals_per_step``, ``advance``) under
:func:`register_scheme`; a SciPy method subclasses :class:`AdaptiveMethod` under
:func:`register_adaptive`. ``METHODS``, ``SolverOptions``, ``Model.simulate`` and the
command line's help read the registries.

This package sees arrays only: it imports nothing of the compiler, the front end or the
model.
"""

from __future__ import annotations

from typing import Any

from .adaptive import AdaptiveMethod, adaptive, register_adaptive, switch_times
from .failures import BadControl, NonFiniteState, SolverFailure, TooLarge
from .fixed import fixed_step, fixed_step_dynamic, scalar_euler
from .grid import Grid, Trajectory, grid_size, make_grid
from .options import (
    BACKENDS,
    SolverOptions,
    adaptive_methods,
    check_option,
    fixed_methods,
    is_fixed,
    method_name,
    methods,
)
from .registry import ADAPTIVE, SCHEMES
from .schemes import RatesFn, Scheme, register_scheme

__all__ = [
    "ADAPTIVE", "ADAPTIVE_METHODS", "BACKENDS", "FIXED_METHODS", "METHODS", "SCHEMES",
    "AdaptiveMethod", "BadControl", "Grid", "NonFiniteState", "RatesFn", "Scheme", "SolverFailure",
    "SolverOptions", "TooLarge", "Trajectory", "adaptive", "adaptive_methods",
    "check_option", "fixed_methods", "fixed_step", "fixed_step_dynamic", "grid_size",
    "is_fixed", "make_grid", "method_name", "methods", "register_adaptive",
    "register_scheme", "scalar_euler", "switch_times",
]

_NAMES = {"METHODS": methods, "FIXED_METHODS": fixed_methods,
          "ADAPTIVE_METHODS": adaptive_methods}


def __getattr__(name: str) -> Any:
    """``METHODS``, ``FIXED_METHODS`` and ``ADAPTIVE_METHODS``: tuples read from the
    registries when asked for, so a scheme registered later is listed too."""
    if name in _NAMES:
        return _NAMES[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
