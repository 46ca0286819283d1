"""Names: the one place that turns a model's names into keys and Python names, and
suggests the closest name when one is misspelt."""

from __future__ import annotations

import difflib
import keyword
import re
import unicodedata
from collections.abc import Iterable

#: Dataset names a variable may not take: the time and run coordinates.
RESERVED = ("time", "run")


def clean_key(name: str) -> str:
    """Vensim's identity of a name: case-insensitive, spaces and underscores alike."""
    return re.sub(r"[\s_]+", "_", name.strip().strip('"').lower()).strip("_")


def python_name(name: str, used: set[str]) -> str:
    """A Python-safe, unique, readable identifier for a variable name.

    'Mutual Trust' -> 'mutual_trust'; accents dropped; a leading digit gets 'nvs_'.
    """
    s = unicodedata.normalize("NFD", name.strip().strip('"').lower())
    s = s.encode("ascii", "ignore").decode("ascii")
    s = re.sub(r"[\s_]+", "_", s)
    s = re.sub(r"[^0-9a-z_]", "", s)
    s = re.sub(r"_+", "_", s).strip("_")
    if not s or s[0].isdigit():
        s = "nvs_" + s
    candidate, i = s, 1
    while candidate in used or keyword.iskeyword(candidate) or candidate in RESERVED:
        candidate = f"{s}_{i}"
        i += 1
    used.add(candidate)
    return candidate


def close_matches(word: str, options: Iterable[str], n: int = 3,
                  cutoff: float = 0.6) -> list[str]:
    """The options closest to a misspelt ``word``, best first ("did you mean ...")."""
    return difflib.get_close_matches(word, list(options), n=n, cutoff=cutoff)
