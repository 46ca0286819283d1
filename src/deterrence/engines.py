"""Which engine runs a model: the one registry of engines.

``compiled`` (the default) compiles the model into batched NumPy or numba code;
``pysd`` runs PySD's own builder and runner (:mod:`deterrence.pysd_engine`), the
explicit fallback for a model that uses something the compiled engine refuses. The
engine is chosen when the model is loaded, not when it is simulated, because the
compiled engine refuses an unsupported construct while compiling: a model it cannot
compile never becomes a :class:`~deterrence.Model` to simulate. Nothing falls back
silently: the compiled engine's refusals name ``--engine pysd``, and a user chooses it.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ParameterError

if TYPE_CHECKING:
    from .model import Model

#: engine name -> its loader, ``module:function`` taking (path, max_model_mb=...);
#: imported when used, so that the command line's help does not import the engines
ENGINES: dict[str, str] = {"compiled": "deterrence.model:load",
                           "pysd": "deterrence.pysd_engine:load_pysd"}
DEFAULT = "compiled"


def load(path: str | Path, *, engine: str = DEFAULT,
         max_model_mb: float | None = None) -> Model:
    """Parse a Vensim (.mdl) or XMILE (.xmile, .xml, .stmx) model and make it ready to
    simulate with ``engine`` (:data:`ENGINES`): ``"compiled"`` (the default) or
    ``"pysd"`` (PySD's own runner: Euler only, one PySD run per parameter set).

    ``max_model_mb`` raises the file-size limit (default 16 MB, or
    ``$DETERRENCE_MAX_MODEL_MB``) above which a file is refused before parsing.
    """
    target = ENGINES.get(engine) if isinstance(engine, str) else None
    if target is None:
        raise ParameterError(f"engine={engine!r}: choose one of {', '.join(ENGINES)}",
                             path=path, hint="'compiled' is the default; 'pysd' runs "
                             "PySD's own runner")
    module, _, function = target.partition(":")
    loader = getattr(importlib.import_module(module), function)
    return loader(path, max_model_mb=max_model_mb)
