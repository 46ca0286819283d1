"""The Dataset of a run is built without xarray's merge (results.build_dataset's fast
path, most of a small native run's time before): it must be exactly the Dataset that
xarray's public constructor builds from the same arrays, and each Dataset must stay the
user's own (editing one run's attributes does not touch the next run's)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

import deterrence
from deterrence import model as model_module
from deterrence import results

ALLIANCE = Path(__file__).resolve().parents[2] / "sd_models" / "alliance_deterrence.mdl"
RANGES = "Region: north, south, east\n\t~\t~\t|\n"
EQUATIONS = [
    ("Population[Region]", "INTEG(growth[Region], initial population[Region])", "people",
     "People, by region."),
    ("initial population[Region]", "10, 20, 30", "people", ""),
    ("growth[Region]", "rate * Population[Region] * (1 + STEP(1, 1))", "people/Month", ""),
    ("Total", "INTEG(inflow, 0)", "people", "A scalar stock."),
    ("inflow", "rate * Total + 1", "people/Month", ""),
    ("rate", "0.1", "1/Month [0,1]", "Growth rate."),
    ("count", "3", "Dmnl", ""),
]


@pytest.fixture
def model(tmp_path, model_text):
    path = tmp_path / "arrays.mdl"
    text = model_text(EQUATIONS, final=4, step=0.5)
    path.write_text(text.replace("{UTF-8}\n", "{UTF-8}\n" + RANGES, 1), encoding="utf-8")
    return deterrence.load(path)


def _captured(model: deterrence.Model, monkeypatch: pytest.MonkeyPatch,
              **kwargs: Any) -> tuple[xr.Dataset, dict[str, Any]]:
    """The Dataset of one run and the arguments its build_dataset was given."""
    seen: dict[str, Any] = {}

    def spy(**given: Any) -> xr.Dataset:
        seen.update(given)
        return results.build_dataset(**given)

    monkeypatch.setattr(model_module, "build_dataset", spy)
    return model.simulate(**kwargs), seen


def _public(given: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> xr.Dataset:
    """The same arguments through xarray's own constructors only."""
    with monkeypatch.context() as patch:
        patch.setattr(results, "_DIRECT", None)
        patch.setattr(results, "_FIELDS", False)
        return results.build_dataset(**given)


def _same(fast: xr.Dataset, public: xr.Dataset) -> None:
    fast, public = fast.copy(), public.copy()  # shallow: the attrs to compare without
    assert fast.attrs.pop("created")[:4] == public.attrs.pop("created")[:4]
    xr.testing.assert_identical(fast, public)
    assert list(fast.variables) == list(public.variables)  # the same order in files
    assert set(fast.coords) == set(public.coords)
    assert dict(fast.sizes) == dict(public.sizes)
    for name in public.variables:
        assert fast[name].dtype == public[name].dtype, name
        assert fast[name].dims == public[name].dims, name
        assert fast.variables[name].encoding == public.variables[name].encoding, name
    assert {k: type(v) for k, v in fast.xindexes.items()} == \
        {k: type(v) for k, v in public.xindexes.items()}
    for name, index in public.xindexes.items():
        assert fast.xindexes[name].equals(index), name


@pytest.mark.parametrize("kwargs", [
    {"method": "euler"},
    {"method": "rk4", "backend": "numpy"},
    {"method": "RK45"},
    {"method": "euler", "params": {"rate": [0.1, 0.2, 0.3]}},
    {"method": "euler", "variables": ["Population", "count"]},
    {"method": "euler", "params": {"rate": [0.1, 0.2]}, "variables": ["count", "Total"]},
], ids=["euler", "rk4", "RK45", "ensemble", "some variables",
        "ensemble, some variables"])
def test_the_dataset_is_what_xarrays_constructor_builds(model, monkeypatch, kwargs):
    ds, given = _captured(model, monkeypatch, **kwargs)
    _same(ds, _public(given, monkeypatch))
    again, given = _captured(model, monkeypatch, **kwargs)  # the coordinates reused
    _same(again, _public(given, monkeypatch))


@pytest.mark.parametrize("kwargs", [
    {"method": "euler", "backend": "native"},
    {"method": "RK45", "backend": "native"},
    {"method": "rk4", "backend": "native", "params": {"defence_spending": [0.01, 0.04]}},
], ids=["euler", "RK45", "rk4 ensemble"])
def test_the_native_alliance_runs_dataset_is_what_xarrays_constructor_builds(
        monkeypatch, kwargs):
    model = deterrence.load(ALLIANCE)
    ds, given = _captured(model, monkeypatch, **kwargs)
    assert ds.attrs["backend"] == "native"
    _same(ds, _public(given, monkeypatch))


def test_editing_one_runs_dataset_leaves_the_next_run_alone(model):
    first = model.simulate(method="euler")
    first["time"].attrs["units"] = "edited"
    first["Region"].attrs["long_name"] = "edited"
    first["total"].attrs["units"] = "edited"
    first.attrs["method"] = "edited"
    second = model.simulate(method="euler")
    assert second["time"].attrs["units"] == "Month"
    assert second["Region"].attrs["long_name"] == "subscript"
    assert second["total"].attrs["units"] == "people"
    assert second.attrs["method"] == "euler"
    first["total"].values[:] = -1.0
    assert (second["total"].values >= 0).all()


def test_a_time_grid_of_another_length_gets_its_own_time_axis(model):
    short = model.simulate(method="euler", final_time=2)
    long = model.simulate(method="euler")
    assert short.sizes["time"] == 5
    assert long.sizes["time"] == 9
    np.testing.assert_array_equal(long["time"].values, np.arange(0, 4.5, 0.5))


def test_arrays_that_do_not_fit_their_dimensions_get_xarrays_error():
    series = {"x": (np.zeros((3, 1)), {"units": ""}, ()),
              "y": (np.zeros((4, 1)), {"units": ""}, ())}
    with pytest.raises(ValueError, match=r"conflicting sizes|length"):
        results.build_dataset(series=series, times=np.arange(3.0), time_units="Month",
                              ensemble=False, attrs={}, solver={}, stats={})


def test_a_long_grid_is_not_kept_and_gives_the_same_dataset(model, monkeypatch):
    """Coordinates are kept for the next run only for grids and ensembles of at most
    ``_CACHED`` points (a million save times would keep megabytes per entry)."""
    monkeypatch.setattr(results, "_CACHED", 4)
    before = results._coordinates.cache_info().currsize
    ds, given = _captured(model, monkeypatch, method="euler", final_time=3)
    assert results._coordinates.cache_info().currsize == before
    _same(ds, _public(given, monkeypatch))
    ensemble, given = _captured(model, monkeypatch, method="euler", final_time=1,
                                params={"rate": [0.1, 0.2, 0.3, 0.4, 0.5]})
    assert results._coordinates.cache_info().currsize == before
    _same(ensemble, _public(given, monkeypatch))


def test_keeping_only_stocks_computes_no_auxiliaries(model, monkeypatch):
    """An ensemble that keeps only stocks (the usual outcome variables) does not evaluate
    every auxiliary at every save time of every run only to drop them."""
    program = model.program(frozenset(), True)  # "rate" is a parameter of the default
    calls = []
    make = program.make_vector

    def counting(constants):
        kernels = make(constants)

        def outputs(*args):
            calls.append(args[0].shape)
            return kernels.outputs(*args)

        return kernels._replace(outputs=outputs)

    monkeypatch.setattr(program, "make_vector", counting)
    params = {"rate": [0.1, 0.2, 0.3]}
    stocks = model.simulate(params, method="euler", backend="numpy",
                            variables=["Total", "Population"])
    assert calls == []
    full = model.simulate(params, method="euler", backend="numpy")
    assert calls
    assert list(stocks.data_vars) == ["total", "population"]
    xr.testing.assert_identical(stocks["total"], full["total"])
    xr.testing.assert_identical(stocks["population"], full["population"])
