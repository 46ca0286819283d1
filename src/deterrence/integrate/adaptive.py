"""Adaptive methods: ``scipy.integrate.solve_ivp`` segment by segment between switches.

The run is integrated between the times at which inputs switch (STEP, PULSE, PULSE
TRAIN, RAMP corners, comparisons with Time), and inside a segment switch functions see a
time strictly inside it, so no step straddles or smears a switch. Each SciPy method is a
class in :data:`ADAPTIVE` that says how the ensemble's state is laid out for it and
which options it gets (a banded LSODA, the ensemble Jacobian for Radau and BDF).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
from typing import Any, ClassVar

import numpy as np

from . import stiff
from .failures import BadControl, NonFiniteState, SolverFailure
from .grid import Grid, Trajectory
from .registry import ADAPTIVE, SCHEMES, register
from .schemes import RatesFn

MAX_BREAKPOINTS = 200_000


class AdaptiveMethod:
    """A ``solve_ivp`` method, set up for one ensemble of independent runs."""

    #: SciPy's name of the method (users' names are matched case-insensitively)
    name: ClassVar[str]
    #: keeps a Jacobian and its LU factors (counted in the memory estimate)
    implicit: ClassVar[bool] = False

    def __init__(self, n_stocks: int, n_runs: int, atol: float) -> None:
        self.n_stocks, self.n_runs, self.atol = n_stocks, n_runs, atol

    def options(self) -> dict[str, Any]:
        """Extra ``solve_ivp`` options for the whole run."""
        return {}

    def segment_options(self, fun: Any) -> dict[str, Any]:
        """Extra options that depend on one segment's rates ``fun``."""
        return {}

    def pack(self, y: np.ndarray) -> np.ndarray:
        """The (stocks, runs) state as the flat vector the solver integrates."""
        return y.ravel()

    def unpack(self, flat: np.ndarray) -> np.ndarray:
        return flat.reshape(self.n_stocks, self.n_runs)

    def solving(self) -> contextlib.AbstractContextManager[None]:
        """Context around each ``solve_ivp`` call."""
        return contextlib.nullcontext()


def register_adaptive(cls: type[AdaptiveMethod]) -> type[AdaptiveMethod]:
    """Offer the ``solve_ivp`` method ``cls.name`` (a class decorator)."""
    return register(ADAPTIVE, cls)


@register_adaptive
class RK45(AdaptiveMethod):
    name = "RK45"


@register_adaptive
class RK23(AdaptiveMethod):
    name = "RK23"


@register_adaptive
class DOP853(AdaptiveMethod):
    name = "DOP853"


@register_adaptive
class LSODA(AdaptiveMethod):
    """Runs are independent: ordered run-major, the ensemble's Jacobian is banded."""

    name = "LSODA"
    implicit = True

    def __init__(self, n_stocks: int, n_runs: int, atol: float) -> None:
        super().__init__(n_stocks, n_runs, atol)
        self.banded = n_runs > 1

    def options(self) -> dict[str, Any]:
        if self.banded and self.n_stocks > 0:
            return {"lband": self.n_stocks - 1, "uband": self.n_stocks - 1}
        return {}

    def pack(self, y: np.ndarray) -> np.ndarray:
        return y.T.ravel() if self.banded else y.ravel()

    def unpack(self, flat: np.ndarray) -> np.ndarray:
        if self.banded:
            return flat.reshape(self.n_runs, self.n_stocks).T
        return flat.reshape(self.n_stocks, self.n_runs)


class _Implicit(AdaptiveMethod):
    """Radau and BDF: an ensemble gets the block-diagonal Jacobian estimate."""

    implicit = True

    def __init__(self, n_stocks: int, n_runs: int, atol: float) -> None:
        super().__init__(n_stocks, n_runs, atol)
        self.jacobian = stiff.EnsembleJacobian(n_stocks, n_runs, atol) \
            if n_runs > 1 and n_stocks > 0 else None

    def segment_options(self, fun: Any) -> dict[str, Any]:
        if self.jacobian is None:
            return {}
        return {"jac": functools.partial(self.jacobian, fun)}


@register_adaptive
class Radau(_Implicit):
    name = "Radau"

    def solving(self) -> contextlib.AbstractContextManager[None]:
        return stiff.fast_radau(self.n_runs > 1)


@register_adaptive
class BDF(_Implicit):
    name = "BDF"


def switch_times(breakpoints: tuple[Any, ...], trains: tuple[Any, ...], grid: Grid,
                 n_runs: int) -> np.ndarray:
    """Sorted distinct times inside (t0, tf) at which some input switches, over all runs."""
    points = [np.ravel(np.asarray(b, dtype=float)) for b in breakpoints]
    for start, width, interval, end in trains:
        combos = np.broadcast_arrays(*(np.ravel(np.asarray(v, float))
                                       for v in (start, width, interval, end)))
        for s, w, i, e in set(zip(*(c.tolist() for c in combos), strict=True)):
            stop = min(e, grid.tf)
            if not (math.isfinite(s) and i > 0):  # one pulse, or on from start to end
                points.append(np.array([s, s + w, e]))
                continue
            count = int(min(max((stop - s) / i + 1, 0), MAX_BREAKPOINTS))
            starts = s + i * np.arange(count)
            points.extend([starts, starts + w, np.array([e])])
    if not points:
        return np.empty(0)
    times = np.unique(np.concatenate(points))
    times = times[np.isfinite(times) & (times > grid.t0) & (times < grid.tf)]
    if len(times) > MAX_BREAKPOINTS:
        raise BadControl(f"{len(times)} switch times in the horizon; too many to integrate "
                         f"segment by segment: use {' or '.join(SCHEMES)}")
    return times


class _Budget(Exception):
    """The rates were evaluated ``max_evaluations`` times (the solver is stuck)."""


def adaptive(rates: RatesFn, y0: np.ndarray, grid: Grid, method: str, breakpoints: np.ndarray,
             rtol: float, atol: float, max_step: float, first_step: float | None,
             max_evaluations: int = 1_000_000) -> Trajectory:
    """``solve_ivp`` between switch times, saving at the grid's save times.

    A solver that creeps (LSODA can take millions of tiny steps into a singularity) is
    stopped after ``max_evaluations`` evaluations of the rates and reported.
    """
    from scipy.integrate import solve_ivp

    n_stocks, n_runs = y0.shape
    solver = ADAPTIVE[method](n_stocks, n_runs, atol)
    options: dict[str, Any] = {"rtol": rtol, "atol": atol, "max_step": max_step}
    if first_step is not None:
        options["first_step"] = first_step
    options.update(solver.options())
    pack, unpack = solver.pack, solver.unpack
    plain = type(solver).unpack is AdaptiveMethod.unpack  # the state flat in C order

    edges = np.concatenate([[grid.t0], breakpoints, [grid.tf]])
    saves = grid.save_times
    states = np.empty((n_stocks, len(saves), n_runs))
    states[:, 0] = y0
    stats = {"nfev": 0, "njev": 0, "nlu": 0, "n_segments": len(edges) - 1}
    y = y0
    next_save = 1
    evaluations = [0, grid.t0]  # evaluations so far, last time evaluated
    for a, b in itertools.pairwise(edges):
        if b <= a:
            continue
        margin = (b - a) * 1e-9

        def fun(t: float, flat: np.ndarray, lo: float = a + margin,
                hi: float = b - margin) -> np.ndarray:
            evaluations[0] += 1
            evaluations[1] = t
            if evaluations[0] > max_evaluations:
                raise _Budget
            t = np.float64(t)
            inner = min(max(t, lo), hi)
            dy, _ = rates(t, inner, inner, unpack(flat), ())
            return pack(dy)

        options.update(solver.segment_options(fun))
        stop = next_save
        while stop < len(saves) and saves[stop] <= b + 1e-12 * max(1.0, abs(b)):
            stop += 1
        t_eval = np.concatenate([saves[next_save:stop], [b]])
        t_eval = np.unique(np.clip(t_eval, a, b))
        if n_stocks == 0:
            states[:, next_save:stop] = 0.0
            next_save = stop
            continue
        try:
            with solver.solving():
                sol = solve_ivp(fun, (a, b), pack(y), method=method, t_eval=t_eval,
                                **options)
        except _Budget:
            raise SolverFailure(
                f"{max_evaluations:,} evaluations of the rates without reaching time "
                f"{grid.tf:g}; the solver is creeping", float(evaluations[1]), y) from None
        except ValueError as exc:  # e.g. BDF refuses a Jacobian with NaN in it
            sol = None
            message = str(exc)
        if sol is None or sol.status < 0:
            message = message if sol is None else sol.message
            where, last = _failure_point(solve_ivp, fun, a, b, pack(y), method, options)
            raise SolverFailure(message, where, unpack(last) if last is not None else y)
        stats["nfev"] += int(sol.nfev)
        stats["njev"] += int(sol.njev)
        stats["nlu"] += int(sol.nlu)
        if not np.isfinite(sol.y).all():  # the first save time with a stock not finite
            col = int(np.argmin(np.isfinite(sol.y).all(axis=0)))
            raise NonFiniteState(float(sol.t[col]), a, y, (),
                                 ~np.isfinite(unpack(sol.y[:, col])))
        count = stop - next_save
        if plain:  # one reshape of all the columns (what unpack does with each)
            states[:, next_save:stop] = sol.y[:, :count].reshape(
                n_stocks, n_runs, count).transpose(0, 2, 1)
        else:
            for col in range(count):
                states[:, next_save + col] = unpack(sol.y[:, col])
        y = unpack(sol.y[:, -1]).copy()
        next_save = stop
    stats["status"] = 0
    return Trajectory(states, np.empty((0, len(saves), n_runs)), stats)


def _failure_point(solve_ivp: Any, fun: Any, a: float, b: float, y: np.ndarray, method: str,
                   options: dict[str, Any]) -> tuple[float, np.ndarray | None]:
    """Where a failed segment stopped: integrated again without ``t_eval``, whose last
    accepted step is the time of failure (``t_eval`` only shows the last save time)."""
    try:
        sol = solve_ivp(fun, (a, b), y, method=method, **options)
        t, ys = np.asarray(sol.t), np.asarray(sol.y)
        return (float(t[-1]), ys[:, -1]) if t.size and ys.size else (a, None)
    except (ValueError, _Budget):
        return a, None
