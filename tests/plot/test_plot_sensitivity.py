"""Sobol index bars: one panel per outcome, the largest total indices shown, bad input named."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from deterrence import plot


def indices(n_params: int = 15, outcomes=("deterrence_survival", "mutual_trust")):
    rng = np.random.default_rng(0)
    st = rng.uniform(0, 0.6, (len(outcomes), n_params))
    names = [f"p{i}" for i in range(n_params)]
    return xr.Dataset(
        {"ST": (("outcome", "parameter"), st), "S1": (("outcome", "parameter"), st * 0.8),
         "ST_conf": (("outcome", "parameter"), st * 0.1),
         "S1_conf": (("outcome", "parameter"), st * 0.1)},
        coords={"outcome": list(outcomes), "parameter": names,
                "vensim_name": ("parameter", [f"Parameter {i}" for i in range(n_params)])},
        attrs={"reduce": "final", "n_runs": 512})


def test_one_panel_per_outcome_with_the_top_parameters_by_total_index():
    ds = indices()
    fig = plot.sensitivity_bars(ds, top=10)
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    assert len(panels) == 2
    first = panels[0]
    labels = [t.get_text() for t in first.get_yticklabels()]
    assert len(labels) == 10
    st = ds["ST"].sel(outcome="deterrence_survival").values
    assert labels[-1] == f"Parameter {int(np.argmax(st))}"  # the largest at the top
    assert "deterrence survival" in first.get_title(loc="left")
    assert "variance" in first.get_xlabel()


def test_files_are_written(tmp_path):
    path = plot.save_figure(plot.sensitivity_bars(indices()), tmp_path / "s.svg")
    assert path.read_text().lstrip().startswith("<?xml")


def test_results_that_are_not_indices_are_refused_with_what_exists():
    ds = xr.Dataset({"mutual_trust": ("time", np.zeros(3))}, coords={"time": [0, 1, 2]})
    with pytest.raises(plot.PlotInputError, match=r"lacks S1, ST.*variables: mutual_trust"):
        plot.sensitivity_bars(ds)


def test_the_command_draws_sensitivity_nc(tmp_path):
    path = tmp_path / "sensitivity.nc"
    indices().to_netcdf(path)
    out = plot.plot_command(path, kind="sensitivity", out=tmp_path / "bars.png")
    assert out.stat().st_size > 0
