"""Conformance: every SDXorg test-models case reproduces Vensim's own output with Euler.

The suite lives outside the repository (``$DETERRENCE_TEST_MODELS``, default
``<repo>/../shared/test-models``); the module is skipped where it is absent. A case
either matches Vensim's table at every saved time (``|a - e| <= 1e-5 + 1e-5 |e|``), or
is listed in ``conformance_expectations`` with the reason it cannot, and then it must be
refused with a ``ModelError`` (unsupported) or fail its table for the recorded reason.
"""

from __future__ import annotations

import numpy as np
import pytest
from conformance_expectations import (
    ENV_VAR,
    EXPECTED_UNSUPPORTED,
    KNOWN_MISMATCH,
    models_root,
)

import deterrence
from deterrence.analysis import conformance
from deterrence.frontend.external import ExternalError

ROOT = models_root()
if not ROOT.is_dir():
    pytest.skip(f"the SDXorg test-models suite is not at {ROOT} (set ${ENV_VAR} to its "
                "folder to run the conformance tests)", allow_module_level=True)

CASES = {case.name: case for case in conformance.find_cases(ROOT)}
SUPPORTED = sorted(set(CASES) - set(EXPECTED_UNSUPPORTED) - set(KNOWN_MISMATCH))
UNSUPPORTED = sorted(set(CASES) & set(EXPECTED_UNSUPPORTED))
MISMATCHED = sorted(set(CASES) & set(KNOWN_MISMATCH))


def _run(name: str):
    case = CASES[name]
    ds = deterrence.load(case.model).simulate(method="euler")
    return ds, conformance.compare(ds, conformance.read_vensim_table(case.expected))


def test_the_suite_has_cases_and_the_expectations_name_only_real_ones():
    assert CASES, f"no case with an output table under {ROOT}"
    assert "samples/teacup/teacup.mdl" in CASES
    assert not set(EXPECTED_UNSUPPORTED) & set(KNOWN_MISMATCH)
    stale = sorted((set(EXPECTED_UNSUPPORTED) | set(KNOWN_MISMATCH)) - set(CASES))
    assert not stale, f"expectations for cases that do not exist: {stale}"


@pytest.mark.parametrize("name", SUPPORTED)
def test_case_matches_vensim_output(name):
    _, comparison = _run(name)
    assert comparison.ok, f"{name}: {comparison.summary()}"


@pytest.mark.parametrize("name", UNSUPPORTED)
def test_unsupported_case_is_refused_not_silently_wrong(name):
    case = CASES[name]
    with pytest.raises(deterrence.ModelError) as info:
        deterrence.load(case.model).simulate(method="euler")
    assert case.model.name in str(info.value), "the error must name the model file"


@pytest.mark.parametrize("name", UNSUPPORTED)
def test_unsupported_case_error_says_unsupported_or_unparsable(name):
    with pytest.raises(deterrence.ModelError) as info:
        deterrence.load(CASES[name].model).simulate(method="euler")
    # or a data file the engine cannot read, refused with the file and cell named
    assert isinstance(info.value, deterrence.UnsupportedError | deterrence.ModelSyntaxError
                      | ExternalError), (
        f"{type(info.value).__name__}: {info.value}")


@pytest.mark.parametrize("name", MISMATCHED)
def test_known_mismatch_still_differs_for_the_recorded_reason(name):
    """If this starts to pass, the entry in KNOWN_MISMATCH is stale: remove it."""
    ds, comparison = _run(name)
    assert comparison.checked
    assert not comparison.ok
    if name == "tests/active_initial/test_active_initial.xmile":
        # the file says Stock A starts at Value A (= Time = 0) and grows by Flow A = 1
        assert {m.column for m in comparison.mismatches} == {"Stock A"}
        np.testing.assert_allclose(ds["stock_a"].values, ds["time"].values, rtol=0, atol=1e-12)
    if name == "tests/allocate_available/test_allocate_available.mdl":
        # Vensim gives out 550.0008 of the 550 available at time 28; the engine all 550
        table = conformance.read_vensim_table(CASES[name].expected)
        branches = ("Boston", "Dayton", "Fresno")
        vensim = sum(float(table[f"allocation1 sep[D,{b}]"].loc[28]) for b in branches)
        assert abs(vensim - 550.0008) < 1e-9
        ours = ds["allocation1_sep"].sel(product="D", time=28).sum("branch")
        np.testing.assert_allclose(float(ours), 550.0, rtol=1e-12)


def test_the_flagship_sample_matches_with_every_save_time():
    """SIR: the table's times are all simulated and every column is checked."""
    if "samples/SIR/SIR.mdl" not in CASES:
        pytest.skip("samples/SIR is not in this copy of the suite")
    _, comparison = _run("samples/SIR/SIR.mdl")
    expected = conformance.read_vensim_table(CASES["samples/SIR/SIR.mdl"].expected)
    assert not comparison.times_missing
    assert not comparison.missing
    assert len(comparison.checked) == len(expected.columns)
    assert comparison.ok, comparison.summary()


#: cases whose constructs only a fixed step defines (a pipe per TIME STEP, a control
#: variable that changes during the run): RK45 is refused, saying so, never approximated
FIXED_STEP_ONLY = {
    "tests/control_vars/test_control_vars.mdl",
    "tests/delay_fixed/test_delay_fixed.mdl",
    "tests/dynamic_final_time/test_dynamic_final_time.mdl",
    "tests/sample_if_true/test_sample_if_true.mdl",
}


@pytest.mark.parametrize("name", SUPPORTED)
def test_a_passing_case_also_runs_with_rk4_and_rk45(name):
    model = deterrence.load(CASES[name].model)
    ds = model.simulate(method="rk4")
    assert ds.sizes["time"] > 1
    if name in FIXED_STEP_ONLY:
        with pytest.raises(deterrence.ModelError, match=r"fixed-step|fixed step"):
            model.simulate(method="RK45")
        return
    adaptive = model.simulate(method="RK45")
    assert adaptive.attrs["method"] == "RK45"
    np.testing.assert_array_equal(adaptive["time"].values, ds["time"].values)
