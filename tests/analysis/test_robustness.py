"""Robustness across futures: exact regret and satisficing on a hand-made table."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from deterrence.analysis.robustness import COLUMNS, robustness

# three policies in the same five futures
VALUES = [[0.9, 0.5, 0.7, 0.2, 0.6],   # a: best in futures 0 and 2
          [0.6, 0.6, 0.6, 0.6, 0.6],   # b: steady
          [0.8, 0.9, 0.1, 0.5, 0.7]]   # c: best in futures 1 and 4


def metric() -> xr.DataArray:
    return xr.DataArray(VALUES, dims=("policy", "run"), name="survival",
                        coords={"policy": ["a", "b", "c"]})


def test_regret_and_satisficing_are_exact():
    table = robustness(metric(), threshold=0.6)
    # best per future: 0.9, 0.9, 0.7, 0.6, 0.7
    # regret a: 0, .4, 0, .4, .1 ; b: .3, .3, .1, 0, .1 ; c: .1, 0, .6, .1, 0
    assert list(table.index) == ["b", "a", "c"]  # smallest largest regret first
    np.testing.assert_allclose(table.loc["a", "max_regret"], 0.4)
    np.testing.assert_allclose(table.loc["b", "max_regret"], 0.3)
    np.testing.assert_allclose(table.loc["c", "max_regret"], 0.6)
    np.testing.assert_allclose(table.loc["a", "mean_regret"], 0.9 / 5)
    np.testing.assert_allclose(table.loc["b", "mean_regret"], 0.8 / 5)
    np.testing.assert_allclose(table.loc["c", "mean_regret"], 0.8 / 5)
    assert table.loc["a", "satisficing"] == 3 / 5  # 0.9, 0.7, 0.6
    assert table.loc["b", "satisficing"] == 1.0
    assert table.loc["c", "satisficing"] == 3 / 5  # 0.8, 0.9, 0.7
    np.testing.assert_allclose(table.loc["c", "mean"], 3.0 / 5)
    np.testing.assert_allclose(table.loc["a", "p50"], 0.6)
    np.testing.assert_allclose(table.loc["c", "p5"], np.percentile(VALUES[2], 5))
    assert list(table.columns) == list(COLUMNS)
    assert table.attrs["threshold"] == 0.6
    assert table.attrs["futures"] == 5
    assert table.attrs["metric"] == "survival"
    assert "regret" in table.attrs["columns"]["max_regret"]


def test_smaller_can_be_better():
    table = robustness(metric(), threshold=0.5, larger_is_better=False)
    # best (smallest) per future: 0.6, 0.5, 0.1, 0.2, 0.6 -> regret a: .3,0,.6,0,0
    np.testing.assert_allclose(table.loc["a", "max_regret"], 0.6)
    np.testing.assert_allclose(table.loc["b", "max_regret"], 0.5)
    np.testing.assert_allclose(table.loc["c", "max_regret"], 0.4)
    assert table.loc["a", "satisficing"] == 2 / 5  # 0.5, 0.2
    assert table.loc["b", "satisficing"] == 0
    assert list(table.index) == ["c", "b", "a"]


def test_a_strict_condition_does_not_count_a_future_exactly_at_the_threshold():
    """'survival > 0.6' is met by 0.9 and 0.7 only; 'survival >= 0.6' also by 0.6."""
    assert robustness(metric(), threshold=0.6, strict=True).loc["a", "satisficing"] == 2 / 5
    assert robustness(metric(), threshold=0.6, strict=True).loc["b", "satisficing"] == 0
    smaller = robustness(metric(), threshold=0.5, larger_is_better=False, strict=True)
    assert smaller.loc["a", "satisficing"] == 1 / 5  # 0.2 only, not 0.5


def test_the_dims_may_come_in_either_order():
    a = robustness(metric(), threshold=0.6)
    b = robustness(metric().transpose("run", "policy"), threshold=0.6)
    assert a.equals(b)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match=r"exactly the dims \(policy, run\), got \('run',\)"):
        robustness(metric().isel(policy=0), threshold=0.5)
    bad = metric().copy()
    bad[1, 3] = np.nan
    with pytest.raises(ValueError, match=r"not finite in 1 .* first at policy 'b', run 3"):
        robustness(bad, threshold=0.5)
    with pytest.raises(ValueError, match="at least one of each"):
        robustness(metric().isel(run=slice(0, 0)), threshold=0.5)
    with pytest.raises(ValueError, match="threshold must be a finite number"):
        robustness(metric(), threshold=float("nan"))
