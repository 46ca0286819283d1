"""Run the sd_models and measure their behaviour; shared by tests/model and measure_behaviour.py.

`simulator(path)` returns `simulate(params=None, method="euler", time_step=None)` giving an
xarray.Dataset with dim `time` (and `run` for ensembles), one variable per model variable
under its Python-safe name. It uses the project engine (`deterrence.load`) when that is
importable, and otherwise falls back to PySD (Euler only), so that the model and its tests
can be developed before the engine exists. The fallback is meant to go once the engine works.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

SD_MODELS = Path(__file__).resolve().parents[1]
ALLIANCE = SD_MODELS / "alliance_deterrence.mdl"
RICHARDSON = SD_MODELS / "richardson_arms_race.mdl"

Simulate = Callable[..., xr.Dataset]


def py_name(name: str) -> str:
    """Python-safe name: lowercase, runs of spaces/underscores -> '_', other symbols dropped."""
    name = re.sub(r"[\s_]+", "_", name.strip().lower())
    return re.sub(r"[^0-9a-z_]", "", name)


@dataclass(frozen=True)
class Param:
    """A model constant as the engine describes it (`m.constants` values)."""

    name: str
    py_name: str
    units: str
    default: float
    limits: tuple[float | None, float | None]
    doc: str


def _engine():
    try:
        import deterrence
    except ImportError:
        return None
    return deterrence if hasattr(deterrence, "load") else None


def engine_available() -> bool:
    return _engine() is not None


class _PySDModel:
    """The fallback: PySD behind the engine's `simulate` / `constants` interface."""

    def __init__(self, path: Path):
        import pysd

        self._model = pysd.read_vensim(str(path))
        doc = self._model.doc
        self._names = {}  # Vensim or py name -> Vensim name
        self._attrs = {}
        for _, row in doc.iterrows():
            self._names[row["Real Name"]] = row["Real Name"]
            self._names[py_name(row["Real Name"])] = row["Real Name"]
            self._attrs[row["Real Name"]] = {
                "units": row["Units"] or "",
                "long_name": row["Real Name"],
                "description": row["Comment"] or "",
            }
        first = self._model.run(reload=True).iloc[0]
        control = {"INITIAL TIME", "FINAL TIME", "TIME STEP", "SAVEPER"}
        self.constants = {}
        for _, row in doc[(doc["Type"] == "Constant") & (doc["Subtype"] == "Normal")].iterrows():
            if row["Real Name"] in control:
                continue
            lo, hi = (None if v is None or math.isnan(v) else float(v) for v in row["Limits"])
            p = Param(row["Real Name"], py_name(row["Real Name"]), row["Units"] or "",
                      float(first[row["Real Name"]]), (lo, hi), row["Comment"] or "")
            self.constants[p.py_name] = p

    def _run_one(self, params: Mapping[str, float], time_step: float | None) -> xr.Dataset:
        try:
            vensim = {self._names[k]: v for k, v in params.items()}
        except KeyError as err:
            raise KeyError(f"no model constant named {err.args[0]!r}") from None
        out = self._model.run(params=vensim, time_step=time_step, reload=True)
        time = out.index.to_numpy(dtype=float)
        data = {
            py_name(col): xr.DataArray(out[col].to_numpy(dtype=float), dims="time",
                                       attrs=self._attrs.get(col, {}))
            for col in out.columns
        }
        return xr.Dataset(data, coords={"time": time})

    def simulate(self, params=None, method="euler", time_step=None) -> xr.Dataset:
        if method != "euler":
            raise NotImplementedError(f"the PySD fallback integrates with euler only, not {method}")
        params = dict(params or {})
        sizes = {np.size(v) for v in params.values() if np.ndim(v) == 1}
        if not sizes:
            return self._run_one(params, time_step)
        (n,) = sizes
        runs = [
            self._run_one({k: (v[i] if np.ndim(v) == 1 else v) for k, v in params.items()},
                          time_step)
            for i in range(n)
        ]
        return xr.concat(runs, dim="run")


def load(path: Path | str = ALLIANCE):
    """The project engine's model if it is available, else the PySD fallback."""
    engine = _engine()
    return engine.load(str(path)) if engine else _PySDModel(Path(path))


def simulator(path: Path | str = ALLIANCE) -> Simulate:
    model = load(path)

    def simulate(params=None, method="euler", time_step=None) -> xr.Dataset:
        return model.simulate(params=dict(params or {}), method=method, time_step=time_step)

    simulate.constants = model.constants  # type: ignore[attr-defined]
    return simulate


# --- behaviour measures -------------------------------------------------------------------


def time_of_min(da: xr.DataArray, after: float = -np.inf) -> float:
    da = da.sel(time=da.time >= after)
    return float(da.time[int(np.argmin(da.values))])


def time_of_max(da: xr.DataArray, after: float = -np.inf) -> float:
    da = da.sel(time=da.time >= after)
    return float(da.time[int(np.argmax(da.values))])


def fall_and_recovery(run: xr.DataArray, base: xr.DataArray, onset: float,
                      share: float = 0.9) -> tuple[float, float]:
    """(fall time, recovery time) of the dip of `run` below `base` that starts at `onset`.

    The gap is base - run, so a dip is measured against where the variable would have
    been without the shock (the same levers, no shock). Fall time: from the onset until the
    gap first reaches `share` of its maximum. Recovery time: from the maximum gap until the
    gap has closed to 1 - `share` of it (inf when that does not happen within the run).
    """
    gap = (base - run).sel(time=run.time >= onset)
    widest = float(gap.max())
    if widest <= 0:
        raise ValueError(f"{run.name}: no dip below the base run after t={onset}")
    t_max = float(gap.time[int(np.argmax(gap.values))])
    t_fall = float(gap.time[int(np.argmax(gap.values >= share * widest))]) - onset
    after = gap.sel(time=gap.time >= t_max)
    closed = after.values <= (1 - share) * widest
    t_rec = float(after.time[int(np.argmax(closed))]) - t_max if closed.any() else math.inf
    return t_fall, t_rec


def series(ds: xr.Dataset, name: str) -> xr.DataArray:
    """A variable as a time series (the engine stores time-invariant values without `time`)."""
    return ds[name].broadcast_like(ds.time)


def share_of_change(run: xr.Dataset, base: xr.Dataset, name: str, at: float, end: float) -> float:
    """Fraction of the change (run - base) of `name` reached at `end` that has happened by `at`."""
    diff = series(run, name) - series(base, name)
    return float(diff.sel(time=at) / diff.sel(time=end))


def relative_difference(a: xr.Dataset, b: xr.Dataset, names) -> dict[str, float]:
    """max |a - b| / max |b| over time, for each variable name: a trajectory-wide measure."""
    out = {}
    for n in names:
        scale = float(np.abs(b[n]).max())
        out[n] = float(np.abs(a[n] - b[n].interp(time=a.time)).max()) / scale if scale else 0.0
    return out
