"""The function registry: one :class:`Function` entry per Vensim or XMILE function.

An entry says everything the rest of the engine needs: the name PySD's abstract model
gives the call, how many arguments it takes, its vector, scalar and native
implementations, the clocks and control values it reads, the times at which its output
switches, and whether it adds hidden stocks. Lowering, code generation, the constant
folder, the conformance table and the docs all read this table, so a function is added
in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Clock(StrEnum):
    """The times a function can read (each is an argument of the generated functions)."""

    TIME = "t"  # the time of this evaluation (an RK4 stage sees its own)
    STEP_START = "tc"  # the time at the start of the step (comparisons with Time)
    SWITCH = "ts"  # when switches are tested: t + dt/2 on fixed steps, as in Vensim


class Family(StrEnum):
    """Groups for the docs and the conformance table, in the order they are listed."""

    MATH = "Mathematics"
    LOGIC = "Logic and selection"
    SWITCH = "Inputs that switch in time"
    LOOKUP = "Lookups"
    STATEFUL = "Stocks and stateful functions (hidden stocks)"
    DATA = "Data and external files (read once, at load time)"
    ARRAY = "Array functions"
    RANDOM = "Random numbers (fixed-step methods; a new draw every TIME STEP)"
    OTHER = "Other functions"


class Lowering(StrEnum):
    """How compile/lower.py turns a call into IR."""

    CALL = "call"  # a call of the implementation on the lowered arguments
    SPECIAL = "special"  # a handler in compile/lower.py, named by the entry's key
    STATEFUL = "stateful"  # hidden stocks built by compile/stateful.py
    OPERATOR = "operator"  # an operator (:AND:), never called by name
    UNSUPPORTED = "unsupported"  # known, refused with ``hint``


Impl = Callable[..., Any]


@dataclass(frozen=True)
class Function:
    """One function of the Vensim/XMILE library.

    ``switches``: each switch time is the sum of the listed arguments (indexes into the
    arguments as PySD gives them, then the ``controls``); ``train``: (start, width,
    interval, end) of a periodic switch, each an argument index or a number.
    """

    key: str  # as PySD's abstract model names the call, case and spaces folded
    name: str  # as the modeller writes it
    family: Family
    arity: int | None = None
    vector: Impl | None = None
    scalar: Impl | None = None
    #: the native flavour (numba-compiled, NumPy's float semantics); None: the vector
    #: implementation is a NumPy ufunc that numba compiles on floats as it is
    native: Impl | None = None
    clocks: tuple[Clock, ...] = ()  # read first, before the arguments
    controls: tuple[str, ...] = ()  # control values read last, e.g. "time_step"
    order: tuple[int, ...] | None = None  # implementation argument i is PySD's order[i]
    switches: tuple[tuple[int, ...], ...] = ()
    train: tuple[int | float, ...] | None = None
    lowering: Lowering = Lowering.CALL
    stocks: bool = False  # adds hidden stocks (stateful families)
    hint: str = ""  # why it is refused, and what to do (unsupported ones)

    @property
    def ident(self) -> str:
        """Its identifier in generated code (the key is checked to be one)."""
        return "_" + self.key

    @property
    def supported(self) -> bool:
        return self.lowering is not Lowering.UNSUPPORTED


class Registry:
    """The registry: entries by key, added once each."""

    def __init__(self) -> None:
        self._entries: dict[str, Function] = {}

    def add(self, entry: Function) -> Function:
        if entry.key in self._entries:
            raise ValueError(f"function {entry.key!r} is registered twice")
        if not entry.ident.isidentifier():
            raise ValueError(f"function key {entry.key!r} is not an identifier")
        if entry.lowering is Lowering.CALL and (entry.vector is None or entry.scalar is None):
            raise ValueError(f"function {entry.key!r} needs a vector and a scalar "
                             "implementation")
        self._entries[entry.key] = entry
        return entry

    def get(self, key: str) -> Function | None:
        return self._entries.get(key)

    def __getitem__(self, key: str) -> Function:
        return self._entries[key]

    def __iter__(self) -> Iterator[Function]:
        return iter(self._entries.values())

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def namespace(self, flavour: str) -> dict[str, Impl]:
        """Implementations by identifier, for the globals of generated code."""
        if flavour == "native":
            return {e.ident: e.native if e.native is not None else e.vector for e in self
                    if e.vector is not None}
        index = {"vector": 0, "scalar": 1}[flavour]
        return {e.ident: (e.vector, e.scalar)[index] for e in self
                if (e.vector, e.scalar)[index] is not None}
