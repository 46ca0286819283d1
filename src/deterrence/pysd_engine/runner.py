"""A model run by PySD's own builder and runner, with the compiled engine's interface.

:class:`PySDModel` is a :class:`deterrence.Model` whose variables come from the parsed
file (the same names, kinds, units, ranges and documentation as the compiled engine's)
and whose :meth:`~PySDModel.simulate` runs PySD instead of generated NumPy code: one
PySD run per parameter set of an ensemble (PySD's own speed: it is the fallback), Euler
only (PySD's runner integrates with Euler), results in the same Dataset layout
(:func:`deterrence.results.build_dataset`) with ``engine = "pysd"`` in its attributes.

PySD writes the model as a Python module and imports it. The abstract model is first
neutralised (:mod:`.neutralise`), and the module is written into a private temporary
folder (``mkdtemp``: readable by its owner only) that is removed when the model is
garbage-collected or the process exits, never beside the user's model.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time as _time
import warnings
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .. import diagnose, integrate, limits
from ..compile import Variable, VarKind
from ..errors import ModelError, ParameterError, SimulationError, UnsupportedError
from ..frontend.settings import DeclaredMethod, declared_method
from ..frontend.translate import SourceFile, read_model
from ..integrate import SolverOptions, check_option
from ..model import Model, ParamValue
from ..names import clean_key
from ..results import build_dataset, jsonable, variable_attrs
from .catalogue import Catalogue, catalogue, invariant
from .neutralise import audit, neutralise

METHOD = "euler"  # what PySD's runner integrates with


def load_pysd(path: str | Path, *, max_model_mb: float | None = None) -> PySDModel:
    """Parse ``path`` with the guarded front end and build it with PySD."""
    source = limits.deep_call(read_model, path, max_model_mb=max_model_mb)
    return PySDModel(source, source.path.read_bytes())


class PySDModel(Model):
    """A model built and run by PySD (``engine="pysd"``), described as ours are."""

    engine = "pysd"

    def __init__(self, source: SourceFile, content: bytes) -> None:
        self.path = source.path.resolve()
        self.name = self.path.stem
        self.sha256 = hashlib.sha256(content).hexdigest()
        declared = declared_method(self.path, content)
        self.declared_method = declared if declared.method == METHOD else DeclaredMethod(
            None, declared.source, unsupported=declared.method or declared.unsupported,
            reason="and PySD's runner (engine='pysd') integrates with Euler only: PySD "
            "would run it with Euler without saying so")
        variables = catalogue(source)
        self.compiled = Catalogue(variables)  # type: ignore[assignment]
        self.variables = {v.py_name: v for v in variables}
        fixed = invariant(source)  # before neutralise() rewrites the names
        self._fixed = {v.py_name for v in variables if clean_key(v.name) in fixed}
        self._programs = {}
        folder = Path(tempfile.mkdtemp(prefix="deterrence-pysd-"))
        self.folder = folder
        self._cleanup = weakref.finalize(self, shutil.rmtree, folder, True)
        try:
            neutral = neutralise(source.abstract, folder, self.path.parent, self.path)
            self._pysd = _build(source, self.path)
        except BaseException:
            self._cleanup()
            raise
        self._subscripts = neutral.subscripts
        namespace = self._pysd.namespace  # PySD's real name -> its Python name
        self._names = {var.py_name: namespace.get(safe_name)
                       for var, safe_name in zip(variables, neutral.names, strict=True)}
        self._dirty = False

    def __repr__(self) -> str:
        return super().__repr__().replace("<deterrence.Model", "<deterrence.Model (pysd)")

    def close(self) -> None:
        """Remove the generated module now (otherwise when the model is collected)."""
        self._cleanup()

    def program(self, *_args: Any, **_kwargs: Any) -> Any:
        raise UnsupportedError("engine='pysd' runs PySD's own code; there is no compiled "
                               "program", fallback=False, path=self.path,
                               hint="load the model with the compiled engine")

    def jacobians(self, samples: int = 6) -> Any:
        return self.program()

    def simulate(  # type: ignore[override]
        self,
        params: Mapping[str, ParamValue] | None = None,
        method: str = METHOD,
        *,
        solver: SolverOptions | None = None,
        initial_time: float | None = None,
        final_time: float | None = None,
        time_step: float | None = None,
        saveper: float | None = None,
        variables: Sequence[str] | None = None,
        max_memory: float | str | None = None,
        max_steps: float = limits.DEFAULT_MAX_STEPS,
        **options: Any,
    ) -> xr.Dataset:
        """Run PySD once per parameter set; the Dataset is laid out as the compiled
        engine's (see :meth:`deterrence.Model.simulate` for the arguments). Only
        ``euler`` is accepted: PySD's runner integrates with Euler."""
        chosen = (solver.method if solver is not None else
                  self._checked(integrate.method_name, method))
        if chosen != METHOD:
            raise UnsupportedError(
                f"engine='pysd' integrates with euler only (PySD's runner), not "
                f"{chosen!r}", fallback=False, path=self.path,
                hint="use method='euler' (--method euler), or the compiled engine for "
                "rk4 and the adaptive methods")
        unknown = set(options) - {"rtol", "atol", "max_step", "first_step",
                                  "max_evaluations", "backend"}
        if unknown:
            raise TypeError(f"simulate() got unexpected arguments {sorted(unknown)}")
        if initial_time is not None:
            raise UnsupportedError("engine='pysd' cannot override INITIAL TIME",
                                   fallback=False, path=self.path, hint="edit INITIAL TIME "
                                   "in the file, or use the compiled engine")
        grid = {"final_time": final_time, "time_step": time_step, "saveper": saveper}
        for name, value in grid.items():
            self._checked(check_option, name, value)
        started = _time.perf_counter()
        keep = list(self.variables.values()) if variables is None else [
            self.variable(v) for v in variables]
        keep = [v for v in keep if v.kind != VarKind.LOOKUP]
        lost = [v.name for v in keep if not self._names[v.py_name]]
        if lost:  # PySD's namespace lacks them: say so rather than drop them
            raise UnsupportedError(f"PySD's model has no variable {lost[0]!r}",
                                   path=self.path, fallback=False,
                                   hint="engine='pysd' runs what PySD builds")
        overrides = self._overrides(params or {})
        lengths = {o.value.shape[0] for o in overrides.values() if o.value.ndim == 1}
        if len(lengths) > 1:
            raise ParameterError(
                f"ensemble parameters have different lengths {sorted(lengths)}",
                path=self.path, hint="give every varied parameter one value per run")
        n_runs = lengths.pop() if lengths else 1
        if self._dirty:  # undo the settings of an earlier call: start from the file
            self._pysd.reload()
            self._dirty = False
        self._check_size(grid, n_runs, len(keep), max_memory, max_steps)
        frames = [self._run(i, overrides, keep, grid) for i in range(n_runs)]
        controls = self._controls()
        ensemble = any(o.value.ndim == 1 for o in overrides.values())
        arrays = {var.py_name: (self._stack(var, frames), variable_attrs(
            name=var.name, units=var.units, long_name=var.long_name, kind=var.kind,
            limits=var.limits)) for var in keep}
        time_units = self.variables.get("time_step")
        ds = build_dataset(
            series={k: (a.values, attrs) for k, (a, attrs) in arrays.items()
                    if set(a.dims) <= {"time", "run"}},
            times=np.asarray(frames[0].index, dtype=float),
            time_units=time_units.units if time_units else "", ensemble=ensemble,
            solver={}, stats={"wall_time_s": _time.perf_counter() - started,
                              "runs": n_runs}, attrs={
                "title": f"Simulation of {self.name}", "model_file": str(self.path),
                "model_sha256": self.sha256, "method": METHOD, "engine": self.engine,
                "backend": "pysd", **controls,
                "overrides": json.dumps({self.variables[k].name: jsonable(o.value)
                                         for k, o in overrides.items()})})
        for name, (array, attrs) in arrays.items():
            if name not in ds:
                ds[name] = self._subscripted(array, attrs, ensemble)
        return xr.Dataset({name: ds[name] for name in arrays}, coords=ds.coords,
                          attrs=ds.attrs)  # in the file's order, the time axis kept

    # -- running PySD ----------------------------------------------------------------

    def _run(self, i: int, overrides: dict[str, Any], keep: list[Variable],
             grid: dict[str, float | None]) -> Any:
        """Run ``i`` of the ensemble: PySD's frame, one column per kept variable."""
        params = {self._names[k]: float(o.value if o.value.ndim == 0 else o.value[i])
                  for k, o in overrides.items()}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                frame = self._pysd.run(
                    params=params, return_columns=[self._names[v.py_name] for v in keep],
                    progress=False, flatten_output=False, **grid)
        except Exception as exc:
            raise SimulationError(f"PySD's run failed: {type(exc).__name__}: "
                                  f"{_first_line(exc)}", path=self.path,
                                  hint="engine='pysd' runs PySD as it is; its error is "
                                  "reported as it came") from exc
        self._dirty = self._dirty or bool(params) or any(v is not None for v in grid.values())
        return frame

    def _controls(self) -> dict[str, float]:
        """The time settings of the last run, as the compiled engine records them."""
        components = self._pysd.components
        return {"initial_time": float(components.initial_time()),
                "final_time": float(components.final_time()),
                "time_step": float(components.time_step()),
                "saveper": float(components.saveper())}

    def _stack(self, var: Variable, frames: list[Any]) -> xr.DataArray:
        """One variable of every run: (time, run, *subscripts), or (run, *subscripts)
        for a value fixed for the run, as the compiled engine lays them out."""
        column = self._names[var.py_name]
        runs = []
        for frame in frames:
            cells = list(frame[column].values)
            if isinstance(cells[0], xr.DataArray):
                arrays = [np.asarray(c.values, dtype=float) for c in cells]
                dims = list(cells[0].dims)
                coords = {d: [str(x) for x in cells[0].coords[d].values] for d in dims}
            else:
                arrays = [np.asarray(c, dtype=float) for c in cells]
                dims, coords = [], {}
            runs.append(np.stack(arrays))
        values = np.stack(runs, axis=1)  # (time, run, *dims)
        if var.py_name in self._fixed and _same_at_all_times(values):
            return xr.DataArray(values[0], dims=["run", *dims], coords=coords)
        return xr.DataArray(values, dims=["time", "run", *dims], coords=coords)

    def _subscripted(self, array: xr.DataArray, attrs: dict[str, Any],
                     ensemble: bool) -> xr.DataArray:
        """A subscripted variable: its ranges as named dimensions (their names as in
        the file), the element names as their coordinates, after ``time`` and ``run``."""
        if not ensemble:
            array = array.isel(run=0, drop=True)
        dims = [self._subscripts.get(str(d), str(d)) if d not in ("time", "run") else d
                for d in array.dims]
        coords = {new: [self._subscripts.get(str(c), str(c)) for c in
                        array.coords[old].values]
                  for old, new in zip(array.dims, dims, strict=True)
                  if old not in ("time", "run")}
        return xr.DataArray(array.values, dims=dims, coords=coords, attrs=attrs)

    def _check_size(self, grid: dict[str, float | None], n_runs: int, n_values: int,
                    max_memory: float | str | None, max_steps: float) -> None:
        """The compiled engine's budgets, checked before PySD is asked to run."""
        controls = self._controls()
        t0 = controls["initial_time"]
        tf = grid["final_time"] if grid["final_time"] is not None else controls["final_time"]
        dt = grid["time_step"] if grid["time_step"] is not None else controls["time_step"]
        save = grid["saveper"] if grid["saveper"] is not None else controls["saveper"]
        try:
            n_steps, n_saves = integrate.grid_size(t0, tf, dt, save, method=METHOD)
            memory = limits.parse_memory(max_memory)
        except integrate.BadControl as exc:
            raise diagnose.bad_control(exc, self.path) from None
        except ValueError as exc:
            raise ParameterError(str(exc), path=self.path, hint="e.g. max_memory='16GiB'") \
                from None
        if n_steps > max_steps:
            raise diagnose.too_many_steps(self.path, t0, tf, dt, n_steps, max_steps)
        total = 8.0 * n_saves * n_runs * max(1, n_values)
        if total > memory:
            raise diagnose.too_much_memory(self.path, total, n_saves, n_runs, n_values,
                                           memory)


def _build(source: SourceFile, path: Path) -> Any:
    """PySD's builder on the neutralised abstract model, then PySD's loader."""
    import pysd
    from pysd.builders.python.python_model_builder import ModelBuilder

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            module = ModelBuilder(source.abstract).build_model()
            audit(module.parent)
            return pysd.load(str(module))
        except ModelError:
            raise
        except Exception as exc:
            raise UnsupportedError(f"PySD cannot build or load the model: "
                                   f"{type(exc).__name__}: {_first_line(exc)}", path=path,
                                   hint="engine='pysd' runs what PySD supports",
                                   fallback=False) from exc


def _same_at_all_times(values: np.ndarray) -> bool:
    """The values of a variable classified as fixed really are (a classification that
    missed a time dependence keeps the time axis: the layout may differ, never a value)."""
    first = values[:1]
    return bool(np.all((values == first) | (np.isnan(values) & np.isnan(first))))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else ""
