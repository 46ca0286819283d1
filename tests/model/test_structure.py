"""The generated stock-and-flow picture stays true, and the named loops are in the model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deterrence import structure

PICTURE = Path(__file__).resolve().parents[2] / "sd_models" / "alliance_deterrence_structure.png"


@pytest.fixture(scope="module")
def loops(alliance):
    return {loop.stocks: loop.polarity for loop in structure.feedback_loops(alliance)}


def _loop(loops, *stocks):
    """The polarity of the cycle through ``stocks`` in this order, whatever its start."""
    for cycle, polarity in loops.items():
        n = len(cycle)
        if n == len(stocks) and any(
            tuple(cycle[(i + k) % n] for k in range(n)) == stocks for i in range(n)
        ):
            return polarity
    raise AssertionError(f"no loop {' -> '.join(stocks)} among {list(loops)}")


def test_committed_picture_was_drawn_from_the_current_model(alliance):
    """Regenerate with `deterrence diagram ... --out sd_models/...png` after a model change."""
    description = Image.open(PICTURE).text.get("Description", "")
    assert alliance.sha256 in description, (
        "sd_models/alliance_deterrence_structure.png was drawn from another version of the "
        "model; run: deterrence diagram sd_models/alliance_deterrence.mdl "
        "--out sd_models/alliance_deterrence_structure.png"
    )


def test_security_dilemma_is_reinforcing(loops):
    assert _loop(loops, "Adversary Capability", "Alliance Capability",
                 "Perceived Capability") == "R"


def test_complacency_loop_is_balancing(loops):
    assert _loop(loops, "Alliance Capability", "Perceived Capability", "Complacency") == "B"


def test_trust_and_success_is_reinforcing(loops):
    assert _loop(loops, "Adversary Risk Estimate", "Mutual Trust",
                 "Perceived Commitment") == "R"


def test_adversary_learning_is_balancing(loops):
    assert _loop(loops, "Adversary Risk Estimate", "Crisis Tension",
                 "Perceived Commitment") == "B"


def test_every_stock_is_drawn_with_its_flows(alliance):
    flows = alliance.compiled.stock_flows
    assert set(flows) == {v.name for v in alliance.stocks.values()}
    assert ("Trust Erosion", -1) in flows["Mutual Trust"]
    assert ("Deterrence Failure", -1) in flows["Deterrence Survival"]


def test_jacobians_are_square_over_every_state_along_the_default_run(alliance):
    ids, jacobians = alliance.jacobians(samples=3)
    assert set(ids) <= set(alliance.compiled.nodes)
    assert {alliance.compiled.nodes[i].label for i in ids} >= {
        v.name for v in alliance.stocks.values()}
    assert len(jacobians) == 3
    assert all(jac.shape == (len(ids), len(ids)) and np.isfinite(jac).all()
               for jac in jacobians)
    trust = ids.index(alliance.variable("Mutual Trust").node)
    assert any(jac[trust, trust] != 0 for jac in jacobians)  # trust erodes with itself
