"""Shared helpers for the engine tests: write small Vensim models into ``tmp_path``.

``make_model(equations, name="model", initial=0, final=10, step=0.25, saveper=None)``
writes a ``.mdl`` file and returns its path. ``equations`` is a list of
``(name, equation)`` or ``(name, equation, units, documentation)`` tuples; the four
control variables are appended (units ``Month``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

Equation = tuple[str, str] | tuple[str, str, str, str]


def mdl_text(equations: Sequence[Equation], *, initial: float = 0, final: float = 10,
             step: float = 0.25, saveper: float | None = None) -> str:
    """The text of a Vensim model: one block per equation, then the controls."""
    blocks = []
    controls: list[Equation] = [
        ("INITIAL TIME", repr(initial), "Month", "The initial time for the simulation."),
        ("FINAL TIME", repr(final), "Month", "The final time for the simulation."),
        ("TIME STEP", repr(step), "Month [0,?]", "The time step for the simulation."),
        ("SAVEPER", repr(step if saveper is None else saveper), "Month [0,?]",
         "The frequency with which output is stored."),
    ]
    for item in [*equations, *controls]:
        name, equation, units, doc = (*item, "", "")[:4] if len(item) == 2 else item
        blocks.append(f"{name} = {equation}\n\t~\t{units}\n\t~\t{doc}\n\t|\n")
    return "{UTF-8}\n" + "\n".join(blocks)


@pytest.fixture
def make_model(tmp_path: Path) -> Callable[..., Path]:
    """Write a Vensim model into tmp_path and return its path."""

    def write(equations: Sequence[Equation], name: str = "model", **controls: float) -> Path:
        path = tmp_path / f"{name}.mdl"
        path.write_text(mdl_text(equations, **controls), encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def model_text() -> Callable[..., str]:
    """:func:`mdl_text`, for module-scoped fixtures that write their own files."""
    return mdl_text
