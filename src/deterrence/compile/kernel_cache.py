"""The on-disk cache of native kernels: compiled once per model and machine, then reused.

Numba caches machine code only for functions that live in a real source file, so each
model's generated kernel module (:mod:`.emit_native`, built as AST over generated
identifiers, numbers and this package's own code) is written to
``<root>/<key>/kernels.py`` and numba's ``cache=True`` keeps the machine code in
the ``__pycache__`` beside it. ``<key>`` is the sha256 of the model file's sha256, the
kernel source's sha256 and the versions that change machine code (deterrence, numba,
numpy, llvmlite, Python, the CPU): any change gives a new entry.

Nothing in an entry is trusted. The module is executed only if its bytes hash to the
source generated in this process (the key already names that hash), never because a
manifest says so; numba's index and object files (pickles) are kept only if they are the
ones recorded in ``manifest.json`` when this package wrote them, anything else in the
entry is deleted before numba looks. The root and each entry must belong to the user and
not be writable by others (POSIX), else the cache is not used. A corrupt, truncated or
foreign entry is thus rebuilt, never run. Two processes filling one entry take turns on a
lock file in it (``fcntl.flock``; elsewhere the atomic renames alone keep it whole); every
file is written to a temporary name and renamed into place.

Where: :func:`cache_root` (``kernels`` beside the parse cache, or
``$DETERRENCE_KERNEL_CACHE_DIR``; ``off`` turns it off). At most
:data:`MAX_ENTRIES` entries are kept (the least recently used go first); ``deterrence
cache info`` and ``deterrence cache clear`` show and empty it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import platform
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from ..files import atomic_write_text

log = logging.getLogger("deterrence")

ENV_DIR = "DETERRENCE_CACHE_DIR"
ENV_KERNELS = "DETERRENCE_KERNEL_CACHE_DIR"
_OFF = ("off", "0", "none", "false")
MAX_ENTRIES = 200  # about 1 MB each (the kernel module and numba's machine code)
_MODULE = "kernels.py"
_MANIFEST = "manifest.json"
_NUMBA = "__pycache__"
_FORMAT = 1
_PROCESS_LOCK = threading.Lock()
_LOADED: dict[str, ModuleType] = {}


def cache_root() -> Path | None:
    """The folder of the kernel entries; None when the cache is off.

    ``$DETERRENCE_KERNEL_CACHE_DIR`` if set, else ``kernels`` in ``$DETERRENCE_CACHE_DIR``
    (the parse cache's folder, :mod:`deterrence.frontend.amrcache`), else
    ``$XDG_CACHE_HOME/deterrence/kernels`` or ``~/.cache/deterrence/kernels``.
    ``off`` (or ``0``, ``none``, ``false``) in either variable turns the cache off."""
    for variable, sub in ((ENV_KERNELS, ""), (ENV_DIR, "kernels")):
        setting = os.environ.get(variable, "").strip()
        if setting.lower() in _OFF:
            return None
        if setting:
            return Path(setting).expanduser() / sub
    if sys.platform == "win32":  # pragma: no cover - not tested here
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "deterrence" / "kernels"


def versions() -> dict[str, str]:
    """What the machine code depends on besides the source."""
    from importlib.metadata import PackageNotFoundError, version

    import llvmlite
    import llvmlite.binding as llvm
    import numba
    import numpy

    try:
        ours = version("deterrence")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        ours = "unknown"

    return {"format": str(_FORMAT), "deterrence": ours, "numba": numba.__version__,
            "numpy": numpy.__version__, "llvmlite": llvmlite.__version__,
            "python": f"{sys.implementation.name} {sys.version}",
            "machine": platform.machine(),
            "cpu": f"{llvm.get_host_cpu_name()} {llvm.get_host_cpu_features().flatten()}"}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _private(path: Path) -> bool:
    """Owned by this user and writable by nobody else (always true off POSIX)."""
    if not hasattr(os, "getuid"):  # pragma: no cover - Windows
        return True
    st = path.stat()
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


@dataclass
class Entry:
    """One model's kernels on disk: ``source`` is what ``kernels.py`` must contain."""

    path: Path
    key: str
    source: str
    facts: dict[str, str]

    @property
    def module_file(self) -> Path:
        return self.path / _MODULE

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """This entry to this process alone (other processes wait at the lock file)."""
        with _PROCESS_LOCK:
            self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
            with open(self.path / ".lock", "a+b") as handle:
                try:
                    import fcntl
                except ImportError:  # pragma: no cover - Windows: renames only
                    yield
                    return
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    def load(self, namespace: dict[str, Any]) -> ModuleType:
        """The verified kernel module, rebuilt first if the entry is not exactly ours.

        Call under :meth:`locked`. ``namespace`` holds the module's globals set before it
        runs (``_CACHE``)."""
        name = "_deterrence_kernels_" + self.key[:32]
        module = _LOADED.get(self.key)
        if module is not None:
            return module
        expected = self.source.encode("utf-8")
        if not _private(self.path) or not _private(self.path.parent):
            raise PermissionError(f"{self.path} is writable by other users")
        try:
            present = self.module_file.read_bytes()
        except OSError:
            present = None
        manifest = self._manifest()
        if present != expected or manifest.get("module_sha256") != _sha256(expected):
            if present is not None:
                log.warning("kernel cache entry %s did not match its kernel; rebuilt",
                            self.path)
            self._rebuild(expected)
            manifest = self._manifest()
        self._prune_numba_files(manifest.get("numba_files", {}))
        module = ModuleType(name)
        module.__file__ = str(self.module_file)
        module.__dict__.update(namespace)
        code = compile(expected, str(self.module_file), "exec", dont_inherit=True)
        sys.modules[name] = module  # numba's cached environments import it by name
        try:
            with _in_tree_numba_cache():
                exec(code, module.__dict__)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        _LOADED[self.key] = module
        return module

    def seal(self) -> None:
        """Record numba's files as they are now (call under :meth:`locked`, after a
        compile), so a later load keeps them and deletes anything else."""
        folder = self.path / _NUMBA
        files = {p.name: _sha256(p.read_bytes()) for p in sorted(folder.glob("*"))
                 if p.is_file() and p.suffix in (".nbi", ".nbc")} if folder.is_dir() else {}
        manifest = self._manifest()
        if manifest.get("numba_files") != files:
            manifest["numba_files"] = files
            atomic_write_text(self.path / _MANIFEST, json.dumps(manifest, indent=1))
        else:
            os.utime(self.path / _MANIFEST)  # recently used, for the entry limit

    def _manifest(self) -> dict[str, Any]:
        try:
            data = json.loads((self.path / _MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) and data.get("key") == self.key else {}

    def _rebuild(self, expected: bytes) -> None:
        for child in self.path.iterdir():
            if child.name == ".lock":
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
        atomic_write_text(self.module_file, expected.decode("utf-8"))
        os.chmod(self.module_file, 0o600)
        manifest = {"key": self.key, "module_sha256": _sha256(expected), "numba_files": {},
                    "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    **self.facts}
        atomic_write_text(self.path / _MANIFEST, json.dumps(manifest, indent=1))
        trim(MAX_ENTRIES, self.path.parent)  # this entry is the most recently used

    def _prune_numba_files(self, known: dict[str, str]) -> None:
        folder = self.path / _NUMBA
        if not folder.exists():
            return
        if folder.is_symlink() or not folder.is_dir() or not _private(folder):
            shutil.rmtree(folder, ignore_errors=True) if folder.is_dir() \
                and not folder.is_symlink() else folder.unlink(missing_ok=True)
            return
        for child in folder.iterdir():
            ok = child.is_file() and not child.is_symlink() and \
                known.get(child.name) == _sha256(child.read_bytes())
            if not ok:
                log.info("kernel cache: removed %s (not written by this package)", child)
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)


@contextlib.contextmanager
def _in_tree_numba_cache() -> Iterator[None]:
    """Numba's cache beside the module (its ``__pycache__``), even if the user set
    ``NUMBA_CACHE_DIR`` for their own code: our manifest vouches for that folder only."""
    from numba.core import config

    saved = config.CACHE_DIR
    config.CACHE_DIR = ""
    try:
        yield
    finally:
        config.CACHE_DIR = saved


def entry_for(model_sha256: str, source: str) -> Entry | None:
    """The cache entry of a kernel module, or None if the cache is off or unusable."""
    root = cache_root()
    if root is None:
        return None
    facts = {"model_sha256": model_sha256,
             "source_sha256": _sha256(source.encode("utf-8")), **versions()}
    key = _sha256(json.dumps(facts, sort_keys=True).encode("utf-8"))
    folder = root
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(folder):
            raise PermissionError(f"{folder} is writable by other users")
    except OSError as exc:
        _warn_once(f"the kernel cache at {folder} is not used ({exc}); each process "
                   f"compiles its kernels (set ${ENV_DIR} to a folder of your own)")
        return None
    return Entry(folder / key[:40], key, source, facts)


_WARNED: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _WARNED:
        _WARNED.add(message)
        log.warning("%s", message)


def entries(root: Path | None = None) -> list[Path]:
    """The cache's entries, least recently used first."""
    folder = root or cache_root()
    if folder is None or not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.is_dir() and not p.is_symlink()]
    return sorted(found, key=lambda p: _used(p))


def _used(path: Path) -> float:
    try:
        return (path / _MANIFEST).stat().st_mtime
    except OSError:
        return 0.0


def size_of(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and
               not f.is_symlink())


def trim(keep: int = MAX_ENTRIES, root: Path | None = None) -> int:
    """Remove the least recently used entries beyond ``keep`` (skipping any another
    process holds); the number removed."""
    removed = 0
    found = entries(root)
    for path in found[:max(len(found) - keep, 0)]:
        if _remove_unlocked(path):
            removed += 1
    return removed


def _remove_unlocked(path: Path) -> bool:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        shutil.rmtree(path, ignore_errors=True)
        return True
    try:
        with open(path / ".lock", "a+b") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False  # in use
            shutil.rmtree(path, ignore_errors=True)
    except OSError:
        return False
    return True


def clear(root: Path | None = None) -> int:
    """Remove every entry no process is using; the number removed."""
    return trim(0, root)
