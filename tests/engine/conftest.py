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
from mdl_support import Equation, mdl_text


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
