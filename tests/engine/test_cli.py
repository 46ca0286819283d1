"""The ``deterrence`` command line: simulate, info, and one-line errors with status 2."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import deterrence
from deterrence.cli import EXIT_USER_ERROR, main

EQUATIONS = [
    ("Mutual Trust", "INTEG(trust building - trust erosion, 0.5)", "Dmnl", "Trust."),
    ("trust building", "building rate * (1 - Mutual Trust)", "1/Year", ""),
    ("trust erosion", "erosion rate * Mutual Trust", "1/Year", ""),
    ("building rate", "0.4", "1/Year [0,2]", "Speed of trust building."),
    ("erosion rate", "0.1", "1/Year", ""),
    ("signal", "Mutual Trust * 2", "Dmnl", ""),
]


@pytest.fixture
def model_path(make_model):
    return make_model(EQUATIONS, name="trust", final=10, step=0.25, saveper=1)


def run_cli(*args: str, capsys) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_simulate_writes_csv(model_path, tmp_path, capsys):
    out_csv = tmp_path / "out.csv"
    code, out, _ = run_cli("simulate", str(model_path), "--method", "euler", "--output",
                           str(out_csv), capsys=capsys)
    assert code == 0
    assert "wrote" in out
    assert "11 times" in out
    table = pd.read_csv(out_csv)
    assert table.columns[0] == "Time"
    assert "Mutual Trust" in table.columns
    expected = deterrence.load(model_path).simulate(method="euler")
    np.testing.assert_allclose(table["Mutual Trust"], expected["mutual_trust"].values,
                               rtol=1e-15)


def test_simulate_writes_netcdf_with_the_chosen_method(model_path, tmp_path, capsys):
    out_nc = tmp_path / "out.nc"
    code, _, _ = run_cli("simulate", str(model_path), "--method", "Radau", "--rtol", "1e-8",
                         "-o", str(out_nc), capsys=capsys)
    assert code == 0
    with xr.open_dataset(out_nc) as ds:
        assert ds.attrs["method"] == "Radau"
        assert ds.attrs["rtol"] == 1e-8
        assert ds["mutual_trust"].attrs["vensim_name"] == "Mutual Trust"


def test_set_one_value(model_path, tmp_path, capsys):
    out_csv = tmp_path / "set.csv"
    code, _, _ = run_cli("simulate", str(model_path), "--method", "euler", "--set",
                         "Building Rate=1.5", "--set", "erosion rate=0", "-o", str(out_csv),
                         capsys=capsys)
    assert code == 0
    table = pd.read_csv(out_csv)
    np.testing.assert_allclose(table["building rate"], 1.5)
    expected = deterrence.load(model_path).simulate(
        {"building rate": 1.5, "erosion rate": 0}, method="euler")
    np.testing.assert_allclose(table["Mutual Trust"], expected["mutual_trust"].values)


def test_set_several_values_runs_an_ensemble(model_path, tmp_path, capsys):
    out_nc = tmp_path / "ens.nc"
    code, out, _ = run_cli("simulate", str(model_path), "--method", "euler", "--set",
                           "building rate=0.2,0.4,0.8", "-o", str(out_nc), capsys=capsys)
    assert code == 0
    assert "3 runs" in out
    model = deterrence.load(model_path)
    with xr.open_dataset(out_nc) as ds:
        assert ds.sizes["run"] == 3
        for run, value in enumerate([0.2, 0.4, 0.8]):
            single = model.simulate({"building rate": value}, method="euler")
            np.testing.assert_array_equal(ds["mutual_trust"].isel(run=run).values,
                                          single["mutual_trust"].values)


def test_simulate_without_output_prints_final_stocks(model_path, capsys):
    """Without --method the model's own method: Euler for a Vensim file declaring none."""
    code, out, _ = run_cli("simulate", str(model_path), capsys=capsys)
    assert code == 0
    ds = deterrence.load(model_path).simulate(method="euler")
    final = float(ds["mutual_trust"].isel(time=-1))
    assert f"Mutual Trust = {final:.6g} Dmnl" in out
    assert ": euler," in out


def test_control_overrides(model_path, tmp_path, capsys):
    out_csv = tmp_path / "short.csv"
    code, _, _ = run_cli("simulate", str(model_path), "--method", "euler", "--final-time",
                         "4", "--saveper", "0.5", "-o", str(out_csv), capsys=capsys)
    assert code == 0
    np.testing.assert_allclose(pd.read_csv(out_csv)["Time"], np.arange(0, 4.01, 0.5))


def test_info_lists_stocks_flows_constants_with_units_and_defaults(model_path, capsys):
    code, out, _ = run_cli("info", str(model_path), capsys=capsys)
    assert code == 0
    sections = {}
    current = None
    for line in out.splitlines():
        if line and not line.startswith(" ") and line.endswith(":"):
            current = line.split(" (")[0]
            sections[current] = []
        elif current and line.strip():
            sections[current].append(line.strip())
    assert sections["Stocks"] == ["Mutual Trust [Dmnl]"]
    assert set(sections["Flows"]) == {"trust building [1/Year]", "trust erosion [1/Year]"}
    assert sections["Auxiliaries"] == ["signal [Dmnl]"]
    assert "building rate [1/Year] = 0.4  range [0, 2]" in sections["Constants"]
    assert "erosion rate [1/Year] = 0.1" in sections["Constants"]
    assert "TIME STEP [Month] = 0.25  range [0, ?]" in sections["Control"]
    assert str(model_path.resolve()) in out


def test_python_dash_m_is_the_same_program(model_path, tmp_path):
    out_csv = tmp_path / "m.csv"
    done = subprocess.run([sys.executable, "-m", "deterrence", "simulate", str(model_path),
                           "--method", "euler", "-o", str(out_csv)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out_csv)
    expected = deterrence.load(model_path).simulate(method="euler")
    np.testing.assert_allclose(table["Mutual Trust"], expected["mutual_trust"].values,
                               rtol=1e-15)
    info = subprocess.run([sys.executable, "-m", "deterrence", "info", str(model_path)],
                          capture_output=True, text=True, check=False)
    assert info.returncode == 0
    assert "Mutual Trust [Dmnl]" in info.stdout


# -- user errors -------------------------------------------------------------------------


def _assert_one_error_line(code, out, err, *fragments):
    assert code == EXIT_USER_ERROR
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


def test_missing_file(tmp_path, capsys):
    missing = tmp_path / "nowhere.mdl"
    code, out, err = run_cli("simulate", str(missing), capsys=capsys)
    _assert_one_error_line(code, out, err, str(missing), "not found")


def test_syntax_error_names_file_and_line(make_model, capsys):
    path = make_model([("x", "INTEG(u, 0)"), ("u", "3 + * 2")], name="broken")
    code, out, err = run_cli("info", str(path), capsys=capsys)
    _assert_one_error_line(code, out, err, "broken.mdl:7:")


def test_unknown_parameter_names_file_and_suggests(model_path, capsys):
    code, out, err = run_cli("simulate", str(model_path), "--set", "buildng rate=1",
                             capsys=capsys)
    _assert_one_error_line(code, out, err, "trust.mdl", "'buildng rate'",
                           "closest: 'building rate'")


@pytest.mark.parametrize(("args", "fragment"), [
    (["--set", "building rate"], "expected \"Name=value\""),
    (["--set", "building rate=fast"], "'fast' is not a number"),
    (["--method", "rk5"], "unknown method 'rk5'"),
    (["-o", "out.xlsx"], "use a .nc (NetCDF) or .csv"),
], ids=["set without value", "set not a number", "unknown method", "bad output suffix"])
def test_command_line_mistakes(model_path, capsys, args, fragment):
    code, out, err = run_cli("simulate", str(model_path), *args, capsys=capsys)
    _assert_one_error_line(code, out, err, fragment)


@pytest.mark.parametrize("method", ["euler", "BDF"])
def test_simulation_failure_names_the_file(make_model, capsys, method):
    path = make_model([("x", "INTEG(-0.5, 1)"), ("y", "INTEG(SQRT(x), 0)")],
                      name="negroot", final=4)
    code, out, err = run_cli("simulate", str(path), "--method", method, capsys=capsys)
    _assert_one_error_line(code, out, err, "negroot.mdl")


def test_user_error_in_a_subprocess_has_no_traceback(tmp_path):
    missing = tmp_path / "nowhere.mdl"
    done = subprocess.run([sys.executable, "-m", "deterrence", "simulate", str(missing)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith(f"error: {missing}")
    assert "Traceback" not in done.stderr
