"""Launchers that survive a killed job: the sweep goes on and the merge reports it lost.

With joblib's loky backend, one worker killed (``kill -9``, the out-of-memory killer)
breaks the whole pool: the other running jobs are killed too and the multirun ends with a
traceback before anything is merged. Submitit raises on the first job that has no result,
also before the merge. Here:

* :class:`CoresLauncher` runs each job in a process of its own, ``n_jobs`` at a time, so a
  dead job takes nothing else with it;
* :class:`LocalLauncher` and :class:`SlurmLauncher` wait for every submitit job and keep
  going past one that ended without a result.

A lost job is returned to Hydra as completed with ``{"status": "lost"}`` (Hydra's sweeper
would raise on a failed one) and noted with :func:`deterrence.experiments.job_lost`, so
the merge records it in ``failures.yaml`` like a job that raised.
"""

from __future__ import annotations

import logging
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cloudpickle  # a dependency of submitit; pickles Hydra's resolvers too
from hydra.core.hydra_config import HydraConfig
from hydra.core.singleton import Singleton
from hydra.core.utils import (
    JobReturn,
    JobStatus,
    configure_log,
    filter_overrides,
    run_job,
    setup_globals,
)
from hydra.plugins.launcher import Launcher
from hydra.types import HydraContext, TaskFunction
from hydra_plugins.hydra_submitit_launcher import submitit_launcher
from omegaconf import DictConfig, OmegaConf, open_dict

log = logging.getLogger(__name__)

# A job process starts here: the parent's import path, then the pickled job.
_BOOT = ("import pickle, sys\n"
         "with open(sys.argv[1], 'rb') as f:\n"
         "    sys.path[:0] = [p for p in pickle.load(f) if p not in sys.path]\n"
         "    from hydra_plugins.deterrence_launchers.launchers import run_payload\n"
         "    run_payload(f, sys.argv[2])\n")


def _lost(sweep_dir: Path, idx: int, overrides: Sequence[str], reason: str) -> JobReturn:
    """Note a job that ended without a result; Hydra sees it as completed (lost)."""
    from deterrence.experiments import job_lost

    log.error("job #%d lost: %s", idx, reason)
    job_lost(sweep_dir, idx, reason)
    return JobReturn(overrides=list(overrides), status=JobStatus.COMPLETED,
                     _return_value={"status": "lost", "error": reason})


def _exit_reason(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        return (f"the job's process was killed by signal {name} before it wrote a result "
                "(killed by hand, or by the system when out of memory)")
    return f"the job's process ended with status {code} before it wrote a result"


def run_payload(handle: Any, result_path: str) -> None:
    """In a job's own process: run the pickled job, pickle what it returned."""
    idx, overrides, hydra_context, config, task_function, state = pickle.load(handle)
    setup_globals()
    Singleton.set_state(state)
    sweep_config = hydra_context.config_loader.load_sweep_config(config, list(overrides))
    with open_dict(sweep_config):
        sweep_config.hydra.job.id = f"{sweep_config.hydra.job.name}_{idx}"
        sweep_config.hydra.job.num = idx
    HydraConfig.instance().set_config(sweep_config)
    ret = run_job(hydra_context=hydra_context, config=sweep_config,
                  task_function=task_function, job_dir_key="hydra.sweep.dir",
                  job_subdir_key="hydra.sweep.subdir")
    if ret.status == JobStatus.COMPLETED:
        outcome: tuple[str, Any] = ("ok", ret.return_value)
    else:  # the task raised (the deterrence task never does; a callback might)
        error = ret._return_value
        outcome = ("failed", f"{type(error).__name__}: {error}")
    tmp = result_path + ".tmp"
    with open(tmp, "wb") as out:
        cloudpickle.dump(outcome, out)
    os.replace(tmp, result_path)


class CoresLauncher(Launcher):
    """Jobs in parallel on this machine, each in a process of its own.

    ``n_jobs`` as in joblib: a positive number of jobs at a time, or -1 for one per core
    (-2: all cores but one, and so on).
    """

    def __init__(self, n_jobs: int = -1) -> None:
        self.n_jobs = int(n_jobs)
        self.config: DictConfig | None = None
        self.task_function: TaskFunction | None = None
        self.hydra_context: HydraContext | None = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction,
              config: DictConfig) -> None:
        self.config = config
        self.hydra_context = hydra_context
        self.task_function = task_function

    def _width(self) -> int:
        if self.n_jobs > 0:
            return self.n_jobs
        return max(1, (os.cpu_count() or 1) + 1 + self.n_jobs)

    def launch(self, job_overrides: Sequence[Sequence[str]],
               initial_job_idx: int) -> Sequence[JobReturn]:
        assert self.config is not None
        setup_globals()
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        width = self._width()
        log.info(f"Cores launcher: {len(job_overrides)} jobs, {width} at a time, each in "
                 f"its own process; sweep output dir : {sweep_dir}")
        state = Singleton.get_state()
        scratch = Path(tempfile.mkdtemp(prefix="deterrence-jobs-"))
        pending = deque(enumerate(job_overrides, start=initial_job_idx))
        running: dict[int, tuple[subprocess.Popen[bytes], list[str]]] = {}
        results: dict[int, JobReturn] = {}
        try:
            while pending or running:
                while pending and len(running) < width:
                    idx, overrides = pending.popleft()
                    log.info(f"\t#{idx} : {' '.join(filter_overrides(overrides))}")
                    payload = scratch / f"{idx}.job"
                    with payload.open("wb") as out:
                        pickle.dump(list(sys.path), out)
                        cloudpickle.dump((idx, list(overrides), self.hydra_context,
                                          self.config, self.task_function, state), out)
                    proc = subprocess.Popen([sys.executable, "-c", _BOOT, str(payload),
                                             str(scratch / f"{idx}.out")])
                    running[idx] = (proc, list(overrides))
                done = [idx for idx, (proc, _) in running.items() if proc.poll() is not None]
                if not done:
                    time.sleep(0.05)
                for idx in done:
                    proc, overrides = running.pop(idx)
                    results[idx] = self._collect(sweep_dir, idx, overrides, proc.returncode,
                                                 scratch / f"{idx}.out")
        finally:
            for proc, _ in running.values():  # interrupted: stop what still runs
                proc.terminate()
                proc.wait()
            shutil.rmtree(scratch, ignore_errors=True)
        return [results[idx] for idx in sorted(results)]

    @staticmethod
    def _collect(sweep_dir: Path, idx: int, overrides: list[str], code: int,
                 result: Path) -> JobReturn:
        if not result.exists():
            return _lost(sweep_dir, idx, overrides, _exit_reason(code))
        with result.open("rb") as handle:
            status, value = pickle.load(handle)
        if status != "ok":
            return _lost(sweep_dir, idx, overrides, f"the job raised {value}")
        return JobReturn(overrides=overrides, status=JobStatus.COMPLETED,
                         _return_value=value)


class _KeepGoing:
    """Submitit's launch (hydra-submitit-launcher 1.2), but it waits for every job and
    keeps going past one without a result instead of raising on it."""

    _EXECUTOR: str
    params: dict[str, Any]
    config: DictConfig | None

    def launch(self, job_overrides: Sequence[Sequence[str]],
               initial_job_idx: int) -> Sequence[JobReturn]:
        import submitit
        from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf

        assert self.config is not None
        assert len(job_overrides) > 0
        specific = {"max_num_timeout"}
        init = {"folder": self.params["submitit_folder"],
                **{f"{self._EXECUTOR}_{k}": v for k, v in self.params.items()
                   if k in specific}}
        executor = submitit.AutoExecutor(cluster=self._EXECUTOR, **init)
        base = set(OmegaConf.structured(BaseQueueConf).keys())
        executor.update_parameters(**{
            k if k in base else f"{self._EXECUTOR}_{k}": v for k, v in self.params.items()
            if k not in specific | {"submitit_folder"}})
        log.info(f"Submitit '{self._EXECUTOR}' sweep output dir : "
                 f"{self.config.hydra.sweep.dir}")
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        if "mode" in self.config.hydra.sweep:
            os.chmod(sweep_dir, mode=int(str(self.config.hydra.sweep.mode), 8))
        params = []
        for offset, overrides in enumerate(job_overrides):
            idx = initial_job_idx + offset
            log.info(f"\t#{idx} : {' '.join(filter_overrides(overrides))}")
            params.append((list(overrides), "hydra.sweep.dir", idx, f"job_id_for_{idx}",
                           Singleton.get_state()))
        jobs = executor.map_array(self, *zip(*params, strict=True))
        returns = []
        for offset, (job, overrides) in enumerate(zip(jobs, job_overrides, strict=True)):
            try:
                returns.append(job.results()[0])
            except Exception as exc:  # no result: killed, timed out, or its node lost
                first = (str(exc).strip().splitlines() or [""])[0]
                returns.append(_lost(sweep_dir, initial_job_idx + offset, overrides,
                                     f"the job ended without a result ({type(exc).__name__}"
                                     f": {first})"))
        return returns


class LocalLauncher(_KeepGoing, submitit_launcher.LocalLauncher):
    """Submitit on this machine (each job a process); a lost job is reported, not fatal."""


class SlurmLauncher(_KeepGoing, submitit_launcher.SlurmLauncher):
    """Submitit on Slurm; a lost job is reported, not fatal."""
