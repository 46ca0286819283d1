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


SUBSCRIPTS = "subscripts (next engine issue)"
XMILE_DIMENSIONS = ("PySD's XMILE translator cannot parse it: subscripted XMILE "
                    "(<dimensions>) is not supported by PySD, so neither by the engine")
XMILE_MACROS = "PySD's XMILE translator cannot parse MACRO calls in XMILE"
BROKEN_XML = ("the test file is not well-formed XML (flow 'if_else3' lacks </flow>); PySD's "
              "recovering parser would silently restructure it, so the engine refuses it")


_SCALAR_OK = " over subscript ranges (the scalar forms are computed)"


def _with(construct: str) -> str:
    return f"{SUBSCRIPTS}; also {construct}"


EXPECTED_UNSUPPORTED: dict[str, str] = {
    "tests/allocate_available/test_allocate_available.mdl": _with("ALLOCATE AVAILABLE"),
    "tests/allocate_by_priority/test_allocate_by_priority.mdl":
        _with("ALLOCATE BY PRIORITY, ELMCOUNT"),
    "tests/arithmetics/test_arithmetics.mdl": SUBSCRIPTS,
    "tests/arithmetics_exp/test_arithmetics_exp.mdl": SUBSCRIPTS,
    "tests/arithmetics_exp/test_arithmetics_exp.xmile":
        "subscripts (next engine issue): XMILE <dimensions>",
    "tests/array_with_line_break/test_array_with_line_break.mdl": SUBSCRIPTS,
    "tests/conditional_subscripts/test_conditional_subscripts.mdl": SUBSCRIPTS,
    "tests/data_from_other_model/model_to_generate_data.mdl": SUBSCRIPTS,
    "tests/data_from_other_model/test_data_from_other_model.mdl":
        _with("data variables with no equation, read from another model's output (refused "
              "even for scalars)"),
    "tests/elm_count/test_elm_count.mdl": _with("ELMCOUNT"),
    "tests/except/test_except.mdl": _with(":EXCEPT:"),
    "tests/except_multiple/test_except_multiple.mdl": _with(":EXCEPT:"),
    "tests/get_constants_subranges/test_get_constants_subranges.mdl":
        _with("GET DIRECT CONSTANTS" + _SCALAR_OK),
    "tests/get_lookups_data_3d_xls/test_get_lookups_data_3d_xls.mdl":
        _with("GET XLS DATA, GET XLS LOOKUPS" + _SCALAR_OK),
    "tests/get_lookups_subscripted_args/test_get_lookups_subscripted_args.mdl":
        _with("GET XLS LOOKUPS" + _SCALAR_OK),
    "tests/get_mixed_definitions/test_get_mixed_definitions.mdl":
        _with("GET DIRECT CONSTANTS, GET DIRECT DATA" + _SCALAR_OK),
    "tests/get_subscript_3d_arrays_xls/test_get_subscript_3d_arrays_xls.mdl":
        _with("GET DIRECT CONSTANTS, GET DIRECT SUBSCRIPT" + _SCALAR_OK),
    "tests/get_values_order/test_get_values_order.mdl":
        _with("GET DIRECT CONSTANTS" + _SCALAR_OK),
    "tests/get_with_missing_values_xlsx/test_get_with_missing_values_xlsx.mdl":
        _with("GET XLS DATA, GET XLS LOOKUPS" + _SCALAR_OK),
    "tests/get_xls_cellrange/test_get_xls_cellrange.mdl":
        _with("GET DIRECT CONSTANTS, DATA, LOOKUPS" + _SCALAR_OK),
    "tests/invert_matrix/test_invert_matrix.mdl": _with("INVERT MATRIX"),
    "tests/macro_expression/test_macro_expression.xmile": XMILE_MACROS,
    "tests/macro_multi_expression/test_macro_multi_expression.xmile": XMILE_MACROS,
    "tests/macro_multi_macros/test_macro_multi_macros.xmile": XMILE_MACROS,
    "tests/macro_stock/test_macro_stock.xmile": XMILE_MACROS,
    "tests/min_max_1arg/test_min_max_1arg.xmile":
        "subscripts (next engine issue): XMILE <dimensions> with one-argument MIN/MAX",
    "tests/multiple_lines_def/test_multiple_lines_def.mdl": SUBSCRIPTS,
    "tests/non_negative_flows/test_non_negative_flows.xmile": BROKEN_XML,
    "tests/non_negative_flows/test_non_negative_flows_behavior.xmile": BROKEN_XML,
    "tests/partial_range_definitions/test_partial_range_definitions.mdl":
        _with("GET DIRECT CONSTANTS, DATA, LOOKUPS" + _SCALAR_OK),
    "tests/power/power.mdl": SUBSCRIPTS,
    "tests/sample_if_true/test_sample_if_true.mdl":
        SUBSCRIPTS + " (SAMPLE IF TRUE itself is computed)",
    "tests/smaller_range/test_smaller_range.mdl": SUBSCRIPTS,
    "tests/subscript_1d_arrays/test_subscript_1d_arrays.mdl": SUBSCRIPTS,
    "tests/subscript_1d_arrays/test_subscript_1d_arrays.xmile": XMILE_DIMENSIONS,
    "tests/subscript_2d_arrays/test_subscript_2d_arrays.mdl": SUBSCRIPTS,
    "tests/subscript_3d_arrays/test_subscript_3d_arrays.mdl": SUBSCRIPTS,
    "tests/subscript_3d_arrays_lengthwise/test_subscript_3d_arrays_lengthwise.mdl": SUBSCRIPTS,
    "tests/subscript_3d_arrays_widthwise/test_subscript_3d_arrays_widthwise.mdl": SUBSCRIPTS,
    "tests/subscript_constant_call/test_subscript_constant_call.mdl": SUBSCRIPTS,
    "tests/subscript_constant_call/test_subscript_constant_call.xmile": XMILE_DIMENSIONS,
    "tests/subscript_copy/test_subscript_copy.mdl": SUBSCRIPTS,
    "tests/subscript_copy/test_subscript_copy2.mdl": SUBSCRIPTS,
    "tests/subscript_definition/test_subscript_definition.mdl": _with("ELMCOUNT"),
    "tests/subscript_docs/subscript_docs.mdl": SUBSCRIPTS,
    "tests/subscript_element_name/test_subscript_element_name.mdl": SUBSCRIPTS,
    "tests/subscript_individually_defined_1_of_2d_arrays/"
    "subscript_individually_defined_1_of_2d_arrays.mdl": SUBSCRIPTS,
    "tests/subscript_individually_defined_1_of_2d_arrays_from_floats/"
    "subscript_individually_defined_1_of_2d_arrays_from_floats.mdl": SUBSCRIPTS,
    "tests/subscript_individually_defined_stocks/"
    "test_subscript_individually_defined_stocks.mdl": SUBSCRIPTS,
    "tests/subscript_logicals/test_subscript_logicals.mdl": SUBSCRIPTS,
    "tests/subscript_mapping_simple/test_subscript_mapping_simple.mdl": SUBSCRIPTS,
    "tests/subscript_mixed_assembly/test_subscript_mixed_assembly.mdl": SUBSCRIPTS,
    "tests/subscript_mixed_assembly/test_subscript_mixed_assembly.xmile": XMILE_DIMENSIONS,
    "tests/subscript_multiples/test_multiple_subscripts.mdl": SUBSCRIPTS,
    "tests/subscript_multiples/test_multiple_subscripts.xmile": XMILE_DIMENSIONS,
    "tests/subscript_numeric_range/test_subscript_numeric_range.mdl": SUBSCRIPTS,
    "tests/subscript_subranges/test_subscript_subrange.mdl": SUBSCRIPTS,
    "tests/subscript_subranges/test_subscript_subrange.xmile": XMILE_DIMENSIONS,
    "tests/subscript_subranges_equal/test_subscript_subrange_equal.mdl": SUBSCRIPTS,
    "tests/subscript_subranges_equal/test_subscript_subrange_equal.xmile": XMILE_DIMENSIONS,
    "tests/subscript_switching/subscript_switching.mdl": _with("SUM"),
    "tests/subscript_transposition/test_subscript_transposition.mdl": _with("SUM"),
    "tests/subscripted_flows/test_subscripted_flows.mdl": SUBSCRIPTS,
    "tests/subscripted_flows/test_subscripted_flows.xmile": XMILE_DIMENSIONS,
    "tests/subscripted_if_then_else/test_subscripted_if_then_else.mdl": SUBSCRIPTS,
    "tests/subscripted_lookups/test_subscripted_lookups.mdl": SUBSCRIPTS,
    "tests/subscripted_ramp_step/test_subscripted_ramp_step.mdl": SUBSCRIPTS,
    "tests/subscripted_smooth/test_subscripted_smooth.mdl": SUBSCRIPTS,
    "tests/subscripted_xidz/test_subscripted_xidz.mdl": SUBSCRIPTS,
}

KNOWN_MISMATCH: dict[str, str] = {
    "tests/active_initial/test_active_initial.xmile": (
        "the XMILE file (converted by xmutil) lost the ACTIVE INITIAL: it defines "
        "Value A = Time and Stock A starting at Value A, i.e. 0, while output.tab is "
        "Vensim's run of the .mdl, where ACTIVE INITIAL(Time, 45) starts Stock A at 45; "
        "the engine (like PySD) follows the file, so only Stock A differs"
    ),
}
