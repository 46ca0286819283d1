"""Helpers shared by the attack modules: model text, payloads, the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

CONTROLS = (
    "INITIAL TIME = 0\n\t~\tMonth\n\t~\t\n\t|\n\n"
    "FINAL TIME = 10\n\t~\tMonth\n\t~\t\n\t|\n\n"
    "TIME STEP = 1\n\t~\tMonth\n\t~\t\n\t|\n\n"
    "SAVEPER = 1\n\t~\tMonth\n\t~\t\n\t|\n"
)


def vensim_text(*blocks: str) -> str:
    """A Vensim model: each block is one definition's text (``name = ...`` or
    ``name(lookup)``), given units and documentation slots, then the four controls."""
    body = "".join(f"{block}\n\t~\t\n\t~\t\n\t|\n\n" for block in blocks)
    return "{UTF-8}\n" + body + CONTROLS

#: a use of the lookup ``Tab``, so the model is otherwise complete
TAB_USE = "Y = Tab(Time)"


def payloads(marker: Path) -> dict[str, str]:
    """Python expressions an attacker would write into a model file."""
    return {
        # create a file
        "marker": f"__import__('os').system('touch {marker}')",
        # read a secret into a number that would silently change the model
        "passwd": "len(open('/etc/passwd').read())",
        # end the process (in-process: SystemExit; the CLI tests use os._exit)
        "exit": "exit(0)",
    }


def run_cli(args: Sequence[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m deterrence ARGS`` in a fresh process, as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "deterrence", *args], cwd=cwd, capture_output=True,
        text=True, timeout=timeout, env={**os.environ, "MPLBACKEND": "Agg"},
    )
