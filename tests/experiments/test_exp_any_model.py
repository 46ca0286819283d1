"""``model=vensim model.path=FILE``: any model file, its constants set with ``+params``."""

from __future__ import annotations

import numpy as np
from exp_support import cli, load, ok

import deterrence


def test_the_sir_sample_runs(tmp_path, test_models):
    sir = test_models / "samples" / "SIR" / "SIR.mdl"
    out = tmp_path / "run"
    ok(cli("model=vensim", f"model.path={sir}", "+params.contact_infectivity=0.4",
           f"hydra.run.dir={out}"))
    ds = load(out / "results.nc")
    assert float(ds["contact_infectivity"]) == 0.4
    direct = deterrence.load(sir).simulate({"Contact Infectivity": 0.4}, method="euler")
    for name in ("susceptible", "infectious", "recovered"):
        np.testing.assert_allclose(ds[name].values, direct[name].values, rtol=1e-12)
    assert ds["susceptible"].values[-1] < ds["susceptible"].values[0]
    assert (out / "comparison.png").exists()
    assert (out / "deterrence.log").exists()


def test_a_relative_model_path_from_the_project(tmp_path):
    """Paths in model.path resolve from the working folder or the project folder."""
    out = tmp_path / "run"
    ok(cli("model=vensim", "model.path=sd_models/richardson_arms_race.mdl",
           "output.plot=false", f"hydra.run.dir={out}"))
    ds = load(out / "results.nc")
    assert ds.attrs["model_file"].endswith("sd_models/richardson_arms_race.mdl")
