"""The parsed-model cache: same program as a fresh parse, and only ever data."""

from __future__ import annotations

import hashlib
import json

import pytest

import deterrence
from deterrence.frontend import amrcache


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("DETERRENCE_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def model_file(make_model):
    return make_model([
        ("inflow", "WITH LOOKUP(Time, ([(0,0)-(10,1)],(0,0),(5,1),(10,0.5)))"),
        ("stock", "INTEG(inflow - SMOOTH3(stock, 2) / 4 + STEP(1, 3), 1)"),
        ("tilt", "-2^2 + IF THEN ELSE(Time >= 4 :AND: stock > 0.5, 1, 0)"),
    ], name="cached")


def test_a_cached_model_generates_the_same_code_and_results(cache, model_file):
    fresh = deterrence.load(model_file)
    assert len(list(cache.glob("*.json"))) == 1
    cached = deterrence.load(model_file)
    assert cached.program().source == fresh.program().source
    a = fresh.simulate(method="euler")
    b = cached.simulate(method="euler")
    assert a.equals(b)


def test_editing_the_file_parses_it_again(cache, model_file):
    deterrence.load(model_file)
    model_file.write_text(model_file.read_text().replace("STEP(1, 3)", "STEP(2, 3)"))
    deterrence.load(model_file)
    assert len(list(cache.glob("*.json"))) == 2


def test_a_corrupt_cache_entry_is_ignored(cache, model_file):
    deterrence.load(model_file)
    (entry,) = cache.glob("*.json")
    entry.write_text("{not json")
    assert deterrence.load(model_file).simulate(method="euler").sizes["time"] == 41


def test_cache_entries_cannot_name_other_classes(cache, model_file):
    """Only PySD's abstract-model dataclasses are ever built from a cache entry."""
    deterrence.load(model_file)
    (entry,) = cache.glob("*.json")
    content = model_file.read_bytes()
    header = {"format": amrcache.FORMAT,
              "source_sha256": hashlib.sha256(content).hexdigest()}
    entry.write_text(json.dumps(
        {**header, "model": {"__dc__": "Popen", "fields": {"args": ["touch", "x"]}}}))
    assert amrcache.load(entry.stem, content) is None
    entry.write_text(json.dumps({**header, "model": {"__ndarray__": ["a"], "dtype": "object"}}))
    assert amrcache.load(entry.stem, content) is None


def test_the_cache_can_be_switched_off(tmp_path, monkeypatch, model_file):
    monkeypatch.setenv("DETERRENCE_CACHE_DIR", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    deterrence.load(model_file)
    assert not (tmp_path / "xdg").exists()
