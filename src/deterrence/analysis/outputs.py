"""What a run folder's files hold, and the analyses' files read back for their figures.

``deterrence plot`` and ``deterrence summary`` take a file or a run folder and pick what
to do from what it is: time series (``results.nc``), an uncertainty ensemble's per-run
metrics (``metrics.zarr``, or its ``results.nc`` / ``combined.nc``), sensitivity indices
(``sensitivity.nc``), PRIM's boxes (``prim.csv``) or the robustness table
(``robustness.csv``). :func:`identify` says which; :func:`read_prim` and
:func:`read_robustness` read the two tables back with what their figures need.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xarray as xr

from ..errors import ModelError, ParameterError
from ..results import is_store, read_results
from . import ensembles

__all__ = ["CONTENTS", "FILES", "PrimBoxes", "find", "identify", "read_prim",
           "read_robustness", "robustness_of"]

#: What a file can hold, in words for messages.
CONTENTS = {
    "series": "time series (a results.nc of deterrence run or simulate)",
    "metrics": "per-run metrics of an uncertainty ensemble (metrics.zarr, or its "
               "results.nc / combined.nc)",
    "indices": "sensitivity indices (sensitivity.nc)",
    "prim": "PRIM boxes (prim.csv)",
    "robustness": "a robustness table (robustness.csv)",
}
#: The file of a run folder that holds each, first found first.
FILES = {"indices": ("sensitivity.nc",), "prim": ("prim.csv",),
         "robustness": ("robustness.csv",),
         "metrics": (ensembles.STORE, ensembles.COMBINED, ensembles.RESULTS),
         "series": (ensembles.COMBINED, ensembles.RESULTS)}
INDICES = ("S1", "mu_star", "feature_score")
PRIM_COLUMNS = ("box", "chosen", "coverage", "density", "mass", "res_dim", "parameter")
ROBUSTNESS_COLUMNS = ("policy", "satisficing", "max_regret", "mean_regret")


def identify(path: str | Path, error: type[ModelError] = ParameterError) -> str:
    """Which of :data:`CONTENTS` the file at ``path`` holds (``folder`` for a run folder),
    or one ``error`` naming what was expected."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if is_store(path):
        return "metrics"
    if path.is_dir():
        return "folder"
    expected = "expected " + "; ".join(CONTENTS.values())
    if path.suffix.lower() == ".csv":
        try:
            columns = set(pd.read_csv(path, nrows=0).columns)
        except (ValueError, pd.errors.ParserError) as exc:
            raise error(f"cannot read the table: {exc}", path=path) from None
        if set(PRIM_COLUMNS) <= columns:
            return "prim"
        if set(ROBUSTNESS_COLUMNS) <= columns:
            return "robustness"
        raise error("neither PRIM's boxes nor a robustness table "
                    f"(columns: {', '.join(sorted(columns)) or 'none'})", path=path,
                    hint=f"expected {CONTENTS['prim']} or {CONTENTS['robustness']}")
    ds = read_results(path, error=error)
    if "parameter" in ds.dims and any(v in ds.data_vars for v in INDICES):
        return "indices"
    if ensembles.is_ensemble(ds):
        return "metrics"
    if "time" in ds.dims:
        return "series"
    raise error("neither time series nor per-run metrics nor "
                f"sensitivity indices (variables: {', '.join(map(str, ds.data_vars))})",
                path=path, hint=expected)


def find(folder: Path, contents: tuple[str, ...], what: str = "",
         error: type[ModelError] = ParameterError) -> Path:
    """The first file of the run ``folder`` that may hold one of ``contents``, or one
    ``error`` naming the files looked for (``what`` says for what)."""
    names = list(dict.fromkeys(n for c in contents for n in FILES[c]))
    for name in names:
        if (folder / name).exists():
            return folder / name
    present = sorted(p.name for p in folder.iterdir())
    listed = ", ".join(present[:10]) + (", ..." if len(present) > 10 else "")
    raise error(f"{what + ': ' if what else ''}no "
                f"{', '.join(names[:-1]) + ' or ' if len(names) > 1 else ''}{names[-1]} in "
                f"this folder ({'it has ' + listed if present else 'it is empty'})",
                path=folder, hint="name a run folder of deterrence run, or a file in one")


# -- PRIM ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrimBoxes:
    """PRIM's boxes as ``prim.csv`` keeps them: what :mod:`deterrence.plot.discovery`
    draws (``trajectory`` with box 0, the whole sample; ``chosen``; ``threshold``;
    :meth:`box_limits`), read back without the runs."""

    trajectory: pd.DataFrame
    boxes: pd.DataFrame
    chosen: int
    threshold: float | None
    label: str = ""

    def box_limits(self, i: int | None = None) -> pd.DataFrame:
        """Box ``i``'s restricted parameters (default: the chosen box), most significant
        first, as :meth:`~deterrence.analysis.discovery.PrimResult.box_limits`."""
        box = self.chosen if i is None else int(i)
        count = len(self.trajectory)
        if not -count <= box < count:
            raise ParameterError(f"box {box} is not on the trajectory (boxes 0 to "
                                 f"{count - 1})")
        box %= count
        rows = self.boxes[self.boxes["box"] == box]
        columns = ["parameter", "min", "max", "qp_lower", "qp_upper", "qp_value",
                   "sampled_min", "sampled_max"]
        return rows[columns].sort_values("qp_value", kind="stable").reset_index(drop=True)


def read_prim(path: str | Path, error: type[ModelError] = ParameterError) -> PrimBoxes:
    """``prim.csv`` (as :meth:`PrimResult.to_csv` writes it) with its trajectory."""
    path = Path(path)
    table = pd.read_csv(path)
    missing = [c for c in (*PRIM_COLUMNS, "n", "k", "min", "max", "qp_value",
                           "sampled_min", "sampled_max") if c not in table.columns]
    if missing:
        raise error(f"the column(s) {', '.join(missing)} that its figures need are "
                    "missing", path=path, hint="a prim.csv of an older version: rerun "
                    "the same command into the same folder (the metrics are kept; only "
                    "the analyses run again)")
    if table.empty:
        raise error("no box in this table", path=path)
    table["chosen"] = table["chosen"].astype(str).str.lower() == "true"
    stats = ["coverage", "density", "mass", "res_dim", "n", "k"]
    boxes = table.groupby("box", sort=True)[stats].first()
    first = boxes.iloc[0]
    whole = pd.DataFrame({"coverage": [1.0], "mass": [1.0], "res_dim": [0],
                          "n": [round(first["n"] / first["mass"])],
                          "k": [round(first["k"] / first["coverage"])]}, index=[0])
    whole["density"] = whole["k"] / whole["n"]
    trajectory = pd.concat([whole[stats], boxes])
    trajectory.index.name = "box"
    trajectory[["res_dim", "n", "k"]] = trajectory[["res_dim", "n", "k"]].astype(int)
    chosen = table.loc[table["chosen"], "box"]
    threshold = float(table["threshold"].iloc[0]) if "threshold" in table else None
    label = table["cases"].iloc[0] if "cases" in table else ""
    return PrimBoxes(trajectory=trajectory, boxes=table,
                     chosen=int(chosen.iloc[0]) if len(chosen) else int(boxes.index[-1]),
                     threshold=threshold,
                     label="" if pd.isna(label) else str(label))


# -- robustness ----------------------------------------------------------------------------


def robustness_of(ds: xr.Dataset, metric: str | None = None,
                  error: type[ModelError] = ParameterError) -> pd.DataFrame:
    """The robustness table of the ensemble's policies on its recorded ``satisficing``
    condition (what the run wrote to ``robustness.csv``)."""
    from .robustness import robustness

    if "policy" not in ds.dims and "policy" in ds.coords:  # one policy, selected
        ds = ds.expand_dims("policy")
    cond = ensembles.conditions(ds).get("satisficing")
    source = Path(str(ds.encoding.get("source", "the results"))).name
    if cond is None:
        raise error(f"{source} records no satisficing condition on its metrics: "
                    "robustness compares policies by the share of futures that meet one",
                    hint="run with experiment.satisficing='METRIC > X'")
    if metric is not None and metric != cond.metric:
        ensembles.choose_metrics(ds, metric, error)
        raise error(f"robustness is measured on the satisficing condition's metric "
                    f"({cond}), not {metric!r}", hint="leave out --outcome, or draw "
                    f"{metric} with --kind outcomes")
    table = robustness(ds[cond.metric], threshold=cond.threshold,
                       larger_is_better=cond.larger_is_better, strict=cond.strict)
    table.attrs["condition"] = str(cond)
    if ds.attrs.get("scenario"):
        table.attrs["scenario"] = str(ds.attrs["scenario"])
    return table


def read_robustness(path: str | Path) -> pd.DataFrame:
    """``robustness.csv``, with the attributes its figure reads taken from the run's
    metrics beside it (the condition, the number of futures) when they are there."""
    path = Path(path)
    table = pd.read_csv(path, index_col="policy")
    try:
        ds = ensembles.read_metrics(path.parent)
        cond = ensembles.conditions(ds).get("satisficing")
    except (ModelError, OSError):
        return table
    if cond is not None:
        table.attrs.update({"metric": cond.metric, "threshold": cond.threshold,
                            "larger_is_better": cond.larger_is_better,
                            "futures": int(ds.sizes["run"]), "condition": str(cond)})
    if ds.attrs.get("scenario"):
        table.attrs["scenario"] = str(ds.attrs["scenario"])
    return table
