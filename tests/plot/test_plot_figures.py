"""Each plot kind, drawn from small synthetic Datasets: axes, lines, labels, styling."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.collections import QuadMesh
from matplotlib.colors import to_hex
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure
from plot_testdata import KEY, SCENARIOS, WINDOWS, build_results

from deterrence import plot

PALETTE_HEX = {c.lower() for c in plot.PALETTE}


def _lines(ax):
    return [line for line in ax.get_lines() if line.get_label() != "_nolegend_"]


def _labelled(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def _legend_texts(fig: Figure) -> list[str]:
    assert len(fig.legends) == 1, "one shared legend"
    return [t.get_text() for t in fig.legends[0].get_texts() if t.get_text()]


# --------------------------------------------------------------------------- comparison


def test_comparison_one_panel_per_key_output_one_line_per_scenario(make_results):
    ds = make_results(variables=[*KEY, "complacency"])
    fig = plot.scenario_comparison(ds)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == len(KEY)  # key outputs only, constant skipped
    for ax, name in zip(fig.axes, KEY, strict=True):
        assert len(ax.get_lines()) == 3
        assert ax.get_title(loc="left") == KEY[name][0]
        assert KEY[name][1] in ax.get_ylabel()
    bottom = fig.axes[-3:]
    assert all(ax.get_xlabel() == "Time (Year)" for ax in bottom)


def test_comparison_falls_back_to_first_six_time_varying(make_results):
    names = [f"var_{i}" for i in range(8)]
    ds = make_results(variables=names)
    fig = plot.scenario_comparison(ds)
    assert [ax.get_title(loc="left") for ax in fig.axes] == [n.title() for n in names[:6]]


def test_comparison_named_vars_keep_order_and_accept_vensim_names(make_results):
    ds = make_results()
    fig = plot.scenario_comparison(ds, vars=["Mutual Trust", "hazard_of_aggression"])
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["Mutual Trust", "Hazard of Aggression"]
    assert "1/Year" in fig.axes[1].get_ylabel()
    fig = plot.scenario_comparison(ds, vars=["mutual_trust,crisis_tension"])
    assert len(fig.axes) == 2


def test_comparison_baseline_black_thick_on_top_and_first_in_legend(make_results):
    fig = plot.scenario_comparison(make_results())
    for ax in fig.axes:
        lines = _labelled(ax)
        base = lines["baseline"]
        others = [line for label, line in lines.items() if label != "baseline"]
        assert to_hex(base.get_color()) == plot.BASELINE_COLOR
        assert base.get_linestyle() == "--"
        assert all(base.get_linewidth() > o.get_linewidth() for o in others)
        assert all(base.get_zorder() > o.get_zorder() for o in others)
        assert {to_hex(o.get_color()) for o in others} <= PALETTE_HEX
    assert _legend_texts(fig)[:3] == SCENARIOS[:3]


def test_comparison_shades_shock_windows_in_scenario_colour(make_results):
    ds = make_results(windows=WINDOWS)
    fig = plot.scenario_comparison(ds)
    for ax in fig.axes:
        # leadership_change 1 window + disinformation 2; not_in_results is skipped
        assert len(ax.patches) == 3
        colours = {to_hex(p.get_facecolor()[:3]) for p in ax.patches}
        lines = _labelled(ax)
        assert colours == {
            to_hex(lines["leadership_change"].get_color()),
            to_hex(lines["disinformation"].get_color()),
        }
        assert all(p.get_alpha() < 0.3 for p in ax.patches)
    texts = _legend_texts(fig)
    assert "shock: leadership change (10–14)" in texts


def test_a_shock_lasting_to_the_horizon_is_marked_at_its_onset_not_shaded(make_results):
    """An open-ended shift (e.g. divergence from year 10 on) would shade most of a panel."""
    ds = make_results(windows={"leadership_change": [[10, 50, "divergence"]],
                               "disinformation": [[20, 30, "campaign"]]})
    fig = plot.scenario_comparison(ds)
    for ax in fig.axes:
        assert len(ax.patches) == 1  # only the campaign is a span
        onsets = [ln for ln in ax.lines if ln.get_linestyle() == ":"
                  and list(ln.get_xdata()) == [10, 10]]
        assert len(onsets) == 1
    texts = _legend_texts(fig)
    assert "shock: divergence (from 10)" in texts
    assert "shock: campaign (20–30)" in texts


def test_comparison_without_windows_has_no_patches(make_results):
    fig = plot.scenario_comparison(make_results())
    assert all(len(ax.patches) == 0 for ax in fig.axes)


def test_long_names_wrap_in_whole_sentences_and_titles_line_up(make_results):
    ds = make_results()
    first_sentence = "Probability that deterrence has held so far (no deliberate aggression)."
    ds["deterrence_survival"].attrs["long_name"] = (
        f"{first_sentence} Its final value is the headline number of every briefing, "
        "reported with its range across the ensemble and the scenario that produced it.")
    fig = plot.scenario_comparison(ds)
    subtitles = {ax.get_title(loc="left"): ax.texts[0].get_text() for ax in fig.axes
                 if ax.texts}
    survival = subtitles["Deterrence Survival"]
    assert " ".join(survival.split("\n")) == first_sentence  # whole, never cut mid-way
    longest = subtitles["Adversary Risk Estimate"]  # one sentence longer than four lines
    assert longest.count("\n") == 3
    assert longest.endswith("…")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for row in (fig.axes[:3], fig.axes[3:]):
        # the last panel's one-line description must not pull its title out of line
        assert len({round(ax.title.get_window_extent(renderer).y0, 1) for ax in row}) == 1


def test_eight_scenarios_long_labels_do_not_overlap(make_results):
    ds = make_results(dims={"scenario": SCENARIOS}, windows=WINDOWS)
    fig = plot.scenario_comparison(ds)
    assert fig.get_size_inches().tolist() == [12.0, 7.0]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    figbox = fig.bbox
    legend = fig.legends[0].get_window_extent(renderer)
    assert _legend_texts(fig)[:8] == SCENARIOS
    texts = []
    for ax in fig.axes:
        axbox = ax.get_window_extent(renderer)
        assert not legend.overlaps(axbox)
        title = ax.title.get_window_extent(renderer)
        (sub,) = ax.texts
        subbox = sub.get_window_extent(renderer)
        assert not subbox.overlaps(title)
        assert not subbox.overlaps(axbox)
        texts += [title, subbox, ax.yaxis.label.get_window_extent(renderer)]
    for box in [*texts, legend]:
        assert figbox.x0 <= box.x0
        assert box.x1 <= figbox.x1 + 0.5
        assert figbox.y0 <= box.y0
        assert box.y1 <= figbox.y1 + 0.5
    for i, a in enumerate(texts):
        for b in texts[i + 1 :]:
            assert not a.overlaps(b)


def test_ensemble_run_is_reduced_to_median_and_said_so(make_results):
    ds = make_results(dims={"scenario": SCENARIOS[:2], "run": list(range(5))})
    fig = plot.scenario_comparison(ds, vars=["mutual_trust"])
    (ax,) = fig.axes
    expected = ds["mutual_trust"].median("run").sel(scenario="leadership_change").values
    np.testing.assert_allclose(_labelled(ax)["leadership_change"].get_ydata(), expected)
    assert "median of 5 runs" in fig.get_suptitle()


def test_multirun_without_grid_draws_one_line_per_run(make_results):
    ds = make_results(dims={"run": [0, 1, 2]})
    ds = ds.assign_coords(joint_exercise_intensity=("run", [0.1, 0.5, 0.9]))
    fig = plot.scenario_comparison(ds, vars=["mutual_trust"])
    assert len(fig.axes[0].get_lines()) == 3
    assert "joint_exercise_intensity=0.5" in _legend_texts(fig)


def test_numeric_lever_dimension_gets_an_ordered_ramp(make_results):
    ds = make_results(dims={"joint_exercise_intensity": [0.0, 0.5, 1.0]})
    fig = plot.scenario_comparison(ds, vars=["mutual_trust"])
    assert _legend_texts(fig) == ["0", "0.5", "1"]
    assert fig.legends[0].get_title().get_text() == "Joint exercise intensity"
    colours = [to_hex(line.get_color()) for line in fig.axes[0].get_lines()]
    assert len(set(colours)) == 3


def test_single_run_one_line_per_panel_and_its_own_windows(make_results):
    ds = make_results(windows=WINDOWS).sel(scenario="leadership_change")
    fig = plot.scenario_comparison(ds)
    assert all(len(ax.get_lines()) == 1 for ax in fig.axes)
    assert all(len(ax.patches) == 1 for ax in fig.axes)
    assert "scenario = leadership_change" in fig.get_suptitle()


def test_more_than_seven_colours_vary_the_dash(make_results):
    labels = [f"s{i}" for i in range(10)]
    fig = plot.scenario_comparison(make_results(dims={"scenario": labels}), vars=["mutual_trust"])
    seen = {(to_hex(li.get_color()), li.get_linestyle()) for li in fig.axes[0].get_lines()}
    assert len(seen) == 10


# --------------------------------------------------------------------------- difference


def test_difference_panels_lines_and_zero_line(make_results):
    ds = make_results(windows=WINDOWS)
    fig = plot.difference_from_baseline(ds)
    assert len(fig.axes) == len(KEY)
    for ax, name in zip(fig.axes, KEY, strict=True):
        lines = ax.get_lines()
        assert len(lines) == 3  # two scenarios + the zero line
        zero = [li for li in lines if np.allclose(li.get_ydata(), 0)]
        assert len(zero) == 1
        assert to_hex(zero[0].get_color()) == plot.BASELINE_COLOR
        assert ax.get_ylabel() == f"Difference ({KEY[name][1]})"
        assert len(ax.patches) == 3
        got = _labelled(ax)["disinformation"].get_ydata()
        want = (ds[name].sel(scenario="disinformation") - ds[name].sel(scenario="baseline")).values
        np.testing.assert_allclose(got, want)
    assert _legend_texts(fig)[0] == "baseline (zero line)"
    assert "baseline" in fig.get_suptitle()


def test_difference_with_other_baseline_label(make_results):
    fig = plot.difference_from_baseline(
        make_results(), vars=["mutual_trust"], baseline="disinformation"
    )
    assert {li.get_label() for li in fig.axes[0].get_lines()} >= {"baseline", "leadership_change"}


# --------------------------------------------------------------------------- fan chart


def test_fan_chart_by_draws_one_column_of_fans_per_label(make_results):
    """Small multiples, not overlays: one column per scenario, one row per variable, a
    row's panels on one y scale, and a title that counts every run drawn."""
    ds = make_results(dims={"scenario": SCENARIOS[:3], "run": list(range(20))}, windows=WINDOWS)
    fig = plot.fan_chart(ds, vars=["mutual_trust", "crisis_tension"], by="scenario")
    assert len(fig.axes) == 6
    grid = np.array(fig.axes).reshape(2, 3)
    assert [ax.get_title(loc="left") for ax in grid[0]] == SCENARIOS[:3]
    for row in grid:
        assert len({ax.get_ylim() for ax in row}) == 1  # one scale along a row
        for ax, scenario in zip(row, SCENARIOS[:3], strict=True):
            labelled = [k for k in _labelled(ax) if not k.startswith("_")]
            assert labelled == [scenario]  # one fan per panel
            assert len(ax.collections) == 2  # its 50% and 90% bands
    median = _labelled(grid[1, 1])["leadership_change"].get_ydata()
    want = ds["crisis_tension"].sel(scenario="leadership_change").median("run").values
    np.testing.assert_allclose(median, want)
    assert to_hex(_labelled(grid[0, 0])["baseline"].get_color()) == plot.BASELINE_COLOR
    texts = _legend_texts(fig)
    assert {"median", "50% band", "90% band"} <= set(texts)
    assert "3 x 20 = 60 runs drawn" in fig.get_suptitle()


def test_fan_chart_finds_the_only_swept_dimension(make_results):
    ds = make_results(dims={"policy": ["a", "b"], "run": list(range(10))})
    fig = plot.fan_chart(ds, vars=["mutual_trust"])
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["a", "b"]
    assert "by Policy" in fig.get_suptitle()


def test_fan_chart_single_ensemble(make_results):
    ds = make_results(dims={"run": list(range(10))})
    fig = plot.fan_chart(ds)
    assert len(fig.axes) == len(KEY)
    assert all(len(ax.get_lines()) == 1 and len(ax.collections) == 2 for ax in fig.axes)


# --------------------------------------------------------------------------- policy map


def _lever_results(make_results):
    return make_results(
        dims={"joint_exercise_intensity": [0.0, 0.5, 1.0, 1.5], "consultation": [0.0, 1.0, 2.0]},
        variables=["deterrence_survival", "adversary_risk_estimate"],
    )


def test_policy_map_heatmap_contours_and_colorbar(make_results):
    ds = _lever_results(make_results)
    rng = np.random.default_rng(0)
    ds["deterrence_survival"] = ds["deterrence_survival"] + rng.uniform(0, 1, (4, 3, 1))
    fig = plot.policy_map(ds, "deterrence_survival", "joint_exercise_intensity", "consultation")
    assert len(fig.axes) == 2  # the map and its colorbar
    ax, cbar = fig.axes
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert mesh.get_array().shape == (3, 4)  # y by x
    want = ds["deterrence_survival"].isel(time=-1).transpose("consultation", ...).values
    np.testing.assert_allclose(mesh.get_array(), want)
    assert any(isinstance(a, ContourSet) for a in ax.get_children())
    assert ax.get_xlabel() == "Joint exercise intensity"
    assert ax.get_ylabel() == "Consultation"
    assert "Dmnl" in cbar.get_ylabel()
    assert "Deterrence Survival" in cbar.get_ylabel()
    assert "final time (t = 50 Year)" in ax.get_title(loc="left")


@pytest.mark.parametrize("field", ["corner", "diagonal", "ripple"])
def test_policy_map_contour_labels_are_inside_the_frame_and_apart(make_results, field):
    """A contour label cut by the map's frame or lying on another is dropped: each one
    left is whole inside the axes and overlaps no other."""
    xs, ys = np.linspace(0, 1, 11), np.linspace(0, 1, 11)
    ds = make_results(dims={"joint_exercise_intensity": list(xs), "consultation": list(ys)},
                      variables=["deterrence_survival"])
    x, y = np.meshgrid(xs, ys, indexing="ij")
    z = {"corner": x * x + 0.3 * y, "diagonal": x + y,  # corner: a label at the frame
         "ripple": np.sin(6 * x) * np.cos(5 * y)}[field]
    ds["deterrence_survival"] = ds["deterrence_survival"] * 0 + z[..., None]
    fig = plot.policy_map(ds, "deterrence_survival", "joint_exercise_intensity", "consultation")
    fig.canvas.draw()
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    (contours,) = [c for c in ax.get_children() if isinstance(c, ContourSet)]
    boxes = [text.get_window_extent(renderer) for text in contours.labelTexts]
    assert boxes  # some labels are legible on each of these fields
    for i, box in enumerate(boxes):
        assert frame.x0 <= box.x0, "cut at the left"
        assert box.x1 <= frame.x1, "cut at the right"
        assert frame.y0 <= box.y0, "cut at the bottom"
        assert box.y1 <= frame.y1, "cut at the top"
        assert not any(box.overlaps(other) for other in boxes[i + 1:])


def test_policy_map_min_over_time(make_results):
    ds = _lever_results(make_results)
    fig = plot.policy_map(
        ds, "adversary_risk_estimate", "consultation", "joint_exercise_intensity", reduce="min"
    )
    mesh = fig.axes[0].collections[0]
    want = ds["adversary_risk_estimate"].min("time").transpose("joint_exercise_intensity", ...)
    np.testing.assert_allclose(mesh.get_array(), want.values)
    assert "minimum over time" in fig.axes[0].get_title(loc="left")


def test_policy_map_of_labels_writes_values_instead_of_contours(make_results):
    ds = make_results(
        dims={"policy": ["status_quo", "forward_presence"], "scenario": SCENARIOS, "run": [0, 1]},
        variables=["deterrence_survival"],
    )
    fig = plot.policy_map(ds, "deterrence_survival", x="scenario", y="policy")
    ax = fig.axes[0]
    assert not any(isinstance(a, ContourSet) for a in ax.get_children())
    assert len(ax.texts) == 16
    assert [t.get_text() for t in ax.get_xticklabels()] == SCENARIOS
    assert "mean of 2 runs" in ax.get_title(loc="left")


def test_panel_above_an_empty_slot_keeps_ticks_but_rows_stay_even(make_results):
    names = [f"var_{i}" for i in range(8)]
    fig = plot.scenario_comparison(make_results(variables=names), vars=names)
    assert len(fig.axes) == 8  # 3 x 3 grid, the ninth slot removed
    assert [bool(ax.get_xlabel()) for ax in fig.axes] == [False] * 6 + [True] * 2
    above_gap = fig.axes[5]
    assert all(t.get_visible() for t in above_gap.get_xticklabels())


def test_a_figure_of_a_larger_sweep_names_the_label_it_fixed() -> None:
    """A 2 x 8 scenario x policy sweep drawn by scenario: the title says which policy
    is shown, and out of how many, rather than silently dropping seven."""
    policies = [f"policy_{i}" for i in range(8)]
    ds = build_results({"scenario": SCENARIOS[:2], "policy": policies})
    fixed = plot.fix_other_dims(ds, keep=("scenario", "run"))
    fig = plot.scenario_comparison(fixed, by="scenario")
    assert "only policy = policy_0 shown, 1 of 8" in fig.get_suptitle()
    assert len(fig.axes[0].get_lines()) == 2  # one line per scenario, nothing else
    chosen = plot.select_labels(ds, ["policy=policy_3"])
    assert "policy = policy_3" in plot.scenario_comparison(chosen).get_suptitle()


def test_a_policy_map_names_the_scenario_it_is_drawn_under() -> None:
    ds = build_results({"scenario": SCENARIOS[:3], "joint_exercise_intensity": [0, 0.5, 1],
                        "forward_presence": [0, 1]})
    fixed = plot.fix_other_dims(ds, keep=("joint_exercise_intensity", "forward_presence"))
    fig = plot.policy_map(fixed, "deterrence_survival", x="joint_exercise_intensity",
                          y="forward_presence")
    title = fig.axes[0].get_title(loc="left")
    assert f"only scenario = {SCENARIOS[0]} shown, 1 of 3" in title.replace("\n", " ")


def _legend_colours(fig: Figure) -> dict[str, str]:
    legend = fig.legends[0]
    return {t.get_text().removesuffix(" (zero line)"): to_hex(h.get_color())
            for t, h in zip(legend.get_texts(), legend.legend_handles, strict=True)
            if hasattr(h, "get_color")}


def test_eight_labels_have_eight_distinct_colours_and_keep_them_between_figures() -> None:
    ds = build_results({"scenario": SCENARIOS[:8]})  # a baseline and seven shocks
    compare = _legend_colours(plot.scenario_comparison(ds))
    diff = _legend_colours(plot.difference_from_baseline(ds))
    assert len(set(compare.values())) == 8
    for label, colour in compare.items():
        assert diff[label] == colour, label
    nine = build_results({"scenario": [f"s{i}" for i in range(10)]})
    assert len(set(_legend_colours(plot.scenario_comparison(nine, baseline=None)).values())) \
        == 10


def test_a_policy_map_ends_at_the_swept_values_and_states_its_colour_range() -> None:
    levers = {"joint_exercise_intensity": [0.0, 0.25, 0.5, 1.0], "forward_presence": [0.2, 0.8]}
    ds = build_results(levers)
    fig = plot.policy_map(ds, "deterrence_survival", x="joint_exercise_intensity",
                          y="forward_presence")
    ax = fig.axes[0]
    assert ax.get_xlim() == (0.0, 1.0)  # no half cell of padding past the swept values
    assert ax.get_ylim() == (0.2, 0.8)
    assert [float(t) for t in ax.get_xticks()] == levers["joint_exercise_intensity"]
    values = ds["deterrence_survival"].isel(time=-1).values
    colorbar = fig.axes[1].get_ylabel()
    assert f"colours span {values.min():.4g} to {values.max():.4g} only" in colorbar


def test_shocks_that_overlap_stay_distinguishable() -> None:
    ds = build_results({"scenario": SCENARIOS[:3]},
                       windows={SCENARIOS[1]: [[10, 14, "first"]],
                                SCENARIOS[2]: [[10, 20, "second"]]})
    fig = plot.scenario_comparison(ds)
    hatches = {p.get_hatch() for p in fig.axes[0].patches}
    assert len(hatches - {None}) == 2  # one hatch per overlapping window


def test_a_figure_by_policy_shades_and_names_the_scenario_its_job_ran() -> None:
    ds = build_results({"policy": ["status_quo", "reassurance"]},
                       windows={"leadership_change": [[10, 14, "leadership change"]]})
    ds.attrs["scenario"] = "leadership_change"
    fig = plot.scenario_comparison(ds, by="policy")
    assert "scenario = leadership_change" in fig.get_suptitle()
    assert fig.axes[0].patches  # the shock window is shaded


def test_a_shock_a_scenario_shares_with_its_composition_is_drawn_once() -> None:
    """``leadership_change`` and ``leadership_change+rising_power`` both carry the
    leadership change: one neutral band and one legend entry, not two of one name."""
    shared = [10, 14, "leadership change"]
    ds = build_results({"scenario": ["baseline", "leadership_change",
                                     "leadership_change+rising_power"]},
                       windows={"leadership_change": [shared],
                                "leadership_change+rising_power": [shared,
                                                                   [10, 20, "rising power"]]})
    fig = plot.scenario_comparison(ds)
    ax = fig.axes[0]
    assert len(ax.patches) == 2
    lines = _labelled(ax)
    rising = next(p for p in ax.patches if p.get_x() == 10 and p.get_width() == 10)
    assert to_hex(rising.get_edgecolor()[:3]) == to_hex(
        lines["leadership_change+rising_power"].get_color())  # its own shock, its colour
    texts = _legend_texts(fig)
    assert texts.count("shock: leadership change (10–14)") == 1
