"""The array operations generated code calls for subscripted values (globals ``_a_*``).

A value's array is ``(*lead, *axes)``: ``lead`` is whatever the caller gives (nothing for
a constant, the runs, or times and runs), the subscript axes come last, so NumPy's
broadcasting from the right lines the axes up once they are in the same order. Every
argument describing axes (positions, shapes, index arrays) is fixed at compile time;
none of these functions loops over runs or elements.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import arrayfns

ALL = slice(None)


def align(x: Any, perm: tuple[int, ...], index: tuple[Any, ...]) -> np.ndarray:
    """The trailing ``len(perm)`` axes of ``x`` put in order ``perm``, then size-1 axes
    inserted where ``index`` has None (``index`` is ALL for each kept axis)."""
    x = np.asarray(x)
    k = len(perm)
    if perm != tuple(range(k)):
        lead = x.ndim - k
        x = x.transpose(tuple(range(lead)) + tuple(lead + p for p in perm))
    return x[(Ellipsis, *index)]


def alignment(source: tuple[str, ...], target: tuple[str, ...]
              ) -> tuple[tuple[int, ...], tuple[Any, ...]]:
    """``align``'s arguments taking axes ``source`` to ``target`` (a superset; names
    not in ``source``, such as "" for an element of a left-hand side, become size 1)."""
    perm = tuple(source.index(a) for a in target if a in source)
    return perm, tuple(ALL if a in source else None for a in target)


def full(x: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``x`` broadcast to its axes' whole ``shape`` (a view), keeping its lead."""
    x = np.asarray(x)
    return np.broadcast_to(x, x.shape[:x.ndim - len(shape)] + shape)


def take(x: Any, axis: int, index: int | tuple[int, ...]) -> np.ndarray:
    """Elements ``index`` along trailing axis ``axis`` (negative)."""
    return np.take(np.asarray(x), index, axis=axis)


def load(y: np.ndarray, start: int, stop: int, shape: tuple[int, ...]) -> np.ndarray:
    """A subscripted stock from its rows ``start:stop`` of the state ``y`` (rows, *lead)."""
    v = y[start:stop]
    v = v.reshape(shape + v.shape[1:])
    k = len(shape)
    return np.moveaxis(v, tuple(range(k)), tuple(range(-k, 0)))


def zload(z: tuple[Any, ...], start: int, stop: int, shape: tuple[int, ...]) -> np.ndarray:
    """A subscripted pipe (DELAY FIXED, SAMPLE IF TRUE) from its rows of the pipes'
    values ``z`` (a tuple of one array of the lead shape per row)."""
    return load(np.stack(np.broadcast_arrays(*z[start:stop])), 0, stop - start, shape)


def rows(x: Any, shape: tuple[int, ...], lead: tuple[int, ...]) -> np.ndarray:
    """A subscripted value as state rows (elements, *lead): the inverse of ``load``."""
    k = len(shape)
    v = np.broadcast_to(np.asarray(x), lead + shape)
    return np.moveaxis(v, tuple(range(-k, 0)), tuple(range(k))).reshape(
        (int(np.prod(shape)), *lead))


def split(x: Any, shape: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    """A subscripted initial value as one array per state row (each of its lead shape)."""
    x = np.asarray(x)
    lead = x.shape[:max(0, x.ndim - len(shape))]
    return tuple(rows(x, shape, lead))


def assemble(shape: tuple[int, ...], *parts: tuple[Any, Any]) -> np.ndarray:
    """An array of ``shape`` (NaN where undefined) written part by part: each part is a
    value (aligned to its grid) and its target ``(ix, mask)`` (see ``subscripts.Grid``).
    The loop is over the equations of one variable, fixed at compile time."""
    values = [np.asarray(v) for v, _ in parts]
    k = len(shape)
    lead = np.broadcast_shapes(*(v.shape[:max(0, v.ndim - k)] for v in values))
    out = np.full(lead + shape, np.nan)
    for v, (ix, mask) in zip(values, (t for _, t in parts), strict=True):
        where = (Ellipsis, *ix)
        out[where] = v if mask is None else np.where(mask, v, out[where])
    return out


def interp(x: Any, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """Linear interpolation in one table per element (``np.interp``'s rule: the end
    values beyond the ends): ``xp``/``fp`` are (..., points), ``x`` broadcasts with
    (...); the tables' points are sorted, and padded by repeating their last point."""
    x = np.asarray(x, dtype=float)[..., None]
    xp, fp, x = np.broadcast_arrays(xp, fp, x)
    x = x[..., :1]
    m = xp.shape[-1]
    upper = np.clip(np.sum(xp <= x, axis=-1, keepdims=True), 1, max(m - 1, 1))
    x0 = np.take_along_axis(xp, upper - 1, axis=-1)
    x1 = np.take_along_axis(xp, upper, axis=-1) if m > 1 else x0
    y0 = np.take_along_axis(fp, upper - 1, axis=-1)
    y1 = np.take_along_axis(fp, upper, axis=-1) if m > 1 else y0
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(x1 > x0, y0 + (x - x0) * (y1 - y0) / (x1 - x0), y1)
    y = np.where(x <= xp[..., :1], fp[..., :1], np.where(x >= xp[..., -1:], fp[..., -1:], y))
    return y[..., 0]


def hold(x: Any, xp: np.ndarray, fp: np.ndarray, forward: bool) -> np.ndarray:
    """Held tables, one per element (as ``interp``): the value at the last point at or
    before ``x`` (data :HOLD BACKWARD:), or the first at or after (:LOOK FORWARD:)."""
    x = np.asarray(x, dtype=float)[..., None]
    xp, fp, x = np.broadcast_arrays(xp, fp, x)
    m = xp.shape[-1]
    before = np.sum(xp < x[..., :1] if forward else xp <= x[..., :1], axis=-1,
                    keepdims=True)
    index = np.clip(before if forward else before - 1, 0, m - 1)
    return np.take_along_axis(fp, index, axis=-1)[..., 0]


def invert(x: Any, axis: int) -> np.ndarray:
    """INVERT MATRIX: the inverse over the trailing two axes (``axis`` is -2)."""
    return np.linalg.inv(np.asarray(x, dtype=float))


def sort_order(x: Any, axis: int, direction: float) -> np.ndarray:
    """VECTOR SORT ORDER: the positions (from 0) of the elements in sorted order,
    ascending for a direction > 0, else the ascending order reversed (as PySD)."""
    order = np.argsort(np.asarray(x, dtype=float), axis=axis, kind="stable")
    return (order if direction > 0 else np.flip(order, axis=axis)).astype(float)


def rank(x: Any, axis: int, direction: float) -> np.ndarray:
    """VECTOR RANK: each element's rank (from 1), ascending for a direction > 0."""
    order = np.argsort(sort_order(x, axis, direction), axis=axis, kind="stable")
    return order.astype(float) + 1.0


#: array functions that keep their argument's axes (``ir.ArrayCall``)
ARRAY_FUNCTIONS = {"invert_matrix": invert, "vector_sort_order": sort_order,
                   "vector_rank": rank}

#: SUM, PROD, VMIN, VMAX: (values, axis) -> the reduction over that trailing axis
REDUCTIONS = {"sum": np.sum, "prod": np.prod, "vmin": np.min, "vmax": np.max}

NAMESPACE = {**arrayfns.NAMESPACE, "_a_align": align, "_a_full": full, "_a_take": take,
             "_a_load": load, "_a_zload": zload, "_a_rows": rows, "_a_interp": interp,
             "_a_hold": hold, "_a_split": split, "_a_assemble": assemble, "_a_all": ALL,
             **{f"_a_{key}": fn for key, fn in {**REDUCTIONS, **ARRAY_FUNCTIONS}.items()}}
