"""Turn the integrator's failures, which carry indices and times, into errors a user can
act on: each names the file, the stock or auxiliary, the time and what to look at.

``deterrence.integrate`` knows arrays only; this module knows the generated program's
node order and the model's labels, and is the one place the wording of a failed run
lives (non-finite states, a solver giving up, a run too large, a bad control value).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import limits
from .compile import NodeKind
from .errors import ModelError, ResourceError, SimulationError
from .integrate import BadControl, Grid, NonFiniteState, SolverFailure, TooLarge

if TYPE_CHECKING:  # pragma: no cover
    from .compile import Program

#: what to change when a run is too large for the memory limit
SMALLER = ("save less often (a larger SAVEPER, saveper=, --saveper), keep fewer variables "
           "(variables=[...]), simulate fewer runs at a time (split the ensemble into "
           "chunks), or raise the limit (max_memory=, --max-memory; solver.max_memory= in "
           "deterrence run)")


def count(n: float) -> str:
    """1,001 or 1e+301: counts as a user reads them."""
    return f"{n:,.0f}" if n < 1e15 else f"{n:.4g}"


def bad_control(exc: BadControl, path: Path) -> ModelError:
    """A control value the run cannot use, as the package's own error naming the file."""
    return ModelError(str(exc), path=path)


def too_many_steps(path: Path, t0: float, tf: float, dt: float, n_steps: float,
                   limit: float) -> ResourceError:
    return ResourceError(
        f"TIME STEP {dt:g} from time {t0:g} to {tf:g} is {count(n_steps)} steps, more "
        f"than the limit of {limit:,.0f}", path=path,
        hint="use a larger TIME STEP (time_step=, --time-step) or a shorter horizon, "
        "or raise the limit (max_steps=, --max-steps)")


def too_much_memory(path: Path, total: float, n_saves: float, n_runs: int, values: int,
                    limit: float) -> ResourceError:
    return ResourceError(
        f"the run needs about {limits.format_bytes(total)} of memory "
        f"({count(n_saves)} saved times x {n_runs:,} run{'s' if n_runs > 1 else ''} x "
        f"{values} values, 8 bytes each, and working arrays), more than the limit of "
        f"{limits.format_bytes(limit)}", path=path, hint=SMALLER)


def too_large(exc: TooLarge, path: Path, memory: float, steps: float) -> ResourceError:
    """A run whose TIME STEP, SAVEPER or FINAL TIME change outgrew a budget as it ran."""
    detail = {"memory": f"more than the limit of {limits.format_bytes(memory)}",
              "steps": f"the limit is {steps:,.0f} steps",
              "stuck": "a step must change the time"}[exc.kind]
    hint = {"memory": SMALLER, "stuck": "keep TIME STEP well above the time's "
            "rounding (about 1e-16 of the time)"}.get(
                exc.kind, "check the equations of TIME STEP and FINAL TIME, or raise "
                "the limit (max_steps=, --max-steps)")
    return ResourceError(f"TIME STEP, SAVEPER or FINAL TIME change during the run: "
                         f"{exc}; {detail}", path=path, hint=hint)


class Diagnose:
    """The failures of runs of one generated program, worded with the model's labels.

    ``nodes`` maps the program's node ids to nodes with a ``label`` and a ``kind``.
    """

    def __init__(self, path: Path, program: Program, nodes: Mapping[str, Any]) -> None:
        self.path = path
        self.program = program
        self.nodes = nodes

    def label(self, node_id: str) -> str:
        return self.nodes[node_id].label

    def check_initial(self, y0: np.ndarray, t0: float) -> None:
        """Refuse initial stock values that are already NaN or infinite."""
        bad = ~np.isfinite(y0)
        if bad.any():
            i, run = np.argwhere(bad)[0]
            name = self.label(self.program.stock_ids[i])
            raise SimulationError(
                f"the initial value of {name!r} is {y0[i, run]} at time {t0:g}"
                + (f" (run {run})" if y0.shape[1] > 1 else ""), path=self.path,
                variable=name, hint="check its initial-value expression for a division by "
                "zero")

    @contextlib.contextmanager
    def reporting(self, method: str, rates: Any, outputs: Any, grid: Grid) -> Iterator[None]:
        """Around an integration on ``grid``: its failures raised as the package's errors."""
        try:
            yield
        except NonFiniteState as exc:
            raise self.non_finite(exc, rates, outputs, grid.dt) from None
        except SolverFailure as exc:
            raise self.solver_failure(exc, method, rates, grid) from None
        except BadControl as exc:
            raise bad_control(exc, self.path) from None

    def solver_failure(self, exc: SolverFailure, method: str, rates: Any,
                       grid: Grid) -> SimulationError:
        culprit = self.failing_stock(rates, exc.time, exc.y, grid)
        return SimulationError(
            f"the {method} solver failed at time {exc.time:g}"
            + (f", where the net flow of {culprit!r} stops being finite" if culprit else "")
            + f": {exc}", path=self.path, variable=culprit,
            hint="check that equation for a division by zero or a negative number "
            "under SQRT or LN; or try a stiff method (Radau, BDF, LSODA) or euler")

    def failing_stock(self, rates: Any, t: float, y: np.ndarray, grid: Grid) -> str | None:
        """The first stock whose derivative is non-finite at, or just after, a failure."""
        span = max(grid.tf - grid.t0, 1.0)
        for h in (0.0, 1e-9, 1e-7, 1e-5, 1e-3, 1e-2):
            at = np.float64(t + h * span)
            try:
                dy, _ = rates(at, at, at, y, ())
                if h:  # a little Euler step ahead of the last accepted state
                    dy, _ = rates(at, at, at, y + h * span * dy, ())
            except Exception:  # only a diagnosis: never hide the failure itself
                return None
            bad = ~np.isfinite(dy)
            if bad.any():
                return self.label(self.program.stock_ids[int(np.argwhere(bad)[0][0])])
        return None

    def non_finite(self, exc: NonFiniteState, rates: Any, outputs: Any,
                   dt: float) -> SimulationError:
        """The stock that became NaN or infinite, and the first auxiliary that was."""
        i, run = (int(v) for v in np.argwhere(exc.bad)[0])
        stock = self.label(self.program.stock_ids[i])
        runs = np.flatnonzero(exc.bad.any(axis=0))
        run_text = ""
        if exc.bad.shape[1] > 1:
            others = f" (and {len(runs) - 1} other runs)" if len(runs) > 1 else ""
            run_text = f" in run {run}{others}"
        before = np.float64(exc.time_before)
        cause = ""
        try:  # the first auxiliary, in evaluation order, that was already non-finite
            values = outputs(before, before, before + dt / 2, exc.y_before, exc.z_before)
            n_runs = exc.y_before.shape[1]
            for node_id, value in zip(self.program.output_ids, values, strict=True):
                v = np.broadcast_to(np.asarray(value, dtype=float), (n_runs,))[run]
                if not np.isfinite(v) and self.nodes[node_id].kind == NodeKind.AUX:
                    cause = (f"; the first non-finite value at time {before:g} is "
                             f"{self.label(node_id)!r} = {v}")
                    break
        except Exception:
            cause = ""
        return SimulationError(
            f"stock {stock!r} became NaN or infinite in the step from time {before:g} to "
            f"{exc.time:g}{run_text}{cause}",
            path=self.path, variable=stock,
            hint=f"look at the equations that feed it at time {before:g}: a division by "
            "zero, an overflow, or a negative number under SQRT or LN (ZIDZ and XIDZ guard "
            "divisions)")
