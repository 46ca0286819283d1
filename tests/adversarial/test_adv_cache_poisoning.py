"""Fault: a parse-cache entry that does not belong to its file, or cannot be loaded.

An entry copied over another model's entry must not give the first model's numbers
under the second model's name; an entry that fails to load for any reason (too deeply
nested, wrong types, another format) is ignored and rebuilt; the folder stays bounded."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from adversarial_support import vensim_text

import deterrence
from deterrence.frontend import amrcache


def _model(tmp_path: Path, name: str, rate: float) -> Path:
    path = tmp_path / f"{name}.mdl"
    path.write_text(vensim_text(f"S = INTEG({rate}, 0)"), encoding="utf-8")
    return path


def _final(path: Path) -> float:
    return float(deterrence.load(path).simulate(method="euler")["s"][-1])


def _entry_of(cache: Path, path: Path) -> Path:
    key = amrcache.key(path.read_bytes(), path.suffix.lower())
    return cache / f"{key}.json"


def test_an_entry_copied_over_another_is_not_believed(tmp_path: Path, own_cache: Path) -> None:
    a, b = _model(tmp_path, "a", 1), _model(tmp_path, "b", 2)
    assert _final(a) == 10.0
    assert _final(b) == 20.0
    shutil.copyfile(_entry_of(own_cache, a), _entry_of(own_cache, b))
    assert _final(b) == 20.0  # parsed again from b's own text
    # and the rebuilt entry is b's again
    assert json.loads(_entry_of(own_cache, b).read_text())["source_sha256"] != json.loads(
        _entry_of(own_cache, a).read_text())["source_sha256"]


@pytest.mark.parametrize("content", [
    "[" * 100_000 + "]" * 100_000,  # deeper than json's recursion
    json.dumps({"format": amrcache.FORMAT, "source_sha256": "x", "model": 1}),
    json.dumps({"format": 1}),
    json.dumps([1, 2, 3]),
    "null",
    "\x00\xff garbage",
])
def test_a_broken_entry_is_rebuilt(tmp_path: Path, own_cache: Path, content: str) -> None:
    a = _model(tmp_path, "a", 1)
    assert _final(a) == 10.0
    _entry_of(own_cache, a).write_text(content, encoding="utf-8", errors="surrogateescape")
    assert _final(a) == 10.0
    assert json.loads(_entry_of(own_cache, a).read_text())["format"] == amrcache.FORMAT


def test_an_entry_with_wrong_types_is_rebuilt(tmp_path: Path, own_cache: Path) -> None:
    a = _model(tmp_path, "a", 1)
    _final(a)
    entry = _entry_of(own_cache, a)
    data = json.loads(entry.read_text())
    data["model"]["fields"]["sections"] = {"__tuple__": [{"__dc__": "AbstractSection",
                                                          "fields": {"bogus": 1}}]}
    entry.write_text(json.dumps(data))
    assert _final(a) == 10.0


def test_the_cache_is_bounded(tmp_path: Path, own_cache: Path, monkeypatch) -> None:
    paths = [_model(tmp_path, f"m{i}", i + 1) for i in range(4)]
    _final(paths[0])
    size = _entry_of(own_cache, paths[0]).stat().st_size
    # room for two entries and a half
    monkeypatch.setenv("DETERRENCE_CACHE_MAX_MB", str(2.5 * size / 1024 / 1024))
    for i, path in enumerate(paths[1:], start=1):
        entry = _entry_of(own_cache, paths[i - 1])
        if entry.exists():
            os.utime(entry, (1e9 + i, 1e9 + i))  # older than anything written next
        _final(path)
    entries = sorted(own_cache.glob("*.json"))
    assert len(entries) == 2
    assert _entry_of(own_cache, paths[-1]) in entries
    assert sum(e.stat().st_size for e in entries) <= 2.5 * size


def test_where_the_cache_lives_is_documented() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "engine.md").read_text()
    assert "DETERRENCE_CACHE_DIR" in docs
    assert "DETERRENCE_CACHE_MAX_MB" in docs
