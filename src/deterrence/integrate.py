"""Integrate a compiled model: fixed-step Euler/RK4 with Vensim's semantics, or SciPy.

Works on a state array of shape (stocks, runs): every run advances in the same NumPy
calls. This module knows nothing about names; a failure raises :class:`NonFiniteState`
or :class:`SolverFailure` with indices, and the caller turns them into messages.

Vensim semantics for ``euler`` and ``rk4``: the clock runs t0, t0+dt, ... to FINAL TIME;
values are saved every SAVEPER (a multiple of TIME STEP); auxiliaries at a saved time are
computed from the stocks at that time; STEP and PULSE test ``t + dt/2``.

Adaptive methods (``scipy.integrate.solve_ivp``) integrate segment by segment between
the times at which inputs switch (STEP, PULSE, PULSE TRAIN, RAMP corners, comparisons
with Time), and inside a segment switch functions see a time strictly inside it, so no
step straddles or smears a switch.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import itertools
import math
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

FIXED_METHODS = ("euler", "rk4")
ADAPTIVE_METHODS = ("RK45", "RK23", "DOP853", "LSODA", "Radau", "BDF")
METHODS = FIXED_METHODS + ADAPTIVE_METHODS
MAX_BREAKPOINTS = 200_000


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


def grid_size(t0: float, tf: float, dt: float, saveper: float,
              method: str) -> tuple[float, float]:
    """(steps, saved times) the grid would have, computed before anything is allocated.

    Floats, so an absurd request (a TIME STEP of 1e-300) gives a number to refuse, not
    a loop or an allocation. Raises ValueError saying which control value is wrong.
    """
    for name, value in (("INITIAL TIME", t0), ("FINAL TIME", tf), ("TIME STEP", dt),
                        ("SAVEPER", saveper)):
        if not math.isfinite(value):
            raise ValueError(f"{name} is {value}; it must be a finite number")
    if tf < t0:
        raise ValueError(f"FINAL TIME ({tf:g}) is before INITIAL TIME ({t0:g})")
    if dt <= 0:
        raise ValueError(f"TIME STEP is {dt:g}; it must be positive")
    if saveper <= 0:
        raise ValueError(f"SAVEPER is {saveper:g}; it must be positive")
    if method in FIXED_METHODS:
        saveper = max(saveper, dt)
        if not math.isfinite(saveper / dt) or not math.isfinite((tf - t0) / dt):
            # more steps than a float can count: refused by the step limit
            return math.inf, float(math.floor((tf - t0) / saveper + 1e-9) + 1)
        every = round(saveper / dt)
        if abs(every * dt - saveper) > 1e-9 * saveper:
            raise ValueError(
                f"SAVEPER ({saveper:g}) is not a multiple of TIME STEP ({dt:g}); "
                f"{method} saves on its steps, so choose SAVEPER = k * TIME STEP"
            )
        steps = math.floor((tf - t0) / dt + 1e-9)
        return float(steps), float(steps // every + 1)
    return 0.0, float(math.floor((tf - t0) / saveper + 1e-9) + 1)


def make_grid(t0: float, tf: float, dt: float, saveper: float, method: str) -> Grid:
    """Build the grid or raise ValueError saying which control value is wrong."""
    n_steps, n_saves = (int(n) for n in grid_size(t0, tf, dt, saveper, method))
    if method in FIXED_METHODS:
        saveper = max(saveper, dt)
        if not math.isfinite(saveper / dt) or not math.isfinite((tf - t0) / dt):
            # more steps than a float can count: refused by the step limit
            return math.inf, float(math.floor((tf - t0) / saveper + 1e-9) + 1)
        every = round(saveper / dt)
        steps = np.arange(0, n_steps + 1, every)
        return Grid(t0, tf, dt, saveper, t0 + steps * dt, n_steps, every)
    return Grid(t0, tf, dt, saveper, t0 + np.arange(n_saves) * saveper)


class TooLarge(Exception):
    """A run exceeded its budget while it ran: ``kind`` is steps, memory or stuck."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class Trajectory:
    """States at the save times: ``states`` (stocks, times, runs), ``discrete`` likewise."""

    states: np.ndarray
    discrete: np.ndarray
    stats: dict[str, Any] = field(default_factory=dict)


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


RatesFn = Callable[..., tuple[np.ndarray, tuple[Any, ...]]]


def _advance(rates: RatesFn, method: str, t: float, dt: float, y: np.ndarray,
             z: tuple[Any, ...]) -> tuple[np.ndarray, tuple[Any, ...]]:
    """One Euler or classic RK4 step; also the values entering DELAY FIXED pipes at t.

    Every RK4 stage sees the switches (STEP, PULSE, comparisons with Time) as they are at
    the start of the step, as in Vensim: they change only at TIME STEP intervals.
    """
    half = dt / 2
    ts = t + half
    if method == "euler":
        dy, pipe_in = rates(t, t, ts, y, z)
        return y + dt * dy, pipe_in
    k1, pipe_in = rates(t, t, ts, y, z)
    k2, _ = rates(t + half, t, ts, y + half * k1, z)
    k3, _ = rates(t + half, t, ts, y + half * k2, z)
    k4, _ = rates(t + dt, t, ts, y + dt * k3, z)
    return y + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4), pipe_in


_EVALS = {"euler": 1, "rk4": 4}


def fixed_step(rates: RatesFn, y0: np.ndarray, z_init: tuple[Any, ...],
               z_delays: tuple[Any, ...], grid: Grid, method: str) -> Trajectory:
    """Euler or classic RK4 on the vector flavour, checking the state every step."""
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
        y_new, pipe_in = _advance(rates, method, t, dt, y, z)
        if pipe_in:
            delays.push(k, pipe_in)
        finite = np.isfinite(y_new)
        if not finite.all():
            raise NonFiniteState(float(t + dt), float(t), y, z, ~finite)
        y = y_new
    return Trajectory(states, discrete,
                      {"nfev": _EVALS[method] * grid.n_steps, "n_steps": grid.n_steps})


def fixed_step_dynamic(rates: RatesFn, controls: Callable[..., tuple[Any, ...]],
                       y0: np.ndarray, t0: float, method: str, max_steps: float,
                       max_saves: float) -> tuple[Trajectory, Grid]:
    """Euler/RK4 where TIME STEP, SAVEPER and FINAL TIME are re-evaluated every step.

    As in Vensim: a value is saved when the time is a multiple of the current SAVEPER
    from INITIAL TIME, and the run stops at the first step at or after FINAL TIME. The
    number of steps is not known in advance, so the budgets are checked as it runs.
    """
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
            raise ValueError(f"at time {t:g} TIME STEP is {dt:g} and SAVEPER {saveper:g}; "
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
        y_new, _ = _advance(rates, method, t, dt, y, ())
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
                      {"nfev": _EVALS[method] * taken, "n_steps": taken}), grid


def _scalar(value: Any, name: str, t: float) -> float:
    array = np.asarray(value, dtype=float)
    if array.ndim and not np.all(array == array.flat[0]):
        raise ValueError(f"{name} differs between runs at time {t:g}; all runs of an "
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


def switch_times(breakpoints: tuple[Any, ...], trains: tuple[Any, ...], grid: Grid,
                 n_runs: int) -> np.ndarray:
    """Sorted distinct times inside (t0, tf) at which some input switches, over all runs."""
    points = [np.ravel(np.asarray(b, dtype=float)) for b in breakpoints]
    for start, width, interval, end in trains:
        combos = np.broadcast_arrays(*(np.ravel(np.asarray(v, float))
                                       for v in (start, width, interval, end)))
        for s, w, i, e in set(zip(*(c.tolist() for c in combos), strict=True)):
            stop = min(e, grid.tf)
            if not (math.isfinite(s) and i > 0):
                points.append(np.array([s, s + w]))
                continue
            count = int(min(max((stop - s) / i + 1, 0), MAX_BREAKPOINTS))
            starts = s + i * np.arange(count)
            points.extend([starts, starts + w, np.array([e])])
    if not points:
        return np.empty(0)
    times = np.unique(np.concatenate(points))
    times = times[np.isfinite(times) & (times > grid.t0) & (times < grid.tf)]
    if len(times) > MAX_BREAKPOINTS:
        raise ValueError(f"{len(times)} switch times in the horizon; too many to integrate "
                         "segment by segment: use euler or rk4")
    return times


class _EnsembleJacobian:
    """Finite-difference Jacobian of an ensemble for Radau and BDF, as a sparse matrix.

    Runs are independent, so perturbing one stock in every run at once gives that
    stock's column in every run: ``stocks + 1`` evaluations of the rates, and the matrix
    (stock-major: row ``k * runs + r``, column ``i * runs + r``) is filled in one NumPy
    step. SciPy's own sparse estimate finds the same columns but then loops in Python
    over every column (``argmax`` of a sparse matrix), which made Radau, which asks for
    a new Jacobian far more often than BDF, many times slower on large ensembles.
    """

    def __init__(self, n_stocks: int, n_runs: int, atol: float) -> None:
        import scipy.sparse

        self.shape = (n_stocks, n_runs)
        self.threshold = max(float(atol), 1e-12)
        size = n_stocks * n_runs
        k = np.arange(n_stocks)
        # column (i, r) holds rows (k, r) for k = 0..n-1, in CSC order
        cols = np.arange(size)
        self.indices = ((k[None, :] * n_runs) + (cols % n_runs)[:, None]).ravel()
        self.indptr = np.arange(0, size * n_stocks + 1, n_stocks)
        self.sparse = scipy.sparse

    def __call__(self, fun: Callable[[float, np.ndarray], np.ndarray], t: float,
                 flat: np.ndarray) -> Any:
        n_stocks, n_runs = self.shape
        y = flat.reshape(n_stocks, n_runs)
        f0 = fun(t, flat).reshape(n_stocks, n_runs)
        scale = np.where(y >= 0, 1.0, -1.0) * np.maximum(np.abs(y), self.threshold)
        h = (y + np.finfo(float).eps ** 0.5 * scale) - y  # exactly representable steps
        data = np.empty((n_stocks, n_runs, n_stocks))  # [column stock, run, row stock]
        for i in range(n_stocks):  # one evaluation per stock, every run at once
            shifted = y.copy()
            shifted[i] += h[i]
            diff = fun(t, shifted.ravel()).reshape(n_stocks, n_runs) - f0
            data[i] = (diff / h[i]).T
        size = n_stocks * n_runs
        return self.sparse.csc_matrix((data.ravel(), self.indices, self.indptr),
                                      shape=(size, size))


def _radau_collocation(fun: Callable[..., np.ndarray], t: float, y: np.ndarray, h: float,
                       Z0: np.ndarray, scale: np.ndarray, tol: float, LU_real: Any,
                       LU_complex: Any, solve_lu: Callable[..., np.ndarray],
                       ) -> tuple[bool, int, np.ndarray, float | None]:
    """SciPy's ``radau.solve_collocation_system``, line for line, except two products.

    SciPy computes ``F.T.dot(TI_COMPLEX)``: a transposed real matrix times a complex
    vector, which NumPy does without BLAS at about 1 microsecond per element (7 ms for an
    ensemble of 10,000 values, three times per Newton iteration): most of Radau's time on
    a large ensemble. ``TI_COMPLEX @ F`` is the same sum, a hundred times faster.
    """
    from scipy.integrate._ivp import radau

    n = y.shape[0]
    M_real = radau.MU_REAL / h
    M_complex = radau.MU_COMPLEX / h
    W = radau.TI.dot(Z0)
    Z = Z0
    F = np.empty((3, n))
    ch = h * radau.C
    dW_norm_old = None
    dW = np.empty_like(W)
    converged = False
    rate = None
    k = 0
    for k in range(radau.NEWTON_MAXITER):
        for i in range(3):
            F[i] = fun(t + ch[i], y + Z[i])
        if not np.all(np.isfinite(F)):
            break
        f_real = radau.TI_REAL @ F - M_real * W[0]
        f_complex = radau.TI_COMPLEX @ F - M_complex * (W[1] + 1j * W[2])
        dW_real = solve_lu(LU_real, f_real)
        dW_complex = solve_lu(LU_complex, f_complex)
        dW[0] = dW_real
        dW[1] = dW_complex.real
        dW[2] = dW_complex.imag
        dW_norm = radau.norm(dW / scale)
        if dW_norm_old is not None:
            rate = dW_norm / dW_norm_old
        if (rate is not None and (rate >= 1 or rate ** (radau.NEWTON_MAXITER - k)
                                  / (1 - rate) * dW_norm > tol)):
            break
        W += dW
        Z = radau.T.dot(W)
        if (dW_norm == 0 or (rate is not None and rate / (1 - rate) * dW_norm < tol)):
            converged = True
            break
        dW_norm_old = dW_norm
    return converged, k + 1, Z, rate


_radau_lock = threading.RLock()


@contextlib.contextmanager
def _fast_radau(active: bool) -> Iterator[None]:
    """Use :func:`_radau_collocation` inside SciPy's Radau for this block, if SciPy's
    function still has the signature it was written against (else leave SciPy alone)."""
    from scipy.integrate._ivp import radau

    original = getattr(radau, "solve_collocation_system", None)
    expected = ["fun", "t", "y", "h", "Z0", "scale", "tol", "LU_real", "LU_complex",
                "solve_lu"]
    if not active or original is None or list(
            inspect.signature(original).parameters) != expected or not all(
            hasattr(radau, name) for name in ("MU_REAL", "MU_COMPLEX", "TI", "TI_REAL",
                                              "TI_COMPLEX", "T", "C", "NEWTON_MAXITER",
                                              "norm")):
        yield
        return
    with _radau_lock:
        radau.solve_collocation_system = _radau_collocation
        try:
            yield
        finally:
            radau.solve_collocation_system = original


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
    lsoda_banded = method == "LSODA" and n_runs > 1
    options: dict[str, Any] = {"rtol": rtol, "atol": atol, "max_step": max_step}
    if first_step is not None:
        options["first_step"] = first_step
    jacobian: _EnsembleJacobian | None = None
    if n_runs > 1 and n_stocks > 0:
        if lsoda_banded:  # runs are independent: order the state run-major -> banded
            options["lband"] = options["uband"] = n_stocks - 1
        elif method in ("Radau", "BDF"):
            jacobian = _EnsembleJacobian(n_stocks, n_runs, atol)

    def pack(y: np.ndarray) -> np.ndarray:
        return y.T.ravel() if lsoda_banded else y.ravel()

    def unpack(flat: np.ndarray) -> np.ndarray:
        return flat.reshape(n_runs, n_stocks).T if lsoda_banded else flat.reshape(
            n_stocks, n_runs)

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

        if jacobian is not None:  # of this segment's rates
            options["jac"] = functools.partial(jacobian, fun)

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
            with _fast_radau(method == "Radau" and n_runs > 1):
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
        for col, t in enumerate(sol.t):
            y_t = unpack(sol.y[:, col])
            finite = np.isfinite(y_t)
            if not finite.all():
                raise NonFiniteState(float(t), a, y, (), ~finite)
        count = stop - next_save
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
