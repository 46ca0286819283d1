"""Wrong input names what the results do hold, so the reader can fix the call."""

from __future__ import annotations

import pytest
import xarray as xr
from plot_testdata import SCENARIOS

from deterrence import plot


@pytest.fixture
def results(make_results, tmp_path):
    """Results as read back from a file, so messages can name it."""
    path = tmp_path / "results.nc"
    make_results().to_netcdf(path)
    with xr.open_dataset(path) as ds:
        return ds.load()


def test_unknown_variable_names_file_close_match_and_available(results):
    with pytest.raises(plot.VariableNotFoundError) as info:
        plot.scenario_comparison(results, vars=["mutal_trust"])
    message = str(info.value)
    assert message.startswith("variable 'mutal_trust' not in results.nc")
    assert "did you mean 'mutual_trust'?" in message
    assert "available: adversary_risk_estimate, hazard_of_aggression" in message
    assert isinstance(info.value, KeyError)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "draw",
    [
        lambda ds: plot.difference_from_baseline(ds, vars=["nope"]),
        lambda ds: plot.policy_map(ds, "nope", "scenario", "time"),
    ],
)
def test_unknown_variable_in_every_kind(results, draw):
    with pytest.raises(KeyError, match="available: "):
        draw(results)


def test_unknown_by_dimension_lists_dimensions(results):
    with pytest.raises(plot.DimensionNotFoundError) as info:
        plot.scenario_comparison(results, by="polcy")
    assert str(info.value) == (
        "dimension 'polcy' not in results.nc; dimensions: scenario (3), time (51)"
    )


def test_unknown_map_dimension_lists_dimensions(make_results):
    ds = make_results(dims={"a": [1, 2], "b": [1, 2, 3]})
    with pytest.raises(plot.DimensionNotFoundError, match=r"'c' not in .*a \(2\), b \(3\)"):
        plot.policy_map(ds, "deterrence_survival", "a", "c")


def test_missing_baseline_lists_labels(results):
    with pytest.raises(plot.LabelNotFoundError) as info:
        plot.difference_from_baseline(results, baseline="status_quo")
    assert "baseline label 'status_quo' not found along 'scenario'" in str(info.value)
    assert "labels: baseline, leadership_change, disinformation" in str(info.value)
    with pytest.raises(plot.LabelNotFoundError, match="labels: baseline"):
        plot.scenario_comparison(results, baseline="status_quo")


def test_default_baseline_may_be_absent_from_a_comparison(make_results):
    ds = make_results(dims={"policy": ["a", "b"]})
    fig = plot.scenario_comparison(ds, vars=["mutual_trust"])
    assert len(fig.axes[0].get_lines()) == 2
    with pytest.raises(plot.LabelNotFoundError, match="labels: a, b"):
        plot.difference_from_baseline(ds)


def test_fan_chart_without_run_says_so(results):
    with pytest.raises(plot.MissingRunDimensionError) as info:
        plot.fan_chart(results)
    assert "needs ensemble members along 'run'" in str(info.value)
    assert "dimensions: scenario (3), time (51)" in str(info.value)


def test_constant_variable_is_refused_for_lines(results):
    with pytest.raises(plot.PlotInputError, match="has no 'time' dimension") as info:
        plot.scenario_comparison(results, vars=["alliance_size"])
    assert "time-varying variables: adversary_risk_estimate" in str(info.value)


def test_extra_swept_dimension_is_named(make_results):
    ds = make_results(dims={"scenario": SCENARIOS[:2], "policy": ["a", "b"]})
    with pytest.raises(plot.PlotInputError, match=r"several dimensions \(scenario, policy\)"):
        plot.scenario_comparison(ds, by=None)
    with pytest.raises(plot.PlotInputError, match="also varies along policy"):
        plot.scenario_comparison(ds, by="scenario")
    fig = plot.scenario_comparison(ds.sel(policy="a"), by="scenario")
    assert len(fig.axes[0].get_lines()) == 2


def test_difference_needs_labels(make_results):
    ds = make_results(dims={})
    with pytest.raises(plot.PlotInputError, match="needs a dimension of labels"):
        plot.difference_from_baseline(ds)


def test_no_time_dimension(make_results):
    ds = make_results().isel(time=0)
    with pytest.raises(plot.DimensionNotFoundError, match="no 'time' dimension"):
        plot.scenario_comparison(ds)


def test_map_reduction_and_axes_checked(make_results):
    ds = make_results(dims={"a": [1, 2], "b": [1, 2]})
    with pytest.raises(plot.PlotInputError, match="choose one of final, initial, min"):
        plot.policy_map(ds, "mutual_trust", "a", "b", reduce="median")
    with pytest.raises(plot.PlotInputError, match="two different"):
        plot.policy_map(ds, "mutual_trust", "a", "a")
    with pytest.raises(plot.PlotInputError, match="not 'time'"):
        plot.policy_map(ds, "mutual_trust", "a", "time")


def test_messages_print_without_keyerror_quotes(results):
    with pytest.raises(KeyError) as info:
        plot.scenario_comparison(results, vars=["x"])
    assert not str(info.value).startswith("'")
