"""Scenario discovery: under which combinations of assumptions does an outcome occur?

Given one row per run of sampled uncertain parameters (``x``) and a binary outcome per run
(``y``, e.g. "deterrence survival at 50 years below 0.5"), find a few simple conditions
(a box: a range for a handful of parameters) that hold most of the runs where the outcome
occurs (coverage) and in which it occurs most of the time (density).

- :func:`prim`: Friedman and Fisher's Patient Rule Induction Method as EMA Workbench runs it
  (Kwakkel 2017; Bryant and Lempert 2010): peel the ``peel_alpha`` quantile off the lower
  or upper bound of whichever parameter raises the density most per run removed (EMA's
  "lenient1" objective), paste back while that helps, keep every box on the way (the
  peeling trajectory: the trade-off of coverage against density), and test each
  restricted dimension with a one-sided binomial quasi-p-value.
- :func:`cart`: a classification tree (scikit-learn); each leaf is a box.
- :func:`feature_scores`: which parameters an outcome depends on at all (extra trees,
  with Jaxa-Rozen and Kwakkel's 2018 settings, as EMA Workbench's
  ``get_ex_feature_scores``).

PRIM is written here rather than taken from EMA Workbench: the version that installs on
Python 3.11 (2.5.3; 3.x needs 3.12) pulls in statsmodels, seaborn, platypus-opt, patsy and
formulaic, imports ``matplotlib.pyplot`` (the global figure registry the plots avoid) and
warns about ipyparallel on import, and ``from ema_workbench.analysis import prim`` took
4.8 s here against 1.9 s for NumPy, pandas, SciPy and matplotlib alone. Its PRIM scores
each candidate peel on copied pandas frames; here each peeling step is a few vectorised
passes over the runs in the box (no Python loop over runs), so 100,000 runs take seconds.
The rules (quantiles with sdtoolkit's tie handling, integer peels, the order in which
tied candidates win, the stopping tests, the quasi-p-values) follow EMA Workbench's
``analysis/prim.py``, ``prim_util.py`` and ``scenario_discovery_util.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..files import atomic_write

__all__ = ["CartResult", "PrimResult", "cart", "feature_scores", "prim"]


# -- input ---------------------------------------------------------------------------------


def _frame(x: pd.DataFrame, columns: Sequence[str] | None) -> pd.DataFrame:
    """The parameters to analyse: numeric, finite, named; bool columns as 0/1."""
    if not isinstance(x, pd.DataFrame):
        raise ValueError(f"x must be a pandas DataFrame with one column per uncertain "
                         f"parameter, got {type(x).__name__}")
    if x.shape[1] == 0:
        raise ValueError("x has no columns: pass one column per uncertain parameter")
    if columns is not None:
        unknown = [c for c in columns if c not in x.columns]
        if unknown:
            raise ValueError(f"unknown parameter name(s) {', '.join(map(str, unknown))}; "
                             f"x has {', '.join(map(str, x.columns))}")
        x = x[list(columns)]
    if x.columns.duplicated().any():
        raise ValueError(f"x names a column more than once: "
                         f"{', '.join(map(str, x.columns[x.columns.duplicated()]))}")
    x = x.copy()
    for name in x.columns:
        col = x[name]
        if pd.api.types.is_bool_dtype(col):
            x[name] = col.astype(np.int64)
        elif not pd.api.types.is_numeric_dtype(col):
            raise ValueError(f"parameter {name!r} is not numeric ({col.dtype}); encode "
                             "categories as integers")
        bad = ~np.isfinite(x[name].to_numpy(dtype=float))
        if bad.any():
            raise ValueError(f"parameter {name!r} is not finite in {int(bad.sum())} runs "
                             f"(first at row {int(np.argmax(bad))})")
    return x


def _binary(y: Any, n: int) -> np.ndarray:
    """The outcome as a bool array of ``n`` runs, with at least one case of interest."""
    if isinstance(y, xr.DataArray):
        others = [str(d) for d in y.dims if d != "run"]
        if others:
            raise ValueError(f"y needs one value per run, but it also has the dims {others}; "
                             f"select or reduce them first (e.g. .sel({others[0]}=...))")
    values = np.asarray(y).reshape(-1)
    if values.size == 0:
        raise ValueError("y is empty: there are no runs to analyse")
    if values.size != n:
        raise ValueError(f"x has {n} runs (rows) but y has {values.size}; they must match "
                         "run for run")
    if values.dtype != bool:
        if not np.issubdtype(values.dtype, np.number) or not np.isin(values, (0, 1)).all():
            raise ValueError("y must be binary (True where the outcome of interest occurs); "
                             "threshold a metric first, e.g. y = survival < 0.5")
        values = values.astype(bool)
    cases = int(values.sum())
    if cases == 0:
        raise ValueError(f"no run of {n} is a case of interest (y is False everywhere): "
                         "there is nothing to discover; check the outcome's threshold")
    if cases == n:
        raise ValueError(f"every run of {n} is a case of interest (y is True everywhere): "
                         "there is nothing to tell apart; check the outcome's threshold")
    return values


def _share(name: str, value: float, low: float, high: float, *,
           closed_high: bool = False) -> None:
    ok = low < value <= high if closed_high else low < value < high
    if not ok:
        interval = f"({low:g}, {high:g}{']' if closed_high else ')'}"
        raise ValueError(f"{name} must be in {interval}, got {value!r}")


# -- PRIM ----------------------------------------------------------------------------------


def _quantile(a: np.ndarray, *qs: float) -> list[np.ndarray]:
    """sdtoolkit's quantiles of each column (EMA Workbench's ``get_quantile``), vectorised.

    The mean of the two order statistics around ``(m - 1) q``; when they tie, the one on
    the inside moves to the next distinct value, so a peel always cuts between values.
    One partition serves every ``q``.
    """
    m = a.shape[0]
    spots = [(math.floor((m - 1) * q), math.ceil((m - 1) * q)) for q in qs]
    part = np.partition(a, sorted({k for pair in spots for k in pair}), axis=0)
    out = []
    for q, (lo, hi) in zip(qs, spots, strict=True):
        s_lo, s_hi = part[lo], part[hi]
        tied = s_lo == s_hi
        if q > 0.5:
            below = np.where(a < s_hi, a, -np.inf).max(axis=0)
            inner = np.where(tied, np.where(np.isfinite(below), below, s_hi), s_lo)
            out.append((inner + s_hi) / 2)
        else:
            above = np.where(a > s_lo, a, np.inf).min(axis=0)
            inner = np.where(tied, np.where(np.isfinite(above), above, s_lo), s_hi)
            out.append((s_lo + inner) / 2)
    return out


def _objective(n_old: int, k_old: int, n_new: np.ndarray, k_new: np.ndarray) -> np.ndarray:
    """EMA's lenient1: the gain in density per run removed (or added)."""
    mean_old = k_old / n_old
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_new = np.where(n_new > 0, k_new / np.maximum(n_new, 1), 0.0)
        change = np.abs(n_old - n_new)
        obj = np.where((mean_new != mean_old) & (change > 0),
                       (mean_new - mean_old) / np.maximum(change, 1), 0.0)
    return obj


def _inside(x: np.ndarray, lims: np.ndarray) -> np.ndarray:
    return ((x >= lims[0]) & (x <= lims[1])).all(axis=1)


def _best(obj: np.ndarray, lims: np.ndarray, init: np.ndarray) -> int:
    """Highest objective, then fewest restricted dims, then EMA's candidate order."""
    restricted = (lims != init[None]).any(axis=1).sum(axis=1)
    order = np.lexsort((np.arange(obj.size), restricted, -obj))
    return int(order[0])


def _peel_candidates(xb: np.ndarray, yb: np.ndarray, lims: np.ndarray, integer: np.ndarray,
                     alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every one-bound peel of the box: (keep masks, new limits, runs kept, cases kept).

    Candidates are ordered as EMA Workbench lists them: per dimension, upper then lower.
    """
    d = xb.shape[1]
    upper, lower = _quantile(xb, 1 - alpha, alpha)
    values = {"upper": upper, "lower": lower}
    masks, new_lims = [], []
    for side in ("upper", "lower"):
        v = values[side]
        bound = lims[1] if side == "upper" else lims[0]
        as_int = np.trunc(v)
        if side == "upper":
            keep_real = xb <= v
            keep_int = np.where(as_int == bound, xb < bound, xb <= as_int)
        else:
            keep_real = xb >= v
            keep_int = np.where(as_int == bound, xb > bound, xb >= as_int)
        keep = np.where(integer, keep_int, keep_real)
        if side == "upper":
            kept = np.where(keep, xb, -np.inf).max(axis=0)
            fallback = xb.max(axis=0)
        else:
            kept = np.where(keep, xb, np.inf).min(axis=0)
            fallback = xb.min(axis=0)
        limit_int = np.where(np.isfinite(kept), kept, fallback)
        limit = np.where(integer, limit_int, v)
        cand = np.repeat(lims[None], d, axis=0)
        cand[np.arange(d), 1 if side == "upper" else 0, np.arange(d)] = limit
        masks.append(keep)
        new_lims.append(cand)
    # interleave: dim 0 upper, dim 0 lower, dim 1 upper, ...
    keep = np.stack(masks, axis=2).reshape(xb.shape[0], 2 * d)
    cands = np.stack(new_lims, axis=1).reshape(2 * d, 2, d)
    n_new = keep.sum(axis=0)
    k_new = yb.astype(np.int64) @ keep
    return keep, cands, n_new, k_new


def _paste_candidates(x: np.ndarray, y: np.ndarray, lims: np.ndarray, init: np.ndarray,
                      integer: np.ndarray, alpha: float,
                      dims: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each restricted bound moved outwards by the ``alpha`` quantile of the runs beyond it."""
    cands, inside = [], []
    low_ok, high_ok = x >= lims[0], x <= lims[1]
    for j in dims:
        others = np.delete(np.arange(x.shape[1]), j)
        rest = (low_ok[:, others] & high_ok[:, others]).all(axis=1)
        for side in (0, 1):  # lower, then upper
            region = rest & ((x[:, j] <= lims[0, j]) if side == 0 else (x[:, j] >= lims[1, j]))
            data = x[region, j]
            if data.size:
                value = float(_quantile(data[:, None], 1 - alpha if side == 0 else alpha)[0][0])
            else:
                value = float(init[side, j])
            if integer[j]:
                value = float(int(value))
            cand = lims.copy()
            cand[side, j] = value
            cands.append(cand)
            inside.append(rest & (x[:, j] >= cand[0, j]) & (x[:, j] <= cand[1, j]))
    return np.array(cands), inside


def _stats(k: int, n_box: int, n: int, cases: int, lims: np.ndarray, init: np.ndarray,
           phase: str) -> dict[str, Any]:
    return {"coverage": k / cases, "density": k / n_box, "mass": n_box / n,
            "res_dim": int((lims != init).any(axis=0).sum()), "n": n_box, "k": k,
            "phase": phase}


def prim(x: pd.DataFrame, y: np.ndarray | xr.DataArray, *, peel_alpha: float = 0.05,
         paste_alpha: float = 0.05, mass_min: float = 0.05, threshold: float = 0.8,
         columns: Sequence[str] | None = None, label: str = "") -> PrimResult:
    """The first PRIM box of ``y`` over the parameters in ``x``, with its peeling trajectory.

    ``x``: one column per uncertain parameter (numeric; integer columns are peeled a value
    at a time), one row per run; ``y``: True where the outcome of interest occurs.
    Peeling removes ``peel_alpha`` of the box per step until no peel raises the density or
    the box would hold less than ``mass_min`` of the runs; pasting then widens a bound by
    ``paste_alpha`` while that raises the density. The chosen box is the first on the
    trajectory whose density reaches ``threshold``, else the densest. ``columns`` limits
    the analysis to some of ``x``'s parameters; ``label`` names the cases of interest on
    the figures.
    """
    _share("threshold", threshold, 0, 1, closed_high=True)
    _share("peel_alpha", peel_alpha, 0, 0.5)
    _share("paste_alpha", paste_alpha, 0, 0.5)
    if not 0 <= mass_min < 1:
        raise ValueError(f"mass_min must be in [0, 1), got {mass_min!r}")
    frame = _frame(x, columns)
    yv = _binary(y, len(frame))
    names = [str(c) for c in frame.columns]
    integer = np.array([pd.api.types.is_integer_dtype(frame[c]) for c in frame.columns])
    # EMA Workbench lists float parameters before integer ones: its candidate (tie) order
    order = np.concatenate([np.flatnonzero(~integer), np.flatnonzero(integer)])
    xv = frame.to_numpy(dtype=float)[:, order]
    integer = integer[order]
    n, cases = len(yv), int(yv.sum())
    init = np.stack([xv.min(axis=0), xv.max(axis=0)])
    lims = init.copy()
    idx = np.arange(n)
    steps = [_stats(cases, n, n, cases, lims, init, "start")]
    limits = [lims.copy()]
    while idx.size > 1:  # peeling
        xb, yb = xv[idx], yv[idx]
        keep, cands, n_new, k_new = _peel_candidates(xb, yb, lims, integer, peel_alpha)
        obj = _objective(idx.size, int(yb.sum()), n_new, k_new)
        best = _best(obj, cands, init)
        if not (n_new[best] / n >= mass_min and n_new[best] < idx.size and obj[best] > 0):
            break
        idx, lims = idx[keep[:, best]], cands[best]
        steps.append(_stats(int(k_new[best]), idx.size, n, cases, lims, init, "peel"))
        limits.append(lims.copy())
    while True:  # pasting
        dims = np.flatnonzero((lims != init).any(axis=0))
        if dims.size == 0:
            break
        cands, inside = _paste_candidates(xv, yv, lims, init, integer, paste_alpha, dims)
        n_new = np.array([m.sum() for m in inside])
        k_new = np.array([int(yv[m].sum()) for m in inside])
        k_old = int(yv[idx].sum())
        obj = _objective(idx.size, k_old, n_new, k_new)
        best = _best(obj, cands, init)
        density_new = k_new[best] / max(n_new[best], 1)
        if not (n_new[best] / n >= mass_min and n_new[best] > idx.size and obj[best] > 0
                and density_new > k_old / idx.size):
            break
        idx, lims = np.flatnonzero(inside[best]), cands[best]
        steps.append(_stats(int(k_new[best]), idx.size, n, cases, lims, init, "paste"))
        limits.append(lims.copy())
    back = np.argsort(order)  # limits in x's column order again
    trajectory = pd.DataFrame(steps)
    trajectory.index.name = "box"
    meets = np.flatnonzero(trajectory["density"].to_numpy() >= threshold)
    chosen = int(meets[0]) if meets.size else int(trajectory["density"].to_numpy().argmax())
    return PrimResult(parameters=tuple(names), trajectory=trajectory,
                      limits=np.array(limits)[:, :, back], initial=init[:, back],
                      chosen=chosen, threshold=threshold, peel_alpha=peel_alpha,
                      paste_alpha=paste_alpha, mass_min=mass_min,
                      integer=tuple(bool(b) for b in integer[back]),
                      _x=xv[:, back], _y=yv, label=str(label))


@dataclass(frozen=True, eq=False)
class PrimResult:
    """A PRIM run: the peeling trajectory, every box on it, and the chosen one.

    ``trajectory``: one row per box (index ``box``; 0 is the whole sample) with
    ``coverage`` (share of all cases of interest inside), ``density`` (share of the box's
    runs that are cases), ``mass`` (share of all runs inside), ``res_dim`` (restricted
    parameters), ``n`` and ``k`` (runs and cases inside) and ``phase`` (start, peel, paste).
    ``limits[i]`` holds box i's (min, max) per parameter; ``initial`` the sampled range.
    ``label`` says what the cases of interest are (``survival_50y < 0.5 under
    status_quo``), for the figures and ``prim.csv``.
    """

    parameters: tuple[str, ...]
    trajectory: pd.DataFrame
    limits: np.ndarray
    initial: np.ndarray
    chosen: int
    threshold: float
    peel_alpha: float
    paste_alpha: float
    mass_min: float
    integer: tuple[bool, ...]
    _x: np.ndarray = field(repr=False)
    _y: np.ndarray = field(repr=False)
    label: str = ""

    def _box(self, i: int | None) -> int:
        i = self.chosen if i is None else int(i)
        count = len(self.trajectory)
        if not -count <= i < count:
            raise ValueError(f"box {i} is not on the trajectory (boxes 0 to {count - 1})")
        return i % count

    def quasi_p(self, i: int | None = None) -> np.ndarray:
        """Quasi-p-values (lower, upper) per parameter of box ``i``; NaN where unrestricted.

        Bryant and Lempert's one-sided binomial test, as EMA Workbench's
        ``_calculate_quasip``: the chance of at least the box's cases among its runs if
        they were drawn at the density of the box with that one bound removed. A high value
        says the bound adds little.
        """
        from scipy.stats import binom

        i = self._box(i)
        lims, x, y = self.limits[i], self._x, self._y
        low_ok, high_ok = x >= lims[0], x <= lims[1]
        misses = (~low_ok).sum(axis=1) + (~high_ok).sum(axis=1)
        inside, alone = misses == 0, misses == 1
        t_box, h_box = int(inside.sum()), int(y[inside].sum())
        out = np.full((2, x.shape[1]), np.nan)
        for side, ok in ((0, low_ok), (1, high_ok)):
            only = alone[:, None] & ~ok  # runs outside the box by this one bound only
            t_j = t_box + only.sum(axis=0)
            h_j = h_box + y.astype(np.int64) @ only
            p = np.where(t_j > 0, h_j / np.maximum(t_j, 1), 0.0)
            restricted = lims[side] != self.initial[side]
            out[side] = np.where(restricted, binom.sf(h_box - 1, t_box, p), np.nan)
        return out

    def box_limits(self, i: int | None = None) -> pd.DataFrame:
        """Box ``i``'s restricted parameters (default: the chosen box), most significant first.

        Columns: ``parameter``, ``min``, ``max``, ``qp_lower``, ``qp_upper``, ``qp_value``
        (the larger of the two: the weaker bound), ``sampled_min``, ``sampled_max``.
        """
        i = self._box(i)
        lims, qp = self.limits[i], self.quasi_p(i)
        rows = [{"parameter": name, "min": lims[0, j], "max": lims[1, j],
                 "qp_lower": qp[0, j], "qp_upper": qp[1, j],
                 "qp_value": float(np.nanmax(qp[:, j])),
                 "sampled_min": self.initial[0, j], "sampled_max": self.initial[1, j]}
                for j, name in enumerate(self.parameters) if not np.isnan(qp[:, j]).all()]
        table = pd.DataFrame(rows, columns=["parameter", "min", "max", "qp_lower", "qp_upper",
                                            "qp_value", "sampled_min", "sampled_max"])
        return table.sort_values("qp_value", kind="stable").reset_index(drop=True)

    def to_csv(self, path: Any) -> Any:
        """Every box of the trajectory with its limits, one row per restricted parameter.

        Columns: ``box``, ``chosen``, ``coverage``, ``density``, ``mass``, ``res_dim``,
        ``n``, ``k`` (runs and cases in the box), :meth:`box_limits`' columns, then
        ``threshold`` and ``cases`` (the ``label``), so that the file alone redraws the
        figures (``deterrence plot prim.csv``). Written atomically; returns the path.
        """
        frames = []
        for i in range(1, len(self.trajectory)):
            table = self.box_limits(i)
            stats = self.trajectory.loc[i, ["coverage", "density", "mass", "res_dim", "n",
                                            "k"]]
            for key in reversed(stats.index):
                table.insert(0, key, stats[key])
            table.insert(0, "chosen", i == self.chosen)
            table.insert(0, "box", i)
            frames.append(table)
        table = pd.concat(frames, ignore_index=True) if frames else self.box_limits(0)
        table["threshold"] = self.threshold
        table["cases"] = self.label
        return atomic_write(path, lambda tmp: table.to_csv(tmp, index=False))

    def describe(self, i: int | None = None) -> str:
        """Box ``i`` (default: the chosen one) in words, for a report or a terminal."""
        i = self._box(i)
        s = self.trajectory.loc[i]
        head = (f"PRIM box {i} of {len(self.trajectory) - 1}"
                f"{' (chosen)' if i == self.chosen else ''}: coverage {s['coverage']:.0%}, "
                f"density {s['density']:.0%}, mass {s['mass']:.0%}, "
                f"{int(s['res_dim'])} restricted parameter(s)")
        if i == self.chosen and s["density"] < self.threshold:
            head += (f"; no box reaches the density threshold {self.threshold:.0%}, "
                     "this is the densest")
        lines = [head]
        for row in self.box_limits(i).itertuples():
            lines.append(f"  {row.parameter}: {row.min:.4g} to {row.max:.4g} (sampled "
                         f"{row.sampled_min:.4g} to {row.sampled_max:.4g}), "
                         f"quasi-p {_p_text(row.qp_value)}")
        return "\n".join(lines)


def _p_text(p: float) -> str:
    """A quasi-p-value as a reader takes it: below 0.001 as a bound, not 0 or 5e-114."""
    return "< 0.001" if p < 0.001 else f"{p:.2g}"


# -- CART and feature scores ---------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CartResult:
    """A classification tree's leaves as boxes.

    ``leaves``: one row per leaf (index ``leaf``, densest first) with ``coverage``,
    ``density``, ``mass``, ``n``, ``k`` and ``res_dim``, as for PRIM's trajectory;
    ``limits[leaf]`` the leaf's (min, max) per parameter (a split at t sends x <= t left).
    """

    parameters: tuple[str, ...]
    leaves: pd.DataFrame
    limits: dict[int, np.ndarray]
    initial: np.ndarray
    tree: Any = field(repr=False)

    def box_limits(self, leaf: int | None = None) -> pd.DataFrame:
        """A leaf's restricted parameters (default: the densest leaf)."""
        leaf = int(self.leaves.index[0]) if leaf is None else int(leaf)
        if leaf not in self.limits:
            raise ValueError(f"{leaf} is not a leaf of the tree; leaves: "
                             f"{', '.join(map(str, self.leaves.index))}")
        lims = self.limits[leaf]
        rows = [{"parameter": name, "min": lims[0, j], "max": lims[1, j],
                 "sampled_min": self.initial[0, j], "sampled_max": self.initial[1, j]}
                for j, name in enumerate(self.parameters)
                if (lims[:, j] != self.initial[:, j]).any()]
        return pd.DataFrame(rows, columns=["parameter", "min", "max", "sampled_min",
                                           "sampled_max"])


def cart(x: pd.DataFrame, y: np.ndarray | xr.DataArray, *, max_depth: int = 4,
         min_samples_leaf: float = 0.05, seed: int = 0,
         columns: Sequence[str] | None = None) -> CartResult:
    """A classification tree of ``y`` over ``x`` (scikit-learn); its leaves as boxes.

    ``min_samples_leaf`` is a share of the runs (like PRIM's ``mass_min``) if below 1,
    else a number of runs; ``max_depth`` bounds the number of conditions per box.
    """
    from sklearn.tree import DecisionTreeClassifier

    if max_depth < 1:
        raise ValueError(f"max_depth must be at least 1, got {max_depth!r}")
    if min_samples_leaf <= 0:
        raise ValueError(f"min_samples_leaf must be positive, got {min_samples_leaf!r}")
    frame = _frame(x, columns)
    yv = _binary(y, len(frame))
    xv = frame.to_numpy(dtype=float)
    leaf_size: float = min_samples_leaf if min_samples_leaf < 1 else int(min_samples_leaf)
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=leaf_size,
                                  random_state=seed).fit(xv, yv)
    t = tree.tree_
    init = np.stack([xv.min(axis=0), xv.max(axis=0)])
    limits: dict[int, np.ndarray] = {}
    stack = [(0, init.copy())]
    while stack:  # over the tree's nodes (a few dozen), not over runs
        node, lims = stack.pop()
        left, right = t.children_left[node], t.children_right[node]
        if left == right:
            limits[int(node)] = lims
            continue
        j, cut = int(t.feature[node]), float(t.threshold[node])
        lo, hi = lims.copy(), lims.copy()
        lo[1, j] = min(lo[1, j], cut)
        hi[0, j] = max(hi[0, j], cut)
        stack += [(int(left), lo), (int(right), hi)]
    leaf_of = tree.apply(xv)
    size = np.bincount(leaf_of, minlength=t.node_count)
    hits = np.bincount(leaf_of, weights=yv, minlength=t.node_count).astype(int)
    ids = sorted(limits)
    leaves = pd.DataFrame({
        "coverage": [hits[i] / yv.sum() for i in ids],
        "density": [hits[i] / size[i] for i in ids],
        "mass": [size[i] / len(yv) for i in ids],
        "n": [int(size[i]) for i in ids], "k": [int(hits[i]) for i in ids],
        "res_dim": [int((limits[i] != init).any(axis=0).sum()) for i in ids]},
        index=pd.Index(ids, name="leaf"))
    leaves = leaves.sort_values(["density", "coverage"], ascending=False, kind="stable")
    return CartResult(parameters=tuple(map(str, frame.columns)), leaves=leaves,
                      limits=limits, initial=init, tree=tree)


def feature_scores(x: pd.DataFrame, y: np.ndarray | xr.DataArray, *, seed: int = 0,
                   n_trees: int = 100, columns: Sequence[str] | None = None) -> pd.Series:
    """How much each parameter matters to ``y``: extra-trees impurity importances, summing to 1.

    A classifier for a binary ``y``, a regressor for a numeric metric; settings as EMA
    Workbench's (Jaxa-Rozen and Kwakkel 2018: a third of the parameters per split, leaves
    of sqrt(n / 1000) runs), seeded. Sorted, highest first.
    """
    from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor

    frame = _frame(x, columns)
    values = np.asarray(y).reshape(-1)
    if values.size == 0:
        raise ValueError("y is empty: there are no runs to analyse")
    if values.size != len(frame):
        raise ValueError(f"x has {len(frame)} runs (rows) but y has {values.size}; they "
                         "must match run for run")
    binary = values.dtype == bool
    if binary:
        values = _binary(values, len(frame))
    else:
        values = values.astype(float)
        if not np.isfinite(values).all():
            raise ValueError(f"y is not finite in {int((~np.isfinite(values)).sum())} runs")
        if np.ptp(values) == 0:
            raise ValueError("y is the same in every run: no parameter can explain it")
    kind = ExtraTreesClassifier if binary else ExtraTreesRegressor
    model = kind(n_estimators=n_trees, max_features=max(1, round(frame.shape[1] / 3)),
                 min_samples_leaf=max(1, round(math.sqrt(len(frame) / 1000))),
                 bootstrap=True, random_state=seed, n_jobs=1)
    model.fit(frame.to_numpy(dtype=float), values)
    scores = pd.Series(model.feature_importances_, index=pd.Index(frame.columns,
                                                                  name="parameter"),
                       name="feature_score")
    return scores.sort_values(ascending=False, kind="stable")
