"""The short table a run ends with: the final value of the model's key outcomes per
scenario, policy or swept value, written as ``summary.csv`` beside the results and
printed when ``deterrence run`` finishes (``deterrence summary`` makes any other); of an
uncertainty run, the table of its per-run metrics per policy."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import xarray as xr

from ..analysis import ensembles, summary
from ..errors import ModelError
from ..results import key_outputs, read_results
from .config import COMBINED, RESULTS
from .folders import fresh

SUMMARY = "summary.csv"
log = logging.getLogger("deterrence.experiments")


def outcome_variables(ds: xr.Dataset) -> list[str]:
    """The key outputs the model's config names, else every stock."""
    names = [n for n in key_outputs(ds) if n in ds.data_vars]
    return names or [str(n) for n, v in ds.data_vars.items() if v.attrs.get("kind") == "stock"]


def run_table(ds: xr.Dataset) -> pd.DataFrame:
    """The final key outcomes; of an uncertainty ensemble, its per-run metrics per policy
    (as ``deterrence summary`` prints them)."""
    if ensembles.is_ensemble(ds):
        source = Path(str(ds.encoding.get("source", RESULTS)))
        return ensembles.ensemble_table(ensembles.as_metrics(ds, source))
    return summary.summarise(ds, "final", outcome_variables(ds) or None)


def write_summary(ds: xr.Dataset, folder: Path) -> None:
    """``summary.csv`` beside the results; a table that cannot be made is only logged
    (the results are what matters, and they are written already)."""
    try:
        summary.write_table(run_table(ds), fresh(folder / SUMMARY))
    except ModelError as exc:
        log.warning("summary.csv not written: %s", exc)


def print_summaries(folders: list[Path]) -> None:
    """Print the table of each folder's merged results (or its single run's)."""
    for folder in folders:
        path = folder / COMBINED if (folder / COMBINED).exists() else folder / RESULTS
        if not path.exists():
            continue
        try:
            text = summary.format_table(run_table(read_results(path)))
        except (ModelError, OSError, ValueError) as exc:
            log.warning("no summary of %s: %s", path, exc)
            continue
        print(f"\n{path}\n{text}")
