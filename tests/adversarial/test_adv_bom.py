"""Fault: a Vensim file saved with a UTF-8 byte-order mark (Windows editors do this).
It loads like the same file without one, and error lines still point at the right line."""

from __future__ import annotations

from pathlib import Path

import pytest
from adversarial_support import vensim_text

import deterrence
from deterrence.errors import ModelSyntaxError

BOM = b"\xef\xbb\xbf"


def test_a_bom_file_runs_like_the_plain_one(tmp_path: Path) -> None:
    text = vensim_text("Rate = 0.5 * Caf\u00e9", "Caf\u00e9 = 2", "S = INTEG(Rate, 1)")
    plain, marked = tmp_path / "plain.mdl", tmp_path / "bom.mdl"
    plain.write_bytes(text.encode("utf-8"))
    marked.write_bytes(BOM + text.encode("utf-8"))
    a = deterrence.load(plain).simulate(method="euler")
    b = deterrence.load(marked).simulate(method="euler")
    assert float(b["s"][-1]) == 11.0
    assert a["s"].equals(b["s"])


def test_a_bom_file_without_the_utf8_tag(tmp_path: Path) -> None:
    path = tmp_path / "untagged.mdl"
    path.write_bytes(BOM + vensim_text("S = INTEG(1, 0)").removeprefix("{UTF-8}\n").encode())
    assert float(deterrence.load(path).simulate(method="euler")["s"][-1]) == 10.0


def test_error_lines_are_right_after_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "broken.mdl"
    path.write_bytes(BOM + vensim_text("A = 1", "B = A * (2").encode())
    with pytest.raises(ModelSyntaxError) as info:
        deterrence.load(path)
    assert info.value.variable == "B"
    assert info.value.line == 7
