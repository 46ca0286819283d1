"""The ensemble's chunks on a Dask cluster (``dask.distributed``).

Each task is one chunk: its slice of the design and the :class:`~.ensemble.Plan` travel
to a worker, which loads the model file itself (once per worker process, checked against
the plan's sha256), computes the chunk with the same code as in process and writes it to
the shared Zarr store; the client only counts finished chunks. The numbers are the same
as in process because the chunks, and the code that computes them, are.

The store and the model file must be reachable at the same paths from every worker (a
shared file system); a ``LocalCluster`` on this machine always satisfies that.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError, ParameterError


@functools.cache
def _model(path: str, sha256: str) -> Any:
    from ..model import load

    model = load(path)
    if model.sha256 != sha256:
        raise ModelError("the model file a Dask worker reads is not the client's (its "
                         "sha256 differs)", path=path,
                         hint="give every worker the same file at the same path")
    return model


def run_task(plan: Any, sample: np.ndarray, k: int, start: int, stop: int,
             store: str) -> int:
    """One chunk on a worker: compute, write to ``store``, mark done; returns ``k``."""
    from . import store as zstore
    from .chunks import compute_chunk, part_dataset

    model = _model(plan.model_path, plan.model_sha256)
    part = compute_chunk(model, plan, sample)
    zstore.write_chunk(Path(store), part_dataset(part), k, start, stop)
    return k


def client_for(setting: Any) -> tuple[Any, Callable[[], None]]:
    """A ``distributed.Client`` from ``"local"``, an address, a mapping
    (``address``, or ``workers`` / ``processes`` / ``threads`` for a LocalCluster) or a
    Client; and how to close what was opened here."""
    from distributed import Client, LocalCluster

    if isinstance(setting, Client):
        return setting, lambda: None
    options: Mapping[str, Any]
    if isinstance(setting, str):
        options = {} if setting == "local" else {"address": setting}
        if setting != "local" and "://" not in setting:
            raise ParameterError(f"experiment.dask={setting!r}: expected local or a "
                                 "scheduler address such as tcp://host:8786")
    elif isinstance(setting, Mapping):
        options = setting
    else:
        raise ParameterError(f"experiment.dask={setting!r}: expected local, an address or "
                             "a mapping")
    unknown = set(options) - {"address", "workers", "processes", "threads"}
    if unknown:
        raise ParameterError(f"experiment.dask: unknown key(s) {', '.join(sorted(unknown))}",
                             hint="keys: address, workers, processes, threads")
    if options.get("address"):
        client = Client(str(options["address"]))
        return client, client.close
    cluster = LocalCluster(n_workers=int(options.get("workers") or 2),
                           threads_per_worker=int(options.get("threads") or 1),
                           processes=bool(options.get("processes", True)),
                           dashboard_address=None)
    client = Client(cluster)

    def close() -> None:
        client.close()
        cluster.close()

    return client, close


def map_chunks(setting: Any, plan: Any, design: Any, bounds: list[tuple[int, int]],
               todo: list[int], store: Path, bar: Any,
               on_chunk: Callable[[int], None] | None) -> None:
    """Compute chunks ``todo`` on the cluster; a failed chunk raises here (the others
    already written stay done, so a rerun resumes)."""
    from distributed import as_completed

    client, close = client_for(setting)
    try:
        futures = [client.submit(run_task, plan, design.sample[a:b], k, a, b, str(store),
                                 pure=False)
                   for k in todo for a, b in [bounds[k]]]
        for future in as_completed(futures):
            k = future.result()
            bar.update(1)
            if on_chunk is not None:
                on_chunk(k)
    finally:
        close()
