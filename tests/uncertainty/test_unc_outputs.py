"""``deterrence summary`` and ``deterrence plot`` on an uncertainty run's outputs, as a user
runs them: the table's numbers are the store's own, each figure kind draws one mark per
policy, parameter or box, the kind follows the file, and bad input is one error line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from unc_support import cli

from deterrence import plot
from deterrence import uncertainty as unc
from deterrence.analysis import discovery, ensembles, outputs
from deterrence.cli import main

POLICIES = ["status_quo", "reassurance"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """64 LHS futures of 20 years, two policies, every analysis (feature scores, PRIM,
    robustness), in chunks of 16."""
    folder = tmp_path_factory.mktemp("unc") / "run"
    proc = cli("run", "experiment=uncertainty", "experiment.samples=64",
               "experiment.sampler=lhs", f"experiment.policies=[{','.join(POLICIES)}]",
               "solver.final_time=20", "experiment.chunk=16", f"hydra.run.dir={folder}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    (folder.parent / "stdout.txt").write_text(proc.stdout)
    return folder


@pytest.fixture(scope="module")
def store(run_dir):
    with xr.open_zarr(run_dir / "metrics.zarr", consolidated=False) as opened:
        return opened.load()


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_the_summary_is_the_stores_numbers(run_dir, store, capsys, tmp_path):
    status, out, err = run_cli(capsys, "summary", str(run_dir), "--out",
                               str(tmp_path / "t.csv"))
    assert status == 0, err
    assert out.startswith("per-run metrics of 64 futures under 2 policies (metrics.zarr)")
    table = pd.read_csv(tmp_path / "t.csv").set_index(["policy", "metric"])
    outcomes = pd.read_csv(run_dir / "outcomes.csv").set_index(["policy", "metric"])
    assert list(table.index.get_level_values("policy").unique()) == POLICIES
    assert len(table) == 2 * 6
    for (policy, metric), row in table.iterrows():
        values = store[metric].sel(policy=policy).values
        assert row["mean"] == pytest.approx(values.mean(), rel=1e-12)
        for q in (5, 50, 95):
            assert row[f"p{q}"] == pytest.approx(np.percentile(values, q), rel=1e-12)
        assert row["runs"] == 64
        assert row["nominal"] == pytest.approx(outcomes.loc[(policy, metric), "nominal"],
                                               rel=1e-12)
        failing, satisficing = row["share survival_50y < 0.5"], row["share survival_50y > 0.7"]
        if metric == "survival_50y":
            assert failing == pytest.approx(np.mean(values < 0.5))
            assert satisficing == pytest.approx(np.mean(values > 0.7))
        else:  # the conditions are on survival only: blank on the other rows
            assert np.isnan(failing)
            assert np.isnan(satisficing)
    # printed aligned: every row's mean ends in the same column as its header
    lines = out.splitlines()
    header = lines[1]  # after the caption
    end = header.index(" mean") + len(" mean")
    rows = [line for line in lines if line.startswith(("status_quo", "reassurance", " "))
            and "Dmnl" in line]
    assert rows
    for line in rows:
        assert line[end - 1] != " ", line
        assert line[end] == " ", line


def test_the_summary_takes_other_quantiles(run_dir, store, capsys, tmp_path):
    status, _, err = run_cli(capsys, "summary", str(run_dir), "--quantiles", "10,90",
                             "--vars", "trust_50y", "--out", str(tmp_path / "q.csv"))
    assert status == 0, err
    table = pd.read_csv(tmp_path / "q.csv").set_index("policy")
    assert [c for c in table if c.startswith("p")] == ["p10", "p90"]
    for policy in POLICIES:
        values = store["trust_50y"].sel(policy=policy).values
        assert table.loc[policy, "p10"] == pytest.approx(np.percentile(values, 10))
        assert table.loc[policy, "p90"] == pytest.approx(np.percentile(values, 90))


def test_the_run_ends_with_the_same_table(run_dir, capsys):
    """What ``deterrence run`` prints of the run is ``deterrence summary``'s table."""
    status, out, _ = run_cli(capsys, "summary", str(run_dir / "results.nc"))
    assert status == 0
    assert out.strip() in (run_dir.parent / "stdout.txt").read_text()


def test_the_summary_selects_metrics_and_writes_excel_and_markdown(run_dir, capsys, tmp_path):
    status, _, err = run_cli(capsys, "summary", str(run_dir / "metrics.zarr"), "--vars",
                             "survival_50y", "--sel", "policy=reassurance", "--out",
                             str(tmp_path / "t.xlsx"))
    assert status == 0, err
    sheet = pd.read_excel(tmp_path / "t.xlsx", engine="openpyxl")
    assert sheet[["policy", "metric"]].values.tolist() == [["reassurance", "survival_50y"]]
    status, _, err = run_cli(capsys, "summary", str(run_dir / "results.nc"), "--out",
                             str(tmp_path / "t.md"))
    assert status == 0, err
    text = (tmp_path / "t.md").read_text()
    assert text.count("| reassurance |") == 6
    assert "nan" not in text  # shares that do not apply are blank


def test_each_kind_is_picked_from_the_file_and_written_beside_it(run_dir, capsys):
    # the run drew its own figures too, the tornado of feature scores among them
    for name in ("outcomes.png", "tornado.png", "prim.png", "prim_box.png",
                 "robustness.png"):
        assert (run_dir / name).exists(), name
    expected = {str(run_dir): "metrics_outcomes.png",
                str(run_dir / "metrics.zarr"): "metrics_outcomes.png",
                str(run_dir / "sensitivity.nc"): "sensitivity_tornado.png",
                str(run_dir / "prim.csv"): "prim_prim.png",
                str(run_dir / "robustness.csv"): "robustness_robustness.png"}
    for source, name in expected.items():
        status, out, err = run_cli(capsys, "plot", source)
        assert status == 0, err
        assert out.strip() == f"wrote {run_dir / name}"
        assert (run_dir / name).read_bytes().startswith(b"\x89PNG")
    for kind in ("robustness", "tornado", "prim", "prim_box"):
        status, out, err = run_cli(capsys, "plot", str(run_dir), "--kind", kind, "--out",
                                   str(run_dir / f"k_{kind}.png"))
        assert status == 0, (kind, err)


def test_the_outcome_distribution_draws_one_line_and_histogram_per_policy(run_dir, store):
    ds = ensembles.read_metrics(run_dir)
    fig = plot.make_figure(ds, "outcomes")
    ecdf, *hists = fig.axes
    steps = [line for line in ecdf.get_lines() if line.get_drawstyle() == "steps-post"]
    assert len(steps) == 2
    assert len(hists) == 2
    legend = [t.get_text() for t in ecdf.get_legend().get_texts()]
    for policy, line in zip(POLICIES, steps, strict=True):
        values = store["survival_50y"].sel(policy=policy).values
        np.testing.assert_array_equal(line.get_xdata(), np.sort(values))
        share = f"{np.mean(values < 0.5):.0%} fail (< 0.5)"
        assert any(policy.replace("_", " ").capitalize() in t and share in t for t in legend)
    nominal = ensembles.nominal(ds)
    for policy, ax in zip(POLICIES, hists, strict=True):
        assert sum(p.get_height() for p in ax.patches) == 64  # every future in a bin
        xs = [line.get_xdata()[0] for line in ax.get_lines()]
        assert nominal[policy]["survival_50y"] in xs  # the nominal run marked
        assert f"nominal {nominal[policy]['survival_50y']:#.3g}" in ax.get_title(loc="left")
    other = plot.make_figure(ds, "outcomes", outcome="trust_50y")
    assert "Trust 50y" in other._suptitle.get_text()


def test_robustness_tornado_and_prim_draw_what_the_files_hold(run_dir):
    table = pd.read_csv(run_dir / "robustness.csv", index_col="policy")
    fig = plot.make_figure(ensembles.read_metrics(run_dir), "robustness")
    shares = sorted(p.get_width() for p in fig.axes[0].patches)
    assert shares == sorted(table["satisficing"])
    assert "futures with survival_50y > 0.7" in fig.axes[0].get_title(loc="left")
    assert "scenario baseline" in fig._supxlabel.get_text()
    computed = outputs.robustness_of(ensembles.read_metrics(run_dir))
    pd.testing.assert_frame_equal(computed.reset_index(), table.reset_index(),
                                  check_dtype=False, rtol=1e-12)

    indices = xr.load_dataset(run_dir / "sensitivity.nc")
    fig = plot.sensitivity_figure(indices, "tornado")
    assert len(fig.axes[0].patches) == indices.sizes["parameter"] == 22
    assert "under status quo: feature scores" in fig.axes[0].get_title(loc="left")
    assert "scenario baseline; policy status_quo, the first of 2" in fig._supxlabel.get_text()
    fig = plot.sensitivity_figure(indices.sel(policy="reassurance"), "tornado", "trust_50y")
    assert "trust 50y under reassurance" in fig.axes[0].get_title(loc="left")

    boxes = outputs.read_prim(run_dir / "prim.csv")
    fig = plot.make_figure(boxes, "prim")
    (points,) = [c for c in fig.axes[0].collections if len(c.get_offsets()) > 1]
    assert len(points.get_offsets()) == len(boxes.trajectory)
    fig = plot.make_figure(boxes, "prim_box")
    assert len(fig.axes[0].patches) == 2 * len(boxes.box_limits())  # sampled and box range


def test_prim_csv_reads_back_as_the_analysis_computed_it(run_dir, store):
    """The trajectory and chosen box of prim.csv equal PRIM run again on the design."""
    design = unc.Design.from_dataset(xr.load_dataset(run_dir / "design.nc"))
    y = store["survival_50y"].sel(policy="status_quo").values < 0.5
    again = discovery.prim(design.frame(), y)
    boxes = outputs.read_prim(run_dir / "prim.csv")
    assert boxes.chosen == again.chosen
    assert boxes.threshold == again.threshold
    assert boxes.label == "survival_50y < 0.5 under status_quo (scenario baseline)"
    columns = ["coverage", "density", "mass", "res_dim", "n", "k"]
    pd.testing.assert_frame_equal(boxes.trajectory[columns], again.trajectory[columns],
                                  check_dtype=False, check_names=False)
    pd.testing.assert_frame_equal(boxes.box_limits(), again.box_limits(), check_dtype=False)


BAD = {
    "empty_folder": (["plot", "{empty}"], ["no metrics.zarr, combined.nc or results.nc in "
                                           "this folder (it is empty)"]),
    "folder_without_the_kinds_file": (["plot", "{empty}", "--kind", "prim"],
                                      ["--kind prim: no prim.csv in this folder"]),
    "unknown_metric": (["plot", "{run}", "--outcome", "survival_5y"],
                       ["'survival_5y' is not a metric", "survival_50y"]),
    "kind_not_for_the_file": (["plot", "{run}/metrics.zarr", "--kind", "tornado"],
                              ["--kind tornado draws sensitivity indices",
                               "--kind outcomes, robustness"]),
    "prim_kind_of_sensitivity": (["plot", "{run}/sensitivity.nc", "--kind", "prim"],
                                 ["--kind prim draws PRIM boxes (prim.csv)",
                                  "sensitivity.nc holds sensitivity indices"]),
    "unknown_outcome_of_indices": (["plot", "{run}/sensitivity.nc", "--outcome", "x"],
                                   ["--outcome 'x'", "survival_50y"]),
    "not_a_table": (["plot", "{run}/outcomes.csv"], ["neither PRIM's boxes nor a "
                                                     "robustness table"]),
    "robustness_of_another_metric": (["plot", "{run}", "--kind", "robustness", "--outcome",
                                      "trust_50y"],
                                     ["satisficing condition's metric (survival_50y > 0.7)",
                                      "--kind outcomes"]),
    "a_box_not_on_the_trajectory": (["plot", "{run}/prim.csv", "--kind", "prim_box", "--box",
                                     "999"], ["box 999 is not on the trajectory"]),
    "sel_on_a_table": (["plot", "{run}/prim.csv", "--sel", "policy=status_quo"],
                       ["--sel: prim.csv is a table"]),
    "unknown_policy": (["plot", "{run}", "--sel", "policy=nope"],
                       ["'nope' not among policy labels", "status_quo"]),
    "summary_empty_folder": (["summary", "{empty}"], ["no metrics.zarr"]),
    "summary_quantiles": (["summary", "{run}", "--quantiles", "5,500"],
                          ["--quantiles '5,500': expected percents from 0 to 100"]),
    "summary_metric": (["summary", "{run}", "--metric", "min"],
                       ["--metric min", "already one number per run"]),
    "summary_unknown_metric": (["summary", "{run}", "--vars", "trust"],
                               ["'trust' is not a metric", "trust_50y"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_error_line(case, run_dir, tmp_path, capsys):
    args, words = BAD[case]
    (tmp_path / "empty").mkdir()
    args = [a.format(run=run_dir, empty=tmp_path / "empty") for a in args]
    status, out, err = run_cli(capsys, *args)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    for word in words:
        assert word in lines[0]
    assert status == 2
    assert out == ""


def test_a_store_of_the_python_api_reads_without_the_runs_records(model, design, metrics,
                                                                  tmp_path):
    """A store written by ``run_ensemble`` alone has no results.nc beside it: no nominal
    run, no conditions; a metric that is not finite in every run (a recovery that never
    happens) is summarised over its finite runs and says how many are not."""
    from unc_support import POLICIES as TWO
    from unc_support import SHORT

    from deterrence.analysis import summary

    path = tmp_path / "metrics.zarr"
    ds = unc.run_ensemble(model, design, metrics, store=path, chunk=20, policies=TWO,
                          **SHORT)
    table = summary.summary_of(path)
    assert "nominal" not in table
    assert not [c for c in table if c.startswith("share")]
    for (policy, metric), row in table.iterrows():
        values = ds[metric].sel(policy=policy).values
        finite = values[np.isfinite(values)]
        assert row["mean"] == pytest.approx(finite.mean(), rel=1e-12, nan_ok=True)
        assert row["not finite"] == values.size - finite.size
    assert table["not finite"].any(), "the fixture's recovery should not always happen"
    fig = plot.make_figure(ensembles.read_metrics(path), "outcomes")
    assert "no nominal run recorded" in fig._supxlabel.get_text()


def test_an_incomplete_store_is_refused(run_dir, tmp_path, capsys):
    """A run killed mid-way leaves NaN runs: the table and figures refuse to pass them
    off as outcomes, and say how to finish."""
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    xr.Dataset({"done": (("chunk",), np.zeros(1, dtype=bool))}).to_zarr(
        copy / "metrics.zarr", region={"chunk": slice(1, 2)}, mode="r+",
        consolidated=False, zarr_format=3)
    for command in ("summary", "plot"):
        status, _, err = run_cli(capsys, command, str(copy))
        assert status == 2
        assert "incomplete: 3 of 4 chunks" in err
        assert "resumes" in err
        assert len(err.strip().splitlines()) == 1
