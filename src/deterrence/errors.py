"""Errors a user can act on: each names the file, the line or variable, and what to do.

Every error the package raises on bad input derives from :class:`ModelError`, so callers
(the command line, the Hydra layer) can print one clear line instead of a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class ModelError(Exception):
    """Base class: a problem with a model file, its parameters or its simulation."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        variable: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.line = line
        self.variable = variable
        self.hint = hint
        self.message = message
        super().__init__(self._format())

    def _format(self) -> str:
        where = ""
        if self.path is not None:
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        text = where + self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class ModelSyntaxError(ModelError):
    """The file cannot be parsed."""


#: what every refusal of the compiled engine ends with: the explicit fallback, by name
FALLBACK_HINT = ("or run the model with PySD's own runner: --engine pysd on the command "
                 "line, engine='pysd' in Python, model.engine=pysd in an experiment")


class UnsupportedError(ModelError):
    """The file uses a construct the compiled engine does not support (yet).

    Its hint ends with :data:`FALLBACK_HINT`, so that every refusal names the explicit
    fallback and nothing falls back silently; ``fallback=False`` leaves it out where
    PySD's runner is no answer (the fallback's own refusals, the native backend's).
    """

    def __init__(self, message: str, *, fallback: bool = True, **where: Any) -> None:
        hint = where.pop("hint", None)
        if fallback and FALLBACK_HINT not in (hint or ""):
            hint = f"{hint}; {FALLBACK_HINT}" if hint else FALLBACK_HINT
        self.fallback = fallback
        super().__init__(message, hint=hint, **where)


class UndefinedReferenceError(ModelError):
    """An equation refers to a variable that is not defined."""


class CircularDependencyError(ModelError):
    """Auxiliaries or initial values depend on each other in a loop."""


class ParameterError(ModelError, KeyError):
    """A parameter override names an unknown variable or has a bad value."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.args[0]


class SimulationError(ModelError):
    """The integration failed: a non-finite state, or the solver gave up."""


class ResourceError(ModelError):
    """The requested work is too large: too many steps, or more memory than allowed."""


class ModelWarning(UserWarning):
    """Something in the model a user should know of that does not stop the run."""
