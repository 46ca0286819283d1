"""Subscripts (Vensim arrays) in the compiled engine: ranges as named axes of the arrays
and of the Dataset, definitions element by element, subranges, :EXCEPT:, mappings,
copies, numeric ranges, transposition, up-dimensioning and the array functions.

Each model is written here; expected values are computed by hand (Euler steps), or by
PySD's own run of the same file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from mdl_support import mdl_text

import deterrence
from deterrence.results import to_table

RANGES = """
Region: north, south, east
\t~\t~\t|
Sub: north, south
\t~\t~\t|
Age: young, old
\t~\t~\t|
"""


def write(tmp_path: Path, equations, ranges: str = RANGES, **controls) -> Path:
    path = tmp_path / "arrays.mdl"
    text = mdl_text(equations, **controls)
    path.write_text(text.replace("{UTF-8}\n", "{UTF-8}\n" + ranges, 1), encoding="utf-8")
    return path


def run(tmp_path: Path, equations, ranges: str = RANGES, **kw):
    controls = {k: kw.pop(k) for k in ("final", "step") if k in kw}
    return deterrence.load(write(tmp_path, equations, ranges, **controls)).simulate(
        method=kw.pop("method", "euler"), **kw)


def test_a_subscripted_stock_grows_element_by_element_on_a_named_dimension(tmp_path):
    ds = run(tmp_path, [
        ("Population[Region]", "INTEG(growth[Region], initial population[Region])"),
        ("initial population[Region]", "10, 20, 30"),
        ("growth[Region]", "rate * Population[Region]"),
        ("rate", "0.1"),
    ], final=2, step=1)
    assert ds["population"].dims == ("time", "Region")
    assert list(ds["Region"].values) == ["north", "south", "east"]
    expected = np.array([10, 20, 30.0]) * 1.1 ** np.arange(3)[:, None]
    np.testing.assert_allclose(ds["population"].values, expected)
    assert ds["initial_population"].dims == ("Region",)


def test_element_by_element_and_except_definitions_assemble_one_array(tmp_path):
    ds = run(tmp_path, [
        ("x[north]", "1"), ("x[south]", "Time"), ("x[east]", "3"),
        ("y[Region] :EXCEPT: [south]", "5 * x[Region]"), ("y[south]", "-1"),
    ], final=2, step=1)
    np.testing.assert_allclose(ds["x"].values, [[1, 0, 3], [1, 1, 3], [1, 2, 3]])
    np.testing.assert_allclose(ds["y"].sel(Region="north").values, 5.0)
    np.testing.assert_allclose(ds["y"].sel(Region="south").values, -1.0)
    np.testing.assert_allclose(ds["y"].sel(Region="east").values, 15.0)


def test_a_constant_defined_by_elements_is_folded_into_one_array(tmp_path):
    ds = run(tmp_path, [("k[north]", "1"), ("k[south]", "2"), ("k[east]", "4"),
                        ("total", "SUM(k[Region!])")])
    assert ds["k"].dims == ("Region",)
    assert float(ds["total"]) == 7.0


def test_subranges_take_their_elements_and_write_their_slice(tmp_path):
    ds = run(tmp_path, [
        ("v[Region]", "1, 2, 3"),
        ("w[Sub]", "v[Sub] * 10"),
        ("z[Sub]", "100"), ("z[east]", "v[east]"),
    ])
    assert ds["w"].dims == ("Sub",)
    np.testing.assert_allclose(ds["w"].values, [10, 20])
    assert ds["z"].dims == ("Region",)
    np.testing.assert_allclose(ds["z"].values, [100, 100, 3])


def test_up_dimensioning_and_transposition_broadcast_by_axis_name(tmp_path):
    ds = run(tmp_path, [
        ("a[Region]", "1, 2, 3"), ("b[Age]", "10, 20"),
        ("m[Region, Age]", "a[Region] + b[Age] * Time"),
        ("t[Age, Region]", "m[Region, Age]"),
        ("row[Region]", "SUM(m[Region, Age!])"),
        ("col[Age]", "VMAX(m[Region!, Age])"),
    ], final=1, step=1)
    m = ds["m"].values  # (time, Region, Age)
    np.testing.assert_allclose(m[1], np.array([1, 2, 3.0])[:, None] + [10, 20])
    assert ds["t"].dims == ("time", "Age", "Region")
    np.testing.assert_allclose(ds["t"].values, np.swapaxes(m, 1, 2))
    np.testing.assert_allclose(ds["row"].values, m.sum(axis=2))
    np.testing.assert_allclose(ds["col"].values, m.max(axis=1))


def test_the_array_functions_reduce_over_the_marked_range(tmp_path):
    ds = run(tmp_path, [
        ("v[Region]", "2, 3, 4"),
        ("s", "SUM(v[Region!])"), ("p", "PROD(v[Region!])"),
        ("lo", "VMIN(v[Region!])"), ("hi", "VMAX(v[Region!] * Time)"),
        ("n", "ELMCOUNT(Region)"), ("position[Region]", "Region"),
    ], final=2, step=1)
    assert (float(ds["s"]), float(ds["p"]), float(ds["lo"]), float(ds["n"])) == (
        9.0, 24.0, 2.0, 3.0)
    np.testing.assert_allclose(ds["hi"].values, [0, 4, 8])
    np.testing.assert_allclose(ds["position"].values, [1, 2, 3])


def test_mappings_copies_and_numeric_ranges(tmp_path):
    ranges = """
A: (a1-a3)
\t~\t~\t|
B: b1, b2, b3 -> A
\t~\t~\t|
C <-> A
\t~\t~\t|
"""
    ds = run(tmp_path, [
        ("x[A]", "1, 2, 3"), ("y[B]", "x[A] * 2"), ("z[C]", "x[a2]"),
        ("cross[A, C]", "x[A] * 10 + z[C]"),
    ], ranges=ranges)
    assert list(ds["A"].values) == ["a1", "a2", "a3"]
    np.testing.assert_allclose(ds["y"].values, [2, 4, 6])
    assert list(ds["C"].values) == ["a1", "a2", "a3"]
    np.testing.assert_allclose(ds["cross"].values, np.broadcast_to(
        np.array([10, 20, 30.0])[:, None] + 2, (3, 3)))


def test_subscripted_models_run_with_rk4_adaptive_methods_and_ensembles(tmp_path):
    equations = [("s[Region]", "INTEG(-k[Region] * s[Region], 1)"), ("k[Region]", "1, 2, 3"),
                 ("scale", "1"), ("out[Region]", "s[Region] * scale")]
    for method in ("rk4", "RK45"):
        ds = run(tmp_path, equations, final=1, step=0.01, method=method, rtol=1e-8,
                 atol=1e-10)
        np.testing.assert_allclose(ds["s"].values[-1], np.exp(-np.array([1, 2, 3.0])),
                                   rtol=1e-5)
    ds = run(tmp_path, equations, final=1, step=0.5, params={"scale": [1.0, 2.0]})
    assert ds["out"].dims == ("time", "run", "Region")
    np.testing.assert_allclose(ds["out"].values[:, 1], 2 * ds["out"].values[:, 0])


def test_the_csv_table_names_columns_as_vensim_does(tmp_path):
    ds = run(tmp_path, [("m[Region, Age]", "1, 2; 3, 4; 5, 6")], final=1, step=1)
    table = to_table(ds)
    assert "m[south,old]" in table.columns
    assert table["m[south,old]"].iloc[0] == 4.0


def test_a_subscripted_model_matches_pysd(tmp_path):
    pysd = pytest.importorskip("pysd")
    path = write(tmp_path, [
        ("stock[Region, Age]", "INTEG(inflow[Region, Age] - outflow[Region, Age], 5)"),
        ("inflow[Region, Age]", "share[Age] * base[Region] * (1 + SIN(Time))"),
        ("outflow[Region, Age]", "stock[Region, Age] / delay[Age]"),
        ("share[Age]", "0.3, 0.7"), ("base[Region]", "1, 2, 3"), ("delay[young]", "2"),
        ("delay[old]", "5"), ("total[Region]", "SUM(stock[Region, Age!])"),
    ], final=5, step=0.25)
    ours = deterrence.load(path).simulate(method="euler")
    theirs = pysd.read_vensim(str(path)).run(return_columns=["total"])
    for region in ("north", "south", "east"):
        np.testing.assert_allclose(ours["total"].sel(Region=region).values,
                                   theirs[f"total[{region}]"].values, rtol=1e-9)


# -- refused or wrong input: errors naming the variable and the line -------------------


def test_an_element_defined_twice_is_an_error_naming_it(tmp_path):
    with pytest.raises(deterrence.ModelError, match=r"x\[south\] is defined more than once"
                       ) as info:
        deterrence.load(write(tmp_path, [("x[Region]", "1"), ("x[south]", "2")]))
    assert info.value.line is not None


def test_a_range_missing_from_the_left_hand_side_is_an_error(tmp_path):
    with pytest.raises(deterrence.ModelError, match="'Age', which its left-hand side"):
        deterrence.load(write(tmp_path, [("b[Age]", "1, 2"), ("y[Region]", "b[Age]")]))
    with pytest.raises(deterrence.ModelError, match="is not subscripted, but its equation"):
        deterrence.load(write(tmp_path, [("b[Age]", "1, 2"), ("y", "b[Age]")]))


def test_a_wrong_element_or_range_in_a_reference_is_an_error(tmp_path):
    with pytest.raises(deterrence.ModelError, match="'young' is not an element of 'Region'"):
        deterrence.load(write(tmp_path, [("v[Region]", "1, 2, 3"), ("y", "v[young]")]))


def test_a_mapping_of_the_wrong_length_is_an_error(tmp_path):
    ranges = "A: a1, a2\n\t~\t~\t|\nB: b1, b2, b3 -> A\n\t~\t~\t|\n"
    with pytest.raises(deterrence.ModelError, match="mapped to"):
        deterrence.load(write(tmp_path, [("x[A]", "1, 2")], ranges=ranges))


def test_subscripted_lookups_read_each_elements_table(tmp_path):
    tables = RANGES + (
        "tab[north](\n\t(0,0),(10,10))\n\t~\t~\t|\n"
        "tab[south](\n\t(0,1),(1,2),(2,0))\n\t~\t~\t|\n"
        "tab[east](\n\t(5,7),(6,7))\n\t~\t~\t|\n")
    ds = run(tmp_path, [("y[Region]", "tab[Region](Time)"), ("one", "tab[south](0.5)"),
                        ("both[Region, Age]", "tab[Region](x[Age])"), ("x[Age]", "1, 20")],
             ranges=tables, final=3, step=0.5)
    t = ds["time"].values
    np.testing.assert_allclose(ds["y"].sel(Region="north").values, t)
    np.testing.assert_allclose(ds["y"].sel(Region="south").values, np.interp(t, [0, 1, 2],
                                                                             [1, 2, 0]))
    np.testing.assert_allclose(ds["y"].sel(Region="east").values, 7.0)
    assert float(ds["one"]) == 1.5
    np.testing.assert_allclose(ds["both"].values, [[1, 10], [2, 0], [7, 7]])


def test_subscripted_lookups_by_except_and_with_undefined_elements(tmp_path):
    """tab[Region] :EXCEPT: [south] gets one table, tab[south] another; part[north] and
    part[east] leave south undefined: its table is NaN, as any undefined element."""
    tables = RANGES + (
        "tab[Region] :EXCEPT: [south](\n\t(0,0),(10,10))\n\t~\t~\t|\n"
        "tab[south](\n\t(0,5),(10,5))\n\t~\t~\t|\n"
        "part[north](\n\t(0,1),(10,2))\n\t~\t~\t|\n"
        "part[east](\n\t(0,3),(10,3))\n\t~\t~\t|\n")
    ds = run(tmp_path, [("y[Region]", "tab[Region](Time)"),
                        ("p[Region]", "part[Region](Time)")], ranges=tables, final=2, step=1)
    np.testing.assert_allclose(ds["y"].isel(time=-1).values, [2, 5, 2])
    np.testing.assert_allclose(ds["p"].isel(time=-1).values, [1.2, np.nan, 3])


def test_lookup_functions_on_subscripted_lookups_are_refused_by_name(tmp_path):
    tables = RANGES + "tab[Sub](\n\t(0,0),(10,10))\n\t~\t~\t|\n"
    with pytest.raises(deterrence.UnsupportedError, match="LOOKUP EXTRAPOLATE") as info:
        deterrence.load(write(tmp_path, [("y", "LOOKUP EXTRAPOLATE(tab[north], 3)")],
                              ranges=tables))
    assert info.value.variable == "y"


def test_the_native_backend_refuses_subscripts_and_auto_runs_them_on_numpy(tmp_path):
    pytest.importorskip("numba")
    model = deterrence.load(write(tmp_path, [("s[Region]", "INTEG(1, 0)")]))
    with pytest.raises(deterrence.UnsupportedError, match="subscripted"):
        model.simulate(method="euler", backend="native")
    ds = model.simulate(method="euler", backend="auto")
    assert ds.attrs["backend"] == "numpy"
    np.testing.assert_allclose(ds["s"].values[-1], 10.0)


def test_an_array_function_without_a_marked_range_is_an_error(tmp_path):
    with pytest.raises(deterrence.ModelError, match=r"VMAX in 'y' has no range"):
        deterrence.load(write(tmp_path, [("y", "VMAX(3)")]))


def test_subscripted_smooth_delay_and_trend_match_pysd(tmp_path):
    """The hidden stocks of the stateful functions span their equation's ranges."""
    pysd = pytest.importorskip("pysd")
    path = write(tmp_path, [
        ("input[Region]", "base[Region] * (1 + STEP(1, 2) + 0.5 * SIN(Time))"),
        ("base[Region]", "1, 2, 3"), ("tau[Region]", "1, 2, 4"),
        ("smoothed[Region]", "SMOOTH(input[Region], tau[Region])"),
        ("smoothed3[Region]", "SMOOTH3I(input[Region], 2, 5)"),
        ("delayed[Region]", "DELAY1(input[Region], tau[Region])"),
        ("delayed3[Region]", "DELAY3(input[Region], 3)"),
        ("delayedn[Region]", "DELAY N(input[Region], tau[Region], base[Region], 4)"),
        ("trended[Region]", "TREND(input[Region], 2, 0)"),
        ("snapshot[Region]", "INITIAL(input[Region] * 2)"),
        ("mixed[Region, Age]", "SMOOTH(input[Region] * weight[Age], 3)"),
        ("weight[Age]", "1, 10"),
    ], final=6, step=0.125)
    ours = deterrence.load(path).simulate(method="euler")
    names = ["smoothed", "smoothed3", "delayed", "delayed3", "delayedn", "trended",
             "snapshot", "mixed"]
    theirs = pysd.read_vensim(str(path)).run(return_columns=names)
    for name in names:
        da = ours[name].broadcast_like(ours["time"]).transpose("time", ...)
        axes = [d for d in da.dims if d != "time"]
        for index in np.ndindex(*da.shape[1:]):
            labels = [str(da[a].values[i]) for a, i in zip(axes, index, strict=True)]
            column = f"{name}[{','.join(labels)}]"
            np.testing.assert_allclose(da.values[(slice(None), *index)],
                                       theirs[column].values, rtol=1e-7, atol=1e-9,
                                       err_msg=column)


def test_invert_matrix_sort_order_and_rank_match_numpy_and_pysd(tmp_path):
    pysd = pytest.importorskip("pysd")
    ranges = RANGES + "Col: c1, c2, c3\n\t~\t~\t|\n"
    path = write(tmp_path, [
        ("m[Region, Col]", "2, 1, 0; 1, 3, 1; 0, 1, 4"),
        ("inverse[Region, Col]", "INVERT MATRIX(m[Region, Col], 3)"),
        ("v[north]", "3 - 1.5 * Time"), ("v[south]", "1"), ("v[east]", "2"),
        ("order up[Region]", "VECTOR SORT ORDER(v[Region], 1)"),
        ("order down[Region]", "VECTOR SORT ORDER(v[Region], -1)"),
        ("ranks[Region]", "VECTOR RANK(v[Region], 1)"),
    ], ranges=ranges, final=2, step=1)
    ours = deterrence.load(path).simulate(method="euler")
    m = np.array([[2, 1, 0], [1, 3, 1], [0, 1, 4.0]])
    np.testing.assert_allclose(ours["inverse"].values, np.linalg.inv(m))
    np.testing.assert_allclose(ours["order_up"].values[0], [1, 2, 0])
    np.testing.assert_allclose(ours["order_down"].values[0], [0, 2, 1])
    np.testing.assert_allclose(ours["ranks"].values[0], [3, 1, 2])
    theirs = pysd.read_vensim(str(path)).run(return_columns=["order up", "order down",
                                                             "ranks"])
    for name in ("order_up", "order_down", "ranks"):
        for k, region in enumerate(("north", "south", "east")):
            column = f"{ours[name].attrs['vensim_name']}[{region}]"
            np.testing.assert_allclose(ours[name].values[:, k], theirs[column].values)


def test_invert_matrix_of_the_wrong_size_is_an_error(tmp_path):
    with pytest.raises(deterrence.ModelError, match="square matrix of size 2"):
        deterrence.load(write(tmp_path, [("m[Region, Age]", "1"),
                                         ("i[Region, Age]", "INVERT MATRIX(m[Region, Age], 2)")]))


def test_an_ambiguous_parent_range_is_an_error_not_a_guess(tmp_path):
    ranges = RANGES + "Other: south, east\n\t~\t~\t|\n"
    with pytest.raises(deterrence.ModelError, match="could stand for"):
        deterrence.load(write(tmp_path, [("v[Region]", "1, 2, 3"),
                                         ("y[Sub, Other]", "v[Region]")], ranges=ranges))


def test_setting_a_subscripted_constant_is_refused_with_the_reason(tmp_path):
    model = deterrence.load(write(tmp_path, [("v[Region]", "1, 2, 3")]))
    with pytest.raises(deterrence.ParameterError, match="is subscripted"):
        model.simulate(params={"v": 2.0})


def test_delay_fixed_and_sample_if_true_on_subscripts_keep_a_pipe_per_element(tmp_path):
    """DELAY FIXED with a delay time per element; SAMPLE IF TRUE on (Region, Age) whose
    condition varies by region and by run, and whose input varies by age: each element
    follows its input while its condition holds, then keeps its last sample."""
    ds = run(tmp_path, [
        ("v[Region]", "1, 2, 3"), ("lag[Region]", "1, 2, 0.5"), ("off[Age]", "10, 20"),
        ("late[Region]", "DELAY FIXED(v[Region] * Time, lag[Region], -1)"), ("k", "1"),
        ("held[Region, Age]", "SAMPLE IF TRUE(Time < v[Region] * k, Time + off[Age], -5)"),
    ], final=4, step=0.5, params={"k": [1.0, 2.0]})
    t = ds["time"].values
    assert ds["held"].dims == ("time", "run", "Region", "Age")
    for region, v, lag in [("north", 1, 1), ("south", 2, 2), ("east", 3, 0.5)]:
        expected = np.where(t >= lag, v * (t - lag), -1.0)
        np.testing.assert_allclose(ds["late"].sel(Region=region).values[:, 0], expected)
        for j, k in enumerate([1.0, 2.0]):
            last = t[t < v * k][-1]  # the last time the condition held
            for age, off in (("young", 10), ("old", 20)):
                np.testing.assert_allclose(
                    ds["held"].sel(Region=region, Age=age).values[:, j],
                    np.minimum(t, last) + off)


def test_subscripted_delay_n_with_a_changing_delay_matches_its_scalar_copies(tmp_path):
    """DELAY N keeps each stage's delay time of k steps ago (pipes of the delay time):
    element by element, the subscripted delay equals the same delay written per element."""
    equations = [("base[Region]", "1, 2, 3"), ("inp[Region]", "base[Region] * STEP(5, 1)"),
                 ("dt[Region]", "base[Region] + Time / 4"),
                 ("out[Region]", "DELAY N(inp[Region], dt[Region], 0, 3)")]
    for region, b in (("north", 1), ("south", 2), ("east", 3)):
        equations.append((f"one {region}", f"DELAY N({b} * STEP(5, 1), {b} + Time / 4, 0, 3)"))
    ds = run(tmp_path, equations, final=8, step=0.25)
    for region in ("north", "south", "east"):
        np.testing.assert_allclose(ds["out"].sel(Region=region).values,
                                   ds[f"one_{region}"].values, rtol=1e-12, atol=1e-12)
    assert float(ds["out"].sel(Region="east").isel(time=-1)) > 1  # it has delivered


def test_a_variable_on_one_range_twice_gets_a_copy_of_it_as_its_other_axis(tmp_path):
    """m[north, Region], m[south, Region], m[east, Region]: the first position names only
    elements, so its axis is a copy of Region, Region1 (as PySD names it), or the
    model's own copy of Region where it declares one; rows and columns stay apart."""
    equations = [("m[north, Region]", "1, 2, 3"), ("m[south, Region]", "4, 5, 6"),
                 ("m[east, Region]", "Time"), ("row[Region]", "m[south, Region]"),
                 ("col[Region]", "m[Region, east] * 10")]
    ds = run(tmp_path, equations, final=2, step=1)
    assert ds["m"].dims == ("time", "Region1", "Region")
    np.testing.assert_array_equal(ds["m"].isel(time=-1).values,
                                  [[1, 2, 3], [4, 5, 6], [2, 2, 2]])
    np.testing.assert_array_equal(ds["row"].isel(time=-1).values, [4, 5, 6])
    np.testing.assert_array_equal(ds["col"].isel(time=-1).values, [30, 60, 20])
    table = to_table(ds)
    assert table["m[south,east]"].iloc[0] == 6
    assert table["m[east,north]"].tolist() == [0, 1, 2]
    copy = RANGES + "Place <-> Region\n\t~\t~\t|\n"
    ds = run(tmp_path, equations, ranges=copy, final=2, step=1)
    assert ds["m"].dims == ("time", "Place", "Region")
    np.testing.assert_array_equal(ds["col"].isel(time=-1).values, [30, 60, 20])


def test_macros_on_subscripts_are_refused_by_name(tmp_path):
    macro = (":MACRO: DOUBLE(input)\nDOUBLE = 2 * input\n\t~\t~\t|\n:END OF MACRO:\n")
    with pytest.raises(deterrence.UnsupportedError, match="macro called in a subscripted"):
        deterrence.load(write(tmp_path, [("v[Region]", "1, 2, 3"),
                                         ("w[Region]", "DOUBLE(v[Region])")],
                              ranges=RANGES + macro))


def test_a_tabbed_array_fills_its_table_row_by_row_as_pysd_does(tmp_path):
    """TABBED ARRAY (numbers pasted from a spreadsheet) reaches us flat from PySD's
    parser: it fills the table by rows, the first subscript's elements down the side."""
    pysd = pytest.importorskip("pysd")
    path = write(tmp_path, [("m[Region, Age]", "TABBED ARRAY(\n\t1\t2\n\t3\t4\n\t5\t6)"),
                            ("col[Age]", "SUM(m[Region!, Age])")], final=1, step=1)
    ds = deterrence.load(path).simulate(method="euler")
    np.testing.assert_array_equal(ds["m"].values, [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(ds["col"].values, [9, 12])
    theirs = pysd.read_vensim(str(path)).run(return_columns=["m"])
    assert theirs["m[east,young]"].iloc[0] == 5.0
    with pytest.raises(deterrence.ModelError, match=r"have shape \(5,\)"):
        deterrence.load(write(tmp_path, [("m[Region, Age]",
                                          "TABBED ARRAY(\n\t1\t2\n\t3\t4\n\t5)")]))
