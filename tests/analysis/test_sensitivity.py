"""Sobol indices from a Saltelli ensemble: the dominant input ranks first; bad input says why."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from SALib.sample import sobol as sobol_sample

from deterrence.analysis import reduce_time, sobol_indices

PROBLEM = {"num_vars": 3, "names": ["strong", "weak", "inert"],
           "bounds": [[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]]}


def ensemble(n: int = 256) -> xr.Dataset:
    """Runs of y(t) = t * (4 strong + weak) along ``run``, in the sample's order."""
    x = sobol_sample.sample(PROBLEM, n, calc_second_order=False, seed=3)
    t = np.linspace(0, 2, 5)
    y = t[:, None] * (4 * x[:, 0] + x[:, 1])[None, :]
    return xr.Dataset({"y": (("time", "run"), y)}, coords={"time": t})


def test_the_dominant_input_has_the_largest_indices():
    indices = sobol_indices(ensemble(), PROBLEM, ["y"])
    st = indices["ST"].sel(outcome="y")
    s1 = indices["S1"].sel(outcome="y")
    # additive y = 4a + b with a, b uniform: variances 16/12 and 1/12 -> S1 = 16/17, 1/17
    assert float(st.sel(parameter="strong")) == pytest.approx(16 / 17, abs=0.05)
    assert float(s1.sel(parameter="weak")) == pytest.approx(1 / 17, abs=0.05)
    assert abs(float(st.sel(parameter="inert"))) < 0.01
    assert set(indices.data_vars) == {"S1", "S1_conf", "ST", "ST_conf"}


def test_time_is_reduced_as_asked():
    ds = ensemble()
    np.testing.assert_allclose(reduce_time(ds["y"], "final").values, ds["y"].values[-1])
    np.testing.assert_allclose(reduce_time(ds["y"], "max").values, ds["y"].values.max(0))
    with pytest.raises(ValueError, match="choose one of final, min, max, mean"):
        reduce_time(ds["y"], "median")


def test_a_missing_outcome_lists_the_variables():
    with pytest.raises(KeyError, match=r"outcome.*nope.*variables: y"):
        sobol_indices(ensemble(), PROBLEM, ["nope"])


def test_results_that_are_not_a_saltelli_sample_are_refused():
    ds = ensemble().isel(run=slice(0, 101))
    with pytest.raises(ValueError, match="not a Saltelli sample of 3 parameters"):
        sobol_indices(ds, PROBLEM, ["y"])
    with pytest.raises(ValueError, match="no 'run' dim"):
        sobol_indices(ensemble().isel(run=0), PROBLEM, ["y"])


def test_non_finite_runs_are_refused():
    ds = ensemble()
    ds["y"][-1, 5] = np.nan
    with pytest.raises(ValueError, match="y: some runs are not finite"):
        sobol_indices(ds, PROBLEM, ["y"])
