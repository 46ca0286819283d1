"""The native flavour of the function registry: scalar functions that numba compiles.

Each takes and returns float64 scalars (one run) and follows NumPy's float semantics
(1/0 is inf, no exception), as the vector flavour does: numba compiles them with
``error_model="numpy"``. They call only NumPy and each other through NumPy (no Python
helper), so every one compiles on its own; ``compile/emit_native.py`` wraps them with
``numba.njit``. Booleans are 1.0 and 0.0, so every value of generated code is a float.
``tests/engine/test_library.py`` checks each against the vector flavour.
"""

from __future__ import annotations

import math

import numpy as np

from .numeric import SMALL_VENSIM


def n_min(a, b):
    return np.minimum(a, b)


def n_max(a, b):
    return np.maximum(a, b)


def n_step(ts, height, start):
    return height if ts > start else 0.0


def n_pulse(tc, ts, start, width):
    width = np.maximum(width, 2.0 * (ts - tc))
    return 1.0 if ts > start and ts <= start + width else 0.0


def n_pulse_train(tc, ts, start, width, between, end):
    width = np.maximum(width, 2.0 * (ts - tc))
    since = ts - start
    phase = np.fmod(np.maximum(since, 0.0), between) if between > 0 else 0.0
    on = since > 0 and tc <= end and ts - phase <= end and (
        phase < width or between <= width)
    return 1.0 if on else 0.0


def n_ramp(t, slope, start, end=np.inf):
    return slope * (np.minimum(t, end) - start) if t > start else 0.0


def n_xpulse(ts, start, magnitude, dt):
    return magnitude / dt if ts > start and ts <= start + dt else 0.0


def n_xpulse_train(ts, start, interval, magnitude, dt):
    since = ts - start
    phase = np.fmod(np.maximum(since, 0.0), interval if interval > 0 else np.inf)
    return magnitude / dt if since > 0 and phase <= dt else 0.0


def n_xidz(a, b, x):
    return x if np.abs(b) < SMALL_VENSIM else a / (1.0 if b == 0 else b)


def n_zidz(a, b):
    return 0.0 if np.abs(b) < SMALL_VENSIM else a / (1.0 if b == 0 else b)


def n_quantum(a, q):
    return a if q < SMALL_VENSIM else q * np.trunc(a / (1.0 if q == 0 else q))


def n_modulo(a, b):
    return a - (a if b < SMALL_VENSIM else b * np.trunc(a / (1.0 if b == 0 else b)))


def n_log(x, base):
    return np.log(x) / np.log(base)


def n_where(cond, a, b):  # generated native code inlines `a if c else b` instead
    return a if cond else b


def n_not(a):
    return 0.0 if a else 1.0


def n_and(a, b):
    return 1.0 if a and b else 0.0


def n_or(a, b):
    return 1.0 if a or b else 0.0


def n_gamma_ln(x):  # numba compiles math.lgamma (inf at the poles, as SciPy's gammaln)
    return math.lgamma(x) if x > 0 or x != np.floor(x) else np.inf


def n_interp(x, xp, fp):
    return np.interp(x, xp, fp)


def n_extrapolate(x, xp, fp):
    if len(xp) >= 2 and x < xp[0]:
        return fp[0] + (x - xp[0]) * (fp[1] - fp[0]) / (xp[1] - xp[0])
    if len(xp) >= 2 and x > xp[-1]:
        return fp[-1] + (x - xp[-1]) * (fp[-1] - fp[-2]) / (xp[-1] - xp[-2])
    return np.interp(x, xp, fp)


def n_backward(x, xp, fp):
    i = min(max(np.searchsorted(xp, x, side="right") - 1, 0), len(xp) - 1)
    return fp[i]


def n_forward(x, xp, fp):
    i = min(max(np.searchsorted(xp, x, side="left"), 0), len(xp) - 1)
    return fp[i]
