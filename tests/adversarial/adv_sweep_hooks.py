"""Test-only Hydra callbacks for the sweep fault tests (never part of the product).

A test adds one to a command with a config override, and puts this folder on the
subprocess's ``PYTHONPATH``::

    +hydra.callbacks.hold={_target_:adv_sweep_hooks.Hold,folder:/tmp/x}

``Hold`` writes ``<folder>/started-<pid>`` when a job starts (in the job's own process, so
the name gives the pid of the worker running it) and then waits until ``<folder>/go``
exists, so that a test can act while the job is known to be running: start a second
command, or ``kill -9`` the worker.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

#: how long a held job waits for ``go`` before going on by itself (a test gone wrong)
PATIENCE = 120.0


class Hold(Callback):
    def __init__(self, folder: str, only: str | None = None) -> None:
        self.folder = Path(folder)
        self.only = only  # hold only the job whose overrides contain this text

    def on_job_start(self, config: Any, **_: Any) -> None:
        overrides = " ".join(config.hydra.overrides.task)
        if self.only is not None and self.only not in overrides:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / f"started-{os.getpid()}").write_text(overrides, encoding="utf-8")
        deadline = time.monotonic() + PATIENCE
        while not (self.folder / "go").exists() and time.monotonic() < deadline:
            time.sleep(0.05)


def started(folder: Path) -> dict[int, str]:
    """``{pid: overrides}`` of the held jobs that have started."""
    if not folder.exists():
        return {}
    return {int(p.name.split("-", 1)[1]): p.read_text(encoding="utf-8")
            for p in folder.glob("started-*")}


def wait_for(predicate: Any, what: str, timeout: float = 120.0) -> Any:
    """Poll until ``predicate()`` is truthy (the tests never assert on times)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def refused_in_one_line(result: Any, *fragments: str) -> None:
    """A second command into a busy folder: exit 2, one ``error:`` line holding each
    fragment (the folder, who holds it)."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]
