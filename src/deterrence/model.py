"""The user-facing model: ``deterrence.load(path)`` and ``Model.simulate(...)``.

A :class:`Model` ties the parsed file, its compiled code and the integrator together and
turns every failure into an error that names the file, the variable and the time.
"""

from __future__ import annotations

import hashlib
import json
import math
import time as _time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from . import backends, diagnose, integrate, limits
from .compile import (
    CompiledModel,
    NodeKind,
    Program,
    Variable,
    build_program,
    compile_model,
    random_streams,
)
from .diagnose import Diagnose
from .errors import ModelError, ParameterError, UnsupportedError
from .frontend.settings import declared_method
from .frontend.translate import read_model
from .integrate import SolverOptions, check_option
from .names import clean_key, close_matches
from .results import build_dataset, collect_series, jsonable

ParamValue = float | int | Sequence[float] | np.ndarray
_DEFAULT = SolverOptions()  # the keyword arguments' defaults


def load(path: str | Path, *, max_model_mb: float | None = None) -> Model:
    """Parse and compile a Vensim (.mdl) or XMILE (.xmile, .xml, .stmx) model.

    ``max_model_mb`` raises the file-size limit (default 16 MB, or
    ``$DETERRENCE_MAX_MODEL_MB``) above which a file is refused before parsing.
    Deeply nested equations need deep recursion (PySD's parser, the compiler), so both
    run with a raised recursion limit; deeper than ``limits.MAX_NESTING`` is refused.
    """
    return limits.deep_call(_load, path, max_model_mb)


def _load(path: str | Path, max_model_mb: float | None) -> Model:
    try:
        source = read_model(path, max_model_mb=max_model_mb)
    except (ModelError, RecursionError) as exc:
        if not limits.is_recursion_failure(exc):
            raise
        raise too_deep(exc, path) from None
    return Model(source.path, compile_model(source), source.path.read_bytes())


def too_deep(exc: BaseException, path: str | Path) -> UnsupportedError:
    """The honest error for an equation the parser could not descend: it names the
    limit, not a syntax problem (a RecursionError is not a typo)."""
    where = exc if isinstance(exc, ModelError) else None
    name = where.variable if where else None
    return UnsupportedError(
        (f"the equation of {name!r} is" if name else "an equation is") + " nested too "
        f"deeply to parse: nesting deeper than {limits.MAX_NESTING:,} levels (brackets, "
        "function calls, IF THEN ELSE) is not supported", path=path,
        line=where.line if where else None, variable=name,
        hint="split the equation into auxiliary variables")


@dataclass(frozen=True)
class Override:
    node: str
    value: np.ndarray  # 0-d, or 1-D along runs


class Model:
    """A compiled model, ready to simulate one or many parameter sets at once."""

    def __init__(self, path: Path, compiled: CompiledModel, content: bytes) -> None:
        self.path = Path(path).resolve()
        self.name = self.path.stem
        self.sha256 = hashlib.sha256(content).hexdigest()  # of the file, as sha256sum says
        self.compiled = compiled
        self.variables: dict[str, Variable] = {v.py_name: v for v in compiled.variables}
        self._programs: dict[tuple[frozenset[str], bool], Program] = {}
        self.declared_method = declared_method(self.path, content)  # the file's own method

    def __repr__(self) -> str:
        return (f"<deterrence.Model {self.name!r}: {len(self.stocks)} stocks, "
                f"{len(self.constants)} constants, {len(self.variables)} variables>")

    def program(self, overridden: frozenset[str] = frozenset(), fixed: bool = True) -> Program:
        """Generated code where the nodes in ``overridden`` are parameters too (cached)."""
        key = (overridden, fixed)
        if key not in self._programs:
            self._programs[key] = build_program(self.compiled, overridden, fixed)
        return self._programs[key]

    # -- description -------------------------------------------------------------------

    def _of_kind(self, *kinds: str) -> dict[str, Variable]:
        return {k: v for k, v in self.variables.items() if v.kind in kinds}

    @property
    def stocks(self) -> dict[str, Variable]:
        return self._of_kind("stock")

    @property
    def flows(self) -> dict[str, Variable]:
        return self._of_kind("flow")

    @property
    def auxiliaries(self) -> dict[str, Variable]:
        return self._of_kind("auxiliary")

    @property
    def constants(self) -> dict[str, Variable]:
        """Literal constants: the parameters an experiment sets (controls excluded)."""
        return self._of_kind("constant")

    @property
    def controls(self) -> dict[str, Variable]:
        return self._of_kind("control")

    def variable(self, name: str) -> Variable:
        """Find a variable by its model name, Python name, or any case/space variant."""
        if name in self.variables:
            return self.variables[name]
        found = self.compiled.by_key.get(clean_key(name))
        if found is not None:
            return found
        choices = [v.name for v in self.variables.values()] + list(self.variables)
        close = close_matches(name, choices, n=4, cutoff=0.6)
        if not close:
            close = close_matches(clean_key(name), list(self.variables), n=4,
                                              cutoff=0.5)
        hint = ("closest: " + ", ".join(repr(c) for c in dict.fromkeys(close))) if close \
            else f"`deterrence info {self.path.name}` lists the variables"
        raise ParameterError(f"{name!r} is not a variable of the model", path=self.path,
                             variable=name, hint=hint)

    def problem(self, names: Sequence[str] | None = None) -> dict[str, Any]:
        """SALib problem dict (names, bounds) from the declared ranges of constants."""
        chosen = [self.variable(n) for n in names] if names is not None else [
            v for v in self.constants.values()
            if v.limits[0] is not None and v.limits[1] is not None]
        bounds = []
        for v in chosen:
            lo, hi = v.limits
            if lo is None or hi is None:
                raise ParameterError(f"{v.name!r} has no declared range [min,max]",
                                     path=self.path, line=v.line, variable=v.name,
                                     hint="declare one in its units field, e.g. ~ Dmnl [0,1] ~")
            bounds.append([lo, hi])
        return {"num_vars": len(chosen), "names": [v.py_name for v in chosen],
                "bounds": bounds}

    def check_ranges(self, params: Mapping[str, ParamValue]) -> None:
        """Raise ParameterError for a value outside a variable's declared [min,max]."""
        for name, value in params.items():
            var = self.variable(name)
            lo, hi = var.limits
            values = np.atleast_1d(np.asarray(value, dtype=float))
            bad = values[((values < lo) if lo is not None else False)
                         | ((values > hi) if hi is not None else False)]
            if bad.size:
                raise ParameterError(
                    f"{var.name} = {bad[0]:g} is outside its declared range "
                    f"[{_fmt(lo)}, {_fmt(hi)}]", path=self.path, line=var.line,
                    variable=var.name, hint="choose a value within the range, widen it in "
                    "the model file if it is wrong, or allow values outside it "
                    "(--allow-out-of-range; experiment.allow_out_of_range=true)")

    # -- simulation --------------------------------------------------------------------

    def simulate(
        self,
        params: Mapping[str, ParamValue] | None = None,
        method: str = _DEFAULT.method,
        *,
        solver: SolverOptions | None = None,
        rtol: float = _DEFAULT.rtol,
        atol: float = _DEFAULT.atol,
        max_step: float | None = None,
        first_step: float | None = None,
        initial_time: float | None = None,
        final_time: float | None = None,
        time_step: float | None = None,
        saveper: float | None = None,
        variables: Sequence[str] | None = None,
        max_evaluations: int = _DEFAULT.max_evaluations,
        max_memory: float | str | None = None,
        max_steps: float = limits.DEFAULT_MAX_STEPS,
        backend: str = _DEFAULT.backend,
        seed: int = _DEFAULT.seed,
    ) -> xr.Dataset:
        """Simulate and return an ``xarray.Dataset`` (dims ``time`` and, for ensembles, ``run``).

        ``params`` maps variable names (as in the file, or Python names) to a number, or to
        a 1-D array of N values: then N runs are integrated together along ``run``.
        ``solver`` says how to integrate (:class:`SolverOptions`); or give its fields as
        keyword arguments (``method``, ``rtol``, ``atol``, ``max_step``, ``first_step``,
        ``max_evaluations``, ``backend``, ``seed``), not both. ``method`` is ``euler`` or ``rk4``
        (fixed TIME STEP, Vensim's semantics) or a ``scipy.integrate.solve_ivp`` method;
        ``backend`` is ``auto`` (native where it can), ``native`` or ``numpy``.

        Before allocating, the size of the run is estimated: more than ``max_memory``
        (bytes, or a size such as ``"8GiB"``; default 4 GiB or half the machine's memory,
        ``$DETERRENCE_MAX_MEMORY`` overrides; ``"inf"`` for none) or, for ``euler`` and
        ``rk4``, more than ``max_steps`` time steps is refused with a ``ResourceError``.
        """
        solver = self._solver(solver, method=method, rtol=rtol, atol=atol, max_step=max_step,
                              first_step=first_step, max_evaluations=max_evaluations,
                              backend=backend, seed=seed)
        method = solver.method
        grid_overrides = {"initial_time": initial_time, "final_time": final_time,
                          "time_step": time_step, "saveper": saveper}
        for name, value in grid_overrides.items():
            self._checked(check_option, name, value)
        budget = _budget(self.path, max_memory, max_steps)
        started = _time.perf_counter()
        keep = None if variables is None else [self.variable(v) for v in variables]
        overrides = self._overrides(params or {})
        for name, value in grid_overrides.items():
            if value is not None:
                node = self.compiled.by_key[name].node
                overrides[node] = Override(node, np.asarray(value, dtype=float))  # type: ignore[index]
        n_runs = _n_runs(overrides, self.path)
        overrides.update(random_streams(self.compiled, solver, n_runs, Override))
        fixed = solver.fixed
        program = self.program(frozenset(
            o for o in overrides if self.compiled.nodes[o].kind != NodeKind.PARAM), fixed)
        diagnosis = Diagnose(self.path, program, self.compiled.nodes)
        native = backends.choose(solver.backend, program, method, n_runs, self.path,
                                 self.sha256)
        with np.errstate(all="ignore"):
            start = program.setup(self._param_values(program, overrides), fixed, 1e-9)
            controls, constants = start.controls, start.constants
            z_init, z_delays = start.discrete_init, start.discrete_delays
            y0 = np.empty((len(start.y0), n_runs))
            for i, v in enumerate(start.y0):
                y0[i] = v
            kernels = program.make_vector(constants)
            rates, outputs, control_fn = kernels.rates, kernels.outputs, kernels.controls
            breakpoints, trains = kernels.breakpoints, kernels.trains
            if program.dynamic_controls:
                t0 = self._grid_value("INITIAL TIME", controls.initial_time)
                diagnosis.check_initial(y0, t0)
                trajectory, grid = self._integrate_dynamic(diagnosis, rates, outputs,
                                                           control_fn, y0, t0, method,
                                                           budget, keep)
            else:
                grid = self._grid(controls, method, program, n_runs, keep, budget)
                diagnosis.check_initial(y0, grid.t0)
                with diagnosis.reporting(method, rates, outputs, grid):
                    trajectory = self._integrate(program, solver, grid, y0, constants,
                                                 z_init, z_delays, rates,
                                                 (breakpoints, trains), n_runs, native)
            values = backends.outputs_of(native, program, constants, outputs, trajectory,
                                         grid, method, _wanted(keep))
            if values is None:
                values = self._outputs(outputs, program, trajectory, grid, method, n_runs,
                                       _wanted(keep))
        stats = dict(trajectory.stats)
        stats["wall_time_s"] = _time.perf_counter() - started
        ensemble = any(o.value.ndim == 1 for o in overrides.values())
        time_units = self.variables.get("time_step")
        return build_dataset(
            series=collect_series(program, keep if keep is not None else list(
                self.variables.values()), values, constants, n_runs),
            times=grid.save_times, time_units=time_units.units if time_units else "",
            ensemble=ensemble, solver=solver.record(), stats=stats, attrs={
                "title": f"Simulation of {self.name}", "model_file": str(self.path),
                "model_sha256": self.sha256, "method": method, "engine": "compiled",
                "backend": "native" if native is not None else "numpy",
                "initial_time": grid.t0,
                "final_time": grid.tf, "time_step": grid.dt, "saveper": grid.saveper,
                "overrides": json.dumps({self.compiled.nodes[o].label: jsonable(v.value)
                                         for o, v in overrides.items()}),
                "dynamic_switches": ", ".join(program.dynamic_switches)})

    def _solver(self, solver: SolverOptions | None, **given: Any) -> SolverOptions:
        """``solver``, or the options the keyword arguments give (checked, naming the file)."""
        if solver is None:
            return self._checked(SolverOptions, **given)
        if not isinstance(solver, SolverOptions):
            raise ParameterError(f"solver={solver!r}: expected a deterrence.SolverOptions",
                                 path=self.path)
        mixed = [k for k, v in given.items() if v != getattr(_DEFAULT, k)]
        if mixed:
            raise ParameterError(
                f"solver= and {', '.join(k + '=' for k in mixed)} given together",
                path=self.path, hint="put every solver option in the SolverOptions")
        return solver

    def _checked(self, build: Any, *args: Any, **kwargs: Any) -> Any:
        """``build(...)``, its ParameterError raised again naming the model's file."""
        try:
            return build(*args, **kwargs)
        except ParameterError as exc:
            raise ParameterError(exc.message, path=self.path, variable=exc.variable,
                                 hint=exc.hint) from None

    def _overrides(self, params: Mapping[str, ParamValue]) -> dict[str, Override]:
        result: dict[str, Override] = {}
        given: dict[str, str] = {}
        for name, value in params.items():
            var = self.variable(name)
            where = {"path": self.path, "line": var.line, "variable": var.name}
            if var.name in given:
                raise ParameterError(f"{var.name!r} is given twice, as {given[var.name]!r} "
                                     f"and as {name!r}", hint="keep one of them", **where)
            given[var.name] = name
            if var.kind == "stock":
                raise ParameterError(
                    f"{var.name!r} is a stock; a stock's value comes from its flows",
                    hint="set the constant its initial value is computed from", **where)
            if var.kind == "lookup":
                raise ParameterError(f"{var.name!r} is a lookup table, not a number",
                                     hint="set the variable that feeds the lookup", **where)
            if not var.overridable:
                raise ParameterError(f"{var.name!r} is " + ("subscripted; setting subscripted "
                                     "constants is not supported yet" if self.compiled.nodes[
                                         var.node].axes else "declared unchangeable (==)"),  # type: ignore[index]
                                     **where)
            dependents = self.compiled.order_dependencies.get(clean_key(var.name))
            if dependents:
                raise ParameterError(
                    f"{var.name!r} sets the order of a DELAY N or SMOOTH N in "
                    f"{', '.join(sorted(dependents))}; the order fixes the number of stocks",
                    hint="edit the model file and load it again", **where)
            try:
                array = np.asarray(value, dtype=float)
            except (TypeError, ValueError):
                raise ParameterError(f"{var.name} = {value!r} is not a number or a list of "
                                     "numbers", **where) from None
            if array.ndim > 1:
                raise ParameterError(f"{var.name}: expected a number or a 1-D array of runs, "
                                     f"got shape {array.shape}", **where)
            if array.ndim == 1 and array.size == 0:
                raise ParameterError(f"{var.name}: the array of values is empty", **where)
            if not np.all(np.isfinite(array)):
                raise ParameterError(f"{var.name}: values must be finite numbers", **where)
            if array.ndim == 1 and var.kind == "control":
                raise ParameterError(f"{var.name} is a control variable; it cannot differ "
                                     "between the runs of one ensemble", **where)
            result[var.node] = Override(var.node, array)  # type: ignore[index]
        return result

    def _param_values(self, program: Program, overrides: dict[str, Override]) -> list[Any]:
        defaults = program.memo.get("defaults")
        if defaults is None:
            defaults = program.memo["defaults"] = [
                np.float64(self.compiled.nodes[pid].default) for pid in program.param_ids]
        values: list[Any] = list(defaults)
        for i, pid in enumerate(program.param_ids if overrides else ()):
            if pid in overrides:
                v = overrides[pid].value
                values[i] = np.float64(v) if v.ndim == 0 else v
        return values

    def _grid_value(self, name: str, value: Any) -> float:
        arr = np.asarray(value, dtype=float)
        if arr.ndim and not np.all(arr == arr.flat[0]):
            raise ModelError(f"{name} differs between runs", path=self.path,
                             hint="all runs of an ensemble share one time grid")
        return float(arr.flat[0])

    def _grid(self, controls: tuple[Any, ...], method: str, program: Program, n_runs: int,
              keep: Sequence[Variable] | None, budget: _Limits) -> integrate.Grid:
        """The time grid, once its size is known to be within the budget."""
        names = ("INITIAL TIME", "FINAL TIME", "TIME STEP", "SAVEPER")
        scalars = [self._grid_value(n, v) for n, v in zip(names, controls, strict=True)]
        try:
            n_steps, n_saves = integrate.grid_size(*scalars, method=method)
        except integrate.BadControl as exc:
            raise diagnose.bad_control(exc, self.path) from None
        t0, tf, dt, _ = scalars
        if integrate.is_fixed(method) and n_steps > budget.steps:
            raise diagnose.too_many_steps(self.path, t0, tf, dt, n_steps, budget.steps)
        size = _Size.of(program, n_saves, n_runs, keep, method)
        if size.total > budget.memory:
            raise diagnose.too_much_memory(self.path, size.total, n_saves, n_runs,
                                           size.values, budget.memory)
        return integrate.make_grid(*scalars, method=method)

    def _integrate_dynamic(self, diagnosis: Diagnose, rates: Any, outputs: Any, controls: Any,
                           y0: np.ndarray, t0: float, method: str, budget: _Limits,
                           keep: Sequence[Variable] | None,
                           ) -> tuple[integrate.Trajectory, integrate.Grid]:
        """The budgets are checked as the run goes: its length is not known in advance."""
        n_runs = y0.shape[1]
        fixed_part = _Size.of(diagnosis.program, 0, n_runs, keep, method).total
        per_save = _Size.of(diagnosis.program, 1, n_runs, keep, method).total - fixed_part
        max_saves = (budget.memory - fixed_part) / per_save if per_save else math.inf
        try:
            return integrate.fixed_step_dynamic(rates, controls, y0, t0, method,
                                                budget.steps, max_saves)
        except integrate.TooLarge as exc:
            raise diagnose.too_large(exc, self.path, budget.memory, budget.steps) from None
        except integrate.NonFiniteState as exc:
            raise diagnosis.non_finite(exc, rates, outputs, exc.time - exc.time_before) \
                from None
        except integrate.BadControl as exc:
            raise diagnose.bad_control(exc, self.path) from None

    def _integrate(self, program: Program, solver: SolverOptions, grid: integrate.Grid,
                   y0: np.ndarray, constants: tuple[Any, ...], z_init: tuple[Any, ...],
                   z_delays: tuple[Any, ...], rates: Any, switches: tuple[Any, Any],
                   n_runs: int, native: Any) -> integrate.Trajectory:
        """The run on a known grid (its failures are worded by the caller's Diagnose);
        a native run that fails is repeated on NumPy, which raises today's error."""
        method = solver.method
        if native is not None and solver.fixed:
            trajectory = backends.run_native(native, method, constants, y0, grid)
            return trajectory or integrate.fixed_step(rates, y0, z_init, z_delays, grid,
                                                      method)
        rates = backends.rates_of(native, constants, rates)  # SciPy's: compiled rates
        if solver.fixed:
            if integrate.SCHEMES[method].scalar_kernel and n_runs == 1 \
                    and program.make_scalar_euler is not None \
                    and all(np.ndim(k) == 0 for k in constants):
                trajectory = integrate.scalar_euler(
                    program.make_scalar_euler, [float(k) for k in constants],
                    [float(v) for v in y0[:, 0]], grid)
                if trajectory is not None:
                    return trajectory
            return integrate.fixed_step(rates, y0, z_init, z_delays, grid, method)
        if program.discrete_ids:
            raise ModelError(
                f"{self.compiled.nodes[program.discrete_ids[0]].label} needs a fixed-step "
                "method", path=self.path, hint="simulate with " + " or ".join(
                    f"method={m!r}" for m in integrate.fixed_methods()))
        breakpoints, trains = switches
        switch_times = integrate.switch_times(breakpoints(), trains(), grid, n_runs)
        return integrate.adaptive(
            rates, y0, grid, method, switch_times, solver.rtol, solver.atol,
            solver.max_step if solver.max_step is not None else math.inf,
            solver.first_step, solver.max_evaluations)

    def _outputs(self, outputs: Any, program: Program, trajectory: integrate.Trajectory,
                 grid: integrate.Grid, method: str, n_runs: int,
                 wanted: set[str] | None) -> list[np.ndarray | None]:
        """The time-varying values at the save times (None for those not ``wanted``).

        Stocks are views of the saved states; the other values are computed in chunks of
        times so that the temporaries of all of them stay within ``CHUNK_BYTES``, and
        only the wanted ones are kept.
        """
        times = grid.save_times
        half: Any = grid.dt / 2 if integrate.is_fixed(method) else 1e-9 * max(
            1.0, abs(grid.tf - grid.t0))
        n_times = len(times)
        shape = (n_times, n_runs)
        n_stocks = len(program.stock_ids)
        computed = program.output_ids[n_stocks:]
        keep = [True] * len(computed) if wanted is None else [n in wanted for n in computed]
        shapes = [shape + a for a in program.element_shapes()]  # subscripts: more axes
        chunk = max(1, CHUNK_BYTES // (8 * max(1, n_runs) * max(1, len(keep))))
        results: list[np.ndarray | None] = list(trajectory.states)
        for start in range(0, n_times if any(keep) else 0, chunk):  # none wanted: skip
            stop = min(n_times, start + chunk)
            t = times[start:stop, None]
            if grid.halves is not None:
                half = grid.halves[start:stop, None]
            values = outputs(t, t, t + half, trajectory.states[:, start:stop],
                             tuple(trajectory.discrete[:, start:stop]))[n_stocks:]
            if start == 0 and stop == n_times:  # one chunk: keep the arrays as they are
                return results + [
                    None if not k else v if np.shape(v) == s else np.array(np.broadcast_to(
                        v, s)) for v, k, s in zip(values, keep, shapes, strict=True)]
            if len(results) == n_stocks:
                results += [np.empty(s) if k else None for k, s in zip(keep, shapes,
                                                                      strict=True)]
            for out, v in zip(results[n_stocks:], values, strict=True):
                if out is not None:
                    out[start:stop] = v
        return results + [None] * (len(keep) - len(results) + n_stocks)

    def jacobians(self, samples: int = 6) -> tuple[list[str], list[np.ndarray]]:
        """d(net flow)/d(state) by central differences at ``samples`` evenly spaced save
        times of the default Euler run: what a structural analysis (the signs of the
        feedback links, ``deterrence.structure``) needs, without reaching into the
        generated code.

        Returns the state nodes' ids (keys of ``compiled.nodes``; the hidden stocks of
        SMOOTH and DELAY included) and one matrix per sampled time, whose entry ``[i, j]``
        is the derivative of state ``i``'s net flow with respect to state ``j``.
        """
        program = self.program(frozenset(), True)
        with np.errstate(all="ignore"):
            start = program.setup(self._param_values(program, {}), True, 1e-9)
            rates = program.make_vector(start.constants).rates
            try:
                grid = integrate.make_grid(*(float(np.ravel(v)[0]) for v in start.controls),
                                           method="euler")
            except ValueError as exc:
                raise ModelError(str(exc), path=self.path) from None
            y0 = np.array([[float(np.ravel(v)[0])] for v in start.y0]).reshape(len(start.y0), 1)
            trajectory = integrate.fixed_step(rates, y0, start.discrete_init,
                                              start.discrete_delays, grid, "euler")
            picks = np.unique(np.linspace(0, len(grid.save_times) - 1, samples).astype(int))
            jacobians = []
            for k in picks:
                y = trajectory.states[:, k, :].copy()
                z = tuple(trajectory.discrete[:, k])
                t = float(grid.save_times[k])
                n = y.shape[0]
                jac = np.zeros((n, n))
                for j in range(n):
                    h = 1e-6 * max(1.0, abs(float(y[j, 0])))
                    up, down = y.copy(), y.copy()
                    up[j] += h
                    down[j] -= h
                    f_up = rates(t, t, t + grid.dt / 2, up, z).dy
                    f_down = rates(t, t, t + grid.dt / 2, down, z).dy
                    jac[:, j] = (f_up[:, 0] - f_down[:, 0]) / (2 * h)
                jacobians.append(jac)
        return list(program.stock_ids), jacobians


#: Bytes of temporaries when the outputs are computed chunk by chunk of save times.
CHUNK_BYTES = 2**30


@dataclass(frozen=True)
class _Limits:
    memory: float  # bytes
    steps: float


def _budget(path: Path, max_memory: float | str | None, max_steps: float) -> _Limits:
    try:
        memory = limits.parse_memory(max_memory)
    except ValueError as exc:
        raise ParameterError(str(exc), path=path, hint="e.g. max_memory='16GiB'") from None
    if isinstance(max_steps, bool) or not isinstance(max_steps, int | float | np.number) \
            or not max_steps >= 1:
        raise ParameterError(f"max_steps={max_steps!r}: expected a positive number of steps",
                             path=path, hint=f"the default is {limits.DEFAULT_MAX_STEPS:,}")
    return _Limits(memory, float(max_steps))


def _wanted(keep: Sequence[Variable] | None) -> set[str] | None:
    return None if keep is None else {v.node for v in keep if v.node is not None}


@dataclass(frozen=True)
class _Size:
    """Estimated peak memory of a run, in bytes, before anything is allocated."""

    total: float
    values: int  # values stored per saved time and run

    @classmethod
    def of(cls, program: Program, n_saves: float, n_runs: int,
           keep: Sequence[Variable] | None, method: str) -> _Size:
        """Saved states and kept outputs, the chunk temporaries, and the solver's arrays."""
        n_stocks, n_discrete = len(program.stock_ids), len(program.discrete_ids)
        computed = program.memo.get("computed")  # an element of an array each
        if computed is None:
            computed = program.memo["computed"] = [
                n for n, shape in zip(program.output_ids[n_stocks:],
                                      program.element_shapes(), strict=True)
                for _ in range(math.prod(shape))]
        wanted = _wanted(keep)
        kept = len(computed) if wanted is None else sum(n in wanted for n in computed)
        cell = 8.0 * n_runs  # one value at one saved time, every run
        stored = n_stocks + n_discrete + kept
        if not integrate.is_fixed(method):
            stored += 2 * n_stocks  # solve_ivp stacks its own copy of the saved states
        elif integrate.SCHEMES[method].scalar_kernel and n_runs == 1:
            stored += 4 * n_stocks + 8  # the scalar loop saves Python tuples of floats
        total = stored * n_saves * cell + min(CHUNK_BYTES, len(computed) * n_saves * cell)
        total += (len(computed) + 8 * n_stocks) * cell  # one evaluation of the rates
        if method in integrate.ADAPTIVE and integrate.ADAPTIVE[method].implicit:
            # the Jacobian and its LU factors
            total += 8 * 16.0 * n_stocks * n_stocks * n_runs
        return cls(total, stored)


def _fmt(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


def _n_runs(overrides: dict[str, Override], path: Path) -> int:
    lengths = {o.value.shape[0] for o in overrides.values() if o.value.ndim == 1}
    if len(lengths) > 1:
        raise ParameterError(
            f"ensemble parameters have different lengths {sorted(lengths)}", path=path,
            hint="give every varied parameter one value per run")
    return lengths.pop() if lengths else 1
