"""How the integrator reports a run it cannot finish: indices and times, never names.

The caller (``deterrence.diagnose``) knows the model and turns each of these into an
error that names the file, the variable and the time.
"""

from __future__ import annotations

import numpy as np


class NonFiniteState(Exception):
    """A stock became NaN or infinite between ``time_before`` and ``time``."""

    def __init__(self, time: float, time_before: float, y_before: np.ndarray,
                 z_before: tuple[np.ndarray, ...], bad: np.ndarray) -> None:
        super().__init__(f"non-finite state at time {time}")
        self.time = time
        self.time_before = time_before
        self.y_before = y_before
        self.z_before = z_before
        self.bad = bad  # boolean (stocks, runs)


class SolverFailure(Exception):
    """``solve_ivp`` gave up (status -1) at ``time``."""

    def __init__(self, message: str, time: float, y: np.ndarray) -> None:
        super().__init__(message)
        self.time = time
        self.y = y


class TooLarge(Exception):
    """A run exceeded its budget while it ran: ``kind`` is steps, memory or stuck."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


class BadControl(ValueError):
    """A control value (INITIAL TIME, FINAL TIME, TIME STEP, SAVEPER) or the inputs'
    switch times make the run impossible; the message says which and why.

    A ValueError, so code that only builds a grid can catch it as one; ``Model``
    reports it as a ``ModelError`` naming the file.
    """
