"""Vensim text that Vensim accepts and PySD's grammar refuses, rewritten before parsing.

PySD's Vensim translator is used as it is (never patched); a few constructs that Vensim
reads and its grammar does not are rewritten here first, each by one small rule below,
in the order of :data:`RULES`. Every rule keeps the text's length, line by line (a
character is replaced by another, or by a space; a newline is never added or removed),
so the line numbers of every diagnostic stay those of the file. The normalised text is
what PySD parses and what line look-ups search; the parse cache's key includes
:data:`VERSION`, so changing a rule re-parses cached models.

Equations with Vensim's placeholder (an equation not written yet) are refused by
:func:`check_placeholders` with an error naming the variable and its line; macros whose
header PySD's grammar reads but whose calls it cannot (extra outputs) or that it cannot
read at all (no inputs) by :func:`check_macros`, naming the macro and its caller.

The text is only ever read and rewritten as text: nothing in it is evaluated.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from ..errors import ModelSyntaxError, UnsupportedError

#: bump when a rule changes what PySD is given (part of the parse cache's key);
#: 2: newlines read as Python's text mode reads them
VERSION = 2

SKETCH_MARK = "\\\\\\---///"


class Span(NamedTuple):
    """A part of the file: ``code`` (an equation, outside quotes and comments),
    ``quoted`` (a "quoted name"), ``comment`` ({...} inside an equation, braces
    included), ``meta`` (units, documentation and flags, after the first ``~`` of an
    entry up to its ``|``) or ``rest`` (the ``{UTF-8}`` marker, the sketch)."""

    kind: str
    start: int
    end: int


_SPECIAL = re.compile(r'["{~|]')


def scan(text: str) -> list[Span]:
    """Split the text into spans (see :class:`Span`); together they cover it all.

    An entry is everything up to its ``|``; its equation part is what comes before its
    first ``~``. Braces nest inside a comment; an unclosed ``{`` or ``"`` is left to PySD
    (it runs to the end of the equation part, as code, and PySD reports it).
    """
    spans: list[Span] = []
    end = text.find(SKETCH_MARK)
    end = len(text) if end < 0 else end
    i = 0
    header = re.match(r"\s*\{UTF-8\}", text)
    if header:
        spans.append(Span("rest", 0, header.end()))
        i = header.end()
    code_start = i
    in_meta = False
    while i < end:
        if in_meta:  # units and documentation: only the "|" that ends the entry counts
            bar = text.find("|", i, end)
            if bar < 0:
                break
            spans.append(Span("meta", code_start, bar + 1))
            code_start, in_meta, i = bar + 1, False, bar + 1
            continue
        special = _SPECIAL.search(text, i, end)
        if special is None:
            break
        i = special.start()
        c = text[i]
        close = _closing(text, i, end) if c in '"{' else i
        if close is None:  # unclosed: leave it to PySD's own error
            i += 1
            continue
        if code_start < i:
            spans.append(Span("code", code_start, i))
        if c == "~":
            code_start, in_meta = i, True
            i += 1
            continue
        if c == "|":
            spans.append(Span("code", i, i + 1))
            code_start = i = i + 1
            continue
        spans.append(Span("quoted" if c == '"' else "comment", i, close + 1))
        code_start = i = close + 1
    if code_start < end:
        spans.append(Span("meta" if in_meta else "code", code_start, end))
    if end < len(text):
        spans.append(Span("rest", end, len(text)))
    return spans


_QUOTE_END = re.compile(r'(?:[^"\\]|\\.)*"', re.DOTALL)


def _closing(text: str, i: int, end: int) -> int | None:
    """Index of the character that closes the quote or comment opened at ``i``."""
    if text[i] == '"':  # a backslash escapes the next character
        match = _QUOTE_END.match(text, i + 1, end)
        return match.end() - 1 if match else None
    depth, j = 1, i + 1  # comments nest: count the braces opened before each close
    while depth:
        close = text.find("}", j, end)
        if close < 0:
            return None
        depth += text.count("{", j, close) - 1
        j = close + 1
    return j - 1


def newlines(text: str) -> str:
    """Line ends as Python's text mode reads them (as PySD's own reader did): ``\\r\\n``
    and ``\\r`` become ``\\n``, so that a line continuation (``\\`` at the end of a
    line) is seen in a file saved on Windows. Applied to every model file before the
    rules; lines stay lines, so line numbers do not change."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _blank(fragment: str) -> str:
    """The fragment as spaces, its newlines kept (lines and columns do not move)."""
    return re.sub(r"[^\n]", " ", fragment)


# -- the rules: each takes the text and its spans, and returns the new text ------------


def strip_inline_comments(text: str, spans: list[Span]) -> str:
    """``{...}`` comments in an equation (between its terms, before its name, between
    entries) become spaces: Vensim ignores them, PySD's grammar refuses them.

    ``x = 1 + {one more} 2`` is read as ``x = 1 + 2``. Comments in the units and
    documentation fields are documentation and are kept; the ``{UTF-8}`` marker too.
    """
    parts = []
    for span in spans:
        fragment = text[span.start:span.end]
        parts.append(_blank(fragment) if span.kind == "comment" else fragment)
    return "".join(parts)


_LOGICAL = re.compile(r":(and|or|not|na):", re.IGNORECASE)


def upper_case_keywords(text: str, spans: list[Span]) -> str:
    """``:and:``, ``:or:``, ``:not:`` and ``:na:`` in lower or mixed case become upper
    case: Vensim's keywords ignore case, PySD's grammar knows only ``:AND:``, ...
    (in a quoted name they are left alone)."""
    parts = []
    for span in spans:
        fragment = text[span.start:span.end]
        if span.kind == "code":
            fragment = _LOGICAL.sub(lambda m: m.group(0).upper(), fragment)
        parts.append(fragment)
    return "".join(parts)


Rule = Callable[[str, list[Span]], str]
#: the rules, applied in this order (each must keep the text's length and lines)
RULES: tuple[Rule, ...] = (strip_inline_comments, upper_case_keywords)


def normalise(text: str) -> str:
    """The text PySD's Vensim translator is given: ``text`` with every rule applied."""
    for rule in RULES:
        new = rule(text, scan(text))
        if len(new) != len(text) or new.count("\n") != text.count("\n"):
            raise AssertionError(f"{rule.__name__} moved the text")  # pragma: no cover
        text = new
    return text


# -- placeholders ----------------------------------------------------------------------

_MACRO_LINES = re.compile(r":MACRO:[^\n]*\)|:END OF MACRO:", re.IGNORECASE)
_NAME = r'^\s*("[^"]*"|[^=\[\]:~|(){}"]+?)\s*(\[[^\]]*\])?\s*='
_EMPTY = re.compile(_NAME + r"\s*$")
_FUNCTION_OF = re.compile(_NAME + r"\s*A\s+FUNCTION\s+OF\s*\(", re.IGNORECASE)


def check_placeholders(original: str, normalised: str, path: Path | str) -> None:
    """Refuse an equation left as Vensim's placeholder: empty (Vensim writes
    ``{Enter equation...}`` into a new variable's equation, a comment), or
    ``A FUNCTION OF(...)`` (Vensim's mark of an equation whose inputs are drawn but
    which is not written). The error names the variable and its line."""
    parts: list[str] = []
    start = None
    for span in scan(normalised):
        piece = normalised[span.start:span.end]
        if span.kind in ("meta", "rest") or piece == "|":
            if span.kind == "meta" and start is not None:
                _check_entry(original, start, "".join(parts), path)
            parts, start = [], None
            continue
        start = span.start if start is None else start
        parts.append(piece)


def _check_entry(original: str, start: int, code: str, path: Path | str) -> None:
    """Raise if the equation part ``code`` (at offset ``start``) is a placeholder."""
    if not code.rstrip().endswith("=") and "function" not in code.lower():
        return  # the common case, decided without the regular expressions
    code = _MACRO_LINES.sub(lambda m: _blank(m.group(0)), code)
    empty = _EMPTY.match(code)
    function_of = _FUNCTION_OF.match(code)
    match = empty or function_of
    if match is None:
        return
    name = re.sub(r"\s+", " ", match.group(1)).strip()
    line = original.count("\n", 0, start + len(code) - len(code.lstrip())) + 1
    if function_of:
        what = ("is Vensim's placeholder A FUNCTION OF(...): its inputs are drawn, "
                "its equation is not written")
    elif "enter equation" in original[start:start + len(code)].lower():
        what = "is Vensim's placeholder {Enter equation...}: it was never written"
    else:
        what = "is empty"
    raise ModelSyntaxError(
        f"the equation of {name!r} {what}", path=path, line=line, variable=name,
        hint=f"write the equation of {name!r} (in Vensim, or in the file)")


# -- macros with extra outputs ---------------------------------------------------------

_MACRO_HEADER = re.compile(r":MACRO:\s*([^(\n]+?)\s*\(([^)]*)\)", re.IGNORECASE)


def check_macros(text: str, path: Path | str) -> None:
    """Refuse, before PySD fails on them, the macros its grammar cannot read: one with
    extra outputs (``:MACRO: name(inputs : outputs)``: the definition is read, its calls
    ``name(a : b)`` are not) and one without inputs (``:MACRO: name()``). An
    :class:`UnsupportedError` names the macro and the first variable that calls it."""
    for header in _MACRO_HEADER.finditer(text):
        params = header.group(2)
        if ":" in params:
            what = f"has extra outputs ({params.split(':', 1)[1].strip()}); macros with " \
                "outputs after ':' are not supported (PySD's grammar cannot read their calls)"
        elif not params.strip():
            what = "has no inputs; PySD's grammar cannot read a macro without inputs"
        else:
            continue
        name = header.group(1).strip()
        words = r"[\s_]+".join(re.escape(w) for w in name.split())
        line, caller = None, None
        for match in re.finditer(r"^[ \t]*([^=~|\n]+?)\s*=[^=~|]*?\b" + words + r"\s*\(",
                                 text, re.IGNORECASE | re.MULTILINE):
            if not _inside_macro(text, match.start()):
                caller = match.group(1).strip()
                line = text.count("\n", 0, match.start()) + 1
                break
        if line is None:
            line = text.count("\n", 0, header.start()) + 1
        raise UnsupportedError(
            f"the macro {name!r}" + (f" (called by {caller!r})" if caller else "")
            + f" {what}", path=path, line=line, variable=caller,
            hint="give the macro at least one input and a single output (its own name)")


def _inside_macro(text: str, offset: int) -> bool:
    before = text[:offset].upper()
    return before.rfind(":MACRO:") > before.rfind(":END OF MACRO:")


# -- reality checks --------------------------------------------------------------------

_REALITY_CHECK = re.compile(r"^[ \t]*([^\n:~|]+?)\s*:(TEST INPUT|THE CONDITION):",
                            re.IGNORECASE | re.MULTILINE)


def reality_checks(text: str) -> list[str]:
    """Names of the reality checks (``:TEST INPUT:`` and ``:THE CONDITION:`` entries) in
    the normalised text: PySD's translator reads and drops them, and the engine does not
    run them, so :func:`~deterrence.frontend.translate.read_model` reports them."""
    return [m.group(1).strip() for m in _REALITY_CHECK.finditer(text)]
