"""The shape of the code: modules short enough to read, imports without cycles.

(The layers themselves are checked by ``lint-imports``, from the contract in
pyproject.toml, in CI.)
"""

from __future__ import annotations

from pathlib import Path

import grimp
import networkx as nx

import deterrence

SRC = Path(deterrence.__file__).parent
MAX_LINES = 600


def test_no_module_is_longer_than_600_lines() -> None:
    long = {str(p.relative_to(SRC)): n for p in sorted(SRC.rglob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_no_import_cycle_between_modules() -> None:
    graph = grimp.build_graph("deterrence", exclude_type_checking_imports=True)
    edges = nx.DiGraph()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            if not imported.startswith(module + "."):  # a package importing its parts
                edges.add_edge(module, imported)
    packages = {m for m in graph.modules if (SRC / m.split(".", 1)[-1].replace(
        ".", "/") / "__init__.py").exists() or m == "deterrence"}
    # a package's __init__ re-exporting its own modules is not a cycle between modules
    edges.remove_edges_from([(a, b) for a, b in list(edges.edges)
                             if (a in packages and b.startswith(a + "."))
                             or (b in packages and a.startswith(b + "."))])
    cycles = list(nx.simple_cycles(edges))
    assert not cycles, f"import cycles: {cycles[:5]}"
