"""The function registry: every function's vector and scalar implementations agree, and
a function is added with one registry entry."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import deterrence
from deterrence.library import FUNCTIONS, Family, Function, Lowering, namespace
from deterrence.library.registry import Registry

IMPLEMENTED = [e for e in FUNCTIONS if e.vector is not None and e.scalar is not None]
#: two flavours to compare (the RANDOM functions are one implementation for both)
COMPARED = [e for e in IMPLEMENTED if e.vector is not e.scalar]

values = st.one_of(
    st.floats(-1e3, 1e3, allow_nan=False),
    st.sampled_from([0.0, 1.0, -1.0, 0.5, 1e-7, -1e-7, 2.0, 1e6, math.nan]),
)


@st.composite
def call_arguments(draw: st.DrawFn, entry: Function) -> list[float | list[float]]:
    """Arguments of one call, as the generated code passes them (clocks first)."""
    if entry.family is Family.LOOKUP:
        x = st.floats(-100, 100, allow_subnormal=False)
        xs = sorted(set(draw(st.lists(x, min_size=1, max_size=6))))
        ys = draw(st.lists(st.floats(-100, 100), min_size=len(xs), max_size=len(xs)))
        return [draw(st.floats(-150, 150)), xs, ys]
    clocks = []
    if entry.clocks:
        start = draw(st.floats(-100, 100))
        clocks = [start + draw(st.floats(0, 5)) if c == "ts" else start for c in entry.clocks]
    n_args = entry.arity or 0
    if entry.order is not None:
        n_args = len(entry.order)
    args = [draw(values) for _ in range(n_args)]
    controls = [draw(st.floats(1e-3, 2)) for _ in entry.controls]
    return clocks + args + controls


def _same(vector: float, scalar: float) -> bool:
    if math.isnan(vector) or math.isnan(scalar):
        return math.isnan(vector) and math.isnan(scalar)
    return bool(np.isclose(vector, scalar, rtol=1e-12, atol=1e-12))


@pytest.mark.parametrize("entry", COMPARED, ids=[e.key for e in COMPARED])
def test_vector_and_scalar_implementations_agree(entry: Function) -> None:
    """On many runs at once (the vector flavour broadcasts over the run axis) and one at
    a time; the scalar flavour may refuse (raise) where the vector one gives NaN/inf."""

    @settings(max_examples=150, deadline=None)
    @given(st.lists(call_arguments(entry), min_size=1, max_size=8))
    def check(calls: list[list[float | list[float]]]) -> None:
        if entry.family is Family.LOOKUP:  # tables are not run arrays: one call each
            runs = [[np.asarray(a, dtype=float) for a in args] for args in calls]
            vector = [float(entry.vector(*args)) for args in runs]  # type: ignore[misc]
        else:
            columns = [np.array(col, dtype=float) for col in zip(*calls, strict=True)]
            with np.errstate(all="ignore"):
                result = entry.vector(*columns)  # type: ignore[misc]
            vector = np.broadcast_to(np.asarray(result, dtype=float), (len(calls),)).tolist()
        for args, expected in zip(calls, vector, strict=True):
            try:
                got = entry.scalar(*args)  # type: ignore[misc]
            except (ArithmeticError, ValueError):
                continue  # the scalar path falls back to the vector one
            assert _same(expected, float(got)), (entry.key, args, expected, got)

    check()


def test_every_call_entry_is_in_the_generated_code_namespace() -> None:
    for flavour, index in (("vector", 0), ("scalar", 1)):
        names = namespace(flavour)
        for entry in IMPLEMENTED:
            assert names[entry.ident] is (entry.vector, entry.scalar)[index]


def test_a_registry_refuses_a_key_twice_and_an_incomplete_call() -> None:
    registry = Registry()
    registry.add(Function("twice", "TWICE", Family.MATH, 1, np.abs, abs))
    with pytest.raises(ValueError, match="registered twice"):
        registry.add(Function("twice", "TWICE", Family.MATH, 1, np.abs, abs))
    with pytest.raises(ValueError, match="vector and a scalar"):
        registry.add(Function("half", "HALF", Family.MATH, 1, np.abs))
    with pytest.raises(ValueError, match="not an identifier"):
        registry.add(Function("a-b", "A-B", Family.MATH, 1, np.abs, abs))


def test_unsupported_entries_say_why(tmp_path: Path) -> None:
    entry = FUNCTIONS["vmin_xmile"]
    assert entry.lowering is Lowering.UNSUPPORTED
    assert "subscripts" in entry.hint


MODEL = """\
S = INTEG(HALF LIFE GAIN(x, 3), 0) ~~|
x = 2 ~~|
INITIAL TIME = 0 ~~|
FINAL TIME = 4 ~~|
TIME STEP = 1 ~~|
SAVEPER = 1 ~~|
"""


def test_a_new_function_is_one_registry_entry(tmp_path: Path, monkeypatch) -> None:
    """Registered once, the function is lowered, generated in both flavours, folded and
    simulated by every method; no other module knows its name."""
    entry = Function("half_life_gain", "HALF LIFE GAIN", Family.MATH, 2,
                     lambda a, b: a * b / 2, lambda a, b: a * b / 2)
    monkeypatch.setitem(FUNCTIONS._entries, entry.key, entry)
    path = tmp_path / "gain.mdl"
    path.write_text(MODEL)
    model = deterrence.load(path)
    for method in ("euler", "rk4", "RK45"):
        ds = model.simulate(method=method)
        assert float(ds["s"][-1]) == pytest.approx(4 * 3.0), method
    ensemble = model.simulate({"x": [2.0, 4.0]}, method="euler")
    assert ensemble["s"][-1].values.tolist() == [12.0, 24.0]


def test_without_the_entry_the_function_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gain.mdl"
    path.write_text(MODEL)
    with pytest.raises(deterrence.UnsupportedError, match="HALF LIFE GAIN"):
        deterrence.load(path).simulate()
