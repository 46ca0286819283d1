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
from mdl_support import mdl_text

import deterrence
from deterrence import ParameterError, UnsupportedError, backends
from deterrence.analysis import conformance
from deterrence.compile import emit_native
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
    program = model.program(frozenset(), True)
    if emit_native.unsupported(program.plan) is not None:  # a construct it does not run
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


DELAY_FIXED = [("x", "INTEG(d, 0)"), ("d", "DELAY FIXED(a, 1, 0)"), ("a", "1")]
CHANGING_STEP = [("x", "INTEG(1, 0)")]


def test_auto_falls_back_to_numpy_naming_delay_fixed(make_model, caplog):
    """An ensemble large enough for auto to compile, of a model the kernel cannot run."""
    model = deterrence.load(make_model(DELAY_FIXED, name="fixeddelay"))
    many = {"a": np.linspace(0, 1, backends.AUTO_MIN_WORK)}
    with caplog.at_level(logging.WARNING, logger="deterrence"):
        ds = model.simulate(many, method="euler", backend="auto")
    assert ds.attrs["backend"] == "numpy"
    assert "DELAY FIXED" in caplog.text
    assert "fixeddelay.mdl" in caplog.text
    with pytest.raises(UnsupportedError, match=r"native backend cannot compile DELAY FIXED"):
        model.simulate(method="euler", backend="native")


SCIPY = ["RK45", "RK23", "DOP853", "Radau", "BDF", "LSODA"]


@pytest.mark.parametrize("method", SCIPY)
def test_scipy_methods_call_compiled_rates_with_the_same_numbers(alliance, method):
    """The compiled rates give NumPy's numbers, so SciPy takes the same steps: single
    runs and an ensemble (Radau and BDF with the ensemble's Jacobian, LSODA banded)."""
    native, numpy = _both(alliance, method=method)
    assert_same(native, numpy)
    assert native.attrs["solver_nfev"] == numpy.attrs["solver_nfev"]
    params = {"joint_exercise_intensity": np.linspace(0.1, 0.9, 3)}
    assert_same(*_both(alliance, params, method=method))


def test_compiled_rates_at_the_same_points(alliance):
    """At random states, times and constants: the compiled rates and NumPy's agree to
    1e-12 (relative), every stock of every run."""
    program = alliance.program(frozenset(), False)
    start = program.setup([np.float64(alliance.compiled.nodes[p].default)
                           for p in program.param_ids], False, 1e-9)
    rng = np.random.default_rng(5)
    n_runs = 50
    y0 = np.array([float(v) for v in start.y0])[:, None]
    y = y0 * rng.uniform(0.5, 1.5, (len(y0), n_runs))
    constants = tuple(np.asarray(k, dtype=float) * rng.uniform(0.9, 1.1, n_runs)
                      for k in start.constants)
    numpy_rates = program.make_vector(constants).rates
    native = backends.choose("native", program, "RK45", n_runs, alliance.path)
    compiled = backends.rates_of(native, constants, numpy_rates)
    assert compiled is not numpy_rates
    for t in rng.uniform(0, 80, 10):
        with np.errstate(all="ignore"):
            expected, _ = numpy_rates(np.float64(t), t, t, y, ())
        got, _ = compiled(t, t, t, y, ())
        np.testing.assert_allclose(got, np.broadcast_to(expected, got.shape), rtol=1e-12,
                                   atol=1e-300)


def test_max_evaluations_on_compiled_rates(make_model):
    model = deterrence.load(make_model([("x", "INTEG(-1 / x, 1)")], name="creep", final=2))
    with pytest.raises(deterrence.SimulationError, match=r"creep\.mdl.*20,000 evaluations"):
        model.simulate(method="LSODA", max_evaluations=20_000, backend="native")


def test_adaptive_methods_run_natively_and_auto_keeps_small_runs_on_numpy(make_model,
                                                                         caplog):
    """A SciPy method on native: compiled rates; auto leaves a small run in a fresh
    process to NumPy without a word (numba's start-up would cost more)."""
    model = deterrence.load(make_model(CHANGING_STEP))
    assert model.simulate(method="RK45", backend="native").attrs["backend"] == "native"
    fresh = deterrence.load(model.path)
    with caplog.at_level(logging.INFO, logger="deterrence"):
        assert fresh.simulate(method="RK45", backend="auto").attrs["backend"] == "numpy"
    assert caplog.records == []


def test_auto_compiles_where_it_pays(make_model, caplog):
    """auto: NumPy for a small run in a process without the kernel (numba's start-up
    costs more), native for a large ensemble, and native for any run once the kernel is
    compiled in the process; no warning either way."""
    model = deterrence.load(make_model([("x", "INTEG(r * x, 1)"), ("r", "0.1")]))
    with caplog.at_level(logging.WARNING, logger="deterrence"):
        assert model.simulate(method="rk4").attrs["backend"] == "numpy"
        n = backends.AUTO_MIN_WORK // 4  # rk4: four evaluations a step
        big = model.simulate({"r": np.linspace(0, 0.2, n)}, method="rk4")
        assert big.attrs["backend"] == "native"
        small = model.simulate(method="rk4")
        assert small.attrs["backend"] == "native"
        assert model.simulate(method="euler").attrs["backend"] == "numpy"  # its own kernel
    assert caplog.text == ""
    assert_same(small, model.simulate(method="rk4", backend="numpy"))


@pytest.mark.parametrize("method", ["euler", "rk4", "RK45"])
def test_a_single_runs_auxiliaries_are_computed_by_the_kernel_with_numpys_numbers(
        alliance, method):
    """One run's auxiliaries at the save times come from the compiled outputs (the
    Dataset of a single run no longer waits for NumPy's), with NumPy's numbers and
    dtypes."""
    native, numpy = _both(alliance, method=method)
    program = alliance.program(frozenset(), method in emit_native.SCHEMES)
    assert program.memo["native outputs"] is True
    assert "outputs" in program.native.compile_seconds
    assert_same(native, numpy)
    assert {n: v.dtype for n, v in native.variables.items()} == \
        {n: v.dtype for n, v in numpy.variables.items()}
    part = alliance.simulate(method=method, backend="native", variables=["policy_switch"])
    assert list(part.data_vars) == ["policy_switch"]
    np.testing.assert_array_equal(part["policy_switch"].values,
                                  native["policy_switch"].values)


def test_a_comparison_valued_auxiliary_stays_a_bool_as_on_numpy(make_model):
    """NumPy keeps ``Time > 5`` as a bool; the kernel would write 1.0, so such a
    program's outputs stay NumPy's."""
    model = deterrence.load(make_model([("s", "INTEG(r, 0)"), ("flag", "Time > 5"),
                                        ("r", "IF THEN ELSE(flag, 1, 2)")], final=10, step=1))
    native, numpy = _both(model, method="euler")
    assert native["flag"].dtype == numpy["flag"].dtype == np.bool_
    np.testing.assert_array_equal(native["flag"].values, numpy["flag"].values)
    assert_same(native, numpy)


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

    cfg = OmegaConf.structured(SolverConfig(method="euler"))
    assert solver_kwargs(cfg, None)["solver"].backend == "auto"  # the default
    cfg.backend = "native"
    assert solver_kwargs(cfg, None)["solver"].backend == "native"


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


# -- model text is data ----------------------------------------------------------------


@pytest.mark.parametrize("method", ["euler", "rk4", "RK45"])
def test_no_text_of_the_model_becomes_native_code(tmp_path, method):
    """A model whose names, units and comments are Python code: on the native backend
    nothing runs (no marker file), and neither the generated module nor the file the
    disk cache keeps contains any of the text."""
    from test_bad_input import hostile_mdl

    markers = tmp_path / "markers"
    markers.mkdir()
    path = tmp_path / "hostile.mdl"
    path.write_text(hostile_mdl(markers))
    model = deterrence.load(path)
    ds = model.simulate(method=method, backend="native")
    assert ds.attrs["backend"] == "native"
    assert list(markers.iterdir()) == []
    native = model.program(frozenset(), method != "RK45").native
    assert native.entry is not None
    on_disk = native.entry.module_file.read_text(encoding="utf-8")
    assert on_disk == native.source
    for fragment in ("__import__", "system", "touch", "os.", "remove", "lambda", "exec",
                     "eval", "__class__", str(markers)):
        assert fragment not in native.source, fragment
    assert_same(ds, model.simulate(method=method, backend="numpy"))


ARRAY_RANGES = "Region: north, south, east\n\t~\t~\t|\n"


@pytest.mark.parametrize(("equation", "name"), [
    ("VECTOR SELECT(sel[Region!], sel[Region!] * a, 0, 0, 0)", "VECTOR SELECT"),
    ("SUM(ALLOCATE BY PRIORITY(sel[Region!], sel[Region!], 3, 1, a))",
     "ALLOCATE BY PRIORITY"),
])
def test_native_refuses_vector_select_and_allocate_naming_the_function(tmp_path, caplog,
                                                                       equation, name):
    """A scalar use of an array function: the kernel names the function it cannot run."""
    path = tmp_path / "arrays.mdl"
    text = mdl_text([("sel[Region]", "0, 1, 2"), ("a", "1"), ("x", "INTEG(f, 0)"),
                     ("f", equation)])
    path.write_text(text.replace("{UTF-8}\n", "{UTF-8}\n" + ARRAY_RANGES, 1))
    model = deterrence.load(path)
    with pytest.raises(UnsupportedError, match=f"native backend cannot compile {name}"):
        model.simulate(method="euler", backend="native")
    many = {"a": np.linspace(0, 1, backends.AUTO_MIN_WORK)}
    with caplog.at_level(logging.WARNING, logger="deterrence"):
        ds = model.simulate(many, method="euler", backend="auto")
    assert ds.attrs["backend"] == "numpy"
    assert name in caplog.text
