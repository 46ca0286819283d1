"""The two method registries: fixed-step schemes and SciPy's adaptive methods.

One module for both, so that a name is checked against every method (names are matched
case-insensitively, and a scheme called ``rk45`` would hide SciPy's RK45).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .adaptive import AdaptiveMethod
    from .schemes import Scheme

#: name -> fixed-step scheme class, in the order the methods are listed
SCHEMES: dict[str, type[Scheme]] = {}
#: SciPy's method name -> its class, listed after the schemes
ADAPTIVE: dict[str, type[AdaptiveMethod]] = {}


def register(registry: dict[str, Any], cls: Any) -> Any:
    """Add ``cls`` to ``registry`` under ``cls.name``, unless any method has that name."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(f"{cls.__name__} needs a class attribute name")
    for known in (*SCHEMES.items(), *ADAPTIVE.items()):
        if known[0].lower() == name.lower() and known[1] is not cls:
            raise ValueError(f"a method named {known[0]!r} is registered already")
    registry[name] = cls
    return cls
