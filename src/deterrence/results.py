"""Simulation results as ``xarray.Dataset``, and writing them to NetCDF or CSV.

Conventions: dims ``time`` (and ``run`` for ensembles); one data variable per model
variable under its Python-safe name, with attrs ``units``, ``long_name`` (the model's
documentation) and ``vensim_name``; constants carry no ``time`` dim. Dataset attrs hold
provenance: the model file and its sha256, the method and tolerances, solver statistics
and package versions. Files are written atomically: a temporary file in the same folder,
then a rename, so a reader never sees half a file and a failure loses nothing.
"""

from __future__ import annotations

import functools
import itertools
import platform
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .errors import ModelError
from .files import atomic_write, interruption_point, write_error

_PACKAGES = ("deterrence", "pysd", "numpy", "scipy", "xarray")


@functools.cache
def package_versions() -> dict[str, str]:
    """Versions recorded in every Dataset (looked up once: metadata reads are slow)."""
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # pragma: no cover - running from a checkout
            versions[name] = "unknown"
    return versions


def build_dataset(*, series: Mapping[str, tuple[Any, ...]],
                  times: np.ndarray, time_units: str, ensemble: bool,
                  attrs: dict[str, Any], solver: dict[str, Any],
                  stats: dict[str, Any]) -> xr.Dataset:
    """The Dataset from plain arrays and attributes.

    ``series`` maps each variable's name to its values, (time, run, *axes) when they vary
    and (run, *axes) when constant, its attributes and, if subscripted, its axes (each
    with ``name`` and ``elements``: a dimension and its coordinates); without
    ``ensemble`` the run axis is dropped. ``attrs`` (provenance), ``solver`` (options)
    and ``stats`` (solver counts) become the Dataset's attributes, with the creation
    time and the package versions.
    """
    data_vars: dict[str, xr.Variable] = {}
    elements: dict[str, tuple[str, ...]] = {}
    n_times = len(times)
    n_runs = next((v.shape[v.ndim - 1 - len(tuple(r[0]) if r else ())]
                   for v, _, *r in series.values()), 1)
    lead = {(): (), ("time",): (n_times,), ("run",): (n_runs,),
            ("time", "run"): (n_times, n_runs)}
    checked = True  # every shape is that of its dimensions (else xarray says what is not)
    for name, item in series.items():
        values, var_attrs = item[0], item[1]
        axes = tuple(item[2]) if len(item) > 2 else ()
        k = len(axes)
        n_lead = values.ndim - k
        dims: tuple[str, ...] = _LEAD[n_lead] if 0 <= n_lead <= 2 \
            else ("time", "run")[2 - n_lead:]
        if not ensemble:
            values = values[(Ellipsis, 0, *(slice(None),) * k) if k else _FIRST_RUN]
            dims = dims[:-1]
        if not k:
            checked = checked and type(values) is np.ndarray and values.shape == lead.get(dims)
        else:
            checked = checked and type(values) is np.ndarray \
                and values.shape[:len(dims)] == lead.get(dims)
            for a in axes:  # the last one wins, as in a dict of coordinates
                e = tuple(a.elements)
                checked = checked and elements.get(a.name, e) == e
                elements[a.name] = e
            checked = checked and values.shape[len(dims):] == tuple(
                len(a.elements) for a in axes)
            dims += tuple(a.name for a in axes)
        data_vars[name] = _variable(dims, values, var_attrs)
    attrs = dict(attrs, created=datetime.now(UTC).isoformat(timespec="seconds"))
    attrs.update({k: _attr(v) for k, v in solver.items() if v is not None})
    attrs.update({f"solver_{k}": _attr(v) for k, v in stats.items()})
    attrs.update({f"{k}_version": v for k, v in package_versions().items()})
    build = _coordinates if n_times <= _CACHED and (not ensemble or n_runs <= _CACHED) \
        else _coordinates.__wrapped__  # a long grid or a big ensemble: not kept
    coords = build(time_units, np.asarray(times, dtype=float).tobytes(),
                   tuple(elements.items()), n_runs if ensemble else None)
    return _assemble(data_vars, coords, attrs, checked)


#: the longest time axis and run axis whose coordinates are kept for the next run
_CACHED = 100_000


_LEAD = {0: (), 1: ("run",), 2: ("time", "run")}  # the leading dims by their number
_FIRST_RUN = (Ellipsis, 0)


def _variable(dims: tuple[str, ...], values: Any, attrs: dict[str, Any]) -> xr.Variable:
    """A data variable. A numeric ndarray is wrapped as it is (what xarray's constructor
    does with one): its four fields set directly, a microsecond less a variable, while
    xarray's Variable has exactly those fields (:data:`_FIELDS`); anything else, and any
    other xarray, goes through the constructor."""
    if _FIELDS and type(values) is np.ndarray and values.dtype.kind in "fiub" \
            and len(dims) == values.ndim and (len(dims) < 2 or len(set(dims)) == len(dims)):
        var = _NEW(xr.Variable)
        var._dims, var._data, var._encoding = dims, values, None
        var._attrs = dict(attrs) if attrs else None
        return var
    return xr.Variable(dims, values, attrs)


def _fields(cls: type) -> bool:
    """Whether ``cls`` is slotted all the way up with exactly a Variable's four fields
    (so an object whose four fields are set is complete)."""
    slots: set[str] = set()
    for base in cls.__mro__[:-1]:
        if "__slots__" not in vars(base):
            return False
        own = vars(base)["__slots__"]
        slots.update((own,) if isinstance(own, str) else own)
    return slots == {"_attrs", "_data", "_dims", "_encoding"}


_FIELDS = _fields(xr.Variable)
_NEW = object.__new__


@dataclass(frozen=True)
class _Coordinates:
    """A Dataset's coordinates, their sizes and indexes, as plain dicts."""

    dataset: xr.Dataset  # the coordinates alone, as xarray's constructor made them
    variables: dict[str, xr.Variable]
    sizes: dict[str, int]
    indexes: dict[str, Any]


@functools.lru_cache(maxsize=32)
def _coordinates(time_units: str, times: bytes, elements: tuple[tuple[str, tuple[str, ...]], ...],
                 n_runs: int | None) -> _Coordinates:
    """The coordinates of a Dataset (time, the subscripts, the runs) with their indexes,
    built once per grid: a run of the same model again reuses them (pandas indexes are
    immutable; each Dataset gets its own shallow copies of the coordinate variables)."""
    coords: dict[str, Any] = {name: xr.Variable((name,), list(e), {"long_name": "subscript"})
                              for name, e in elements}
    coords["time"] = xr.Variable(("time",), np.frombuffer(times, dtype=float).copy(),
                                 {"units": time_units, "long_name": "Time"})
    if n_runs is not None:
        coords["run"] = xr.Variable(("run",), np.arange(n_runs),
                                    {"long_name": "ensemble member"})
    ds = xr.Dataset(coords=coords)
    return _Coordinates(ds, dict(ds.variables), dict(ds.sizes), dict(ds.xindexes))


#: xarray's constructor without its merge and checks (the bulk of a small run's time,
#: about 15 us a variable); absent in some future xarray, the public constructor is used
_DIRECT = getattr(xr.Dataset, "_construct_direct", None)


def _assemble(data_vars: dict[str, xr.Variable], coords: _Coordinates,
              attrs: dict[str, Any], checked: bool) -> xr.Dataset:
    """The Dataset of ``data_vars`` on ``coords``: what ``xr.Dataset(data_vars, coords,
    attrs)`` gives (tests/engine/test_dataset_build.py proves it), without re-checking what is
    known here: every dimension is a coordinate and every shape matches (``checked``).
    Anything else goes to the public constructor (and its error)."""
    named = coords.variables
    if _DIRECT is None or not checked or any(name in data_vars for name in named):
        return xr.Dataset(data_vars, coords=coords.dataset.coords, attrs=attrs)
    variables: dict[Any, xr.Variable] = dict(data_vars)
    for name, var in named.items():
        variables[name] = var.copy(deep=False)  # its own attrs, the same index
    return _DIRECT(variables, set(named), dict(coords.sizes), attrs,  # type: ignore[misc]
                   dict(coords.indexes))


def collect_series(program: Any, variables: Sequence[Any], values: list[np.ndarray | None],
                   constants: tuple[Any, ...], n_runs: int
                   ) -> dict[str, tuple[np.ndarray, dict[str, Any], tuple[Any, ...]]]:
    """Each variable's values, (time, run, *axes) or (run, *axes) if constant, its
    attributes and its subscript axes (``Axis``: name, elements), for :func:`build_dataset`.

    ``values`` are the program's outputs: first the state rows (a subscripted stock is
    ``program.rows[node]`` of them), then the time-varying values; ``constants`` the
    hoisted ones, in ``program.const_ids`` order. Where each variable's values are, and
    its attributes, are worked out once per program and choice of variables.
    """
    series = {}
    for py_name, attrs, axes, shape, rows, varying, fixed in _layout(program, variables):
        if rows is not None and values[rows[0]] is not None:
            start, stop = rows
            first = values[start]
            array = first if not axes else np.stack(values[start:stop], axis=-1).reshape(
                first.shape + shape)  # type: ignore[union-attr]
        elif varying is not None and values[varying] is not None:
            array = values[varying]
        elif fixed is not None:
            array = np.empty((n_runs, *shape))
            array[...] = np.asarray(constants[fixed], dtype=float)
        else:
            raise KeyError(py_name)  # neither a state, an output nor a constant
        series[py_name] = (array, attrs, axes)
    return series


_Entry = tuple[str, dict[str, Any], tuple[Any, ...], tuple[int, ...],
               tuple[int, int] | None, int | None, int | None]


def _layout(program: Any, variables: Sequence[Any]) -> list[_Entry]:
    """Per variable (lookups left out): its name, attributes, axes and shape, and where
    its values are: its state rows, its position among the outputs, or among the
    constants (kept in the program's ``memo``)."""
    key = ("series", *map(id, variables))
    found = program.memo.get(key)
    if found is not None and found[0] == list(variables):  # the same objects, alive
        return found[1]  # type: ignore[no-any-return]
    n_rows = len(program.stock_ids)
    varying = {node: n_rows + i for i, node in enumerate(program.output_ids[n_rows:])}
    fixed = {node: i for i, node in enumerate(program.const_ids)}
    layout: list[_Entry] = []
    for var in variables:
        if var.kind == "lookup":
            continue
        axes = tuple(program.axes.get(var.node, ()))
        layout.append((var.py_name, variable_attrs(
            name=var.name, units=var.units, long_name=var.long_name, kind=var.kind,
            limits=var.limits), axes, tuple(len(a.elements) for a in axes),
            program.rows.get(var.node), varying.get(var.node), fixed.get(var.node)))
    if len(program.memo) > 64:  # many different choices of variables: start again
        program.memo.clear()
    program.memo[key] = (list(variables), layout)
    return layout


def variable_attrs(*, name: str, units: str, long_name: str, kind: str,
                   limits: tuple[float | None, float | None]) -> dict[str, Any]:
    """A variable's attributes: units, its documentation, its Vensim name and range."""
    attrs: dict[str, Any] = {"units": units, "long_name": long_name, "vensim_name": name,
                             "kind": str(kind)}
    if limits[0] is not None:
        attrs["range_min"] = limits[0]
    if limits[1] is not None:
        attrs["range_max"] = limits[1]
    return attrs


def jsonable(value: np.ndarray) -> Any:
    """A scalar override as it is; an ensemble's values summarised (they are variables too)."""
    if value.ndim == 0:
        return float(value)
    return {"runs": int(value.size), "min": float(value.min()), "max": float(value.max())}


def _attr(value: Any) -> Any:
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


#: Variables are written to NetCDF in groups of about this many bytes, so a Ctrl-C is
#: honoured between groups, outside the NetCDF library (see :mod:`deterrence.files`).
WRITE_GROUP_BYTES = 64 * 2**20
_CSV_ROWS = 200_000


class OutputNameError(ModelError, ValueError):
    """An output file name the writers do not know (also a ValueError, as before)."""


def write_results(ds: xr.Dataset, path: str | Path) -> Path:
    """Write ``.nc`` (lossless NetCDF-4) or ``.csv`` (Vensim-like table), atomically.

    A failure to write raises :class:`deterrence.files.WriteError` naming ``path``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".nc":
        return atomic_write(path, lambda tmp: _write_netcdf(ds, tmp, path))
    if suffix == ".csv":
        frame = to_table(ds)
        return atomic_write(path, lambda tmp: _write_csv(frame, tmp))
    raise OutputNameError(f"cannot write {path.name}: use a .nc (NetCDF) or .csv file name")


def _groups(ds: xr.Dataset) -> list[list[str]]:
    """Data variables in file order, cut into groups of about WRITE_GROUP_BYTES."""
    groups: list[list[str]] = [[]]
    size = 0
    for name, var in ds.data_vars.items():
        if groups[-1] and size + var.nbytes > WRITE_GROUP_BYTES:
            groups.append([])
            size = 0
        groups[-1].append(str(name))
        size += var.nbytes
    return groups


def _write_netcdf(ds: xr.Dataset, tmp: str, target: Path) -> None:
    """The first group creates the file with the coordinates and attributes; the rest
    are appended, with a chance to stop between groups."""
    groups = _groups(ds)
    try:
        for k, names in enumerate(groups):
            keep = set(names)
            part = ds.drop_vars([v for v in ds.data_vars if v not in keep])
            part.to_netcdf(tmp, mode="w" if k == 0 else "a", engine="netcdf4")
            interruption_point()
    except RuntimeError as exc:  # the NetCDF library's "HDF error": no errno to tell why
        raise write_error(target, f"{exc} (is the disk full?)") from exc


def _write_csv(frame: pd.DataFrame, tmp: str) -> None:
    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        for start in range(0, max(len(frame), 1), _CSV_ROWS):
            frame.iloc[start:start + _CSV_ROWS].to_csv(handle, index=False,
                                                        header=start == 0)
            interruption_point()


def to_table(ds: xr.Dataset) -> pd.DataFrame:
    """One row per saved time (and run): 'Time' first, then columns named as in the model."""
    times = ds["time"].values
    runs = ds["run"].values if "run" in ds.dims else None
    shape = (len(times), len(runs)) if runs is not None else (len(times),)
    columns: dict[str, np.ndarray] = {}
    if runs is not None:
        columns["Time"] = np.repeat(times, len(runs))
        columns["run"] = np.tile(runs, len(times))
    else:
        columns["Time"] = times
    dims = ("time", "run") if runs is not None else ("time",)
    frame = xr.DataArray(np.empty(shape), dims=dims)
    for name, da in ds.data_vars.items():
        label = da.attrs.get("vensim_name", str(name))
        subscripts = [d for d in da.dims if d not in dims]
        values = da.broadcast_like(frame).transpose(*dims, *subscripts).values
        if not subscripts:
            columns[label] = values.reshape(-1)
            continue
        # a subscripted variable: one column per element, named as Vensim does
        cells = values.reshape((*values.shape[:len(dims)], -1))
        elements = itertools.product(*(map(str, da[d].values) for d in subscripts))
        for k, element in enumerate(elements):
            columns[f"{label}[{','.join(element)}]"] = cells[..., k].reshape(-1)
    return pd.DataFrame(columns)


_NETCDF_MAGIC = (b"CDF\x01", b"CDF\x02", b"CDF\x05", b"\x89HDF\r\n\x1a\n")


def read_results(path: str | Path, error: type[ModelError] = ModelError) -> xr.Dataset:
    """The whole results file, or a one-line ``error`` naming it (truncated, not NetCDF).

    A file that is missing or unreadable for the operating system's reasons raises the
    ``OSError`` as it is (the command line names the file and the reason).
    """
    path = Path(path)
    try:
        with xr.open_dataset(path) as opened:
            return opened.load()
    except ValueError as exc:  # no backend recognises the bytes
        with open(path, "rb") as handle:
            if handle.read(8).startswith(_NETCDF_MAGIC):
                raise
        raise error("cannot read the results: not a NetCDF file", path=path) from exc
    except OSError as exc:
        if exc.errno is not None and exc.errno > 0:  # the operating system's reason
            raise
        raise error(f"cannot read the results: {exc.strerror or exc}", path=path,
                    hint="the file is damaged or incomplete; write it again") from exc


def key_outputs(ds: xr.Dataset) -> list[str]:
    """The model's key outputs, as the experiments record them in ``attrs["key_outputs"]``
    (plots draw them and tables show them by default).

    A list of variable names; after a NetCDF round trip a list of one comes back as a
    bare string, so a string is read as names separated by commas or spaces.
    """
    raw = ds.attrs.get("key_outputs")
    if raw is None:
        return []
    if isinstance(raw, str | bytes):
        text = raw.decode() if isinstance(raw, bytes) else raw
        return [name for name in re.split(r"[,\s]+", text) if name]
    return [name.decode() if isinstance(name, bytes) else str(name) for name in np.ravel(raw)]


#: The variable of an ensemble's Zarr store that marks its complete chunks of runs.
STORE_DONE = "done"


def is_store(path: str | Path) -> bool:
    """A Zarr (v3) folder, as an uncertainty ensemble writes ``metrics.zarr``."""
    path = Path(path)
    return path.is_dir() and (path / "zarr.json").exists()


def read_store(path: str | Path, error: type[ModelError] = ModelError,
               complete: bool = True) -> xr.Dataset:
    """An ensemble's Zarr store, loaded, without its ``done`` marks.

    With ``complete``, a store whose chunks are not all written (a run killed or still
    running) is one ``error`` naming how many are done: its unwritten runs are NaN and
    would pass for outcomes.
    """
    path = Path(path)
    try:
        opened = xr.open_zarr(path, consolidated=False, zarr_format=3)
    except Exception as exc:  # anything unreadable is one clear error
        raise error(f"cannot read it: not a Zarr store of an ensemble ({exc})",
                    path=path) from None
    with opened:
        if complete and STORE_DONE in opened:
            done = np.asarray(opened[STORE_DONE].values, dtype=bool)
            if not done.all():
                raise error(f"the ensemble is incomplete: {int(done.sum())} of {done.size} "
                            "chunks of runs are written", path=path,
                            hint="finish it by running the same command into the same "
                            "folder (it resumes)")
        return opened.drop_vars(STORE_DONE, errors="ignore").load()
