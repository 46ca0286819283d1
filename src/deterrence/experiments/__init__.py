"""Policy experiments with Hydra: configured runs, multiruns, batched sweeps, merging.

``deterrence run [overrides]`` composes ``conf/`` (groups model, scenario, policy, solver,
experiment) into a :class:`~.config.Config`, simulates, and writes ``results.nc`` and a
comparison plot into the run's Hydra output folder. ``deterrence run -m key=a,b ...`` runs
one job per combination; when the sweep ends, :class:`~.sweep.MergeSweep` (a Hydra
callback) merges every job into ``combined.nc``: one dimension per swept key for a grid,
a ``run`` dimension with the overrides as coordinates otherwise. An ``experiment`` preset
with ``batch`` runs a whole grid as one ensemble in a single job (the engine's run axis)
with the same layout.

Jobs never raise into Hydra: a failure is written to the job folder and merged into the
sweep's ``failures.yaml`` and the merged file's attrs, and the other jobs go on; the
command's exit status is read back from those files. A run or sweep owns its folder
while it runs; a sweep's record (``sweep.yaml``) names its id and jobs, so its merge takes
exactly its own jobs and reports a killed one as lost (``docs/experiments.md``).

What the model is (its levers, key outputs and default outcome) comes from its config,
``conf/model/<name>.yaml``; nothing here knows a particular model.

Modules, in the order a run passes through them: ``config`` (schemas, conf/ and models),
``preflight`` (checks before any job), ``params`` (config -> parameters, batch grids,
Sobol samples), ``job`` (one job and its plots), ``uncertainty`` (an uncertainty
ensemble's job and analyses, ``experiment=uncertainty``), ``folders`` (owning folders,
the sweep record), ``sweep`` (merging a multirun), ``main`` (the command).
"""

from .config import conf_dir
from .main import hydra_main
from .sweep import job_lost, merge_sweep

__all__ = ["conf_dir", "hydra_main", "job_lost", "merge_sweep"]
