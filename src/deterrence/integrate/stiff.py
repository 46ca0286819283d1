"""Radau and BDF on an ensemble: a Jacobian estimate and a collocation solve that scale.

SciPy's implicit solvers treat the ensemble's state as one long vector. Its runs are
independent, so the Jacobian is block diagonal; these replacements use that (and one
faster matrix product) so that Radau and BDF stay usable on thousands of runs.
"""

from __future__ import annotations

import contextlib
import inspect
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np


class EnsembleJacobian:
    """Finite-difference Jacobian of an ensemble for Radau and BDF, as a sparse matrix.

    Runs are independent, so perturbing one stock in every run at once gives that
    stock's column in every run: ``stocks + 1`` evaluations of the rates, and the matrix
    (stock-major: row ``k * runs + r``, column ``i * runs + r``) is filled in one NumPy
    step. SciPy's own sparse estimate finds the same columns but then loops in Python
    over every column (``argmax`` of a sparse matrix), which made Radau, which asks for
    a new Jacobian far more often than BDF, many times slower on large ensembles.
    """

    def __init__(self, n_stocks: int, n_runs: int, atol: float) -> None:
        import scipy.sparse

        self.shape = (n_stocks, n_runs)
        self.threshold = max(float(atol), 1e-12)
        size = n_stocks * n_runs
        k = np.arange(n_stocks)
        # column (i, r) holds rows (k, r) for k = 0..n-1, in CSC order
        cols = np.arange(size)
        self.indices = ((k[None, :] * n_runs) + (cols % n_runs)[:, None]).ravel()
        self.indptr = np.arange(0, size * n_stocks + 1, n_stocks)
        self.sparse = scipy.sparse

    def __call__(self, fun: Callable[[float, np.ndarray], np.ndarray], t: float,
                 flat: np.ndarray) -> Any:
        n_stocks, n_runs = self.shape
        y = flat.reshape(n_stocks, n_runs)
        f0 = fun(t, flat).reshape(n_stocks, n_runs)
        scale = np.where(y >= 0, 1.0, -1.0) * np.maximum(np.abs(y), self.threshold)
        h = (y + np.finfo(float).eps ** 0.5 * scale) - y  # exactly representable steps
        data = np.empty((n_stocks, n_runs, n_stocks))  # [column stock, run, row stock]
        for i in range(n_stocks):  # one evaluation per stock, every run at once
            shifted = y.copy()
            shifted[i] += h[i]
            diff = fun(t, shifted.ravel()).reshape(n_stocks, n_runs) - f0
            data[i] = (diff / h[i]).T
        size = n_stocks * n_runs
        return self.sparse.csc_matrix((data.ravel(), self.indices, self.indptr),
                                      shape=(size, size))


def radau_collocation(fun: Callable[..., np.ndarray], t: float, y: np.ndarray, h: float,
                       Z0: np.ndarray, scale: np.ndarray, tol: float, LU_real: Any,
                       LU_complex: Any, solve_lu: Callable[..., np.ndarray],
                       ) -> tuple[bool, int, np.ndarray, float | None]:
    """SciPy's ``radau.solve_collocation_system``, line for line, except two products.

    SciPy computes ``F.T.dot(TI_COMPLEX)``: a transposed real matrix times a complex
    vector, which NumPy does without BLAS at about 1 microsecond per element (7 ms for an
    ensemble of 10,000 values, three times per Newton iteration): most of Radau's time on
    a large ensemble. ``TI_COMPLEX @ F`` is the same sum, a hundred times faster.
    """
    from scipy.integrate._ivp import radau

    n = y.shape[0]
    M_real = radau.MU_REAL / h
    M_complex = radau.MU_COMPLEX / h
    W = radau.TI.dot(Z0)
    Z = Z0
    F = np.empty((3, n))
    ch = h * radau.C
    dW_norm_old = None
    dW = np.empty_like(W)
    converged = False
    rate = None
    k = 0
    for k in range(radau.NEWTON_MAXITER):
        for i in range(3):
            F[i] = fun(t + ch[i], y + Z[i])
        if not np.all(np.isfinite(F)):
            break
        f_real = radau.TI_REAL @ F - M_real * W[0]
        f_complex = radau.TI_COMPLEX @ F - M_complex * (W[1] + 1j * W[2])
        dW_real = solve_lu(LU_real, f_real)
        dW_complex = solve_lu(LU_complex, f_complex)
        dW[0] = dW_real
        dW[1] = dW_complex.real
        dW[2] = dW_complex.imag
        dW_norm = radau.norm(dW / scale)
        if dW_norm_old is not None:
            rate = dW_norm / dW_norm_old
        if (rate is not None and (rate >= 1 or rate ** (radau.NEWTON_MAXITER - k)
                                  / (1 - rate) * dW_norm > tol)):
            break
        W += dW
        Z = radau.T.dot(W)
        if (dW_norm == 0 or (rate is not None and rate / (1 - rate) * dW_norm < tol)):
            converged = True
            break
        dW_norm_old = dW_norm
    return converged, k + 1, Z, rate


_radau_lock = threading.RLock()


@contextlib.contextmanager
def fast_radau(active: bool) -> Iterator[None]:
    """Use :func:`radau_collocation` inside SciPy's Radau for this block, if SciPy's
    function still has the signature it was written against (else leave SciPy alone)."""
    from scipy.integrate._ivp import radau

    original = getattr(radau, "solve_collocation_system", None)
    expected = ["fun", "t", "y", "h", "Z0", "scale", "tol", "LU_real", "LU_complex",
                "solve_lu"]
    if not active or original is None or list(
            inspect.signature(original).parameters) != expected or not all(
            hasattr(radau, name) for name in ("MU_REAL", "MU_COMPLEX", "TI", "TI_REAL",
                                              "TI_COMPLEX", "T", "C", "NEWTON_MAXITER",
                                              "norm")):
        yield
        return
    with _radau_lock:
        radau.solve_collocation_system = radau_collocation
        try:
            yield
        finally:
            radau.solve_collocation_system = original

