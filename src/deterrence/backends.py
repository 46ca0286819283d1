"""Which backend runs a fixed-step integration, and running the native one.

``backend="native"`` runs ``euler`` and ``rk4`` as one numba kernel per call
(``compile/emit_native.py``, compiled once and cached on disk by
``compile/kernel_cache.py``): every step, stage and save, every run of an ensemble in
parallel. ``"numpy"`` runs the vector flavour (and, for one Euler run, the scalar loop).

``"auto"``, the default, runs native where it pays and where it can. It pays where the
run is large (:data:`AUTO_MIN_WORK` runs times rate evaluations per step, e.g. 1,000
``euler`` or 250 ``rk4`` runs) or the model's kernel is already compiled in this
process: numba's start-up in a new process (about a second, the kernel loaded from the
disk cache or not) costs more than NumPy spends on a small run, so a single small run in
a fresh process stays on NumPy, as fast as before. Where native would pay but cannot
compile the run, auto runs NumPy with one logged warning per model and reason naming
the construct (DELAY FIXED, controls that change during the run, or code numba
refused). ``"native"`` refuses such a run with an ``UnsupportedError`` naming it.

The SciPy methods (RK45, RK23, DOP853, Radau, BDF, LSODA) keep SciPy's integrator and
call compiled rates (:func:`rates_of`): each evaluation of every run in one compiled
call, the same numbers as NumPy's; the Jacobians of the implicit methods are SciPy's
(or the ensemble's block-diagonal) finite differences of those rates.

A run whose stocks stop being finite is repeated on the NumPy path, which raises the
error of today (the stock, the run and the step): both backends report it alike.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from . import integrate
from .compile import Program
from .compile.emit_native import SCHEMES, NativeProgram, build_native, unsupported
from .errors import UnsupportedError

log = logging.getLogger("deterrence")

#: runs x rate evaluations per step from which ``auto`` compiles a kernel (measured on
#: the alliance model: NumPy's vector flavour then costs about as much as numba's
#: start-up in a new process, benchmarks/bench_native.py)
AUTO_MIN_WORK = 1000
_WARNED: set[tuple[str, str]] = set()


def _numba_missing() -> str | None:
    try:
        import numba  # noqa: F401
    except ImportError as exc:  # pragma: no cover - numba is a dependency
        return f"nothing: numba cannot be imported ({exc})"
    return None


def choose(backend: str, program: Program, method: str, n_runs: int,
           path: Any, model_sha256: str = "") -> NativeProgram | None:
    """The native program to run ``method`` with (its kernel, or for a SciPy method its
    rates, compiled or loaded from the disk cache whose entry ``model_sha256`` keys), or
    None: NumPy runs it."""
    if backend == "numpy":
        return None
    kind = method if method in SCHEMES else "rates"
    if backend == "auto" and not _pays(program, method, kind, n_runs):
        return None
    reason = _numba_missing() or (unsupported(program.plan)  # type: ignore[arg-type]
                                  if program.plan is not None else "this program")
    if reason is None:
        try:
            if program.native is None:
                program.native = build_native(program.plan,  # type: ignore[arg-type]
                                              model_sha256)
            if kind == "rates":
                program.native.rates_kernel()
            else:
                program.native.kernel(method, n_runs > 1)
            return program.native
        except UnsupportedError:
            raise
        except Exception as exc:  # numba's typing and lowering errors, by many names
            reason = f"the model: numba failed ({type(exc).__name__}: {_first_line(exc)})"
    if backend == "native":
        raise UnsupportedError(f"the native backend cannot compile {reason}", path=path,
                               hint="use backend='auto' or 'numpy'", fallback=False)
    if (str(path), reason) not in _WARNED:
        _WARNED.add((str(path), reason))
        log.warning("%s: the native backend cannot compile %s; running on NumPy",
                    getattr(path, "name", path), reason)
    return None


def _pays(program: Program, method: str, kind: str, n_runs: int) -> bool:
    """Whether compiling (or loading) the kernel repays numba's start-up here; a SciPy
    method counts as four evaluations a step, as ``rk4``."""
    native = program.native
    if native is not None and native.compiled(kind):
        return True
    per_step = integrate.SCHEMES[method].evals_per_step if method in SCHEMES else 4
    return n_runs * per_step >= AUTO_MIN_WORK


def rates_of(native: NativeProgram | None, constants: tuple[Any, ...],
             rates: integrate.RatesFn) -> integrate.RatesFn:
    """The rates the SciPy methods call: the compiled ones of ``native`` (the same
    numbers as ``rates``, NumPy's, in a few microseconds a call), else ``rates``."""
    if native is None:
        return rates
    kernel = native.rates_kernel()
    tables: dict[int, np.ndarray] = {}

    def compiled(t: Any, tc: Any, ts: Any, y: np.ndarray, z: Any) -> tuple[np.ndarray, Any]:
        n_runs = y.shape[1]
        table = tables.get(n_runs)
        if table is None:
            table = tables[n_runs] = _table(constants, n_runs)
        dy = np.empty(y.shape)
        kernel(float(t), float(tc), float(ts), np.ascontiguousarray(y, dtype=np.float64),
               table, dy)
        return dy, ()

    return compiled


def outputs_of(native: NativeProgram | None, program: Program, constants: tuple[Any, ...],
               outputs: Any, trajectory: integrate.Trajectory, grid: integrate.Grid,
               method: str, wanted: set[str] | None) -> list[np.ndarray | None] | None:
    """A single run's time-varying values at its save times, the stocks' first (as
    ``Model._outputs`` gives them), from the compiled outputs; None where NumPy computes
    them: an ensemble (NumPy's vector code keeps only the wanted values), a program whose
    NumPy ``outputs`` are not all float64 (a comparison's value is a bool there, 1.0 in
    the kernel), or a kernel numba refused."""
    states = trajectory.states
    if native is None or states.shape[2] != 1 or native.n_outputs == 0:
        return None
    times = np.ascontiguousarray(grid.save_times, dtype=np.float64)
    half = grid.halves if grid.halves is not None else grid.dt / 2 \
        if integrate.is_fixed(method) else 1e-9 * max(1.0, abs(grid.tf - grid.t0))
    ts = np.ascontiguousarray(times + half, dtype=np.float64)  # as NumPy's t + half
    n_stocks = len(program.stock_ids)
    usable = program.memo.get("native outputs")
    if usable is None:  # the dtypes of NumPy's outputs, from one save time
        t = times[:1, None]
        with np.errstate(all="ignore"):
            probe = outputs(t, t, ts[:1, None], states[:, :1], ())[n_stocks:]
        usable = all(np.result_type(v) == np.float64 for v in probe)
        try:
            native.outputs_kernel() if usable else None
        except Exception as exc:  # numba's typing and lowering errors, by many names
            log.debug("the native outputs are not used: %s: %s", type(exc).__name__,
                      _first_line(exc))
            usable = False
        program.memo["native outputs"] = usable
    if not usable:
        return None
    out = np.empty((native.n_outputs, len(times), 1))
    native.outputs_kernel()(times, ts, np.ascontiguousarray(states, dtype=np.float64),
                            _table(constants, 1), out)
    kept = program.output_ids[n_stocks:]
    return [*states, *(v if wanted is None or node in wanted else None
                       for v, node in zip(out, kept, strict=True))]


def _table(constants: tuple[Any, ...], n_runs: int) -> np.ndarray:
    """The constants as the kernels read them: (runs, constants)."""
    table = np.empty((n_runs, len(constants)))
    for i, value in enumerate(constants):
        table[:, i] = np.asarray(value, dtype=np.float64)
    return table


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else ""


def run_native(native: NativeProgram, method: str, constants: tuple[Any, ...],
               y0: np.ndarray, grid: integrate.Grid) -> integrate.Trajectory | None:
    """The run on the native kernel; None if a stock stopped being finite (the caller
    repeats it on NumPy, which raises today's error)."""
    n_runs = y0.shape[1]
    states, fail = native.run(method, _table(constants, n_runs), y0.T, grid.t0, grid.dt,
                              grid.n_steps, grid.every, len(grid.save_times))
    if (fail >= 0).any():
        return None
    evals = integrate.SCHEMES[method].evals_per_step
    return integrate.Trajectory(states, np.empty((0, len(grid.save_times), n_runs)),
                                {"nfev": evals * grid.n_steps, "n_steps": grid.n_steps})
