"""docs/guide.md runs: every ``deterrence`` command in it, in order, and each printed
table equals the ``text`` block that follows its command in the guide."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GUIDE = REPO / "docs" / "guide.md"
BLOCK = re.compile(r"```(bash|text)\n(.*?)```", re.DOTALL)


def steps() -> list[tuple[list[str], str | None]]:
    """(command lines, expected output or None) for each bash block of the guide."""
    blocks = BLOCK.findall(GUIDE.read_text(encoding="utf-8"))
    result = []
    for i, (kind, body) in enumerate(blocks):
        if kind != "bash":
            continue
        expected = blocks[i + 1][1] if i + 1 < len(blocks) and blocks[i + 1][0] == "text" \
            else None
        result.append(([line for line in body.splitlines() if line.strip()], expected))
    return result


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip().splitlines()]


@pytest.mark.slow
def test_every_command_of_the_guide_runs_and_prints_what_the_guide_shows(tmp_path: Path):
    ran = 0
    for commands, expected in steps():
        for line in commands:
            words = shlex.split(line.replace("outputs/guide", str(tmp_path)))
            assert words[0] == "deterrence", line
            proc = subprocess.run([sys.executable, "-m", "deterrence", *words[1:]],
                                  cwd=REPO, capture_output=True, text=True, timeout=600)
            assert proc.returncode == 0, f"{line}\n{proc.stderr[-2000:]}"
            ran += 1
        if expected is not None:
            assert _lines(proc.stdout) == _lines(expected), commands[-1]
    assert ran >= 10
