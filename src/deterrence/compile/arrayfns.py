"""VECTOR SELECT, VECTOR REORDER, ALLOCATE BY PRIORITY and ALLOCATE AVAILABLE, as the
generated code calls them (globals ``_a_*``, through ``ir.ArrayApply``).

Every argument is ``(*lead, *axes)`` (see :mod:`.arrayops`), its axes aligned at compile
time so that the axes a function works along come last; ``lead`` is the run axis (or
nothing for a constant). Nothing here loops over runs or elements: the allocations solve
for one market-clearing priority per run and per element of the other axes at once
(exactly, on ALLOCATE BY PRIORITY's piecewise-linear curve; by a fixed number of bisection
steps on ALLOCATE AVAILABLE's). A value Vensim would stop the run on raises a
:class:`~deterrence.errors.SimulationError` naming the variable (``Where``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import ndtr

from ..errors import SimulationError

#: bisection steps of ALLOCATE AVAILABLE: they shrink the bracket (80 widths and the spread
#: of the priorities) 2^64-fold, below a double's resolution of the priority
BISECTION_STEPS = 64
#: how far (in widths) beyond the priorities the normal and exponential curves reach:
#: 0.5 exp(-40) and the normal tail at 40 widths are below a double's resolution of 1
_REACH = 40.0


@dataclass(frozen=True)
class Where:
    """The call site, for errors raised while the model runs (a global of the code)."""

    function: str
    variable: str
    path: Path | None = None
    line: int | None = None

    def error(self, message: str, hint: str) -> SimulationError:
        return SimulationError(f"{self.function} in {self.variable!r}: {message}",
                               path=self.path, line=self.line, variable=self.variable,
                               hint=hint)


def _flat(x: np.ndarray, k: int) -> np.ndarray:
    """The trailing ``k`` axes of ``x`` as one."""
    return x.reshape((*x.shape[:x.ndim - k], -1))


def vector_select(sel: Any, expr: Any, missing: Any, k: float, action: float, error: float,
                  where: Where) -> np.ndarray:
    """VECTOR SELECT over the trailing ``k`` (marked) axes: ``action`` 0-4 work on
    sel * expr, 5 on expr ^ sel (what Vensim computes; its help says sel ^ expr), 6-10
    on expr, each where sel is non-zero: sum, product, minimum, maximum, mean (0/6, 1/5/7,
    2/8, 3/9, 4/10); ``missing`` where sel is all zero. ``error`` 1: all zero is an
    error, 2: more than one non-zero, 3: either."""
    s, e = np.broadcast_arrays(np.asarray(sel, dtype=float), np.asarray(expr, dtype=float))
    s, e = _flat(s, int(k)), _flat(e, int(k))
    chosen = s != 0
    count = chosen.sum(axis=-1)
    if error in (1, 3) and np.any(count == 0):
        raise where.error("its selection array is all zeros (error action "
                          f"{error:g})", "give the selection a non-zero element, or use "
                          "error action 0 to get the missing value")
    if error in (2, 3) and np.any(count > 1):
        raise where.error("its selection array has more than one non-zero element (error "
                          f"action {error:g})", "select one element, or use error action 0")
    a = int(action)
    with np.errstate(all="ignore"):
        values = s * e if a <= 4 else e ** s if a == 5 else e
        if a in (0, 6, 4, 10):
            out = np.where(chosen, values, 0.0).sum(axis=-1)
            if a in (4, 10):
                out = out / np.maximum(count, 1)
        elif a in (1, 5, 7):
            out = np.where(chosen, values, 1.0).prod(axis=-1)
        elif a in (2, 8):
            out = np.where(chosen, values, np.inf).min(axis=-1)
        else:
            out = np.where(chosen, values, -np.inf).max(axis=-1)
    return np.where(count == 0, missing, out)


def vector_reorder(vector: Any, order: Any, where: Where) -> np.ndarray:
    """VECTOR REORDER along the last axis: element i is ``vector[order[i]]`` (``order``
    counts from 0, as VECTOR SORT ORDER gives it)."""
    v, o = np.broadcast_arrays(np.asarray(vector, dtype=float), np.asarray(order, dtype=float))
    n = v.shape[-1]
    index = np.rint(o)
    if not np.all((index >= 0) & (index < n)):
        bad = o[~((index >= 0) & (index < n))].flat[0]
        raise where.error(f"its order vector holds {bad:g}, not a position from 0 to "
                          f"{n - 1}", "pass the output of VECTOR SORT ORDER on the same range")
    return np.take_along_axis(v, index.astype(np.intp), axis=-1)


def _no_negative(request: np.ndarray, where: Where) -> None:
    if np.any(request < 0):
        raise where.error(f"a request is negative ({request[request < 0].flat[0]:g})",
                          "requests are quantities: keep them at zero or above (MAX(0, ...))")


def allocate_by_priority(request: Any, priority: Any, width: Any, supply: Any,
                         where: Where) -> np.ndarray:
    """ALLOCATE BY PRIORITY along the last axis: each request i receives
    ``request_i * clip((priority_i - x) / width, 0, 1)`` at the priority ``x`` where the
    allocations add up to the supply (all requests when the supply covers them, none when
    it is zero or less). The allocations are piecewise linear in ``x``, with corners at
    each priority and each priority less the width, so ``x`` is found exactly: between
    the two corners whose totals bracket the supply. This is PySD's (and Vensim's)
    rationing: the highest priority is served first, the next one joins once the first
    has received (difference in priority / width) of its request, and the requests
    being served share what remains in proportion to their size."""
    r, p = np.broadcast_arrays(np.asarray(request, dtype=float),
                               np.asarray(priority, dtype=float))
    w = np.asarray(width, dtype=float)[..., None]
    s = np.asarray(supply, dtype=float)[..., None]
    _no_negative(r, where)
    if np.any(w <= 0):
        raise where.error(f"its width is {w[w <= 0].flat[0]:g}", "the width must be "
                          "greater than 0")
    r, p, w, s = np.broadcast_arrays(r, p, w, s)
    w, s = w[..., :1], s[..., :1]
    total = r.sum(axis=-1, keepdims=True)
    corners = np.sort(np.concatenate([p, p - w], axis=-1), axis=-1)  # (..., 2n)
    with np.errstate(all="ignore"):
        share = np.clip((p[..., None, :] - corners[..., :, None]) / w[..., None], 0, 1)
        totals = (r[..., None, :] * share).sum(axis=-1)  # non-increasing along the corners
        target = np.clip(s, 0, total)
        k = np.clip((totals >= target).sum(axis=-1, keepdims=True) - 1, 0,
                    corners.shape[-1] - 2)
        x0, x1 = (np.take_along_axis(corners, k + i, axis=-1) for i in (0, 1))
        t0, t1 = (np.take_along_axis(totals, k + i, axis=-1) for i in (0, 1))
        x = np.where(t0 > t1, x0 + (t0 - target) / (t0 - t1) * (x1 - x0), x0)
        out = r * np.clip((p - x) / w, 0, 1)
    return np.where(s >= total, r, np.where(s <= 0, 0.0, out))


# -- ALLOCATE AVAILABLE ----------------------------------------------------------------

#: Vensim's profile types (ptype) that ALLOCATE AVAILABLE computes
PROFILES = {1: "rectangular", 2: "triangular", 3: "normal", 4: "exponential"}


def _served(kind: np.ndarray, x: np.ndarray, p: np.ndarray, w: np.ndarray,
            present: tuple[int, ...]) -> np.ndarray:
    """The fraction of each request served at priority ``x``: one less the CDF of its
    profile (centred on its priority ``p``, spread by its width ``w``); only the profile
    types ``present`` are computed."""
    u = (x - p) / w
    out: np.ndarray = np.zeros(np.broadcast_shapes(u.shape, kind.shape))
    for code in present:
        if code == 1:
            value = np.clip(0.5 - u, 0, 1)
        elif code == 2:
            value = np.where(u <= -0.5, 1.0, np.where(u < 0, 1 - 2 * (u + 0.5) ** 2, np.where(
                u < 0.5, 2 * (0.5 - u) ** 2, 0.0)))
        elif code == 3:
            value = ndtr(-u)  # the normal's upper tail: 1 - CDF, without cancellation
        else:
            value = np.where(u < 0, 1 - 0.5 * np.exp(np.minimum(u, 0)),
                             0.5 * np.exp(-np.maximum(u, 0)))
        out = value if len(present) == 1 else np.where(kind == code, value, out)
    return out


def allocate_available(request: Any, profiles: Any, available: Any, where: Where
                       ) -> np.ndarray:
    """ALLOCATE AVAILABLE along the last axis of ``request``: ``profiles`` has one more
    axis, each request's priority profile (ptype, ppriority, pwidth[, pextra]); each
    request receives ``request_i * (1 - CDF_i(x))`` at the priority ``x`` where the
    allocations add up to what is available (all requests when it covers them, none when
    it is zero or less), ``x`` found by bisection of the total, which never increases."""
    pp = np.asarray(profiles, dtype=float)
    r = np.asarray(request, dtype=float)
    a = np.asarray(available, dtype=float)[..., None]
    _no_negative(r, where)
    kind, p, w = pp[..., 0], pp[..., 1], pp[..., 2]
    r, kind, p, w, a = np.broadcast_arrays(r, kind, p, w, a)
    a = a[..., :1]
    asked = r > 0
    known = np.isin(kind, list(PROFILES))
    if np.any(asked & ~known):
        code = kind[asked & ~known].flat[0]
        raise where.error(
            f"its priority profile has ptype {code:g}, which the engine does not compute "
            f"(it computes {', '.join(f'{k} {v}' for k, v in PROFILES.items())})",
            "use one of those profile types, or run the model with --engine pysd")
    if np.any(asked & ~(w > 0)):
        raise where.error(f"a priority profile's width is {w[asked & ~(w > 0)].flat[0]:g}",
                          "pwidth must be greater than 0")
    present = tuple(k for k in PROFILES if np.any(asked & (kind == k)))
    w = np.where(asked, w, 1.0)
    p = np.where(asked, p, 0.0)
    total = r.sum(axis=-1, keepdims=True)
    target = np.clip(a, 0, total)
    with np.errstate(all="ignore"):
        lo = np.where(asked, p - _REACH * w, np.inf).min(axis=-1, keepdims=True)
        hi = np.where(asked, p + _REACH * w, -np.inf).max(axis=-1, keepdims=True)
        lo, hi = np.where(np.isfinite(lo), lo, 0.0), np.where(np.isfinite(hi), hi, 0.0)
        for _ in range(BISECTION_STEPS):  # a fixed count: every run and element at once
            mid = 0.5 * (lo + hi)
            above = (r * _served(kind, mid, p, w, present)).sum(axis=-1, keepdims=True) > target
            lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
        out = r * _served(kind, 0.5 * (lo + hi), p, w, present)
    return np.where(a >= total, r, np.where(a <= 0, 0.0, out))


NAMESPACE = {"_a_vector_select": vector_select, "_a_vector_reorder": vector_reorder,
             "_a_allocate_by_priority": allocate_by_priority,
             "_a_allocate_available": allocate_available}
