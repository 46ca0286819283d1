"""``model.engine=pysd``: every kind of experiment runs on PySD's own runner, and gives
the results the compiled engine gives (same variables, dims and numbers)."""

from __future__ import annotations

import numpy as np
import pytest
from exp_support import REPO, cli, load, ok

SUBSCRIPTED = REPO.parent / "shared" / "test-models" / "tests" / "subscript_2d_arrays" / \
    "test_subscript_2d_arrays.mdl"


def _both(tmp_path, *overrides):
    """The same job on the compiled engine and on PySD's runner: their folders."""
    folders = []
    for engine in ("compiled", "pysd"):
        out = tmp_path / engine
        ok(cli(*overrides, f"model.engine={engine}", "solver.final_time=3",
               "output.plot=false", f"hydra.run.dir={out}"))
        folders.append(out)
    return folders


def _same(a, b) -> None:
    assert list(b.data_vars) == list(a.data_vars)
    assert dict(b.sizes) == dict(a.sizes)
    for name in a.data_vars:
        assert b[name].dims == a[name].dims, name
        assert b[name].attrs == a[name].attrs, name
        np.testing.assert_allclose(b[name].values, a[name].values, rtol=1e-12, atol=1e-12,
                                   err_msg=name)
    assert a.attrs["engine"] == "compiled"
    assert b.attrs["engine"] == "pysd"


def test_single_run_on_pysd_matches_the_compiled_engine(tmp_path):
    compiled, pysd = _both(tmp_path, "scenario=leadership_change")
    _same(load(compiled / "results.nc"), load(pysd / "results.nc"))
    assert (pysd / "summary.csv").read_text() == (compiled / "summary.csv").read_text()


def test_batched_lever_grid_on_pysd_matches_the_compiled_engine(tmp_path):
    compiled, pysd = _both(tmp_path, "experiment=lever_grid")
    a, b = load(compiled / "combined.nc"), load(pysd / "combined.nc")
    assert b["deterrence_survival"].dims == ("joint_exercises", "diplomatic_engagement",
                                             "time")
    _same(a, b)


def test_sensitivity_runs_on_pysd(tmp_path):
    out = tmp_path / "sens"
    ok(cli("experiment=sensitivity", "experiment.sensitivity.n=2", "model.engine=pysd",
           "solver.final_time=2", "output.plot=false", f"hydra.run.dir={out}"))
    indices = load(out / "sensitivity.nc")
    assert "parameter" in indices.dims
    assert load(out / "results.nc").attrs["engine"] == "pysd"


@pytest.mark.skipif(not SUBSCRIPTED.exists(), reason="no test-models suite")
def test_any_vensim_model_the_compiled_engine_refuses_runs_on_pysd(tmp_path):
    out = tmp_path / "vensim"
    refused = cli("model=vensim", f"model.path={SUBSCRIPTED}", "output.plot=false",
                  f"hydra.run.dir={tmp_path / 'refused'}")
    if refused.returncode != 0:  # the compiled engine's refusal names the fallback
        assert "--engine pysd" in refused.stderr
    ok(cli("model=vensim", f"model.path={SUBSCRIPTED}", "model.engine=pysd",
           "output.plot=false", f"hydra.run.dir={out}"))
    ds = load(out / "results.nc")
    assert ds["stock_a"].dims == ("time", "One Dimensional Subscript",
                                  "Second Dimension Subscript")
    assert float(ds["stock_a"].sel({"One Dimensional Subscript": "Entry 3",
                                    "Second Dimension Subscript": "Column 2"})[-1]) > 6


def test_a_method_pysd_cannot_run_is_refused_before_any_job(tmp_path):
    proc = cli("model.engine=pysd", "solver=rk4", f"hydra.run.dir={tmp_path / 'x'}")
    assert proc.returncode == 2
    assert "euler only" in proc.stderr
    assert not (tmp_path / "x" / "results.nc").exists()
