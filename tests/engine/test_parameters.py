"""Declared ranges: a SALib problem from the model, and out-of-range values refused."""

from __future__ import annotations

import pytest

import deterrence
from deterrence import ParameterError


@pytest.fixture
def ranged(make_model):
    return deterrence.load(make_model([
        ("growth rate", "0.1", "1/Month [0, 0.5]", "Fractional growth per month."),
        ("capacity", "100", "Widget [10, ?]", "Upper limit."),
        ("shape", "2", "Dmnl", "No declared range."),
        ("stock", "INTEG(growth rate * stock * (1 - stock / capacity), 1)", "Widget", ""),
    ], name="ranged"))


def test_problem_lists_the_constants_with_a_full_range(ranged):
    """Constants with [min,max] become SALib's problem; half-open or no range do not."""
    problem = ranged.problem()
    assert problem == {"num_vars": 1, "names": ["growth_rate"], "bounds": [[0.0, 0.5]]}


def test_problem_for_a_constant_without_a_range_says_so(ranged):
    with pytest.raises(ParameterError, match="'shape' has no declared range"):
        ranged.problem(["shape"])


def test_values_outside_the_declared_range_are_refused_with_the_range(ranged):
    ranged.check_ranges({"growth rate": [0.0, 0.5], "capacity": 1e6})  # inside: no error
    with pytest.raises(ParameterError, match=r"growth rate = 0\.7 .*\[0, 0\.5\]"):
        ranged.check_ranges({"growth_rate": [0.1, 0.7]})
    with pytest.raises(ParameterError, match=r"capacity = 5 .*\[10, \?\]"):
        ranged.check_ranges({"capacity": 5})


def test_the_engine_itself_runs_outside_the_range(ranged):
    """Ranges guide experiments; a direct simulate() may explore extreme conditions."""
    ds = ranged.simulate({"growth rate": 0.9}, method="euler")
    assert float(ds["growth_rate"]) == 0.9


def test_a_constant_given_twice_under_two_spellings_is_refused(ranged):
    with pytest.raises(ParameterError, match="given twice, as 'growth rate' and as"):
        ranged.simulate({"growth rate": 0.1, "growth_rate": 0.2}, method="euler")
