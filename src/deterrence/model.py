"""The user-facing model: ``deterrence.load(path)`` and ``Model.simulate(...)``.

A :class:`Model` ties the parsed file, its compiled code and the integrator together and
turns every failure into an error that names the file, the variable and the time.
"""

from __future__ import annotations

import hashlib
import math
import time as _time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from . import integrate, limits
from .codegen import Program, build_program
from .compiler import CompiledModel, Variable, compile_model
from .errors import (
    ModelError,
    ParameterError,
    ResourceError,
    SimulationError,
    UnsupportedError,
)
from .names import clean_key, close_matches
from .results import build_dataset
from .translate import read_model

ParamValue = float | int | Sequence[float] | np.ndarray


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
                    variable=var.name, hint="choose a value within the range, or widen the "
                    "range in the model file if it is wrong")

    # -- simulation --------------------------------------------------------------------

    def simulate(
        self,
        params: Mapping[str, ParamValue] | None = None,
        method: str = "RK45",
        *,
        rtol: float = 1e-6,
        atol: float = 1e-8,
        max_step: float | None = None,
        first_step: float | None = None,
        initial_time: float | None = None,
        final_time: float | None = None,
        time_step: float | None = None,
        saveper: float | None = None,
        variables: Sequence[str] | None = None,
        max_evaluations: int = 1_000_000,
        max_memory: float | str | None = None,
        max_steps: float = limits.DEFAULT_MAX_STEPS,
    ) -> xr.Dataset:
        """Simulate and return an ``xarray.Dataset`` (dims ``time`` and, for ensembles, ``run``).

        ``params`` maps variable names (as in the file, or Python names) to a number, or to
        a 1-D array of N values: then N runs are integrated together along ``run``.
        ``method`` is ``euler`` or ``rk4`` (fixed TIME STEP, Vensim's semantics) or a
        ``scipy.integrate.solve_ivp`` method with ``rtol``, ``atol`` and ``max_step``; an
        adaptive solver that has evaluated the rates ``max_evaluations`` times is stopped.

        Before allocating, the size of the run is estimated: more than ``max_memory``
        (bytes, or a size such as ``"8GiB"``; default 4 GiB or half the machine's memory,
        ``$DETERRENCE_MAX_MEMORY`` overrides; ``"inf"`` for none) or, for ``euler`` and
        ``rk4``, more than ``max_steps`` time steps is refused with a ``ResourceError``.
        """
        method = _method(method)
        _check_options(self.path, rtol=rtol, atol=atol, max_step=max_step,
                       first_step=first_step, max_evaluations=max_evaluations,
                       initial_time=initial_time, final_time=final_time,
                       time_step=time_step, saveper=saveper)
        budget = _budget(self.path, max_memory, max_steps)
        started = _time.perf_counter()
        keep = None if variables is None else [self.variable(v) for v in variables]
        overrides = self._overrides(params or {})
        for name, value in (("initial_time", initial_time), ("final_time", final_time),
                            ("time_step", time_step), ("saveper", saveper)):
            if value is not None:
                node = self.compiled.by_key[name].node
                overrides[node] = Override(node, np.asarray(value, dtype=float))  # type: ignore[index]
        n_runs = _n_runs(overrides, self.path)
        fixed = method in integrate.FIXED_METHODS
        program = self.program(frozenset(
            o for o in overrides if self.compiled.nodes[o].kind != "param"), fixed)
        with np.errstate(all="ignore"):
            controls, y0_raw, constants, z_init, z_delays = program.setup(
                self._param_values(program, overrides), fixed, 1e-9)
            y0 = np.empty((len(y0_raw), n_runs))
            for i, v in enumerate(y0_raw):
                y0[i] = v
            rates, outputs, breakpoints, trains, control_fn = program.make_vector(constants)
            if program.dynamic_controls:
                t0 = self._grid_value("INITIAL TIME", controls[0])
                self._check_initial(program, y0, t0)
                trajectory, grid = self._integrate_dynamic(program, rates, outputs, control_fn,
                                                           y0, t0, method, budget, keep)
            else:
                grid = self._grid(controls, method, program, n_runs, keep, budget)
                self._check_initial(program, y0, grid.t0)
                trajectory = self._integrate(program, method, grid, y0, constants, z_init,
                                             z_delays, (rates, outputs, breakpoints, trains),
                                             n_runs, rtol, atol, max_step, first_step,
                                             max_evaluations)
            values = self._outputs(outputs, program, trajectory, grid, method, n_runs,
                                   _wanted(keep))
        stats = dict(trajectory.stats)
        stats["wall_time_s"] = _time.perf_counter() - started
        return build_dataset(
            model=self, program=program, grid=grid, values=values, constants=constants,
            n_runs=n_runs, ensemble=any(o.value.ndim == 1 for o in overrides.values()),
            keep=keep, method=method, stats=stats,
            solver={"rtol": rtol, "atol": atol, "max_step": max_step} if not fixed else {},
            overrides={self.compiled.nodes[o].label: v.value for o, v in overrides.items()},
        )

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
                raise ParameterError(f"{var.name!r} is declared unchangeable (==)", **where)
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
        values: list[Any] = []
        for pid in program.param_ids:
            if pid in overrides:
                v = overrides[pid].value
                values.append(np.float64(v) if v.ndim == 0 else v)
            else:
                values.append(np.float64(self.compiled.nodes[pid].default))
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
        except ValueError as exc:
            raise ModelError(str(exc), path=self.path) from None
        t0, tf, dt, _ = scalars
        if method in integrate.FIXED_METHODS and n_steps > budget.steps:
            raise ResourceError(
                f"TIME STEP {dt:g} from time {t0:g} to {tf:g} is {_count(n_steps)} steps, more "
                f"than the limit of {budget.steps:,.0f}", path=self.path,
                hint="use a larger TIME STEP (time_step=, --time-step) or a shorter horizon, "
                "or raise the limit (max_steps=, --max-steps)")
        size = _Size.of(program, n_saves, n_runs, keep, method)
        if size.total > budget.memory:
            raise ResourceError(
                f"the run needs about {limits.format_bytes(size.total)} of memory "
                f"({_count(n_saves)} saved times x {n_runs:,} run{'s' if n_runs > 1 else ''} x "
                f"{size.values} values, 8 "
                f"bytes each, and working arrays), more than the limit of "
                f"{limits.format_bytes(budget.memory)}", path=self.path, hint=_SMALLER)
        return integrate.make_grid(*scalars, method=method)

    def _integrate_dynamic(self, program: Program, rates: Any, outputs: Any, controls: Any,
                           y0: np.ndarray, t0: float, method: str, budget: _Limits,
                           keep: Sequence[Variable] | None,
                           ) -> tuple[integrate.Trajectory, integrate.Grid]:
        """The budgets are checked as the run goes: its length is not known in advance."""
        n_runs = y0.shape[1]
        fixed_part = _Size.of(program, 0, n_runs, keep, method).total
        per_save = _Size.of(program, 1, n_runs, keep, method).total - fixed_part
        max_saves = (budget.memory - fixed_part) / per_save if per_save else math.inf
        try:
            return integrate.fixed_step_dynamic(rates, controls, y0, t0, method,
                                                budget.steps, max_saves)
        except integrate.TooLarge as exc:
            detail = {"memory": f"more than the limit of {limits.format_bytes(budget.memory)}",
                      "steps": f"the limit is {budget.steps:,.0f} steps",
                      "stuck": "a step must change the time"}[exc.kind]
            hint = {"memory": _SMALLER, "stuck": "keep TIME STEP well above the time's "
                    "rounding (about 1e-16 of the time)"}.get(
                        exc.kind, "check the equations of TIME STEP and FINAL TIME, or raise "
                        "the limit (max_steps=, --max-steps)")
            raise ResourceError(f"TIME STEP, SAVEPER or FINAL TIME change during the run: "
                                f"{exc}; {detail}", path=self.path, hint=hint) from None
        except integrate.NonFiniteState as exc:
            grid = integrate.Grid(t0, exc.time, exc.time - exc.time_before, 0.0, np.empty(0))
            raise self._non_finite(program, exc, rates, outputs, grid) from None
        except ValueError as exc:
            raise ModelError(str(exc), path=self.path) from None

    def _label(self, node_id: str) -> str:
        return self.compiled.nodes[node_id].label

    def _check_initial(self, program: Program, y0: np.ndarray, t0: float) -> None:
        bad = ~np.isfinite(y0)
        if bad.any():
            i, run = np.argwhere(bad)[0]
            raise SimulationError(
                f"the initial value of {self._label(program.stock_ids[i])!r} is "
                f"{y0[i, run]} at time {t0:g}" + (f" (run {run})" if y0.shape[1] > 1 else ""),
                path=self.path, variable=self._label(program.stock_ids[i]),
                hint="check its initial-value expression for a division by zero")

    def _integrate(self, program: Program, method: str, grid: integrate.Grid,
                   y0: np.ndarray, constants: tuple[Any, ...], z_init: tuple[Any, ...],
                   z_delays: tuple[Any, ...], fns: tuple[Any, ...], n_runs: int,
                   rtol: float, atol: float, max_step: float | None,
                   first_step: float | None, max_evaluations: int) -> integrate.Trajectory:
        rates, outputs, breakpoints, trains = fns
        try:
            if method == "euler" and n_runs == 1 and program.make_scalar_euler is not None \
                    and all(np.ndim(k) == 0 for k in constants):
                trajectory = integrate.scalar_euler(
                    program.make_scalar_euler, [float(k) for k in constants],
                    [float(v) for v in y0[:, 0]], grid)
                if trajectory is not None:
                    return trajectory
            if method in integrate.FIXED_METHODS:
                return integrate.fixed_step(rates, y0, z_init, z_delays, grid, method)
            if program.discrete_ids:
                raise ModelError(
                    f"{self._label(program.discrete_ids[0])} needs a fixed-step method",
                    path=self.path, hint="simulate with method='euler' or 'rk4'")
            switch_times = integrate.switch_times(breakpoints(), trains(), grid, n_runs)
            return integrate.adaptive(rates, y0, grid, method, switch_times, rtol, atol,
                                      max_step if max_step is not None else math.inf,
                                      first_step, max_evaluations)
        except integrate.NonFiniteState as exc:
            raise self._non_finite(program, exc, rates, outputs, grid) from None
        except integrate.SolverFailure as exc:
            culprit = self._failing_stock(program, rates, exc.time, exc.y, grid)
            raise SimulationError(
                f"the {method} solver failed at time {exc.time:g}"
                + (f", where the net flow of {culprit!r} stops being finite" if culprit else "")
                + f": {exc}", path=self.path, variable=culprit,
                hint="check that equation for a division by zero or a negative number "
                "under SQRT or LN; or try a stiff method (Radau, BDF, LSODA) or euler") \
                from None

    def _failing_stock(self, program: Program, rates: Any, t: float, y: np.ndarray,
                       grid: integrate.Grid) -> str | None:
        """The first stock whose derivative is non-finite at, or just after, a failure."""
        span = max(grid.tf - grid.t0, 1.0)
        for h in (0.0, 1e-9, 1e-7, 1e-5, 1e-3, 1e-2):
            at = np.float64(t + h * span)
            try:
                dy, _ = rates(at, at, at, y, ())
                if h:  # a little Euler step ahead of the last accepted state
                    dy, _ = rates(at, at, at, y + h * span * dy, ())
            except Exception:  # only a diagnosis: never hide the failure itself
                return None
            bad = ~np.isfinite(dy)
            if bad.any():
                return self._label(program.stock_ids[int(np.argwhere(bad)[0][0])])
        return None

    def _non_finite(self, program: Program, exc: integrate.NonFiniteState, rates: Any,
                    outputs: Any, grid: integrate.Grid) -> SimulationError:
        i, run = (int(v) for v in np.argwhere(exc.bad)[0])
        stock = self._label(program.stock_ids[i])
        runs = np.flatnonzero(exc.bad.any(axis=0))
        run_text = ""
        if exc.bad.shape[1] > 1:
            others = f" (and {len(runs) - 1} other runs)" if len(runs) > 1 else ""
            run_text = f" in run {run}{others}"
        before = np.float64(exc.time_before)
        cause = ""
        try:  # the first auxiliary, in evaluation order, that was already non-finite
            values = outputs(before, before, before + grid.dt / 2, exc.y_before, exc.z_before)
            n_runs = exc.y_before.shape[1]
            for node_id, value in zip(program.output_ids, values, strict=True):
                v = np.broadcast_to(np.asarray(value, dtype=float), (n_runs,))[run]
                if not np.isfinite(v) and self.compiled.nodes[node_id].kind == "aux":
                    cause = (f"; the first non-finite value at time {before:g} is "
                             f"{self._label(node_id)!r} = {v}")
                    break
        except Exception:
            cause = ""
        return SimulationError(
            f"stock {stock!r} became NaN or infinite in the step from time {before:g} to "
            f"{exc.time:g}{run_text}{cause}",
            path=self.path, variable=stock,
            hint=f"look at the equations that feed it at time {before:g}: a division by "
            "zero, an overflow, or a negative number under SQRT or LN (ZIDZ and XIDZ guard "
            "divisions)")

    def _outputs(self, outputs: Any, program: Program, trajectory: integrate.Trajectory,
                 grid: integrate.Grid, method: str, n_runs: int,
                 wanted: set[str] | None) -> list[np.ndarray | None]:
        """The time-varying values at the save times (None for those not ``wanted``).

        Stocks are views of the saved states; the other values are computed in chunks of
        times so that the temporaries of all of them stay within ``CHUNK_BYTES``, and
        only the wanted ones are kept.
        """
        times = grid.save_times
        half: Any = grid.dt / 2 if method in integrate.FIXED_METHODS else 1e-9 * max(
            1.0, abs(grid.tf - grid.t0))
        n_times = len(times)
        shape = (n_times, n_runs)
        n_stocks = len(program.stock_ids)
        keep = [wanted is None or node in wanted for node in program.output_ids[n_stocks:]]
        chunk = max(1, CHUNK_BYTES // (8 * max(1, n_runs) * max(1, len(keep))))
        results: list[np.ndarray | None] = list(trajectory.states)
        for start in range(0, n_times, chunk):
            stop = min(n_times, start + chunk)
            t = times[start:stop, None]
            if grid.halves is not None:
                half = grid.halves[start:stop, None]
            values = outputs(t, t, t + half, trajectory.states[:, start:stop],
                             tuple(trajectory.discrete[:, start:stop]))[n_stocks:]
            if start == 0 and stop == n_times:  # one chunk: keep the arrays as they are
                return results + [
                    None if not k else v if np.shape(v) == shape else
                    np.array(np.broadcast_to(v, shape)) for v, k in zip(values, keep,
                                                                         strict=True)]
            if len(results) == n_stocks:
                results += [np.empty(shape) if k else None for k in keep]
            for out, v in zip(results[n_stocks:], values, strict=True):
                if out is not None:
                    out[start:stop] = v
        return results

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
            controls, y0_raw, constants, z_init, z_delays = program.setup(
                self._param_values(program, {}), True, 1e-9)
            rates, *_ = program.make_vector(constants)
            try:
                grid = integrate.make_grid(*(float(np.ravel(v)[0]) for v in controls),
                                           method="euler")
            except ValueError as exc:
                raise ModelError(str(exc), path=self.path) from None
            y0 = np.array([[float(np.ravel(v)[0])] for v in y0_raw]).reshape(len(y0_raw), 1)
            trajectory = integrate.fixed_step(rates, y0, z_init, z_delays, grid, "euler")
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
                    f_up, _ = rates(t, t, t + grid.dt / 2, up, z)
                    f_down, _ = rates(t, t, t + grid.dt / 2, down, z)
                    jac[:, j] = (f_up[:, 0] - f_down[:, 0]) / (2 * h)
                jacobians.append(jac)
        return list(program.stock_ids), jacobians


#: Bytes of temporaries when the outputs are computed chunk by chunk of save times.
CHUNK_BYTES = 2**30

_SMALLER = ("save less often (a larger SAVEPER, saveper=, --saveper), keep fewer variables "
            "(variables=[...]), simulate fewer runs at a time (split the ensemble into "
            "chunks), or raise the limit (max_memory=, --max-memory; solver.max_memory= in "
            "deterrence run)")


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


def _count(n: float) -> str:
    """1,001 or 1e+301: counts as a user reads them."""
    return f"{n:,.0f}" if n < 1e15 else f"{n:.4g}"


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
        computed = program.output_ids[n_stocks:]
        wanted = _wanted(keep)
        kept = len(computed) if wanted is None else sum(n in wanted for n in computed)
        cell = 8.0 * n_runs  # one value at one saved time, every run
        stored = n_stocks + n_discrete + kept
        if method not in integrate.FIXED_METHODS:
            stored += 2 * n_stocks  # solve_ivp stacks its own copy of the saved states
        elif method == "euler" and n_runs == 1:
            stored += 4 * n_stocks + 8  # the scalar loop saves Python tuples of floats
        total = stored * n_saves * cell + min(CHUNK_BYTES, len(computed) * n_saves * cell)
        total += (len(computed) + 8 * n_stocks) * cell  # one evaluation of the rates
        if method in ("Radau", "BDF", "LSODA"):  # Jacobian and its LU factors
            total += 8 * 16.0 * n_stocks * n_stocks * n_runs
        return cls(total, stored)


_POSITIVE = {  # option -> (what it is, a good value)
    "rtol": ("the relative tolerance", "1e-6"), "atol": ("the absolute tolerance", "1e-8"),
    "max_step": ("the largest step", "1"), "first_step": ("the first step", "0.01"),
    "time_step": ("TIME STEP", "0.25"), "saveper": ("SAVEPER", "1"),
}


def _check_options(path: Path, **options: Any) -> None:
    """Refuse a bad solver option at once (a NaN tolerance would only waste a minute)."""
    for name, value in options.items():
        if name == "max_evaluations":
            whole = isinstance(value, int | np.integer) or (
                isinstance(value, float | np.floating) and float(value).is_integer())
            if isinstance(value, bool) or not whole or value < 1:
                raise ParameterError(f"max_evaluations={value!r}: expected a positive "
                                     "whole number", path=path,
                                     hint="e.g. max_evaluations=1000000 (the default)")
            continue
        if value is None and name not in ("rtol", "atol"):
            continue  # not given: the model file's value, or the solver's default
        try:
            number = math.nan if isinstance(value, bool) else float(value)
        except (TypeError, ValueError):
            raise ParameterError(f"{name}={value!r} is not a number", path=path) from None
        if name in _POSITIVE:
            what, example = _POSITIVE[name]
            unbounded = name == "max_step" and number == math.inf  # solve_ivp's default
            if not (number > 0 and (math.isfinite(number) or unbounded)):
                raise ParameterError(f"{name}={value!r}: {what} must be a positive finite "
                                     "number", path=path, hint=f"e.g. {name}={example}")
        elif not math.isfinite(number):
            raise ParameterError(f"{name}={value!r}: it must be a finite number", path=path)


def _fmt(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


def _method(method: str) -> str:
    for name in integrate.METHODS:
        if method.lower() == name.lower():
            return name
    raise ValueError(f"unknown method {method!r}; choose one of {', '.join(integrate.METHODS)}")


def _n_runs(overrides: dict[str, Override], path: Path) -> int:
    lengths = {o.value.shape[0] for o in overrides.values() if o.value.ndim == 1}
    if len(lengths) > 1:
        raise ParameterError(
            f"ensemble parameters have different lengths {sorted(lengths)}", path=path,
            hint="give every varied parameter one value per run")
    return lengths.pop() if lengths else 1
