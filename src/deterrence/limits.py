"""Bounds on the work one call may ask for: memory, time steps and nesting depth.

A model file or a command line can ask for far more than a machine has (a TIME STEP of
1e-300, a 100,000-run ensemble saved at every step). The engine estimates the size of a
run before allocating and refuses, with the estimate and what to change, above a limit
the user can raise. Deeply nested equations need deep recursion in PySD's parser, in the
compiler and in Python's ``compile``; :func:`deep_call` runs that work on a thread with
a large C stack and a raised, bounded recursion limit (:func:`deep_recursion`), and
:data:`MAX_NESTING` is the depth the engine promises to handle (deeper equations are
refused with that number).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

#: Default memory limit when the machine's memory is larger: 4 GiB (see default_max_memory).
DEFAULT_MAX_MEMORY = 4 * 2**30
#: The environment variable that sets the default limit (e.g. for ``deterrence run``).
MAX_MEMORY_ENV = "DETERRENCE_MAX_MEMORY"
#: Fixed-step methods refuse runs of more steps than this (``max_steps=``, ``--max-steps``).
DEFAULT_MAX_STEPS = 100_000_000
#: Levels of brackets, function calls or operators in one equation that are supported.
MAX_NESTING = 2_000
#: Python's recursion limit while parsing and compiling (PySD's parser needs about 25
#: frames per level of nesting; Python-to-Python calls use no C stack in 3.11+).
RECURSION_LIMIT = 100_000
#: C stack of the thread that does that work: C code that recurses (``json``, Python's
#: ``compile``) may go as deep as the recursion limit allows, which the 8 MB of a main
#: thread cannot hold (a segmentation fault instead of a RecursionError). Virtual memory:
#: only the pages a deep parse touches are ever used.
DEEP_STACK = 512 * 2**20

_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9,
          "gb": 10**9, "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20,
          "gib": 2**30, "tib": 2**40}
_UNLIMITED = ("inf", "none", "unlimited", "off")


def physical_memory() -> int | None:
    """The machine's physical memory in bytes, or None where it cannot be read."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):
        return None


def default_max_memory() -> float:
    """4 GiB, or half the physical memory on a smaller machine; ``DETERRENCE_MAX_MEMORY``
    overrides both.

    A fixed figure, not a share of the memory free at the moment, so a command that
    works today works tomorrow on the same machine whatever else is running.
    """
    setting = os.environ.get(MAX_MEMORY_ENV, "").strip()
    if setting:
        return parse_memory(setting, MAX_MEMORY_ENV)
    physical = physical_memory()
    return float(min(DEFAULT_MAX_MEMORY, physical // 2) if physical else DEFAULT_MAX_MEMORY)


def parse_memory(value: str | float | int | None, option: str = "max_memory") -> float:
    """Bytes from ``8GiB``, ``500MB``, ``2e9`` or a number; ``inf``/``none`` for no limit.

    Raises ValueError naming ``option`` for anything else (the caller adds its context).
    """
    if value is None:
        return default_max_memory()
    if isinstance(value, bool):
        raise ValueError(f"{option}={value!r}: expected a size such as 8GiB or 500MB")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip().lower().replace(" ", "")
        if text in _UNLIMITED:
            return math.inf
        match = re.fullmatch(r"([0-9.]+(?:e[-+]?[0-9]+)?)([a-z]*)", text)
        if not match or match.group(2) not in _UNITS:
            raise ValueError(f"{option}={value!r}: expected a size such as 8GiB, 500MB or "
                             "a number of bytes (inf for no limit)")
        try:
            number = float(match.group(1)) * _UNITS[match.group(2)]
        except ValueError:
            raise ValueError(f"{option}={value!r}: {match.group(1)!r} is not a number") \
                from None
    if math.isnan(number) or number <= 0:
        raise ValueError(f"{option}={value!r}: the limit must be a positive size")
    return number


def format_bytes(n: float) -> str:
    """``1.5 GiB``, ``320 MiB``: sizes as the limits are written."""
    if not math.isfinite(n):
        return "unlimited" if n > 0 else str(n)
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            value = n / size
            return f"{value:,.0f} {unit}" if 1000 <= value < 1e6 else f"{value:.3g} {unit}"
    return f"{n:.0f} bytes"


_lock = threading.Lock()
_inside = 0  # callers inside deep_recursion, over all threads
_restore: tuple[int, int] | None = None  # (limit before, limit we set)


@contextlib.contextmanager
def deep_recursion(limit: int = RECURSION_LIMIT) -> Iterator[None]:
    """Raise Python's recursion limit to ``limit`` (never lower it) for the block.

    Use it through :func:`deep_call`: on an ordinary thread's stack a raised limit lets C
    code recurse until the process crashes. Thread-safe: the limit is process-wide, so
    it is raised when the first caller enters and restored when the last one leaves,
    unless someone else changed it meanwhile.
    """
    global _inside, _restore
    with _lock:
        if _inside == 0:
            before = sys.getrecursionlimit()
            if before < limit:
                sys.setrecursionlimit(limit)
                _restore = (before, limit)
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0 and _restore is not None:
                before, ours = _restore
                _restore = None
                if sys.getrecursionlimit() == ours:
                    with contextlib.suppress(RecursionError):
                        sys.setrecursionlimit(before)


_stack_lock = threading.Lock()
_local = threading.local()


def deep_call(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` with room for deep recursion: on a thread with a
    :data:`DEEP_STACK` C stack, inside :func:`deep_recursion`; its exception, if any, is
    raised here. Called from such a thread, ``fn`` runs directly.

    Where a thread's stack size cannot be set, ``fn`` runs here with the usual limit
    (deep equations then fail with a RecursionError rather than crash).
    """
    if getattr(_local, "deep", False):
        return fn(*args, **kwargs)
    outcome: dict[str, Any] = {}

    def run() -> None:
        _local.deep = True
        try:
            with deep_recursion():
                outcome["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    with _stack_lock:  # stack_size is a process-wide setting for new threads
        try:
            previous = threading.stack_size(DEEP_STACK)
        except (ValueError, RuntimeError):
            return fn(*args, **kwargs)
        try:
            worker = threading.Thread(target=run, name="deterrence-deep", daemon=True)
            worker.start()
        finally:
            threading.stack_size(previous)
    worker.join()
    if "error" in outcome:
        error = outcome.pop("error")
        raise error
    return outcome["value"]


def is_recursion_failure(exc: BaseException | None) -> bool:
    """Whether ``exc``, or an exception it was raised from, is a RecursionError."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, RecursionError):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False
