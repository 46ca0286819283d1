"""Shared helpers for the adversarial suite: one test module per attack or fault.

Every attack file is generated here, in the test's ``tmp_path``; nothing is read from
outside the repository. Each test runs with its own parse cache (``DETERRENCE_CACHE_DIR``
in ``tmp_path``), so a cache entry from an earlier run can neither hide nor cause a
result. To add an attack: a new ``test_adv_<what>.py`` that writes its file with
:func:`adversarial_support.vensim_text` (or by hand) and asserts what a user would see.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A parse cache of the test's own, so entries never leak between tests."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("DETERRENCE_CACHE_DIR", str(folder))
    return folder
