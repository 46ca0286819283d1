"""Emit a plan as one compiled kernel per fixed-step scheme: IR -> Python ``ast`` -> numba.

The native backend: ``_rates(t, tc, ts, y, k, dy)`` is written node by node from the IR
(as :mod:`.emit_numpy` writes its scalar flavour, every value a float64), and a run
kernel ``_run_<scheme>(K, Y0, t0, dt, n, every, out, fail)`` does the whole fixed-step
integration of every run: all steps, all stages, the saving of the states at the save
times, and the check that the stocks stay finite. Ensembles run in parallel over runs
(``numba.prange``); a single run uses a serial kernel (no thread pool to start).

The run kernels are this module's own code (:data:`_KERNELS`, parsed with ``ast.parse``:
package text, never the model's); the rates are built from generated identifiers,
numbers and library entries only, so no text from the model file becomes code. Numba
compiles with ``error_model="numpy"``: 1/0 is inf, no exception, as in the vector
flavour. Compiled code of an ``exec``'d module cannot use numba's own cache, so each
kernel is compiled once per process, when it is first needed.

A plan the kernel cannot run is refused by :func:`unsupported`, which names the
construct (DELAY FIXED pipelines, controls that change during the run).
"""

from __future__ import annotations

import ast
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import UnsupportedError
from ..library import FUNCTIONS
from ..limits import deep_call
from .emit_numpy import _assign, _Expressions, _function, _ref
from .plan import Plan

#: fixed-step schemes the kernel implements (the integrator's registry names)
SCHEMES = ("euler", "rk4")

# The run kernels, one per scheme, with the arithmetic of integrate/schemes.py in the
# same order (so both backends give the same numbers): ``K`` (runs, constants), ``Y0``
# (runs, stocks), ``out`` (stocks, saves, runs), ``fail`` (runs,): the step at which a
# stock stopped being finite, or -1. ``_loop`` is ``prange`` or ``range``.
_KERNELS = {
    "euler": """
def _run_euler(K, Y0, t0, dt, n, every, out, fail):
    n_runs, n_stocks = Y0.shape
    for r in _loop(n_runs):
        k_r = K[r]
        y = Y0[r].copy()
        dy = _np.empty(n_stocks)
        y1 = _np.empty(n_stocks)
        j = 0
        fail[r] = -1
        for k in range(n + 1):
            t = t0 + k * dt
            if k % every == 0:
                for i in range(n_stocks):
                    out[i, j, r] = y[i]
                j += 1
            if k == n:
                break
            _rates(t, t, t + dt / 2, y, k_r, dy)
            finite = True
            for i in range(n_stocks):
                y1[i] = y[i] + dt * dy[i]
                if not _np.isfinite(y1[i]):
                    finite = False
            if not finite:
                fail[r] = k
                break
            y, y1 = y1, y
""",
    "rk4": """
def _run_rk4(K, Y0, t0, dt, n, every, out, fail):
    n_runs, n_stocks = Y0.shape
    half = dt / 2
    sixth = dt / 6.0
    for r in _loop(n_runs):
        k_r = K[r]
        y = Y0[r].copy()
        y1 = _np.empty(n_stocks)
        ys = _np.empty(n_stocks)
        k1 = _np.empty(n_stocks)
        k2 = _np.empty(n_stocks)
        k3 = _np.empty(n_stocks)
        k4 = _np.empty(n_stocks)
        j = 0
        fail[r] = -1
        for k in range(n + 1):
            t = t0 + k * dt
            if k % every == 0:
                for i in range(n_stocks):
                    out[i, j, r] = y[i]
                j += 1
            if k == n:
                break
            ts = t + half
            _rates(t, t, ts, y, k_r, k1)
            for i in range(n_stocks):
                ys[i] = y[i] + half * k1[i]
            _rates(t + half, t, ts, ys, k_r, k2)
            for i in range(n_stocks):
                ys[i] = y[i] + half * k2[i]
            _rates(t + half, t, ts, ys, k_r, k3)
            for i in range(n_stocks):
                ys[i] = y[i] + dt * k3[i]
            _rates(t + dt, t, ts, ys, k_r, k4)
            finite = True
            for i in range(n_stocks):
                y1[i] = y[i] + sixth * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])
                if not _np.isfinite(y1[i]):
                    finite = False
            if not finite:
                fail[r] = k
                break
            y, y1 = y1, y
""",
}


def unsupported(plan: Plan) -> str | None:
    """What in ``plan`` the native kernel cannot run, in words; None if it can."""
    if not plan.fixed:
        return "adaptive methods (native rate functions for SciPy are not written yet)"
    if plan.discrete:
        return f"DELAY FIXED ({plan.label(plan.discrete[0])})"
    if plan.dynamic_controls:
        names = ", ".join(repr(plan.label(c)) for c in plan.dynamic_controls)
        return f"controls that change during the run ({names})"
    arrays = next((n for n in plan.nodes.values() if n.axes), None)
    if arrays is not None:  # subscripts: NumPy only, for now
        return f"subscripted variables ({arrays.label!r})"
    return None


def _rates_fn(plan: Plan) -> ast.FunctionDef:
    """``_rates(t, tc, ts, y, k, dy)``: the derivatives of one run's stocks into ``dy``."""
    expr = _Expressions("native")
    index = ast.Constant
    body: list[ast.stmt] = [
        _assign(c, ast.Subscript(value=_ref("k"), slice=index(i), ctx=ast.Load()))
        for i, c in enumerate(plan.k_ids)]
    body += [_assign(s, ast.Subscript(value=_ref("y"), slice=index(i), ctx=ast.Load()))
             for i, s in enumerate(plan.stocks)]
    body += [_assign(n, expr(plan.nodes[n].dyn)) for n in plan.rate_order]  # type: ignore[arg-type]
    body += [ast.Assign(targets=[ast.Subscript(value=_ref("dy"), slice=index(i),
                                               ctx=ast.Store())],
                        value=expr(plan.nodes[s].dyn), lineno=0)  # type: ignore[arg-type]
             for i, s in enumerate(plan.stocks)]
    return _function("_rates", ["t", "tc", "ts", "y", "k", "dy"], body)


_LIBRARY: dict[str, Any] = {}
_LOCK = threading.Lock()


def _library() -> dict[str, Any]:
    """The native flavour of the registry, each entry compiled by numba when first used
    (shared by every model of the process)."""
    import numba

    with _LOCK:
        if not _LIBRARY:
            for ident, impl in FUNCTIONS.namespace("native").items():
                # numba compiles NumPy's ufuncs on floats as they are
                _LIBRARY[ident] = impl if isinstance(impl, np.ufunc) else \
                    numba.njit(error_model="numpy")(impl)
        return dict(_LIBRARY)


@dataclass
class NativeProgram:
    """The compiled kernels of one plan, compiled when first needed.

    ``compile_seconds`` records numba's time per kernel (``"euler"``, ``"rk4 parallel"``).
    """

    module: ast.Module
    tables: dict[str, tuple[np.ndarray, np.ndarray]]
    n_stocks: int
    n_constants: int
    source: str
    compile_seconds: dict[str, float] = field(default_factory=dict)
    _kernels: dict[tuple[str, bool], Callable[..., None]] = field(default_factory=dict)

    def kernel(self, scheme: str, parallel: bool) -> Callable[..., None]:
        """The run kernel of ``scheme`` (one of :data:`SCHEMES`), compiled by numba."""
        key = (scheme, parallel)
        if key not in self._kernels:
            self._kernels[key] = deep_call(self._compile, scheme, parallel)
        return self._kernels[key]

    def _compile(self, scheme: str, parallel: bool) -> Callable[..., None]:
        import numba

        started = time.perf_counter()
        globals_: dict[str, Any] = _library()
        globals_["__builtins__"] = {"range": range, "len": len, "min": min, "max": max}
        globals_["_np"] = np
        globals_["_nan"] = math.nan
        globals_["_loop"] = numba.prange if parallel else range
        for table_id, (xp, fp) in self.tables.items():
            globals_[table_id + "x"] = xp
            globals_[table_id + "y"] = fp
        code = compile(self.module, "<deterrence:native>", "exec")
        exec(code, globals_)
        globals_["_rates"] = numba.njit(error_model="numpy")(globals_["_rates"])
        run = numba.njit(error_model="numpy", parallel=parallel)(globals_["_run_" + scheme])
        n_constants = max(self.n_constants, 0)
        run(np.zeros((1, n_constants)), np.zeros((1, self.n_stocks)), 0.0, 1.0, 0, 1,
            np.empty((self.n_stocks, 1, 1)), np.empty(1, dtype=np.int64))  # compile now
        self.compile_seconds[scheme + (" parallel" if parallel else "")] = \
            time.perf_counter() - started
        return run

    def run(self, scheme: str, constants: np.ndarray, y0: np.ndarray, t0: float, dt: float,
            n_steps: int, every: int, n_saves: int) -> tuple[np.ndarray, np.ndarray]:
        """States (stocks, saves, runs) and the failed step of each run (-1: none).

        ``constants`` is (runs, constants), ``y0`` (runs, stocks). The kernel writes the
        states in the NumPy backend's layout, which the outputs then read contiguously.
        """
        n_runs = y0.shape[0]
        out = np.empty((self.n_stocks, n_saves, n_runs))
        fail = np.empty(n_runs, dtype=np.int64)
        self.kernel(scheme, n_runs > 1)(np.ascontiguousarray(constants, dtype=np.float64),
                                        np.ascontiguousarray(y0, dtype=np.float64),
                                        float(t0), float(dt), int(n_steps), int(every),
                                        out, fail)
        return out, fail


def build_native(plan: Plan) -> NativeProgram:
    """The native program of ``plan``; UnsupportedError naming what it cannot run."""
    reason = unsupported(plan)
    if reason is not None:
        raise UnsupportedError(f"the native backend cannot compile {reason}",
                               path=plan.path)

    def build() -> NativeProgram:
        body: list[ast.stmt] = [_rates_fn(plan)]
        for scheme in SCHEMES:
            body += ast.parse(_KERNELS[scheme]).body
        module = ast.Module(body=body, type_ignores=[])
        ast.fix_missing_locations(module)
        tables = {t: (np.asarray(xp, dtype=np.float64), np.asarray(fp, dtype=np.float64))
                  for t, (xp, fp, _mode) in plan.model.tables.items()}
        return NativeProgram(module, tables, len(plan.stocks), len(plan.k_ids),
                             ast.unparse(module))

    return deep_call(build)
