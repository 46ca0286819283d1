"""Regenerate docs/conformance.md: every SDXorg test-models case, its result and reason.

    python docs/make_conformance.py [--root PATH] [--output docs/conformance.md]

Runs each case the way tests/engine/test_conformance.py does (``deterrence.load``,
``simulate(method="euler")``, ``conformance.compare`` with 1e-5 + 1e-5 |expected|) and
takes the reasons from tests/engine/conformance_expectations.py, the list the tests
check. Exits with status 1 when a result disagrees with that list (a case expected to
pass fails, or a listed case passes), so the table and the tests never drift apart.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "engine"))

from conformance_expectations import (  # noqa: E402
    ENV_VAR,
    EXPECTED_UNSUPPORTED,
    KNOWN_MISMATCH,
    models_root,
)

import deterrence  # noqa: E402
from deterrence import library  # noqa: E402
from deterrence.analysis import conformance  # noqa: E402

SUPPORTED_TEXT = f"""\
## What the engine supports

Vensim and XMILE models: arithmetic, comparison and logical operators; Time and the
control variables (control variables that change during the run are followed by `euler`
and `rk4` only); the functions below.

Every case that passes with `euler` also runs with `rk4` and `RK45`
(`tests/engine/test_conformance.py`); RK45 is refused, saying why, for the four whose
constructs only a fixed step defines (DELAY FIXED, SAMPLE IF TRUE, control variables
that change during the run).

Vensim subscripts (`compile/subscripts.py`, `compile/arrayops.py`): each range is a named
axis after the run axis and a dimension of the Dataset; subranges, numeric ranges
(`(a1-a10)`), mappings (`->`), `:EXCEPT:`, partial and element-by-element definitions,
tabbed arrays, transposition and up-dimensioning, aliases (`<->`), subscripted stocks,
stateful functions, lookups and initial values. Subscripted XMILE (`<dimensions>`) is
not read by PySD's XMILE translator, so neither by the engine.

Vensim macros (`:MACRO: ... :END OF MACRO:`), including macros with stocks, macros that
use TIME STEP or other control variables and macros calling macros, are expanded at each
call into hidden equations of the calling variable (`compile/macros.py`); a macro
called in a subscripted equation on scalar arguments is expanded once and its value
broadcast (on subscripted arguments it is refused). Vensim text
that PySD's grammar refuses (`{{...}}` comments inside equations, `:and:` in lower case) is
normalised before parsing (`frontend/normalise.py`).

{library.describe()}
XMILE non-negative stocks and flows (`<non_negative/>`): a flow is `MAX(flow, 0)`; a
stock stops at zero, `S(t + dt) = MAX(S + dt * net, 0)` with Euler, as PySD computes it
(`compile/stateful.py`, `non_negative`; docs/engine.md says what rk4 and the adaptive
methods compute).

Data variables (`:=`, with `:INTERPOLATE:`, `:HOLD BACKWARD:` or `:LOOK FORWARD:`) and
external files (GET XLS/DIRECT DATA, CONSTANTS and LOOKUPS of `.xlsx`, `.xls`, `.csv` and
`.tab` files in the model's folder, read once at load time; `compile/data.py`,
`frontend/external.py`), for scalar and subscripted variables (a row or column per
element, cell ranges by name, `*` transposed).

GET DIRECT SUBSCRIPT reads ranges from files (`.xlsx`, `.xls`, text). Not yet: the
functions refused above, a data variable with no equation, a variable written with one
range at both positions (`m[Dims, Dims]`). Like those functions, these raise
`UnsupportedError` naming the construct and the file (or `ModelSyntaxError` where PySD's
translator cannot read the file), never a silent wrong answer; `engine="pysd"`
(`--engine pysd`) runs such a model on PySD's own runner.
"""


def run_case(case: conformance.Case) -> tuple[str, str]:
    """(result, detail): 'pass', 'mismatch' or the error class name, and what happened."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = deterrence.load(case.model).simulate(method="euler")
    except deterrence.ModelError as exc:
        return type(exc).__name__, exc.message
    comparison = conformance.compare(ds, conformance.read_vensim_table(case.expected))
    return ("pass" if comparison.ok else "mismatch"), comparison.summary()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def build(root: Path) -> tuple[str, list[str]]:
    """The Markdown text and the list of disagreements with the expectations."""
    rows, problems = [], []
    counts: Counter[str] = Counter()
    for case in conformance.find_cases(root):
        result, detail = run_case(case)
        if case.name in EXPECTED_UNSUPPORTED:
            reason, expected = EXPECTED_UNSUPPORTED[case.name], "error"
        elif case.name in KNOWN_MISMATCH:
            reason, expected = KNOWN_MISMATCH[case.name], "mismatch"
        else:
            reason, expected = "", "pass"
        got = "error" if result not in ("pass", "mismatch") else result
        if got != expected:
            problems.append(f"{case.name}: expected {expected}, got {result} ({detail})")
            reason = f"UNEXPECTED: {detail}"
        label = {"pass": "pass", "mismatch": "differs from table"}.get(
            result, f"refused ({result})")
        counts[label] += 1
        rows.append(f"| `{case.name}` | {label} | {_cell(reason)} |")
    total = sum(counts.values())
    lines = [
        "# Conformance with Vensim: the SDXorg test-models suite",
        "",
        "Generated by `python docs/make_conformance.py` (do not edit by hand); the same",
        "expectations are checked by `tests/engine/test_conformance.py`. Each case is",
        "simulated with `method=\"euler\"` and compared with Vensim's output table at every",
        "saved time: |actual - expected| <= 1e-5 + 1e-5 |expected|. The suite is read from",
        f"`${ENV_VAR}` or `../shared/test-models`.",
        "",
        f"**{counts['pass']} of {total} cases pass.**",
        "",
        "| result | cases |",
        "|---|---|",
        *[f"| {label} | {n} |" for label, n in sorted(counts.items(), key=lambda kv: -kv[1])],
        "",
        SUPPORTED_TEXT,
        "## Every case",
        "",
        "| case | result | reason |",
        "|---|---|---|",
        *rows,
        "",
    ]
    return "\n".join(lines), problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=models_root(),
                        help=f"the test-models folder (default ${ENV_VAR} or "
                        "../shared/test-models)")
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "conformance.md")
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        print(f"error: the test-models suite is not at {args.root}; set ${ENV_VAR}",
              file=sys.stderr)
        return 2
    text, problems = build(args.root)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    for problem in problems:
        print(f"disagrees with tests/engine/conformance_expectations.py: {problem}",
              file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
