"""Fixtures for the experiment tests: ``deterrence run`` as a user runs it.

The autouse fixture ``outputs_untouched`` checks that nothing lands in the project's
``outputs/`` folder (every test sends Hydra's output into ``tmp_path``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from exp_support import DIVIDE_MDL, OUTPUTS, REPO


@pytest.fixture(scope="session")
def divide_model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("models") / "divide.mdl"
    path.write_text(DIVIDE_MDL, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def test_models() -> Path:
    """The SDXorg test models (``$DETERRENCE_TEST_MODELS`` or ``../shared/test-models``)."""
    root = Path(os.environ.get("DETERRENCE_TEST_MODELS", REPO.parent / "shared" / "test-models"))
    if not root.is_dir():
        pytest.skip(f"the shared test models are absent ({root})")
    return root


@pytest.fixture(autouse=True)
def outputs_untouched():
    """Nothing a test runs may write into the project's outputs/ folder."""
    before = set(OUTPUTS.iterdir()) if OUTPUTS.exists() else set()
    yield
    after = set(OUTPUTS.iterdir()) if OUTPUTS.exists() else set()
    assert after <= before, f"a test wrote into outputs/: {sorted(after - before)}"
