"""deterrence: system-dynamics models of alliance trust and deterrence credibility.

``deterrence.load(path)`` parses a Vensim or XMILE model with PySD's translators and
compiles it into batched NumPy code (``engine="pysd"``: PySD's own runner, the explicit
fallback); ``Model.simulate(...)`` returns an ``xarray.Dataset``.
"""

# first: PySD's translators must never evaluate model text (see pysd_guard)
from .engines import load
from .errors import (
    CircularDependencyError,
    ModelError,
    ModelSyntaxError,
    ParameterError,
    SimulationError,
    UndefinedReferenceError,
    UnsupportedError,
)
from .frontend import pysd_guard  # noqa: F401
from .integrate import SolverOptions
from .model import Model
from .results import write_results

__version__ = "0.1.0"

__all__ = [
    "CircularDependencyError",
    "Model",
    "ModelError",
    "ModelSyntaxError",
    "ParameterError",
    "SimulationError",
    "SolverOptions",
    "UndefinedReferenceError",
    "UnsupportedError",
    "__version__",
    "load",
    "write_results",
]
