"""Fixed-step schemes with Vensim's semantics, one class per scheme, in one registry.

A scheme advances every run of the state array (stocks, runs) by one TIME STEP. The
rates are called as ``rates(t_stage, t, t + dt/2, y, z)``: every stage sees the switches
(STEP, PULSE, comparisons with Time) as they are at the start of the step, as in Vensim,
where they change only at TIME STEP intervals. Adding a scheme is one class decorated
with :func:`register_scheme`; the method names, the CLI help and the step counts all
read :data:`SCHEMES`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from .registry import SCHEMES, register

RatesFn = Callable[..., tuple[np.ndarray, tuple[Any, ...]]]


class Scheme:
    """One fixed-step scheme: its name, its cost and its step."""

    #: the method name users give (matched case-insensitively)
    name: ClassVar[str]
    #: evaluations of the rates per step (the ``nfev`` statistic)
    evals_per_step: ClassVar[int]
    #: the compiler's single-run loop over Python floats implements this scheme
    scalar_kernel: ClassVar[bool] = False

    def advance(self, rates: RatesFn, t: Any, dt: Any, y: np.ndarray,
                z: tuple[Any, ...]) -> tuple[np.ndarray, tuple[Any, ...]]:
        """The state at ``t + dt``, and the values entering DELAY FIXED pipes at ``t``."""
        raise NotImplementedError


def register_scheme(cls: type[Scheme]) -> type[Scheme]:
    """Make ``cls`` a method of ``Model.simulate`` under ``cls.name`` (a class decorator)."""
    if not isinstance(getattr(cls, "evals_per_step", None), int) or cls.evals_per_step < 1:
        raise TypeError(f"{cls.__name__}.evals_per_step must be a positive int")
    return register(SCHEMES, cls)


def scheme(name: str) -> Scheme:
    """The registered scheme called ``name`` (exactly: names are resolved by the options)."""
    return SCHEMES[name]()


@register_scheme
class Euler(Scheme):
    """Vensim's Euler: one evaluation at the start of the step."""

    name = "euler"
    evals_per_step = 1
    scalar_kernel = True

    def advance(self, rates: RatesFn, t: Any, dt: Any, y: np.ndarray,
                z: tuple[Any, ...]) -> tuple[np.ndarray, tuple[Any, ...]]:
        dy, pipe_in = rates(t, t, t + dt / 2, y, z)
        return y + dt * dy, pipe_in


@register_scheme
class RK4(Scheme):
    """Classic fourth-order Runge-Kutta with the switches frozen over the step."""

    name = "rk4"
    evals_per_step = 4

    def advance(self, rates: RatesFn, t: Any, dt: Any, y: np.ndarray,
                z: tuple[Any, ...]) -> tuple[np.ndarray, tuple[Any, ...]]:
        half = dt / 2
        ts = t + half
        k1, pipe_in = rates(t, t, ts, y, z)
        k2, _ = rates(t + half, t, ts, y + half * k1, z)
        k3, _ = rates(t + half, t, ts, y + half * k2, z)
        k4, _ = rates(t + dt, t, ts, y + dt * k3, z)
        return y + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4), pipe_in
