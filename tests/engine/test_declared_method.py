"""One default integration method: the model file's own, for `deterrence simulate`
(without --method) and `deterrence run` (without solver=). A Vensim file keeps it in its
settings (line 15, fourth field: 0 Euler, 1 RK4; Euler when there is no settings block),
an XMILE file in <sim_specs method=...>. The Dataset says where the method came from."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import xarray as xr

import deterrence
from deterrence.cli import main

REPO = Path(__file__).resolve().parents[2]
EQUATIONS = """{UTF-8}
Stock= INTEG (Growth, 1)
\t~\tWidgets
\t~\tGrows by its own size.
\t|
Growth= Stock * Rate
\t~\tWidgets/Month
\t~\t|
Rate= 0.5
\t~\t1/Month [0,1]
\t~\t|
FINAL TIME = 4
\t~\tMonth
\t~\t|
INITIAL TIME = 0
\t~\tMonth
\t~\t|
SAVEPER = 1
\t~\tMonth
\t~\t|
TIME STEP = 0.5
\t~\tMonth
\t~\t|
"""
SKETCH = """\\\\\\---/// Sketch information - do not modify anything except names
V300  Do not put anything below this section - it will be ignored
*View 1
$192-192-192,0,Times New Roman|12||0-0-0|0-0-0|0-0-255|-1--1--1|-1--1--1|96,96,100,0
10,1,Stock,275,69,40,20,3,3,0,0,0,0,0,0
///---\\\\\\
:L\x7f<%^E!@
9:Current
15:0,0,0,{code},0,0
19:100,0
"""
XMILE = """<?xml version="1.0" encoding="utf-8"?>
<xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">
  <header><vendor>test</vendor><product version="1.0">test</product></header>
  <sim_specs method="{method}" time_units="Month">
    <start>0</start><stop>4</stop><dt>0.5</dt>
  </sim_specs>
  <model><variables>
    <stock name="Stock"><eqn>1</eqn><inflow>Growth</inflow></stock>
    <flow name="Growth"><eqn>Stock * Rate</eqn></flow>
    <aux name="Rate"><eqn>0.5</eqn></aux>
  </variables></model>
</xmile>
"""


def _mdl(tmp_path: Path, code: int | None) -> Path:
    path = tmp_path / f"declared_{code}.mdl"
    path.write_text(EQUATIONS + ("" if code is None else SKETCH.format(code=code)),
                    encoding="utf-8")
    return path


def _simulate(path: Path, tmp_path: Path, *args: str) -> xr.Dataset:
    out = tmp_path / "out.nc"
    assert main(["simulate", str(path), "-o", str(out), *args]) == 0
    return xr.load_dataset(out)


@pytest.mark.parametrize(("code", "method"), [(None, "euler"), (0, "euler"), (1, "rk4")])
def test_simulate_uses_the_vensim_files_method(tmp_path, code, method):
    path = _mdl(tmp_path, code)
    model = deterrence.load(path)
    assert model.declared_method.method == method
    ds = _simulate(path, tmp_path)
    assert ds.attrs["method"] == method
    assert ds.attrs["method_source"] == model.declared_method.source
    expected = model.simulate(method=method)["stock"].values
    assert (ds["stock"].values == expected).all()
    other = "rk4" if method == "euler" else "euler"
    assert (model.simulate(method=other)["stock"].values != expected).any()  # it matters


def test_method_overrides_the_files(tmp_path):
    ds = _simulate(_mdl(tmp_path, 1), tmp_path, "--method", "euler")
    assert ds.attrs["method"] == "euler"
    assert ds.attrs["method_source"] == "euler: --method"


def test_xmile_sim_specs_method(tmp_path):
    path = tmp_path / "declared.xmile"
    path.write_text(XMILE.format(method="RK4"), encoding="utf-8")
    ds = _simulate(path, tmp_path)
    assert ds.attrs["method"] == "rk4"
    assert "sim_specs" in ds.attrs["method_source"]


@pytest.mark.parametrize("code", [3, 9])
def test_a_method_the_engine_does_not_run_is_refused(tmp_path, capsys, code):
    path = _mdl(tmp_path, code)
    assert main(["simulate", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("error: ")
    assert f"integration type {code}" in err[0]
    assert "--method" in err[0]
    assert main(["simulate", str(path), "--method", "euler"]) == 0  # the way out works


def test_run_uses_the_files_method_unless_a_solver_is_chosen(tmp_path):
    path = _mdl(tmp_path, 1)

    def run(*args: str) -> xr.Dataset:
        folder = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
        done = subprocess.run(
            [sys.executable, "-m", "deterrence", "run", "model=vensim",
             f"model.path={path}", "output.plot=false", f"hydra.run.dir={folder}", *args],
            cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        return xr.load_dataset(folder / "results.nc")

    declared = run()
    assert declared.attrs["method"] == "rk4"
    assert declared.attrs["method_source"] == deterrence.load(path).declared_method.source
    chosen = run("solver=euler")
    assert chosen.attrs["method"] == "euler"
    assert chosen.attrs["method_source"].endswith("solver.method (the run's config)")


def test_pysd_engine_refuses_a_file_that_declares_rk4_rather_than_run_euler(tmp_path, capsys):
    """PySD's runner integrates with Euler whatever the file says; the fallback must not
    hand back Euler numbers for a model its author ran with RK4."""
    rk4 = _mdl(tmp_path, 1)
    assert main(["simulate", str(rk4), "--engine", "pysd"]) == 2
    err = capsys.readouterr().err
    assert "rk4" in err
    assert "Euler only" in err
    assert main(["simulate", str(rk4), "--engine", "pysd", "--method", "euler"]) == 0
    euler = deterrence.load(_mdl(tmp_path, 0), engine="pysd")
    assert euler.declared_method.method == "euler"
