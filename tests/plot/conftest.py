"""Make the source tree importable when the package is not installed; share the builder."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

if importlib.util.find_spec("deterrence") is None:  # not installed: use the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))


@pytest.fixture
def make_results():
    """The synthetic results builder (see plot_testdata.build_results)."""
    from plot_testdata import build_results

    return build_results
