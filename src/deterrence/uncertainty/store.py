"""The Zarr store an ensemble writes as its chunks finish, and reads back on resume.

Layout (zarr v3, through xarray): one array per metric, dims ``(policy, run)``, and per
thinned series ``(policy, run, series_time)``, chunked along ``run`` exactly as the
ensemble is, so each chunk of runs is one Zarr chunk that one writer (a process, a Dask
worker) writes alone; the sampled values as coordinates along ``run``; ``done`` (dim
``chunk``, one Zarr chunk per element) marks the chunks that are complete, written only
after the chunk's data. A crash loses at most the chunks that were being written; a rerun
with the same plan (``attrs["plan"]``, its fingerprint) computes only the others, and a
different plan is refused rather than mixed in.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import ModelError
from ..results import STORE_DONE as DONE
from ..results import is_store, read_store
from .design import DesignError

__all__ = ["DONE", "StoreMismatch", "completed", "create", "is_store", "read",
           "write_chunk"]


class StoreMismatch(DesignError):
    """The store was written for another ensemble (design, model, metrics or chunks)."""


def _open(path: Path) -> xr.Dataset:
    return xr.open_zarr(path, consolidated=False, zarr_format=3)


def create(path: Path, data: dict[str, Any], coords: dict[str, Any], attrs: dict[str, Any],
           chunk: int, n_chunks: int) -> None:
    """An empty store: each of ``data`` (name -> dims, shape, attrs) NaN, lazily (nothing
    of the size of the ensemble is allocated), ``chunk`` runs per Zarr chunk."""
    import dask.array as da

    lazy = {}
    encoding: dict[str, Any] = {}
    for name, var in data.items():
        chunks = tuple(chunk if d == "run" else n for d, n in zip(var.dims, var.shape,
                                                                 strict=True))
        lazy[name] = xr.Variable(var.dims, da.full(var.shape, np.nan, chunks=chunks),
                                 var.attrs)
        encoding[name] = {"chunks": chunks}
    lazy[DONE] = xr.Variable(("chunk",), da.zeros(n_chunks, dtype=bool, chunks=1),
                             {"long_name": "chunk of runs complete"})
    encoding[DONE] = {"chunks": (1,)}
    ds = xr.Dataset(lazy, coords=coords, attrs=attrs)
    tmp = path.with_name(path.name + ".creating")
    if tmp.exists():
        shutil.rmtree(tmp)
    ds.to_zarr(tmp, mode="w-", compute=False, encoding=encoding, consolidated=False,
               zarr_format=3)
    # every chunk of `done` written False, so a reader never meets a missing chunk
    xr.Dataset({DONE: (("chunk",), np.zeros(n_chunks, dtype=bool))}).to_zarr(
        tmp, region={"chunk": slice(0, n_chunks)}, mode="r+", consolidated=False,
        zarr_format=3)
    tmp.rename(path)  # the store exists whole or not at all


def completed(path: Path, plan: dict[str, Any]) -> np.ndarray | None:
    """Which chunks of the store at ``path`` are complete (None: there is no store).

    Raises :class:`StoreMismatch` naming what differs when it holds another plan.
    """
    if not path.exists():
        return None
    try:
        ds = _open(path)
    except Exception as exc:  # anything unreadable is one clear error
        raise ModelError(f"cannot resume from {path}: not an ensemble store ({exc})",
                         path=path, hint="move it aside, or write to another folder") \
            from None
    with ds:
        written = json.loads(ds.attrs.get("plan", "{}"))
        if written != plan:
            differ = sorted(k for k in set(written) | set(plan)
                            if written.get(k) != plan.get(k))
            raise StoreMismatch(
                f"{path} holds another ensemble (it differs in: {', '.join(differ)}); "
                "resuming would mix two sets of futures", path=path,
                hint="rerun with the same design, or move the store aside to start anew")
        return np.asarray(ds[DONE].values, dtype=bool)


def write_chunk(path: Path, part: xr.Dataset, k: int, start: int, stop: int) -> None:
    """The chunk's data, then its ``done`` mark (a crash between them only redoes it)."""
    part.to_zarr(path, region={"run": slice(start, stop)}, mode="r+", consolidated=False,
                 zarr_format=3)
    xr.Dataset({DONE: (("chunk",), np.ones(1, dtype=bool))}).to_zarr(
        path, region={"chunk": slice(k, k + 1)}, mode="r+", consolidated=False,
        zarr_format=3)


def read(path: Path) -> xr.Dataset:
    """The whole store, loaded, without the ``done`` marks (complete or not)."""
    return read_store(path, complete=False)
