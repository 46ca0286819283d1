"""VECTOR SELECT, VECTOR REORDER, ALLOCATE BY PRIORITY and ALLOCATE AVAILABLE in the
compiled engine: values worked out by hand, PySD's own run of the same file, ensembles
(each run its own parameter value), and bad input refused with the variable named.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from mdl_support import mdl_text

import deterrence
from deterrence.cli import main

RANGES = """
Region: north, south, east
\t~\t~\t|
Age: young, old
\t~\t~\t|
pprofile: ptype, ppriority, pwidth, pextra
\t~\t~\t|
"""


def write(tmp_path: Path, equations, **controls) -> Path:
    path = tmp_path / "arrays.mdl"
    text = mdl_text(equations, **controls)
    path.write_text(text.replace("{UTF-8}\n", "{UTF-8}\n" + RANGES, 1), encoding="utf-8")
    return path


def run(tmp_path: Path, equations, params=None, **controls):
    return deterrence.load(write(tmp_path, equations, **controls)).simulate(
        params, method="euler")


def pysd_run(path: Path, columns: list[str]):
    pysd = pytest.importorskip("pysd")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pysd.read_vensim(str(path)).run(return_columns=columns)


def assert_matches_pysd(ours, theirs, name: str, dims: dict[str, list[str]] | None = None,
                        rtol: float = 1e-9, atol: float = 1e-9) -> None:
    """Every element of ``name`` equals PySD's column ``vensim name[elements]``."""
    var = ours[name]
    label = var.attrs["vensim_name"]
    if not dims:
        np.testing.assert_allclose(var.values, theirs[label].values, rtol=rtol, atol=atol)
        return
    for index in np.ndindex(*(len(v) for v in dims.values())):
        where = {d: dims[d][i] for d, i in zip(dims, index, strict=True)}
        column = f"{label}[{','.join(where.values())}]"
        np.testing.assert_allclose(var.sel(where).values, theirs[column].values, rtol=rtol,
                                   atol=atol, err_msg=column)


# -- VECTOR SELECT ---------------------------------------------------------------------

SELECT = [
    ("sel[Region]", "0, 1, 2"), ("val[north]", "3"), ("val[south]", "4 + Time"),
    ("val[east]", "5"),
    ("weighted sum", "VECTOR SELECT(sel[Region!], val[Region!], -1, 0, 0)"),
    ("weighted min", "VECTOR SELECT(sel[Region!], val[Region!], -1, 2, 0)"),
    ("power product", "VECTOR SELECT(sel[Region!], val[Region!], -1, 5, 0)"),
    ("plain max", "VECTOR SELECT(sel[Region!], val[Region!], -1, 9, 0)"),
    ("plain mean", "VECTOR SELECT(sel[Region!], val[Region!], -1, 10, 0)"),
    ("m[Age, Region]", "1, 0, 1; 0, 0, 0"),
    ("by age[Age]", "VECTOR SELECT(m[Age, Region!], val[Region!], 99, 9, 0)"),
]


def test_vector_select_computes_each_action_over_the_selected_elements(tmp_path):
    ds = run(tmp_path, SELECT, final=2, step=1)
    t = ds["time"].values
    south = 4 + t  # the selected values: south (weight 1) and east (weight 2, value 5)
    np.testing.assert_allclose(ds["weighted_sum"].values, south + 2 * 5)
    np.testing.assert_allclose(ds["weighted_min"].values, np.minimum(south, 10))
    np.testing.assert_allclose(ds["power_product"].values, south * 5 ** 2)  # expr ^ sel
    np.testing.assert_allclose(ds["plain_max"].values, np.maximum(south, 5))
    np.testing.assert_allclose(ds["plain_mean"].values, (south + 5) / 2)
    # young selects north and east; old selects nothing: the missing value
    np.testing.assert_allclose(ds["by_age"].sel(Age="young").values, 5.0)
    np.testing.assert_allclose(ds["by_age"].sel(Age="old").values, 99.0)


def test_vector_select_matches_pysd(tmp_path):
    path = write(tmp_path, SELECT, final=3, step=1)
    ours = deterrence.load(path).simulate(method="euler")
    names = ["weighted sum", "weighted min", "power product", "plain max", "plain mean",
             "by age"]
    theirs = pysd_run(path, names)
    for name in names[:-1]:
        assert_matches_pysd(ours, theirs, name.replace(" ", "_"))
    assert_matches_pysd(ours, theirs, "by_age", {"Age": ["young", "old"]})


def test_vector_select_over_an_ensemble_gives_each_run_its_own_selection(tmp_path):
    ds = run(tmp_path, [("k", "1"), ("sel[north]", "k - 1"), ("sel[south]", "1"),
                        ("sel[east]", "k - 2"),
                        ("val[Region]", "10, 20, 30"),
                        ("pick", "VECTOR SELECT(sel[Region!], val[Region!], 0, 6, 0)")],
             params={"k": [1.0, 2.0, 3.0]}, final=1, step=1)
    # k=1: south and east (a negative weight selects too); k=2: north and south; k=3: all
    assert ds["pick"].dims == ("run",)
    np.testing.assert_allclose(ds["pick"].values, [50, 30, 60])


@pytest.mark.parametrize(("sel", "error", "message"), [
    ("0, 0, 0", 1, "all zeros"), ("0, 0, 0", 3, "all zeros"),
    ("1, 0, 1", 2, "more than one non-zero"), ("1, 1, 0", 3, "more than one non-zero")])
def test_vector_select_error_action_stops_the_run_naming_the_variable(tmp_path, sel, error,
                                                                      message):
    model = deterrence.load(write(tmp_path, [
        ("sel[Region]", sel), ("val[Region]", "1, 2, 3"),
        ("one", f"VECTOR SELECT(sel[Region!], val[Region!], 0, 0, {error})")]))
    with pytest.raises(deterrence.SimulationError, match=f"VECTOR SELECT in 'one'.*{message}"
                       ) as info:
        model.simulate(method="euler")
    assert info.value.variable == "one"
    assert info.value.line is not None


def test_vector_select_error_action_allows_a_single_selection(tmp_path):
    ds = run(tmp_path, [("sel[Region]", "0, 2, 0"), ("val[Region]", "1, 2, 3"),
                        ("one", "VECTOR SELECT(sel[Region!], val[Region!], 0, 0, 3)")],
             final=1, step=1)
    np.testing.assert_allclose(ds["one"].values, 4.0)


@pytest.mark.parametrize(("call", "message"), [
    ("VECTOR SELECT(sel[Region!], val[Region!], 0, 11, 0)", "numerical action is 11"),
    ("VECTOR SELECT(sel[Region!], val[Region!], 0, 0, 4)", "error action is 4"),
    ("VECTOR SELECT(sel[Region], val[Region], 0, 0, 0)", "no range to select along"),
    ("VECTOR SELECT(sel[Region!], val[Region], 0, 0, 0)", "marked along"),
    ("VECTOR SELECT(sel[Region!], val[Region!], 0)", "takes 5 argument"),
])
def test_vector_select_bad_codes_and_shapes_are_errors_naming_the_variable(tmp_path, call,
                                                                           message):
    with pytest.raises(deterrence.ModelError, match=message) as info:
        deterrence.load(write(tmp_path, [("sel[Region]", "0, 1, 0"),
                                         ("val[Region]", "1, 2, 3"), ("bad", call)]))
    assert info.value.variable == "bad"


# -- VECTOR REORDER --------------------------------------------------------------------

REORDER = [
    ("val[north]", "5"), ("val[south]", "2 + Time"), ("val[east]", "9"),
    ("order[Region]", "VECTOR SORT ORDER(val[Region], 1)"),
    ("ascending[Region]", "VECTOR REORDER(val[Region], order[Region])"),
    ("down[Region]", "VECTOR REORDER(val[Region], VECTOR SORT ORDER(val[Region], -1))"),
    ("m[Age, Region]", "1, 2, 3; 4, 5, 6"), ("rot[Region]", "2, 0, 1"),
    ("rotated[Age, Region]", "VECTOR REORDER(m[Age, Region], rot[Region])"),
]


def test_vector_reorder_takes_the_elements_in_the_order_given(tmp_path):
    ds = run(tmp_path, REORDER, final=4, step=1)
    val = np.stack([np.full(5, 5.0), 2 + ds["time"].values, np.full(5, 9.0)], axis=1)
    np.testing.assert_allclose(ds["ascending"].values, np.sort(val, axis=1))
    np.testing.assert_allclose(ds["down"].values, np.sort(val, axis=1)[:, ::-1])
    # along the last subscript, the same order for each age
    np.testing.assert_allclose(ds["rotated"].values, [[3, 1, 2], [6, 4, 5]])


def test_vector_reorder_matches_pysd(tmp_path):
    path = write(tmp_path, REORDER[:5], final=4, step=1)
    ours = deterrence.load(path).simulate(method="euler")
    theirs = pysd_run(path, ["ascending"])
    assert_matches_pysd(ours, theirs, "ascending", {"Region": ["north", "south", "east"]})


def test_vector_reorder_with_a_position_out_of_range_stops_naming_the_variable(tmp_path):
    model = deterrence.load(write(tmp_path, [
        ("val[Region]", "1, 2, 3"), ("order[north]", "0"), ("order[south]", "1"),
        ("order[east]", "Time"),
        ("r[Region]", "VECTOR REORDER(val[Region], order[Region])")], final=4, step=1))
    with pytest.raises(deterrence.SimulationError, match=r"VECTOR REORDER in 'r'.*holds 3"):
        model.simulate(method="euler")


def test_vector_reorder_needs_its_order_on_the_same_range(tmp_path):
    with pytest.raises(deterrence.ModelError, match="does not have the range 'Region'"):
        deterrence.load(write(tmp_path, [
            ("val[Region]", "1, 2, 3"), ("order[Age]", "0, 1"),
            ("r[Region, Age]", "VECTOR REORDER(val[Region], order[Age])")]))


# -- ALLOCATE BY PRIORITY --------------------------------------------------------------

BY_PRIORITY = [
    ("request[Region]", "10, 6, 3"), ("priority[Region]", "2, 4, 3"), ("scale", "1"),
    ("supply", "scale * Time"),
    ("shipped[Region]", "ALLOCATE BY PRIORITY(request[Region], priority[Region], "
                        "ELMCOUNT(Region), 3, supply)"),
    ("total shipped", "SUM(shipped[Region!])"),
]


def test_allocate_by_priority_serves_the_highest_priority_first(tmp_path):
    ds = run(tmp_path, BY_PRIORITY, final=25, step=1)
    at = {t: ds["shipped"].sel(time=t).values for t in (0, 1, 5, 25)}
    np.testing.assert_allclose(at[0], [0, 0, 0])
    # south (priority 4) alone until it has (4 - 3) / 3 of its 6 ...
    np.testing.assert_allclose(at[1], [0, 1, 0])
    # ... then south and east share in proportion to their requests (6:3): 2 + 2, 0 + 1
    np.testing.assert_allclose(at[5], [0, 4, 1])
    np.testing.assert_allclose(at[25], [10, 6, 3])  # more than asked for: every request
    supply = np.minimum(ds["time"].values, 19)
    np.testing.assert_allclose(ds["total_shipped"].values, supply, atol=1e-9)


def test_allocate_by_priority_matches_pysd_on_two_ranges(tmp_path):
    path = write(tmp_path, [
        ("request[Age, Region]", "10, 6, 3; 4, 8, 2"),
        ("priority[Age, Region]", "2, 4, 3; 1, 1.5, 9"), ("width[Age]", "3, 0.5"),
        ("supply[young]", "Time"), ("supply[old]", "2 * Time"),
        ("shipped[Age, Region]", "ALLOCATE BY PRIORITY(request[Age, Region], "
                                 "priority[Age, Region], ELMCOUNT(Region), width[Age], "
                                 "supply[Age])")], final=12, step=0.25)
    ours = deterrence.load(path).simulate(method="euler")
    theirs = pysd_run(path, ["shipped"])
    assert_matches_pysd(ours, theirs, "shipped",
                        {"Age": ["young", "old"], "Region": ["north", "south", "east"]})


def test_allocate_by_priority_over_an_ensemble_is_each_runs_own_allocation(tmp_path):
    path = write(tmp_path, BY_PRIORITY, final=10, step=1)
    model = deterrence.load(path)
    ensemble = model.simulate({"scale": [0.5, 1.0, 2.0]}, method="euler")
    assert ensemble["shipped"].dims == ("time", "run", "Region")
    for run_index, scale in enumerate((0.5, 1.0, 2.0)):
        single = model.simulate({"scale": scale}, method="euler")
        np.testing.assert_allclose(ensemble["shipped"].values[:, run_index],
                                   single["shipped"].values, rtol=1e-12)


@pytest.mark.parametrize(("priority", "width", "message"), [
    ("prio age[Age]", "3", "its priority does not have 'Region'"),
    ("priority[Region]", "w[Region]", "its width varies along 'Region'"),
])
def test_allocate_by_priority_of_the_wrong_shape_is_an_error(tmp_path, priority, width,
                                                             message):
    with pytest.raises(deterrence.ModelError, match=message) as info:
        deterrence.load(write(tmp_path, [
            ("request[Region]", "1, 2, 3"), ("priority[Region]", "1, 2, 3"),
            ("prio age[Age]", "1, 2"),
            ("w[Region]", "1, 1, 1"),
            ("out[Region]", f"ALLOCATE BY PRIORITY(request[Region], {priority}, 3, {width}, "
                            "5)")]))
    assert info.value.variable == "out"


def test_allocate_by_priority_with_a_zero_width_stops_naming_the_variable(tmp_path):
    model = deterrence.load(write(tmp_path, [
        ("request[Region]", "1, 2, 3"), ("priority[Region]", "1, 2, 3"), ("w", "0"),
        ("out[Region]", "ALLOCATE BY PRIORITY(request[Region], priority[Region], 3, w, 2)")]))
    with pytest.raises(deterrence.SimulationError,
                       match=r"ALLOCATE BY PRIORITY in 'out': its width is 0"):
        model.simulate(method="euler")


# -- ALLOCATE AVAILABLE ----------------------------------------------------------------


def available_model(ptype: str, priorities: str = "10, 5, 0", widths: str = "2, 2, 2"):
    """Three requests of 100, each with its profile (a priority may be an expression)."""
    given = [(f"pp[{r}, ppriority]", p.strip())
             for r, p in zip(("north", "south", "east"), priorities.split(","), strict=True)]
    return [
        ("request[Region]", "100, 100, 100"), ("scale", "1"), ("available", "scale * Time"),
        ("pp[Region, ptype]", ptype), *given,
        ("pp[Region, pwidth]", widths), ("pp[Region, pextra]", "0"),
        ("shipped[Region]", "ALLOCATE AVAILABLE(request[Region], pp[Region, ptype], "
                            "available)"),
        ("total shipped", "SUM(shipped[Region!])"),
    ]


def test_allocate_available_rectangular_profiles_serve_by_priority(tmp_path):
    ds = run(tmp_path, available_model("1"), final=300, step=50)
    shipped = ds["shipped"].values
    # priorities 10, 5, 0 are further apart than the widths: one request at a time
    np.testing.assert_allclose(shipped[1], [50, 0, 0], atol=1e-9)
    np.testing.assert_allclose(shipped[3], [100, 50, 0], atol=1e-9)
    np.testing.assert_allclose(shipped[5], [100, 100, 50], atol=1e-9)
    np.testing.assert_allclose(shipped[6], [100, 100, 100], atol=1e-9)
    np.testing.assert_allclose(ds["total_shipped"].values, np.minimum(ds["time"], 300),
                               atol=1e-9)


def test_allocate_available_says_it_may_differ_from_vensims_inexact_search(tmp_path):
    """Not a silent difference: loading names the variable, its line and the size."""
    from deterrence.compile.arraycalls import AllocationWarning

    with pytest.warns(AllocationWarning, match=r"arrays\.mdl:\d+: ALLOCATE AVAILABLE in "
                      r"'shipped'.*1e-4"):
        deterrence.load(write(tmp_path, available_model("1"), final=300, step=50))


@pytest.mark.parametrize("ptype", ["1", "2", "3", "4"])
def test_allocate_available_equal_profiles_share_in_proportion_to_requests(tmp_path, ptype):
    ds = run(tmp_path, [
        ("request[Region]", "100, 300, 0"), ("pp[Region, ptype]", ptype),
        ("pp[Region, ppriority]", "5"), ("pp[Region, pwidth]", "2"),
        ("pp[Region, pextra]", "0"),
        ("shipped[Region]", "ALLOCATE AVAILABLE(request[Region], pp[Region, ptype], 200)")],
        final=1, step=1)
    np.testing.assert_allclose(ds["shipped"].values, [50, 150, 0], rtol=1e-9)


@pytest.mark.parametrize("ptype", ["1", "2", "3", "4"])
def test_allocate_available_matches_pysd(tmp_path, ptype):
    path = write(tmp_path, available_model(ptype, "5 + 0.1 * Time, 7, 3", "2, 4, 3"),
                 final=300, step=10)
    ours = deterrence.load(path).simulate(method="euler")
    theirs = pysd_run(path, ["shipped"])
    # PySD finds the clearing priority by least squares, to about 1e-8 of the total
    assert_matches_pysd(ours, theirs, "shipped", {"Region": ["north", "south", "east"]},
                        rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(ours["total_shipped"].values,
                               np.minimum(ours["time"].values, 300), rtol=1e-12)


def test_allocate_available_over_an_ensemble_is_each_runs_own_allocation(tmp_path):
    model = deterrence.load(write(tmp_path, available_model("3", "5, 7, 3", "2, 4, 3"),
                                  final=100, step=10))
    ensemble = model.simulate({"scale": [0.5, 2.0]}, method="euler")
    for run_index, scale in enumerate((0.5, 2.0)):
        single = model.simulate({"scale": scale}, method="euler")
        np.testing.assert_allclose(ensemble["shipped"].values[:, run_index],
                                   single["shipped"].values, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("ptype", ["0", "5", "7", "11"])
def test_allocate_available_unknown_profile_type_stops_naming_the_variable(tmp_path, ptype):
    model = deterrence.load(write(tmp_path, available_model(ptype), final=10, step=5))
    with pytest.raises(deterrence.SimulationError,
                       match=f"ALLOCATE AVAILABLE in 'shipped'.*ptype {ptype}") as info:
        model.simulate(method="euler")
    assert info.value.variable == "shipped"


def test_allocate_available_profiles_written_without_their_first_element_are_an_error(
        tmp_path):
    equations = available_model("1")
    equations[-2] = ("shipped[Region]", "ALLOCATE AVAILABLE(request[Region], pp[Region, "
                     "pprofile], 10)")
    with pytest.raises(deterrence.ModelError, match="not a priority profile") as info:
        deterrence.load(write(tmp_path, equations))
    assert info.value.variable == "shipped"


def test_a_negative_request_stops_the_run_naming_the_variable(tmp_path):
    equations = available_model("1")
    equations[0:1] = [("request[Region] :EXCEPT: [south]", "100"), ("request[south]", "5 - Time")]
    model = deterrence.load(write(tmp_path, equations, final=10, step=1))
    with pytest.raises(deterrence.SimulationError,
                       match=r"ALLOCATE AVAILABLE in 'shipped': a request is negative"):
        model.simulate(method="euler")


def test_the_command_line_prints_one_error_line_and_exits_2(tmp_path, capsys):
    path = write(tmp_path, [("sel[Region]", "0, 0, 0"), ("val[Region]", "1, 2, 3"),
                            ("one", "VECTOR SELECT(sel[Region!], val[Region!], 0, 0, 1)")])
    code = main(["simulate", str(path), "--output", str(tmp_path / "out.csv")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1
    assert err[0].startswith("error: ")
    assert "VECTOR SELECT in 'one'" in err[0]
    assert "arrays.mdl" in err[0]
