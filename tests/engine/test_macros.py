"""Vensim macros (compile/macros.py): each call expanded into hidden equations of its
caller, with known answers computed by hand (Euler)."""

from __future__ import annotations

import numpy as np
import pytest

import deterrence
from deterrence import ModelError, UnsupportedError


def _model(tmp_path, macros: str, body: str, *, step: float = 1, final: float = 3,
           name: str = "macros"):
    path = tmp_path / f"{name}.mdl"
    path.write_text(
        "{UTF-8}\n" + macros + body
        + f"INITIAL TIME = 0 ~~|\nFINAL TIME = {final} ~~|\nTIME STEP = {step} ~~|\n"
        "SAVEPER = TIME STEP ~~|\n", encoding="utf-8")
    return path


def _run(tmp_path, macros: str, body: str, method: str = "euler", **kw):
    return deterrence.load(_model(tmp_path, macros, body, **kw)).simulate(method=method)


SMOOTHER = """:MACRO: MY SMOOTH(input, tau)
MY SMOOTH = INTEG((input - MY SMOOTH) / tau, 0)
\t~\tunits
\t~\tfirst-order smoothing, starting at 0
\t|
:END OF MACRO:
"""


def test_expression_macro(tmp_path):
    macros = ":MACRO: DOUBLE(a)\nDOUBLE = 2 * a ~~|\n:END OF MACRO:\n"
    ds = _run(tmp_path, macros, "x = DOUBLE(Time + 1) ~~|\n")
    np.testing.assert_allclose(ds["x"].values, [2, 4, 6, 8])


def test_macro_with_a_stock_has_one_stock_per_call(tmp_path):
    # s' = (input - s) / tau, s0 = 0, dt = 1: input 10, tau 2 -> 0, 5, 7.5, 8.75;
    # input 4, tau 1 -> 0, 4, 4, 4
    ds = _run(tmp_path, SMOOTHER, "x = MY SMOOTH(10, 2) ~~|\n"
              "y = MY SMOOTH(10, 2) + MY SMOOTH(4, 1) ~~|\n")
    np.testing.assert_allclose(ds["x"].values, [0, 5, 7.5, 8.75])
    np.testing.assert_allclose(ds["y"].values, [0, 9, 11.5, 12.75])
    model = deterrence.load(_model(tmp_path, SMOOTHER, "x = MY SMOOTH(10, 2) ~~|\n"
                                   "y = MY SMOOTH(10, 2) + MY SMOOTH(4, 1) ~~|\n"))
    assert model.program(frozenset(), True).source.count("MY SMOOTH") == 0


def test_macro_arguments_are_computed_in_the_caller(tmp_path):
    # stock' = FRACTION(stock, 0.1): 100, 110, 121, 133.1
    macros = ":MACRO: FRACTION(v, f)\nFRACTION = v * f ~~|\n:END OF MACRO:\n"
    ds = _run(tmp_path, macros, "stock = INTEG(inflow, 100) ~~|\n"
              "inflow = FRACTION(stock, rate) ~~|\nrate = 0.1 ~~|\n")
    np.testing.assert_allclose(ds["stock"].values, [100, 110, 121, 133.1])
    ds = deterrence.load(_model(tmp_path, macros, "stock = INTEG(inflow, 100) ~~|\n"
                                "inflow = FRACTION(stock, rate) ~~|\nrate = 0.1 ~~|\n")
                         ).simulate(method="euler", params={"rate": 0.2})
    np.testing.assert_allclose(ds["stock"].values, [100, 120, 144, 172.8])


def test_macro_using_time_step(tmp_path):
    # LAGGED' = (x - LAGGED) / TIME STEP, so with Euler LAGGED(t + dt) = x(t)
    macros = (":MACRO: PER STEP(a)\nPER STEP = a * TIME STEP ~~|\n:END OF MACRO:\n"
              ":MACRO: LAGGED(a)\nLAGGED = INTEG((a - LAGGED) / TIME STEP, a) ~~|\n"
              ":END OF MACRO:\n")
    ds = _run(tmp_path, macros, "x = PER STEP(4) ~~|\ny = LAGGED(Time) ~~|\n",
              step=0.5, final=2)
    np.testing.assert_allclose(ds["x"].values, 2.0)
    np.testing.assert_allclose(ds["y"].values, [0, 0, 0.5, 1, 1.5])


def test_macro_calling_a_macro_with_local_equations(tmp_path):
    macros = (":MACRO: INNER(a)\nINNER = a + one ~~|\none = 1 ~~|\n:END OF MACRO:\n"
              ":MACRO: OUTER(b)\nOUTER = INNER(b) * INNER(twice) ~~|\n"
              "twice = 2 * b ~~|\n:END OF MACRO:\n")
    ds = _run(tmp_path, macros, "x = OUTER(3) + OUTER(Time) ~~|\n")
    # OUTER(3) = 4 * 7 = 28; OUTER(t) = (t + 1) * (2 t + 1)
    t = np.arange(4.0)
    np.testing.assert_allclose(ds["x"].values, 28 + (t + 1) * (2 * t + 1))


def test_macro_names_are_its_own(tmp_path):
    """A macro's equation named like a model variable is the macro's; the model's is
    untouched."""
    macros = ":MACRO: M(a)\nM = helper + 1 ~~|\nhelper = a * 10 ~~|\n:END OF MACRO:\n"
    ds = _run(tmp_path, macros, "helper = 1000 ~~|\nx = M(2) ~~|\ny = helper ~~|\n")
    np.testing.assert_allclose(ds["x"].values, 21)
    np.testing.assert_allclose(ds["y"].values, 1000)


def test_stateful_functions_inside_a_macro(tmp_path):
    # SMOOTH of STEP(10, 1), time 2, dt 1: 0, 0, 5, 7.5; DELAY N order 2, time 2: each
    # stage holds 1 step; DELAY1 of the same with time 1 = the input one step late
    macros = (":MACRO: SM(a)\nSM = SMOOTH(a, 2) ~~|\n:END OF MACRO:\n"
              ":MACRO: DL(a)\nDL = DELAY N(a, 2, 0, 2) ~~|\n:END OF MACRO:\n")
    ds = _run(tmp_path, macros, "x = SM(input) ~~|\ny = DL(input) ~~|\n"
              "input = STEP(10, 1) ~~|\n", final=4)
    np.testing.assert_allclose(ds["x"].values, [0, 0, 5, 7.5, 8.75])
    np.testing.assert_allclose(ds["y"].values, [0, 0, 0, 10, 10])


def test_macro_lookup(tmp_path):
    macros = (":MACRO: SHAPE(a)\nSHAPE = table(a) * 2 ~~|\n"
              "table([(0,0)-(10,10)],(0,0),(10,5)) ~~|\n:END OF MACRO:\n")
    ds = _run(tmp_path, macros, "x = SHAPE(Time) ~~|\n")
    np.testing.assert_allclose(ds["x"].values, np.arange(4.0))


@pytest.mark.parametrize("method", ["rk4", "RK45"])
def test_macro_with_a_stock_under_other_methods(tmp_path, method):
    ds = _run(tmp_path, SMOOTHER, "x = MY SMOOTH(10, 2) ~~|\n", method=method)
    np.testing.assert_allclose(ds["x"].values, 10 * (1 - np.exp(-np.arange(4) / 2)),
                               rtol=1e-2)


# -- refused, never guessed ------------------------------------------------------------


@pytest.mark.parametrize(("macros", "detail"), [
    (":MACRO: R(a)\nR = R(a) + 1 ~~|\n:END OF MACRO:\n", "calls itself"),
    (":MACRO: R(a)\nR = a + outside ~~|\n:END OF MACRO:\n",
     "refers to 'outside', which is neither"),
    (":MACRO: R(a)\nhelper = a ~~|\n:END OF MACRO:\n", "defines no equation named 'R'"),
    (":MACRO: R(a)\nR = DELAY N(a, 1, 0, a) ~~|\n:END OF MACRO:\n",
     "order is not a constant"),
])
def test_what_cannot_be_expanded_is_refused_naming_macro_and_caller(
        tmp_path, macros, detail):
    path = _model(tmp_path, macros, "outside = 1 ~~|\ncaller = R(2) ~~|\n")
    with pytest.raises(UnsupportedError) as info:
        deterrence.load(path)
    assert detail in str(info.value)
    assert "'R'" in str(info.value)
    assert info.value.variable == "caller"
    assert info.value.line == path.read_text().splitlines().index("caller = R(2) ~~|") + 1


def test_wrong_number_of_macro_arguments(tmp_path):
    path = _model(tmp_path, SMOOTHER, "x = MY SMOOTH(1) ~~|\n")
    with pytest.raises(ModelError, match=r"'MY SMOOTH' takes 2 argument\(s\), 'x' gives 1"):
        deterrence.load(path)


def test_macro_and_parameter_names_never_become_code(tmp_path):
    macros = (":MACRO: system(eval, lambda)\nsystem = eval * lambda + compile ~~|\n"
              "compile = INTEG(eval, 0) ~~|\n:END OF MACRO:\n")
    model = deterrence.load(_model(tmp_path, macros, "x = system(2, 3) ~~|\n"))
    for fixed in (True, False):
        source = model.program(frozenset(), fixed).source
        for fragment in ("system", "eval", "lambda", "compile"):
            assert fragment not in source
    # compile: 0, 2, 4, 6; x = 6 + compile
    np.testing.assert_allclose(model.simulate(method="euler")["x"].values, [6, 8, 10, 12])


def test_macro_with_extra_outputs_is_refused_naming_macro_and_caller(tmp_path):
    macros = (":MACRO: SPLIT(a : rest)\nSPLIT = a / 2 ~~|\nrest = a - SPLIT ~~|\n"
              ":END OF MACRO:\n")
    path = _model(tmp_path, macros, "k = 1 ~~|\nhalf = SPLIT(4 : other) ~~|\n")
    with pytest.raises(UnsupportedError) as info:
        deterrence.load(path)
    assert "'SPLIT' (called by 'half') has extra outputs (rest)" in str(info.value)
    assert info.value.variable == "half"
    assert info.value.line == 7


def test_macro_without_inputs_is_refused_naming_macro_and_caller(tmp_path):
    macros = ":MACRO: FIVE()\nFIVE = 5 ~~|\n:END OF MACRO:\n"
    path = _model(tmp_path, macros, "five = 1 ~~|\nx = 2 * FIVE() ~~|\n")
    with pytest.raises(UnsupportedError, match=r"'FIVE' .*has no inputs") as info:
        deterrence.load(path)
    assert info.value.variable == "x"
    assert info.value.line == 6


def test_macro_equations_are_read_as_written(tmp_path):
    """-2^2 is -(2^2) in Vensim, (-2)^2 when bracketed: read from the macro's own text."""
    macros = (":MACRO: M(a)\nM = -2^2 + a ~~|\n:END OF MACRO:\n"
              ":MACRO: N(a)\nN = (-2)^2 + a ~~|\n:END OF MACRO:\n")
    ds = _run(tmp_path, macros, "x = M(1) ~~|\ny = N(1) ~~|\nz = (-2)^2 + M(0) ~~|\n")
    np.testing.assert_allclose(ds["x"].values, -3)
    np.testing.assert_allclose(ds["y"].values, 5)
    np.testing.assert_allclose(ds["z"].values, 0)


def test_macro_inside_a_stock_with_a_switch_under_an_adaptive_method(tmp_path):
    """A STEP inside a macro is a switch time for adaptive solvers, like one outside."""
    macros = ":MACRO: KICK(h, t)\nKICK = STEP(h, t) ~~|\n:END OF MACRO:\n"
    ds = _run(tmp_path, macros, "s = INTEG(KICK(2, start), 0) ~~|\nstart = 1.5 ~~|\n",
              method="RK45", final=3)
    np.testing.assert_allclose(ds["s"].values, [0, 0, 1, 3], atol=1e-6)


POPULATION_MACROS = """\
:MACRO: MY SMOOTH(input, tau)
MY SMOOTH = INTEG((input - MY SMOOTH) / tau, input)
\t~\tunits
\t~\tfirst-order smoothing
\t|
:END OF MACRO:
:MACRO: GROWTH(base, rate)
GROWTH = INTEG(base * rate * factor, base)
\t~~|
factor = MY SMOOTH(1 + STEP(1, 2), 2)
\t~~|
:END OF MACRO:
"""


def test_macros_with_stocks_calling_macros_match_pysd(tmp_path):
    """Nested macros, stocks inside macros, several calls of one macro: PySD's own macro
    runner gives the same numbers."""
    pysd = pytest.importorskip("pysd")
    path = _model(tmp_path, POPULATION_MACROS, """\
population = INTEG(births - deaths, 100)
\t~~|
births = GROWTH(population, 0.02) * 0.01
\t~~|
deaths = MY SMOOTH(population * death rate, 3)
\t~~|
death rate = 0.01 + RAMP(0.001, 1, 5)
\t~~|
perceived = MY SMOOTH(population, 0.5) + MY SMOOTH(deaths, 1)
\t~~|
""", step=0.125, final=10)
    ours = deterrence.load(path).simulate(method="euler", saveper=0.5)
    copy = tmp_path / "pysd_copy.mdl"
    copy.write_text(path.read_text().replace("SAVEPER = TIME STEP", "SAVEPER = 0.5"))
    theirs = pysd.read_vensim(str(copy)).run()
    np.testing.assert_allclose(ours["time"].values, theirs.index.values)
    for name in ("population", "births", "deaths", "perceived"):
        np.testing.assert_allclose(ours[name].values, theirs[name].values, rtol=1e-12)


def test_a_macro_on_scalar_arguments_runs_inside_a_subscripted_equation(tmp_path):
    """``y[R] = base[R] * MY SMOOTH(10, 2)``: the macro's arguments are scalars, so it is
    expanded once (one stock, not one per element) and broadcast over R; a macro on a
    subscripted argument stays refused."""
    body = ("R: r1, r2, r3 ~~|\nbase[R] = 1, 2, 3 ~~|\n"
            "y[R] = base[R] * MY SMOOTH(10, 2) ~~|\n")
    ds = _run(tmp_path, SMOOTHER, body)
    assert ds["y"].dims == ("time", "R")
    np.testing.assert_allclose(ds["y"].values,
                               np.outer([0, 5, 7.5, 8.75], [1, 2, 3]))
    model = deterrence.load(_model(tmp_path, SMOOTHER, body))
    assert [n.label for n in model.compiled.nodes.values()].count(
        "macro MY SMOOTH in 'y': MY SMOOTH") == 1
    with pytest.raises(UnsupportedError, match="on subscripted arguments"):
        _run(tmp_path, SMOOTHER, body + "z[R] = MY SMOOTH(base[R], 2) ~~|\n")
