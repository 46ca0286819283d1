"""The integration method a model file declares, read as data.

Vensim keeps its settings after the sketch, from a line ``:L\\x7f<%^E!@``; the line
``15:a,b,c,METHOD,e,f`` holds the integration type as its fourth comma-separated
integer (0 Euler, 1 RK4; what Vensim and its converter xmutil write, and what simlin
reads). A file without the block (a text-only model) declares nothing, and Vensim
then integrates with Euler. XMILE declares it as ``<sim_specs method="...">`` (default
Euler in the XMILE standard). Nothing in the file is evaluated: the Vensim line is
split on commas and each field must be a whole number; the XMILE attribute is read
with entity resolution and the network off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import UnsupportedError

#: Vensim's integration type codes that the engine runs as Vensim does
VENSIM_METHODS = {0: "euler", 1: "rk4"}
#: a code Vensim writes for a method the engine does not have, so an error names it
#: (any other code is named by its number)
VENSIM_OTHERS = {3: "Runge-Kutta 2"}
#: XMILE method names (case-insensitive) -> the engine's
XMILE_METHODS = {"euler": "euler", "rk4": "rk4", "rk45": "RK45"}

_SETTINGS = re.compile(r"^:L\x7f?<%\^E!@[ \t]*\r?$", re.MULTILINE)
_TYPE_LINE = re.compile(r"^15:([^\r\n]*)", re.MULTILINE)


@dataclass(frozen=True)
class DeclaredMethod:
    """What the file says: ``method`` (the engine's name; None if the file declares one
    the engine cannot run), ``source`` (where it was read, for the Dataset's attrs) and,
    for an unsupported one, ``unsupported`` (what the file declares)."""

    method: str | None
    source: str
    unsupported: str | None = None
    reason: str = ("which the engine does not run as Vensim does (it runs integration "
                   "types 0, Euler, and 1, RK4)")

    def require(self, path: Path) -> str:
        """The method, or an UnsupportedError naming what the file declares."""
        if self.method is not None:
            return self.method
        raise UnsupportedError(
            f"the model declares {self.unsupported} in {self.source}, {self.reason}",
            path=path, hint="choose a method: --method on simulate, solver= or "
            "solver.method= on run (euler, rk4 or an adaptive method)")


def declared_method(path: Path, content: bytes) -> DeclaredMethod:
    """The integration method ``content`` (the bytes of ``path``) declares."""
    text = content.decode("utf-8", errors="replace")
    if path.suffix.lower() == ".mdl":
        return _vensim(text)
    return _xmile(content)


def _vensim(text: str) -> DeclaredMethod:
    marker = _SETTINGS.search(text)
    line = _TYPE_LINE.search(text, marker.end()) if marker else None
    if line is None:
        return DeclaredMethod("euler", "Euler: the file declares no integration type "
                              "(Vensim's default)")
    fields = [f.strip() for f in line.group(1).split(",")]
    if len(fields) < 4 or not fields[3].isdigit():
        return DeclaredMethod(None, "the file's Vensim settings", unsupported=(
            f"an integration type line 15:{line.group(1)[:40]!r} that is not "
            "Vensim's (the fourth field must be a whole number)"))
    code = int(fields[3])
    if code in VENSIM_METHODS:
        method = VENSIM_METHODS[code]
        return DeclaredMethod(method, f"{method}: the file's Vensim settings (integration "
                              f"type {code})")
    what = VENSIM_OTHERS.get(code, f"integration type {code}")
    return DeclaredMethod(None, "the file's Vensim settings (line 15)",
                          unsupported=what if code not in VENSIM_OTHERS
                          else f"{what} (integration type {code})")


def _xmile(content: bytes) -> DeclaredMethod:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True,
                             huge_tree=False)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError:
        root = None
    specs = [] if root is None else list(root.iter("{*}sim_specs"))
    declared = specs[0].get("method") if specs else None
    if declared is None:
        return DeclaredMethod("euler", "Euler: the file's sim_specs declare no method "
                              "(XMILE's default)")
    method = XMILE_METHODS.get(declared.strip().lower())
    if method is None:
        return DeclaredMethod(None, "the file's sim_specs",
                              unsupported=f"method {declared[:40]!r}")
    return DeclaredMethod(method, f"{method}: the file's sim_specs (method={declared!r})")
