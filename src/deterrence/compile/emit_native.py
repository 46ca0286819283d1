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
flavour. The whole module (:func:`module_source`: the library's native functions, the
tables, the rates and the kernels) is one source text, so numba's own cache can keep its
machine code on disk: :mod:`.kernel_cache` writes it, verifies it and loads it; with the
cache off it is compiled in memory, once per process.

A plan the kernel cannot run is refused by :func:`unsupported`, which names the
construct (DELAY FIXED pipelines, controls that change during the run).
"""

from __future__ import annotations

import ast
import inspect
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import UnsupportedError
from ..library import FUNCTIONS
from ..limits import deep_call
from . import ir, kernel_cache
from .emit_numpy import _assign, _Expressions, _function, _ref
from .plan import Plan

log = logging.getLogger("deterrence")

#: fixed-step schemes the kernel implements (the integrator's registry names); the SciPy
#: methods get compiled rates (:meth:`NativeProgram.rates_kernel`)
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


# The rates of every run for SciPy's methods: ``Y`` and ``DY`` (stocks, runs), ``K``
# (runs, constants); one run at a time through ``_rates``, as the kernels do.
_RATES_ALL = """
def _rates_all(t, tc, ts, Y, K, DY):
    n_stocks, n_runs = Y.shape
    y = _np.empty(n_stocks)
    dy = _np.empty(n_stocks)
    for r in range(n_runs):
        for i in range(n_stocks):
            y[i] = Y[i, r]
        _rates(t, tc, ts, y, K[r], dy)
        for i in range(n_stocks):
            DY[i, r] = dy[i]
_rates_all = _jit(_rates_all)
"""


# Every time-varying value after the stocks of a single run at its save times, for
# the outputs of the Dataset: ``T`` and ``TS`` (saves,), ``S`` (stocks, saves, runs) the
# states, ``O`` (outputs, saves, runs).
_OUTPUTS_ALL = """
def _outputs_all(T, TS, S, K, O):
    n_stocks, n_saves, n_runs = S.shape
    y = _np.empty(n_stocks)
    o = _np.empty(O.shape[0])
    for r in range(n_runs):
        k_r = K[r]
        for j in range(n_saves):
            for i in range(n_stocks):
                y[i] = S[i, j, r]
            _out(T[j], T[j], TS[j], y, k_r, o)
            for i in range(O.shape[0]):
                O[i, j, r] = o[i]
_outputs_all = _jit(_outputs_all)
"""


def unsupported(plan: Plan) -> str | None:
    """What in ``plan`` the native kernel cannot run, in words; None if it can."""
    if plan.discrete:
        return f"DELAY FIXED ({plan.label(plan.discrete[0])})"
    if plan.dynamic_controls:
        names = ", ".join(repr(plan.label(c)) for c in plan.dynamic_controls)
        return f"controls that change during the run ({names})"
    for node in plan.nodes.values():  # named first: the function is what a user looks for
        apply = next((e for x in (node.dyn, node.init) for e in ir.walk(x)
                      if isinstance(e, ir.ArrayApply)), None)
        if apply is not None:
            return f"{FUNCTIONS[apply.function].name} ({node.label!r})"
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


def _outputs_fn(plan: Plan) -> ast.FunctionDef:
    """``_out(t, tc, ts, y, k, o)``: every time-varying auxiliary of one run into ``o``,
    in the order of the NumPy ``outputs`` after the stocks (``plan.dyn_order`` evaluated
    as there, with the expressions of ``_rates``)."""
    expr = _Expressions("native")
    index = ast.Constant
    body: list[ast.stmt] = [
        _assign(c, ast.Subscript(value=_ref("k"), slice=index(i), ctx=ast.Load()))
        for i, c in enumerate(plan.k_ids)]
    body += [_assign(s, ast.Subscript(value=_ref("y"), slice=index(i), ctx=ast.Load()))
             for i, s in enumerate(plan.stocks)]
    body += [_assign(n, expr(plan.nodes[n].dyn)) for n in plan.dyn_order]  # type: ignore[arg-type]
    body += [ast.Assign(targets=[ast.Subscript(value=_ref("o"), slice=index(i),
                                               ctx=ast.Store())], value=_ref(n), lineno=0)
             for i, n in enumerate(plan.output_ids[len(plan.stocks):])]
    return _function("_out", ["t", "tc", "ts", "y", "k", "o"], body)


_LIBRARY_NAMES = {"np", "math", "SMALL_VENSIM", "min", "max", "len"}  # what library code uses
_RANDOM_MODULE = "deterrence.library.random"
_JIT = "_nb.njit(error_model='numpy', cache=_CACHE{})"


def _library_code() -> list[ast.stmt]:
    """The native flavour of the registry as module code: each function of
    ``library/native.py`` copied in (package text, so numba's cache sees it in the same
    file and a change to it changes the kernel's hash) and wrapped by ``numba.njit``;
    NumPy's ufuncs by their NumPy name."""
    from ..library import native as library

    body = ast.parse(f"import math\nnp = _np\nSMALL_VENSIM = {float(library.SMALL_VENSIM)!r}\n"
                     f"_jit = {_JIT.format('')}\n_jitp = {_JIT.format(', parallel=True')}"
                     "\n").body
    done: dict[str, str] = {}
    for ident, impl in FUNCTIONS.namespace("native").items():
        if isinstance(impl, np.ufunc):
            if getattr(np, impl.__name__, None) is not impl:
                raise TypeError(f"{ident}: {impl!r} is not numpy.{impl.__name__}")
            body.append(_assign(ident, ast.Attribute(value=_ref("_np"), attr=impl.__name__,
                                                     ctx=ast.Load())))
            continue
        if getattr(impl, "__module__", None) == _RANDOM_MODULE:
            continue  # the RANDOM family: NumPy only (unsupported() refuses it here)
        if getattr(impl, "__module__", None) != library.__name__:
            raise TypeError(f"{ident}: native implementations live in {library.__name__}")
        if impl.__name__ not in done:
            (tree,) = ast.parse(inspect.getsource(impl)).body
            assert isinstance(tree, ast.FunctionDef)
            free = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
                    and isinstance(n.ctx, ast.Load)} - {a.arg for a in tree.args.args} - {
                n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
                and isinstance(n.ctx, ast.Store)}
            if free - _LIBRARY_NAMES:
                raise TypeError(f"{impl.__name__} uses {sorted(free - _LIBRARY_NAMES)}")
            body += [tree, _assign(ident, _call_jit("_jit", impl.__name__))]
            done[impl.__name__] = ident
        else:
            body.append(_assign(ident, _ref(done[impl.__name__])))
    return body


def _library() -> dict[str, Any]:
    """The library as the kernels see it (compiled in memory, no cache): for the tests."""
    module = ast.Module(body=[*ast.parse("import numpy as _np\nimport numba as _nb\n").body,
                              *_library_code()], type_ignores=[])
    namespace: dict[str, Any] = {"_CACHE": False}
    exec(compile(ast.fix_missing_locations(module), "<deterrence:library>", "exec"),
         namespace)
    return {ident: namespace[ident] for ident in FUNCTIONS.namespace("native")
            if ident in namespace}


def _call_jit(jit: str, name: str) -> ast.expr:
    return ast.Call(func=_ref(jit), args=[_ref(name)], keywords=[])


def _float(x: float) -> ast.expr:
    return _ref("_nan") if math.isnan(x) else ast.Constant(value=float(x))


def _kernel_code() -> list[ast.stmt]:
    """Each scheme's run kernel twice: ``_run_<scheme>_s`` over ``range`` (one run, no
    thread pool) and ``_run_<scheme>_p`` over ``numba.prange`` (ensembles)."""
    body: list[ast.stmt] = []
    for scheme in SCHEMES:
        for suffix, loop, jit in (("_s", "range", "_jit"), ("_p", "_prange", "_jitp")):
            (tree,) = ast.parse(_KERNELS[scheme]).body
            assert isinstance(tree, ast.FunctionDef)
            tree.name += suffix
            for node in ast.walk(tree):
                if isinstance(node, ast.Name) and node.id == "_loop":
                    node.id = loop
            body += [tree, _assign(tree.name, _call_jit(jit, tree.name))]
    body += ast.parse(_RATES_ALL).body
    return body


def module_source(plan: Plan) -> str:
    """The kernel module of ``plan`` as source text (what is cached and executed)."""
    head = ast.parse("import numpy as _np\nimport numba as _nb\n_nan = _np.nan\n"
                     "_prange = _nb.prange\n").body
    tables: list[ast.stmt] = []
    for table_id, (xp, fp, _mode) in sorted(plan.model.tables.items()):
        for suffix, values in (("x", xp), ("y", fp)):
            tables.append(_assign(table_id + suffix, ast.Call(
                func=ast.Attribute(value=_ref("_np"), attr="array", ctx=ast.Load()),
                args=[ast.List(elts=[_float(v) for v in np.asarray(values, dtype=float)],
                               ctx=ast.Load())],
                keywords=[ast.keyword(arg="dtype", value=ast.Attribute(
                    value=_ref("_np"), attr="float64", ctx=ast.Load()))])))
    rates = [_rates_fn(plan), _assign("_rates", _call_jit("_jit", "_rates"))]
    try:
        outputs = [_outputs_fn(plan), _assign("_out", _call_jit("_jit", "_out")),
                   *ast.parse(_OUTPUTS_ALL).body]
    except (TypeError, KeyError, ValueError) as exc:  # an auxiliary only NumPy computes
        log.debug("no native outputs for %s: %s", plan.path.name, exc)
        outputs = []  # the outputs stay NumPy's (backends.outputs_of)
    module = ast.Module(body=[*head, *_library_code(), *tables, *rates, *_kernel_code(),
                              *outputs], type_ignores=[])
    ast.fix_missing_locations(module)
    return "# generated by deterrence: the native kernels of one model\n" + \
        ast.unparse(module) + "\n"


@dataclass
class NativeProgram:
    """The compiled kernels of one plan, compiled (or loaded from the disk cache) when
    first needed.

    ``compile_seconds`` records the time per kernel (``"euler"``, ``"rk4 parallel"``),
    ``from_cache`` whether numba loaded it from the cache instead of compiling.
    """

    source: str
    n_stocks: int
    n_constants: int
    entry: kernel_cache.Entry | None = None
    n_outputs: int = 0  # time-varying values after the stocks (``_outputs_all``'s O)
    compile_seconds: dict[str, float] = field(default_factory=dict)
    from_cache: dict[str, bool] = field(default_factory=dict)
    _module: Any = None
    _kernels: dict[tuple[str, bool], Callable[..., None]] = field(default_factory=dict)

    def kernel(self, scheme: str, parallel: bool) -> Callable[..., None]:
        """The run kernel of ``scheme`` (one of :data:`SCHEMES`), compiled by numba."""
        return self._function((scheme, parallel))

    def outputs_kernel(self) -> Callable[..., None]:
        """``_outputs_all(T, TS, S, K, O)``: the auxiliaries of every run at the save
        times ``T`` (``TS`` the times switch functions see), from the states ``S``
        (stocks, saves, runs) into ``O`` (outputs, saves, runs)."""
        return self._function(("outputs", False))

    def rates_kernel(self) -> Callable[..., None]:
        """``_rates_all(t, tc, ts, Y, K, DY)``: the rates of every run, Y and DY (stocks,
        runs), K (runs, constants), for the SciPy methods."""
        return self._function(("rates", False))

    def _function(self, key: tuple[str, bool]) -> Callable[..., None]:
        if key not in self._kernels:
            if self.entry is not None:
                try:
                    with self.entry.locked():
                        self._kernels[key] = deep_call(self._compile, *key)
                        self.entry.seal()
                    return self._kernels[key]
                except OSError as exc:  # an unusable cache: compile in memory instead
                    log.warning("the kernel cache is not used (%s)", exc)
                    self.entry, self._module = None, None
            self._kernels[key] = deep_call(self._compile, *key)
        return self._kernels[key]

    def compiled(self, scheme: str) -> bool:
        """Whether a kernel of ``scheme`` (or ``"rates"``) is ready in this process."""
        return any(key[0] == scheme for key in self._kernels)

    def _load(self) -> Any:
        if self._module is None:
            if self.entry is not None:
                self._module = self.entry.load({"_CACHE": True})
            else:
                namespace: dict[str, Any] = {"_CACHE": False, "__name__": "_deterrence"}
                exec(compile(self.source, "<deterrence:native>", "exec",
                             dont_inherit=True), namespace)
                self._module = _Namespace(namespace)
        return self._module

    def _compile(self, scheme: str, parallel: bool) -> Callable[..., None]:
        started = time.perf_counter()
        n_constants, n_stocks = max(self.n_constants, 0), self.n_stocks
        if scheme == "outputs":
            run = self._load()._outputs_all
            run(np.zeros(1), np.zeros(1), np.zeros((n_stocks, 1, 1)),
                np.zeros((1, n_constants)), np.empty((self.n_outputs, 1, 1)))
        elif scheme == "rates":
            run = self._load()._rates_all
            run(0.0, 0.0, 0.0, np.zeros((n_stocks, 1)), np.zeros((1, n_constants)),
                np.empty((n_stocks, 1)))  # compile now
        else:
            run = getattr(self._load(), f"_run_{scheme}_{'p' if parallel else 's'}")
            run(np.zeros((1, n_constants)), np.zeros((1, n_stocks)), 0.0, 1.0, 0, 1,
                np.empty((n_stocks, 1, 1)), np.empty(1, dtype=np.int64))  # compile now
        name = scheme + (" parallel" if parallel else "")
        self.compile_seconds[name] = time.perf_counter() - started
        self.from_cache[name] = bool(self.entry is not None and sum(
            run.stats.cache_hits.values()) > 0)
        log.debug("native kernel %s: %s in %.3f s", name,
                  "loaded from the cache" if self.from_cache[name] else "compiled",
                  self.compile_seconds[name])
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


class _Namespace:
    """The globals of an in-memory kernel module, read as attributes."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.__dict__.update(namespace)


def build_native(plan: Plan, model_sha256: str = "") -> NativeProgram:
    """The native program of ``plan``; UnsupportedError naming what it cannot run.

    With the disk cache on (:mod:`.kernel_cache`), its entry is keyed by
    ``model_sha256``, the source's hash and the versions of the compiler stack."""
    reason = unsupported(plan)
    if reason is not None:
        raise UnsupportedError(f"the native backend cannot compile {reason}",
                               fallback=False, path=plan.path)
    source = deep_call(module_source, plan)
    return NativeProgram(source, len(plan.stocks), len(plan.k_ids),
                         kernel_cache.entry_for(model_sha256, source),
                         len(plan.output_ids) - len(plan.stocks))
