"""Make PySD's Python builder write no text of the model file into code.

PySD's builder (``pysd/builders/python``, 3.14) writes parts of the abstract model into
the generated module as source text: a variable's documentation between triple quotes
(a comment holding ``\"\"\"`` then statements runs as code), and, between single
quotes, a data variable's name (``TabData('NAME', ...)``), external file names, sheets
and cells (``ExtData(r'FILE', 'SHEET', ...)``), a macro's name and file, subscript
range names (``_subscript_dict['RANGE']``) and the names of functions it does not
implement. Names are quoted with ``repr`` in some places and not in others.

So before PySD builds, :func:`neutralise` rewrites the abstract model (in place):

- documentation and units are cleared (they are data; the caller keeps the originals
  and puts them in the Dataset's attributes), as are reality checks and view splits;
- every other string anywhere in it (names, references, subscripts, file names, sheet
  and cell names, keywords) loses the characters that can end a Python string or line:
  surrounding double quotes of a quoted name are dropped (``"a b"`` is the name
  ``a b``), other quotes become ``_``, a backslash ``/`` (Vensim on Windows writes
  ``..\\data.xlsx``), control and line-separator characters a space. Names stay the same Python
  identifiers (PySD's namespace drops those characters anyway), references still match,
  and two names made equal by this are refused rather than merged;
- external file names are made absolute, resolved against the model's folder (the
  generated module lives in a private temporary folder, not beside the model);
- every section's output path is moved into that private folder under a generated name.

:func:`check` then walks the whole model again and raises if any string still holds an
unsafe character: what PySD is given is plain text that cannot leave a literal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pysd.translators.structures.abstract_model import AbstractModel

from ..errors import ModelError, UnsupportedError
from ..limits import deep_call
from ..names import clean_key

#: characters that can end a Python string literal or line, and what replaces them
_UNSAFE = {"'": "_", '"': "_", "\\": "/", "\x7f": " ", "\x85": " ", "\u2028": " ",
           "\u2029": " ", **{chr(c): " " for c in range(32)}}
_TABLE = str.maketrans(_UNSAFE)


def safe_text(text: str) -> str:
    """``text`` without the characters that can end a Python literal or line (a quoted
    Vensim name ``"a b"`` loses its quotes first: it is the name ``a b``)."""
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return text.translate(_TABLE)


def is_safe(text: str) -> bool:
    return not any(ch in _UNSAFE for ch in text)


@dataclasses.dataclass
class Neutralised:
    """What :func:`neutralise` changed: the main section's element names as PySD sees
    them (in the order of the elements), and subscript names back to their originals."""

    names: list[str]
    subscripts: dict[str, str]  # safe name -> name in the file (ranges and elements)


def neutralise(abstract: AbstractModel, folder: Path, model_dir: Path,
               path: Path) -> Neutralised:
    """Rewrite ``abstract`` so that PySD builds it into ``folder`` with no model text in
    code (see the module's docstring); ``model_dir`` resolves external file names and
    ``path`` names the model in errors."""
    originals: dict[str, str] = {}
    for section in abstract.sections:
        for element in section.elements:
            element.documentation = ""
            element.units = ""
        for name in ("constraints", "test_inputs"):
            if hasattr(section, name):
                setattr(section, name, [])
        section.split = False
        section.views_dict = None
        for sub in section.subscripts:
            _remember(originals, sub.name)
            values = sub.subscripts if isinstance(sub.subscripts, list | tuple) else []
            for value in values:
                if isinstance(value, str):
                    _remember(originals, value)
    main = abstract.sections[0]
    groups = {"variables": lambda: [e.name for e in main.elements],
              "subscript ranges": lambda: [s.name for s in main.subscripts],
              "macros": lambda: [s.name for s in abstract.sections[1:]]}
    before = {what: names() for what, names in groups.items()}
    deep_call(_clean, abstract, safe_text)
    for what, names in groups.items():
        _refuse_merged(before[what], names(), what, path)
    deep_call(_resolve_files, abstract, model_dir, path)
    abstract.original_path = folder / "model.mdl"
    for k, section in enumerate(abstract.sections):
        section.path = folder / ("model.py" if k == 0 else f"macro_{k}.py")
    check(abstract)
    return Neutralised([e.name for e in main.elements], originals)


def _remember(originals: dict[str, str], name: str) -> None:
    """A subscript name as the file writes it (without the quotes of a quoted name)."""
    quoted = len(name) >= 2 and name[0] == name[-1] == '"'
    originals.setdefault(safe_text(name), name[1:-1] if quoted else name)


def _refuse_merged(originals: list[str], cleaned: list[str], what: str,
                   path: Path) -> None:
    """Two different names that the cleaning made one (``a'b`` and ``a_b``)."""
    seen: dict[str, str] = {}
    for original, name in zip(originals, cleaned, strict=True):
        key = clean_key(name)
        if key in seen and clean_key(seen[key]) != clean_key(original):
            raise UnsupportedError(
                f"the {what} {seen[key]!r} and {original!r} are the same name once quotes "
                "and backslashes are removed, which engine='pysd' does to keep PySD's "
                "generated code safe", fallback=False, path=path,
                hint="rename one of them, or run the compiled engine")
        seen.setdefault(key, original)


def _clean(value: Any, fix: Callable[[str], str]) -> Any:
    """``value`` with ``fix`` applied to every string in it (dataclasses in place)."""
    if isinstance(value, str):
        return fix(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            object.__setattr__(value, f.name, _clean(getattr(value, f.name), fix))
        return value
    if isinstance(value, list):
        return [_clean(v, fix) for v in value]
    if isinstance(value, tuple):
        items = [_clean(v, fix) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, dict):
        return {_clean(k, fix): _clean(v, fix) for k, v in value.items()}
    return value


def _resolve_files(value: Any, model_dir: Path, path: Path) -> None:
    """Every ``file`` field (GET XLS/DIRECT ..., external subscripts): an absolute path
    from the model's folder, refused if that path holds an unsafe character."""
    todo = [value]
    while todo:
        node = todo.pop()
        if dataclasses.is_dataclass(node) and not isinstance(node, type):
            if isinstance(getattr(node, "file", None), str):
                object.__setattr__(node, "file", _absolute(node.file, model_dir, path))
            todo.extend(getattr(node, f.name) for f in dataclasses.fields(node))
        elif isinstance(node, list | tuple):
            todo.extend(node)
        elif isinstance(node, dict):  # GET XLS SUBSCRIPT: {"file": ..., "tab": ...}
            if isinstance(node.get("file"), str):
                node["file"] = _absolute(node["file"], model_dir, path)
            todo.extend(node.values())


def _absolute(name: str, model_dir: Path, path: Path) -> str:
    target = str((model_dir / name).resolve())
    if not is_safe(target):
        raise ModelError(
            f"the external file {target!r} has a quote, backslash or control character in "
            "its path, which engine='pysd' cannot pass safely to PySD's generated code",
            path=path, hint="move the model and its data to a folder with a plain name")
    return target


def check(abstract: AbstractModel) -> None:
    """Raise if any string in the model could still end a literal in generated code."""
    todo: list[Any] = [abstract]
    while todo:
        node = todo.pop()
        if isinstance(node, str):
            if not is_safe(node):
                raise RuntimeError(f"unsafe text left for PySD's builder: {node!r}")
        elif isinstance(node, Path):
            if not is_safe(str(node)):
                raise RuntimeError(f"unsafe path left for PySD's builder: {node!r}")
        elif dataclasses.is_dataclass(node) and not isinstance(node, type):
            todo.extend(getattr(node, f.name) for f in dataclasses.fields(node))
        elif isinstance(node, list | tuple):
            todo.extend(node)
        elif isinstance(node, dict):
            todo.extend(node.keys())
            todo.extend(node.values())


# -- the generated module, read before it is imported ------------------------------------

#: modules PySD's generated code imports (its runtime, NumPy, xarray, pathlib.Path)
_IMPORTS = ("pysd", "numpy", "xarray", "scipy", "pathlib")
#: builtins PySD's templates call; any other (open, eval, exec, __import__...) is refused
_BUILTINS = frozenset({"float", "int", "abs", "min", "max", "len", "range", "bool", "str",
                       "round", "sum", "isinstance", "dict", "list", "tuple", "zip"})
#: module-level names of the templates that start with two underscores
_DUNDERS = frozenset({"__data", "__file__", "__pysd_version__"})
#: methods that write, delete or run; PySD's templates call none of them
_EFFECTS = frozenset({"write_text", "write_bytes", "unlink", "rmdir", "mkdir", "touch",
                      "chmod", "system", "popen", "spawn", "to_netcdf", "to_csv",
                      "to_pickle", "savez", "savetxt", "tofile", "exec_module", "rmtree"})


def audit(folder: Path) -> None:
    """Refuse a generated module whose code is not what PySD's templates write: an
    import of another module, a call of a builtin outside :data:`_BUILTINS`, a dunder
    attribute, or a method that writes, deletes or runs. A second line behind
    :func:`neutralise`: it reads the module as a syntax tree, it never runs it."""
    import ast

    for module in sorted(folder.glob("*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"), filename=str(module))
        defined = {n.name for n in ast.walk(tree)
                   if isinstance(n, ast.FunctionDef | ast.ClassDef)}
        defined |= {a.asname or a.name for n in ast.walk(tree)
                    if isinstance(n, ast.ImportFrom) for a in n.names}
        defined |= _macro_inputs(tree)
        defined |= {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign)
                    for t in n.targets if isinstance(t, ast.Name)}
        for node in ast.walk(tree):
            problem = _problem(node, defined)
            if problem:
                raise RuntimeError(f"PySD's generated module {module.name} holds {problem} "
                                   f"(line {getattr(node, 'lineno', '?')}); it is not run")


def _macro_inputs(tree: Any) -> set[str]:
    """A macro module's inputs, which PySD's runner defines when it calls the macro:
    the identifiers in its ``_params = {"input": "input_1", ...}``."""
    import ast

    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "_params" for t in node.targets) \
                and isinstance(node.value, ast.Dict):
            names |= {v.value for v in node.value.values
                      if isinstance(v, ast.Constant) and isinstance(v.value, str)
                      and v.value.isidentifier()}
    return names


def _problem(node: Any, defined: set[str]) -> str | None:
    import ast

    if isinstance(node, ast.Import | ast.ImportFrom):
        names = [node.module] if isinstance(node, ast.ImportFrom) else [
            a.name for a in node.names]
        for name in names:
            if (name or "").split(".")[0] not in _IMPORTS:
                return f"an import of {name!r}"
        if isinstance(node, ast.ImportFrom) and node.module == "pathlib" and any(
                a.name != "Path" for a in node.names):
            return "an import from pathlib other than Path"
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id not in defined and node.func.id not in _BUILTINS:
            return f"a call of {node.func.id!r}"
    elif isinstance(node, ast.Attribute):
        if node.attr.startswith("__"):
            return f"the attribute {node.attr!r}"
        if node.attr in _EFFECTS:
            return f"a call of the method {node.attr!r}"
    elif isinstance(node, ast.Name) and node.id.startswith("__") and node.id not in _DUNDERS:
        return f"the name {node.id!r}"
    return None
