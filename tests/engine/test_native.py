"""The native backend (numba): the same numbers as NumPy, and honest refusals.

Both backends give the same numbers (relative difference at most 1e-12) with ``euler``
and ``rk4`` on every conformance case that passes today and on the alliance model,
single runs and ensembles. Where the native kernel cannot compile something,
``backend="auto"`` falls back to NumPy with a logged warning naming it and
``backend="native"`` refuses with an ``UnsupportedError`` naming it.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pytest
from conformance_expectations import EXPECTED_UNSUPPORTED, KNOWN_MISMATCH, models_root
from hypothesis import given, settings
from hypothesis import strategies as st

import deterrence
from deterrence import ParameterError, UnsupportedError
from deterrence.analysis import conformance
from deterrence.compile.emit_native import _library
from deterrence.integrate import SolverOptions
from deterrence.library import FUNCTIONS, Family

REPO = Path(__file__).resolve().parents[2]
ALLIANCE = REPO / "sd_models" / "alliance_deterrence.mdl"
ROOT = models_root()
CASES = {c.name: c for c in conformance.find_cases(ROOT)} if ROOT.is_dir() else {}
PASSING = sorted(set(CASES) - set(EXPECTED_UNSUPPORTED) - set(KNOWN_MISMATCH))


def assert_same(native, numpy, rtol: float = 1e-12) -> None:
    """Every variable of two Datasets equal within ``rtol`` (NaN where the other is).

    Relative to the value, or to the largest value of the variable where a value is
    cancellation noise: a stock that integrates back to 0 ends at 1e-15 on one backend and
    2e-15 on the other (NumPy's single Euler run reads tables with Python's arithmetic,
    the kernel with ``np.interp``'s, which round differently in the last bit).
    """
    assert native.attrs["backend"] == "native"
    assert numpy.attrs["backend"] == "numpy"
    assert set(native.data_vars) == set(numpy.data_vars)
    for name in numpy.data_vars:
        a, b = np.asarray(native[name].values, float), np.asarray(numpy[name].values, float)
        assert a.shape == b.shape, name
        both_nan = np.isnan(a) & np.isnan(b)
        scale = float(np.nanmax(np.abs(b), initial=0.0))
        close = np.abs(a - b) <= rtol * np.maximum(np.maximum(np.abs(a), np.abs(b)), scale)
        assert np.all(both_nan | close | (a == b)), (
            name, float(np.nanmax(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))))


def _both(model, params=None, **kwargs):
    return (model.simulate(params, backend="native", **kwargs),
            model.simulate(params, backend="numpy", **kwargs))


@pytest.mark.skipif(not CASES, reason=f"the SDXorg test-models suite is not at {ROOT}")
@pytest.mark.parametrize("method", ["euler", "rk4"])
@pytest.mark.parametrize("name", PASSING)
def test_conformance_cases_give_the_same_numbers_on_both_backends(name, method):
    model = deterrence.load(CASES[name].model)
    auto = model.simulate(method=method, backend="auto")
    if auto.attrs["backend"] == "numpy":  # a construct the kernel does not compile
        with pytest.raises(UnsupportedError, match="native backend cannot compile"):
            model.simulate(method=method, backend="native")
        return
    assert_same(*_both(model, method=method))


@pytest.fixture(scope="module")
def alliance():
    return deterrence.load(ALLIANCE)


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_the_alliance_model_single_run(alliance, method):
    native, numpy = _both(alliance, method=method)
    assert_same(native, numpy)
    assert native.attrs["solver_nfev"] == numpy.attrs["solver_nfev"]


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_the_alliance_model_ensemble(alliance, method):
    rng = np.random.default_rng(11)
    ranged = [n for n, v in alliance.constants.items()
              if v.limits[0] is not None and v.limits[1] is not None][:3]
    params = {n: rng.uniform(*alliance.constants[n].limits, 64) for n in ranged}
    native, numpy = _both(alliance, params, method=method)
    assert_same(native, numpy)
    single = alliance.simulate({n: v[5] for n, v in params.items()}, method=method,
                               backend="native")
    stock = next(iter(alliance.stocks))
    np.testing.assert_allclose(native[stock].isel(run=5).values, single[stock].values,
                               rtol=1e-12)


def test_variables_and_save_times_are_respected(alliance):
    stock = next(iter(alliance.stocks))
    native, numpy = _both(alliance, {"joint_exercise_intensity": [0.2, 0.5]},
                          method="rk4", variables=[stock], saveper=1.0)
    assert list(native.data_vars) == [stock]
    assert_same(native, numpy)


def test_the_native_kernel_reports_the_failed_step(make_model):
    """x reaches 0 at time 2: the step from 2 to 2.25 (step 8) makes y infinite."""
    model = deterrence.load(make_model([("x", "INTEG(-0.5, 1)"), ("y", "INTEG(1 / x, 0)")],
                                       final=4, step=0.25))
    with pytest.raises(deterrence.SimulationError):
        model.simulate(method="euler", backend="native")
    native = model.program(frozenset(), True).native
    program = model.program()
    start = program.setup([np.float64(model.compiled.nodes[p].default)
                           for p in program.param_ids], True, 1e-9)
    y0 = np.array([[float(v) for v in start.y0]])
    k = np.array([[float(c) for c in start.constants]])
    states, fail = native.run("euler", k, y0, 0.0, 0.25, 16, 1, 17)
    assert fail.tolist() == [8]
    assert np.isfinite(states[:, :9, 0]).all()  # saved up to the step before


DELAY_FIXED = [("x", "INTEG(d, 0)"), ("d", "DELAY FIXED(1, 1, 0)")]
CHANGING_STEP = [("x", "INTEG(1, 0)")]


def test_auto_falls_back_to_numpy_naming_delay_fixed(make_model, caplog):
    model = deterrence.load(make_model(DELAY_FIXED, name="fixeddelay"))
    with caplog.at_level(logging.WARNING, logger="deterrence"):
        ds = model.simulate(method="euler", backend="auto")
    assert ds.attrs["backend"] == "numpy"
    assert "DELAY FIXED" in caplog.text
    assert "fixeddelay.mdl" in caplog.text
    with pytest.raises(UnsupportedError, match=r"native backend cannot compile DELAY FIXED"):
        model.simulate(method="euler", backend="native")


def test_adaptive_methods_are_refused_by_native_and_run_by_auto(make_model, caplog):
    """Adaptive methods have no native path yet: auto says so at INFO level only (the
    default method must not print a warning on every run)."""
    model = deterrence.load(make_model(CHANGING_STEP))
    with pytest.raises(UnsupportedError, match="'RK45'"):
        model.simulate(method="RK45", backend="native")
    with caplog.at_level(logging.INFO, logger="deterrence"):
        assert model.simulate(method="RK45", backend="auto").attrs["backend"] == "numpy"
    assert [(r.levelno, "RK45" in r.message) for r in caplog.records] == [(logging.INFO, True)]


def test_controls_that_change_are_named(make_model):
    path = make_model([("x", "INTEG(1, 0)")])
    text = path.read_text(encoding="utf-8").replace(
        "TIME STEP = 0.25", "TIME STEP = IF THEN ELSE(Time < 5, 0.5, 1)")
    path.write_text(text, encoding="utf-8")
    model = deterrence.load(path)
    with pytest.raises(UnsupportedError, match="controls that change during the run"):
        model.simulate(method="euler", backend="native")
    assert model.simulate(method="euler").attrs["backend"] == "numpy"


def test_a_bad_backend_is_refused():
    with pytest.raises(ParameterError, match="backend='fortran'"):
        SolverOptions(method="euler", backend="fortran")
    assert SolverOptions.from_mapping({"method": "rk4", "backend": "numpy"}).backend == "numpy"


def test_hydra_solver_backend():
    from omegaconf import OmegaConf

    from deterrence.experiments.config import SolverConfig, solver_kwargs

    cfg = OmegaConf.structured(SolverConfig)
    assert solver_kwargs(cfg)["solver"].backend == "numpy"  # the default, for now
    cfg.backend = "native"
    assert solver_kwargs(cfg)["solver"].backend == "native"


def test_cli_backend(make_model, capsys):
    from deterrence.cli import main

    path = make_model(CHANGING_STEP)
    assert main(["simulate", str(path), "--method", "rk4", "--backend", "native"]) == 0
    assert "x = 10" in capsys.readouterr().out


# -- the native flavour of the library ------------------------------------------------

# the RANDOM family has no native flavour yet (SciPy's inverse CDFs): backend="auto"
# runs such models on NumPy (docs/engine.md, Random numbers)
IMPLEMENTED = [e for e in FUNCTIONS if e.vector is not None and e.scalar is not None
               and e.family is not Family.RANDOM]
values = st.one_of(st.floats(-1e3, 1e3, allow_nan=False),
                   st.sampled_from([0.0, 1.0, -1.0, 0.5, 1e-7, -1e-7, 2.0, 1e6, math.nan]))


@pytest.mark.parametrize("entry", IMPLEMENTED, ids=[e.key for e in IMPLEMENTED])
def test_native_implementations_agree_with_the_vector_flavour(entry):
    """Compiled by numba, on NaN and zero too: the numbers of the vector flavour."""
    native = _library()[entry.ident]

    @settings(max_examples=60, deadline=None)
    @given(st.data())
    def check(data):
        if entry.family is Family.LOOKUP:
            xs = sorted(set(data.draw(st.lists(st.floats(-100, 100), min_size=1,
                                               max_size=6))))
            ys = data.draw(st.lists(st.floats(-100, 100), min_size=len(xs),
                                    max_size=len(xs)))
            args = [data.draw(st.floats(-150, 150)), np.array(xs), np.array(ys)]
        else:
            start = data.draw(st.floats(-100, 100))
            clocks = [start + data.draw(st.floats(0, 5)) if c == "ts" else start
                      for c in entry.clocks]
            n_args = len(entry.order) if entry.order is not None else entry.arity or 0
            args = clocks + [data.draw(values) for _ in range(n_args)] + [
                data.draw(st.floats(1e-3, 2)) for _ in entry.controls]
            args = [float(a) for a in args]
        with np.errstate(all="ignore"):
            expected = float(np.asarray(entry.vector(*(  # type: ignore[misc]
                a if isinstance(a, np.ndarray) else np.float64(a) for a in args))))
            got = float(native(*args))  # a ufunc called from Python warns otherwise
        if math.isnan(expected) or math.isnan(got):
            assert math.isnan(expected), (entry.key, args, expected, got)
            assert math.isnan(got), (entry.key, args, expected, got)
        else:
            assert np.isclose(got, expected, rtol=1e-12, atol=1e-12), (entry.key, args,
                                                                       expected, got)

    check()
