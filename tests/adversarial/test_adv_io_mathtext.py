"""Fault: model and dataset text that matplotlib would read as mathtext.

A ``$`` pair in a title, label, legend or annotation is parsed as TeX-like math; a model
whose documentation or variable names contain ``$^^$`` or ``$\\frac{`` used to stop
``plot`` and ``diagram`` with a parse error. Every text that comes from a model or a
dataset must be drawn as written: each command exits 0 and writes its PNG.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from deterrence import plot
from deterrence.cli import main

#: texts that are invalid (or surprising) as mathtext
NASTY = ("$^^$", r"$\frac{", "a_b $x_1$", r"cost \$ $")


def _nasty_results() -> xr.Dataset:
    """Results whose names, units, long names, labels and windows are all mathtext."""
    scenarios = [f"baseline {NASTY[0]}", f"shock {NASTY[1]}", "plain_label"]
    t = np.linspace(0.0, 10.0, 11)
    levers = {"lever_$a$": [0.0, 1.0], "lever $^^$": [0.0, 0.5, 1.0]}
    shape = (len(scenarios), 4, 2, 3, len(t))
    rng = np.random.default_rng(0)
    data = {}
    for k, text in enumerate(NASTY):
        data[f"var_{k}_{text}"] = xr.DataArray(
            rng.random(shape).cumsum(-1), dims=("scenario", "run", *levers, "time"),
            attrs={"units": text, "long_name": f"documentation {text} {NASTY[k - 1]}",
                   "vensim_name": f"Var {text}"})
    coords = {"scenario": scenarios, "run": np.arange(4),
              **{d: (d, v, {"units": NASTY[1]}) for d, v in levers.items()},
              "time": ("time", t, {"units": NASTY[0]})}
    ds = xr.Dataset(data, coords=coords)
    ds.attrs["shock_windows"] = json.dumps({scenarios[1]: [[2, 4, f"window {NASTY[0]}"]],
                                            scenarios[0]: [[6, 10, NASTY[1]]]})
    return ds


@pytest.fixture
def results_file(tmp_path: Path) -> Path:
    path = tmp_path / "results $^^$.nc"
    _nasty_results().to_netcdf(path)
    return path


@pytest.mark.parametrize(("kind", "extra"), [
    ("compare", ["--sel", "run=0", "--sel", "lever_$a$=0", "--sel", "lever $^^$=0"]),
    ("diff", ["--sel", "run=1", "--sel", "lever_$a$=1", "--sel", "lever $^^$=1",
              "--baseline", "baseline $^^$"]),
    ("fan", ["--sel", "lever_$a$=0", "--sel", "lever $^^$=0.5"]),
    ("map", ["--sel", "scenario=shock $\\frac{", "--vars", "var_0_$^^$"]),
])
def test_plot_draws_mathtext_as_text(results_file: Path, tmp_path: Path, capsys,
                                     kind: str, extra: list[str]) -> None:
    out = tmp_path / f"{kind}.png"
    code = main(["plot", str(results_file), "--kind", kind, "--out", str(out), *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert out.read_bytes().startswith(b"\x89PNG")


def test_map_with_text_levers_labels_ticks_as_written(tmp_path: Path) -> None:
    ds = _nasty_results().isel(run=0, drop=True)
    ds = ds.assign_coords({"lever $^^$": ["$^^$", r"$\frac{", "_"]}).sel(scenario=ds.scenario[0])
    fig = plot.policy_map(ds, "var_1_$\\frac{", "lever_$a$", "lever $^^$")
    path = plot.save_figure(fig, tmp_path / "map.png")
    assert path.read_bytes().startswith(b"\x89PNG")
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == [r"\$^^\$", r"\$\frac{", "_"]  # escaped, so drawn as written


def test_sensitivity_bars_with_mathtext_names(tmp_path: Path) -> None:
    names = list(NASTY)
    indices = xr.Dataset(
        {k: (("outcome", "parameter"), np.full((2, len(names)), 0.2)) for k in
         ("S1", "S1_conf", "ST", "ST_conf")},
        coords={"outcome": ["out_$^^$", r"out $\frac{"], "parameter": names,
                "vensim_name": ("parameter", [f"P {n}" for n in names])},
        attrs={"reduce": "$^^$", "n_runs": 10})
    path = plot.save_figure(plot.sensitivity_bars(indices), tmp_path / "sens.png")
    assert path.read_bytes().startswith(b"\x89PNG")


def test_diagram_of_a_model_with_mathtext_in_its_name_and_text(tmp_path: Path,
                                                              capsys) -> None:
    model = tmp_path / "model $^^$.mdl"
    model.write_text(
        "{UTF-8}\n"
        "Stock A = INTEG(inflow a - outflow a, 1)\n\t~\t$^^$\n\t~\tDocumentation $\\frac{\n\t|\n\n"
        "inflow a = 0.1 * Stock B\n\t~\t$^^$\n\t~\t$^^$\n\t|\n\n"
        "outflow a = 0.2 * Stock A\n\t~\t$^^$\n\t~\t\n\t|\n\n"
        "Stock B = INTEG(-outflow a + \"in $x_1$\", 2)\n\t~\t$\n\t~\t\n\t|\n\n"
        "\"in $x_1$\" = 0.1 * \"Stock $^^$\"\n\t~\t\n\t~\t\n\t|\n\n"
        "\"Stock $^^$\" = INTEG(-\"in $x_1$\", 1)\n\t~\t\n\t~\t\n\t|\n\n"
        "INITIAL TIME = 0\n\t~\tMonth\n\t~\t\n\t|\n\nFINAL TIME = 10\n\t~\tMonth\n\t~\t\n\t|\n\n"
        "TIME STEP = 1\n\t~\tMonth\n\t~\t\n\t|\n\nSAVEPER = 1\n\t~\tMonth\n\t~\t\n\t|\n",
        encoding="utf-8")
    out = tmp_path / "structure.png"
    code = main(["diagram", str(model), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert out.read_bytes().startswith(b"\x89PNG")


def test_plain_escapes_only_dollars() -> None:
    assert plot.plain(r"a_b $x^2$ \$") == r"a_b \$x^2\$ \\$"
    assert plot.plain("no math") == "no math"
