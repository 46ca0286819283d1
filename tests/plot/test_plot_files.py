"""Saving figures and the ``deterrence plot`` command path, end to end on NetCDF files."""

from __future__ import annotations

import argparse

import pytest
import xarray as xr
from plot_testdata import SCENARIOS, WINDOWS

from deterrence import cli, plot

MAGIC = {".png": b"\x89PNG", ".svg": b"<?xml", ".pdf": b"%PDF"}


@pytest.fixture
def figure(make_results):
    return plot.scenario_comparison(make_results(windows=WINDOWS), vars=["mutual_trust"])


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_save_figure_each_format_atomically_into_new_folders(figure, tmp_path, suffix):
    target = tmp_path / "new" / "folder" / f"compare{suffix}"
    written = plot.save_figure(figure, target)
    assert written == target
    data = target.read_bytes()
    assert len(data) > 1000
    assert data.startswith(MAGIC[suffix])
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # no temp left


def test_save_figure_upper_case_suffix(figure, tmp_path):
    assert plot.save_figure(figure, tmp_path / "a.PNG").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("name", ["figure.jpg", "figure"])
def test_save_figure_unknown_suffix_lists_allowed(figure, tmp_path, name):
    with pytest.raises(ValueError, match=r"allowed: \.png, \.svg, \.pdf"):
        plot.save_figure(figure, tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_failed_save_keeps_the_old_file_and_leaves_no_temp(figure, tmp_path, monkeypatch):
    target = tmp_path / "compare.png"
    target.write_bytes(b"old")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(figure, "savefig", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        plot.save_figure(figure, target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["compare.png"]


@pytest.fixture
def results_file(make_results, tmp_path):
    ds = make_results(dims={"scenario": SCENARIOS[:4], "run": list(range(8))}, windows=WINDOWS)
    path = tmp_path / "results.nc"
    ds.to_netcdf(path)
    return path


@pytest.mark.parametrize("kind", ["compare", "diff", "fan"])
def test_plot_command_default_output_next_to_results(results_file, kind):
    out = plot.plot_command(results_file, None, None, None, None, kind)
    assert out == results_file.with_name(f"results_{kind}.png")
    assert out.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_plot_command_writes_each_format(results_file, tmp_path, suffix):
    out = plot.plot_command(
        results_file,
        ["mutual_trust", "crisis_tension"],
        "scenario",
        "baseline",
        tmp_path / "figs" / f"out{suffix}",
        "compare",
    )
    assert out.stat().st_size > 1000


def test_plot_command_map(make_results, tmp_path):
    ds = make_results(dims={"joint_exercise_intensity": [0.0, 0.5, 1.0], "spending": [1, 2]})
    path = tmp_path / "grid.nc"
    ds.to_netcdf(path)
    out = plot.plot_command(path, None, None, None, tmp_path / "map.svg", "map")
    assert out.read_bytes().startswith(b"<?xml")
    out = plot.plot_command(
        path,
        None,
        None,
        None,
        tmp_path / "min.png",
        "map",
        x="spending",
        outcome="adversary_risk_estimate",
        reduce="min",
    )
    assert out.exists()


def test_plot_command_errors_name_the_file(results_file):
    with pytest.raises(plot.VariableNotFoundError, match=r"not in results\.nc"):
        plot.plot_command(results_file, ["mutal_trust"], None, None, None)
    with pytest.raises(FileNotFoundError, match="results file not found"):
        plot.plot_command(results_file.with_name("missing.nc"), None, None, None, None)
    with pytest.raises(ValueError, match="choose one of compare, diff, fan, map"):
        plot.plot_command(results_file, None, None, None, None, "pie")


def test_map_needs_two_swept_dimensions(results_file):
    with pytest.raises(plot.PlotInputError, match=r"--x, --y.*scenario \(4\), run \(8\)"):
        plot.plot_command(results_file, None, None, None, None, "map")


def test_add_plot_arguments_and_plot_from_args(results_file, tmp_path):
    parser = argparse.ArgumentParser(prog="deterrence plot")
    cli.add_plot_arguments(parser)
    out = tmp_path / "diff.pdf"
    args = parser.parse_args(
        [
            str(results_file),
            "--vars",
            "mutual_trust",
            "crisis_tension",
            "--by",
            "scenario",
            "--baseline",
            "baseline",
            "--kind",
            "diff",
            "--out",
            str(out),
        ]
    )
    assert args.vars == ["mutual_trust", "crisis_tension"]
    assert cli.plot_from_args(args) == out
    assert out.read_bytes().startswith(b"%PDF")
    defaults = parser.parse_args([str(results_file)])
    # no --kind: the kind follows what the file holds (compare for time series)
    assert (defaults.kind, defaults.reduce, defaults.out) == (None, "final", None)
    with pytest.raises(SystemExit):
        parser.parse_args([str(results_file), "--kind", "pie"])


def test_string_labels_survive_netcdf_round_trip(results_file):
    with xr.open_dataset(results_file) as ds:
        fig = plot.difference_from_baseline(ds.load(), vars=["mutual_trust"])
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "leadership_change" in labels
