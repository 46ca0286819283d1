"""``deterrence simulate --set a=1,2 --set b=3,4,5``: a grid, labelled by its values."""

from __future__ import annotations

from pathlib import Path

import pytest
import xarray as xr

from deterrence import cli, plot

MODEL = """\
S = INTEG(a * b, 0) ~~|
a = 1 ~~|
b = 1 ~~|
INITIAL TIME = 0 ~~|
FINAL TIME = 2 ~~|
TIME STEP = 1 ~~|
SAVEPER = 1 ~~|
"""


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "grid.mdl"
    path.write_text(MODEL)
    return path


def test_lists_are_crossed_into_every_combination(model: Path, tmp_path: Path) -> None:
    out = tmp_path / "grid.nc"
    assert cli.main(["simulate", str(model), "--method", "euler", "--set", "a=1,2",
                     "--set", "b=3,4,5", "-o", str(out)]) == 0
    with xr.open_dataset(out) as ds:
        pairs = list(zip(ds["a"].values.tolist(), ds["b"].values.tolist(), strict=True))
        assert pairs == [(1, 3), (1, 4), (1, 5), (2, 3), (2, 4), (2, 5)]
        assert ds["s"].isel(time=-1).values.tolist() == [2 * a * b for a, b in pairs]
        fig = plot.scenario_comparison(ds.load(), vars=["s"])
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[:2] == ["a=1, b=3", "a=1, b=4"]  # the values, not "run 0", "run 1"


def test_zip_pairs_the_lists_and_refuses_lists_of_different_lengths(model: Path,
                                                                     tmp_path: Path,
                                                                     capsys) -> None:
    out = tmp_path / "zip.nc"
    assert cli.main(["simulate", str(model), "--set", "a=1,2", "--set", "b=3,4", "--zip",
                     "-o", str(out)]) == 0
    with xr.open_dataset(out) as ds:
        assert ds["b"].values.tolist() == [3, 4]
    assert cli.main(["simulate", str(model), "--set", "a=1,2", "--set", "b=3,4,5",
                     "--zip"]) == 2
    assert "different lengths [2, 3]" in capsys.readouterr().err
