"""The experiment configs Hydra composes (``conf/``), and where configs and models live.

The schemas catch a misspelt key when the config is composed. ``policy`` is the one open
node: its lever keys are the chosen model's (``model.levers``), so they are checked
against the model config at preflight (:func:`deterrence.experiments.preflight.check_keys`),
not by a schema that would have to know every model's levers.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import MISSING, DictConfig, OmegaConf

from ..engines import load
from ..errors import ModelError, ParameterError
from ..integrate import SolverOptions
from ..model import Model

GROUPS = ("model", "scenario", "policy", "solver", "experiment")
RESULTS = "results.nc"
COMBINED = "combined.nc"
FAILURE = "failure.yaml"
FAILURES = "failures.yaml"
SWEEP = "sweep.yaml"  # the sweep record: its id and its jobs


@dataclass
class TimingConfig:
    """The constants that time a model's policy (empty: its policies cannot be timed).

    ``start_time`` / ``ramp_time``: the constants ``policy.start_time`` and
    ``policy.ramp_time`` set; ``before``: lever constant -> the constant holding its
    level before the policy starts (a scenario that sets a lever sets both, since it
    describes the world the policy starts from).
    """

    start_time: str | None = None
    ramp_time: str | None = None
    before: dict[str, str] = field(default_factory=dict)


@dataclass
class ModelConfig:
    """Which model file to run, and what the generic layers should know of it.

    ``engine``: ``compiled`` (the default) or ``pysd`` (PySD's own runner, the explicit
    fallback: :mod:`deterrence.engines`); ``levers``: policy key -> the model constant it
    sets; ``timing``: the constants that time a policy (:class:`TimingConfig`);
    ``key_outputs``: the variables
    plots draw when none are named (written into every Dataset as the attr
    ``key_outputs``); ``default_outcome``: the outcome of a sensitivity analysis or a
    policy map when none is named.
    """

    name: str = MISSING
    path: str = MISSING
    engine: str = "compiled"
    levers: dict[str, str] = field(default_factory=dict)
    timing: TimingConfig = field(default_factory=TimingConfig)
    key_outputs: list[str] = field(default_factory=list)
    default_outcome: str | None = None


@dataclass
class ScenarioConfig:
    """The world: shocks and starting conditions, as constants set by Vensim name."""

    name: str = MISSING
    description: str = ""
    shock_windows: list[Any] = field(default_factory=list)  # [start, end, label]
    set: dict[str, float] = field(default_factory=dict)


@dataclass
class PolicyConfig:
    """A policy's fixed keys; any other key is a lever of ``model.levers`` (None keeps
    the model's status-quo value). ``start_time`` / ``ramp_time``: when the levers take
    effect and over how many years they ramp in (None: the model's, 0 and 0: at once from
    the start), through ``model.timing``."""

    name: str = "status_quo"
    description: str = ""
    set: dict[str, float] = field(default_factory=dict)
    start_time: float | None = None
    ramp_time: float | None = None


POLICY_KEYS = tuple(PolicyConfig.__dataclass_fields__)


def policy_node() -> DictConfig:
    """A :class:`PolicyConfig` open to lever keys (``policy.joint_exercises=0.5``)."""
    return OmegaConf.structured(PolicyConfig, flags={"struct": False})


def grid_node() -> DictConfig:
    """``grid``: open to any key (``grid.joint_exercises=0:1:11``), read by
    :func:`deterrence.experiments.compose.expand_grid`."""
    return OmegaConf.create({}, flags={"struct": False})


@dataclass
class SolverConfig:
    method: str | None = None  # None: the model's own (Model.declared_method)
    rtol: float = 1e-6
    atol: float = 1e-8
    max_step: float | None = None
    # auto | native | numpy: what runs euler/rk4 (auto: native where it pays and can)
    backend: str = "auto"
    # the RANDOM functions' seed (run i of an ensemble draws its own stream)
    seed: int = 0
    time_step: float | None = None
    saveper: float | None = None
    final_time: float | None = None
    # the run's size limits: "16GiB", "500MB", bytes or "inf"; None: the engine's default
    max_memory: str | None = None
    max_steps: float | None = None


def solver_kwargs(solver: Any, model: Model | None) -> dict[str, Any]:
    """``Model.simulate``'s arguments from a solver config: the one place that maps one
    onto the other. How to integrate is one :class:`SolverOptions` (``method: null``,
    the default ``solver=model``: the model file's own method); the grid overrides
    and the size limits (absent ones keep the engine's defaults) go beside it."""
    method = solver.get("method")
    if not method:
        if model is None:
            raise ParameterError("solver.method is null (the model's own) but no model "
                                 "was given to read it from")
        method = model.declared_method.require(model.path)
    kwargs: dict[str, Any] = {"solver": SolverOptions.from_mapping({**solver,
                                                                     "method": method})}
    kwargs.update({k: solver[k] for k in ("time_step", "saveper", "final_time")})
    kwargs.update({k: solver[k] for k in ("max_memory", "max_steps")
                   if solver.get(k) is not None})
    return kwargs


def method_source(model: Model, solver: Any) -> str:
    """Where a run's integration method came from, for the Dataset's attrs."""
    if solver.get("method"):
        return f"{solver.method}: solver.method (the run's config)"
    return model.declared_method.source


@dataclass
class SensitivityConfig:
    """Global sensitivity: a Sobol (Saltelli) sample of the constants' declared ranges."""

    n: int = 128  # base sample size, a power of 2; the ensemble has n * (D + 2) runs
    names: list[str] | None = None  # None: every constant with a [min,max] not set already
    outcomes: list[str] | None = None  # None: [model.default_outcome]
    reduce: str = "final"  # final | min | max | mean over time
    seed: int = 20261128


@dataclass
class EnsembleConfig:
    """An uncertainty ensemble (``experiment=uncertainty``; see docs/uncertainty.md):
    ``samples`` futures (None: not an uncertainty experiment) of the ``uncertainty``
    node's distributions, every policy of ``policies`` (None: the composed policy)
    against the same futures, per-run ``metrics``, written chunk by chunk."""

    samples: int | None = None  # futures; the base size N for saltelli and morris
    sampler: str = "lhs"  # mc | lhs | sobol | halton | saltelli | morris
    seed: int = 20261202
    chunk: int = 10_000  # runs per chunk (per policy)
    metrics: dict[str, str] = field(default_factory=dict)  # name -> VARIABLE:MEASURE
    failure: str | None = None  # the binary outcome PRIM explains: "METRIC < X"
    satisficing: str | None = None  # robustness: the share of futures with "METRIC > X"
    policies: list[str] | None = None  # conf/policy options crossed in one job
    series: list[str] = field(default_factory=list)  # thinned series kept per run
    thin: int = 1  # keep every thin-th saved time of those series
    second_order: bool = True  # saltelli: second-order Sobol indices too
    analyses: list[str] = field(default_factory=lambda: ["sensitivity", "prim",
                                                         "robustness"])
    dask: Any = None  # local | tcp://scheduler:8786 | {address | workers, processes}


@dataclass
class ExperimentConfig(EnsembleConfig):
    """``batch``: swept keys (as in a multirun) run as one ensemble inside one job;
    ``sensitivity``: a Sobol sample around the composed scenario and policy instead;
    ``samples`` (:class:`EnsembleConfig`): an uncertainty ensemble instead."""

    name: str = "single"
    description: str = ""
    batch: dict[str, list[Any]] = field(default_factory=dict)
    sensitivity: SensitivityConfig | None = None
    # a value outside a constant's declared [min,max] is refused unless this is true
    allow_out_of_range: bool = False


@dataclass
class OutputConfig:
    plot: bool = True
    plot_format: str = "png"
    baseline_scenario: str = "baseline"
    variables: list[str] | None = None  # None keeps every variable


@dataclass
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    scenario: ScenarioConfig = field(default_factory=ScenarioConfig)
    policy: Any = field(default_factory=policy_node)  # a PolicyConfig open to levers
    solver: SolverConfig = field(default_factory=SolverConfig)
    experiment: ExperimentConfig = field(default_factory=ExperimentConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    params: dict[str, float] = field(default_factory=dict)  # any constant, by name
    grid: Any = field(default_factory=grid_node)  # key -> values or "START:STOP:N"
    uncertainty: Any = None  # conf/uncertainty/<name>.yaml: name, parameters


def register_configs() -> None:
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    cs.store(name="base_config", node=Config)


# -- locating conf/ and models ---------------------------------------------------------


def conf_dir() -> Path:
    """``$DETERRENCE_CONF``, else ``./conf``, else the project's ``conf/``."""
    candidates = [os.environ.get("DETERRENCE_CONF"), Path.cwd() / "conf",
                  Path(__file__).resolve().parents[3] / "conf"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "config.yaml").exists():
            return Path(candidate).resolve()
    raise ModelError("cannot find the experiment configuration (conf/config.yaml)",
                     hint="run from the project folder or set DETERRENCE_CONF")


def model_path(cfg_path: str) -> Path:
    """A model path as written in the config: absolute, from the cwd, or from the project."""
    path = Path(cfg_path).expanduser()
    if path.is_absolute():
        return path
    for base in (original_cwd(), conf_dir().parent):
        if (base / path).exists():
            return (base / path).resolve()
    return (original_cwd() / path).resolve()


def original_cwd() -> Path:
    """The folder the command started in (Hydra may have moved into the job's)."""
    try:
        from hydra.utils import get_original_cwd

        return Path(get_original_cwd())
    except (ImportError, ValueError):
        return Path.cwd()


@functools.cache
def _load_cached(path: str, mtime_ns: int, size: int, engine: str) -> Model:
    del mtime_ns, size  # part of the cache key: an edited file is compiled again
    return load(path, engine=engine)


def get_model(path: str | Path, engine: str = "compiled") -> Model:
    """The compiled model, compiled once per process (per file version and engine)."""
    p = Path(path)
    if not p.exists():
        raise ModelError("model file not found", path=p,
                         hint="set model.path=FILE.mdl (relative to the project or cwd)")
    stat = p.stat()
    return _load_cached(str(p.resolve()), stat.st_mtime_ns, stat.st_size, engine)


def group_option(group: str, name: str, schema: type) -> DictConfig:
    """Load ``conf/<group>/<name>.yaml`` checked against its schema (for batches)."""
    path = conf_dir() / group / f"{name}.yaml"
    if not path.exists():
        options = sorted(p.stem for p in (conf_dir() / group).glob("*.yaml"))
        raise ParameterError(f"{group} {name!r} does not exist; options: {', '.join(options)}",
                             path=path.parent)
    node = OmegaConf.load(path)
    node.pop("defaults", None)
    base = policy_node() if schema is PolicyConfig else OmegaConf.structured(schema)
    return OmegaConf.merge(base, node)
