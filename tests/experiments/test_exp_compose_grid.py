"""A composition as one point of a grid: ``grid.scenario=leadership_change+rising_power,
baseline`` runs the two shocks at once beside the baseline in one batched ensemble,
exactly as setting both shocks' constants by hand; a bad name is one error line."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from exp_support import REPO, cli, load, ok, windows

BOTH = "leadership_change+rising_power"


def by_hand(*scenarios: str) -> list[str]:
    """``+params.NAME=VALUE`` for every constant the shipped scenario files set."""
    args = []
    for name in scenarios:
        option = yaml.safe_load((REPO / "conf" / "scenario" / f"{name}.yaml").read_text())
        args += [f"+params.{constant}={value}" for constant, value in option["set"].items()]
    return args


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("compose_grid")
    short = ("solver.final_time=30", "output.plot=false")
    ok(cli("experiment=grid", f"grid.scenario={BOTH},baseline", "grid.joint_exercises=0.5,0.8",
           *short, f"hydra.run.dir={root / 'grid'}"))
    ok(cli("experiment=grid", "grid.scenario=[[leadership_change,rising_power],baseline]",
           *short, f"hydra.run.dir={root / 'nested'}"))
    ok(cli(*by_hand("leadership_change", "rising_power"), "policy.joint_exercises=0.8",
           *short, f"hydra.run.dir={root / 'hand'}"))
    return root


def test_a_composed_grid_point_equals_both_shocks_set_by_hand(runs):
    grid = load(runs / "grid" / "results.nc")
    assert list(grid["scenario"].values) == [BOTH, "baseline"]
    point = grid.sel(scenario=BOTH, joint_exercises=0.8)
    hand = load(runs / "hand" / "results.nc")
    varying = [n for n in hand.data_vars if "time" in hand[n].dims]
    assert len(varying) > 20
    for name in varying:
        np.testing.assert_allclose(point[name].values, hand[name].values, rtol=1e-12,
                                   atol=1e-15, err_msg=name)
    # the other scenario of the grid is untouched by the shocks
    assert float(grid["leadership_change_depth"].sel(scenario="baseline").max()) != 0.5
    assert float(grid["rising_power_size"].sel(scenario=BOTH).max()) == 0.6


def test_the_composition_is_shaded_with_both_shocks_and_spelt_either_way(runs):
    grid = load(runs / "grid" / "results.nc")
    assert windows(grid)[BOTH] == [[10, 14, "leadership change"], [10, 20, "rising power"]]
    assert windows(grid)["baseline"] == []
    nested = load(runs / "nested" / "results.nc")
    assert list(nested["scenario"].values) == [BOTH, "baseline"]
    np.testing.assert_array_equal(
        nested["mutual_trust"].sel(scenario=BOTH).values,
        load(runs / "grid" / "results.nc")["mutual_trust"].sel(
            scenario=BOTH, joint_exercises=0.5).values)


@pytest.mark.parametrize(("value", "message"), [
    ("leadership_change+nonexistent,baseline",
     "leadership_change+nonexistent: scenario 'nonexistent' does not exist; options: "
     "abandonment, baseline, cold_war_nato"),
    ("leadership_change+,baseline", "grid.scenario: 'leadership_change+' is not a scenario"),
    ("cold_war_nato+warsaw_pact", "cold_war_nato+warsaw_pact: cold_war_nato sets "
     "'Consultation and Transparency' to 0.6 and warsaw_pact sets it to 0.1"),
])
def test_a_bad_composition_is_one_error_line_with_the_options(tmp_path, value, message):
    proc = cli("experiment=grid", f"grid.scenario={value}", f"hydra.run.dir={tmp_path}")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    assert message in lines[0]
    assert not (tmp_path / "results.nc").exists()
