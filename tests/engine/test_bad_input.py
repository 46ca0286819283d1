"""Bad input: every error names the file and what is wrong; model text is only data."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import deterrence
from deterrence import (
    CircularDependencyError,
    ModelError,
    ModelSyntaxError,
    ParameterError,
    SimulationError,
    UndefinedReferenceError,
    UnsupportedError,
)

# -- malformed files -------------------------------------------------------------------


@pytest.mark.parametrize(("equation", "detail"), [
    ("(3 + 2 * k", "brackets"),
    ("3 + * k", "'u'"),
    ("3 k k", "'u'"),
], ids=["unbalanced bracket", "missing operand", "juxtaposed names"])
def test_malformed_equation_names_file_line_and_variable(make_model, equation, detail):
    path = make_model([("x", "INTEG(u, 0)"), ("u", equation), ("k", "2")], name="broken")
    with pytest.raises(ModelSyntaxError) as info:
        deterrence.load(path)
    err = info.value
    line = path.read_text().splitlines().index(f"u = {equation}") + 1
    assert err.line == line
    assert f"broken.mdl:{line}:" in str(err)
    assert err.variable == "u"
    assert detail in str(err)


def test_file_that_is_not_a_model_is_a_syntax_error(tmp_path):
    path = tmp_path / "notes.mdl"
    path.write_text("Shopping list: milk, eggs (and bread\n")
    with pytest.raises(ModelSyntaxError, match=r"notes\.mdl"):
        deterrence.load(path)


def test_malformed_xmile_names_file_and_line(tmp_path):
    path = tmp_path / "broken.xmile"
    path.write_text('<xmile>\n<model>\n<variables>\n<aux name="a">\n<eqn>1</eqn>\n'
                    '</variables>\n</model>\n</xmile>\n')
    with pytest.raises(ModelSyntaxError) as info:
        deterrence.load(path)
    assert info.value.line == 6
    assert "broken.xmile:6:" in str(info.value)


@pytest.mark.parametrize("make", ["missing", "folder", "suffix"])
def test_paths_that_are_not_model_files(tmp_path, make):
    path = {"missing": tmp_path / "nowhere.mdl", "folder": tmp_path,
            "suffix": tmp_path / "model.txt"}[make]
    if make == "suffix":
        path.write_text("x = 1 ~~|")
    with pytest.raises(ModelError) as info:
        deterrence.load(path)
    assert str(path) in str(info.value)
    assert not isinstance(info.value, SimulationError)


# -- references and structure ------------------------------------------------------------


def test_undefined_reference_names_both_variables_and_suggests(make_model):
    path = make_model([("Population", "INTEG(births, 100)"),
                       ("births", "growth rat * Population"),
                       ("growth rate", "0.02")], name="typo")
    with pytest.raises(UndefinedReferenceError) as info:
        deterrence.load(path)
    text = str(info.value)
    assert "'births'" in text
    assert "'growth rat'" in text
    assert "did you mean 'growth rate'" in text
    assert "typo.mdl:" in text
    assert info.value.variable == "births"


def test_algebraic_loop_is_named(make_model):
    path = make_model([("a", "b + 1"), ("b", "a * 2")])
    with pytest.raises(CircularDependencyError, match="'a' -> 'b' -> 'a'"):
        deterrence.load(path).simulate()


def test_variable_defined_twice_is_reported_as_such(make_model):
    path = make_model([("growth", "1"), ("Growth", "2")])
    with pytest.raises(ModelError, match="defined twice") as info:
        deterrence.load(path)
    assert not isinstance(info.value, UnsupportedError)


# -- non-finite states -----------------------------------------------------------------


def times_named(text: str) -> set[float]:
    """Every time an error message names ("at time 2", "from time 2 to 2.25")."""
    found = re.findall(r"time (-?\d+(?:\.\d+)?)(?: to (-?\d+(?:\.\d+)?))?", text)
    return {float(v) for pair in found for v in pair if v}


@pytest.fixture
def division_by_zero(make_model):
    """x falls linearly to exactly 0 at time 2; y integrates 1/x."""
    return deterrence.load(make_model([
        ("x", "INTEG(-0.5, 1)"),
        ("y", "INTEG(r, 0)"),
        ("r", "1 / x"),
    ], name="divzero", final=4, step=0.25))


@pytest.mark.parametrize(("method", "params", "time"), [
    ("euler", None, 2.25),
    ("rk4", None, 2.0),
    ("euler", {"TIME STEP": 0.125}, 2.125),
], ids=["euler", "rk4", "euler-smaller-step"])
@pytest.mark.parametrize("backend", ["native", "numpy"])
def test_stock_becoming_infinite_names_stock_and_time(division_by_zero, method, params, time,
                                                      backend):
    """x reaches 0 at time 2, so the step that ends at ``time`` makes y infinite."""
    with pytest.raises(SimulationError) as info:
        division_by_zero.simulate(params, method=method, backend=backend)
    text = str(info.value)
    assert info.value.variable == "y"
    assert "stock 'y' became NaN or infinite" in text
    assert time in times_named(text)
    assert "divzero.mdl" in text


@pytest.mark.parametrize("backend", ["native", "numpy"])
def test_euler_names_the_first_non_finite_auxiliary(division_by_zero, backend):
    with pytest.raises(SimulationError, match=r"'r' = inf"):
        division_by_zero.simulate(method="euler", backend=backend)


@pytest.mark.parametrize("backend", ["native", "numpy"])
def test_ensemble_names_the_run(make_model, backend):
    model = deterrence.load(make_model([
        ("x", "INTEG(-speed, 1)"), ("y", "INTEG(1 / x, 0)"), ("speed", "0.1")],
        final=4, step=0.25))
    with pytest.raises(SimulationError, match=r"'y' became NaN or infinite.* in run 1") as info:
        model.simulate({"speed": [0.1, 0.5, 0.2]}, method="euler", backend=backend)
    assert 2.25 in times_named(str(info.value))


def test_blow_up_names_the_stock(make_model):
    model = deterrence.load(make_model([("x", "INTEG(x * x, 1)")], final=10, step=0.25))
    with pytest.raises(SimulationError, match=r"stock 'x' became NaN or infinite") as info:
        model.simulate(method="euler")
    assert times_named(str(info.value))


@pytest.fixture
def negative_root(make_model):
    """x falls below 0 after time 2, where SQRT(x) becomes NaN."""
    return deterrence.load(make_model([
        ("x", "INTEG(-0.5, 1)"),
        ("y", "INTEG(SQRT(x), 0)"),
    ], name="negroot", final=4, step=0.25))


@pytest.mark.parametrize("method", ["RK45", "RK23", "DOP853", "Radau", "BDF"])
def test_adaptive_solver_failure_is_a_simulation_error(negative_root, method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(SimulationError) as info:
            negative_root.simulate(method=method)
    assert "negroot.mdl" in str(info.value)
    assert times_named(str(info.value))


@pytest.mark.parametrize("method", ["RK45", "Radau"])
def test_adaptive_failure_before_the_first_save_time_is_a_simulation_error(negative_root,
                                                                           method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(SimulationError, match=r"negroot\.mdl"):
            negative_root.simulate(method=method, saveper=4)


def test_adaptive_solver_failure_names_the_stock(negative_root):
    with pytest.raises(SimulationError) as info:
        negative_root.simulate(method="RK45")
    assert "'y'" in str(info.value)


def test_bad_initial_value_names_the_stock(make_model):
    model = deterrence.load(make_model([("x", "INTEG(1, 1 / zero)"), ("zero", "0")]))
    with pytest.raises(SimulationError, match=r"initial value of 'x' is inf at time 0"):
        model.simulate(method="euler")


# -- parameters and methods ------------------------------------------------------------


@pytest.fixture
def growth(make_model):
    return deterrence.load(make_model([
        ("Population", "INTEG(births, 100)"), ("births", "growth rate * Population"),
        ("growth rate", "0.02", "1/Year [0, 0.1]", "")]))


def test_unknown_parameter_suggests_close_names(growth):
    with pytest.raises(ParameterError) as info:
        growth.simulate({"growth rte": 0.03})
    assert "'growth rte' is not a variable" in str(info.value)
    assert "closest: 'growth rate'" in str(info.value)
    assert isinstance(info.value, KeyError)  # dict-like lookups can catch it too


def test_setting_a_stock_is_refused(growth):
    with pytest.raises(ParameterError, match="'Population' is a stock"):
        growth.simulate({"Population": 5})


def test_declared_range_is_checked_on_request(growth):
    growth.check_ranges({"growth rate": 0.05})
    with pytest.raises(ParameterError, match=r"outside its declared range \[0, 0.1\]"):
        growth.check_ranges({"growth rate": [0.05, 0.2]})


def test_unknown_method_lists_the_methods(growth):
    with pytest.raises(ParameterError, match="unknown method 'rk5'") as info:
        growth.simulate(method="rk5")
    for name in ("euler", "rk4", "RK45", "RK23", "DOP853", "LSODA", "Radau", "BDF"):
        assert name in str(info.value)


@pytest.mark.parametrize("method", ["RK45", "LSODA"])
def test_control_variables_that_change_need_a_fixed_step(make_model, method):
    path = make_model([("x", "INTEG(1, 0)")], name="dynamic", step=1, saveper=1)
    path.write_text(path.read_text().replace("SAVEPER = 1", "SAVEPER = "
                                             "IF THEN ELSE(Time < 4, 1, 2)"))
    model = deterrence.load(path)
    with pytest.raises(ModelError, match=r"'SAVEPER' change\(s\) during the run") as info:
        model.simulate(method=method)
    assert "dynamic.mdl" in str(info.value)
    assert "euler" in str(info.value)
    # the fixed-step methods follow it: saved every 1 up to 4, then every 2
    ds = model.simulate(method="euler")
    np.testing.assert_array_equal(ds["time"].values, [0, 1, 2, 3, 4, 6, 8, 10])


@pytest.mark.parametrize(("controls", "match"), [
    ({"final_time": -1.0}, "FINAL TIME"),
    ({"time_step": 0.0}, "TIME STEP"),
    ({"saveper": -1.0}, "SAVEPER"),
])
def test_bad_control_values_are_refused(growth, controls, match):
    with pytest.raises(ModelError, match=match):
        growth.simulate(method="euler", **controls)


# -- unsupported constructs ------------------------------------------------------------


@pytest.mark.parametrize(("equation", "construct"), [
    ("RANDOM LOOKUP(3, 0, 10, 0, 1, 0)", "RANDOM LOOKUP"),
    ("DEPRECIATE STRAIGHTLINE(10, 2, 1, 0)", "DEPRECIATE STRAIGHTLINE"),
    ("GET TIME VALUE(2, 0, 1)", "GET TIME VALUE(2, ..., 1)"),  # the computer's clock
    ("VECTOR ELM MAP(3, 1)", "VECTOR ELM MAP"),
])
def test_unsupported_function_names_construct_variable_and_file(make_model, equation,
                                                                 construct):
    path = make_model([("x", "INTEG(u, 0)"), ("u", equation)], name="fancy")
    with pytest.raises(UnsupportedError) as info:
        deterrence.load(path)
    text = str(info.value)
    assert construct in text
    assert "(in 'u')" in text
    assert "fancy.mdl:7:" in text


# subscripts are computed (tests/engine/test_subscripts.py), a matrix on one range not yet
SUBSCRIPTED = "{UTF-8}\nregion: (r1-r3)\n~~|\npopulation[region, region] = 1\n~~|\n"
MACRO = ("{UTF-8}\n:MACRO: DOUBLE(input)\nDOUBLE = 2 * input * outside\n~~|\n"
         ":END OF MACRO:\noutside = 1\n~~|\ndoubled = DOUBLE(3)\n~~|\n")


@pytest.mark.parametrize(("head", "construct"), [
    (SUBSCRIPTED, "spans one subscript range twice"),
    (MACRO, "the macro 'DOUBLE' (called by 'doubled') refers to 'outside'")],
                         ids=["subscripts", "macro"])
def test_subscripts_and_macros_are_unsupported(make_model, head, construct):
    base = make_model([], name="arrays")
    base.write_text(head + base.read_text().removeprefix("{UTF-8}\n"))
    with pytest.raises(UnsupportedError) as info:
        deterrence.load(base)
    assert construct in str(info.value)
    assert "arrays.mdl" in str(info.value)


@pytest.mark.parametrize(("head", "variable"), [(SUBSCRIPTED, "population"),
                                                (MACRO, "doubled")], ids=["subscripts", "macro"])
def test_subscripts_and_macros_name_the_variable(make_model, head, variable):
    base = make_model([], name="arrays")
    base.write_text(head + base.read_text().removeprefix("{UTF-8}\n"))
    with pytest.raises(UnsupportedError) as info:
        deterrence.load(base)
    assert info.value.variable == variable
    assert info.value.line is not None


# -- model text is data, never code ----------------------------------------------------

XMILE_TEMPLATE = """<?xml version="1.0" encoding="utf-8"?>
<xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">
  <header><vendor>tests</vendor><product version="1">tests</product></header>
  <sim_specs><start>0</start><stop>4</stop><dt>1</dt></sim_specs>
  <model><variables>{variables}
  </variables></model>
</xmile>
"""


def hostile_mdl(marker_dir) -> str:
    def touch(name):
        return f"__import__('os').system('touch {marker_dir}/{name}')"

    return f"""{{UTF-8}}
"{touch('name')}" = 2
\t~\t{touch('units')}
\t~\t"; import os; os.remove('{marker_dir}/keep'); "
\t|

exec = "{touch('name')}" * 3
\t~\twidgets
\t~\t'''); {touch('doc')} #
\t|

eval = INTEG(exec + lambda, 1)
\t~\twidgets
\t~\teval(compile('open("{marker_dir}/doc2", "w")', 'x', 'exec'))
\t|

lambda = 0.5
\t~\tDmnl
\t~\t{{{touch('braces')}}}
\t|

import = eval * 2
\t~\t
\t~\t
\t|

"__class__" = import + 1
\t~\t__builtins__
\t~\t
\t|

INITIAL TIME = 0
\t~\tMonth
\t~\t
\t|

FINAL TIME = 4
\t~\tMonth
\t~\t
\t|

TIME STEP = 1
\t~\tMonth
\t~\t
\t|

SAVEPER = 1
\t~\tMonth
\t~\t
\t|
"""


@pytest.fixture
def hostile(tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    (markers / "keep").write_text("must survive")
    path = tmp_path / "hostile.mdl"
    path.write_text(hostile_mdl(markers))
    return path, markers


@pytest.mark.parametrize("method", ["euler", "RK45"])
def test_code_in_names_units_and_comments_is_only_data(hostile, method, tmp_path):
    path, markers = hostile
    model = deterrence.load(path)
    ds = model.simulate(method=method)
    deterrence.write_results(ds, tmp_path / "out.csv")
    deterrence.write_results(ds, tmp_path / "out.nc")
    assert sorted(p.name for p in markers.iterdir()) == ["keep"], "no side effect happened"
    assert (markers / "keep").read_text() == "must survive"

    names = {da.attrs["vensim_name"]: name for name, da in ds.data_vars.items()}
    weird = f"\"__import__('os').system('touch {markers}/name')\""
    assert weird in names
    assert float(ds[names[weird]]) == 2.0
    assert float(ds[names["exec"]]) == 6.0
    assert float(ds[names["lambda"]]) == 0.5
    # eval' = exec + lambda = 6.5 from eval(0) = 1, exactly linear
    np.testing.assert_allclose(ds[names["eval"]].values, 1 + 6.5 * np.arange(5))
    np.testing.assert_allclose(ds[names["import"]].values, 2 * (1 + 6.5 * np.arange(5)))
    np.testing.assert_allclose(ds[names['"__class__"']].values,
                               2 * (1 + 6.5 * np.arange(5)) + 1)
    assert ds[names["exec"]].attrs["long_name"].startswith("'''); __import__")
    assert ds[names[weird]].attrs["units"].startswith("__import__('os')")


def test_hostile_names_can_be_set_as_parameters(hostile):
    path, markers = hostile
    model = deterrence.load(path)
    weird = f"\"__import__('os').system('touch {markers}/name')\""
    ds = model.simulate({weird: 3, "lambda": [0.5, 1.0]}, method="euler")
    np.testing.assert_allclose(ds["eval"].isel(run=1).values, 1 + 10 * np.arange(5))
    assert sorted(p.name for p in markers.iterdir()) == ["keep"]


def test_generated_code_contains_no_text_from_the_file(hostile):
    path, _ = hostile
    model = deterrence.load(path)
    sources = [model.program(frozenset(), fixed).source for fixed in (True, False)]
    model.simulate(method="euler", backend="native")  # the native kernel's source too
    native = model.program(frozenset(), True).native
    assert native is not None
    sources.append(native.source)
    for source in sources:
        for fragment in ("__import__", "system", "touch", "compile", "remove", "lambda",
                         "eval", "__class__"):
            assert fragment not in source


def test_code_in_xmile_documentation_and_units_is_only_data(tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    touch = f"__import__('os').system('touch {markers}/x')"
    path = tmp_path / "hostile.xmile"
    path.write_text(XMILE_TEMPLATE.format(variables=f'''
      <stock name="exec"><eqn>1</eqn><inflow>eval</inflow>
        <doc>{touch}</doc><units>{touch}</units></stock>
      <flow name="eval"><eqn>lambda * 2</eqn><doc>"; {touch}; "</doc></flow>
      <aux name="lambda"><eqn>0.25</eqn></aux>'''))
    ds = deterrence.load(path).simulate(method="euler")
    assert list(markers.iterdir()) == []
    np.testing.assert_allclose(ds["exec"].values, 1 + 0.5 * np.arange(5))
    assert ds["exec"].attrs["long_name"] == touch


def test_a_creeping_adaptive_solver_is_stopped_and_reported(make_model):
    """LSODA takes ever smaller steps into x' = -1/x at x = 0; it must not run forever."""
    model = deterrence.load(make_model([("x", "INTEG(-1 / x, 1)")], name="creep", final=2))
    with pytest.raises(SimulationError, match=r"creep\.mdl.*LSODA.*20,000 evaluations"):
        model.simulate(method="LSODA", max_evaluations=20_000)
