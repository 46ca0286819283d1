"""The Vensim/XMILE function library that compiled models call, in two flavours.

``VECTOR`` works on NumPy arrays with a leading run axis (every run at once) and never
raises on bad arithmetic: it returns inf/NaN, which the integrator then reports with the
variable and time (the time and constants are np.float64, never Python floats, so even
an expression of Time and literals alone, such as ``1/(Time-5)``, follows NumPy).
``SCALAR`` works on Python floats for the single-run fast path, where a NumPy call would
cost more than the arithmetic; it may raise ``ArithmeticError`` or ``ValueError`` (never
give a complex number: ``**`` is ``math.pow``), and the caller then falls back to the
vector flavour.

Switch functions take ``ts``, the time at which to test a switch: for fixed steps it is
``t + dt/2`` (Vensim's rounding, so a STEP at a grid time switches on that step); for
adaptive solvers it is a time strictly inside the current segment between breakpoints,
so a solver never sees a switch inside a step.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from typing import Any

import numpy as np

SMALL_VENSIM = 1e-6  # what Vensim treats as zero in XIDZ, ZIDZ, QUANTUM and MODULO


# -- vector flavour --------------------------------------------------------------------


def v_step(ts, height, start):
    return np.where(ts > start, height, 0.0)


def v_pulse(tc, ts, start, width):
    """1 from ``start`` for ``width``; at least one TIME STEP (2 * (ts - tc)), as in Vensim."""
    width = np.maximum(width, 2.0 * (ts - tc))
    return np.where((ts > start) & (ts <= start + width), 1.0, 0.0)


def v_pulse_train(ts, start, width, between, end):
    since = ts - start
    phase = np.fmod(np.maximum(since, 0.0), np.where(between > 0, between, np.inf))
    return np.where((since > 0) & (ts <= end) & (phase <= width), 1.0, 0.0)


def v_ramp(t, slope, start, end=np.inf):
    return np.where(t > start, slope * (np.minimum(t, end) - start), 0.0)


def v_xpulse(ts, start, magnitude, dt):
    """XMILE PULSE(magnitude, start): magnitude/DT during the one step at ``start``."""
    return np.where((ts > start) & (ts <= start + dt), magnitude / dt, 0.0)


def v_xpulse_train(ts, start, interval, magnitude, dt):
    since = ts - start
    phase = np.fmod(np.maximum(since, 0.0), np.where(interval > 0, interval, np.inf))
    return np.where((since > 0) & (phase <= dt), magnitude / dt, 0.0)


def v_xidz(a, b, x):
    return np.where(np.abs(b) < SMALL_VENSIM, x, a / np.where(b == 0, 1.0, b))


def v_zidz(a, b):
    return np.where(np.abs(b) < SMALL_VENSIM, 0.0, a / np.where(b == 0, 1.0, b))


def v_quantum(a, q):
    return np.where(q < SMALL_VENSIM, a, q * np.trunc(a / np.where(q == 0, 1.0, q)))


def v_modulo(a, b):
    return a - v_quantum(a, b)


def v_log(x, base):
    return np.log(x) / np.log(base)


def v_interp(x, xp, fp):
    return np.interp(x, xp, fp)


def v_extrapolate(x, xp, fp):
    """Linear interpolation that continues the first and last segments."""
    y = np.interp(x, xp, fp)
    if len(xp) < 2:
        return y
    lo = fp[0] + (x - xp[0]) * (fp[1] - fp[0]) / (xp[1] - xp[0])
    hi = fp[-1] + (x - xp[-1]) * (fp[-1] - fp[-2]) / (xp[-1] - xp[-2])
    return np.where(x < xp[0], lo, np.where(x > xp[-1], hi, y))


def v_backward(x, xp, fp):
    """LOOKUP BACKWARD: the value at the last table point at or before x."""
    i = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 1)
    return np.asarray(fp)[i]


def v_forward(x, xp, fp):
    """LOOKUP FORWARD: the value at the first table point at or after x."""
    i = np.clip(np.searchsorted(xp, x, side="left"), 0, len(xp) - 1)
    return np.asarray(fp)[i]


# -- scalar flavour --------------------------------------------------------------------


def s_step(ts, height, start):
    return height if ts > start else 0.0


def s_pulse(tc, ts, start, width):
    return 1.0 if start < ts <= start + max(width, 2.0 * (ts - tc)) else 0.0


def s_pulse_train(ts, start, width, between, end):
    since = ts - start
    if since <= 0 or ts > end:
        return 0.0
    phase = math.fmod(since, between) if between > 0 else since
    return 1.0 if phase <= width else 0.0


def s_ramp(t, slope, start, end=math.inf):
    return slope * (min(t, end) - start) if t > start else 0.0


def s_xpulse(ts, start, magnitude, dt):
    return magnitude / dt if start < ts <= start + dt else 0.0


def s_xpulse_train(ts, start, interval, magnitude, dt):
    since = ts - start
    if since <= 0:
        return 0.0
    phase = math.fmod(since, interval) if interval > 0 else since
    return magnitude / dt if phase <= dt else 0.0


def s_xidz(a, b, x):
    return x if abs(b) < SMALL_VENSIM else a / b


def s_zidz(a, b):
    return 0.0 if abs(b) < SMALL_VENSIM else a / b


def s_quantum(a, q):
    return a if q < SMALL_VENSIM else q * math.trunc(a / q)


def s_modulo(a, b):
    return a - s_quantum(a, b)


def s_log(x, base):
    return math.log(x) / math.log(base)


def s_interp(x, xp, fp):
    if x <= xp[0]:
        return fp[0]
    if x >= xp[-1]:
        return fp[-1]
    i = bisect.bisect_right(xp, x)
    x0, x1 = xp[i - 1], xp[i]
    return fp[i - 1] + (x - x0) * (fp[i] - fp[i - 1]) / (x1 - x0)


def s_extrapolate(x, xp, fp):
    if len(xp) >= 2 and x < xp[0]:
        return fp[0] + (x - xp[0]) * (fp[1] - fp[0]) / (xp[1] - xp[0])
    if len(xp) >= 2 and x > xp[-1]:
        return fp[-1] + (x - xp[-1]) * (fp[-1] - fp[-2]) / (xp[-1] - xp[-2])
    return s_interp(x, xp, fp)


def s_backward(x, xp, fp):
    i = min(max(bisect.bisect_right(xp, x) - 1, 0), len(xp) - 1)
    return fp[i]


def s_forward(x, xp, fp):
    i = min(max(bisect.bisect_left(xp, x), 0), len(xp) - 1)
    return fp[i]


def s_min(a, b):
    """MIN on floats as NumPy's minimum: a NaN argument gives NaN (Python's min would
    return the other argument or the NaN depending on the order)."""
    return a if a <= b else b if b < a else math.nan


def s_max(a, b):
    return a if a >= b else b if b > a else math.nan


def _s_where(cond, a, b):  # only used outside generated kernels, which inline `a if c else b`
    return a if cond else b


# name in generated code -> (vector implementation, scalar implementation)
LIBRARY: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    "_where": (np.where, _s_where),
    "_min": (np.minimum, s_min),
    "_max": (np.maximum, s_max),
    "_abs": (np.abs, abs),
    "_sqrt": (np.sqrt, math.sqrt),
    "_exp": (np.exp, math.exp),
    "_ln": (np.log, math.log),
    "_log": (v_log, s_log),
    "_log10": (np.log10, math.log10),
    "_sin": (np.sin, math.sin),
    "_cos": (np.cos, math.cos),
    "_tan": (np.tan, math.tan),
    "_arcsin": (np.arcsin, math.asin),
    "_arccos": (np.arccos, math.acos),
    "_arctan": (np.arctan, math.atan),
    "_sinh": (np.sinh, math.sinh),
    "_cosh": (np.cosh, math.cosh),
    "_tanh": (np.tanh, math.tanh),
    "_power": (np.power, math.pow),
    "_integer": (np.trunc, math.trunc),
    "_modulo": (v_modulo, s_modulo),
    "_quantum": (v_quantum, s_quantum),
    "_xidz": (v_xidz, s_xidz),
    "_zidz": (v_zidz, s_zidz),
    "_step": (v_step, s_step),
    "_pulse": (v_pulse, s_pulse),
    "_pulse_train": (v_pulse_train, s_pulse_train),
    "_ramp": (v_ramp, s_ramp),
    "_xpulse": (v_xpulse, s_xpulse),
    "_xpulse_train": (v_xpulse_train, s_xpulse_train),
    "_interp": (v_interp, s_interp),
    "_extrapolate": (v_extrapolate, s_extrapolate),
    "_backward": (v_backward, s_backward),
    "_forward": (v_forward, s_forward),
    "_not": (np.logical_not, lambda a: not a),
    "_and": (np.logical_and, lambda a, b: bool(a) and bool(b)),
    "_or": (np.logical_or, lambda a, b: bool(a) or bool(b)),
}


def namespace(flavour: str) -> dict[str, Any]:
    """Globals for generated code: only this library, no builtins beyond what it needs."""
    index = 0 if flavour == "vector" else 1
    names: dict[str, Any] = {name: impls[index] for name, impls in LIBRARY.items()}
    names["__builtins__"] = {"range": range, "len": len, "tuple": tuple}
    names["_empty"] = np.empty
    names["_nan"] = np.float64(math.nan) if flavour == "vector" else math.nan
    # Python floats raise on 1/0 or 10**400 and give complex numbers for (-1)**0.5; the
    # vector flavour wraps values that could be Python floats (the time, literals) in
    # np.float64, so every expression follows NumPy's semantics (inf, NaN).
    names["_f64"] = np.float64 if flavour == "vector" else float
    names["_isfinite"] = math.isfinite
    return names
