"""Data variables and external files: GET XLS/DIRECT DATA, CONSTANTS and LOOKUPS, the data
keywords, GET DATA AT TIME / FIRST TIME / LAST TIME, and the errors for bad files."""

from __future__ import annotations

import numpy as np
import pytest
from openpyxl import Workbook

import deterrence

CONTROLS = """INITIAL TIME = 0 ~~|
FINAL TIME = 10 ~~|
TIME STEP = 0.5 ~~|
SAVEPER = 0.5 ~~|
"""
TIMES, VALUES = [0, 2, 5, 8], [1, 3, 4, 10]


@pytest.fixture
def folder(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.title = "inputs"
    for i, (t, v) in enumerate(zip(TIMES, VALUES, strict=True)):  # times in row 1 from B
        sheet.cell(row=1, column=2 + i, value=t)
        sheet.cell(row=2, column=2 + i, value=v)
    sheet["A5"] = 42.5
    sheet["A6"] = "forty"
    sheet["A7"] = "=1+1"  # a formula without a saved value: never evaluated
    for i, (x, y) in enumerate([(0, 0), (1, 10), (3, 20)]):  # x in column A from row 9
        sheet.cell(row=9 + i, column=1, value=x)
        sheet.cell(row=9 + i, column=2, value=y)
    book.save(tmp_path / "inputs.xlsx")
    # a column-wise CSV with a missing value at time 4
    (tmp_path / "series.csv").write_text("time,value\n0,10\n2,20\n4,\n6,40\n",
                                         encoding="utf-8")
    return tmp_path


def model(folder, equations):
    path = folder / "data_model.mdl"
    path.write_text("{UTF-8}\n" + "".join(f"{e} ~~|\n" for e in equations) + CONTROLS,
                    encoding="utf-8")
    return deterrence.load(path)


XLS = "'inputs.xlsx', 'inputs', '1', 'B2'"


def test_data_keywords_and_constants_and_lookups(folder):
    ds = model(folder, [
        f"linear := GET XLS DATA({XLS})",
        f"held:HOLD BACKWARD::= GET XLS DATA({XLS})",
        f"ahead:LOOK FORWARD::= GET XLS DATA({XLS})",
        "k = GET XLS CONSTANTS('inputs.xlsx', 'inputs', 'A5')",
        "table(GET XLS LOOKUPS('inputs.xlsx', 'inputs', 'A', 'B9'))",
        "looked = table(Time)",
    ]).simulate(method="euler")
    t = ds["time"].values
    np.testing.assert_allclose(ds["linear"].values, np.interp(t, TIMES, VALUES))
    idx = np.searchsorted(TIMES, t, side="right") - 1
    np.testing.assert_array_equal(ds["held"].values, np.asarray(VALUES, float)[idx])
    fwd = np.minimum(np.searchsorted(TIMES, t, side="left"), len(TIMES) - 1)
    np.testing.assert_array_equal(ds["ahead"].values, np.asarray(VALUES, float)[fwd])
    assert float(ds["k"]) == 42.5
    np.testing.assert_allclose(ds["looked"].values, np.interp(t, [0, 1, 3], [0, 10, 20]))


def test_a_constant_from_a_file_is_a_parameter(folder):
    m = model(folder, ["k = GET DIRECT CONSTANTS('inputs.xlsx', 'inputs', 'A5')",
                       "s = INTEG(k, 0)"])
    ds = m.simulate(method="euler", params={"k": [1, 2]})
    np.testing.assert_allclose(ds["s"].isel(time=-1).values, [10, 20])


def test_csv_data_by_column_with_a_missing_value(folder):
    """GET DIRECT DATA from a CSV ('A': times down column A from row 2): the empty value
    at time 4 is missing, so the data interpolate from 20 at 2 to 40 at 6."""
    ds = model(folder, ["v := GET DIRECT DATA('series.csv', ',', 'A', 'B2')",
                        "at = GET DATA AT TIME(v, 4)",
                        "first = GET DATA FIRST TIME(v)", "last = GET DATA LAST TIME(v)"]
               ).simulate(method="euler")
    t = ds["time"].values
    np.testing.assert_allclose(ds["v"].values, np.interp(t, [0, 2, 6], [10, 20, 40]))
    assert float(ds["at"]) == 30.0
    assert float(ds["first"]) == 0.0
    assert float(ds["last"]) == 6.0


def test_adaptive_methods_integrate_held_data_exactly(folder):
    """INTEG of data held backward: steps at the data times (switch times), so the
    integral at 10 is 1*2 + 3*3 + 4*3 + 10*2 = 43."""
    m = model(folder, [f"held:HOLD BACKWARD::= GET XLS DATA({XLS})", "s = INTEG(held, 0)"])
    assert float(m.simulate(method="RK45")["s"].isel(time=-1)) == pytest.approx(43, abs=1e-6)
    assert float(m.simulate(method="euler")["s"].isel(time=-1)) == pytest.approx(43)


@pytest.mark.parametrize(("equation", "message"), [
    ("v := GET XLS DATA('absent.xlsx', 'inputs', '1', 'B2')", "'absent.xlsx' does not exist"),
    ("v := GET XLS DATA('inputs.xlsx', 'nosheet', '1', 'B2')", "no sheet 'nosheet'"),
    ("v := GET XLS DATA('inputs.xlsx', 'inputs', '1', 'B2B')", "not a cell"),
    ("k = GET XLS CONSTANTS('inputs.xlsx', 'inputs', 'A6')", "cell A6 holds 'forty'"),
    ("k = GET XLS CONSTANTS('inputs.xlsx', 'inputs', 'A7')", "cell A7 is empty"),
    ("k = GET XLS CONSTANTS('inputs.xlsx', 'inputs', 'Z99')", "cell Z99 is empty"),
    ("v := GET XLS DATA('../inputs.xlsx', 'inputs', '1', 'B2')", "outside the model's folder"),
    ("v := GET DIRECT DATA('series.csv', ',', '1', 'B2')", "holds 'value', not a number"),
])
def test_bad_data_files_are_errors_naming_file_sheet_cell_and_variable(folder, equation,
                                                                       message):
    name = equation.split()[0]
    with pytest.raises(deterrence.ModelError, match=message) as info:
        model(folder, [equation, "y = 1"])
    text = str(info.value)
    assert "data_model.mdl" in text
    assert f"'{name}'" in text
    assert "data_model.mdl:2:" in text  # the line of the equation


def test_raw_data_and_data_without_an_equation_are_refused(folder):
    with pytest.raises(deterrence.UnsupportedError, match=":RAW:"):
        model(folder, [f"v:RAW::= GET XLS DATA({XLS})"])
    with pytest.raises(deterrence.UnsupportedError, match="no equation"):
        model(folder, ["v:INTERPOLATE:", "y = v"])


def test_data_files_are_read_when_the_model_is_loaded(folder):
    """Changing the file after loading changes nothing: it was read once."""
    m = model(folder, ["v := GET DIRECT DATA('series.csv', ',', 'A', 'B2')"])
    (folder / "series.csv").write_text("time,value\n0,0\n6,0\n", encoding="utf-8")
    assert float(m.simulate(method="euler")["v"].isel(time=0)) == 10.0


def test_the_command_line_reports_a_missing_data_file_in_one_line(folder, capsys):
    from deterrence.cli import EXIT_USER_ERROR, main

    path = folder / "cli_model.mdl"
    path.write_text("{UTF-8}\nv := GET DIRECT DATA('gone.csv', ',', 'A', 'B2') ~~|\n"
                    + CONTROLS, encoding="utf-8")
    code = main(["simulate", str(path), "--method", "euler"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == EXIT_USER_ERROR
    assert len(err) == 1
    assert err[0].startswith("error: ")
    assert "cli_model.mdl:2" in err[0]
    assert "'gone.csv' does not exist" in err[0]
