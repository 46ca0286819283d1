"""``deterrence simulate --seed N``: the RANDOM functions' seed from the command line,
reproducible, recorded in the results as the Python path records it; a bad seed is one
error line with status 2."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

import deterrence
from deterrence.cli import EXIT_USER_ERROR, main

NOISE = [
    ("Draw", "RANDOM UNIFORM(2, 5, 0)", "Widgets/Month", "A new draw every TIME STEP."),
    ("Total", "INTEG(Draw, 0)", "Widgets", "The draws, accumulated."),
    ("Scale", "1", "Dmnl", "A constant to run an ensemble over."),
    ("Scaled", "Scale * Draw", "Widgets/Month", ""),
]


@pytest.fixture
def noise(make_model):
    return make_model(NOISE, name="noise", final=10, step=0.5)


def simulate(path, tmp_path, *args: str, capsys) -> xr.Dataset:
    out = tmp_path / f"run{len(list(tmp_path.glob('run*.nc')))}.nc"
    code = main(["simulate", str(path), "--method", "euler", *args, "-o", str(out)])
    _, err = capsys.readouterr()
    assert code == 0, err
    return xr.load_dataset(out)


def test_the_same_seed_gives_the_same_draws_and_another_seed_others(noise, tmp_path, capsys):
    a = simulate(noise, tmp_path, "--seed", "7", capsys=capsys)
    b = simulate(noise, tmp_path, "--seed", "7", capsys=capsys)
    c = simulate(noise, tmp_path, "--seed", "8", capsys=capsys)
    np.testing.assert_array_equal(a["draw"].values, b["draw"].values)
    np.testing.assert_array_equal(a["total"].values, b["total"].values)
    assert not np.any(a["draw"].values == c["draw"].values)
    assert (a.attrs["seed"], c.attrs["seed"]) == (7, 8)
    # the draws are the Python path's for that seed, and the default is its default
    python = deterrence.load(noise).simulate(method="euler", seed=7)
    np.testing.assert_array_equal(a["draw"].values, python["draw"].values)
    default = simulate(noise, tmp_path, capsys=capsys)
    assert default.attrs["seed"] == 0
    np.testing.assert_array_equal(
        default["draw"].values, deterrence.load(noise).simulate(method="euler")["draw"].values)


def test_each_run_of_an_ensemble_draws_its_own_stream_from_the_seed(noise, tmp_path, capsys):
    ds = simulate(noise, tmp_path, "--seed", "3", "--set", "Scale=1,1,1", capsys=capsys)
    draws = ds["draw"].transpose("run", "time").values
    assert len({tuple(row) for row in draws}) == 3
    again = simulate(noise, tmp_path, "--seed", "3", "--set", "Scale=1,1,1", capsys=capsys)
    np.testing.assert_array_equal(again["draw"].values, ds["draw"].values)


def test_the_printed_summary_names_the_seed(noise, capsys):
    code = main(["simulate", str(noise), "--method", "euler", "--seed", "11"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert "seed 11;" in out.splitlines()[0]


@pytest.mark.parametrize(("seed", "fragment"), [
    ("-1", "--seed -1: expected a whole number >= 0"),
    ("1.5", "--seed 1.5: expected a whole number >= 0"),
    ("seven", "--seed seven: expected a whole number >= 0"),
])
def test_a_bad_seed_is_one_error_line(noise, capsys, seed, fragment):
    code = main(["simulate", str(noise), "--method", "euler", f"--seed={seed}"])
    _, err = capsys.readouterr()
    assert code == EXIT_USER_ERROR
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert fragment in lines[0]
    assert "e.g. --seed 42" in lines[0]


def test_a_seed_with_pysds_runner_is_refused_not_ignored(noise, capsys):
    code = main(["simulate", str(noise), "--engine", "pysd", "--seed", "4"])
    _, err = capsys.readouterr()
    assert code == EXIT_USER_ERROR
    assert err.strip().splitlines() == [err.strip()]
    assert "engine pysd draws PySD's own random numbers" in err


def test_a_negative_seed_as_its_own_word_from_the_shell(noise):
    done = subprocess.run([sys.executable, "-m", "deterrence", "simulate", str(noise),
                           "--method", "euler", "--seed", "-1"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith("error: --seed -1: expected a whole number >= 0")
