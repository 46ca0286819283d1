"""Fault: Ctrl-C or ``kill -9`` while results are being written.

A ``KeyboardInterrupt`` raised inside the NetCDF library used to leave xarray's global
lock held, so the process hung on close and left its hidden temporary file; a killed
writer's temporary stayed for ever. Now Ctrl-C ends ``simulate`` with status 130, no
traceback, no temporary and the previous file untouched, and the next write into the
folder removes the temporaries of writers that are gone, but never a live writer's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from deterrence import files
from deterrence.results import write_results

MODEL = """{UTF-8}
Level = INTEG(inflow - outflow, 1)
\t~\tDmnl\n\t~\t\n\t|

inflow = rate * (2 - Level)
\t~\t1/Month\n\t~\t\n\t|

outflow = 0.1 * Level
\t~\t1/Month\n\t~\t\n\t|

rate = 0.2
\t~\t1/Month\n\t~\t\n\t|

signal a = Level * 2
\t~\tDmnl\n\t~\t\n\t|

signal b = Level + inflow
\t~\tDmnl\n\t~\t\n\t|

INITIAL TIME = 0
\t~\tMonth\n\t~\t\n\t|

FINAL TIME = 2000
\t~\tMonth\n\t~\t\n\t|

TIME STEP = 0.125
\t~\tMonth\n\t~\t\n\t|

SAVEPER = 0.125
\t~\tMonth\n\t~\t\n\t|
"""
#: 300 runs x 16,001 times x 6 series: about 190 MB of NetCDF, a write that takes a while
RATES = ",".join(f"{0.1 + k * 0.001:.3f}" for k in range(300))
OLD = b"the previous results"


def _temporaries(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*.tmp"))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _start_big_write(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    """``deterrence simulate`` of a large ensemble into out.nc, once NetCDF is writing."""
    model = tmp_path / "big.mdl"
    model.write_text(MODEL, encoding="utf-8")
    out = tmp_path / "out.nc"
    out.write_bytes(OLD)
    proc = subprocess.Popen(
        [sys.executable, "-m", "deterrence", "simulate", str(model), "--method", "euler",
         "--set", f"rate={RATES}", "-o", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not any(_size(p) > 2**20 for p in _temporaries(tmp_path)):  # NetCDF is writing
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the write never started: {proc.communicate()}")
        time.sleep(0.005)
    return proc, out


def _finish(proc: subprocess.Popen) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("the interrupted write hung (deadlock on the NetCDF lock)")
    return proc.returncode, err


def test_ctrl_c_mid_write_exits_130_and_leaves_the_old_file(tmp_path: Path) -> None:
    proc, out = _start_big_write(tmp_path)
    proc.send_signal(signal.SIGINT)
    code, err = _finish(proc)
    assert code == 130, err
    assert "Traceback" not in err
    assert err.strip() == "interrupted"
    assert _temporaries(tmp_path) == []
    assert out.read_bytes() == OLD


def test_temporary_of_a_killed_writer_is_removed_by_the_next_write(tmp_path: Path) -> None:
    proc, out = _start_big_write(tmp_path)
    proc.kill()
    _finish(proc)
    (left,) = _temporaries(tmp_path)
    assert f"-{proc.pid}-" in left.name
    assert out.read_bytes() == OLD
    ds = xr.Dataset({"x": ("time", np.arange(3.0))})
    write_results(ds, tmp_path / "other.nc")  # any later write into the folder
    assert _temporaries(tmp_path) == []
    assert out.read_bytes() == OLD


def _pid_of_finished() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_only_our_stale_temporaries_are_removed(tmp_path: Path) -> None:
    host = files._host()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = _pid_of_finished()
        names = {
            "dead writer": f".a.nc.deterrence-{dead}-{host}-abcd1234.tmp",
            "live writer": f".b.nc.deterrence-{live.pid}-{host}-abcd1234.tmp",
            "this process": f".c.nc.deterrence-{os.getpid()}-{host}-abcd1234.tmp",
            "other host": f".d.nc.deterrence-{dead}-otherhost-abcd1234.tmp",
            "long idle": f".e.nc.deterrence-{live.pid}-otherhost-abcd1234.tmp",
            "not ours": ".f.nc.abcd1234.tmp",
            "user file": "notes.tmp",
        }
        for name in names.values():
            (tmp_path / name).write_bytes(b"partial")
        idle = time.time() - files.STALE_AFTER - 60
        os.utime(tmp_path / names["long idle"], (idle, idle))
        write_results(xr.Dataset({"x": ("time", np.arange(3.0))}), tmp_path / "new.nc")
        left = {p.name for p in tmp_path.iterdir()}
        assert names["dead writer"] not in left
        assert names["long idle"] not in left
        for kept in ("live writer", "this process", "other host", "not ours", "user file"):
            assert names[kept] in left, kept
    finally:
        live.kill()
        live.wait()


def test_a_ctrl_c_during_a_write_is_raised_after_it_and_the_old_file_kept(
        tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_bytes(OLD)
    seen: list[str] = []

    def write(tmp: str) -> None:
        Path(tmp).write_text("half")
        signal.raise_signal(signal.SIGINT)  # deferred: the write goes on
        seen.append("finished")

    with pytest.raises(KeyboardInterrupt):
        files.atomic_write(target, write)
    assert seen == ["finished"]
    assert target.read_bytes() == OLD
    assert _temporaries(tmp_path) == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_callers_own_sigint_handler_still_runs(tmp_path: Path) -> None:
    calls: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: calls.append(signum))
    try:
        files.atomic_write(tmp_path / "x.txt",
                           lambda tmp: (Path(tmp).write_text("x"),
                                        signal.raise_signal(signal.SIGINT)))
        assert calls == [signal.SIGINT]
        assert (tmp_path / "x.txt").read_text() == "x"  # the handler did not stop it
    finally:
        signal.signal(signal.SIGINT, previous)
