"""Tornado, PRIM and robustness figures: every name is on them, the chosen box is marked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.collections import PathCollection
from matplotlib.text import Text

from deterrence import plot
from deterrence.analysis.discovery import prim
from deterrence.analysis.robustness import robustness

LONG = ["Maximum Aggression Hazard", "Time to Perceive Alliance Commitment Changes",
        "Adversary Risk Tolerance", "Reference Capability Gap for Aggression Decisions",
        "Joint Exercise Intensity", "Forward Posture", "Trust Erosion Rate After Abandonment",
        "Alliance Burden Sharing Fraction", "Reassurance Effectiveness"]


def texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def one_line(label: str) -> str:
    return " ".join(label.split())


def sobol_like(n: int = len(LONG)) -> xr.Dataset:
    st = np.linspace(0.6, 0.01, n)
    return xr.Dataset({"ST": ("parameter", st), "S1": ("parameter", st * 0.8),
                       "ST_conf": ("parameter", st * 0.1), "S1_conf": ("parameter", st * 0.1)},
                      coords={"parameter": LONG[:n]},
                      attrs={"outcome": "deterrence_survival", "n_runs": 2048,
                             "conf_level": 0.95})


def test_the_tornado_names_every_parameter_largest_first():
    fig = plot.tornado(sobol_like().isel(parameter=[3, 0, 8, 1, 2, 4, 5, 6, 7]))
    ax = fig.axes[0]
    labels = [one_line(t.get_text()) for t in ax.get_yticklabels()]
    ticks = list(ax.get_yticks())
    top_down = [label for _, label in sorted(zip(ticks, labels, strict=True), reverse=True)]
    assert top_down == LONG
    assert max(len(line) for t in ax.get_yticklabels() for line in t.get_text().split("\n")) \
        <= 30  # long names wrapped
    assert any("What drives deterrence survival" in t for t in texts(fig))
    assert not any("left out" in t for t in texts(fig))
    assert len(ax.patches) == 2 * len(LONG)


def test_a_cut_tornado_says_how_many_parameters_are_left_out():
    fig = plot.tornado(sobol_like(), top=4)
    labels = [one_line(t.get_text()) for t in fig.axes[0].get_yticklabels()]
    assert set(labels) == set(LONG[:4])
    assert any("4 most influential of 9 parameters shown, 5 left out" in t for t in texts(fig))


def test_the_tornado_draws_morris_screening():
    ds = xr.Dataset({"mu_star": ("parameter", [0.1, 2.0, 1.0]),
                     "mu_star_conf": ("parameter", [0.01, 0.2, 0.1]),
                     "sigma": ("parameter", [0.1, 1.0, 3.0]), "mu": ("parameter", [0, 2, 1])},
                    coords={"parameter": ["a_b", "c_d", "e_f"]}, attrs={"outcome": "y"})
    fig = plot.tornado(ds)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    top_down = [label for _, label in sorted(zip(ax.get_yticks(), labels, strict=True),
                                             reverse=True)]
    assert top_down == ["C d", "E f", "A b"]  # the largest mu* on top
    assert "Morris" in fig.axes[0].get_xlabel()


def test_the_tornado_refuses_what_it_cannot_draw():
    with pytest.raises(plot.PlotInputError, match=r"neither S1 and ST .* nor mu_star"):
        plot.tornado(xr.Dataset({"x": ("parameter", [1.0])}))
    two = xr.concat([sobol_like(), sobol_like()], dim="outcome").assign_coords(
        outcome=["a", "b"])
    with pytest.raises(plot.PlotInputError, match=r"one outcome.*a, b.*\.sel\(outcome"):
        plot.tornado(two)
    assert plot.tornado(two.sel(outcome=["b"])) is not None


@pytest.fixture(scope="module")
def found():
    rng = np.random.default_rng(0)
    names = [n.lower().replace(" ", "_") for n in LONG]
    x = pd.DataFrame(rng.random((8000, len(names))), columns=names)
    y = ((x[names[0]] > 0.6) & (x[names[2]] < 0.4)).to_numpy() ^ (rng.random(8000) < 0.03)
    return prim(x, y)


def test_the_tradeoff_shows_every_box_and_marks_the_chosen_one(found):
    fig = plot.prim_tradeoff(found)
    ax = fig.axes[0]
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(scatters[0].get_offsets()) == len(found.trajectory)
    ringed = scatters[1].get_offsets()[0]
    chosen = found.trajectory.loc[found.chosen]
    np.testing.assert_allclose(ringed, [chosen["coverage"], chosen["density"]])
    assert any(t.startswith(f"chosen: box {found.chosen}") for t in texts(fig))
    assert any("density threshold 80%" in t for t in texts(fig))
    assert fig.axes[1].get_ylabel() == "restricted parameters"


def test_the_box_figure_draws_each_restricted_range_with_its_qp(found):
    fig = plot.prim_box(found)
    ax = fig.axes[0]
    limits = found.box_limits()
    labels = [one_line(t.get_text()) for t in ax.get_yticklabels()]
    assert len(labels) == len(limits)
    for label, name in zip(labels, limits["parameter"], strict=True):
        assert label.lower().startswith(name.replace("_", " "))
        assert "qp" in label
    stats = found.trajectory.loc[found.chosen]
    title = ax.get_title(loc="left")
    assert f"box {found.chosen} (chosen)" in title
    assert f"coverage {stats['coverage']:.0%}" in title
    assert f"density {stats['density']:.0%}" in title
    whole = plot.prim_box(found, 0)
    assert any("restricts no parameter" in t for t in texts(whole))


def test_robustness_bars_list_the_policies_most_robust_first():
    policies = [f"policy with a long descriptive name {i}" for i in range(9)]
    rng = np.random.default_rng(1)
    metric = xr.DataArray(rng.random((9, 200)) * np.linspace(0.5, 1, 9)[:, None],
                          dims=("policy", "run"), coords={"policy": policies},
                          name="deterrence_survival")
    table = robustness(metric, threshold=0.6)
    fig = plot.robustness_bars(table)
    ax = fig.axes[0]
    labels = [one_line(t.get_text()) for t in ax.get_yticklabels()]
    ticks = list(ax.get_yticks())
    top_down = [label for _, label in sorted(zip(ticks, labels, strict=True), reverse=True)]
    assert top_down == list(table.index)
    assert f"{table['satisficing'].iloc[0]:.0%}" in texts(fig)
    assert any("across 200 futures" in t for t in texts(fig))
    assert any(">= 0.6" in t for t in texts(fig))
    with pytest.raises(plot.PlotInputError, match="not a robustness table"):
        plot.robustness_bars(table.drop(columns="max_regret"))


def test_the_figures_save_as_png(found, tmp_path):
    for name, fig in (("t", plot.tornado(sobol_like())), ("p", plot.prim_tradeoff(found)),
                      ("b", plot.prim_box(found))):
        path = plot.save_figure(fig, tmp_path / f"{name}.png")
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
