"""``deterrence run``: check the overrides, hand the command line to Hydra, then read the
outcome of what ran from the folders it wrote (``failure.yaml``, ``failures.yaml``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ..errors import ModelError
from .compose import grid_argument, name_composition
from .config import FAILURE, conf_dir, register_configs
from .folders import claimed, release_folder
from .job import task
from .preflight import one_line, preflight
from .sweep import sweep_outcome
from .tables import print_summaries

_INFO = ("--help", "-h", "--hydra-help", "--info", "-i")


def outcome() -> list[str]:
    """The warning lines for the folders this command owns: one per sweep with a failed
    or lost job, else one for the runs that wrote ``failure.yaml``."""
    sweeps = [line for folder in claimed("sweep") if (line := sweep_outcome(folder))]
    if sweeps:
        return sweeps
    failed = [folder for folder in claimed("run") if (folder / FAILURE).exists()]
    return [f"{len(failed)} job(s) failed; see {FAILURE}"] if failed else []


def _spaced_key(arg: str) -> str:
    """``params.Joint Exercise Intensity=0.8`` as Hydra can read it: spaces in the key
    become underscores (model names match without regard to case, spaces or
    underscores), so a Vensim name can be typed as the model file writes it."""
    key, sep, value = arg.partition("=")
    if not sep or arg.startswith("-") or " " not in key.strip():
        return arg
    return "_".join(key.strip().split()) + sep + value


def hydra_main(argv: Sequence[str]) -> int:
    """``deterrence run ...``: check the overrides, then hand the command line to Hydra."""
    import hydra
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    argv = name_composition([grid_argument(_spaced_key(a)) for a in argv])
    if not any(a in _INFO or a.startswith("--cfg") for a in argv):
        try:
            preflight(argv)
        except (ModelError, HydraException, OmegaConfBaseException) as exc:
            print(f"error: {one_line(exc)}", file=sys.stderr)
            return 2
    register_configs()
    main = hydra.main(config_path=str(conf_dir()), config_name="config",
                      version_base="1.3")(task)
    saved = sys.argv
    sys.argv = ["deterrence run", *argv]
    try:
        main()
        warnings = outcome()
        print_summaries(claimed("sweep") or claimed("run"))
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        sys.argv = saved
        release_folder()
    if warnings:
        print(f"warning: {'; '.join(warnings)}", file=sys.stderr)
        return 1
    return 0
