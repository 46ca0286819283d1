"""One kernel cache for the whole session, in pytest's temporary folder: the tests never
write compiled kernels to the user's cache, and each model compiles once per session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def _kernel_cache(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kernels")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DETERRENCE_KERNEL_CACHE_DIR", str(folder))
        yield folder
