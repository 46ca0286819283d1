"""The RANDOM functions: draws that are a pure function of (run key, call site, time).

A draw is not taken from a generator that advances: it is a hash (SplitMix64's
finaliser, twice) of the run's key, the call's site number and the bits of the time at
the start of the step. So every rk4 stage of a step, and the auxiliaries recomputed at
the save times after the integration, see the same value, and a new value is drawn at
each TIME STEP, as in Vensim ("the number returned is different on each successive
invocation"). Each run of an ensemble has its own key, from
``numpy.random.SeedSequence(seed).generate_state``: run i of a seed gets the same stream
whatever the size of the ensemble. Everything is vectorised over runs.

Vensim's conventions (its reference, "RANDOM Number Functions"): the draw is stretched
by ``r``, then shifted by ``h``, then truncated to [``m``, ``x``]; truncation is the
distribution conditioned on the range, drawn here by inverting the CDF on the range
(one uniform per draw, no rejection loop). The last argument (Vensim's stream ID) is
accepted and not used: every call site has its own stream already. The values are not
Vensim's own draws (another generator); their distributions are.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def uniform01(tc, key, site) -> np.ndarray:
    """A uniform number in (0, 1) for each run: a hash of (key, site, time)."""
    with np.errstate(over="ignore"):
        keys = np.asarray(key, dtype=np.float64).astype(np.uint64)
        time_bits = np.asarray(tc, dtype=np.float64).view(np.uint64)
        z = _mix(keys * _GOLDEN + np.uint64(int(site)))
        z = _mix(z ^ (time_bits + _GOLDEN))
    return ((z >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0 ** 53


def run_keys(seed: int, n_runs: int) -> np.ndarray:
    """One 32-bit key per run (as floats, exact), from ``SeedSequence(seed)``."""
    return np.random.SeedSequence(seed).generate_state(n_runs, np.uint32).astype(float)


def _between(u, lo, hi):
    """u mapped onto the CDF range [lo, hi]; NaN where the range is empty."""
    return np.where(hi > lo, lo + u * (hi - lo), np.nan)


def _shifted(value, h, r):
    return h + r * value


def _bounds(m, x, h, r):
    """The truncation [m, x] in the unshifted, unstretched variable (r > 0)."""
    r = np.where(r > 0, r, np.nan)
    return (m - h) / r, (x - h) / r


def v_random_0_1(tc, key, site):
    return uniform01(tc, key, site)


def v_random_uniform(tc, key, site, m, x):
    return m + (x - m) * uniform01(tc, key, site)


def v_random_normal(tc, key, site, m, x, h, r):
    from scipy.special import ndtr, ndtri

    lo, hi = _bounds(m, x, h, r)
    u = _between(uniform01(tc, key, site), ndtr(lo), ndtr(hi))
    return _shifted(np.clip(ndtri(u), lo, hi), h, r)


def v_random_exponential(tc, key, site, m, x, h, r):
    lo, hi = _bounds(m, x, h, r)
    lo, hi = np.maximum(lo, 0.0), np.maximum(hi, 0.0)
    u = _between(uniform01(tc, key, site), -np.expm1(-lo), -np.expm1(-hi))
    return _shifted(np.clip(-np.log1p(-u), lo, hi), h, r)


def v_random_gamma(tc, key, site, m, x, order, h, r):
    """Gamma of the given order with mean 1 (Vensim: an order below 1 is taken as 1)."""
    from scipy.special import gammainc, gammaincinv

    k = np.maximum(order, 1.0)
    lo, hi = _bounds(m, x, h, r)
    lo, hi = np.maximum(lo, 0.0), np.maximum(hi, 0.0)
    u = _between(uniform01(tc, key, site), gammainc(k, lo * k), gammainc(k, hi * k))
    return _shifted(np.clip(gammaincinv(k, u) / k, lo, hi), h, r)


def v_random_beta(tc, key, site, m, x, a, b, h, r):
    from scipy.special import betainc, betaincinv

    lo, hi = _bounds(m, x, h, r)
    lo, hi = np.clip(lo, 0.0, 1.0), np.clip(hi, 0.0, 1.0)
    u = _between(uniform01(tc, key, site), betainc(a, b, lo), betainc(a, b, hi))
    return _shifted(np.clip(betaincinv(a, b, u), lo, hi), h, r)


def v_random_weibull(tc, key, site, m, x, shape, h, r):
    """Weibull of the given shape, scaled to mean 1, as Vensim's reference says."""
    from scipy.special import gamma

    scale = 1.0 / gamma(1.0 + 1.0 / shape)
    lo, hi = _bounds(m, x, h, r)
    lo, hi = np.maximum(lo, 0.0), np.maximum(hi, 0.0)

    def cdf(w):
        return -np.expm1(-((w / scale) ** shape))

    u = _between(uniform01(tc, key, site), cdf(lo), cdf(hi))
    return _shifted(np.clip(scale * (-np.log1p(-u)) ** (1.0 / shape), lo, hi), h, r)


def v_random_triangular(tc, key, site, m, x, start, peak, end):
    """Triangular between ``start`` and ``end`` with its mode at ``peak``, truncated."""
    width = end - start
    left = np.where(width > 0, (peak - start) / np.where(width > 0, width, 1.0), np.nan)

    def cdf(v):
        q = np.clip((v - start) / np.where(width > 0, width, np.nan), 0.0, 1.0)
        return np.where(q <= left, q * q / np.where(left > 0, left, 1.0),
                        1.0 - (1.0 - q) ** 2 / np.where(left < 1, 1.0 - left, 1.0))

    u = _between(uniform01(tc, key, site), cdf(m), cdf(x))
    q = np.where(u <= left, np.sqrt(u * left), 1.0 - np.sqrt((1.0 - u) * (1.0 - left)))
    return np.clip(start + q * width, m, x)


def _discrete(tc, key, site, m, x, h, r, cdf, ppf):
    """A count K stretched and shifted: K in [ceil(lo), floor(hi)], by inverting its CDF."""
    lo, hi = _bounds(m, x, h, r)
    k_lo, k_hi = np.maximum(np.ceil(lo - 1e-9), 0.0), np.floor(hi + 1e-9)
    u = _between(uniform01(tc, key, site), cdf(k_lo - 1.0), cdf(k_hi))
    return _shifted(np.clip(ppf(u), k_lo, k_hi), h, r)


def v_random_poisson(tc, key, site, m, x, mean, h, r):
    from scipy.stats import poisson

    return _discrete(tc, key, site, m, x, h, r, lambda k: poisson.cdf(k, mean),
                     lambda u: poisson.ppf(u, mean))


def v_random_binomial(tc, key, site, m, x, p, n, h, r):
    from scipy.stats import binom

    return _discrete(tc, key, site, m, x, h, r, lambda k: binom.cdf(k, n, p),
                     lambda u: binom.ppf(u, n, p))


def v_random_negative_binomial(tc, key, site, m, x, p, n, h, r):
    """The number of trials up to the ``n``-th success of probability ``p`` (a whole
    number from ``n`` up, as Vensim's reference says), stretched, shifted, truncated."""
    from scipy.stats import nbinom

    return _discrete(tc, key, site, m, x, h, r, lambda k: nbinom.cdf(k - n, n, p),
                     lambda u: n + nbinom.ppf(u, n, p))


#: key, name, implementation, number of the modeller's arguments (the stream ID last)
FUNCTIONS = [
    ("random_0_1", "RANDOM 0 1", v_random_0_1, 0),
    ("random_uniform", "RANDOM UNIFORM", v_random_uniform, 3),
    ("random_normal", "RANDOM NORMAL", v_random_normal, 5),
    ("random_exponential", "RANDOM EXPONENTIAL", v_random_exponential, 5),
    ("random_gamma", "RANDOM GAMMA", v_random_gamma, 6),
    ("random_beta", "RANDOM BETA", v_random_beta, 7),
    ("random_weibull", "RANDOM WEIBULL", v_random_weibull, 6),
    ("random_triangular", "RANDOM TRIANGULAR", v_random_triangular, 6),
    ("random_poisson", "RANDOM POISSON", v_random_poisson, 6),
    ("random_binomial", "RANDOM BINOMIAL", v_random_binomial, 7),
    ("random_negative_binomial", "RANDOM NEGATIVE BINOMIAL", v_random_negative_binomial, 7),
]
