"""The figures of an uncertainty run's outputs on synthetic data: the outcome distribution
per policy, and sensitivity indices per policy (which policy, which outcome, said)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from deterrence import plot

LONG = ["forward_defence_with_rotational_presence_and_joint_exercises",
        "strategic_ambiguity_with_quiet_diplomacy_and_a_reduced_footprint", "status_quo"]


def metrics(policies=LONG, runs: int = 500, nominal: bool = True) -> xr.Dataset:
    rng = np.random.default_rng(5)
    survival = rng.beta(2, 1.5, (len(policies), runs))
    trust = rng.uniform(0, 1, (len(policies), runs))
    ds = xr.Dataset(
        {"survival_50y": (("policy", "run"), survival,
                          {"units": "Dmnl", "long_name": "deterrence_survival:final"}),
         "trust_50y": (("policy", "run"), trust, {"units": "Dmnl"})},
        coords={"policy": policies, "run": np.arange(runs)},
        attrs={"ensemble": "uncertainty", "failure": "survival_50y < 0.5",
               "satisficing": "survival_50y > 0.7"})
    if nominal:
        ds.attrs["nominal"] = json.dumps({p: {"survival_50y": 0.75, "trust_50y": 0.6}
                                          for p in policies})
    return ds


def texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]


def test_one_cdf_and_one_histogram_per_policy_with_shares_and_nominal():
    ds = metrics()
    fig = plot.outcome_distribution(ds)
    ecdf, *hists = fig.axes
    steps = [ln for ln in ecdf.get_lines() if ln.get_drawstyle() == "steps-post"]
    assert len(steps) == len(hists) == 3
    diamonds = [ln for ln in ecdf.get_lines() if ln.get_marker() == "D"]
    assert len(diamonds) == 3  # a nominal run per policy, on its own line
    thresholds = [ln for ln in ecdf.get_lines() if list(ln.get_xdata()) in ([0.5, 0.5],
                                                                             [0.7, 0.7])]
    assert len(thresholds) == 2
    legend = [t.get_text() for t in ecdf.get_legend().get_texts()]
    for i, policy in enumerate(LONG):
        values = ds["survival_50y"].sel(policy=policy).values
        share = f"{np.mean(values < 0.5):.0%} fail (< 0.5), {np.mean(values > 0.7):.0%} " \
            "satisfice (> 0.7)"
        assert share in legend[i]
        assert max(len(line) for line in legend[i].split("\n")) <= 45  # long names wrapped
        assert sum(p.get_height() for p in hists[i].patches) == values.size
        assert "nominal 0.750" in hists[i].get_title(loc="left")
    assert "failure: survival_50y < 0.5\nsatisficing: survival_50y > 0.7" in legend
    assert "Survival 50y: its distribution over 500 futures, 3 policies" in texts(fig)


def test_without_a_nominal_run_or_with_infinite_runs_the_figure_says_so():
    ds = metrics(nominal=False)
    ds["trust_50y"][0, :7] = np.inf
    fig = plot.outcome_distribution(ds, "trust_50y")
    ecdf = fig.axes[0]
    assert not [ln for ln in ecdf.get_lines() if ln.get_marker() == "D"]
    note = fig._supxlabel.get_text()
    assert "no nominal run recorded" in note
    assert "7 runs not finite left out" in note
    assert sum(p.get_height() for p in fig.axes[1].patches) == 493
    assert fig.axes[1].get_ylim() == fig.axes[2].get_ylim()  # one count scale
    assert not ecdf.get_legend().get_texts()[-1].get_text().startswith("failure")


def test_one_selected_policy_and_bad_input():
    ds = metrics()
    fig = plot.make_figure(plot.select_labels(ds, ["policy=status_quo"]), "outcomes")
    assert len(fig.axes) == 2
    with pytest.raises(plot.PlotInputError, match=r"'survival' is not a metric.*survival_50y"):
        plot.outcome_distribution(ds, "survival")
    many = metrics([f"p{i}" for i in range(11)])
    with pytest.raises(plot.PlotInputError, match="11 policies are more than the 10"):
        plot.outcome_distribution(many)
    with pytest.raises(plot.PlotInputError, match="draws one outcome; got 2"):
        plot.make_figure(ds, "outcomes", vars=["survival_50y", "trust_50y"])


def sobol_per_policy() -> xr.Dataset:
    params = ["maximum_aggression_hazard", "adversary_ambition", "betrayal_time"]
    st = np.array([[[0.2, 0.7, 0.05], [0.6, 0.3, 0.1]], [[0.1, 0.1, 0.8], [0.3, 0.3, 0.3]]])
    return xr.Dataset({"ST": (("outcome", "policy", "parameter"), st),
                       "S1": (("outcome", "policy", "parameter"), st * 0.8)},
                      coords={"outcome": ["survival_50y", "trust_50y"],
                              "policy": ["status_quo", "reassurance"], "parameter": params},
                      attrs={"n_runs": 368})


def test_indices_per_policy_draw_the_first_policy_and_say_so():
    fig = plot.sensitivity_figure(sobol_per_policy(), "tornado")
    ax = fig.axes[0]
    assert "What drives survival 50y under status quo: Sobol indices" in \
        ax.get_title(loc="left")
    top = max(zip(ax.get_yticks(), [t.get_text() for t in ax.get_yticklabels()],
                  strict=True))[1]
    assert top == "Adversary ambition"  # the largest total index of status_quo
    assert "the first of 2 (--sel policy=NAME" in fig._supxlabel.get_text()
    picked = plot.sensitivity_figure(sobol_per_policy().sel(policy="reassurance"),
                                     "tornado", "trust_50y")
    assert "trust 50y under reassurance" in picked.axes[0].get_title(loc="left")
    assert "first of" not in picked._supxlabel.get_text()
    bars = plot.sensitivity_figure(sobol_per_policy(), "sensitivity")
    assert len([a for a in bars.axes if a.has_data()]) == 2  # one panel per outcome
    with pytest.raises(plot.PlotInputError, match=r"--outcome 'x'.*survival_50y, trust_50y"):
        plot.sensitivity_figure(sobol_per_policy(), "tornado", "x")
    scores = xr.Dataset({"feature_score": ("parameter", [0.5, 0.3, 0.2])},
                        coords={"parameter": ["a", "b", "c"]})
    assert len(plot.sensitivity_figure(scores, "tornado").axes[0].patches) == 3
    with pytest.raises(plot.PlotInputError, match=r"draws Sobol indices.*--kind tornado"):
        plot.sensitivity_figure(scores, "sensitivity")


def test_a_large_ensemble_draws_its_distribution_through_sampled_steps():
    ds = metrics(["status_quo"], runs=200_000, nominal=False)
    fig = plot.outcome_distribution(ds)
    (line,) = [ln for ln in fig.axes[0].get_lines() if ln.get_drawstyle() == "steps-post"]
    x, y = line.get_xdata(), line.get_ydata()
    values = np.sort(ds["survival_50y"].values.ravel())
    assert len(x) <= 2001
    assert (x[0], x[-1], y[-1]) == (values[0], values[-1], 1.0)
    # each drawn step is a run's value at its exact share of the futures
    idx = np.round(y * values.size).astype(int) - 1
    np.testing.assert_array_equal(values[idx], x)
    assert sum(p.get_height() for p in fig.axes[1].patches) == 200_000
