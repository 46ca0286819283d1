"""Sobol (with second order) and Morris on one metric: known indices return; bad input says why."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from SALib.sample import sobol as sobol_sample

from deterrence.analysis import sobol_indices
from deterrence.analysis.sensitivity import morris, morris_sample, sobol

ISHIGAMI = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}


def ishigami(x: np.ndarray) -> np.ndarray:
    """Ishigami and Homma's test function (a = 7, b = 0.1): indices known in closed form."""
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def metric(values: np.ndarray, name: str = "y") -> xr.DataArray:
    return xr.DataArray(values, dims="run", name=name)


@pytest.fixture(scope="module")
def ishigami_indices() -> xr.Dataset:
    x = sobol_sample.sample(ISHIGAMI, 2048, calc_second_order=True, seed=1)
    return sobol(ISHIGAMI, metric(ishigami(x)), seed=1)


def test_sobol_recovers_the_ishigami_indices(ishigami_indices):
    s = ishigami_indices
    # closed form: S1 = 0.314, 0.442, 0; ST = 0.558, 0.442, 0.244; S13 = 0.244
    np.testing.assert_allclose(s["S1"].values, [0.314, 0.442, 0.0], atol=0.03)
    np.testing.assert_allclose(s["ST"].values, [0.558, 0.442, 0.244], atol=0.03)
    assert float(s["S2"].sel(parameter="x1", parameter_2="x3")) == pytest.approx(0.244,
                                                                                 abs=0.05)
    assert float(s["S2"].sel(parameter="x3", parameter_2="x1")) == float(
        s["S2"].sel(parameter="x1", parameter_2="x3"))
    assert abs(float(s["S2"].sel(parameter="x1", parameter_2="x2"))) < 0.05
    assert np.isnan(s["S2"].sel(parameter="x2", parameter_2="x2"))


def test_sobol_says_how_it_was_computed(ishigami_indices):
    s = ishigami_indices
    assert set(s.data_vars) == {"S1", "S1_conf", "ST", "ST_conf", "S2", "S2_conf"}
    assert s["S2"].dims == ("parameter", "parameter_2")
    assert s.attrs["N"] == 2048
    assert s.attrs["n_runs"] == 2048 * 8
    assert s.attrs["conf_level"] == 0.95
    assert "Sobol" in s.attrs["method"]
    assert s.attrs["outcome"] == "y"
    assert (s["S1_conf"] > 0).all()


def test_first_order_only_and_the_old_entry_point_agree():
    x = sobol_sample.sample(ISHIGAMI, 1024, calc_second_order=False, seed=2)
    y = ishigami(x)
    one = sobol(ISHIGAMI, metric(y), second_order=False, seed=4)
    assert "S2" not in one
    assert one.attrs["N"] == 1024
    ds = xr.Dataset({"y": (("time", "run"), y[None, :])}, coords={"time": [0.0]})
    old = sobol_indices(ds, ISHIGAMI, ["y"], seed=4).sel(outcome="y")
    np.testing.assert_array_equal(old["ST"].values, one["ST"].values)
    np.testing.assert_array_equal(old["S1_conf"].values, one["S1_conf"].values)


def test_the_same_seed_gives_the_same_confidence_intervals():
    x = sobol_sample.sample(ISHIGAMI, 256, calc_second_order=False, seed=2)
    a = sobol(ISHIGAMI, metric(ishigami(x)), second_order=False, seed=9)
    b = sobol(ISHIGAMI, metric(ishigami(x)), second_order=False, seed=9)
    xr.testing.assert_identical(a, b)


def test_a_sample_of_the_wrong_size_is_refused_with_the_fix():
    problem = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0, 1], [0, 1]]}
    x = sobol_sample.sample(problem, 64, calc_second_order=False, seed=2)  # 64 * 4 runs
    y = x[:, 0] + x[:, 1] ** 2
    with pytest.raises(ValueError, match=r"256 runs is not a Saltelli sample of 2 parameters "
                                         r"with second-order terms.*second_order=False"):
        sobol(problem, metric(y))
    with pytest.raises(ValueError, match="not a Saltelli sample"):
        sobol(problem, metric(y[:-1]), second_order=False)


@pytest.mark.parametrize(("problem", "message"), [
    ({"num_vars": 2, "names": ["a", "a"], "bounds": [[0, 1], [0, 1]]}, "more than once: a"),
    ({"num_vars": 3, "names": ["a", "b"], "bounds": [[0, 1], [0, 1]]}, "num_vars=3"),
    ({"num_vars": 2, "names": ["a", "b"], "bounds": [[0, 1]]}, "1 bounds"),
    ({"num_vars": 0, "names": [], "bounds": []}, "no parameters"),
])
def test_a_malformed_problem_is_refused(problem, message):
    with pytest.raises(ValueError, match=message):
        sobol(problem, metric(np.arange(8.0)), second_order=False)


def test_bad_metrics_are_refused():
    x = sobol_sample.sample(ISHIGAMI, 64, calc_second_order=False, seed=2)
    y = ishigami(x)
    y[3] = np.nan
    with pytest.raises(ValueError, match=r"1 of 320 runs are not finite \(first at run 3\)"):
        sobol(ISHIGAMI, metric(y), second_order=False)
    with pytest.raises(ValueError, match="no runs"):
        sobol(ISHIGAMI, metric(np.array([])), second_order=False)
    with pytest.raises(ValueError, match=r"same .* in every run"):
        sobol(ISHIGAMI, metric(np.ones(320)), second_order=False)
    two = xr.DataArray(np.ones((2, 320)), dims=("policy", "run"))
    with pytest.raises(ValueError, match=r"also has the dims \['policy'\]"):
        sobol(ISHIGAMI, two, second_order=False)


def test_morris_screens_ishigami():
    """x1 moves the output most, a dummy not at all; x3 acts through its interaction."""
    problem = {"num_vars": 4, "names": ["x1", "x2", "x3", "dummy"],
               "bounds": [[-np.pi, np.pi]] * 4}
    x = morris_sample(problem, 100, num_levels=8, seed=1)
    assert x.shape == (100 * 5, 4)
    m = morris(problem, x, metric(ishigami(x)), num_levels=8, seed=1)
    ranked = list(m["parameter"].values[np.argsort(-m["mu_star"].values)])
    assert ranked[0] == "x1"
    assert ranked[-1] == "dummy"
    assert float(m["mu_star"].sel(parameter="dummy")) == 0
    assert (m["mu_star"].sel(parameter=["x1", "x2", "x3"]) > 1).all()
    # x3 only matters through x1: its effects spread more than they average
    assert float(m["sigma"].sel(parameter="x3")) > float(m["mu_star"].sel(parameter="x3"))
    assert set(m.data_vars) == {"mu_star", "mu_star_conf", "sigma", "mu"}
    assert m.attrs["trajectories"] == 100


def test_morris_refuses_a_sample_that_does_not_match():
    x = morris_sample(ISHIGAMI, 10, seed=1)
    y = metric(ishigami(x))
    with pytest.raises(ValueError, match="40 rows but the metric has 39 runs"):
        morris(ISHIGAMI, x, y[:-1])
    with pytest.raises(ValueError, match="one column per parameter"):
        morris(ISHIGAMI, x[:, :2], y)
    with pytest.raises(ValueError, match="at least 2 trajectories"):
        morris_sample(ISHIGAMI, 1)
    shuffled = x[np.random.default_rng(0).permutation(len(x))]
    with pytest.raises(ValueError, match="not a Morris sample in its drawn order"):
        morris(ISHIGAMI, shuffled, y)


def test_grouped_problems_are_refused():
    grouped = dict(ISHIGAMI, groups=["g", "g", "h"])
    with pytest.raises(ValueError, match="grouped problems"):
        sobol(grouped, metric(np.arange(10.0)), second_order=False)
