"""The same ensemble on a Dask cluster: workers write the same store, and the numbers are
exactly those of the run in this process."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from unc_support import POLICIES, SHORT

from deterrence import uncertainty as unc


@pytest.fixture(scope="module")
def in_process(model, design, metrics):
    return unc.run_ensemble(model, design, metrics, chunk=12, policies=POLICIES, **SHORT)


def _same(a, b, names):
    for name in names:
        np.testing.assert_array_equal(a[name].transpose("policy", "run").values,
                                      b[name].transpose("policy", "run").values)


def test_a_threaded_local_cluster_gives_identical_numbers(model, design, metrics,
                                                          in_process, tmp_path):
    done: list[int] = []
    ds = unc.run_ensemble(model, design, metrics, chunk=12, policies=POLICIES,
                          store=tmp_path / "m.zarr", on_chunk=done.append,
                          dask={"workers": 1, "threads": 2, "processes": False}, **SHORT)
    assert sorted(done) == list(range(5))
    _same(ds, in_process, metrics)
    assert xr.open_zarr(tmp_path / "m.zarr", consolidated=False)["done"].values.all()


@pytest.mark.slow
def test_two_worker_processes_give_identical_numbers_and_resume(model, design, metrics,
                                                                in_process, tmp_path):
    store = tmp_path / "m.zarr"
    first: list[int] = []

    class Stop(Exception):
        pass

    def stop_after_two(k: int) -> None:
        first.append(k)
        if len(first) == 2:
            raise Stop

    with pytest.raises(Stop):  # the client stops after two chunks (workers may finish more)
        unc.run_ensemble(model, design, metrics, chunk=12, policies=POLICIES, store=store,
                         on_chunk=stop_after_two, dask="local", **SHORT)
    already = int(xr.open_zarr(store, consolidated=False)["done"].values.sum())
    assert already >= 2
    again: list[int] = []
    ds = unc.run_ensemble(model, design, metrics, chunk=12, policies=POLICIES, store=store,
                          on_chunk=again.append, dask="local", **SHORT)
    assert len(again) == 5 - already
    assert not set(again) & set(first)
    _same(ds, in_process, metrics)


def test_dask_needs_a_store(model, design, metrics):
    from deterrence.errors import ParameterError

    with pytest.raises(ParameterError, match="store"):
        unc.run_ensemble(model, design, metrics, dask="local", **SHORT)
