"""The model is compiled once per process (per file version), not once per job."""

from __future__ import annotations

import shutil

import pytest
from exp_support import REPO

from deterrence import experiments
from deterrence.experiments import config, job


@pytest.fixture
def count_loads(monkeypatch):
    """A fresh compile cache and a counter of the compilations (``experiments.config.load``)."""
    calls = []
    original = config.load

    def counting(path, *args, **kwargs):
        calls.append(str(path))
        return original(path, *args, **kwargs)

    config._load_cached.cache_clear()
    monkeypatch.setattr(config, "load", counting)
    yield calls
    config._load_cached.cache_clear()  # no counted model left behind


def compose(*overrides):
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    config.register_configs()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(experiments.conf_dir()),
                                   version_base="1.3"):
            return hydra_compose("config", overrides=list(overrides))
    finally:
        GlobalHydra.instance().clear()


def test_run_job_twice_compiles_once(count_loads, tmp_path):
    for i, level in enumerate((0.2, 0.8)):
        cfg = compose(f"policy.joint_exercises={level}", "solver.final_time=2",
                      "output.plot=false")
        ds = job.run_job(cfg, (tmp_path / str(i)))
        assert float(ds["joint_exercise_intensity"]) == level
    assert count_loads == [str(REPO / "sd_models" / "alliance_deterrence.mdl")]
    info = config._load_cached.cache_info()
    assert (info.misses, info.hits) == (1, 1)


def test_a_multirun_compiles_once(count_loads, tmp_path):
    """Preflight and both jobs of an in-process multirun (basic launcher) share one model."""
    sweep = tmp_path / "sweep"
    status = experiments.hydra_main(["-m", "policy.joint_exercises=0.2,0.8",
                                     "solver.final_time=2", "output.plot=false",
                                     f"hydra.sweep.dir={sweep}"])
    assert status == 0
    assert (sweep / "combined.nc").exists()
    assert len(count_loads) == 1
    info = config._load_cached.cache_info()
    assert info.misses == 1
    assert info.hits >= 2


def test_an_edited_file_is_compiled_again(count_loads, tmp_path, divide_model):
    path = tmp_path / "divide.mdl"
    shutil.copy(divide_model, path)
    first = config.get_model(path)
    assert config.get_model(path) is first
    path.write_text(path.read_text().replace("Divisor=\n\t1\n", "Divisor=\n\t42\n"))
    second = config.get_model(path)
    assert second is not first
    assert second.variable("Divisor").default == 42
    assert len(count_loads) == 2
