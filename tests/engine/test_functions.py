"""The function library against its definitions: each equation of Time, value by value.

The SDXorg suite has no case for some functions in scope (LOOKUP EXTRAPOLATE/FORWARD/
BACKWARD, TREND, QUANTUM, the trigonometric ones); these check them directly, with the
vector flavour (an ensemble of two runs) and the scalar single-run flavour alike.
"""

from __future__ import annotations

import numpy as np
import pytest

import deterrence

TABLE = "([(-10,-10)-(10,10)],(0,0),(1,2),(2,3))"
T = np.arange(0, 4.01, 0.25) - 1  # the model's Time runs from -1 to 3

CASES = {
    "MIN(Time, 1)": np.minimum(T, 1),
    "MAX(Time, 1)": np.maximum(T, 1),
    "ABS(Time)": np.abs(T),
    "SQRT(ABS(Time))": np.sqrt(np.abs(T)),
    "EXP(Time)": np.exp(T),
    "LN(Time + 2)": np.log(T + 2),
    "LOG(Time + 2, 10)": np.log10(T + 2),
    "SIN(Time)": np.sin(T),
    "COS(Time)": np.cos(T),
    "TAN(Time / 2)": np.tan(T / 2),
    "ARCTAN(Time)": np.arctan(T),
    "INTEGER(Time * 1.5)": np.trunc(T * 1.5),
    "MODULO(Time + 5, 2)": np.fmod(T + 5, 2),
    "QUANTUM(Time + 5, 2)": 2 * np.trunc((T + 5) / 2),
    "POWER(Time + 2, 1.5)": (T + 2) ** 1.5,
    "(Time + 2) ^ 2": (T + 2) ** 2,
    "XIDZ(1, Time, 7)": np.where(np.abs(T) < 1e-6, 7, 1 / np.where(T == 0, 1, T)),
    "ZIDZ(1, Time)": np.where(np.abs(T) < 1e-6, 0, 1 / np.where(T == 0, 1, T)),
    "IF THEN ELSE(Time >= 1 :AND: Time < 2, 1, 0)": ((T >= 1) & (T < 2)).astype(float),
    "IF THEN ELSE(:NOT: (Time > 0) :OR: Time = 2, 1, 0)": ((T <= 0) | (T == 2)).astype(float),
    "table(Time)": np.interp(T, [0, 1, 2], [0, 2, 3]),
    "LOOKUP EXTRAPOLATE(table, Time)": np.where(
        T < 0, 2 * T, np.where(T > 2, 3 + (T - 2), np.interp(T, [0, 1, 2], [0, 2, 3]))),
    "LOOKUP FORWARD(table, Time)": np.array([[0, 2, 3][min(int(np.ceil(t)), 2)] if t > 0
                                             else 0 for t in T], dtype=float),
    "LOOKUP BACKWARD(table, Time)": np.array([[0, 2, 3][min(max(int(np.floor(t)), 0), 2)]
                                              for t in T], dtype=float),
    "WITH LOOKUP(Time, ([(0,0)-(2,3)],(0,0),(1,2),(2,3)))": np.interp(T, [0, 1, 2], [0, 2, 3]),
    "RAMP(2, 0, 1)": 2 * (np.clip(T, 0, 1) - 0) * (T > 0),
}


@pytest.fixture(scope="module")
def functions_model(tmp_path_factory, model_text):
    equations = [("table", TABLE), ("knob", "1")]
    names = {}
    for i, equation in enumerate(CASES):
        names[equation] = f"f{i}"
        equations.append((f"f{i}", f"{equation} * knob"))
    path = tmp_path_factory.mktemp("functions") / "functions.mdl"
    text = model_text(equations, initial=-1, final=3, step=0.25)
    path.write_text(text.replace("table = ([", "table([", 1))  # a standalone lookup
    return deterrence.load(path), names


@pytest.mark.parametrize("equation", list(CASES))
@pytest.mark.parametrize("runs", [1, 2], ids=["single", "ensemble"])
def test_function_values(functions_model, equation, runs):
    model, names = functions_model
    params = {"knob": 1.0} if runs == 1 else {"knob": [1.0, 1.0]}
    ds = model.simulate(params, method="euler")
    values = ds[names[equation]]
    if runs == 2:
        values = values.isel(run=1)
    np.testing.assert_allclose(values.values, CASES[equation], rtol=1e-12, atol=1e-12)


def test_trend_of_exponential_growth_is_its_growth_rate(make_model):
    """TREND of x = exp(g t) is Vensim's fractional growth rate: it starts at the initial
    trend it is given (here 0) and converges to g."""
    model = deterrence.load(make_model([
        ("x", "EXP(0.05 * Time)"),
        ("growth", "TREND(x, 1, 0)"),
    ], final=40, step=0.0625))
    ds = model.simulate(method="RK45", rtol=1e-9, atol=1e-12)
    assert float(ds["growth"].isel(time=0)) == pytest.approx(0.0, abs=1e-12)
    assert float(ds["growth"].isel(time=-1)) == pytest.approx(0.05, rel=1e-6)


def test_trend_matches_pysd(make_model, tmp_path):
    pysd = pytest.importorskip("pysd")
    path = make_model([
        ("x", "10 + STEP(5, 2) + RAMP(1, 4, 8)"),
        ("growth", "TREND(x, 3, 0.1)"),
        ("smoothed", "SMOOTH N(x, 2, 10, 3)"),
        ("delayed", "DELAY N(x, 2, 10, 4)"),
    ], final=10, step=0.125)
    ours = deterrence.load(path).simulate(method="euler")
    copy = tmp_path / "pysd_copy.mdl"
    copy.write_text(path.read_text())
    theirs = pysd.read_vensim(str(copy)).run()
    for name, column in (("growth", "growth"), ("smoothed", "smoothed"),
                         ("delayed", "delayed")):
        np.testing.assert_allclose(ours[name].values, theirs[column].values, rtol=1e-9,
                                   atol=1e-12)
