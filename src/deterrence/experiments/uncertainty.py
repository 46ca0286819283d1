"""The uncertainty experiment (``experiment=uncertainty``): a design of futures from the
``uncertainty`` node, every policy against them in a chunked ensemble written to
``metrics.zarr``, then the analyses of the per-run metrics.

Everything that can be checked is checked by :func:`plan_for` before any run (preflight
calls it for every job of a sweep): the distributions and their arguments against the
model's declared ranges, the sampler and its size, the metrics and the conditions on them,
the policies, the Dask setting, the memory the ensemble needs.

Files of a job (see docs/uncertainty.md): ``metrics.zarr`` (chunks as they finish; a rerun
into the same folder resumes), ``results.nc`` (the same metrics as NetCDF, for the sweep's
merge and ``deterrence summary``), ``design.nc``, ``outcomes.csv`` and ``outcomes.png``
(nominal against uncertain), and what :func:`analyse` writes.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from omegaconf import DictConfig, OmegaConf

from .. import uncertainty as unc
from ..errors import ModelError, ParameterError
from ..files import atomic_write_text
from ..model import Model
from ..results import write_results
from .config import RESULTS, PolicyConfig, group_option, solver_kwargs
from .folders import fresh
from .params import _resolve, policy_params, scenario_params

log = logging.getLogger("deterrence.experiments")

STORE = "metrics.zarr"
DESIGN = "design.nc"
OUTCOMES = "outcomes.csv"
ANALYSES = ("sensitivity", "prim", "robustness")


@dataclass(frozen=True)
class UncertaintyPlan:
    """Everything a job runs, checked: the design, metrics, conditions, policies."""

    design: unc.Design
    metrics: dict[str, unc.OutcomeMetric]
    failure: unc.Condition | None
    satisficing: unc.Condition | None
    policies: dict[str, dict[str, float]]
    base: dict[str, float]
    simulate: dict[str, Any]
    dask: Any


def _plain(node: Any) -> Any:
    return OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) \
        else node


def plan_for(model: Model, cfg: Any) -> UncertaintyPlan:
    """The job's plan from its config, or one clear error naming the key at fault."""
    e = cfg.experiment
    if cfg.experiment.batch or cfg.experiment.sensitivity is not None:
        raise ParameterError("an experiment has one of batch, sensitivity or samples")
    node = _plain(cfg.get("uncertainty"))
    if not isinstance(node, dict) or not isinstance(node.get("parameters"), dict):
        raise unc.DesignError("uncertainty: no uncertain parameters (uncertainty.parameters)",
                              hint="choose a file of conf/uncertainty, e.g. "
                              "uncertainty=alliance")
    unknown = set(node) - {"name", "description", "parameters"}
    if unknown:
        raise unc.DesignError(f"uncertainty: unknown key(s) {', '.join(sorted(unknown))}",
                              hint="keys: name, description, parameters")
    uncertainties = unc.resolve(model, unc.from_mapping(node["parameters"]),
                                "uncertainty.parameters")
    unc.design.check_sampler(str(e.sampler), e.samples, e.seed)
    unknown = [a for a in e.analyses if a not in ANALYSES]
    if unknown:
        raise ParameterError(f"experiment.analyses: unknown analysis {unknown[0]!r}; "
                             f"choose from {', '.join(ANALYSES)}")
    metrics = unc.parse_metrics(_plain(e.metrics) or {}, model)
    failure = None if e.failure is None else unc.Condition.parse(
        str(e.failure), metrics, "experiment.failure")
    satisficing = None if e.satisficing is None else unc.Condition.parse(
        str(e.satisficing), metrics, "experiment.satisficing")
    if "prim" in e.analyses and failure is None:
        raise ParameterError("experiment.analyses has prim but experiment.failure is not "
                             "set", hint="e.g. experiment.failure='survival_50y < 0.5'")
    if "robustness" in e.analyses and satisficing is None:
        raise ParameterError("experiment.analyses has robustness but "
                             "experiment.satisficing is not set",
                             hint="e.g. experiment.satisficing='survival_50y > 0.7'")
    base = scenario_params(model, cfg.scenario)
    base.update(_resolve(model, dict(cfg.params), "params"))
    names = [cfg.policy.name] if e.policies is None else [str(p) for p in e.policies]
    if not names or len(set(names)) < len(names):
        raise ParameterError(f"experiment.policies={names}: name each policy once")
    policies = {}
    for name in names:
        option = cfg.policy if e.policies is None else group_option("policy", name,
                                                                    PolicyConfig)
        values = policy_params(model, cfg.model.levers, option)
        policies[name] = {k: v for k, v in values.items() if k not in base}
    d = len(uncertainties)
    runs = unc.runs_of(str(e.sampler), int(e.samples), d, bool(e.second_order))
    if isinstance(e.chunk, bool) or not isinstance(e.chunk, int) or e.chunk < 1:
        raise ParameterError(f"experiment.chunk={e.chunk!r}: expected a positive number "
                             "of runs")
    dask = _plain(e.dask)
    if isinstance(dask, dict) and dask.get("address") is None and dask.get("workers") is None:
        dask = None  # the preset's all-null mapping: in this process
    if dask is not None:
        from ..uncertainty.distributed import client_for

        if not (dask == "local" or isinstance(dask, dict) or "://" in str(dask)):
            client_for(dask)  # raises the one-line error
        if isinstance(dask, dict):
            dask = {k: v for k, v in dask.items() if v is not None}
    design = unc.sample(uncertainties, int(e.samples), str(e.sampler), int(e.seed),
                        second_order=bool(e.second_order))
    kwargs = solver_kwargs(cfg.solver, model)
    log.info("design: %s, %d uncertain parameters, %d futures x %d policies", e.sampler,
             d, runs, len(policies))
    return UncertaintyPlan(design, metrics, failure, satisficing, policies, base, kwargs,
                           dask)


def check(model: Model, cfg: Any) -> None:
    """Preflight: the plan, the clashes and the memory estimate, before any run."""
    plan = plan_for(model, cfg)
    kwargs = dict(plan.simulate)
    max_memory = kwargs.pop("max_memory", None)
    made = unc.chunks.make_plan(model, plan.design, plan.metrics, policies=plan.policies,
                                  base=plan.base, series=list(cfg.experiment.series),
                                  thin=cfg.experiment.thin, **kwargs)
    unc.estimate(model, made, plan.design, int(cfg.experiment.chunk), max_memory)


def run_uncertainty(model: Model, cfg: Any, output_dir: Path, sweep_id: str | None
                    ) -> xr.Dataset:
    """The job: design, ensemble (resumed from ``metrics.zarr`` if there), results,
    nominal against uncertain outcomes, analyses."""
    plan = plan_for(model, cfg)
    write_results(plan.design.to_dataset(), fresh(output_dir / DESIGN))
    kwargs = dict(plan.simulate)
    max_memory = kwargs.pop("max_memory", None)
    ds = unc.run_ensemble(model, plan.design, plan.metrics, store=output_dir / STORE,
                          chunk=int(cfg.experiment.chunk), policies=plan.policies,
                          base=plan.base, series=list(cfg.experiment.series),
                          thin=int(cfg.experiment.thin), dask=plan.dask,
                          max_memory=max_memory, **kwargs)
    nominal = _nominal(model, plan, kwargs)
    write_outcomes(ds, nominal, plan, output_dir / OUTCOMES)
    if cfg.output.plot:  # the nominal run on the distribution: deterrence plot RUN
        from .. import plot

        _figure(lambda: plot.outcome_distribution(_recorded(ds, nominal, plan,
                                                            str(cfg.scenario.name))),
                output_dir / f"outcomes.{cfg.output.plot_format}")
    results = ds if cfg.experiment.policies is not None else ds.isel(policy=0, drop=True)
    results.attrs.update({
        "scenario": cfg.scenario.name, "policy": cfg.policy.name,
        "experiment": cfg.experiment.name, "ensemble": "uncertainty",
        "config": OmegaConf.to_yaml(cfg, resolve=True),
        "failure": str(plan.failure or ""), "satisficing": str(plan.satisficing or ""),
        "analyses": ",".join(cfg.experiment.analyses),
        "nominal": json.dumps({p: {k: float(v) for k, v in m.items()}
                               for p, m in nominal.items()})})
    if sweep_id is not None:
        results.attrs["sweep_id"] = sweep_id
    write_results(results, fresh(output_dir / RESULTS))
    if cfg.experiment.analyses:
        analyse(ds, plan.design, cfg, output_dir)
    return results


def _nominal(model: Model, plan: UncertaintyPlan, kwargs: dict[str, Any]
             ) -> dict[str, dict[str, float]]:
    """Each policy's metrics at the model's nominal values of the uncertain constants."""
    made = unc.chunks.make_plan(model, plan.design, plan.metrics, policies=plan.policies,
                                  base=plan.base, **kwargs)
    point = np.array([[model.variables[n].default for n in plan.design.names]])
    values = unc.chunks.compute_chunk(model, made, point)
    return {p: {m: float(values[m][i, 0]) for m in plan.metrics}
            for i, p in enumerate(plan.policies)}


def write_outcomes(ds: xr.Dataset, nominal: dict[str, dict[str, float]],
                   plan: UncertaintyPlan, path: Path) -> pd.DataFrame:
    """Per policy and metric: the nominal run against the uncertain distribution (mean,
    5/50/95th percentiles, shares meeting the conditions), so no one mistakes the nominal
    run for the expected one; the table ``deterrence summary`` prints of the run, with
    each metric's spec."""
    from ..analysis.ensembles import ensemble_table

    table = ensemble_table(_recorded(ds, nominal, plan)).reset_index()
    table.insert(2, "spec", [plan.metrics[m].spec for m in table["metric"]])
    atomic_write_text(fresh(path), table.to_csv(index=False))
    return table


def _recorded(ds: xr.Dataset, nominal: dict[str, dict[str, float]],
              plan: UncertaintyPlan, scenario: str = "") -> xr.Dataset:
    """The ensemble's metrics with what the run records of them (the nominal runs, the
    conditions), as ``deterrence summary`` and ``deterrence plot`` read them back."""
    recorded = ds[list(plan.metrics)]
    recorded.attrs = {"model_file": str(ds.attrs.get("model_file", "")),
                      "scenario": scenario,
                      "metrics": json.dumps({n: m.spec for n, m in plan.metrics.items()}),
                      "nominal": json.dumps(nominal), "failure": str(plan.failure or ""),
                      "satisficing": str(plan.satisficing or "")}
    recorded.encoding["source"] = STORE
    return recorded


def analyse(metrics: xr.Dataset, design: unc.Design, cfg: Any, folder: Path) -> list[Path]:
    """The analyses of ``cfg.experiment.analyses`` on the ensemble's ``metrics`` (dims
    policy x run): sensitivity (``sensitivity.nc``, ``tornado.png``), scenario discovery
    of ``experiment.failure`` under the first policy (``prim.csv``, ``prim.png``,
    ``prim_box.png``), robustness of ``experiment.satisficing`` across the policies
    (``robustness.csv``, ``robustness.png``). Every analysis runs; any that fails is
    named in the error raised at the end (the metrics are kept: a rerun resumes them)."""
    e = cfg.experiment
    specs = _plain(e.metrics)
    parsed = {k: unc.OutcomeMetric.parse(k, v) for k, v in specs.items()}
    fmt = cfg.output.plot_format
    written: list[Path] = []
    failed: list[str] = []
    metrics = metrics.assign_attrs(scenario=str(cfg.scenario.name))  # named on figures
    steps = {"sensitivity": lambda: _sensitivity(metrics, design, cfg, folder, fmt),
             "prim": lambda: _prim(metrics, design, unc.Condition.parse(
                 str(e.failure), parsed, "experiment.failure"), folder, fmt),
             "robustness": lambda: _robustness(metrics, unc.Condition.parse(
                 str(e.satisficing), parsed, "experiment.satisficing"), folder, fmt)}
    for name in e.analyses:
        try:
            written += steps[name]()
        except Exception as exc:
            log.error("%s analysis failed: %s", name, exc)
            failed.append(f"{name}: {exc}")
    if failed:
        raise ModelError("analyses failed after the ensemble (its metrics are in "
                         f"{folder / STORE}): " + "; ".join(failed))
    return written


def _figure(draw: Any, path: Path) -> list[Path]:
    """Draw and save one figure; a figure that cannot be drawn is only logged (the
    analysis it shows is written already), as for every other job's plots."""
    from .. import plot

    try:
        return [plot.save_figure(draw(), fresh(path))]
    except Exception as exc:
        log.warning("%s not drawn: %s", path.name, exc)
        return []


def _primary(cfg: Any, parsed: dict[str, unc.OutcomeMetric]) -> str:
    """The metric the figures show: the failure condition's, else the first."""
    e = cfg.experiment
    if e.failure is not None:
        return unc.Condition.parse(str(e.failure), parsed, "experiment.failure").metric
    return next(iter(parsed))


def _indices(design: unc.Design, y: xr.DataArray) -> xr.Dataset:
    """Sobol indices (saltelli), Morris indices (morris), else extra-trees scores."""
    from ..analysis import discovery, sensitivity

    problem = design.problem()
    if design.sampler == "saltelli":
        return sensitivity.sobol(problem, y, second_order=design.second_order,
                                 seed=design.seed)
    if design.sampler == "morris":
        return sensitivity.morris(problem, design.sample, y)
    scores = discovery.feature_scores(design.frame(), y.values)
    return xr.Dataset({"feature_score": ("parameter", np.asarray(
        scores.reindex(design.names).values, dtype=float), {
            "long_name": "extra-trees feature score (impurity decrease)"})},
        coords={"parameter": design.names})


def _sensitivity(metrics: xr.Dataset, design: unc.Design, cfg: Any, folder: Path,
                 fmt: str) -> list[Path]:
    """The indices of every metric whose runs are all finite, per policy."""
    from .. import plot

    parsed = {str(k): unc.OutcomeMetric.parse(str(k), str(v))
              for k, v in _plain(cfg.experiment.metrics).items()}
    kept = [n for n in parsed if bool(np.isfinite(metrics[n].values).all())]
    skipped = [n for n in parsed if n not in kept]
    if skipped:
        log.warning("sensitivity: left out %s (some runs are not finite)", ", ".join(skipped))
    if not kept:
        raise ValueError(f"no metric is finite in every run ({', '.join(skipped)})")
    policies = [str(p) for p in metrics["policy"].values]
    indices = xr.concat([xr.concat([_indices(design, metrics[n].sel(policy=p, drop=True))
                                    for p in policies], dim=xr.DataArray(policies,
                                                                         dims="policy"))
                         for n in kept], dim=xr.DataArray(kept, dims="outcome"))
    indices.attrs.update({"sampler": design.sampler, "runs": design.n_runs,
                          "design_fingerprint": design.fingerprint(),
                          "skipped_non_finite": ", ".join(skipped),
                          "scenario": str(metrics.attrs.get("scenario", ""))})
    out = [write_results(indices, fresh(folder / "sensitivity.nc"))]
    primary = _primary(cfg, parsed)
    if primary in kept:  # the first policy's, as deterrence plot sensitivity.nc draws it
        out += _figure(lambda: plot.sensitivity_figure(indices, "tornado", primary),
                       folder / f"tornado.{fmt}")
    return out


def _prim(metrics: xr.Dataset, design: unc.Design, failure: unc.Condition, folder: Path,
          fmt: str) -> list[Path]:
    """PRIM boxes of the futures in which ``failure`` holds, under the first policy."""
    from .. import plot
    from ..analysis import discovery

    y = np.asarray(failure.of(metrics[failure.metric].isel(policy=0).values), dtype=bool)
    if not y.any() or y.all():
        raise ValueError(f"{failure} holds in {y.mean():.0%} of the futures: nothing for "
                         "PRIM to explain")
    policy = str(metrics["policy"].values[0])
    scenario = metrics.attrs.get("scenario")
    result = discovery.prim(design.frame(), y, label=f"{failure} under {policy}" + (
        f" (scenario {scenario})" if scenario else ""))
    csv = fresh(folder / "prim.csv")
    result.to_csv(csv)
    return [csv, *_figure(lambda: plot.prim_tradeoff(result), folder / f"prim.{fmt}"),
            *_figure(lambda: plot.prim_box(result), folder / f"prim_box.{fmt}")]


def _robustness(metrics: xr.Dataset, satisficing: unc.Condition, folder: Path,
                fmt: str) -> list[Path]:
    """Per policy: mean, regret, satisficing share of ``satisficing`` over the futures."""
    from .. import plot
    from ..analysis import robustness

    table = robustness.robustness(metrics[satisficing.metric].transpose("policy", "run"),
                                  threshold=satisficing.threshold,
                                  larger_is_better=satisficing.larger_is_better,
                                  strict=satisficing.strict)
    table.attrs["condition"] = str(satisficing)  # its figure names it as written
    if metrics.attrs.get("scenario"):
        table.attrs["scenario"] = str(metrics.attrs["scenario"])
    csv = fresh(folder / "robustness.csv")
    atomic_write_text(csv, table.to_csv())
    return [csv, *_figure(lambda: plot.robustness_bars(table),
                          folder / f"robustness.{fmt}")]


def analyse_sweep(combined: xr.Dataset, sweep_dir: Path, plot_format: str = "png") -> None:
    """After a multirun of uncertainty jobs over ``policy``: robustness across the
    policies, on the same futures (refused if the jobs' futures differ)."""
    prints = set()
    for path in sorted(sweep_dir.glob(f"*/{DESIGN}")):
        with xr.open_dataset(path) as opened:
            prints.add(str(opened.attrs.get("fingerprint")))
    if len(prints) > 1:
        log.error("the sweep's jobs faced different futures (%d designs): policies are "
                  "not compared; sweep policies with one design (same samples, sampler, "
                  "seed and uncertainties)", len(prints))
        return
    if set(combined[str(next(iter(combined.data_vars)))].dims) != {"policy", "run"}:
        log.info("uncertainty sweep: robustness compares policies only (dims policy x "
                 "run); these results have dims %s", dict(combined.sizes))
        return
    text = combined.attrs.get("satisficing")
    if not text or "robustness" not in str(combined.attrs.get("analyses", "")).split(","):
        return
    metrics = {str(k): unc.OutcomeMetric(str(k), "", "final") for k in combined.data_vars}
    cond = unc.Condition.parse(str(text), metrics, "experiment.satisficing")
    try:
        _robustness(combined, cond, sweep_dir, plot_format)
    except Exception as exc:
        log.error("robustness across the sweep's policies failed: %s", exc)
