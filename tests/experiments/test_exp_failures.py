"""A job that fails at run time: recorded, isolated, and nothing written before is lost."""

from __future__ import annotations

import json
import os
import shutil
import time

import numpy as np
import pytest
import yaml
from exp_support import cli, job_dirs, job_overrides, load

from deterrence import experiments


def sweep_divide(model, sweep, divisors):
    return cli("-m", "model=vensim", f"model.path={model}",
               f"+params.divisor={','.join(map(str, divisors))}", "output.plot=false",
               f"hydra.sweep.dir={sweep}")


@pytest.fixture(scope="module")
def twice(tmp_path_factory, divide_model):
    """The same failing sweep (divisor 1, 0, 2) run twice into one sweep folder."""
    sweep = tmp_path_factory.mktemp("failing") / "sweep"
    first = sweep_divide(divide_model, sweep, [1, 0, 2])
    snapshot = {
        "combined": (sweep / "combined.nc").read_bytes(),
        "results": {j.name: (j / "results.nc").read_bytes()
                    for j in job_dirs(sweep) if (j / "results.nc").exists()},
        "failures": (sweep / "failures.yaml").read_text(),
    }
    second = sweep_divide(divide_model, sweep, [1, 0, 2])
    return sweep, first, second, snapshot, divide_model


def test_exit_status_is_nonzero_and_says_so(twice):
    _, first, second, _, _ = twice
    for proc in (first, second):
        assert proc.returncode != 0
        assert "failure" in proc.stderr.lower()
        assert "Traceback" not in proc.stderr


def test_failures_yaml_lists_the_failed_job(twice):
    sweep, *_, model = twice
    failures = yaml.safe_load((sweep / "failures.yaml").read_text())
    assert len(failures) == 1
    failed = failures[0]
    assert failed["job"] == 1
    assert failed["overrides"] == ["model=vensim", f"model.path={model}", "+params.divisor=0",
                                   "output.plot=False"]
    assert "Level" in failed["error"]
    assert "NaN or infinite" in failed["error"]
    # the job folder says the same
    record = yaml.safe_load((sweep / "1" / "failure.yaml").read_text())
    assert record["overrides"] == failed["overrides"]
    assert record["error"] == failed["error"]
    assert not (sweep / "1" / "results.nc").exists()


def test_combined_attrs_record_the_failure(twice):
    sweep, *_, model = twice
    ds = load(sweep / "combined.nc")
    assert ds.attrs["n_jobs"] == 3
    assert ds.attrs["n_failed"] == 1
    failures = json.loads(ds.attrs["failures"])
    assert [f["job"] for f in failures] == [1]
    assert failures[0]["overrides"] == ["model=vensim", f"model.path={model}",
                                        "+params.divisor=0", "output.plot=False"]
    assert "NaN or infinite" in failures[0]["error"]


def test_other_jobs_are_merged_and_the_failed_cell_is_nan(twice):
    sweep, *_ = twice
    ds = load(sweep / "combined.nc")
    assert ds["level"].dims == ("divisor", "time")
    np.testing.assert_array_equal(ds["divisor"].values, [1, 0, 2])
    assert np.isnan(ds["level"].sel(divisor=0).values).all()
    assert np.isnan(ds["growth"].sel(divisor=0).item())
    np.testing.assert_array_equal(ds["level"].sel(divisor=1).values, [1, 2, 3, 4, 5, 6])
    np.testing.assert_array_equal(ds["level"].sel(divisor=2).values,
                                  [1, 1.5, 2, 2.5, 3, 3.5])
    for job in job_dirs(sweep):
        divisor = float(job_overrides(job)["+params.divisor"])
        if divisor:
            np.testing.assert_array_equal(ds["level"].sel(divisor=divisor).values,
                                          load(job / "results.nc")["level"].values)


def test_a_second_sweep_into_the_same_folder_keeps_the_first(twice):
    sweep, _, _, snapshot, _ = twice
    kept = sorted(p for p in sweep.glob("combined.*.nc"))
    assert len(kept) == 1, sorted(p.name for p in sweep.iterdir())
    assert kept[0].read_bytes() == snapshot["combined"]
    assert (sweep / "combined.nc").exists()
    for name, content in snapshot["results"].items():
        aside = list((sweep / name).glob("results.*.nc"))
        assert [p.read_bytes() for p in aside] == [content], name
    # the first sweep's plot-free merge is still loadable from where it was kept
    assert load(kept[0]).attrs["n_failed"] == 1


@pytest.fixture(scope="module")
def fixed_rerun(tmp_path_factory, divide_model):
    """Sweep divisor 1,0,2 (job 1 fails), then 0,1,2 into the same folder (job 0 fails)."""
    sweep = tmp_path_factory.mktemp("rerun") / "sweep"
    first = sweep_divide(divide_model, sweep, [1, 0, 2])
    first_failures = (sweep / "failures.yaml").read_text()
    second = sweep_divide(divide_model, sweep, [0, 1, 2])
    return sweep, first, second, first_failures


def test_rerun_job_that_now_succeeds_is_not_reported_failed(fixed_rerun):
    sweep, _, _, _ = fixed_rerun
    assert (sweep / "1" / "results.nc").exists()  # job 1 (divisor=1) succeeded this time
    ds = load(sweep / "combined.nc")
    failures = yaml.safe_load((sweep / "failures.yaml").read_text())
    assert ["+params.divisor=0" in f["overrides"] for f in failures] == [True]
    assert [f["job"] for f in failures] == [0]
    assert ds.attrs["n_failed"] == 1
    assert not np.isnan(ds["level"].sel(divisor=1).values).any()


def test_rerun_keeps_the_earlier_failures_yaml(fixed_rerun):
    sweep, _, _, first_failures = fixed_rerun
    texts = [p.read_text() for p in sweep.glob("failures*.yaml")]
    assert first_failures in texts


def test_rerun_rerecords_the_new_failure(fixed_rerun):
    sweep, first, second, _ = fixed_rerun
    assert first.returncode != 0
    assert second.returncode != 0
    assert "+params.divisor=0" in (sweep / "0" / "failure.yaml").read_text()


def test_merges_within_one_second_lose_nothing(twice, tmp_path):
    sweep = tmp_path / "sweep"
    shutil.copytree(twice[0], sweep)
    for p in sweep.glob("combined*.nc"):
        p.unlink()
    contents = []
    stamp = float(int(time.time()))
    for i in range(3):
        experiments.merge_sweep(sweep, plot=False)
        path = sweep / "combined.nc"
        os.utime(path, (stamp, stamp))  # all three merges finish within the same second
        contents.append(path.read_bytes())
        assert len(list(sweep.glob("combined*.nc"))) == i + 1
    assert sorted(p.read_bytes() for p in sweep.glob("combined*.nc")) == sorted(contents)
