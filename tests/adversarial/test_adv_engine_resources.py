"""Attack: ask for more work than the machine has (issue 8, item 2).

A TIME STEP of 1e-300 looped forever, ``--final-time 1e9`` or a 100,000-run ensemble
saved at every step allocated until memory ran out. The size of a run is now estimated
before anything is allocated, and a run over the limit is refused at once with a
``ResourceError`` giving the estimate, the limit and what to change.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from adversarial_support import run_cli

import deterrence
from deterrence.cli import main
from deterrence.errors import ParameterError, ResourceError


def write(tmp_path: Path, *equations: str, final: float = 10, step: float = 1,
          saveper: float | None = None) -> Path:
    """A Vensim model with the given equations and control values."""
    blocks = [*equations, "INITIAL TIME = 0", f"FINAL TIME = {final!r}",
              f"TIME STEP = {step!r}", f"SAVEPER = {step if saveper is None else saveper!r}"]
    text = "{UTF-8}\n" + "".join(f"{b}\n\t~\t\n\t~\t\n\t|\n\n" for b in blocks)
    path = tmp_path / "big.mdl"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def default_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The documented default, whatever the environment of the test run says."""
    monkeypatch.delenv("DETERRENCE_MAX_MEMORY", raising=False)


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_tiny_time_step_is_refused_up_front(tmp_path: Path, method: str) -> None:
    model = deterrence.load(write(tmp_path, "S = INTEG(1, 0)", step=1e-300, saveper=1))
    with pytest.raises(ResourceError) as info:
        model.simulate(method=method)
    text = str(info.value)
    assert "1e+301 steps" in text
    assert "limit of 100,000,000" in text
    assert "TIME STEP" in text
    assert "max_steps=" in text


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_more_steps_than_a_float_counts_is_refused(tmp_path: Path, method: str) -> None:
    """TIME STEP 1e-300 over 1e10 with SAVEPER 1e10: the counts overflow a float."""
    model = deterrence.load(write(tmp_path, "S = INTEG(1, 0)", step=1e-300, saveper=1e10,
                                  final=1e10))
    with pytest.raises(ResourceError, match=r"inf steps, more than the limit"):
        model.simulate(method=method)


def test_tiny_time_step_from_the_command_line(tmp_path: Path) -> None:
    path = write(tmp_path, "S = INTEG(1, 0)", step=1e-300)
    done = run_cli(["simulate", str(path), "--method", "euler"], cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    assert "steps" in lines[0]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(("method", "words"), [
    ("euler", ["1,000,000,000 steps", "--max-steps"]),
    ("RK45", ["GiB of memory", "1,000,000,001 saved times", "SAVEPER", "variables=",
              "max_memory=", "--max-memory"]),
])
def test_final_time_1e9_is_refused(tmp_path: Path, method: str, words: list[str],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "S = INTEG(1, 0)")
    status = main(["simulate", str(path), "--method", method, "--final-time", "1e9"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(lines) == 1
    for word in words:
        assert word in lines[0], (word, lines[0])


def test_huge_ensemble_saved_every_step_is_refused(tmp_path: Path) -> None:
    model = deterrence.load(write(tmp_path, "S = INTEG(r * S, 1)", "r = 0.01",
                                  final=100, step=0.01))
    with pytest.raises(ResourceError) as info:
        model.simulate({"r": np.linspace(0, 0.1, 100_000)}, method="euler")
    text = str(info.value)
    assert "10,001 saved times x 100,000 runs" in text
    assert "GiB" in text
    assert "fewer runs" in text


def test_the_limit_can_be_raised_and_lowered(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    model = deterrence.load(write(tmp_path, "S = INTEG(r * S, 1)", "r = 0.01",
                                  final=100, step=0.1))
    runs = {"r": np.linspace(0, 0.1, 1000)}  # 1001 x 1000 x 8 bytes = 8 MB a value
    with pytest.raises(ResourceError, match="more than the limit of 4 MiB"):
        model.simulate(runs, method="euler", max_memory="4MiB")
    assert model.simulate(runs, method="euler", max_memory="1GiB").sizes["run"] == 1000
    assert model.simulate(runs, method="euler", max_memory=2e9).sizes["run"] == 1000
    monkeypatch.setenv("DETERRENCE_MAX_MEMORY", "4MiB")
    with pytest.raises(ResourceError, match="limit of 4 MiB"):
        model.simulate(runs, method="euler")
    assert model.simulate(runs, method="euler", max_memory="inf").sizes["run"] == 1000


def test_the_step_limit_can_be_raised(tmp_path: Path) -> None:
    model = deterrence.load(write(tmp_path, "S = INTEG(1, 0)", final=1000, step=0.5,
                                  saveper=100))
    with pytest.raises(ResourceError, match="2,000 steps, more than the limit of 1,000"):
        model.simulate(method="euler", max_steps=1000)
    assert float(model.simulate(method="euler", max_steps=2000)["s"][-1]) == 1000


def test_fewer_variables_need_less_memory(tmp_path: Path) -> None:
    auxes = [f"A{i} = S * {i}" for i in range(20)]
    model = deterrence.load(write(tmp_path, "S = INTEG(k, 1)", "k = 0.1", *auxes,
                                  final=100, step=0.1))
    runs = {"k": np.linspace(0.1, 0.2, 10)}  # 21 values x 1001 times x 10 runs
    with pytest.raises(ResourceError, match="variables="):
        model.simulate(runs, method="euler", max_memory="2.5MiB")
    ds = model.simulate(runs, method="euler", max_memory="2.5MiB", variables=["S", "A3"])
    assert sorted(ds.data_vars) == ["a3", "s"]
    assert float(ds["a3"][-1, 0]) == pytest.approx(3 * float(ds["s"][-1, 0]))


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_changing_time_step_is_bounded_while_it_runs(tmp_path: Path, method: str) -> None:
    path = write(tmp_path, "S = INTEG(1, 0)", final=1e6)
    text = path.read_text().replace("TIME STEP = 1", "TIME STEP = IF THEN ELSE(Time < 5, 1, 0.5)")
    path.write_text(text)
    model = deterrence.load(path)
    with pytest.raises(ResourceError, match="steps"):
        model.simulate(method=method, max_steps=1000)


def test_time_step_too_small_to_advance_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "S = INTEG(1, 0)")
    text = path.read_text().replace("TIME STEP = 1",
                                    "TIME STEP = IF THEN ELSE(Time < 5, 1, 1e-300)")
    path.write_text(text)
    with pytest.raises(ResourceError, match="too small to advance"):
        deterrence.load(path).simulate(method="euler")


@pytest.mark.parametrize("value", ["lots", -1, 0, float("nan"), True, "12XB"])
def test_bad_memory_limit_is_refused(tmp_path: Path, value: object) -> None:
    model = deterrence.load(write(tmp_path, "S = INTEG(1, 0)"))
    with pytest.raises(ParameterError, match="max_memory="):
        model.simulate(method="euler", max_memory=value)


def test_bad_memory_limit_from_the_command_line(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "S = INTEG(1, 0)")
    assert main(["simulate", str(path), "--max-memory", "lots"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "max_memory='lots'" in err
