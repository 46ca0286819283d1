"""Fixed-step integration of the vector flavour: every run advances in the same NumPy
calls, with the scheme named by the method, and the state is checked every step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .failures import BadControl, NonFiniteState, TooLarge
from .grid import Grid, Trajectory
from .schemes import RatesFn, scheme


class _FixedDelays:
    """DELAY FIXED pipelines: the value entering at step k leaves at step k + m."""

    def __init__(self, initial: tuple[Any, ...], delays: tuple[Any, ...], dt: float,
                 n_runs: int) -> None:
        self.pipes: list[np.ndarray] = []
        self.lengths: list[np.ndarray] = []
        self.runs = np.arange(n_runs)
        for init, delay in zip(initial, delays, strict=True):
            m = np.maximum(np.round(np.asarray(delay, float) / dt + 1e-6), 1).astype(int)
            m = np.broadcast_to(m, (n_runs,))
            pipe = np.empty((int(m.max()), n_runs))
            pipe[:] = np.broadcast_to(np.asarray(init, float), (n_runs,))
            self.pipes.append(pipe)
            self.lengths.append(m)

    def outputs(self, k: int) -> tuple[np.ndarray, ...]:
        return tuple(pipe[k % m, self.runs] for pipe, m in
                     zip(self.pipes, self.lengths, strict=True))

    def push(self, k: int, values: tuple[Any, ...]) -> None:
        for pipe, m, v in zip(self.pipes, self.lengths, values, strict=True):
            pipe[k % m, self.runs] = v


def fixed_step(rates: RatesFn, y0: np.ndarray, z_init: tuple[Any, ...],
               z_delays: tuple[Any, ...], grid: Grid, method: str) -> Trajectory:
    """The registered scheme ``method`` on the grid's steps, saving every ``grid.every``."""
    step = scheme(method)
    n_stocks, n_runs = y0.shape
    dt, t0 = np.float64(grid.dt), np.float64(grid.t0)  # NumPy's arithmetic on the time
    delays = _FixedDelays(z_init, z_delays, grid.dt, n_runs)
    n_saves = len(grid.save_times)
    states = np.empty((n_stocks, n_saves, n_runs))
    discrete = np.empty((len(z_init), n_saves, n_runs))
    y = y0.copy()
    j = 0
    for k in range(grid.n_steps + 1):
        t = t0 + k * dt
        z = delays.outputs(k)
        if k % grid.every == 0:
            states[:, j] = y
            if z:
                discrete[:, j] = np.asarray(z)
            j += 1
        if k == grid.n_steps:
            break
        y_new, pipe_in = step.advance(rates, t, dt, y, z)
        if pipe_in:
            delays.push(k, pipe_in)
        finite = np.isfinite(y_new)
        if not finite.all():
            raise NonFiniteState(float(t + dt), float(t), y, z, ~finite)
        y = y_new
    return Trajectory(states, discrete, {"nfev": step.evals_per_step * grid.n_steps,
                                         "n_steps": grid.n_steps})


def fixed_step_dynamic(rates: RatesFn, controls: Callable[..., tuple[Any, ...]],
                       y0: np.ndarray, t0: float, method: str, max_steps: float,
                       max_saves: float) -> tuple[Trajectory, Grid]:
    """A fixed-step run where TIME STEP, SAVEPER and FINAL TIME are re-evaluated every step.

    As in Vensim: a value is saved when the time is a multiple of the current SAVEPER
    from INITIAL TIME, and the run stops at the first step at or after FINAL TIME. The
    number of steps is not known in advance, so the budgets are checked as it runs.
    """
    step = scheme(method)
    y, t = y0.copy(), np.float64(t0)
    saved: list[np.ndarray] = []
    times: list[float] = []
    steps: list[float] = []
    taken = 0
    while True:
        _, final, dt, saveper = (_scalar(v, name, t) for v, name in zip(
            controls(t, t, t, y, ()), ("INITIAL TIME", "FINAL TIME", "TIME STEP", "SAVEPER"),
            strict=True))
        if not dt > 0 or not saveper > 0:
            raise BadControl(f"at time {t:g} TIME STEP is {dt:g} and SAVEPER {saveper:g}; "
                             "both must stay positive")
        phase = (t - t0) / saveper
        if abs(phase - round(phase)) < 1e-6:
            if len(saved) >= max_saves:
                raise TooLarge(f"at time {t:g}, {len(saved):,} saved times already fill "
                               "the memory limit", "memory")
            saved.append(y.copy())
            times.append(float(t))
            steps.append(dt)
        if t >= final - 1e-9 * max(1.0, abs(final)):
            break
        if taken >= max_steps:
            raise TooLarge(f"{taken:,} steps without reaching FINAL TIME {final:g} (at time "
                           f"{t:g}, TIME STEP {dt:g})", "steps")
        if t + dt == t:
            raise TooLarge(f"at time {t:g} TIME STEP {dt:g} is too small to advance the "
                           "clock", "stuck")
        y_new, _ = step.advance(rates, t, dt, y, ())
        finite = np.isfinite(y_new)
        if not finite.all():
            raise NonFiniteState(float(t + dt), float(t), y, (), ~finite)
        y, t = y_new, t + dt
        taken += 1
    states = np.stack(saved, axis=1) if saved else np.empty((y0.shape[0], 0, y0.shape[1]))
    save_times = np.asarray(times)
    grid = Grid(t0, float(t), steps[0] if steps else 0.0, 0.0, save_times, n_steps=taken,
                halves=np.asarray(steps) / 2)
    return Trajectory(states, np.empty((0, len(times), y0.shape[1])),
                      {"nfev": step.evals_per_step * taken, "n_steps": taken}), grid


def _scalar(value: Any, name: str, t: float) -> float:
    array = np.asarray(value, dtype=float)
    if array.ndim and not np.all(array == array.flat[0]):
        raise BadControl(f"{name} differs between runs at time {t:g}; all runs of an "
                         "ensemble share one time grid")
    return float(array.flat[0])


def scalar_euler(kernel: Callable[..., Any], constants: list[float], y0: list[float],
                 grid: Grid) -> Trajectory | None:
    """The single-run Euler fast path; None if it hit bad arithmetic (caller falls back)."""
    try:
        saved, failed = kernel(constants, y0, grid.t0, grid.dt, grid.n_steps, grid.every,
                               grid.dt / 2)
    except (ArithmeticError, ValueError):
        return None
    if failed >= 0 or len(saved) != len(grid.save_times):
        return None
    states = np.asarray(saved, dtype=float).reshape(len(saved), len(y0)).T[:, :, None]
    return Trajectory(states, np.empty((0, len(saved), 1)),
                      {"nfev": grid.n_steps, "n_steps": grid.n_steps})
