"""Fault: the operating system says no (a folder that cannot be written, a full disk,
a damaged results file, a reader that has gone away).

Each used to end in a traceback. Each must now be one ``error:`` line naming the file,
with status 1 (the system's problem) or 2 (the input's), and leave no temporary file; a
closed pipe (``deterrence info model.mdl | head -1``) ends quietly, as Unix tools do.
A ValueError raised inside a library is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import deterrence
from deterrence import cli

MODEL = """{UTF-8}
Level = INTEG(inflow, 1)
\t~\tDmnl\n\t~\tA level.\n\t|

inflow = rate * (2 - Level)
\t~\t1/Month\n\t~\t\n\t|

rate = 0.2
\t~\t1/Month\n\t~\t\n\t|

INITIAL TIME = 0
\t~\tMonth\n\t~\t\n\t|

FINAL TIME = 400
\t~\tMonth\n\t~\t\n\t|

TIME STEP = 0.125
\t~\tMonth\n\t~\t\n\t|

SAVEPER = 0.125
\t~\tMonth\n\t~\t\n\t|
"""
OLD = b"the previous results"


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "model.mdl"
    path.write_text(MODEL, encoding="utf-8")
    return path


def _deterrence(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "deterrence", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "MPLBACKEND": "Agg"},
                          **kwargs)


def _one_error_line(done: subprocess.CompletedProcess, code: int, *fragments: str) -> str:
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def _no_temporaries(folder: Path) -> None:
    assert sorted(folder.glob(".*.tmp")) == []


@pytest.mark.parametrize("suffix", [".csv", ".nc"])
def test_a_full_disk(model: Path, tmp_path: Path, suffix: str) -> None:
    """/dev/full answers every write with ENOSPC; a results name can point at it."""
    target = tmp_path / f"full{suffix}"
    target.symlink_to("/dev/full")
    done = _deterrence("simulate", str(model), "-o", str(target))
    _one_error_line(done, 1, str(target), "cannot write")
    assert os.path.realpath(target) == "/dev/full"  # written to, never renamed over
    _no_temporaries(tmp_path)


def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # then a write past the limit: EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))


@pytest.mark.parametrize("suffix", [".csv", ".nc"])
def test_the_disk_fills_during_the_write(model: Path, tmp_path: Path, suffix: str) -> None:
    """A file-size limit stops the write part-way, as a full disk would."""
    target = tmp_path / f"out{suffix}"
    target.write_bytes(OLD)
    done = _deterrence("simulate", str(model), "--method", "euler", "-o", str(target),
                       preexec_fn=_limit_file_size)
    _one_error_line(done, 1, str(target), "cannot write")
    assert target.read_bytes() == OLD
    _no_temporaries(tmp_path)


def test_no_space_left_is_reported_with_what_to_do(model: Path, tmp_path: Path,
                                                   monkeypatch, capsys) -> None:
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(xr.Dataset, "to_netcdf", full)
    target = tmp_path / "out.nc"
    code = cli.main(["simulate", str(model), "-o", str(target)])
    err = capsys.readouterr().err
    assert code == 1
    assert err == (f"error: {target}: cannot write the file: No space left on device "
                   "(free some space or choose another folder)\n")
    _no_temporaries(tmp_path)


def test_a_folder_that_cannot_be_written(model: Path, tmp_path: Path, monkeypatch,
                                         capsys) -> None:
    def denied(*args, dir=None, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), dir)

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    target = tmp_path / "locked" / "out.csv"
    code = cli.main(["simulate", str(model), "-o", str(target)])
    err = capsys.readouterr().err
    assert code == 1
    assert err == (f"error: {target}: cannot write the file: Permission denied "
                   "(choose a folder you can write to)\n")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder(model: Path, tmp_path: Path) -> None:
    folder = tmp_path / "readonly"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        done = _deterrence("simulate", str(model), "-o", str(folder / "out.nc"))
        _one_error_line(done, 1, str(folder / "out.nc"), "Permission denied")
    finally:
        folder.chmod(0o755)


def test_a_file_where_the_output_folder_should_be(model: Path, tmp_path: Path) -> None:
    (tmp_path / "results").write_text("a file")
    target = tmp_path / "results" / "run1" / "out.nc"
    done = _deterrence("simulate", str(model), "-o", str(target))
    _one_error_line(done, 1, str(target), f"{tmp_path / 'results'} is a file, not a folder")


@pytest.fixture
def results(tmp_path: Path) -> Path:
    path = tmp_path / "results.nc"
    t = np.arange(200.0)
    xr.Dataset({"level": ("time", np.sin(t)), "other": ("time", np.cos(t))},
               coords={"time": t}).to_netcdf(path)
    return path


@pytest.mark.parametrize("damage", ["truncated", "empty", "not netcdf"])
def test_plot_of_a_damaged_results_file(results: Path, tmp_path: Path, damage: str) -> None:
    data = results.read_bytes()
    results.write_bytes({"truncated": data[: len(data) // 2], "empty": b"",
                         "not netcdf": b"Time,Level\n0,1\n"}[damage])
    done = _deterrence("plot", str(results), "--out", str(tmp_path / "fig.png"))
    _one_error_line(done, 2, str(results), "cannot read the results")
    assert not (tmp_path / "fig.png").exists()


def test_plot_into_a_folder_that_is_a_file(results: Path, tmp_path: Path) -> None:
    (tmp_path / "figures").write_text("a file")
    out = tmp_path / "figures" / "fig.png"
    done = _deterrence("plot", str(results), "--out", str(out))
    _one_error_line(done, 1, str(out), "is a file, not a folder")


def _closed_pipe() -> int:
    """The write end of a pipe whose reader has already gone."""
    read, write = os.pipe()
    os.close(read)
    return write


@pytest.mark.parametrize("command", [["info"], ["simulate"], ["diagram", "--loops"]])
def test_a_closed_pipe_ends_the_output_quietly(model: Path, command: list[str]) -> None:
    """``deterrence info model.mdl | head -1``: the reader left, so stop, as cat does."""
    write = _closed_pipe()
    try:
        done = subprocess.run([sys.executable, "-m", "deterrence", command[0], str(model),
                               *command[1:]], stdout=write, stderr=subprocess.PIPE,
                              text=True, timeout=120, env={**os.environ, "MPLBACKEND": "Agg"})
    finally:
        os.close(write)
    assert done.returncode == 1
    assert done.stderr == ""


@pytest.mark.parametrize("command", ["info", "simulate"])
def test_standard_output_on_a_full_disk_is_named(model: Path, command: str) -> None:
    """``deterrence info model.mdl > listing.txt`` on a full disk (here /dev/full)."""
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "deterrence", command, str(model)],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr == "error: standard output: No space left on device\n"


def test_a_bug_inside_a_library_keeps_its_traceback(model: Path, monkeypatch) -> None:
    """Only the package's own errors (and the system's) become one line."""
    def broken(*args, **kwargs):
        raise ValueError("a bug in a library")

    monkeypatch.setattr(np, "median", broken)
    with pytest.raises(ValueError, match="a bug in a library"):
        cli.main(["simulate", str(model), "--set", "rate=0.1,0.2"])


@pytest.mark.parametrize("error", [KeyError("x"), ValueError("bad"), TypeError("t")])
def test_a_bug_inside_the_engine_keeps_its_traceback(model: Path, monkeypatch,
                                                     error: Exception) -> None:
    """An engine bug must not print as ``error: 'x'``: only ModelError is the user's."""
    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(deterrence.Model, "simulate", broken)
    with pytest.raises(type(error)):
        cli.main(["simulate", str(model)])
