"""Composed scenarios in folder names and sweeps: ``scenario=[a,b]`` names a single run's
folder for both, and ``-m "scenario=[a,b],c"`` crosses the composition with another
scenario, labelled ``a+b`` in the merged results."""

from __future__ import annotations

import numpy as np
from exp_support import cli, load, ok

from deterrence.experiments.compose import name_composition
from deterrence.experiments.folders import run_name


def test_a_single_composed_run_is_named_for_both_scenarios():
    argv = name_composition(["scenario=[leadership_change,rising_power]", "policy=reassurance"])
    assert argv[-1] == "scenario.name='leadership_change+rising_power'"
    assert run_name("alliance_deterrence", "single", "leadership_change+rising_power",
                    "reassurance") == "leadership_change+rising_power_reassurance"
    # a sweep names its jobs by number, and a name given by hand is kept
    assert name_composition(["-m", "scenario=[a,b],c"]) == ["-m", "scenario=[a,b],c"]
    given = ["scenario=[a,b]", "scenario.name=both"]
    assert name_composition(given) == given


def test_a_sweep_crosses_a_composition_with_another_scenario(tmp_path):
    ok(cli("-m", "scenario=[leadership_change,rising_power],leadership_change",
           "output.plot=false", "solver.final_time=16", f"hydra.sweep.dir={tmp_path}"))
    ds = load(tmp_path / "combined.nc")
    assert list(ds["scenario"].values) == ["leadership_change+rising_power",
                                           "leadership_change"]
    both, one = (ds["adversary_ambition_level"].sel(scenario=s).values
                 for s in ("leadership_change+rising_power", "leadership_change"))
    assert np.all(both[-10:] > one[-10:])  # the rising power acts in the composition only
