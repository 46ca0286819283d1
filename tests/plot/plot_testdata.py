"""Synthetic result Datasets shaped like the engine's and the experiments' output.

A plainly named module (not conftest) so the test files can import its constants without
clashing with other folders' conftest modules.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import xarray as xr

KEY = {
    "adversary_risk_estimate": (
        "Adversary Risk Estimate",
        "Dmnl",
        "The adversary's estimate of the risk that aggression against the protected ally "
        "would trigger an allied military response, combining perceived commitment and "
        "alliance capability as seen from the adversary's capital.",
    ),
    "hazard_of_aggression": (
        "Hazard of Aggression",
        "1/Year",
        "Instantaneous rate at which the adversary initiates aggression.",
    ),
    "deterrence_survival": (
        "Deterrence Survival",
        "Dmnl",
        "Probability that deterrence has held from the start up to this time.",
    ),
    "mutual_trust": ("Mutual Trust", "Dmnl", "Trust between the allies."),
    "perceived_commitment": (
        "Perceived Commitment",
        "Dmnl",
        "The adversary's perception of the patron's commitment.",
    ),
    "crisis_tension": ("Crisis Tension", "Dmnl", "Tension in the current crisis."),
}
EXTRA = {
    "alliance_capability": ("Alliance Capability", "Dmnl", "Combined military capability."),
    "complacency": ("Complacency", "Dmnl", "Complacency after a long peace."),
}
SCENARIOS = [
    "baseline",
    "leadership_change",
    "disinformation",
    "divergence_of_interests",
    "forward_presence_surge",
    "abandonment_scare_after_summit",
    "arms_race",
    "cold_war_nato",
]
WINDOWS = {
    "leadership_change": [[10, 14, "leadership change"]],
    "disinformation": [[20, 30, "disinformation campaign"], [35, 38, "second wave"]],
    "not_in_results": [[1, 2, "elsewhere"]],
}


def _series(shape: tuple[int, ...], t: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    offsets = rng.uniform(-0.2, 0.2, (*shape[:-1], 1))
    return 0.5 + 0.3 * np.tanh(t / 20) + offsets * (t > 10)


def build_results(
    dims: dict[str, Sequence] | None = None,
    variables: Sequence[str] = tuple(KEY),
    windows: dict | None = None,
    n_time: int = 51,
    constant: bool = True,
) -> xr.Dataset:
    """A results Dataset: ``dims`` maps each non-time dim to its labels (default: 3
    scenarios); the constant ``alliance_size`` has no time dim; the alliance model's key
    outputs and default outcome are recorded in ``attrs`` as the experiments write them."""
    dims = {"scenario": SCENARIOS[:3]} if dims is None else dims
    t = np.linspace(0.0, 50.0, n_time)
    shape = (*(len(v) for v in dims.values()), n_time)
    docs = KEY | EXTRA
    data = {}
    for k, name in enumerate(variables):
        vensim, units, long_name = docs.get(name, (name.title(), "Dmnl", f"About {name}."))
        data[name] = xr.DataArray(
            _series(shape, t, k),
            dims=(*dims, "time"),
            attrs={"units": units, "long_name": long_name, "vensim_name": vensim},
        )
    if constant:
        data["alliance_size"] = xr.DataArray(
            2.0, attrs={"units": "Dmnl", "long_name": "Members.", "vensim_name": "Size"}
        )
    coords = {d: list(v) for d, v in dims.items()}
    coords["time"] = ("time", t, {"units": "Year"})
    ds = xr.Dataset(data, coords=coords)
    # What the experiments record from conf/model/alliance.yaml: the plots' defaults.
    ds.attrs["key_outputs"] = list(KEY)
    ds.attrs["default_outcome"] = "deterrence_survival"
    if windows is not None:
        ds.attrs["shock_windows"] = json.dumps(windows)
    return ds
