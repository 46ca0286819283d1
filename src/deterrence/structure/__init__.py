"""A model's structure read from the file: the signed stock graph, its feedback loops,
and the stock-and-flow picture drawn from them.

Only the public :class:`~deterrence.model.Model` API is used (its compiled catalogue and
:meth:`~deterrence.model.Model.jacobians`), so the picture stays true as the engine
changes underneath.
"""

from __future__ import annotations

from .diagram import draw, write
from .graph import Link, Loop, feedback_loops, stock_links

__all__ = ["Link", "Loop", "draw", "feedback_loops", "stock_links", "write"]
