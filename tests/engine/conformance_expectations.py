"""What the engine is expected to do with each case of the SDXorg test-models suite.

One source for ``tests/engine/test_conformance.py`` and ``docs/make_conformance.py``
(which writes ``docs/conformance.md``). Every case found by
``deterrence.analysis.conformance.find_cases`` must pass (match Vensim's table with Euler to
``1e-5 + 1e-5 |expected|``) unless it is listed here:

- ``EXPECTED_UNSUPPORTED``: the engine must refuse the case with a ``ModelError``
  (``UnsupportedError`` for a construct outside the first engine issue's scope,
  ``ModelSyntaxError`` for a file PySD's translator cannot read), never a silent wrong
  answer;
- ``KNOWN_MISMATCH``: the case simulates but cannot match its table for a reason that
  lies in the test files, not in the engine (the reason says which).

Keys are ``Case.name`` ("folder/model-file", relative to the suite's root).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ENV_VAR = "DETERRENCE_TEST_MODELS"
DEFAULT_ROOT = REPO.parent / "shared" / "test-models"


def models_root() -> Path:
    """The test-models folder: ``$DETERRENCE_TEST_MODELS`` or ``<repo>/../shared/test-models``."""
    return Path(os.environ.get(ENV_VAR, str(DEFAULT_ROOT)))


XMILE_DIMENSIONS = ("PySD's XMILE translator cannot parse it: subscripted XMILE "
                    "(<dimensions>) is not supported by PySD, so neither by the engine")
XMILE_MACROS = "PySD's XMILE translator cannot parse MACRO calls in XMILE"
BROKEN_XML = ("the test file is not well-formed XML (flow 'if_else3' lacks </flow>); PySD's "
              "recovering parser would silently restructure it, so the engine refuses it")


EXPECTED_UNSUPPORTED: dict[str, str] = {
    "tests/data_from_other_model/test_data_from_other_model.mdl":
        "a data variable with no equation (Vensim reads another model's output at run time)",
    "tests/get_with_missing_values_xlsx/test_get_with_missing_values_xlsx.mdl":
        "a GET LOOKUPS cell holds text ('nonvalid'), refused with the cell named",
    "tests/macro_expression/test_macro_expression.xmile": XMILE_MACROS,
    "tests/macro_multi_expression/test_macro_multi_expression.xmile": XMILE_MACROS,
    "tests/macro_multi_macros/test_macro_multi_macros.xmile": XMILE_MACROS,
    "tests/macro_stock/test_macro_stock.xmile": XMILE_MACROS,
    "tests/min_max_1arg/test_min_max_1arg.xmile":
        f"{XMILE_DIMENSIONS}; also one-argument (array) MIN/MAX",
    "tests/non_negative_flows/test_non_negative_flows.xmile": BROKEN_XML,
    "tests/non_negative_flows/test_non_negative_flows_behavior.xmile": BROKEN_XML,
    "tests/subscript_1d_arrays/test_subscript_1d_arrays.xmile": XMILE_DIMENSIONS,
    "tests/subscript_constant_call/test_subscript_constant_call.xmile": XMILE_DIMENSIONS,
    "tests/subscript_mixed_assembly/test_subscript_mixed_assembly.xmile": XMILE_DIMENSIONS,
    "tests/subscript_multiples/test_multiple_subscripts.xmile": XMILE_DIMENSIONS,
    "tests/subscript_subranges/test_subscript_subrange.xmile": XMILE_DIMENSIONS,
    "tests/subscript_subranges_equal/test_subscript_subrange_equal.xmile": XMILE_DIMENSIONS,
    "tests/subscripted_flows/test_subscripted_flows.xmile": XMILE_DIMENSIONS,
}

KNOWN_MISMATCH: dict[str, str] = {
    "tests/allocate_available/test_allocate_available.mdl": (
        "Vensim's own allocations do not add up to what is available: its search for the "
        "clearing priority stops near it (allocation1 sep[D,*] at time 28 gives out 550.0008 "
        "of 550, allocation2 far at time 44 879.9986 of 880), and on the normal and "
        "exponential profiles its elements differ from the exact curves' allocations by up "
        "to about 1e-4; the engine solves for the priority at which the allocations add up "
        "exactly, and agrees with PySD's run of the case to 1e-12 (3.5e-7 on one element)"
    ),
    "tests/data_from_other_model/model_to_generate_data.mdl": (
        "the output.tab in its folder is the table of test_data_from_other_model.mdl (its "
        "columns out1 and out2 and its 0.5 time step are not in this model), not this "
        "model's output"
    ),
    "tests/active_initial/test_active_initial.xmile": (
        "the XMILE file (converted by xmutil) lost the ACTIVE INITIAL: it defines "
        "Value A = Time and Stock A starting at Value A, i.e. 0, while output.tab is "
        "Vensim's run of the .mdl, where ACTIVE INITIAL(Time, 45) starts Stock A at 45; "
        "the engine (like PySD) follows the file, so only Stock A differs"
    ),
}
