"""``experiment=sensitivity``: a Sobol ensemble in one job, indices written and drawn."""

from __future__ import annotations

import xarray as xr

from deterrence import experiments

MODEL = """{UTF-8}
level = INTEG(growth * level - level / lifetime, 1)
~ Widget ~ |
growth = 0.1 ~ 1/Month [0.05, 0.2] ~ Growth rate. |
lifetime = 20 ~ Month [10, 40] ~ Life time. |
idle = 1 ~ Dmnl [0, 1] ~ Enters no equation. |
INITIAL TIME = 0 ~ Month ~ |
FINAL TIME = 10 ~ Month ~ |
TIME STEP = 0.25 ~ Month ~ |
SAVEPER = 1 ~ Month ~ |
"""


def run(tmp_path, *overrides):
    path = tmp_path / "growth.mdl"
    path.write_text(MODEL)
    out = tmp_path / "run"
    status = experiments.hydra_main([
        "model=vensim", f"model.path={path}", "experiment=sensitivity",
        "experiment.sensitivity.names=null", "experiment.sensitivity.n=32",
        "experiment.sensitivity.outcomes=[level]", f"hydra.run.dir={out}", *overrides])
    return status, out


def test_sobol_indices_rank_what_drives_the_outcome(tmp_path):
    status, out = run(tmp_path)
    assert status == 0
    indices = xr.load_dataset(out / "sensitivity.nc")
    st = indices["ST"].sel(outcome="level").to_series()
    assert set(st.index) == {"growth", "lifetime", "idle"}  # every ranged constant
    assert st["growth"] > st["lifetime"] > st["idle"]
    assert abs(st["idle"]) < 1e-6  # an input the model never reads explains nothing
    results = xr.load_dataset(out / "results.nc")
    assert results.sizes["run"] == 32 * (3 + 2)
    assert (out / "sensitivity.png").exists()
    assert (out / "fan.png").exists()


def test_sample_size_must_be_a_power_of_two(tmp_path, capsys):
    status, out = run(tmp_path, "experiment.sensitivity.n=30")
    assert status == 2
    assert "power of 2" in capsys.readouterr().err
    assert not out.exists()
