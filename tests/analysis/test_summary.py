"""``deterrence summary`` / ``export``: tables whose numbers are the Dataset's own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from deterrence import cli
from deterrence.analysis import summary
from deterrence.errors import ParameterError
from deterrence.results import write_results

TIMES = np.arange(0.0, 10.5, 0.5)


def sweep() -> xr.Dataset:
    """Two scenarios x three lever values, trust and survival over time, a constant."""
    scen, lever = ["baseline", "shock"], [0.0, 0.5, 1.0]
    rng = np.random.default_rng(3)
    trust = rng.uniform(0, 1, (len(scen), len(lever), len(TIMES)))
    survival = np.cumprod(np.full_like(trust, 0.99), axis=-1)
    ds = xr.Dataset(
        {"mutual_trust": (("scenario", "joint_exercises", "time"), trust, {"units": "Dmnl"}),
         "deterrence_survival": (("scenario", "joint_exercises", "time"), survival),
         "gain": ((), 2.0, {"units": "1/Year"})},
        coords={"scenario": scen, "joint_exercises": lever,
                "time": ("time", TIMES, {"units": "Year"})},
        attrs={"key_outputs": ["deterrence_survival", "mutual_trust"]})
    return ds


@pytest.mark.parametrize("metric", ["final", "min", "max", "mean"])
def test_each_cell_is_the_metric_of_that_label(metric: str) -> None:
    ds = sweep()
    table = summary.summarise(ds, metric)
    assert list(table.columns) == ["deterrence_survival", "mutual_trust [Dmnl]"]
    assert table.index.names == ["scenario", "joint_exercises"]
    for (scen, lever), row in table.iterrows():
        series = ds.mutual_trust.sel(scenario=scen, joint_exercises=lever).values
        expected = series[-1] if metric == "final" else getattr(np, metric)(series)
        assert row["mutual_trust [Dmnl]"] == pytest.approx(expected, rel=1e-12)


def test_time_below_adds_up_the_saved_intervals_that_start_below() -> None:
    ds = sweep()
    table = summary.summarise(ds, "time_below=0.5", ["mutual_trust"])
    for (scen, lever), row in table.iterrows():
        series = ds.mutual_trust.sel(scenario=scen, joint_exercises=lever).values
        expected = 0.5 * np.count_nonzero(series[:-1] < 0.5)
        assert row.iloc[0] == pytest.approx(expected)
    above = summary.summarise(ds, "time_above=0.5", ["mutual_trust"])
    assert (table.iloc[:, 0] + above.iloc[:, 0] <= TIMES[-1] + 1e-12).all()
    assert "time below=0.5 (Year)" in table.attrs["caption"]


def test_rows_follow_by_and_an_ensemble_is_averaged_and_says_so() -> None:
    ds = sweep().isel(joint_exercises=0, drop=True).rename(scenario="run")
    table = summary.summarise(ds, "final", ["mutual_trust"])
    assert len(table) == 1
    assert table.iloc[0, 0] == pytest.approx(float(ds.mutual_trust.isel(time=-1).mean()))
    assert "mean of 2 runs" in table.attrs["caption"]
    per_run = summary.summarise(ds, "final", ["mutual_trust"], by=["run"])
    assert len(per_run) == 2
    by_lever = summary.summarise(sweep(), "final", by=["joint_exercises"])
    assert by_lever.index.names == ["joint_exercises", "scenario"]  # never hidden


def test_constants_are_their_own_value_and_spend_no_time_below() -> None:
    ds = sweep()
    assert summary.summarise(ds, "max", ["gain"]).iloc[0, 0] == 2.0
    assert summary.summarise(ds, "time_below=5", ["gain"]).iloc[0, 0] == 0.0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"metric": "median"}, "unknown metric 'median'"),
    ({"metric": "time_below"}, "needs a threshold"),
    ({"metric": "time_below=x"}, "needs a threshold"),
    ({"variables": ["mutual_trus"]}, "did you mean 'mutual_trust'"),
    ({"by": ["policy"]}, "no such dimension"),
])
def test_bad_requests_say_what_is_valid(kwargs: dict, message: str) -> None:
    with pytest.raises(ParameterError) as caught:
        summary.summarise(sweep(), **kwargs)
    assert message in str(caught.value)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".md"])
def test_tables_are_written_in_each_format(tmp_path: Path, suffix: str) -> None:
    table = summary.summarise(sweep(), "final")
    path = summary.write_table(table, tmp_path / f"t{suffix}")
    if suffix == ".csv":
        back = pd.read_csv(path)
    elif suffix == ".xlsx":
        back = pd.read_excel(path, engine="openpyxl")
    else:
        text = path.read_text()
        assert text.startswith("final value")
        assert "| scenario | joint_exercises | deterrence_survival |" in text
        return
    assert list(back.columns[:2]) == ["scenario", "joint_exercises"]
    assert np.allclose(back["mutual_trust [Dmnl]"], table["mutual_trust [Dmnl]"])


def test_export_is_one_row_per_time_and_label(tmp_path: Path) -> None:
    ds = sweep()
    path = summary.export(ds, tmp_path / "x.csv")
    back = pd.read_csv(path)
    assert len(back) == ds.sizes["time"] * 6
    assert list(back.columns[:3]) == ["time", "scenario", "joint_exercises"]
    row = back[(back.scenario == "shock") & (back.joint_exercises == 0.5) & (back.time == 2)]
    assert row.mutual_trust.item() == pytest.approx(
        float(ds.mutual_trust.sel(scenario="shock", joint_exercises=0.5, time=2)))
    assert (back.gain == 2.0).all()


def test_the_command_line_prints_writes_and_refuses(tmp_path: Path, capsys) -> None:
    results = write_results(sweep(), tmp_path / "combined.nc")
    assert cli.main(["summary", str(results), "--vars", "mutual_trust", "--out",
                     str(tmp_path / "s.csv")]) == 0
    out = capsys.readouterr().out
    assert "mutual_trust [Dmnl]" in out
    assert (tmp_path / "s.csv").exists()
    assert cli.main(["export", str(results), "--out", str(tmp_path / "x.xlsx")]) == 0
    assert cli.main(["summary", str(results), "--metric", "median"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: unknown metric 'median'")
    assert cli.main(["export", str(results), "--out", str(tmp_path / "x.txt")]) == 2
    assert "write one of .csv, .xlsx, .parquet" in capsys.readouterr().err
    not_nc = tmp_path / "notes.nc"
    not_nc.write_text("hello")
    assert cli.main(["summary", str(not_nc)]) == 2
    assert "not a NetCDF file" in capsys.readouterr().err


def test_recovery_is_the_analysis_recovery_time_against_the_same_policy_at_baseline() -> None:
    from deterrence.analysis import recovery_time

    t = TIMES
    dip = np.where(t >= 2, -np.exp(-(t - 2)) * (t >= 2), 0.0)  # falls at 2, recovers
    trust = np.stack([np.stack([0.5 + 0 * t, 0.6 + 0 * t]),  # baseline x 2 policies
                      np.stack([0.5 + dip, 0.6 + 0.5 * dip])])  # shock x 2 policies
    ds = xr.Dataset({"mutual_trust": (("scenario", "policy", "time"), trust)},
                    coords={"scenario": ["baseline", "shock"], "policy": ["p", "q"],
                            "time": ("time", t, {"units": "Year"})},
                    attrs={"shock_windows": '{"shock": [[2, 3, "shock"]], "baseline": []}'})
    table = summary.summarise(ds, "recovery")
    assert list(table.columns) == ["mutual_trust [Year]"]
    for policy in ("p", "q"):
        expected = float(recovery_time(ds.mutual_trust.sel(scenario="shock", policy=policy),
                                       ds.mutual_trust.sel(scenario="baseline", policy=policy),
                                       onset=2))
        assert table.loc[("shock", policy)].iloc[0] == expected
        assert np.isnan(table.loc[("baseline", policy)].iloc[0])
    later = summary.summarise(ds, "recovery=2.5")
    assert later.loc[("shock", "p")].iloc[0] <= table.loc[("shock", "p")].iloc[0]
    with pytest.raises(ParameterError, match="no such label"):
        summary.summarise(ds, "recovery", baseline="calm")


def test_rows_can_be_kept_by_label_after_the_metrics_are_computed() -> None:
    table = summary.summarise(sweep(), "final")
    shock = summary.select_rows(table, ["scenario=shock", "joint_exercises=0.5"])
    assert shock.index.tolist() == [("shock", 0.5)]
    with pytest.raises(ParameterError, match="not a label of scenario"):
        summary.select_rows(table, ["scenario=calm"])
    with pytest.raises(ParameterError, match="one of the rows' dimensions"):
        summary.select_rows(table, ["policy=x"])
