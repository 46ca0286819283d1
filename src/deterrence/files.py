"""Writing files so that nothing is lost: a temporary file beside the target, then a rename.

A reader (or a crashed or killed job) never sees half a file, and an existing file is
replaced only once the new one is complete. Results, figures and sweep records all go
through :func:`atomic_write`.

Ctrl-C during a write is deferred to the next :func:`interruption_point` (the end of the
write at the latest): raised inside the NetCDF library, a ``KeyboardInterrupt`` leaves
xarray's global lock held and the process hangs on close. An interrupted write removes
its temporary file and leaves the previous file as it was. Temporaries left by a killed
writer (``kill -9``, a power cut) carry the writer's host and pid in their name, so the
next write into the folder removes those whose writer is gone, and any not touched for
:data:`STALE_AFTER` seconds; a concurrent writer's temporary is left alone.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import socket
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from .errors import ModelError

#: A temporary not modified for this long is abandoned whoever wrote it (seconds).
STALE_AFTER = 24 * 3600.0
_TEMP = re.compile(r"^\..+\.deterrence-(?P<pid>\d+)-(?P<host>[A-Za-z0-9-]*)-[A-Za-z0-9_]+\.tmp$")
_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
_DENIED = {errno.EACCES, errno.EPERM, errno.EROFS}


class WriteError(ModelError, OSError):
    """A file could not be written: names the file and the operating system's reason.

    Also an ``OSError``, so callers that caught the operating system's error still do.
    """


def write_error(target: Path, reason: str, cause: BaseException | None = None) -> WriteError:
    """The one-line error for a failed write of ``target``, with a hint for common causes."""
    number = getattr(cause, "errno", None)
    hint = ("free some space or choose another folder" if number in _FULL else
            "choose a folder you can write to" if number in _DENIED else None)
    return WriteError(f"cannot write the file: {reason}", path=target, hint=hint)


# --------------------------------------------------------------------------- interrupts

_pending: list[FrameType | None] | None = None  # SIGINTs received while deferred
_previous_handler: Any = signal.default_int_handler  # the handler to deliver them to


def interruption_point() -> None:
    """Raise a Ctrl-C received while writing, now that no library lock is held."""
    if _pending:
        frame = _pending[0]
        _pending.clear()
        _deliver(_previous_handler, frame)


def _deliver(handler: Any, frame: FrameType | None) -> None:
    if handler is signal.default_int_handler or handler in (signal.SIG_DFL, None):
        raise KeyboardInterrupt
    if callable(handler):
        handler(signal.SIGINT, frame)


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold SIGINT back while a file is being written (main thread only; re-entrant)."""
    global _pending, _previous_handler
    if _pending is not None or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN:
        yield
        return
    received: list[FrameType | None] = []

    def record(signum: int, frame: FrameType | None) -> None:
        received.append(frame)

    _pending, _previous_handler = received, previous
    signal.signal(signal.SIGINT, record)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _pending, _previous_handler = None, signal.default_int_handler
        if received:
            _deliver(previous, received[0])


# --------------------------------------------------------------------------- temporaries


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40]


def _temp_prefix(target: Path) -> str:
    return f".{target.name}.deterrence-{os.getpid()}-{_host()}-"


def _writer_gone(pid: int, host: str) -> bool:
    if host != _host() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        return False
    return False


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete temporaries of our naming in ``folder`` whose writer is dead or long idle."""
    removed = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP.match(entry.name)
        if match is None:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode):
                continue
            if (_writer_gone(int(match["pid"]), match["host"])
                    or now - info.st_mtime > STALE_AFTER):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:  # gone already, or not ours to remove
            continue
    return removed


# --------------------------------------------------------------------------- writing


def _special(target: Path) -> bool:
    """An existing target that is not a regular file (``/dev/stdout``, a FIFO, a device)."""
    try:
        mode = os.stat(target).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def atomic_write(path: str | os.PathLike[str], write: Callable[[str], object]) -> Path:
    """Call ``write(tmp_name)`` to fill a temporary file, then rename it over ``path``.

    A target that is a device or pipe is written directly: renaming over it would
    replace the device. Operating-system failures raise :class:`WriteError` naming
    ``path``; a Ctrl-C removes the temporary and leaves the old file.
    """
    target = Path(path)
    try:
        if _special(target):
            with interrupts_deferred():
                write(str(target))
        else:
            _write_and_rename(target, write)
    except (WriteError, BrokenPipeError):  # a closed pipe is the reader's choice
        raise
    except OSError as exc:
        raise write_error(target, exc.strerror or str(exc), exc) from exc
    return target


def _write_and_rename(target: Path, write: Callable[[str], object]) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:  # a file where a folder should be
        blocking = next((p for p in (target.parent, *target.parent.parents)
                         if p.exists() and not p.is_dir()), target.parent)
        raise write_error(target, f"{blocking} is a file, not a folder", exc) from exc
    with interrupts_deferred():
        remove_stale_temporaries(target.parent)
        fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(target), suffix=".tmp",
                                   dir=target.parent)
        os.close(fd)
        try:
            write(tmp)
            interruption_point()
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; results are shared
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
