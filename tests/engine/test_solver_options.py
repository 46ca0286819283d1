"""The solver as one value and one registry per kind of method (issue 9).

A fixed-step scheme is one registered class; ``SolverOptions`` is checked when it is
made and is the same run as the keyword arguments; bad control values reach the user as
the package's own errors naming the file, never as a plain ValueError.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import deterrence
from deterrence import integrate
from deterrence.errors import ModelError, ParameterError
from deterrence.integrate import Scheme, SolverOptions, register_scheme


@pytest.fixture
def decay(make_model):
    return deterrence.load(make_model([("S", "INTEG(-S / 2, 1)")], name="decay", final=4,
                                      step=0.25))


class Midpoint(Scheme):
    """Explicit midpoint, a second-order scheme only these tests know."""

    name = "midpoint"
    evals_per_step = 2

    def advance(self, rates: Any, t: Any, dt: Any, y: np.ndarray,
                z: tuple[Any, ...]) -> tuple[np.ndarray, tuple[Any, ...]]:
        ts = t + dt / 2
        k1, pipe_in = rates(t, t, ts, y, z)
        k2, _ = rates(t + dt / 2, t, ts, y + dt / 2 * k1, z)
        return y + dt * k2, pipe_in


@pytest.fixture
def midpoint() -> Iterator[type[Scheme]]:
    register_scheme(Midpoint)
    try:
        yield Midpoint
    finally:
        del integrate.SCHEMES[Midpoint.name]


# --- the scheme registry ---------------------------------------------------------------


def test_method_names_are_read_from_the_registries():
    assert integrate.FIXED_METHODS == ("euler", "rk4")
    assert integrate.ADAPTIVE_METHODS == ("RK45", "RK23", "DOP853", "LSODA", "Radau", "BDF")
    assert integrate.METHODS == integrate.FIXED_METHODS + integrate.ADAPTIVE_METHODS
    assert tuple(integrate.SCHEMES) == integrate.FIXED_METHODS
    assert tuple(integrate.ADAPTIVE) == integrate.ADAPTIVE_METHODS


def test_a_registered_scheme_is_a_method_by_name(decay, midpoint):
    assert "midpoint" in integrate.METHODS
    assert "midpoint" in integrate.FIXED_METHODS
    ds = decay.simulate(method="MidPoint")
    assert ds.attrs["method"] == "midpoint"
    assert ds.attrs["solver_nfev"] == 2 * 16  # evals_per_step x steps
    n = np.arange(17)
    exact_step = 1 - 0.25 / 2 + 0.25 ** 2 / 8  # midpoint's growth factor for y' = -y/2
    np.testing.assert_allclose(ds["s"].values, exact_step ** n, rtol=1e-12)
    euler = decay.simulate(method="euler")
    assert abs(float(ds["s"][-1]) - math.exp(-2)) < abs(float(euler["s"][-1]) - math.exp(-2))


def test_a_registered_scheme_is_offered_by_the_command_line(midpoint, capsys):
    from deterrence.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["simulate", "--help"])
    assert "euler or rk4 or midpoint" in " ".join(capsys.readouterr().out.split())


def test_a_method_name_is_registered_once():
    class Other(Midpoint):
        name = "Euler"

    class Shadow(Midpoint):
        name = "rk45"

    with pytest.raises(ValueError, match="a method named 'RK45' is registered already"):
        register_scheme(Shadow)

    with pytest.raises(ValueError, match="a method named 'euler' is registered already"):
        register_scheme(Other)
    assert integrate.SCHEMES["euler"] is integrate.schemes.Euler


def test_unknown_method_is_a_parameter_error_listing_the_registered(decay, midpoint):
    with pytest.raises(ParameterError, match="unknown method 'rk5'") as info:
        decay.simulate(method="rk5")
    assert str(info.value).startswith(str(decay.path))
    for name in integrate.METHODS:
        assert name in str(info.value)
    assert "midpoint" in str(info.value)
    with pytest.raises(ParameterError, match="unknown method 'rk5'"):
        SolverOptions(method="rk5")


# --- SolverOptions ---------------------------------------------------------------------


BAD = {
    "negative_rtol": ({"rtol": -1e-6}, "rtol=-1e-06: the relative tolerance must be a "
                      "positive finite number"),
    "nan_rtol": ({"rtol": math.nan}, "rtol=nan: the relative tolerance must be"),
    "none_rtol": ({"rtol": None}, "rtol=None is not a number"),
    "inf_atol": ({"atol": math.inf}, "atol=inf: the absolute tolerance must be"),
    "text_atol": ({"atol": "small"}, "atol='small' is not a number"),
    "zero_max_step": ({"max_step": 0.0}, "max_step=0.0: the largest step must be"),
    "negative_first_step": ({"first_step": -0.1}, "first_step=-0.1: the first step must"),
    "zero_evaluations": ({"max_evaluations": 0}, "max_evaluations=0: expected a positive "
                         "whole number"),
    "bool_evaluations": ({"max_evaluations": True}, "max_evaluations=True: expected"),
    "unknown_method": ({"method": "rk99"}, "unknown method 'rk99'; choose one of euler"),
    "no_method": ({"method": None}, "unknown method None"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_each_bad_option_is_a_parameter_error(case):
    options, message = BAD[case]
    with pytest.raises(ParameterError) as info:
        SolverOptions(**options)
    assert message in str(info.value)


def test_options_are_canonical_and_frozen():
    options = SolverOptions(method="radau", max_step=math.inf, max_evaluations=1000.0)
    assert options.method == "Radau"
    assert not options.fixed
    assert SolverOptions(method="RK4").fixed
    with pytest.raises(AttributeError):
        options.rtol = 1.0  # type: ignore[misc]
    assert SolverOptions() == SolverOptions(method="rk45")


def test_options_from_a_config_ignore_the_other_keys():
    config = {"method": "bdf", "rtol": 1e-7, "atol": 1e-9, "max_step": None,
              "time_step": 0.5, "saveper": None, "max_memory": "1GiB"}
    assert SolverOptions.from_mapping(config) == SolverOptions(method="BDF", rtol=1e-7,
                                                               atol=1e-9)
    assert SolverOptions.from_mapping({}) == SolverOptions()
    with pytest.raises(ParameterError, match="rtol=nan"):
        SolverOptions.from_mapping({"rtol": math.nan})


def test_options_from_a_hydra_config():
    omegaconf = pytest.importorskip("omegaconf")
    cfg = omegaconf.OmegaConf.create({"method": "LSODA", "rtol": 1e-5, "atol": 1e-7,
                                      "max_step": None, "final_time": None})
    assert SolverOptions.from_mapping(cfg) == SolverOptions("LSODA", 1e-5, 1e-7)


@pytest.mark.parametrize("method", ["euler", "rk4", "RK45", "LSODA", "Radau"])
def test_solver_options_give_the_keyword_run(decay, method):
    keywords = dict(method=method, rtol=1e-8, atol=1e-10, max_step=0.5, first_step=0.01,
                    max_evaluations=100_000)
    a = decay.simulate(**keywords)
    b = decay.simulate(solver=SolverOptions(**keywords))
    np.testing.assert_array_equal(a["s"].values, b["s"].values)
    for key in ("method", "rtol", "atol", "max_step"):
        assert a.attrs.get(key) == b.attrs.get(key)
    assert a.attrs["solver_nfev"] == b.attrs["solver_nfev"]


def test_solver_and_solver_keywords_are_not_mixed(decay):
    with pytest.raises(ParameterError, match="solver= and rtol= given together"):
        decay.simulate(solver=SolverOptions(), rtol=1e-3)
    with pytest.raises(ParameterError, match=r"expected a deterrence\.SolverOptions"):
        decay.simulate(solver={"method": "euler"})  # type: ignore[arg-type]


def test_solver_options_are_public():
    assert deterrence.SolverOptions is SolverOptions


# --- control values are the package's errors -------------------------------------------


CONTROLS = {
    "final_before_initial": ({"initial_time": 5, "final_time": 2}, "euler",
                             "FINAL TIME (2) is before INITIAL TIME (5)"),
    "saveper_not_a_multiple": ({"saveper": 0.3}, "rk4",
                               "SAVEPER (0.3) is not a multiple of TIME STEP (0.25)"),
    "saveper_not_a_multiple_registered": ({"saveper": 0.3}, "midpoint",
                                          "midpoint saves on its steps"),
    "negative_time_step": ({"time_step": -1}, "euler", "time_step=-1: TIME STEP must be"),
    "nan_initial_time": ({"initial_time": math.nan}, "RK45",
                         "initial_time=nan: it must be a finite number"),
}


@pytest.mark.parametrize("case", list(CONTROLS))
def test_bad_control_values_are_model_errors_naming_the_file(decay, midpoint, case):
    overrides, method, message = CONTROLS[case]
    with pytest.raises(ModelError) as info:
        decay.simulate(method=method, **overrides)
    assert message in str(info.value)
    assert str(info.value).startswith(str(decay.path))


def test_control_values_from_the_file_are_model_errors(make_model):
    model = deterrence.load(make_model([("S", "INTEG(1, 0)")], name="back", initial=10,
                                       final=0))
    with pytest.raises(ModelError, match=r"FINAL TIME \(0\) is before INITIAL TIME \(10\)") \
            as info:
        model.simulate(method="euler")
    assert info.value.path == model.path


def test_too_many_switch_times_is_a_model_error(make_model):
    model = deterrence.load(make_model(
        [("S", "INTEG(PULSE TRAIN(0, 1e-6, 2e-6, 1), 0)")], name="pulses", final=1, step=0.5))
    with pytest.raises(ModelError, match="switch times in the horizon; too many") as info:
        model.simulate(method="RK45")
    assert not isinstance(info.value, ValueError)
    assert str(info.value).startswith(str(model.path))


def test_a_time_step_that_turns_negative_is_a_model_error(make_model):
    path = make_model([("S", "INTEG(1, 0)")], name="shrinking", final=10, step=1)
    path.write_text(path.read_text().replace("TIME STEP = 1", "TIME STEP = 4 - Time"))
    model = deterrence.load(path)
    with pytest.raises(ModelError, match="TIME STEP is 0 and SAVEPER 1; both must stay "
                       "positive") as info:
        model.simulate(method="euler")
    assert str(info.value).startswith(str(model.path))


def test_a_time_grid_that_differs_between_runs_is_a_model_error(make_model):
    path = make_model([("S", "INTEG(1, 0)"), ("horizon", "10")], name="horizons")
    path.write_text(path.read_text().replace("FINAL TIME = 10", "FINAL TIME = horizon"))
    model = deterrence.load(path)
    with pytest.raises(ModelError, match="FINAL TIME differs between runs"):
        model.simulate({"horizon": [5, 10]}, method="euler")


def test_integrate_sees_arrays_only():
    """integrate/ imports nothing of the compiler, the front end or the model."""
    import ast
    from pathlib import Path

    allowed = {"deterrence.errors", "deterrence.limits"}
    package = Path(integrate.__file__).parent
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                if node.level == 1:
                    continue  # within integrate/
                target = "deterrence." + (node.module or "")
            elif isinstance(node, ast.ImportFrom):
                target = node.module or ""
            elif isinstance(node, ast.Import):
                target = next((a.name for a in node.names if a.name.startswith("deter")), "")
            else:
                continue
            if target.startswith("deterrence"):
                assert target in allowed, f"{path.name} imports {target}"
