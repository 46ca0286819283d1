"""The text of a small Vensim model, for tests that write one (a module of its own: a
test imports it by name, where importing ``conftest`` would find another folder's)."""

from __future__ import annotations

from collections.abc import Sequence

Equation = tuple[str, str] | tuple[str, str, str, str]


def mdl_text(equations: Sequence[Equation], *, initial: float = 0, final: float = 10,
             step: float = 0.25, saveper: float | None = None) -> str:
    """The text of a Vensim model: one block per equation, then the controls."""
    blocks = []
    controls: list[Equation] = [
        ("INITIAL TIME", repr(initial), "Month", "The initial time for the simulation."),
        ("FINAL TIME", repr(final), "Month", "The final time for the simulation."),
        ("TIME STEP", repr(step), "Month [0,?]", "The time step for the simulation."),
        ("SAVEPER", repr(step if saveper is None else saveper), "Month [0,?]",
         "The frequency with which output is stored."),
    ]
    for item in [*equations, *controls]:
        name, equation, units, doc = (*item, "", "")[:4] if len(item) == 2 else item
        blocks.append(f"{name} = {equation}\n\t~\t{units}\n\t~\t{doc}\n\t|\n")
    return "{UTF-8}\n" + "\n".join(blocks)
