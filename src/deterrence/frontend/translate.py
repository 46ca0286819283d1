"""Read a Vensim or XMILE file into PySD's Abstract Model Representation (AMR).

PySD's translators do the parsing; this module only chooses the translator, turns its
exceptions into errors that name the file and line, and finds where a variable is
defined so that later errors can point there too. Nothing from the file is executed.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pysd.translators.structures.abstract_expressions import LookupsStructure
from pysd.translators.structures.abstract_model import AbstractModel

from ..errors import ModelError, ModelSyntaxError, ModelWarning
from . import amrcache, normalise, pysd_guard

VENSIM_SUFFIXES = (".mdl",)
XMILE_SUFFIXES = (".xmile", ".xml", ".stmx")

#: files larger than this are refused before parsing (raise: DETERRENCE_MAX_MODEL_MB)
MAX_MODEL_MB = 16.0
#: memory PySD's parser needs per byte of model file (measured, docs/engine.md)
PARSE_BYTES_PER_BYTE = 560


class LookupOrderWarning(ModelWarning):
    """A lookup's x values are not in increasing order; Vensim sorts them, as we do."""


class RealityCheckWarning(ModelWarning):
    """The model has reality checks (:TEST INPUT:, :THE CONDITION:); they are not run."""


def max_model_bytes(limit_mb: float | None = None) -> int:
    """The size limit in bytes: the argument, else ``$DETERRENCE_MAX_MODEL_MB``, else 16."""
    if limit_mb is None:
        setting = os.environ.get("DETERRENCE_MAX_MODEL_MB", "").strip()
        try:
            limit_mb = float(setting) if setting else MAX_MODEL_MB
        except ValueError:
            raise ModelError(
                f"DETERRENCE_MAX_MODEL_MB={setting!r} is not a number",
                hint="set it to a size in megabytes, e.g. DETERRENCE_MAX_MODEL_MB=100",
            ) from None
    if not limit_mb > 0:
        raise ModelError(f"the model size limit must be positive, got {limit_mb!r} MB")
    return int(limit_mb * 1024 * 1024)


@dataclass(frozen=True)
class SourceFile:
    """The parsed model with the text it came from (for line look-ups)."""

    path: Path
    text: str
    abstract: AbstractModel
    language: str  # "vensim" or "xmile"

    def line_of(self, name: str) -> int | None:
        """Line (1-based) where variable ``name`` is defined, if it can be found."""
        return find_definition_line(self.text, name, self.language)

    def definition_text(self, name: str) -> str:
        """The raw text of ``name``'s equation (empty if it cannot be found)."""
        line = self.line_of(name)
        if line is None:
            return ""
        rest = "\n".join(self.text.splitlines()[line - 1:])
        end = rest.find("</eqn>" if self.language == "xmile" else "~")
        return rest if end < 0 else rest[:end]


def read_model(path: str | Path, *, max_model_mb: float | None = None) -> SourceFile:
    """Parse ``path`` with PySD's translator for its format.

    Files over the size limit (:func:`max_model_bytes`) are refused before reading:
    PySD's parser needs hundreds of bytes of memory per byte of file.
    """
    path = Path(path)
    if not path.exists():
        raise ModelError(
            "model file not found",
            path=path,
            hint="check the path; model files end in .mdl, .xmile, .xml or .stmx",
        )
    if path.is_dir():
        raise ModelError("is a folder, not a model file", path=path)
    suffix = path.suffix.lower()
    if suffix not in VENSIM_SUFFIXES + XMILE_SUFFIXES:
        raise ModelError(
            f"unknown model format {path.suffix!r}",
            path=path,
            hint="expected a Vensim .mdl file or an XMILE .xmile/.xml/.stmx file",
        )
    language = "vensim" if suffix in VENSIM_SUFFIXES else "xmile"
    _check_size(path, max_model_bytes(max_model_mb))
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read the file: {exc.strerror or exc}", path=path) from exc
    encoding = _encoding(content)
    text = normalise.newlines(content.decode(encoding))
    if language == "vensim":  # what PySD is given, and what line look-ups search
        normalised = normalise.normalise(text)
        normalise.check_placeholders(text, normalised, path)
        normalise.check_macros(normalised, path)
        text = normalised
        checks = normalise.reality_checks(text)
        if checks:
            warnings.warn(f"{path}: {len(checks)} reality check(s) ("
                          + ", ".join(repr(c) for c in checks[:5])
                          + (", ..." if len(checks) > 5 else "")
                          + ") are read and ignored: the engine does not run reality checks",
                          RealityCheckWarning, stacklevel=3)
    cache_key = amrcache.key(content, suffix)  # covers the normalisation's version
    cached = amrcache.load(cache_key, content)
    if cached is not None:
        abstract, notes = cached
        source = SourceFile(path=path, text=text, abstract=abstract, language=language)
    else:
        source = (_read_vensim(path, text, encoding) if language == "vensim"
                  else _read_xmile(path, text))
        notes = check_lookups(source)
        amrcache.store(cache_key, content, source.abstract, notes)
    for note in notes:
        warnings.warn(note, LookupOrderWarning, stacklevel=3)
    return source


def _check_size(path: Path, limit: int) -> None:
    size = path.stat().st_size
    if size <= limit:
        return
    mb = 1024 * 1024
    raise ModelError(
        f"the model file is {size / mb:,.1f} MB, over the limit of {limit / mb:,.1f} MB "
        f"(parsing it would need about {size * PARSE_BYTES_PER_BYTE / 1024**3:,.1f} GB "
        "of memory)",
        path=path,
        hint="if the file is what you meant, raise the limit: DETERRENCE_MAX_MODEL_MB="
        f"{int(size / mb) + 1} or load(path, max_model_mb=...)",
    )


def check_lookups(source: SourceFile) -> list[str]:
    """Refuse lookups with a repeated x value; describe those given out of order.

    Vensim sorts a lookup's points by x (its own output for a table written as
    (2,-3),(1,-7),(0,-1) is that of the sorted table), so an unsorted table is computed
    as Vensim does and only reported. Two points at one x have no defined order after
    the sort, so the value there would be a guess: refused.
    """
    notes = []
    for element in _elements(source.abstract):
        for component in element.components:
            for lookup in _lookups_in(component.ast):
                xs = [float(x) for x in lookup.x]
                repeated = sorted({a for a, b in itertools.pairwise(xs) if a == b})
                line = source.line_of(element.name)
                if repeated:
                    raise ModelSyntaxError(
                        f"the lookup {element.name!r} gives x = {repeated[0]:g} twice; "
                        "the value there would depend on the order of its points",
                        path=source.path, line=line, variable=element.name,
                        hint="make the x values strictly increasing (for a jump, use "
                        "two close x values such as 1 and 1.0001)",
                    )
                if getattr(lookup, pysd_guard.UNSORTED_MARK, False):
                    where = f"{source.path}:{line}" if line else str(source.path)
                    notes.append(
                        f"{where}: the lookup {element.name!r} lists its x values out of "
                        "increasing order; they are sorted, as Vensim does")
    return notes


def _elements(abstract: AbstractModel):
    for section in abstract.sections:
        yield from section.elements


def walk(tree: object) -> Iterator[object]:
    """Every node of an abstract-model expression tree, iteratively (trees can be deep)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if dataclasses.is_dataclass(node) and not isinstance(node, type):
            todo.extend(getattr(node, f.name) for f in dataclasses.fields(node))
        elif isinstance(node, tuple | list):
            todo.extend(node)


def _lookups_in(ast: object) -> list[LookupsStructure]:
    return [node for node in walk(ast) if isinstance(node, LookupsStructure)]


def _encoding(data: bytes) -> str:
    """UTF-8 when the bytes are valid UTF-8 (without its byte-order mark, which Windows
    editors write), else Latin-1 (Vensim on Windows)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"


def _read_vensim(path: Path, text: str, encoding: str) -> SourceFile:
    """Parse the normalised ``text`` (:mod:`.normalise`) with PySD's Vensim translator."""
    from pysd.translators.vensim.vensim_file import VensimFile

    class NormalisedVensimFile(VensimFile):
        """PySD's reader, given the normalised text instead of reading the file."""

        def _read(self, encoding: str | None) -> str:
            return text

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            vensim_file = NormalisedVensimFile(path, encoding=encoding)
        except Exception as exc:  # unreadable file: encoding, permissions
            raise ModelSyntaxError(f"cannot read the file: {exc}", path=path) from exc
        try:
            vensim_file.parse()
            abstract = vensim_file.get_abstract_model()
        except Exception as exc:
            raise _diagnose_vensim(vensim_file, path, text, exc) from exc
    return SourceFile(path=path, text=text, abstract=abstract, language="vensim")


def _diagnose_vensim(vensim_file, path: Path, text: str, exc: Exception) -> ModelError:
    """Find the equation PySD could not parse and say where it is."""
    sections = getattr(vensim_file, "sections", None)
    if not sections:
        return _syntax_error_near(path, text, exc, "the file's sections")
    for section in sections:
        try:
            section.parse(parse_all=False)
        except Exception as sec_exc:
            return _syntax_error_near(path, text, sec_exc, f"section {section.name!r}")
        for element in section.elements:
            name = _guess_element_name(getattr(element, "equation", ""))
            try:
                component = element.parse()
                name = getattr(component, "name", None) or name
                if hasattr(component, "parse"):
                    component.parse()
            except Exception as el_exc:
                line = find_definition_line(text, name, "vensim") if name else None
                if isinstance(el_exc, pysd_guard.UnsafeText):
                    return _refused_literal(path, line, name, el_exc)
                return ModelSyntaxError(
                    f"cannot parse the equation of {name!r}: {_parser_detail(el_exc)}",
                    path=path,
                    line=line,
                    variable=name,
                    hint="fix the equation's syntax (unbalanced brackets, a missing operand "
                    "or argument, an unknown operator)",
                )
    return _syntax_error_near(path, text, exc, "the model")


def _refused_literal(path: Path, line: int | None, name: str | None,
                     exc: pysd_guard.UnsafeText) -> ModelSyntaxError:
    """A lookup range, point or literal that is not plain numbers: refused, not run."""
    return ModelSyntaxError(
        f"the equation of {name!r} has a literal that is not numeric ({exc}); "
        "model text is data and is never evaluated",
        path=path,
        line=line,
        variable=name,
        hint="a lookup's range and points must be numbers, e.g. [(0,0)-(10,1)],(0,0),(10,1)",
    )


def _guess_element_name(equation: str) -> str | None:
    match = re.match(r"\s*([^=(\[:]+)", equation or "")
    return match.group(1).strip() if match else None


def _parser_detail(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    # parsimonious reports positions inside the whitespace-collapsed equation; the
    # fragment it quotes is what a user can search for
    fragment = re.search(r"begins with '(.*?)' \(line", text)
    if fragment:
        return f"unexpected text starting at '{fragment.group(1)}'"
    return text


def _syntax_error_near(path: Path, text: str, exc: Exception, what: str) -> ModelSyntaxError:
    detail = _parser_detail(exc)
    line = None
    fragment = re.search(r"'(.{3,}?)'", detail)
    if fragment:
        line = _line_of_fragment(text, fragment.group(1))
    return ModelSyntaxError(
        f"cannot parse {what}: {detail}",
        path=path,
        line=line,
        hint="each Vensim equation must end with '~ units ~ documentation |'",
    )


def _line_of_fragment(text: str, fragment: str) -> int | None:
    words = [re.escape(w) for w in fragment.split()]
    if not words:
        return None
    match = re.search(r"\s+".join(words), text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def find_definition_line(text: str, name: str | None, language: str) -> int | None:
    """Line where ``name`` is defined; Vensim names match case- and space-insensitively."""
    if not name:
        return None
    if language == "xmile":
        pattern = re.compile(
            r"name\s*=\s*\"" + _name_regex(name) + r"\"", re.IGNORECASE
        )
    else:
        pattern = re.compile(
            r"^[ \t]*\"?" + _name_regex(name) + r"\"?[ \t]*(\[[^\]]*\])?[ \t]*(=|\(|:|$)",
            re.IGNORECASE | re.MULTILINE,
        )
    match = pattern.search(text)
    if match is None:
        return None
    return text.count("\n", 0, match.start()) + 1


def _name_regex(name: str) -> str:
    parts = [re.escape(p) for p in re.split(r"[\s_]+", name.strip()) if p]
    return r"[\s_\\]+".join(parts)


def _read_xmile(path: Path, text: str) -> SourceFile:
    from lxml import etree
    from pysd.translators.xmile.xmile_file import XmileFile

    # PySD parses with recover=True, which silently drops broken XML; report fatal errors
    parser = etree.XMLParser(recover=True)
    try:
        etree.parse(str(path), parser)
    except etree.XMLSyntaxError as exc:  # nothing recoverable at all
        raise ModelSyntaxError(f"invalid XML: {exc.msg}", path=path, line=exc.lineno,
                               hint="the XMILE file must be well-formed XML") from exc
    fatal = [e for e in parser.error_log if e.level == etree.ErrorLevels.FATAL]
    if fatal:
        raise ModelSyntaxError(f"invalid XML: {fatal[0].message}", path=path,
                               line=fatal[0].line,
                               hint="the XMILE file must be well-formed XML")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        xmile_file = None
        try:
            xmile_file = XmileFile(path)
            xmile_file.parse()
            abstract = xmile_file.get_abstract_model()
        except Exception as exc:
            name, own = _xmile_failing(xmile_file) if xmile_file else (None, None)
            line = find_definition_line(text, name, "xmile") if name else None
            if isinstance(own, pysd_guard.UnsafeText):
                raise _refused_literal(path, line, name, own) from exc
            raise ModelSyntaxError(
                f"cannot parse the equation of {name!r}: {_parser_detail(own or exc)}"
                if name else f"cannot parse the model: {_parser_detail(exc)}",
                path=path, line=line, variable=name,
            ) from exc
    return SourceFile(path=path, text=text, abstract=abstract, language="xmile")


def _xmile_failing(xmile_file) -> tuple[str | None, Exception | None]:
    """Parse XMILE elements one by one, in every section (module), to find the first
    that fails: its name and its own exception."""
    for section in getattr(xmile_file, "sections", None) or []:
        try:
            section.parse(parse_all=False)
        except Exception:
            continue
        for component in getattr(section, "components", []):
            try:
                component.parse(section.behaviors)
            except Exception as exc:
                return getattr(component, "name", None), exc
    return None, None
