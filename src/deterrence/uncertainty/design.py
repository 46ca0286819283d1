"""Uncertainties with distributions, and the sampling design that draws futures from them.

An uncertainty is a model constant with a distribution from ``scipy.stats``; by default
the uniform distribution over the range the model file declares for it (``Model.problem``).
A distribution must stay inside the declared range: a sample outside it would be refused
by the engine anyway, and silently clipping it would change the distribution.

A :class:`Design` is everything that decides the futures: the sampler, its size and seed,
each uncertainty's distribution and arguments, and the sample itself. It is recorded in
the results (:meth:`Design.to_dataset`) and fingerprinted (:meth:`Design.fingerprint`), so
that a resumed ensemble can tell whether its store was written for the same futures.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from ..errors import ModelError, ParameterError

#: Samplers of the unit cube, then mapped through each distribution's inverse CDF.
#: ``saltelli`` and ``morris`` are SALib's designs for Sobol and Morris indices.
SAMPLERS = ("mc", "lhs", "sobol", "halton", "saltelli", "morris")


class DesignError(ModelError, ValueError):
    """An uncertainty or a sampling setting that cannot be used (before any run)."""


@dataclass(frozen=True)
class Uncertainty:
    """A model constant drawn from ``distribution(**args)`` (a ``scipy.stats`` name).

    ``parameter`` is the model's Python name once resolved (:func:`resolve`);
    ``distribution=None`` means uniform over the declared range.
    """

    parameter: str
    distribution: str | None = None
    args: Mapping[str, float] = field(default_factory=dict)

    def frozen(self) -> Any:
        """The frozen ``scipy.stats`` distribution (checked by :func:`resolve`)."""
        from scipy import stats

        return getattr(stats, str(self.distribution))(**dict(self.args))

    def record(self) -> dict[str, Any]:
        return {"parameter": self.parameter, "distribution": self.distribution,
                "args": {k: float(v) for k, v in sorted(self.args.items())}}


def _distribution(name: str, where: str) -> Any:
    """A ``scipy.stats`` continuous distribution by name, nothing else of the module."""
    from scipy import stats

    candidate = getattr(stats, name, None) if name.isidentifier() else None
    if not isinstance(candidate, stats.rv_continuous):
        from ..names import close_matches

        options = sorted(n for n in dir(stats)
                         if isinstance(getattr(stats, n), stats.rv_continuous))
        close = close_matches(name, options, n=3, cutoff=0.6)
        raise DesignError(f"{where}: unknown distribution {name!r}",
                          hint=("did you mean " + " or ".join(map(repr, close)) + "?")
                          if close else "use a continuous distribution of scipy.stats, "
                          "e.g. uniform, triang, beta, truncnorm")
    return candidate


def resolve(model: Any, uncertainties: Sequence[Uncertainty],
            where: str = "uncertainty") -> list[Uncertainty]:
    """Each uncertainty checked against ``model`` and completed: the parameter's Python
    name, the declared-range uniform where no distribution is given, arguments that
    ``scipy.stats`` accepts, and a support inside the declared range.

    Raises :class:`DesignError` (or ``ParameterError`` for an unknown name) naming it.
    """
    resolved: list[Uncertainty] = []
    seen: set[str] = set()
    for u in uncertainties:
        here = f"{where}.{u.parameter}"
        try:
            var = model.variable(str(u.parameter))
        except ParameterError as exc:
            raise ParameterError(f"{here}: {exc.message}", path=exc.path,
                                 hint=exc.hint) from None
        if var.py_name not in model.constants:
            raise DesignError(f"{here}: {var.name!r} is not a constant of the model "
                              f"(it is a {var.kind}); only constants can be uncertain")
        if var.py_name in seen:
            raise DesignError(f"{here}: {var.name!r} is declared twice")
        seen.add(var.py_name)
        lo, hi = var.limits
        name, args = u.distribution, dict(u.args or {})
        if name is None:
            if lo is None or hi is None:
                raise DesignError(f"{here}: {var.name!r} has no declared range [min,max], "
                                  "so it has no default distribution", path=model.path,
                                  hint="give a distribution and its args, or declare a "
                                  "range in the model file")
            if args:
                raise DesignError(f"{here}: args without a distribution",
                                  hint="add distribution: NAME (a scipy.stats name)")
            name, args = "uniform", {"loc": float(lo), "scale": float(hi) - float(lo)}
        dist = _distribution(str(name), here)
        bad = [k for k, v in args.items() if isinstance(v, bool)
               or not isinstance(v, int | float) or not math.isfinite(float(v))]
        if bad:
            raise DesignError(f"{here}: argument {bad[0]}={args[bad[0]]!r} is not a "
                              "finite number")
        try:
            frozen = dist(**args)
            low, high = (float(b) for b in frozen.support())
        except TypeError as exc:
            shapes = [s.strip() for s in (dist.shapes or "").split(",") if s.strip()]
            raise DesignError(f"{here}: bad arguments for {name}: {exc}",
                              hint=f"{name} takes {', '.join([*shapes, 'loc', 'scale'])}"
                              ) from None
        if math.isnan(low) or math.isnan(high):
            raise DesignError(f"{here}: {name}({_args(args)}) is not a valid distribution "
                              "(scipy.stats rejects these arguments)")
        outside = (lo is not None and low < lo) or (hi is not None and high > hi)
        if outside:
            raise DesignError(
                f"{here}: {name}({_args(args)}) draws from [{low:g}, {high:g}], outside "
                f"the declared range [{_fmt(lo)}, {_fmt(hi)}] of {var.name!r}",
                path=model.path, line=var.line, hint="choose arguments inside the range "
                "(a bounded distribution such as truncnorm, triang or beta with loc and "
                "scale), or widen the range in the model file if it is wrong")
        if not (math.isfinite(low) and math.isfinite(high)):
            raise DesignError(f"{here}: {name}({_args(args)}) is unbounded, and "
                              f"{var.name!r} declares no range to hold it",
                              hint="use a bounded distribution (truncnorm, triang, beta, "
                              "uniform with loc and scale)")
        resolved.append(Uncertainty(var.py_name, str(name),
                                    {k: float(v) for k, v in args.items()}))
    if not resolved:
        raise DesignError(f"{where}: no uncertain parameter declared")
    return resolved


def from_mapping(parameters: Mapping[str, Any], where: str = "uncertainty.parameters"
                 ) -> list[Uncertainty]:
    """Uncertainties as config declares them: ``{parameter: {distribution: NAME, args:
    {...}}}``, an empty entry (or null) for the declared range's uniform."""
    out = []
    for name, entry in parameters.items():
        entry = dict(entry or {})
        unknown = set(entry) - {"distribution", "args"}
        if unknown:
            raise DesignError(f"{where}.{name}: unknown key(s) {', '.join(sorted(unknown))}",
                              hint="an uncertainty has distribution and args")
        args = entry.get("args") or {}
        if not isinstance(args, Mapping):
            raise DesignError(f"{where}.{name}.args={args!r}: expected a mapping, e.g. "
                              "{c: 0.5, loc: 0, scale: 1}")
        out.append(Uncertainty(str(name), entry.get("distribution"), dict(args)))
    return out


def _args(args: Mapping[str, float]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in args.items())


def _fmt(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


@dataclass(frozen=True)
class Design:
    """The futures of an ensemble: ``sample`` has one row per run, one column per
    uncertainty (values in the model's units), drawn by ``sampler`` with ``seed``."""

    uncertainties: tuple[Uncertainty, ...]
    sampler: str
    n: int
    seed: int
    sample: np.ndarray
    second_order: bool = True  # saltelli only

    @property
    def names(self) -> list[str]:
        return [u.parameter for u in self.uncertainties]

    @property
    def n_runs(self) -> int:
        return int(self.sample.shape[0])

    def problem(self) -> dict[str, Any]:
        """SALib's problem: the names and each distribution's support as bounds. (The
        samplers draw the unit cube and map it through the distributions, so Sobol
        indices from a Saltelli design are those of the declared distributions.)"""
        return {"num_vars": len(self.names), "names": self.names,
                "bounds": [[float(b) for b in u.frozen().support()]
                           for u in self.uncertainties]}

    def record(self) -> dict[str, Any]:
        return {"sampler": self.sampler, "n": self.n, "seed": self.seed,
                "runs": self.n_runs, "second_order": self.second_order,
                "uncertainties": [u.record() for u in self.uncertainties]}

    def fingerprint(self) -> str:
        """sha256 of the record and of the sample's bytes: equal designs, equal futures."""
        digest = hashlib.sha256(json.dumps(self.record(), sort_keys=True).encode())
        digest.update(np.ascontiguousarray(self.sample, dtype="<f8").tobytes())
        return digest.hexdigest()

    def frame(self) -> Any:
        """The sample as a pandas DataFrame: one column per uncertainty, one row per run."""
        import pandas as pd

        return pd.DataFrame(self.sample, columns=self.names)

    def to_dataset(self) -> xr.Dataset:
        """The design as a Dataset (``sample`` (run, parameter), the distributions as
        coords, the whole record as the ``design`` attribute); written as ``design.nc``."""
        return xr.Dataset(
            {"sample": (("run", "parameter"), self.sample,
                        {"long_name": "sampled value of each uncertain constant"})},
            coords={"run": np.arange(self.n_runs), "parameter": self.names,
                    "distribution": ("parameter", [str(u.distribution)
                                                   for u in self.uncertainties]),
                    "args": ("parameter", [json.dumps(u.record()["args"])
                                           for u in self.uncertainties])},
            attrs={"sampler": self.sampler, "n": self.n, "seed": self.seed,
                   "second_order": int(self.second_order),
                   "design": json.dumps(self.record()), "fingerprint": self.fingerprint()})

    @classmethod
    def from_dataset(cls, ds: xr.Dataset) -> Design:
        record = json.loads(ds.attrs["design"])
        return cls(tuple(Uncertainty(**u) for u in record["uncertainties"]),
                   record["sampler"], int(record["n"]), int(record["seed"]),
                   np.asarray(ds["sample"].values, dtype=float),
                   bool(record.get("second_order", True)))


def runs_of(sampler: str, n: int, d: int, second_order: bool = True) -> int:
    """How many runs a sampler of base size ``n`` makes over ``d`` uncertainties."""
    if sampler == "saltelli":
        return n * (2 * d + 2 if second_order else d + 2)
    if sampler == "morris":
        return n * (d + 1)
    return n


def _unit_sample(sampler: str, n: int, d: int, seed: int, second_order: bool) -> np.ndarray:
    from scipy.stats import qmc

    if sampler == "mc":
        return np.random.default_rng(seed).random((n, d))
    if sampler == "lhs":
        return qmc.LatinHypercube(d=d, seed=seed).random(n)
    if sampler == "halton":
        return qmc.Halton(d=d, seed=seed).random(n)
    if sampler == "sobol":
        return qmc.Sobol(d=d, seed=seed).random_base2(int(math.log2(n)))
    problem = {"num_vars": d, "names": [f"x{i}" for i in range(d)], "bounds": [[0, 1]] * d}
    if sampler == "saltelli":
        from SALib.sample import sobol as saltelli

        return saltelli.sample(problem, n, calc_second_order=second_order, seed=seed)
    from SALib.sample import morris

    return morris.sample(problem, n, num_levels=4, seed=seed)


def sample(uncertainties: Sequence[Uncertainty], n: int, sampler: str = "lhs",
           seed: int = 0, *, second_order: bool = True) -> Design:
    """Draw the design: ``n`` futures (for ``saltelli``/``morris``: base size, see
    :func:`runs_of`) from ``uncertainties`` (resolved, see :func:`resolve`)."""
    check_sampler(sampler, n, seed)
    d = len(uncertainties)
    unit = _unit_sample(sampler, int(n), d, int(seed), second_order)
    # the inverse CDF maps 0 and 1 to the ends of the support: bounded by resolve()
    values = np.column_stack([u.frozen().ppf(np.clip(unit[:, i], 0.0, 1.0))
                              for i, u in enumerate(uncertainties)])
    return Design(tuple(uncertainties), sampler, int(n), int(seed), values, second_order)


def check_sampler(sampler: str, n: Any, seed: Any) -> None:
    """A known sampler, a positive size (a power of 2 where balance needs it), a seed."""
    if sampler not in SAMPLERS:
        raise DesignError(f"experiment.sampler={sampler!r} is unknown; choose one of "
                          f"{', '.join(SAMPLERS)}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise DesignError(f"experiment.samples={n!r}: expected a positive whole number")
    if sampler in ("sobol", "saltelli") and n & (n - 1):
        raise DesignError(f"experiment.samples={n} with sampler {sampler}: use a power "
                          "of 2 (Sobol sequences balance only then), e.g. "
                          f"{2 ** max(1, round(math.log2(n)))}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise DesignError(f"experiment.seed={seed!r}: expected a whole number >= 0")
