"""Fixtures for the uncertainty tests: the alliance model, a small design and metrics.

Runs are short (``final_time=10``: 320 Euler steps) and few, so every test is quick;
the ensemble's properties (chunking, resuming, Dask) do not depend on the horizon.
"""

from __future__ import annotations

import pytest
from unc_support import MODEL

import deterrence
from deterrence import uncertainty as unc


@pytest.fixture(scope="session")
def model():
    return deterrence.load(MODEL)


@pytest.fixture(scope="session")
def uncertainties(model):
    return unc.resolve(model, [
        unc.Uncertainty("Maximum Aggression Hazard"),
        unc.Uncertainty("adversary_ambition", "beta", {"a": 2, "b": 3}),
        unc.Uncertainty("Trust Building Time", "triang", {"c": 0.25, "loc": 3, "scale": 12}),
    ])


@pytest.fixture(scope="session")
def design(uncertainties):
    return unc.sample(uncertainties, 50, "lhs", seed=7)


@pytest.fixture(scope="session")
def metrics(model):
    return unc.parse_metrics({
        "survival": "deterrence_survival:final",
        "trust_min": "mutual_trust:min",
        "trust_low": "mutual_trust:time_below=0.65",
        "risk_at_5": "adversary_risk_estimate:at=5",
        "trust_recovery": "mutual_trust:recovery=2",
    }, model)

