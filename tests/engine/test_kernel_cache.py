"""The on-disk cache of native kernels: reused by the next process, never trusted.

Each test runs fresh Python processes (the cache is for them) on its own cache folder
and asks numba's dispatcher whether a kernel was loaded from the cache or compiled:
counters, not times.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from deterrence.compile import kernel_cache

EQUATIONS = [("Stock", "INTEG(Inflow - Outflow, 100)"), ("Inflow", "Rate * 50"),
             ("Outflow", "Stock * Rate"), ("Rate", "0.1")]

# run a model natively in a new process; print which kernels came from the cache
SCRIPT = """
import json, sys
import deterrence
model = deterrence.load(sys.argv[1])
ds = model.simulate(method=sys.argv[2], backend="native")
native = model.program(frozenset(), True).native
print(json.dumps({"from_cache": native.from_cache, "entry": str(native.entry.path)
                  if native.entry else None, "stock": float(ds["stock"].values[-1])}))
"""


def run(model: Path, cache: Path | str, method: str = "euler",
        wait: bool = True) -> dict | subprocess.Popen:
    env = {**os.environ, kernel_cache.ENV_KERNELS: str(cache)}
    process = subprocess.Popen([sys.executable, "-c", SCRIPT, str(model), method], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if not wait:
        return process
    return finished(process)


def finished(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture
def model(make_model) -> Path:
    return make_model(EQUATIONS)


def test_a_second_process_loads_the_kernel_instead_of_compiling(model, tmp_path):
    cold = run(model, tmp_path / "cache")
    warm = run(model, tmp_path / "cache")
    # the run kernel and the outputs kernel of the single run
    assert cold["from_cache"] == {"euler": False, "outputs": False}
    assert warm["from_cache"] == {"euler": True, "outputs": True}
    assert warm["stock"] == cold["stock"]
    assert warm["entry"] == cold["entry"]
    manifest = json.loads((Path(cold["entry"]) / "manifest.json").read_text())
    assert manifest["numba_files"], "numba's files are recorded with their hashes"
    assert {"numba", "numpy", "llvmlite", "python", "cpu", "model_sha256"} <= set(manifest)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "manifest hash"])
def test_a_corrupt_entry_is_rebuilt(model, tmp_path, damage):
    cold = run(model, tmp_path / "cache")
    entry = Path(cold["entry"])
    kernels = entry / "kernels.py"
    if damage == "truncate":
        kernels.write_bytes(kernels.read_bytes()[:200])
    elif damage == "garbage":
        kernels.write_bytes(os.urandom(3000))
    else:
        manifest = json.loads((entry / "manifest.json").read_text())
        manifest["module_sha256"] = "0" * 64
        (entry / "manifest.json").write_text(json.dumps(manifest))
    again = run(model, tmp_path / "cache")
    assert again["from_cache"] == {"euler": False, "outputs": False}  # rebuilt, compiled
    assert again["stock"] == cold["stock"]
    assert run(model, tmp_path / "cache")["from_cache"] == {"euler": True, "outputs": True}


def test_hostile_content_planted_in_the_cache_is_never_run(model, tmp_path):
    """A planted kernel module with a manifest that vouches for it, and a planted numba
    index (a pickle that would run a command): neither is executed."""
    cold = run(model, tmp_path / "cache")
    entry = Path(cold["entry"])
    marker = tmp_path / "owned"
    hostile = (f"import pathlib\npathlib.Path({str(marker)!r}).write_text('module')\n"
               + (entry / "kernels.py").read_text())
    (entry / "kernels.py").write_text(hostile)
    manifest = json.loads((entry / "manifest.json").read_text())
    import hashlib
    manifest["module_sha256"] = hashlib.sha256(hostile.encode()).hexdigest()
    (entry / "manifest.json").write_text(json.dumps(manifest))
    again = run(model, tmp_path / "cache")
    assert not marker.exists()
    assert again["stock"] == cold["stock"]

    class Payload:
        def __reduce__(self):
            return (Path.write_text, (marker, "pickle"))

    for index in (entry / "__pycache__").glob("*_run_euler_s*.nbi"):
        index.write_bytes(pickle.dumps(Payload()))
    for index in (entry / "__pycache__").glob("*_rates*.nbi"):  # an unknown file
        index.with_name("kernels._extra-1.py311.nbi").write_bytes(pickle.dumps(Payload()))
    again = run(model, tmp_path / "cache")
    assert not marker.exists()
    # the planted index was removed and the kernel compiled; the outputs kernel's own
    # files, the ones recorded in the manifest, are still used
    assert again["from_cache"] == {"euler": False, "outputs": True}
    assert again["stock"] == cold["stock"]
    assert not list((entry / "__pycache__").glob("kernels._extra*"))


def test_two_processes_filling_the_cache_at_once(model, tmp_path):
    racing = [run(model, tmp_path / "cache", "rk4", wait=False) for _ in range(2)]
    first, second = (finished(p) for p in racing)
    assert first["stock"] == second["stock"]
    assert first["entry"] == second["entry"]
    # one compiled it; the other waited at the entry's lock and loaded it
    assert sorted([first["from_cache"]["rk4"], second["from_cache"]["rk4"]]) == [False, True]
    assert run(model, tmp_path / "cache", "rk4")["from_cache"] == {"rk4": True,
                                                                   "outputs": True}
    assert len(kernel_cache.entries(tmp_path / "cache")) == 1


def test_a_different_model_has_its_own_entry(model, make_model, tmp_path):
    other = make_model([*EQUATIONS[:3], ("Rate", "0.2")], name="other")
    a, b = run(model, tmp_path / "cache"), run(other, tmp_path / "cache")
    assert a["entry"] != b["entry"]
    assert b["from_cache"] == {"euler": False, "outputs": False}
    assert len(kernel_cache.entries(tmp_path / "cache")) == 2
    assert kernel_cache.clear(tmp_path / "cache") == 2
    assert kernel_cache.entries(tmp_path / "cache") == []


def test_the_cache_turned_off(model, tmp_path, monkeypatch):
    result = run(model, "off")
    assert result["entry"] is None
    assert result["from_cache"] == {"euler": False, "outputs": False}
    monkeypatch.setenv(kernel_cache.ENV_KERNELS, "off")
    assert kernel_cache.cache_root() is None
    monkeypatch.delenv(kernel_cache.ENV_KERNELS)
    monkeypatch.setenv(kernel_cache.ENV_DIR, str(tmp_path / "parse"))
    assert kernel_cache.cache_root() == tmp_path / "parse" / "kernels"


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_cache_others_can_write_is_not_used(model, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    result = run(model, shared)
    assert result["entry"] is None
    assert list(shared.iterdir()) == []


def test_the_cache_command(model, tmp_path, monkeypatch, capsys):
    from deterrence import cli

    run(model, tmp_path / "cache")
    monkeypatch.setenv(kernel_cache.ENV_KERNELS, str(tmp_path / "cache"))
    assert cli.main(["cache", "info"]) == 0
    assert "entries: 1 " in capsys.readouterr().out
    assert cli.main(["cache", "clear"]) == 0
    assert "removed 1 entries" in capsys.readouterr().out
    assert kernel_cache.entries(tmp_path / "cache") == []
