"""Attack: arithmetic on Time and literals alone (issue 8, item 7).

Python floats raise where NumPy returns inf or NaN: ``1/(Time-5)`` raised
ZeroDivisionError, ``(Time-5)^0.5`` a TypeError (a complex number), ``10^(Time*100)`` an
OverflowError, each as a traceback. Every path (the single-run Euler loop, the vector
code, initial values, constants, switch times, DELAY N orders, adaptive solvers) now
follows NumPy's semantics, so the usual diagnosis names the stock and the time.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from adversarial_support import run_cli

import deterrence
from deterrence.errors import ModelError, SimulationError


def write(tmp_path: Path, *equations: str, initial: str = "0") -> Path:
    blocks = [*equations, f"INITIAL TIME = {initial}", "FINAL TIME = 10", "TIME STEP = 1",
              "SAVEPER = 1", "k = 1"]
    path = tmp_path / "float.mdl"
    path.write_text("{UTF-8}\n" + "".join(f"{b}\n\t~\t\n\t~\t\n\t|\n\n" for b in blocks),
                    encoding="utf-8")
    return path


RATES = {
    "division_by_zero": ("1/(Time-5)", "time 5"),
    "root_of_a_negative": ("(Time-5)^0.5", "time 0"),
    "overflow": ("10^(Time*100)", "time 4"),
    "min_of_nan": ("MIN(1, Time*1e308*10 - Time*1e308*10)", "time 1"),
    "max_of_nan": ("MAX(-1, Time*1e308*10 - Time*1e308*10)", "time 1"),
}

# (method, params): the scalar Euler loop, the vector code, RK4
FIXED = {"euler": ("euler", {}), "euler_ensemble": ("euler", {"k": [1.0, 2.0]}),
         "rk4": ("rk4", {})}


@pytest.mark.parametrize("backend", ["native", "numpy"])
@pytest.mark.parametrize("path_name", list(FIXED))
@pytest.mark.parametrize("case", list(RATES))
def test_fixed_steps_name_the_stock_and_time(tmp_path: Path, case: str,
                                             path_name: str, backend: str) -> None:
    rate, when = RATES[case]
    model = deterrence.load(write(tmp_path, "S = INTEG(r * k, 0)", f"r = {rate}"))
    method, params = FIXED[path_name]
    with pytest.raises(SimulationError) as info:
        model.simulate(params, method=method, backend=backend)
    text = str(info.value)
    assert "stock 'S' became NaN or infinite" in text
    if method == "euler":
        assert when in text
        assert "'r' = " in text  # the first non-finite auxiliary


@pytest.mark.parametrize("method", ["RK45", "LSODA", "BDF", "Radau"])
@pytest.mark.parametrize("case", list(RATES))
def test_adaptive_methods_report_a_simulation_error(tmp_path: Path, case: str,
                                                    method: str) -> None:
    rate, _ = RATES[case]
    model = deterrence.load(write(tmp_path, "S = INTEG(r * k, 0)", f"r = {rate}"))
    with pytest.raises(SimulationError, match=r"(solver failed at time|stock 'S')"):
        model.simulate(method=method, max_evaluations=20_000)


@pytest.mark.parametrize("initial", ["0", "2 * 0"])  # a literal, or computed from literals
@pytest.mark.parametrize("method", ["euler", "RK45"])
@pytest.mark.parametrize("init", ["1/(Time-0)", "(Time-1)^0.5", "10^(Time+400)"])
def test_initial_value_of_time_alone(tmp_path: Path, init: str, method: str,
                                     initial: str) -> None:
    model = deterrence.load(write(tmp_path, f"S = INTEG(0, {init})", initial=initial))
    with pytest.raises(SimulationError, match="the initial value of 'S'"):
        model.simulate(method=method)


@pytest.mark.parametrize("method", ["euler", "RK45"])
def test_constants_of_literals_alone(tmp_path: Path, method: str) -> None:
    model = deterrence.load(write(tmp_path, "S = INTEG(c, 0)", "b = (5 - 5)", "c = 1/b",
                                  "d = (0 - 1)^0.5 + 1/(2 > 1 - 1)"))
    with pytest.raises(SimulationError, match="'S'"):
        model.simulate(method=method)
    assert model.simulate({"c": 1.0}, method=method)["d"].isnull().all()


@pytest.mark.parametrize(("switch", "final"), [
    ("Time * 0 > 5", 20.0), ("Time * 0 >= 0", 10.0), ("Time / 0 > 1", 10.0)])
def test_switch_times_of_degenerate_comparisons(tmp_path: Path, switch: str,
                                                final: float) -> None:
    """Where such a comparison switches is 0/0 or -5/0: no switch time, no traceback."""
    model = deterrence.load(write(tmp_path, "S = INTEG(r, 0)",
                                  f"r = IF THEN ELSE({switch}, 1, 2)"))
    assert float(model.simulate(method="RK45")["s"][-1]) == pytest.approx(final)


@pytest.mark.parametrize("order", ["1/0", "(0-1)^0.5"])
def test_delay_order_that_is_not_a_number(tmp_path: Path, order: str) -> None:
    with pytest.raises(ModelError, match=r"the order of DELAY N in .o. is (inf|nan)"):
        deterrence.load(write(tmp_path, "S = INTEG(o, 0)", f"o = DELAY N(1, 2, 0, {order})"))


def test_command_line_prints_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "S = INTEG(r * k, 0)", "r = (Time-5)^0.5")
    done = run_cli(["simulate", str(path), "--method", "euler"], cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "stock 'S' became NaN or infinite" in lines[0]
