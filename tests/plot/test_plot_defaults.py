"""The defaults come from the results, not from the plots: ``key_outputs`` and
``default_outcome`` are the Dataset attributes the experiments write from the model's
configuration; without them the plots fall back to generic choices."""

from __future__ import annotations

import pytest
import xarray as xr
from plot_testdata import KEY

from deterrence import plot


def _titles(fig):
    return [ax.get_title(loc="left") for ax in fig.axes]


def test_key_outputs_attribute_chooses_the_panels_in_its_order(make_results):
    ds = make_results()
    ds.attrs["key_outputs"] = ["crisis_tension", "mutual_trust", "not_in_results"]
    assert _titles(plot.scenario_comparison(ds)) == ["Crisis Tension", "Mutual Trust"]


def test_key_outputs_of_one_name_survive_a_netcdf_round_trip(make_results, tmp_path):
    ds = make_results()
    ds.attrs["key_outputs"] = ["mutual_trust"]
    path = tmp_path / "one.nc"
    ds.to_netcdf(path)
    out = plot.plot_command(path, kind="compare", out=tmp_path / "one.png")
    assert out.exists()
    with xr.open_dataset(path) as read:
        assert read.attrs["key_outputs"] == "mutual_trust"  # a bare string, not a list
        assert _titles(plot.scenario_comparison(read.load())) == ["Mutual Trust"]


def test_key_outputs_as_text_separated_by_commas_or_spaces(make_results):
    ds = make_results()
    ds.attrs["key_outputs"] = "mutual_trust, crisis_tension hazard_of_aggression"
    assert _titles(plot.scenario_comparison(ds)) == [
        "Mutual Trust", "Crisis Tension", "Hazard of Aggression"]


def test_without_key_outputs_the_first_six_time_varying_are_drawn(make_results):
    names = [*KEY, "complacency", "alliance_capability"]
    ds = make_results(variables=list(reversed(names)))
    del ds.attrs["key_outputs"]
    fig = plot.scenario_comparison(ds)
    assert _titles(fig) == [ds[n].attrs["vensim_name"] for n in list(reversed(names))[:6]]


def test_default_outcome_attribute_then_first_key_output(make_results):
    ds = make_results(dims={"a": [0.0, 1.0], "b": [1.0, 2.0]})
    assert plot.default_outcome(ds) == "deterrence_survival"
    del ds.attrs["default_outcome"]
    assert plot.default_outcome(ds) == next(iter(KEY))
    del ds.attrs["key_outputs"]
    with pytest.raises(plot.PlotInputError, match=r"choose the map's outcome.*--outcome"):
        plot.default_outcome(ds)
