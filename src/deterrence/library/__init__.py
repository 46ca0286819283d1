"""The Vensim/XMILE function library: one registry entry per function (see
:mod:`.catalogue`), with vector (run axis) and scalar (one run) implementations."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .catalogue import FUNCTIONS
from .registry import Clock, Family, Function, Lowering, Registry

__all__ = ["FUNCTIONS", "Clock", "Family", "Function", "Lowering", "Registry", "describe",
           "namespace"]


def namespace(flavour: str) -> dict[str, Any]:
    """Globals for generated code: only the library, no builtins beyond what it needs."""
    names: dict[str, Any] = FUNCTIONS.namespace(flavour)
    names["__builtins__"] = {"range": range, "len": len, "tuple": tuple}
    names["_empty"] = np.empty
    names["_nan"] = np.float64(math.nan) if flavour == "vector" else math.nan
    # Python floats raise on 1/0 or 10**400 and give complex numbers for (-1)**0.5; the
    # vector flavour wraps values that could be Python floats (the time, literals) in
    # np.float64, so every expression follows NumPy's semantics (inf, NaN).
    names["_f64"] = np.float64 if flavour == "vector" else float
    names["_isfinite"] = math.isfinite
    return names


def describe() -> str:
    """The functions the engine computes and those it refuses, by family, in Markdown
    (docs/conformance.md is generated with it, so the docs never drift from the code)."""
    supported: dict[Family, list[str]] = {}
    refused: dict[Family, list[str]] = {}
    for entry in FUNCTIONS:
        if entry.key == "lookup_interpolate":
            continue  # an ordinary lookup call, not a function a modeller names
        group = supported if entry.supported else refused
        group.setdefault(entry.family, []).append(entry.name)
    lines = ["Functions, from the registry (`src/deterrence/library/catalogue.py`):", ""]
    lines += [f"- **{family.value}**: {', '.join(supported[family])}"
              for family in Family if family in supported]
    lines += ["", "Known but not computed yet (refused with `UnsupportedError`):", ""]
    lines += [f"- **{family.value}**: {', '.join(refused[family])}"
              for family in Family if family in refused]
    return "\n".join(lines) + "\n"
