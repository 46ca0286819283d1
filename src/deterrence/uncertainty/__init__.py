"""Deep uncertainty at scale: distributions over a model's uncertain constants, sampled
designs, and chunked, resumable ensembles of per-run outcome metrics (in process or on
a Dask cluster), every policy facing the same futures.

    import deterrence
    from deterrence import uncertainty as unc

    model = deterrence.load("sd_models/alliance_deterrence.mdl")
    design = unc.sample(unc.resolve(model, [unc.Uncertainty("Maximum Aggression Hazard"),
                                            unc.Uncertainty("Adversary Ambition")]),
                        n=10_000, sampler="lhs", seed=1)
    metrics = unc.parse_metrics({"survival_50y": "deterrence_survival:final"}, model)
    ds = unc.run_ensemble(model, design, metrics, store="metrics.zarr", chunk=2_000,
                          policies={"status_quo": {}, "exercises": {
                              "Joint Exercise Intensity": 0.8}}, method="rk4")

Modules: ``design`` (uncertainties, samplers, the recorded design), ``metrics`` (outcome
metrics and binary conditions), ``ensemble`` (chunks, memory estimate, the loop),
``store`` (the Zarr store and resuming), ``distributed`` (Dask). Analyses of the result
(Sobol, PRIM, robustness) are in :mod:`deterrence.analysis`; the experiment that runs
both is :mod:`deterrence.experiments.uncertainty`.
"""

from .design import (
    SAMPLERS,
    Design,
    DesignError,
    Uncertainty,
    from_mapping,
    resolve,
    runs_of,
    sample,
)
from .ensemble import NOMINAL, estimate, run_ensemble
from .metrics import MEASURES, Condition, MetricError, OutcomeMetric, parse_metrics
from .store import StoreMismatch

__all__ = [
    "MEASURES",
    "NOMINAL",
    "SAMPLERS",
    "Condition",
    "Design",
    "DesignError",
    "MetricError",
    "OutcomeMetric",
    "StoreMismatch",
    "Uncertainty",
    "estimate",
    "from_mapping",
    "parse_metrics",
    "resolve",
    "run_ensemble",
    "runs_of",
    "sample",
]
