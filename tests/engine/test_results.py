"""Results: Dataset metadata, lossless NetCDF, Vensim-like CSV, atomic writes."""

from __future__ import annotations

import hashlib
import math
import platform
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy
import xarray as xr

import deterrence

EQUATIONS = [
    ("Mutual Trust", "INTEG(trust building - Trust Erosion, 0.5)", "Dmnl [0,1]",
     "How much each ally trusts the other."),
    ("trust building", "building rate * (1 - Mutual Trust)", "1/Year",
     "Trust grows towards 1."),
    ("Trust Erosion", "erosion rate * Mutual Trust * (1 + STEP(1, 4))", "1/Year", ""),
    ("building rate", "0.4", "1/Year [0,2]", "Speed of trust building."),
    ("erosion rate", "0.1", "1/Year", "Speed of trust erosion."),
]


@pytest.fixture
def model_path(make_model):
    return make_model(EQUATIONS, name="trust", final=10, step=0.25, saveper=0.5)


@pytest.fixture
def model(model_path):
    return deterrence.load(model_path)


def test_variables_carry_units_documentation_and_model_names(model):
    ds = model.simulate(method="euler")
    trust = ds["mutual_trust"]
    assert trust.attrs["units"] == "Dmnl"
    assert trust.attrs["long_name"] == "How much each ally trusts the other."
    assert trust.attrs["vensim_name"] == "Mutual Trust"
    assert trust.dims == ("time",)
    rate = ds["building_rate"]
    assert rate.attrs["units"] == "1/Year"
    assert rate.attrs["vensim_name"] == "building rate"
    assert rate.dims == ()  # a constant does not repeat along time
    assert float(rate) == 0.4
    # without documentation the long name falls back to the variable's own name
    assert ds["trust_erosion"].attrs["long_name"] == "Trust Erosion"
    assert ds["time"].attrs["units"] == "Month"


def test_dataset_records_provenance(model, model_path):
    ds = model.simulate(method="RK45", rtol=1e-7, atol=1e-9, max_step=0.5)
    attrs = ds.attrs
    assert Path(attrs["model_file"]) == model_path.resolve()
    assert attrs["model_sha256"] == hashlib.sha256(model_path.read_bytes()).hexdigest()
    assert attrs["method"] == "RK45"
    assert attrs["rtol"] == 1e-7
    assert attrs["atol"] == 1e-9
    assert attrs["max_step"] == 0.5
    assert attrs["solver_nfev"] > 0
    assert attrs["solver_n_segments"] == 2  # the STEP at 4 splits the integration
    assert attrs["deterrence_version"] == deterrence.__version__
    assert attrs["numpy_version"] == np.__version__
    assert attrs["scipy_version"] == scipy.__version__
    assert attrs["xarray_version"] == xr.__version__
    assert attrs["python_version"] == platform.python_version()
    assert attrs["pysd_version"] not in ("", "unknown")
    assert (attrs["initial_time"], attrs["final_time"], attrs["saveper"]) == (0, 10, 0.5)


def test_fixed_step_records_method_and_steps(model):
    ds = model.simulate(method="euler")
    assert ds.attrs["method"] == "euler"
    assert ds.attrs["time_step"] == 0.25
    assert ds.attrs["solver_n_steps"] == 40
    assert "rtol" not in ds.attrs  # tolerances do not apply to a fixed step


def test_method_names_are_case_insensitive_and_recorded_canonically(model):
    assert model.simulate(method="rk45").attrs["method"] == "RK45"
    assert model.simulate(method="EULER").attrs["method"] == "euler"


def test_overrides_are_recorded(model):
    ds = model.simulate({"building rate": [0.2, 0.8]}, method="euler")
    assert "building rate" in ds.attrs["overrides"]
    assert "0.8" in ds.attrs["overrides"]


@pytest.fixture
def latin1_path(tmp_path, model_path):
    """The model saved in Latin-1 without an encoding header, as old Windows tools do."""
    text = model_path.read_text(encoding="utf-8").replace("{UTF-8}\n", "")
    text = text.replace("erosion rate", "\u00e9rosion rate").replace(
        "Speed of trust erosion.", "Vitesse d'\u00e9rosion de la confiance.")
    path = tmp_path / "latin.mdl"
    path.write_bytes(text.encode("latin-1"))
    return path


def test_latin1_file_loads_and_simulates(latin1_path):
    ds = deterrence.load(latin1_path).simulate(method="euler")
    assert ds.sizes["time"] == 21


def test_latin1_names_and_documentation_keep_their_letters(latin1_path):
    ds = deterrence.load(latin1_path).simulate(method="euler")
    names = [da.attrs["vensim_name"] for da in ds.data_vars.values()]
    assert "\u00e9rosion rate" in names
    docs = [da.attrs["long_name"] for da in ds.data_vars.values()]
    assert "Vitesse d'\u00e9rosion de la confiance." in docs


def test_latin1_model_sha256_matches_the_file_bytes(latin1_path):
    ds = deterrence.load(latin1_path).simulate(method="euler")
    assert ds.attrs["model_sha256"] == hashlib.sha256(latin1_path.read_bytes()).hexdigest()


# -- NetCDF ----------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [
    {"method": "euler"},
    {"method": "RK45", "max_step": math.inf},
    {"method": "LSODA", "params": {"building rate": [0.2, 0.4, 0.8]}},
    {"method": "rk4", "variables": ["Mutual Trust", "building rate"]},
], ids=["euler", "RK45", "ensemble", "selected variables"])
def test_netcdf_round_trip_is_lossless(model, tmp_path, kwargs):
    ds = model.simulate(**kwargs)
    path = deterrence.write_results(ds, tmp_path / "out.nc")
    assert path == tmp_path / "out.nc"
    with xr.open_dataset(path) as back:
        xr.testing.assert_identical(back.load(), ds)


def test_netcdf_written_in_groups_is_the_same_file_content(model, tmp_path, monkeypatch):
    """Large results are written a group of variables at a time (so Ctrl-C can stop
    between groups); the file holds exactly what one write would."""
    ds = model.simulate({"building rate": [0.2, 0.4, 0.8]}, method="euler")
    ds.to_netcdf(tmp_path / "whole.nc", engine="netcdf4")
    monkeypatch.setattr(deterrence.results, "WRITE_GROUP_BYTES", 100)
    assert len(deterrence.results._groups(ds)) > 1
    path = deterrence.write_results(ds, tmp_path / "grouped.nc")
    with xr.open_dataset(path) as back, xr.open_dataset(tmp_path / "whole.nc") as whole:
        xr.testing.assert_identical(back.load(), whole.load())
        assert list(back.data_vars) == list(ds.data_vars)
        assert list(back.attrs) == list(whole.attrs)


# -- CSV -------------------------------------------------------------------------------


def test_csv_written_in_row_blocks_is_one_table(model, tmp_path, monkeypatch):
    ds = model.simulate({"building rate": [0.2, 0.8]}, method="euler")
    whole = tmp_path / "whole.csv"
    deterrence.results.to_table(ds).to_csv(whole, index=False)
    monkeypatch.setattr(deterrence.results, "_CSV_ROWS", 5)
    path = deterrence.write_results(ds, tmp_path / "blocks.csv")
    assert path.read_bytes() == whole.read_bytes()


def test_csv_has_time_first_and_model_names(model, tmp_path):
    ds = model.simulate(method="euler")
    path = deterrence.write_results(ds, tmp_path / "out.csv")
    table = pd.read_csv(path)
    assert list(table.columns) == [
        "Time", "Mutual Trust", "trust building", "Trust Erosion", "building rate",
        "erosion rate", "INITIAL TIME", "FINAL TIME", "TIME STEP", "SAVEPER"]
    np.testing.assert_allclose(table["Time"], np.arange(0, 10.0001, 0.5))
    assert len(table) == ds.sizes["time"] == 21
    np.testing.assert_allclose(table["Mutual Trust"], ds["mutual_trust"].values, rtol=1e-15)
    np.testing.assert_allclose(table["building rate"], 0.4)


def test_csv_of_an_ensemble_has_one_row_per_time_and_run(model, tmp_path):
    ds = model.simulate({"building rate": [0.2, 0.8]}, method="euler")
    table = pd.read_csv(deterrence.write_results(ds, tmp_path / "ens.csv"))
    assert list(table.columns[:2]) == ["Time", "run"]
    assert len(table) == 21 * 2
    run1 = table[table["run"] == 1]
    np.testing.assert_allclose(run1["Mutual Trust"], ds["mutual_trust"].isel(run=1).values)
    np.testing.assert_allclose(run1["building rate"], 0.8)


def test_unknown_suffix_is_refused_and_writes_nothing(model, tmp_path):
    ds = model.simulate(method="euler")
    with pytest.raises(ValueError, match=r"\.nc.*\.csv"):
        deterrence.write_results(ds, tmp_path / "out.xlsx")
    assert list(tmp_path.iterdir()) == [tmp_path / "trust.mdl"]


def test_writing_creates_missing_folders(model, tmp_path):
    ds = model.simulate(method="euler")
    path = deterrence.write_results(ds, tmp_path / "a" / "b" / "out.csv")
    assert path.exists()


# -- atomic writes ---------------------------------------------------------------------


def _half_write_then_fail():
    """A writer that leaves half a file at the path it is given, then fails."""

    def fake(self, path, *args, **kwargs):
        if hasattr(path, "write"):  # an open file (CSV is written in blocks of rows)
            path.write("half a file")
        else:
            Path(path).write_text("half a file")
        raise OSError("disk full")

    return fake


@pytest.mark.parametrize(("suffix", "owner", "method"), [
    (".csv", pd.DataFrame, "to_csv"),
    (".nc", xr.Dataset, "to_netcdf"),
])
def test_failed_write_leaves_the_existing_file_untouched(model, tmp_path, monkeypatch,
                                                         suffix, owner, method):
    ds = model.simulate(method="euler")
    target = tmp_path / f"out{suffix}"
    deterrence.write_results(ds, target)
    before = target.read_bytes()
    monkeypatch.setattr(owner, method, _half_write_then_fail())
    with pytest.raises(OSError, match="disk full"):
        deterrence.write_results(ds, target)
    assert target.read_bytes() == before
    leftovers = sorted(p.name for p in tmp_path.iterdir())
    assert leftovers == sorted(["trust.mdl", target.name]), "no temporary file is left"


def test_failed_first_write_creates_no_file(model, tmp_path, monkeypatch):
    ds = model.simulate(method="euler")
    monkeypatch.setattr(pd.DataFrame, "to_csv", _half_write_then_fail())
    with pytest.raises(OSError, match="disk full"):
        deterrence.write_results(ds, tmp_path / "new.csv")
    assert not (tmp_path / "new.csv").exists()
