"""Two models written the way modellers write them, checked against PySD's own runner.

``models/regional_cohorts.mdl``: population and labour of four regions in twenty
five-year cohorts (``(c0-c19)``), aging through a mapping of two numeric subranges,
working-age and fertile subranges, SUM over them, :EXCEPT:, a subscripted lookup
defined by :EXCEPT:, SMOOTH, SMOOTH3 and DELAY3 on subscripts, and two scalar macros
(an expression and one with its own stock). ``models/sector_economy.mdl``: four sectors
in six provinces, an input-output matrix pasted as a TABBED ARRAY, read transposed, a
three-dimensional flow summed over the alias ``Using Sector``, capital per province and
sector built through DELAY N and planned from SMOOTH3I, constants element by element,
:EXCEPT:, a mapping of products onto sectors, and a goal-seeking macro with its own
stock called twice, scalar macros inside subscripted equations.

What a user would notice if these failed: a model of their own that runs in PySD gives
other numbers, or refuses to run, in the compiled engine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import deterrence

pytest.importorskip("pysd")

MODELS = Path(__file__).parent / "models"
#: each model, with a scalar constant to vary in an ensemble and three values for it
CASES = {
    "regional_cohorts": ("fertility multiplier", "fertility_multiplier", [0.8, 1.0, 1.25]),
    "sector_economy": ("consumption propensity", "consumption_propensity", [0.7, 0.8, 0.9]),
}


def _path(name: str) -> Path:
    return MODELS / f"{name}.mdl"


def _elements(ds: xr.Dataset) -> int:
    """Values a run has: every element of every variable (the time axis aside)."""
    return sum(int(np.prod([ds.sizes[d] for d in da.dims if d not in ("time", "run")]))
               for da in ds.data_vars.values())


def _assert_same(ours: xr.Dataset, theirs: xr.Dataset, rtol: float, what: str) -> None:
    """Every variable, element and saved time; ``atol`` scales with the variable (flows
    that cancel, such as net migration, pass through zero)."""
    assert sorted(ours.data_vars) == sorted(theirs.data_vars), what
    np.testing.assert_array_equal(ours["time"].values, theirs["time"].values)
    for name, da in ours.data_vars.items():
        other = theirs[name]
        assert other.dims == da.dims, f"{what}: {name} {da.dims} vs {other.dims}"
        for dim in da.dims:
            if dim not in ("time", "run"):
                assert list(other[dim].values) == list(da[dim].values), (what, name, dim)
        scale = float(np.nanmax(np.abs(other.values))) if other.size else 0.0
        np.testing.assert_allclose(da.values, other.values, rtol=rtol,
                                   atol=rtol * scale, err_msg=f"{what}: {name}")


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request) -> tuple[str, deterrence.Model, xr.Dataset]:
    name = request.param
    model = deterrence.load(_path(name))
    return name, model, model.simulate(method="euler")


@pytest.fixture(scope="module")
def pysd_runs() -> dict[str, object]:
    return {name: deterrence.load(_path(name), engine="pysd") for name in CASES}


def test_each_model_has_a_few_hundred_values_on_named_subscript_axes(case):
    name, _, ds = case
    assert 600 <= _elements(ds) <= 1000, _elements(ds)
    dims = {d for da in ds.data_vars.values() for d in da.dims} - {"time"}
    expected = {"regional_cohorts": {"Region", "Cohort"},
                "sector_economy": {"Province", "Sector", "Using Sector", "Product"}}[name]
    assert expected <= dims, dims


def test_euler_agrees_with_pysd_at_every_saved_time(case, pysd_runs):
    name, _, ours = case
    theirs = pysd_runs[name].simulate()
    _assert_same(ours, theirs, 1e-9, f"{name}, euler against PySD")


def test_rk4_converges_on_the_same_trajectory(case):
    """rk4 at the file's TIME STEP against rk4 at half of it (what a modeller would
    check), and on the Euler run that agrees with PySD within Euler's own error (a few
    per cent where MIN and MAX switch)."""
    name, model, euler = case
    step = euler.attrs["time_step"]
    rk4 = model.simulate(method="rk4")
    finer = model.simulate(method="rk4", time_step=step / 2)
    for var, da in rk4.data_vars.items():
        if var == "time_step":
            continue
        scale = float(np.nanmax(np.abs(finer[var].values))) or 1.0
        assert np.all(np.isfinite(da.values)), (name, var)
        np.testing.assert_allclose(da.values, finer[var].values, rtol=0,
                                   atol=1e-4 * scale, err_msg=f"{name}: {var}")
        np.testing.assert_allclose(da.values, euler[var].values, rtol=0,
                                   atol=1e-1 * scale, err_msg=f"{name}: {var}")


def test_an_ensemble_equals_its_single_runs_and_pysds(case, pysd_runs):
    name, model, _ = case
    written, key, values = CASES[name]
    ensemble = model.simulate({written: values}, method="euler")
    assert ensemble.sizes["run"] == len(values)
    for run, value in enumerate(values):
        single = model.simulate({written: value}, method="euler")
        for var, da in single.data_vars.items():
            member = ensemble[var].isel(run=run) if "run" in ensemble[var].dims \
                else ensemble[var]
            np.testing.assert_allclose(member.values, da.values, rtol=1e-12, atol=0,
                                       err_msg=f"{name} run {run}: {var}")
    varied = [v for v in ensemble.data_vars if "run" in ensemble[v].dims]
    assert len(varied) > 20  # the parameter reaches most of the model
    # PySD takes seconds a run on these models: its check is a shorter horizon
    theirs = pysd_runs[name].simulate({written: values[-1]}, final_time=10)
    ours = model.simulate({key: values[-1]}, method="euler", final_time=10)
    _assert_same(ours, theirs, 1e-9, f"{name}, {written} = {values[-1]}, against PySD")


# -- what PySD 3.14 cannot run, in the smallest models that show it ---------------------
CONTROLS = "INITIAL TIME = 0 ~~|\nFINAL TIME = 2 ~~|\nTIME STEP = 1 ~~|\nSAVEPER = 1 ~~|\n"


def test_a_mapping_between_subranges_reads_in_either_direction(tmp_path):
    """``Hi: (c1-c3) -> Lo`` with ``y[Hi] = x[Lo]``: PySD 3.14.3 stops with a shape
    error (it applies the mapping only as ``Lo -> Hi``); the subscript_mapping_simple
    case of the Vensim suite uses a mapping both ways, and the element positions
    pair up alike: y[c1] = x[c0], ..."""
    results = []
    for ranges in ("Lo: (c0-c2) ~~|\nHi: (c1-c3) -> Lo ~~|\n",
                   "Lo: (c0-c2) -> Hi ~~|\nHi: (c1-c3) ~~|\n"):
        path = tmp_path / "mapping.mdl"
        path.write_text("{UTF-8}\nC: (c0-c3) ~~|\n" + ranges + "x[C] = 1, 2, 3, 4 ~~|\n"
                        "y[Hi] = x[Lo] ~~|\ny[c0] = 0 ~~|\n" + CONTROLS, encoding="utf-8")
        results.append(deterrence.load(path).simulate(method="euler")["y"].values)
    np.testing.assert_array_equal(results[0], [0, 1, 2, 3])
    np.testing.assert_array_equal(results[1], [0, 1, 2, 3])


def test_a_goal_seeking_macro_in_its_own_feedback_loop_runs(tmp_path):
    """``x = ADJUST(10 - x, 2, 1)``: PySD 3.14.3 refuses it ("Circular
    initialization": it evaluates every argument of a macro to initialise it); the stock
    needs only its initial value, as in Vensim. x' = (10 - 2x) / 2: 1, 5, 5."""
    path = tmp_path / "macro_loop.mdl"
    path.write_text("{UTF-8}\n:MACRO: ADJUST(goal, t, init)\n"
                    "ADJUST = INTEG((goal - ADJUST) / t, init) ~~|\n:END OF MACRO:\n"
                    "x = ADJUST(g, 2, 1) ~~|\ng = 10 - x ~~|\n" + CONTROLS,
                    encoding="utf-8")
    np.testing.assert_allclose(deterrence.load(path).simulate(method="euler")["x"].values,
                               [1, 5, 5])
