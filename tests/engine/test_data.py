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
    (tmp_path / "fake.xls").write_text("not a spreadsheet", encoding="utf-8")
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
    ("v := GET XLS DATA('fake.xls', 'inputs', '1', 'B2')", "cannot read the spreadsheet fake.xls"),
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


# -- subscripted data, constants and lookups -------------------------------------------

RANGE = "Region: north, south, east ~~|\nSub: north, south ~~|\nAge: young, old ~~|\n"
ROWS = {"north": [1, 2, 3, 4], "south": [10, 20, 30, 40], "east": [5, 5, 0, 0]}


@pytest.fixture
def arrays(tmp_path):
    """arrays.xlsx, sheet 'arrays': times in row 1 (B1:E1) and a row per region below;
    a table of constants (rows: regions, columns: ages) at H2; named ranges."""
    book = Workbook()
    sheet = book.active
    sheet.title = "arrays"
    for i, t in enumerate(TIMES):
        sheet.cell(row=1, column=2 + i, value=t)
    for r, values in enumerate(ROWS.values()):
        for i, v in enumerate(values):
            sheet.cell(row=2 + r, column=2 + i, value=v)
    sheet["D3"] = None  # south has no value at time 5: filled as its keyword reads
    for r, row in enumerate([[1, 2], [3, 4], [5, 6]]):
        for c, v in enumerate(row):
            sheet.cell(row=2 + r, column=8 + c, value=v)
    sheet["K2"], sheet["K3"], sheet["K4"] = 7, 8, 9  # a column of three
    sheet["K5"] = "lots"
    from openpyxl.workbook.defined_name import DefinedName

    book.defined_names["column"] = DefinedName("column", attr_text="arrays!$K$2:$K$4")
    book.defined_names["short"] = DefinedName("short", attr_text="arrays!$K$2:$K$3")
    book.save(tmp_path / "arrays.xlsx")
    return tmp_path


def array_model(folder, equations, name="array_model.mdl"):
    path = folder / name
    path.write_text("{UTF-8}\n" + RANGE + "".join(f"{e} ~~|\n" for e in equations)
                    + CONTROLS, encoding="utf-8")
    return deterrence.load(path)


ARR = "'arrays.xlsx', 'arrays'"


def test_a_data_variable_on_a_range_reads_a_row_per_element(arrays):
    """d[Region] reads rows 2-4; south's empty cell at time 5 is left out of its series
    (interpolated from 20 at 2 to 40 at 8; held at 20 with :HOLD BACKWARD:)."""
    ds = array_model(arrays, [
        f"d[Region] := GET XLS DATA({ARR}, '1', 'B2')",
        f"h[Region]:HOLD BACKWARD::= GET XLS DATA({ARR}, '1', 'B2')",
        "twice[Region] = d[Region] * 2",
    ]).simulate(method="euler")
    t = ds["time"].values
    assert ds["d"].dims == ("time", "Region")
    south = ([0, 2, 8], [10, 20, 40])
    for region, values in ROWS.items():
        xs, ys = south if region == "south" else (TIMES, values)
        np.testing.assert_allclose(ds["d"].sel(Region=region).values, np.interp(t, xs, ys))
        np.testing.assert_allclose(ds["twice"].sel(Region=region).values,
                                   2 * np.interp(t, xs, ys))
        held = np.asarray(ys, float)[np.searchsorted(xs, t, side="right") - 1]
        np.testing.assert_array_equal(ds["h"].sel(Region=region).values, held)


def test_subscripted_data_down_columns_of_a_csv_and_from_named_ranges(arrays):
    """Times down column A of a CSV, a column per element from B; and in the workbook,
    times and values as named ranges (values: a row per element beside a row of
    times)."""
    (arrays / "cols.csv").write_text("t,n,s,e\n0,1,10,5\n4,3,,7\n8,5,30,9\n",
                                     encoding="utf-8")
    from openpyxl import load_workbook
    from openpyxl.workbook.defined_name import DefinedName

    book = load_workbook(arrays / "arrays.xlsx")
    book.defined_names["times"] = DefinedName("times", attr_text="arrays!$B$1:$E$1")
    book.defined_names["values"] = DefinedName("values", attr_text="arrays!$B$2:$E$4")
    book.save(arrays / "arrays.xlsx")
    ds = array_model(arrays, [
        "c[Region] := GET DIRECT DATA('cols.csv', ',', 'A', 'B2')",
        f"n[Region] := GET XLS DATA({ARR}, 'times', 'values')",
    ]).simulate(method="euler")
    t = ds["time"].values
    for region, ys in (("north", [1, 3, 5]), ("east", [5, 7, 9])):
        np.testing.assert_allclose(ds["c"].sel(Region=region), np.interp(t, [0, 4, 8], ys))
    np.testing.assert_allclose(ds["c"].sel(Region="south"), np.interp(t, [0, 8], [10, 30]))
    np.testing.assert_allclose(ds["n"].sel(Region="east"), np.interp(t, TIMES, ROWS["east"]))


def test_data_defined_by_parts_mixes_files_and_numbers(arrays):
    ds = array_model(arrays, [
        f"d[north] := GET XLS DATA({ARR}, '1', 'B4')",  # east's row, for north
        "d[south] = 7",
        f"d[east] := GET XLS DATA({ARR}, '1', 'B2')",
    ]).simulate(method="euler")
    t = ds["time"].values
    np.testing.assert_allclose(ds["d"].sel(Region="north"), np.interp(t, TIMES, ROWS["east"]))
    np.testing.assert_array_equal(ds["d"].sel(Region="south"), 7.0)
    np.testing.assert_allclose(ds["d"].sel(Region="east"), np.interp(t, TIMES, ROWS["north"]))


def test_subscripted_data_on_the_run_axis_of_an_ensemble(arrays):
    ds = array_model(arrays, [
        f"d[Region] := GET XLS DATA({ARR}, '1', 'B2')", "k = 1",
        "y[Region] = d[Region] * k", "s[Region] = INTEG(d[Region], 0)",
    ]).simulate(method="euler", params={"k": [1.0, 3.0]})
    assert ds["y"].dims == ("time", "run", "Region")
    north = np.interp(ds["time"].values, TIMES, ROWS["north"])
    np.testing.assert_allclose(ds["y"].sel(Region="north").values, np.c_[north, 3 * north])
    # Euler: the stock at 10 sums d over the steps of 0.5 before it
    np.testing.assert_allclose(ds["s"].sel(Region="north").isel(time=-1).values,
                               0.5 * north[:-1].sum())


def test_get_constants_fill_rows_columns_tables_and_subranges(arrays):
    ds = array_model(arrays, [
        f"row[Age] = GET DIRECT CONSTANTS({ARR}, 'H2')",
        f"col[Region] = GET DIRECT CONSTANTS({ARR}, 'K2*')",
        f"named[Region] = GET DIRECT CONSTANTS({ARR}, 'column*')",
        f"table[Region, Age] = GET DIRECT CONSTANTS({ARR}, 'H2')",
        f"flipped[Age, Region] = GET DIRECT CONSTANTS({ARR}, 'H2*')",
        f"part[Sub] = GET DIRECT CONSTANTS({ARR}, 'K3*')", "part[east] = -1",
    ]).simulate(method="euler")
    np.testing.assert_array_equal(ds["row"].sel(Age=["young", "old"]), [1, 2])
    np.testing.assert_array_equal(ds["col"].sel(Region=list(ROWS)), [7, 8, 9])
    np.testing.assert_array_equal(ds["named"].sel(Region=list(ROWS)), [7, 8, 9])
    table = ds["table"].transpose("Region", "Age").sel(Region=list(ROWS))
    np.testing.assert_array_equal(table.values, [[1, 2], [3, 4], [5, 6]])
    flipped = ds["flipped"].transpose("Age", "Region").sel(Region=list(ROWS))
    np.testing.assert_array_equal(flipped.values, [[1, 3, 5], [2, 4, 6]])
    np.testing.assert_array_equal(ds["part"].sel(Region=list(ROWS)), [8, 9, -1])


def test_get_lookups_on_a_range_reads_a_table_per_element(arrays):
    ds = array_model(arrays, [f"tab[Region](GET XLS LOOKUPS({ARR}, '1', 'B2'))",
                              "y[Region] = tab[Region](Time / 2)"]).simulate(method="euler")
    half = ds["time"].values / 2
    np.testing.assert_allclose(ds["y"].sel(Region="east"), np.interp(half, TIMES, ROWS["east"]))
    np.testing.assert_allclose(ds["y"].sel(Region="south"),
                               np.interp(half, [0, 2, 8], [10, 20, 40]))


@pytest.mark.parametrize(("equation", "message"), [
    (f"k[Region] = GET DIRECT CONSTANTS({ARR}, 'short*')",
     "named range 'short' of arrays.xlsx has 2x1 cells, but the subscripts need 3x1"),
    (f"k[Region] = GET DIRECT CONSTANTS({ARR}, 'B4*')",
     "cell B5 is empty; GET CONSTANTS .transposed, '\\*'. reads 3x1 cells from B4"),
    (f"k[Region] = GET DIRECT CONSTANTS({ARR}, 'K3*')", "cell K5 holds 'lots'"),
    (f"k[Region] = GET DIRECT CONSTANTS({ARR}, 'nowhere')",
     "'nowhere' is neither a cell such as 'B2' nor a named range of arrays.xlsx"),
    ("d[Region] := GET XLS DATA('gone.xlsx', 'arrays', '1', 'B2')",
     "'gone.xlsx' does not exist"),
    (f"d[Region, Age] := GET XLS DATA({ARR}, '1', 'B2')", "fills 2 subscript ranges"),
    (f"d[Region] := GET XLS DATA({ARR}, '1', 'B3')",  # rows 3-5: row 5 is empty
     "every value of element 3 .east. from 'B3' on is empty"),
    (f"tab[Region](GET XLS LOOKUPS({ARR}, '1', 'B3'))",
     "GET LOOKUPS in 'tab': every value of element 3 .east. from 'B3' on is empty"),
    (f"d[Region] := GET XLS DATA({ARR}, '1', 'J2')", "cell J1 .the x values along '1'. is empty"),
    (f"d[Region] := GET XLS DATA({ARR}, 'column', 'short')",
     "'short' of arrays.xlsx has 2x1 cells, but 3 x values .'column'. and 3 element.s. "
     "need 3x3"),
])
def test_bad_subscripted_reads_name_the_file_the_cells_and_the_variable(arrays, equation,
                                                                          message):
    with pytest.raises(deterrence.ModelError, match=message) as info:
        array_model(arrays, [equation, "y = 1"])
    text = str(info.value)
    assert "array_model.mdl:5:" in text  # the line of the equation
    assert f"'{equation.split('[')[0]}'" in text


def test_a_text_cell_in_a_subscripted_data_row_is_an_error(arrays):
    book_path = arrays / "arrays.xlsx"
    from openpyxl import load_workbook

    book = load_workbook(book_path)
    book["arrays"]["C3"] = "n/a"
    book.save(book_path)
    with pytest.raises(deterrence.ModelError, match="cell C3 holds 'n/a', not a number"):
        array_model(arrays, [f"d[Region] := GET XLS DATA({ARR}, '1', 'B2')"])


def test_get_direct_subscript_reads_ranges_from_a_sheet_a_csv_and_a_named_range(tmp_path):
    """Element names from cells (numbers after a prefix, text as it is), read row by row;
    constants then fill the ranges read."""
    book = Workbook()
    sheet = book.active
    sheet.title = "dims"
    for c, v in enumerate([1, 2, 3]):
        sheet.cell(row=1, column=2 + c, value=v)  # B1:D1
        sheet.cell(row=2, column=2 + c, value=10 * (c + 1))  # B2:D2
    sheet["F1"], sheet["F2"] = "left", "right"
    from openpyxl.workbook.defined_name import DefinedName

    book.defined_names["sides"] = DefinedName("sides", attr_text="dims!$F$1:$F$2")
    book.save(tmp_path / "dims.xlsx")
    (tmp_path / "kinds.csv").write_text("x\ny\nz\n", encoding="utf-8")
    path = tmp_path / "dims_model.mdl"
    path.write_text("{UTF-8}\n"
                    "Depth: GET DIRECT SUBSCRIPT('dims.xlsx', 'dims', 'B1', 'D1', 'd') ~~|\n"
                    "Kind: GET DIRECT SUBSCRIPT('kinds.csv', ',', 'A1', 'A', '') ~~|\n"
                    "Side: GET XLS SUBSCRIPT('dims.xlsx', 'dims', 'sides', '', 's ') ~~|\n"
                    "k[Depth] = GET DIRECT CONSTANTS('dims.xlsx', 'dims', 'B2') ~~|\n"
                    "n[Kind, Side] = 1 ~~|\n" + CONTROLS, encoding="utf-8")
    ds = deterrence.load(path).simulate(method="euler")
    assert list(ds["k"].coords["Depth"].values) == ["d1", "d2", "d3"]
    np.testing.assert_array_equal(ds["k"].values, [10, 20, 30])
    assert list(ds["n"].coords["Kind"].values) == ["x", "y", "z"]
    assert list(ds["n"].coords["Side"].values) == ["s left", "s right"]


@pytest.mark.parametrize(("definition", "message"), [
    ("GET DIRECT SUBSCRIPT('none.xlsx', 'inputs', 'A1', 'A3', '')", "'none.xlsx' does not exist"),
    ("GET DIRECT SUBSCRIPT('inputs.xlsx', 'inputs', 'C20', 'D22', '')",
     "no element names in inputs.xlsx, sheet 'inputs', cell C20 to D22"),
])
def test_a_range_that_cannot_be_read_is_an_error_naming_the_range(folder, definition,
                                                                   message):
    path = folder / "dims_model.mdl"
    path.write_text("{UTF-8}\nPlace: " + definition + " ~~|\nx[Place] = 1 ~~|\n" + CONTROLS,
                    encoding="utf-8")
    with pytest.raises(deterrence.ModelError, match=message) as info:
        deterrence.load(path)
    assert "dims_model.mdl:2:" in str(info.value)
    assert "subscript range 'Place'" in str(info.value)
