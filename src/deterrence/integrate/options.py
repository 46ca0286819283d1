"""The solver's options as one value: the CLI, the experiments and ``Model.simulate``
pass a :class:`SolverOptions`, checked once when it is made.

The method names are those of the two registries (fixed-step schemes first, then SciPy's
adaptive methods), matched case-insensitively and stored in their canonical spelling.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ParameterError
from .registry import ADAPTIVE, SCHEMES


def fixed_methods() -> tuple[str, ...]:
    return tuple(SCHEMES)


def adaptive_methods() -> tuple[str, ...]:
    return tuple(ADAPTIVE)


def methods() -> tuple[str, ...]:
    """Every method name ``simulate`` accepts, as listed to users."""
    return fixed_methods() + adaptive_methods()


def is_fixed(method: str) -> bool:
    """Whether ``method`` (a canonical name) steps on TIME STEP with Vensim's semantics."""
    return method in SCHEMES


def method_name(method: Any) -> str:
    """The canonical name of ``method`` (any case), or a ParameterError listing them."""
    if isinstance(method, str):
        for name in methods():
            if method.lower() == name.lower():
                return name
    raise ParameterError(f"unknown method {method!r}; choose one of {', '.join(methods())}")


#: option -> (what it is, a good value); they must be positive (and finite)
_POSITIVE = {
    "rtol": ("the relative tolerance", "1e-6"), "atol": ("the absolute tolerance", "1e-8"),
    "max_step": ("the largest step", "1"), "first_step": ("the first step", "0.01"),
    "time_step": ("TIME STEP", "0.25"), "saveper": ("SAVEPER", "1"),
}
#: options for which None means "not given" (the solver's default or the file's value)
_OPTIONAL = ("max_step", "first_step", "initial_time", "final_time", "time_step", "saveper")


#: how the fixed-step integration runs: ``native`` (one numba kernel), ``numpy`` (the
#: vector flavour), ``auto`` (the default: native where it pays and can, else NumPy,
#: with a logged warning where native would pay but cannot compile the run)
BACKENDS = ("auto", "native", "numpy")


def check_option(name: str, value: Any) -> None:
    """Refuse a bad option at once (a NaN tolerance would only waste a minute).

    ``name`` is a solver option or a control override (``time_step``, ``saveper``,
    ``initial_time``, ``final_time``); raises ParameterError naming it.
    """
    if name == "backend":
        if value not in BACKENDS:
            raise ParameterError(f"backend={value!r}: choose one of {', '.join(BACKENDS)}")
        return
    if name == "seed":
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise ParameterError(f"seed={value!r}: expected a whole number >= 0",
                                 hint="e.g. seed=42; the same seed gives the same draws")
        return
    if name == "max_evaluations":
        whole = isinstance(value, int | np.integer) or (
            isinstance(value, float | np.floating) and float(value).is_integer())
        if isinstance(value, bool) or not whole or value < 1:
            raise ParameterError(f"max_evaluations={value!r}: expected a positive "
                                 "whole number",
                                 hint="e.g. max_evaluations=1000000 (the default)")
        return
    if value is None and name in _OPTIONAL:
        return
    try:
        number = math.nan if isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name}={value!r} is not a number") from None
    if name in _POSITIVE:
        what, example = _POSITIVE[name]
        unbounded = name == "max_step" and number == math.inf  # solve_ivp's default
        if not (number > 0 and (math.isfinite(number) or unbounded)):
            raise ParameterError(f"{name}={value!r}: {what} must be a positive finite "
                                 "number", hint=f"e.g. {name}={example}")
    elif not math.isfinite(number):
        raise ParameterError(f"{name}={value!r}: it must be a finite number")


@dataclass(frozen=True)
class SolverOptions:
    """How to integrate: the method and, for adaptive methods, its tolerances and steps.

    ``method`` is a fixed-step scheme (``euler``, ``rk4``: TIME STEP with Vensim's
    semantics) or a ``solve_ivp`` method; an adaptive solver that has evaluated the rates
    ``max_evaluations`` times is stopped. ``backend`` (:data:`BACKENDS`) says what runs
    a fixed-step integration: the compiled native kernel, NumPy, or ``auto`` (native
    where it pays and can, see ``deterrence.backends``). Every value is
    checked here, so a bad one is refused before any work (ParameterError naming it).
    """

    method: str = "RK45"
    rtol: float = 1e-6
    atol: float = 1e-8
    max_step: float | None = None
    first_step: float | None = None
    max_evaluations: int = 1_000_000
    backend: str = "auto"
    #: the RANDOM functions' seed: run i of an ensemble draws its own reproducible stream
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", method_name(self.method))
        for f in dataclasses.fields(self)[1:]:
            check_option(f.name, getattr(self, f.name))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> SolverOptions:
        """From a config (e.g. Hydra's ``cfg.solver``): its solver keys, others ignored
        (``time_step``, ``max_memory``...); absent keys keep the defaults."""
        return cls(**{f.name: mapping[f.name] for f in dataclasses.fields(cls)
                      if f.name in mapping})

    @property
    def fixed(self) -> bool:
        """A fixed-step scheme: the tolerances do not apply."""
        return is_fixed(self.method)

    def record(self) -> dict[str, Any]:
        """What a Dataset records of these options (adaptive methods only)."""
        tolerances = {} if self.fixed else {"rtol": self.rtol, "atol": self.atol,
                                            "max_step": self.max_step}
        return {**tolerances, "seed": self.seed}
