"""Output folders: a run or sweep owns its folder while it runs, never overwrites a file
(an earlier one is kept aside under a time-stamped name), and a sweep's record
(``sweep.yaml``) names its id and jobs so that its merge takes exactly its own jobs.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf

from ..errors import ModelError
from ..files import atomic_write_text
from .config import SWEEP, original_cwd

log = logging.getLogger("deterrence.experiments")


def fresh(path: Path) -> Path:
    """Never overwrite: an existing file (or folder) is kept aside, named by its time.

    The aside name is reserved atomically before the move, so two processes setting
    aside at once each keep what they moved instead of one renaming over the other.
    """
    while path.exists():
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(path.stat().st_mtime))
        counter = 0
        while True:
            tail = f"{stamp}-{counter}" if counter else stamp
            aside = path.with_name(f"{path.stem}.{tail}{path.suffix}")
            try:
                if path.is_dir():
                    aside.mkdir()
                else:
                    os.close(os.open(aside, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
                break
            except FileExistsError:
                counter += 1
        try:
            os.replace(path, aside)
        except FileNotFoundError:  # another process moved it first: nothing of ours to keep
            (aside.rmdir if aside.is_dir() else aside.unlink)()
    return path


def read_yaml(path: Path, missing_ok: bool = False) -> Any:
    """Hydra's job records are plain YAML; the C loader reads 100 jobs in a blink.

    ``missing_ok``: a file that does not exist reads as ``None``.
    """
    if missing_ok and not path.exists():
        return None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=loader)


def hydra_dir(value: Any) -> Path:
    """A folder from Hydra's config, absolute (relative ones are from the start folder)."""
    path = Path(str(value))
    return path if path.is_absolute() else original_cwd() / path


# -- owning an output folder ------------------------------------------------------------


class FolderInUse(ModelError):
    """Another run or sweep is writing into the folder this one was given."""


# folder -> (lock fd, lock file or None, "run" or "sweep"): what this command owns
_CLAIMS: dict[str, tuple[int, Path | None, str]] = {}


def claim_folder(folder: Path, what: str) -> None:
    """Own ``folder`` until :func:`release_folder`: a second run or sweep into it is refused.

    The lock is an ``flock`` on the folder itself, so it ends with the process: a killed
    run leaves nothing behind to clean up. (Without ``fcntl``, a lock file made with
    ``O_EXCL`` plays its part and is removed on release.)
    """
    folder.mkdir(parents=True, exist_ok=True)
    key = str(folder.resolve())
    if key in _CLAIMS:
        return
    hint = f"wait for it to finish, or give this {what} its own folder"
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        lock = folder / ".deterrence.lock"
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            raise FolderInUse(f"another run or sweep is writing into this folder ({lock} "
                              "exists)", path=folder, hint=hint + "; delete the lock file "
                              "if no run is left") from None
        _CLAIMS[key] = (fd, lock, what)
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise FolderInUse("another run or sweep is writing into this folder", path=folder,
                          hint=hint) from None
    _CLAIMS[key] = (fd, None, what)


def claimed(what: str) -> list[Path]:
    """The folders of kind ``what`` ("run" or "sweep") this process owns, in claim order:
    where the command that claimed them reads its jobs' outcome from."""
    return [Path(key) for key, (_, _, kind) in _CLAIMS.items() if kind == what]


def release_folder(folder: Path | None = None) -> None:
    """Give up one claimed folder (``None``: every folder this process claimed)."""
    keys = list(_CLAIMS) if folder is None else [str(folder.resolve())]
    for key in keys:
        if key not in _CLAIMS:
            continue
        fd, lock, _ = _CLAIMS.pop(key)
        os.close(fd)  # closing the descriptor releases the flock
        if lock is not None:
            lock.unlink(missing_ok=True)


def refuse(exc: ModelError) -> None:
    """Stop the command with one line: Hydra would print a callback's error with a stack."""
    print(f"error: {exc}", file=sys.stderr)
    raise SystemExit(2)


def _unique_name() -> str:
    """A short random tag for default folder names: two commands started in the same
    second (on one machine or many) never share a folder."""
    import secrets

    return secrets.token_hex(3)


def run_name(model: str, experiment: str, scenario: str, policy: str) -> str:
    """A default run folder named for what ran: the experiment, or for a single run its
    scenario and policy; prefixed with the model unless it is the alliance model."""
    parts = [] if model in ("alliance_deterrence", "") else [model]
    parts += [scenario, policy] if experiment in ("single", "") else [experiment]
    return "_".join(re.sub(r"[^\w+.-]+", "-", str(p)).strip("-") or "run" for p in parts)


if not OmegaConf.has_resolver("deterrence.run_name"):
    OmegaConf.register_new_resolver("deterrence.run_name", run_name)
if not OmegaConf.has_resolver("deterrence.unique"):
    # cached: every use in one composed config (and the jobs copied from it) agrees
    OmegaConf.register_new_resolver("deterrence.unique", _unique_name, use_cache=True)


# -- the sweep record --------------------------------------------------------------------


def current_sweep_id() -> str | None:
    """In a multirun's job: the id in its sweep's record (written before any job starts)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    hydra_cfg = HydraConfig.get()
    if hydra_cfg.mode != RunMode.MULTIRUN:
        return None
    record = hydra_dir(hydra_cfg.sweep.dir) / SWEEP
    return (read_yaml(record, missing_ok=True) or {}).get("sweep_id")


def sweep_jobs(config: DictConfig) -> list[list[str]] | None:
    """The overrides of each job the basic sweeper launches, by job number (None: the
    sweep cannot be expanded here, e.g. a glob over a config group without a loader)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    params = config.hydra.sweeper.get("params") or {}
    args = [f"{k}={v}" for k, v in params.items()] + list(config.hydra.overrides.task)
    hydra = GlobalHydra.instance()
    loader = hydra.config_loader() if hydra.is_initialized() else None
    try:
        parsed = OverridesParser.create(config_loader=loader).parse_overrides(args)
        batches = BasicSweeper.split_arguments(parsed, None)
    except (HydraException, ValueError) as exc:
        log.warning("cannot list the sweep's jobs in advance (%s): a job killed before it "
                    "writes anything will not be reported", exc)
        return None
    return [list(job) for batch in batches for job in batch]


def start_sweep(sweep_dir: Path, config: DictConfig) -> dict[str, Any]:
    """Write the sweep record after setting the folder's earlier records aside.

    A used folder is set aside, not refused: rerunning a sweep into its folder is how a
    partly failed or killed sweep is redone, and each earlier file is kept under a
    time-stamped name. The merge then takes only jobs carrying this record's id.
    """
    import socket
    import uuid

    jobs = sweep_jobs(config)
    for name in (SWEEP, "multirun.yaml"):
        fresh(sweep_dir / name)
    for num in range(len(jobs or ())):  # job folders this sweep writes into again
        fresh(sweep_dir / str(num) / ".hydra")
    record = {"sweep_id": uuid.uuid4().hex,
              "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "host": socket.gethostname(), "pid": os.getpid(),
              "overrides": list(config.hydra.overrides.task),
              "jobs": None if jobs is None else [{"job": i, "overrides": job}
                                                 for i, job in enumerate(jobs)]}
    atomic_write_text(sweep_dir / SWEEP, yaml.safe_dump(record, sort_keys=False))
    earlier = [] if jobs is None else [n for n in job_numbers(sweep_dir) if n >= len(jobs)]
    if earlier:
        log.warning("%s holds job folder(s) %s of an earlier sweep: kept, not merged",
                    sweep_dir, ", ".join(map(str, earlier)))
    return record


def job_numbers(sweep_dir: Path) -> list[int]:
    """The numbered job folders present in a sweep folder."""
    return sorted(int(p.name) for p in sweep_dir.iterdir() if p.is_dir() and p.name.isdigit())


def in_use(sweep_dir: Path, exc: FolderInUse) -> FolderInUse:
    """Say which sweep holds the folder, from its record."""
    record = read_yaml(sweep_dir / SWEEP, missing_ok=True)
    if not isinstance(record, dict) or "sweep_id" not in record:
        return exc
    return FolderInUse(f"another sweep (started {record.get('started')}, pid "
                       f"{record.get('pid')} on {record.get('host')}) is writing into this "
                       "folder", path=sweep_dir, hint=exc.hint)
