"""Tables of outcome metrics, and tidy exports of the time series, from results files.

An analyst's first questions about a sweep are numbers: where each variable ends, how
low it falls, how long it stays below a threshold, per scenario, policy or swept value.
:func:`summarise` answers them as a pandas table (one row per label of the swept
dimensions, one column per variable, units in the header); :func:`write_table` writes it
as CSV, Excel or Markdown, and :func:`tidy` gives the time series in long form for any
other tool. Everything here reads Datasets only.

Metrics, each computed per run over the saved times:

- ``final``, ``min``, ``max``, ``mean``: the value at the last time, the lowest, the
  highest, and the mean over the saved times;
- ``time_below=X`` / ``time_above=X``: how long the variable is below (above) X, adding
  up each saved interval whose starting value is below (above) X, in the time's units.

An ensemble's ``run`` dimension (a Monte Carlo or Sobol sample) is averaged unless it is
one of the ``by`` dimensions; the table's caption says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import ParameterError
from ..files import atomic_write, atomic_write_text
from ..names import close_matches
from ..results import is_store, key_outputs, read_results

TIME, RUN, SCENARIO = "time", "run", "scenario"
PLAIN_METRICS = ("final", "min", "max", "mean")
RECOVERY_SHARE = 0.9  # recovered: 90% of the largest gap below the baseline has closed
THRESHOLD_METRICS = ("time_below", "time_above")
METRIC_HELP = ("final, min, max, mean, time_below=X, time_above=X, or recovery "
               "(recovery=ONSET)")
TABLE_SUFFIXES = (".csv", ".xlsx", ".md")
EXPORT_SUFFIXES = (".csv", ".xlsx", ".parquet")


@dataclass(frozen=True)
class Metric:
    """A metric as the user names it: ``final`` or ``time_below=0.5``."""

    name: str
    threshold: float | None = None

    @classmethod
    def parse(cls, text: str) -> Metric:
        name, sep, value = text.strip().partition("=")
        name = name.strip().lower()
        if name in PLAIN_METRICS and not sep:
            return cls(name)
        if name == "recovery":
            onset = float(value) if sep and _is_number(value) else None
            if sep and onset is None:
                raise ParameterError(f"metric {text!r}: recovery=ONSET takes the shock's "
                                     "start time, e.g. recovery=10", hint=METRIC_HELP)
            return cls(name, onset)
        if name in THRESHOLD_METRICS:
            try:
                threshold = float(value)
            except ValueError:
                threshold = float("nan")
            if not sep or not np.isfinite(threshold):
                raise ParameterError(f"metric {text!r}: {name} needs a threshold, e.g. "
                                     f"{name}=0.5", hint=f"metrics: {METRIC_HELP}")
            return cls(name, threshold)
        raise ParameterError(f"unknown metric {text!r}", hint=f"choose one of {METRIC_HELP}")

    @property
    def label(self) -> str:
        return self.name if self.threshold is None else f"{self.name}={self.threshold:g}"

    def recovery(self, da: xr.DataArray, ds: xr.Dataset, baseline: str) -> xr.DataArray:
        """Per scenario (and every other label), the time from the largest gap below the
        baseline scenario (same policy and levers) until 90% of it has closed, from the
        shock's onset (its first shock window, or ``recovery=ONSET``); NaN where the
        variable does not fall below the baseline, inf where it does not recover."""
        from . import _dip_1d

        if SCENARIO not in da.dims or baseline not in da[SCENARIO].values.tolist():
            raise ParameterError(
                f"the recovery metric compares each scenario with the {baseline!r} "
                "scenario, and the results have no such label", hint="summarise a sweep "
                "over scenarios that includes the baseline (e.g. experiment=scenarios)")
        base = da.sel({SCENARIO: baseline})
        windows = _windows(ds)
        rows = []
        for label in da[SCENARIO].values.tolist():
            run = da.sel({SCENARIO: label})
            onset = self.threshold if self.threshold is not None else (
                (windows.get(str(label)) or [[np.nan]])[0][0])
            if label == baseline or onset is None or not np.isfinite(float(onset)):
                rows.append(xr.full_like(run.isel({TIME: 0}, drop=True), np.nan, dtype=float))
                continue
            gap = (base - run).sel({TIME: run[TIME] >= float(onset)})
            _, recovered = xr.apply_ufunc(
                lambda g, t: _dip_1d(g, t, RECOVERY_SHARE) if np.nanmax(g, initial=0) > 0
                else (np.nan, np.nan), gap, gap[TIME], input_core_dims=[[TIME], [TIME]],
                output_core_dims=[[], []], vectorize=True, output_dtypes=[float, float])
            rows.append(recovered)
        return xr.concat(rows, dim=da[SCENARIO])

    def of(self, da: xr.DataArray) -> xr.DataArray:
        """The metric of every run of ``da`` (a constant is its own final, min, ...)."""
        if TIME not in da.dims:
            if self.threshold is None:
                return da
            return xr.zeros_like(da, dtype=float)  # a constant spends no time switching
        if self.name == "final":
            return da.isel({TIME: -1})
        if self.threshold is None:
            return getattr(da, self.name)(TIME)
        times = da[TIME].values.astype(float)
        widths = xr.DataArray(np.diff(times), dims=[TIME], coords={TIME: da[TIME][:-1]})
        start = da.isel({TIME: slice(None, -1)})
        inside = start < self.threshold if self.name == "time_below" else \
            start > self.threshold
        return (inside * widths).sum(TIME)


def summarise(ds: xr.Dataset, metric: str | Metric = "final",
              variables: Sequence[str] | None = None,
              by: Sequence[str] | None = None, baseline: str = "baseline") -> pd.DataFrame:
    """One row per label of ``by`` (default: every dimension but time and run), one
    column per variable (``name [units]``), the metric's value in each cell.

    ``variables``: Python names in the Dataset; default the Dataset's ``key_outputs``
    attribute, else every variable. The table's ``attrs["caption"]`` says what it shows.
    """
    metric = metric if isinstance(metric, Metric) else Metric.parse(metric)
    names = _variables(ds, variables)
    extra = [d for d in ds.dims if d != TIME]
    if by is None:
        by = [d for d in extra if d != RUN]
    unknown = [d for d in by if d not in ds.dims or d == TIME]
    if unknown:
        raise ParameterError(f"--by {', '.join(unknown)}: the results have no such "
                             "dimension", hint="dimensions: "
                             + (", ".join(map(str, extra)) or "none besides time"))
    averaged = RUN in ds.dims and RUN not in by
    columns = {}
    for name in names:
        value = metric.recovery(ds[name], ds, baseline) if metric.name == "recovery" \
            else metric.of(ds[name])
        if averaged and RUN in value.dims:
            value = value.mean(RUN)
        rest = [d for d in value.dims if d not in by]
        if rest:  # a dimension neither kept nor averaged: keep it rather than hide it
            by = [*by, *rest]
        timed = metric.name == "recovery" or metric.name in THRESHOLD_METRICS
        columns[f"{name} [{_time_units(ds)}]" if timed else _header(ds[name])] = value
    for key, value in columns.items():  # a constant has every row's value
        missing = [d for d in by if d not in value.dims]
        columns[key] = value.expand_dims({d: ds[d].values for d in missing})
    table = _frame(columns, list(by), ds)
    what = {"final": "final value", "min": "minimum over time", "max": "maximum over time",
            "mean": "mean over time",
            "recovery": f"years to recover {RECOVERY_SHARE:.0%} of the largest gap below "
                        f"the {baseline!r} scenario after the shock"}.get(metric.name) or \
        f"{metric.label.replace('_', ' ')} ({_time_units(ds)})"
    table.attrs["caption"] = (f"{what}; " + (f"mean of {ds.sizes[RUN]} runs; "
                                             if averaged else "")
                              + Path(str(ds.attrs.get("model_file", "results"))).name)
    return table


def summary_of(path: str | Path, metric: str | None = None,
               variables: Sequence[str] | None = None, by: Sequence[str] | None = None,
               baseline: str = "baseline", quantiles: str | None = None) -> pd.DataFrame:
    """``deterrence summary``'s table of a results file or run folder: :func:`summarise`
    of time series, :func:`~.ensembles.ensemble_table` of an uncertainty ensemble's
    per-run metrics (``metrics.zarr``, its run folder or its results), with the
    ``quantiles`` (percent, comma-separated) over the futures."""
    from . import ensembles

    path = ensembles.locate(path)
    ds = None if is_store(path) else read_results(path)
    if ds is not None and not ensembles.is_ensemble(ds):
        if quantiles is not None:
            raise ParameterError(f"--quantiles {quantiles}: {path.name} holds time series; "
                                 "percentiles over futures are of an uncertainty run's "
                                 "per-run metrics", hint="summarise its metrics.zarr or "
                                 "its run folder")
        return summarise(ds, metric or "final", variables, by, baseline=baseline)
    given = [f"--{k} {v}" for k, v in (("metric", metric), ("by", " ".join(by or [])))
             if v]
    if given:
        raise ParameterError(f"{given[0]}: {path.name} holds per-run metrics of an "
                             "uncertainty ensemble, already one number per run",
                             hint="its table has one row per policy and metric; choose "
                             "metrics with --vars, rows with --sel policy=...")
    return ensembles.ensemble_table(ensembles.read_metrics(path) if ds is None else
                                    ensembles.as_metrics(ds, path), variables,
                                    _percents(quantiles))


def _percents(text: str | None) -> tuple[float, ...]:
    """``"5,50,95"`` as percents, each in [0, 100]."""
    from .ensembles import QUANTILES

    if text is None:
        return QUANTILES
    items = [t.strip() for t in str(text).split(",") if t.strip()]
    values = [float(t) if _is_number(t) else math.nan for t in items]
    if not values or not all(0 <= v <= 100 for v in values):
        raise ParameterError(f"--quantiles {text!r}: expected percents from 0 to 100, "
                             "comma-separated", hint="e.g. --quantiles 5,50,95")
    return tuple(dict.fromkeys(values))


def _variables(ds: xr.Dataset, variables: Sequence[str] | None) -> list[str]:
    wanted = [v.strip() for item in variables or [] for v in str(item).split(",") if v.strip()]
    if not wanted:
        wanted = [v for v in key_outputs(ds) if v in ds.data_vars] or [
            str(v) for v in ds.data_vars]
    missing = [v for v in wanted if v not in ds.data_vars]
    if missing:
        close = close_matches(missing[0], [str(v) for v in ds.data_vars])
        raise ParameterError(f"{missing[0]!r} is not a variable of the results",
                             hint=("did you mean " + " or ".join(map(repr, close)) + "?")
                             if close else "deterrence info MODEL lists the variables")
    return wanted


def _header(da: xr.DataArray) -> str:
    units = str(da.attrs.get("units", "")).strip()
    return f"{da.name} [{units}]" if units else str(da.name)


def _time_units(ds: xr.Dataset) -> str:
    return str(ds[TIME].attrs.get("units", "") or "time units") if TIME in ds.coords \
        else "time units"


def _frame(columns: dict[str, xr.DataArray], by: list[str], ds: xr.Dataset) -> pd.DataFrame:
    if not by:  # one run: its row is named by what ran, not "0"
        named = {k: str(ds.attrs[k]) for k in ("scenario", "policy") if ds.attrs.get(k)}
        index = pd.MultiIndex.from_tuples([tuple(named.values())], names=list(named)) \
            if named else pd.Index([Path(str(ds.attrs.get("model_file", "run"))).stem],
                                   name="model")
        return pd.DataFrame({k: [float(v)] for k, v in columns.items()}, index=index)
    return pd.DataFrame({k: v.transpose(*by).to_series() for k, v in columns.items()})


def select_rows(table: pd.DataFrame, sel: Sequence[str]) -> pd.DataFrame:
    """Keep the rows whose ``DIM`` is ``LABEL`` for each ``"DIM=LABEL"`` (after the
    metrics are computed, so a recovery still sees its baseline)."""
    for item in sel:
        dim, sep, label = (part.strip() for part in item.partition("="))
        names = [n for n in table.index.names if n is not None]
        if not sep or dim not in names:
            raise ParameterError(f"--sel {item!r}: expected DIM=LABEL with DIM one of the "
                                 f"rows' dimensions", hint="dimensions: "
                                 + (", ".join(map(str, names)) or "none"))
        values = table.index.get_level_values(dim)
        keep = values.astype(str) == label
        if values.dtype.kind in "iuf" and _is_number(label):
            keep = np.isclose(values.astype(float), float(label))
        if not keep.any():
            raise ParameterError(f"--sel {item!r}: {label!r} is not a label of {dim}",
                                 hint="labels: " + ", ".join(map(str, dict.fromkeys(values))))
        table = table[keep]
    return table


def format_table(table: pd.DataFrame) -> str:
    """Aligned text for the terminal: the caption, then the table (6 significant digits;
    missing cells as ``attrs["blank"]``, else NaN)."""
    text = table.to_string(float_format=lambda v: f"{v:.6g}",
                           na_rep=str(table.attrs.get("blank", "NaN")))
    caption = table.attrs.get("caption")
    return f"{caption}\n{text}" if caption else text


def write_table(table: pd.DataFrame, path: str | Path) -> Path:
    """Write the table as ``.csv``, ``.xlsx`` or ``.md``, atomically."""
    path = Path(path)
    suffix = _suffix(path, TABLE_SUFFIXES, "--out")
    flat = table.reset_index() if table.index.name or any(table.index.names) else table
    if suffix == ".md":
        return atomic_write_text(path, _markdown(flat, table.attrs.get("caption", ""),
                                                 str(table.attrs.get("blank", "nan"))))
    return _write_frame(flat, path, suffix, sheet="summary")


def _markdown(table: pd.DataFrame, caption: str, blank: str = "nan") -> str:
    """A GitHub table, written by hand: pandas' to_markdown needs an extra package."""
    def cell(v: object) -> str:
        if isinstance(v, float):
            return blank if np.isnan(v) else f"{v:.6g}"
        return str(v).replace("|", "\\|")
    head = "| " + " | ".join(cell(c) for c in table.columns) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(
        index=False)]
    return "\n".join(([caption, ""] if caption else []) + [head, rule, *rows]) + "\n"


def tidy(ds: xr.Dataset, variables: Sequence[str] | None = None) -> pd.DataFrame:
    """The time series in long form: one row per time and label, one column per variable.

    Columns: every dimension of the results (``time`` first, then scenario, policy, swept
    values, run), then one column per time-varying variable, named as in the Dataset.
    Constants go in a column too, repeated on every row, so each row is self-contained.
    """
    names = _variables(ds, variables) if variables else [str(v) for v in ds.data_vars]
    sub = ds[names]
    dims = [TIME, *[d for d in sub.dims if d != TIME]]
    frame = sub.to_dataframe(dim_order=[d for d in dims if d in sub.dims])
    return frame.reset_index()


def export(ds: xr.Dataset, path: str | Path,
           variables: Sequence[str] | None = None) -> Path:
    """Write :func:`tidy` as ``.csv``, ``.xlsx`` or ``.parquet``, atomically."""
    path = Path(path)
    suffix = _suffix(path, EXPORT_SUFFIXES, "--out")
    frame = tidy(ds, variables)
    if suffix == ".xlsx" and len(frame) > 1_048_575:
        raise ParameterError(f"{path}: {len(frame):,} rows do not fit in an Excel sheet "
                             "(1,048,576 rows)", hint="export to .csv or .parquet, or "
                             "choose fewer variables (--vars)")
    return _write_frame(frame, path, suffix, sheet="results")


def _suffix(path: Path, allowed: tuple[str, ...], option: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in allowed:
        raise ParameterError(f"{option} {path}: unknown file type {suffix or '(none)'!r}",
                             hint="write one of " + ", ".join(allowed))
    return suffix


def _write_frame(frame: pd.DataFrame, path: Path, suffix: str, sheet: str) -> Path:
    if suffix == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ParameterError(f"{path}: writing Parquet needs pyarrow",
                                 hint="pip install pyarrow, or export to .csv or .xlsx") \
                from None

    def write(tmp: str) -> None:
        if suffix == ".csv":
            frame.to_csv(tmp, index=False)
        elif suffix == ".xlsx":  # a handle: pandas checks a file name's extension
            with open(tmp, "wb") as handle:
                frame.to_excel(handle, index=False, sheet_name=sheet, engine="openpyxl")
        else:
            frame.to_parquet(tmp, index=False)

    return atomic_write(path, write)


def _is_number(text: str) -> bool:
    try:
        return bool(np.isfinite(float(text)))
    except ValueError:
        return False


def _windows(ds: xr.Dataset) -> dict[str, list[list[float]]]:
    """The shock windows the experiments record: scenario -> [[start, end, label], ...]."""
    import json

    try:
        windows = json.loads(str(ds.attrs.get("shock_windows", "{}")))
    except ValueError:
        return {}
    return windows if isinstance(windows, dict) else {}
