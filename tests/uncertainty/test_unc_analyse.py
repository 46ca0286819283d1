"""The experiment's analyses end to end: what ``deterrence run experiment=uncertainty``
writes with its default analyses (Sobol indices of a Saltelli design, PRIM boxes of the
failure condition, robustness of the policies). The analysis functions live in
``deterrence.analysis`` (sensitivity, discovery, robustness) and are tested there; this
checks the wiring: the right inputs in, the files out."""

from __future__ import annotations

import pandas as pd
import pytest
import xarray as xr
from unc_support import cli

for module in ("sensitivity", "discovery", "robustness"):
    pytest.importorskip(f"deterrence.analysis.{module}")


def test_the_default_analyses_write_their_files(tmp_path):
    run_dir = tmp_path / "run"
    proc = cli("run", "experiment=uncertainty", "experiment.samples=8",
               "solver.final_time=20", "experiment.policies=[status_quo,reassurance]",
               f"hydra.run.dir={run_dir}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in ("sensitivity.nc", "prim.csv", "robustness.csv", "outcomes.csv",
                 "design.nc"):
        assert (run_dir / name).exists(), name
    from deterrence import plot

    drawn = {"tornado.png": "tornado", "prim.png": "prim_tradeoff",
             "prim_box.png": "prim_box", "robustness.png": "robustness_bars"}
    for name, function in drawn.items():  # each figure, once plot has its function
        assert (run_dir / name).exists() == hasattr(plot, function), name
    indices = xr.load_dataset(run_dir / "sensitivity.nc")
    assert set(indices["S1"].dims) == {"outcome", "policy", "parameter"}
    assert indices.sizes["parameter"] == 22
    assert "S2" in indices  # the preset asks for second-order indices
    table = pd.read_csv(run_dir / "robustness.csv", index_col=0)
    assert sorted(table.index) == ["reassurance", "status_quo"]  # sorted by regret
