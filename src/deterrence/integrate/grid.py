"""The time grid of a run, sized before anything is allocated, and what is saved on it.

Fixed-step methods run the clock t0, t0+dt, ... to FINAL TIME and save every SAVEPER (a
multiple of TIME STEP); adaptive methods save every SAVEPER from INITIAL TIME.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .failures import BadControl
from .registry import SCHEMES


@dataclass(frozen=True)
class Grid:
    """The time grid: integration from t0 to tf, saved at ``save_times``."""

    t0: float
    tf: float
    dt: float
    saveper: float
    save_times: np.ndarray
    n_steps: int = 0  # fixed-step methods only
    every: int = 1  # steps between saves (fixed-step methods)
    halves: np.ndarray | None = None  # half the step at each save (changing TIME STEP)


@dataclass
class Trajectory:
    """States at the save times: ``states`` (stocks, times, runs), ``discrete`` likewise."""

    states: np.ndarray
    discrete: np.ndarray
    stats: dict[str, Any] = field(default_factory=dict)


def grid_size(t0: float, tf: float, dt: float, saveper: float,
              method: str) -> tuple[float, float]:
    """(steps, saved times) the grid would have, computed before anything is allocated.

    Floats, so an absurd request (a TIME STEP of 1e-300) gives a number to refuse, not
    a loop or an allocation. Raises :class:`BadControl` saying which value is wrong.
    """
    for name, value in (("INITIAL TIME", t0), ("FINAL TIME", tf), ("TIME STEP", dt),
                        ("SAVEPER", saveper)):
        if not math.isfinite(value):
            raise BadControl(f"{name} is {value}; it must be a finite number")
    if tf < t0:
        raise BadControl(f"FINAL TIME ({tf:g}) is before INITIAL TIME ({t0:g})")
    if dt <= 0:
        raise BadControl(f"TIME STEP is {dt:g}; it must be positive")
    if saveper <= 0:
        raise BadControl(f"SAVEPER is {saveper:g}; it must be positive")
    if method in SCHEMES:
        saveper = max(saveper, dt)
        if not math.isfinite(saveper / dt) or not math.isfinite((tf - t0) / dt):
            # more steps than a float can count: refused by the step limit
            return math.inf, float(math.floor((tf - t0) / saveper + 1e-9) + 1)
        every = round(saveper / dt)
        if abs(every * dt - saveper) > 1e-9 * saveper:
            raise BadControl(
                f"SAVEPER ({saveper:g}) is not a multiple of TIME STEP ({dt:g}); "
                f"{method} saves on its steps, so choose SAVEPER = k * TIME STEP"
            )
        steps = math.floor((tf - t0) / dt + 1e-9)
        return float(steps), float(steps // every + 1)
    return 0.0, float(math.floor((tf - t0) / saveper + 1e-9) + 1)


def make_grid(t0: float, tf: float, dt: float, saveper: float, method: str) -> Grid:
    """Build the grid (its size checked first with :func:`grid_size`)."""
    n_steps, n_saves = (int(n) for n in grid_size(t0, tf, dt, saveper, method))
    if method in SCHEMES:
        saveper = max(saveper, dt)
        every = round(saveper / dt)
        steps = np.arange(0, n_steps + 1, every)
        return Grid(t0, tf, dt, saveper, t0 + steps * dt, n_steps, every)
    return Grid(t0, tf, dt, saveper, t0 + np.arange(n_saves) * saveper)
