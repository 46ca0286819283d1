"""RANDOM calls: lowered with the run's key and a call-site number; keys set per run.

A call becomes ``Call(key, (Time at the step's start, run key, site, args...))``; the
implementations (:mod:`deterrence.library.random`) hash the three into a uniform number,
so a draw changes every TIME STEP and is the same for every stage of a step. The run
keys are a hidden parameter, set by :func:`random_streams` for each simulation from the
solver's ``seed``. Adaptive methods are refused: a rate that draws a new number at every
TIME STEP is not an ordinary differential equation.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ModelError, UnsupportedError
from ..library import Clock, Function
from ..library import random as rnd
from . import ir
from .ir import NodeKind, num, ref

if TYPE_CHECKING:
    from .lower import CompiledModel, Lowerer

KEY_LABEL = "RANDOM streams (one key per run, from the seed)"


def lower_random(lw: Lowerer, entry: Function, fname: str, raw_args: list[Any]) -> ir.Expr:
    args = [lw.lower(a) for a in raw_args]
    if len(args) != entry.arity:
        raise lw.error(ModelError, f"{entry.name} in {lw.owner!r} takes {entry.arity} "
                       f"argument(s), got {len(args)}",
                       "Vensim's RANDOM functions end with the stream ID, usually 0")
    key = next((n.id for n in lw.nodes.values() if n.label == KEY_LABEL), None)
    if key is None:
        key = lw.new(NodeKind.PARAM, KEY_LABEL, default=0.0).id
        lw.nodes[key].raw = num(0.0)
    site = float(len(lw.nodes))  # one stream per call site
    used = args[:-1] if args else []  # the stream ID is not used (see library/random.py)
    return ir.Call(entry.key, (ir.Time(Clock.STEP_START), ref(key), num(site), *used))


#: registry key -> this lowering (``Lowering.SPECIAL`` entries of the RANDOM family)
CALLS = {key: lower_random for key, *_ in rnd.FUNCTIONS}

_USES: weakref.WeakKeyDictionary[Any, list[str]] = weakref.WeakKeyDictionary()


def random_uses(compiled: CompiledModel) -> list[str]:
    """Labels of the nodes that draw random numbers (computed once per model)."""
    if compiled not in _USES:
        _USES[compiled] = [n.label for n in compiled.nodes.values()
                           if any(isinstance(e, ir.Call) and e.function.startswith("random_")
                                  for x in (n.raw, n.raw_init) for e in ir.walk(x))]
    return _USES[compiled]


def random_streams(compiled: CompiledModel, solver: Any, n_runs: int, override: Any
                   ) -> dict[str, Any]:
    """The run keys as an override of the hidden key parameter (none without RANDOM)."""
    key = next((n.id for n in compiled.nodes.values() if n.label == KEY_LABEL), None)
    if key is None:
        return {}
    if not solver.fixed:
        uses = random_uses(compiled)
        first = uses[0] if uses else "?"
        var = next((v for v in compiled.variables if v.name == first), None)
        raise UnsupportedError(
            f"{first!r} draws random numbers (a new draw every TIME STEP), which "
            f"{solver.method} cannot integrate: a rate with random draws is not an ODE",
            path=compiled.path, variable=var.name if var else None,
            line=var.line if var else None, hint="simulate with method='euler' or 'rk4'")
    keys = rnd.run_keys(int(solver.seed), n_runs)
    return {key: override(key, np.asarray(keys[0] if n_runs == 1 else keys))}
