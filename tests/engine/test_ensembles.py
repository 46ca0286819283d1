"""Ensembles: a 1-D parameter array of N values runs N simulations along ``run``.

Every run of an ensemble must equal the single run with the same parameters: exactly
for the fixed-step methods (the same arithmetic), to solver tolerance for the adaptive
ones (their step sizes are chosen for all runs together).
"""

from __future__ import annotations

import numpy as np
import pytest

import deterrence

METHODS = ["euler", "rk4", "RK45", "LSODA", "Radau", "BDF"]
SOLVER = {"rtol": 1e-9, "atol": 1e-9}
INFECTIVITY = np.array([0.3, 0.45, 0.6, 0.9])  # R0 = 1.5 ... 4.5


@pytest.fixture
def sir(make_model):
    """A small SIR model with a STEP and a SMOOTH (a hidden stock) in its contact rate."""
    return deterrence.load(make_model([
        ("Susceptible", "INTEG(-infections, total population - 1)", "people", ""),
        ("Infectious", "INTEG(infections - recoveries, 1)", "people", ""),
        ("Recovered", "INTEG(recoveries, 0)", "people", ""),
        ("infections", "contact infectivity * contacts * Susceptible * Infectious "
         "/ total population", "people/Day", ""),
        ("recoveries", "Infectious / duration", "people/Day", ""),
        ("contacts", "1 + STEP(lockdown effect, lockdown time) - perceived risk", "Dmnl", ""),
        ("perceived risk", "SMOOTH(Infectious / total population, 3)", "Dmnl", ""),
        ("contact infectivity", "0.3", "1/Day", ""),
        ("duration", "5", "Day", ""),
        ("total population", "1000", "people", ""),
        ("lockdown effect", "-0.5", "Dmnl", ""),
        ("lockdown time", "20", "Day", ""),
    ], name="sir", final=60, step=0.125, saveper=1))


def _compare(ens, single, run, exact):
    for name in single.data_vars:
        a = ens[name].isel(run=run).values
        b = single[name].values
        if exact:
            np.testing.assert_array_equal(a, b, err_msg=name)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("method", METHODS)
def test_each_run_equals_the_single_run(sir, method):
    ens = sir.simulate({"Contact Infectivity": INFECTIVITY}, method=method, **SOLVER)
    assert ens["infectious"].dims == ("time", "run")
    assert ens.sizes["run"] == len(INFECTIVITY)
    np.testing.assert_array_equal(ens["run"].values, np.arange(len(INFECTIVITY)))
    np.testing.assert_array_equal(ens["contact_infectivity"].values, INFECTIVITY)
    assert ens["contact_infectivity"].dims == ("run",)
    for run, value in enumerate(INFECTIVITY):
        single = sir.simulate({"Contact Infectivity": value}, method=method, **SOLVER)
        assert "run" not in single.dims
        _compare(ens, single, run, exact=method in ("euler", "rk4"))
    # the runs really differ: a higher infectivity gives a bigger epidemic
    peaks = ens["infectious"].max("time").values
    assert np.all(np.diff(peaks) > 0)


@pytest.mark.parametrize("method", ["euler", "RK45", "BDF"])
def test_several_parameters_vary_together_with_switch_times(sir, method):
    params = {"contact infectivity": [0.4, 0.6, 0.8], "lockdown time": [5.5, 20.0, 33.3],
              "duration": 4.0}
    ens = sir.simulate(params, method=method, **SOLVER)
    for run in range(3):
        single = sir.simulate({k: (v[run] if isinstance(v, list) else v)
                               for k, v in params.items()}, method=method, **SOLVER)
        _compare(ens, single, run, exact=method == "euler")
    np.testing.assert_array_equal(ens["duration"].values, [4.0, 4.0, 4.0])


def test_an_ensemble_of_one_has_a_run_dimension(sir):
    ens = sir.simulate({"duration": [5.0]}, method="euler")
    single = sir.simulate(method="euler")
    assert ens.sizes["run"] == 1
    _compare(ens, single, 0, exact=True)


def test_parameters_accept_numpy_arrays_and_python_names(sir):
    a = sir.simulate({"contact_infectivity": np.array([0.3, 0.6])}, method="euler")
    b = sir.simulate({"Contact Infectivity": [0.3, 0.6]}, method="euler")
    np.testing.assert_array_equal(a["infectious"].values, b["infectious"].values)


def test_mismatched_lengths_raise_parameter_error(sir):
    with pytest.raises(deterrence.ParameterError, match=r"different lengths \[2, 3\]"):
        sir.simulate({"contact infectivity": [0.3, 0.4, 0.5], "duration": [4, 5]})


@pytest.mark.parametrize(("value", "match"), [
    ([], "empty"),
    ([[0.3, 0.4], [0.5, 0.6]], "1-D"),
    ([0.3, float("nan")], "finite"),
    ("lots", "not a number"),
])
def test_bad_parameter_values_raise_parameter_error(sir, value, match):
    with pytest.raises(deterrence.ParameterError, match=match):
        sir.simulate({"contact infectivity": value})


def test_control_variables_cannot_vary_between_runs(sir):
    with pytest.raises(deterrence.ParameterError, match="control variable"):
        sir.simulate({"TIME STEP": [0.125, 0.25]}, method="euler")


def test_a_scalar_override_changes_the_run(sir):
    base = sir.simulate(method="euler")
    slower = sir.simulate({"contact infectivity": 0.2}, method="euler")
    assert float(slower["infectious"].max()) < float(base["infectious"].max())
    assert float(slower["contact_infectivity"]) == 0.2


def test_a_single_euler_run_leaves_later_programs_intact(make_model):
    """The single-run Euler kernel rewrites IF THEN ELSE for Python floats; that rewrite
    once changed the shared expressions, so a later ensemble failed on an array truth."""
    model = deterrence.load(make_model([
        ("S", "INTEG(r, 0)"), ("k", "1"), ("j", "2"),
        ("r", "IF THEN ELSE(S > 3, k, j) ^ 2")]))
    single = model.simulate(method="euler")
    ensemble = model.simulate({"k": [1.0, 3.0]}, method="RK45", rtol=1e-9, atol=1e-9)
    assert float(single["s"][-1]) == 13.0
    assert ensemble["s"].shape[1] == 2
    # the vector code (what the ensemble runs) keeps IF THEN ELSE as an array function;
    # only the scalar Euler loop, generated on its own from the same IR, uses `a if c else b`
    vector_code, scalar_code = model.program(frozenset(), fixed=False).source.split("def _euler")
    assert " else _v" not in vector_code
    assert " else _v" in scalar_code


@pytest.fixture
def stiff(make_model):
    """A stiff chain: rates from 1e4 to 1e-2, quadratic outflows, a varied gain."""
    equations = []
    for i in range(4):
        inflow = "1 + 0.5 * SIN(Time)" if i == 0 else f"x{i - 1} * x{i - 1} * r{i - 1}"
        equations += [(f"x{i}", f"INTEG({inflow} - r{i} * x{i} * x{i}, 1)"),
                      (f"r{i}", f"{10 ** (4 - 2 * i):g} * g")]
    return deterrence.load(make_model([*equations, ("g", "1")], final=20, step=1))


@pytest.mark.parametrize("method", ["Radau", "BDF"])
def test_stiff_ensembles_use_the_run_by_run_jacobian(stiff, method, monkeypatch):
    """SciPy's sparse Jacobian estimate loops in Python over every column; ensembles get
    their own (one evaluation per stock, every run at once), and Radau a faster Newton
    step, with the same answers as single runs."""
    from scipy.integrate._ivp import bdf, radau

    original = radau.solve_collocation_system
    calls = []
    for module in (bdf, radau):
        monkeypatch.setattr(module, "num_jac", lambda *a, **k: calls.append(1) or (
            pytest.fail("SciPy's num_jac was used")))
    gains = np.array([0.5, 1.0, 2.0])
    ensemble = stiff.simulate({"g": gains}, method=method, rtol=1e-8, atol=1e-10)
    assert not calls
    assert radau.solve_collocation_system is original  # restored after the run
    monkeypatch.undo()
    for run, g in enumerate(gains):
        single = stiff.simulate({"g": g}, method=method, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(ensemble["x3"][:, run], single["x3"], rtol=1e-5)


def test_ensemble_jacobian_matches_a_dense_estimate():
    from deterrence.integrate.stiff import EnsembleJacobian

    rng = np.random.default_rng(1)
    n_stocks, n_runs = 3, 5
    mix = rng.normal(size=(n_runs, n_stocks, n_stocks))

    def fun(t, flat):
        y = flat.reshape(n_stocks, n_runs)
        return (np.einsum("rki,ir->kr", mix, y ** 2) + t).ravel()

    y = rng.uniform(0.5, 2.0, n_stocks * n_runs)
    jac = EnsembleJacobian(n_stocks, n_runs, 1e-8)(fun, 0.3, y).toarray()
    exact = np.zeros_like(jac)
    grid = y.reshape(n_stocks, n_runs)
    for r in range(n_runs):
        for k in range(n_stocks):
            for i in range(n_stocks):
                exact[k * n_runs + r, i * n_runs + r] = 2 * mix[r, k, i] * grid[i, r]
    np.testing.assert_allclose(jac, exact, rtol=1e-6, atol=1e-6)


def test_radau_collocation_equals_scipys(stiff, monkeypatch):
    from deterrence.integrate import stiff as ensemble

    gains = np.linspace(0.5, 2.0, 8)
    ours = stiff.simulate({"g": gains}, method="Radau", rtol=1e-8, atol=1e-10)
    fast = ensemble.fast_radau
    with monkeypatch.context() as m:
        m.setattr(ensemble, "fast_radau", lambda active: fast(False))
        scipys = stiff.simulate({"g": gains}, method="Radau", rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours["x3"], scipys["x3"], rtol=1e-9)
