"""The implementations behind the function registry, in two flavours.

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

import numpy as np

SMALL_VENSIM = 1e-6  # what Vensim treats as zero in XIDZ, ZIDZ, QUANTUM and MODULO


# -- vector flavour --------------------------------------------------------------------


def v_step(ts, height, start):
    return np.where(ts > start, height, 0.0)


def v_pulse(tc, ts, start, width):
    """1 from ``start`` for ``width``; at least one TIME STEP (2 * (ts - tc)), as in Vensim."""
    width = np.maximum(width, 2.0 * (ts - tc))
    return np.where((ts > start) & (ts <= start + width), 1.0, 0.0)


def v_pulse_train(tc, ts, start, width, between, end):
    """PULSE TRAIN as Vensim computes it: pulse k is PULSE(start + k*between, width)
    (tested at ``ts``, at least one TIME STEP wide), for every pulse that starts at or
    before ``end``, and the train is on only while Time (``tc``) <= end. A ``between``
    no longer than ``width`` (or <= 0) gives 1 from start to end, as Vensim documents."""
    width = np.maximum(width, 2.0 * (ts - tc))
    since = ts - start
    phase = np.where(between > 0, np.fmod(np.maximum(since, 0.0),
                                          np.where(between > 0, between, 1.0)), 0.0)
    on = (since > 0) & (tc <= end) & (ts - phase <= end) & (
        (phase < width) | (between <= width))
    return np.where(on, 1.0, 0.0)


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


def v_gamma_ln(x):
    """GAMMA LN: ln |Gamma(x)| (inf at 0 and the negative integers, where Gamma has poles)."""
    from scipy.special import gammaln

    x = np.asarray(x, dtype=float)
    tiny = (np.abs(x) < 1e-300) & (x != 0)  # SciPy gives inf below ~1e-308; lgamma -ln|x|
    return np.where(tiny, -np.log(np.where(tiny, np.abs(x), 1.0)), gammaln(x))


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


def s_pulse_train(tc, ts, start, width, between, end):
    width = max(width, 2.0 * (ts - tc))
    since = ts - start
    if not (since > 0 and tc <= end):  # written so a NaN gives 0, as the vector flavour
        return 0.0
    phase = math.fmod(since, between) if between > 0 else 0.0
    if not ts - phase <= end:
        return 0.0
    return 1.0 if phase < width or between <= width else 0.0


def s_ramp(t, slope, start, end=math.inf):
    return slope * (s_min(t, end) - start) if t > start else 0.0


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


def s_gamma_ln(x):  # raises ValueError at the poles: the caller then uses the vector flavour
    return math.lgamma(x)


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


def s_where(cond, a, b):  # generated scalar code inlines `a if c else b` instead
    return a if cond else b


def s_not(a):
    return not a


def s_and(a, b):
    return bool(a) and bool(b)


def s_or(a, b):
    return bool(a) or bool(b)
