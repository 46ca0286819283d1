"""Scenario discovery: PRIM and CART find a planted box, feature scores rank its parameters."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from deterrence.analysis.discovery import cart, feature_scores, prim

DATA = Path(__file__).parent / "data"


def planted(n: int = 20_000, noise: float = 0.03, seed: int = 0) -> tuple[pd.DataFrame,
                                                                         np.ndarray]:
    """y = (x1 in [0.2, 0.5]) & (x2 > 0.7), flipped in a share ``noise`` of the runs."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.random((n, 5)), columns=["x1", "x2", "x3", "x4", "x5"])
    x["x5"] = x["x5"] * 10  # another scale
    y = ((x.x1 >= 0.2) & (x.x1 <= 0.5) & (x.x2 > 0.7)).to_numpy()
    return x, y ^ (rng.random(n) < noise)


@pytest.fixture(scope="module")
def found():
    x, y = planted()  # the planted box's density is 0.97: 3% of its runs are flipped
    return prim(x, y, threshold=0.95)


def test_prim_recovers_the_planted_box(found):
    box = found.box_limits().set_index("parameter")
    assert set(box.index) == {"x1", "x2"}
    assert box.loc["x1", "min"] == pytest.approx(0.2, abs=0.03)
    assert box.loc["x1", "max"] == pytest.approx(0.5, abs=0.03)
    assert box.loc["x2", "min"] == pytest.approx(0.7, abs=0.03)
    assert box.loc["x2", "max"] == found.initial[1, 1]  # open above: the sampled maximum
    assert (box["qp_value"] < 1e-10).all()
    chosen = found.trajectory.loc[found.chosen]
    # the flipped runs outside the box are cases too: at most 0.087 / 0.114 are coverable
    assert chosen["density"] >= 0.95
    assert chosen["coverage"] > 0.72


def test_the_trajectory_trades_coverage_for_density(found):
    t = found.trajectory
    assert list(t.columns) == ["coverage", "density", "mass", "res_dim", "n", "k", "phase"]
    assert t.loc[0, "coverage"] == 1
    assert t.loc[0, "mass"] == 1
    assert t.loc[0, "res_dim"] == 0
    peel = t[t["phase"] == "peel"]
    assert (np.diff(peel["mass"]) < 0).all()
    assert (np.diff(peel["coverage"]) <= 0).all()
    assert t["mass"].min() >= found.mass_min
    assert t["density"].iloc[-1] > 0.95
    # the chosen box is the first to reach the threshold
    assert (t["density"].iloc[:found.chosen] < found.threshold).all()


def test_an_irrelevant_parameter_is_not_restricted_or_not_significant(found):
    last = found.box_limits(len(found.trajectory) - 1).set_index("parameter")
    for name in ("x3", "x4", "x5"):
        assert name not in last.index or last.loc[name, "qp_value"] > 0.05


def test_prim_matches_ema_workbench_on_the_same_data():
    """Trajectory, limits and quasi-p-values as EMA Workbench 2.5.3 computed them."""
    ref = json.loads((DATA / "prim_ema_reference.json").read_text())
    rng = np.random.default_rng(7)
    x = pd.DataFrame(rng.random((20000, 6)), columns=[f"p{i}" for i in range(6)])
    x["p5"] = x.p5 * 0.5
    y = ((x.p0 > 0.3) & (x.p2 < 0.6) & (x.p4 >= 0.25)).to_numpy() ^ (rng.random(20000) < 0.03)
    r = prim(x, y)
    np.testing.assert_allclose(r.trajectory["coverage"], ref["coverage"], rtol=1e-12)
    np.testing.assert_allclose(r.trajectory["density"], ref["density"], rtol=1e-12)
    assert list(r.trajectory["res_dim"]) == ref["res_dim"]
    np.testing.assert_allclose(r.limits, np.array(ref["limits"]), rtol=1e-12)
    for i, qp in enumerate(ref["qp"]):
        mine = r.quasi_p(i)
        for name, (lower, upper) in qp.items():
            j = int(name[1:])
            for side, want in ((0, lower), (1, upper)):
                if want == -1:
                    assert np.isnan(mine[side, j])
                else:
                    assert mine[side, j] == pytest.approx(want, rel=1e-9, abs=1e-300)


def test_integer_parameters_are_peeled_a_value_at_a_time():
    rng = np.random.default_rng(3)
    x = pd.DataFrame({"level": rng.integers(0, 6, 8000), "u": rng.random(8000)})
    y = (x.level >= 3).to_numpy() & (x.u < 0.5)
    box = prim(x, y, threshold=1).box_limits().set_index("parameter")
    assert box.loc["level", "min"] == 3
    assert box.loc["level", "max"] == 5
    assert box.loc["u", "max"] == pytest.approx(0.5, abs=0.03)


def test_the_densest_box_is_chosen_when_none_reaches_the_threshold():
    x, y = planted(noise=0.3)
    r = prim(x, y, threshold=0.99)
    density = r.trajectory["density"]
    assert density.max() < 0.99
    assert r.chosen == int(density.idxmax())
    assert "no box reaches the density threshold 99%" in r.describe()


def test_the_boxes_are_written_and_described(found, tmp_path):
    path = found.to_csv(tmp_path / "out" / "prim.csv")
    table = pd.read_csv(path)
    assert list(table.columns[:6]) == ["box", "chosen", "coverage", "density", "mass",
                                       "res_dim"]
    chosen = table[table["chosen"]]
    assert set(chosen["parameter"]) == {"x1", "x2"}
    assert chosen["box"].unique().tolist() == [found.chosen]
    assert set(table["box"]) == set(range(1, len(found.trajectory)))
    assert not list(tmp_path.glob("out/.*tmp"))
    text = found.describe()
    assert text.startswith(f"PRIM box {found.chosen} of {len(found.trajectory) - 1} (chosen)")
    assert re.search(r"x1: 0\.(19|20)\d* to 0\.(49|50)", text)
    assert re.search(r"x2: 0\.(69|70)\d* to 1 ", text)
    assert text.count("quasi-p < 0.001") == 2


def test_prim_takes_a_dataarray_and_a_subset_of_parameters():
    x, y = planted(n=5000)
    r = prim(x, xr.DataArray(y, dims="run"), columns=["x1", "x2", "x3"])
    assert r.parameters == ("x1", "x2", "x3")


@pytest.mark.parametrize(("change", "message"), [
    ({"y": np.array([], dtype=bool)}, "y is empty"),
    ({"y": np.zeros(100, dtype=bool)}, "no run of 100 is a case of interest"),
    ({"y": np.ones(100, dtype=bool)}, "every run of 100 is a case of interest"),
    ({"y": np.zeros(99, dtype=bool)}, "x has 100 runs .* but y has 99"),
    ({"y": np.linspace(0, 1, 100)}, "y must be binary .* threshold a metric first"),
    ({"columns": ["x1", "nope"]}, "unknown parameter name.* nope; x has x1, x2"),
    ({"threshold": 0.0}, r"threshold must be in \(0, 1\], got 0.0"),
    ({"threshold": 1.2}, r"threshold must be in \(0, 1\]"),
    ({"peel_alpha": 0.6}, r"peel_alpha must be in \(0, 0.5\)"),
    ({"mass_min": 1.0}, r"mass_min must be in \[0, 1\)"),
    ({"x": pd.DataFrame({"x1": ["a"] * 100})}, "'x1' is not numeric"),
    ({"x": pd.DataFrame({"x1": [np.nan] + [0.0] * 99})}, "'x1' is not finite in 1 runs"),
])
def test_bad_input_is_refused_naming_the_problem(change, message):
    rng = np.random.default_rng(0)
    args = {"x": pd.DataFrame(rng.random((100, 2)), columns=["x1", "x2"]),
            "y": rng.random(100) < 0.3}
    kwargs = {k: v for k, v in change.items() if k not in args}
    args.update({k: v for k, v in change.items() if k in args})
    with pytest.raises(ValueError, match=message):
        prim(args["x"], args["y"], **kwargs)


def test_cart_finds_the_planted_region():
    x, y = planted(noise=0.02)
    result = cart(x, y, max_depth=3)
    best = result.leaves.iloc[0]
    assert best["density"] > 0.95
    assert best["coverage"] > 0.8
    box = result.box_limits().set_index("parameter")
    assert set(box.index) == {"x1", "x2"}
    assert box.loc["x1", "min"] == pytest.approx(0.2, abs=0.03)
    assert box.loc["x1", "max"] == pytest.approx(0.5, abs=0.03)
    assert box.loc["x2", "min"] == pytest.approx(0.7, abs=0.03)
    assert result.leaves["n"].sum() == len(y)
    assert result.leaves["coverage"].sum() == 1
    with pytest.raises(ValueError, match="is not a leaf"):
        result.box_limits(0)


def test_feature_scores_rank_the_planted_parameters_first():
    x, y = planted(n=5000)
    scores = feature_scores(x, y)
    assert list(scores.index[:2]) == ["x1", "x2"] or list(scores.index[:2]) == ["x2", "x1"]
    assert scores.sum() == pytest.approx(1)
    assert scores.name == "feature_score"
    metric = 3 * x["x3"] + x["x1"] ** 2 + 0.01 * np.random.default_rng(1).random(len(x))
    reg = feature_scores(x, metric.to_numpy())
    assert reg.index[0] == "x3"
    assert reg.index[1] == "x1"
    pd.testing.assert_series_equal(reg, feature_scores(x, metric.to_numpy()))
    with pytest.raises(ValueError, match="same in every run"):
        feature_scores(x, np.ones(len(x)))
    with pytest.raises(ValueError, match="but y has 3"):
        feature_scores(x, np.ones(3))
