"""A cache of parsed models, as JSON, so each process does not parse the same file again.

PySD's parser takes a noticeable part of a second on a model of a few hundred
equations, and every process of a sweep (a launcher's worker, a cluster job, a fresh
``deterrence run``) would pay it. The abstract model it produces is plain dataclasses of
numbers, strings and tuples, so it is stored as JSON keyed by the sha256 of the file's
bytes, the PySD version and this format's version. Loading only ever builds the
dataclasses of PySD's abstract-model modules named in an allowlist: the cache is data,
never code. Each entry also records the sha256 of the source it was parsed from, checked
on load, so an entry copied over another's name is ignored, as is any entry that fails to
load for any reason; either way the file is parsed again.

Where: ``$DETERRENCE_CACHE_DIR``, else ``$XDG_CACHE_HOME/deterrence/models``, else
``~/.cache/deterrence/models``; ``DETERRENCE_CACHE_DIR=off`` disables it. Bound: after
each write the least recently used entries are removed until the folder holds at most
``$DETERRENCE_CACHE_MAX_MB`` megabytes (default 256).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from pysd.translators.structures import abstract_expressions as ae
from pysd.translators.structures import abstract_model as am

from ..files import atomic_write_text
from . import normalise

FORMAT = 2  # 2: entries carry the source's sha256 and the parse's notes
MAX_MB = 256.0
_CLASSES = {name: cls for module in (am, ae) for name, cls in vars(module).items()
            if isinstance(cls, type) and dataclasses.is_dataclass(cls)}


def cache_dir() -> Path | None:
    setting = os.environ.get("DETERRENCE_CACHE_DIR", "")
    if setting.lower() in ("off", "0", "none", "false"):
        return None
    if setting:
        return Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "deterrence" / "models"


def key(content: bytes, suffix: str) -> str:
    """The entry's name: the file's bytes, its suffix, the PySD version, this format and,
    for Vensim files, the version of the normalisation applied before parsing."""
    variant = f"normalise {normalise.VERSION}" if suffix.lower() == ".mdl" else ""
    try:
        pysd_version = metadata.version("pysd")
    except metadata.PackageNotFoundError:  # pragma: no cover
        pysd_version = "unknown"
    digest = hashlib.sha256(content)
    digest.update(f"|{suffix}|pysd {pysd_version}|format {FORMAT}|{variant}".encode())
    return digest.hexdigest()


def load(cache_key: str, content: bytes) -> tuple[am.AbstractModel, list[str]] | None:
    """The cached abstract model and the parse's notes for the file whose bytes are
    ``content``, or None: absent, unreadable, from another format or another source."""
    folder = cache_dir()
    if folder is None:
        return None
    path = folder / f"{cache_key}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT or data.get("source_sha256") != _sha256(content):
            return None
        model = _decode(data["model"])
        notes = data.get("notes", [])
        if not isinstance(model, am.AbstractModel) or not all(
            isinstance(n, str) for n in notes
        ):
            return None
        os.utime(path)  # most recently used: evicted last
    except Exception:  # any broken entry (deep nesting, wrong types): parse again
        return None
    return model, list(notes)


def store(cache_key: str, content: bytes, model: am.AbstractModel,
          notes: list[str] | None = None) -> None:
    """Save the abstract model; a cache that cannot be written is simply skipped."""
    folder = cache_dir()
    if folder is None:
        return
    try:
        entry = {"format": FORMAT, "source_sha256": _sha256(content),
                 "notes": list(notes or []), "model": _encode(model)}
        atomic_write_text(folder / f"{cache_key}.json", json.dumps(entry))
    except (OSError, TypeError, ValueError, RecursionError):
        return
    evict(folder)


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def max_bytes() -> int:
    setting = os.environ.get("DETERRENCE_CACHE_MAX_MB", "").strip()
    try:
        limit = float(setting) if setting else MAX_MB
    except ValueError:
        limit = MAX_MB
    return int(max(limit, 0) * 1024 * 1024)


def evict(folder: Path, limit: int | None = None) -> list[Path]:
    """Remove least recently used entries until the folder is within ``limit`` bytes.

    Entries being written by another process (their temporaries) are not touched, and
    an entry another process removed first is skipped. Returns the removed entries.
    """
    limit = max_bytes() if limit is None else limit
    entries = []
    for path in folder.glob("*.json"):
        try:
            stat = path.stat()
        except OSError:
            continue
        entries.append((stat.st_mtime, stat.st_size, path))
    total = sum(size for _, size, _ in entries)
    removed = []
    for _, size, path in sorted(entries):
        if total <= limit:
            break
        try:
            path.unlink()
        except OSError:
            continue
        total -= size
        removed.append(path)
    return removed


def _encode(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        name = type(obj).__name__
        if _CLASSES.get(name) is not type(obj):
            raise TypeError(f"{name} is not an abstract-model class")
        return {"__dc__": name, "fields": {f.name: _encode(getattr(obj, f.name))
                                           for f in dataclasses.fields(obj)}}
    if isinstance(obj, bool | int | float | str) or obj is None:
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(x) for x in obj]}
    if isinstance(obj, list):
        return [_encode(x) for x in obj]
    if isinstance(obj, dict):
        return {"__dict__": [[_encode(k), _encode(v)] for k, v in obj.items()]}
    if isinstance(obj, np.ndarray):
        return {"__ndarray__": obj.tolist(), "dtype": str(obj.dtype)}
    if isinstance(obj, Path):
        return {"__path__": str(obj)}
    raise TypeError(f"cannot cache a {type(obj).__name__}")


def _decode(obj: Any) -> Any:
    if isinstance(obj, list):
        return [_decode(x) for x in obj]
    if not isinstance(obj, dict):
        return obj
    if "__dc__" in obj:
        cls = _CLASSES[obj["__dc__"]]  # KeyError for anything outside the allowlist
        return cls(**{k: _decode(v) for k, v in obj["fields"].items()})
    if "__tuple__" in obj:
        return tuple(_decode(x) for x in obj["__tuple__"])
    if "__dict__" in obj:
        return {_decode(k): _decode(v) for k, v in obj["__dict__"]}
    if "__ndarray__" in obj:
        dtype = np.dtype(obj["dtype"])
        if dtype.kind not in "fiub":  # numbers only
            raise ValueError(f"unexpected array type {dtype}")
        return np.asarray(obj["__ndarray__"], dtype=dtype)
    if "__path__" in obj:
        return Path(obj["__path__"])
    raise ValueError("unknown cache entry")
