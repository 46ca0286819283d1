"""Fault: solver options that make no sense (issue 8, item 15).

A negative ``rtol`` was accepted and recorded in the results, a NaN one wasted a minute
before the solver gave up. Every option is now checked before any work: a
``ParameterError`` naming the option, and from the command line one ``error:`` line.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from adversarial_support import vensim_text

import deterrence
from deterrence.cli import main
from deterrence.errors import ParameterError

BAD = {
    "negative_rtol": ({"rtol": -1e-6}, "rtol=-1e-06"),
    "nan_rtol": ({"rtol": math.nan}, "rtol=nan"),
    "zero_rtol": ({"rtol": 0.0}, "rtol=0.0"),
    "inf_atol": ({"atol": math.inf}, "atol=inf"),
    "negative_atol": ({"atol": -1.0}, "atol=-1.0"),
    "text_atol": ({"atol": "small"}, "atol='small'"),
    "zero_max_step": ({"max_step": 0.0}, "max_step=0.0"),
    "nan_max_step": ({"max_step": math.nan}, "max_step=nan"),
    "negative_first_step": ({"first_step": -0.1}, "first_step=-0.1"),
    "nan_time_step": ({"time_step": math.nan}, "time_step=nan"),
    "zero_time_step": ({"time_step": 0.0}, "time_step=0.0"),
    "inf_saveper": ({"saveper": math.inf}, "saveper=inf"),
    "nan_final_time": ({"final_time": math.nan}, "final_time=nan"),
    "zero_evaluations": ({"max_evaluations": 0}, "max_evaluations=0"),
    "fractional_evaluations": ({"max_evaluations": 2.5}, "max_evaluations=2.5"),
    "bool_evaluations": ({"max_evaluations": True}, "max_evaluations=True"),
}


@pytest.fixture
def model(tmp_path: Path) -> deterrence.Model:
    path = tmp_path / "decay.mdl"
    path.write_text(vensim_text("S = INTEG(-S / 2, 1)"), encoding="utf-8")
    return deterrence.load(path)


@pytest.mark.parametrize("method", ["RK45", "euler"])
@pytest.mark.parametrize("case", list(BAD))
def test_bad_option_is_refused_naming_it(model: deterrence.Model, case: str,
                                         method: str) -> None:
    options, shown = BAD[case]
    with pytest.raises(ParameterError) as info:
        model.simulate(method=method, **options)
    assert shown in str(info.value)
    assert str(info.value).startswith(str(model.path))


def test_good_options_still_run(model: deterrence.Model) -> None:
    ds = model.simulate(method="RK45", rtol=1e-8, atol=1e-10, max_step=0.5,
                        first_step=0.01, max_evaluations=100_000.0)
    assert ds.attrs["rtol"] == 1e-8
    assert float(ds["s"][-1]) == pytest.approx(math.exp(-5), rel=1e-6)


@pytest.mark.parametrize(("args", "shown"), [
    (["--rtol", "nan"], "rtol=nan"), (["--atol", "-1"], "atol=-1.0"),
    (["--max-step", "0"], "max_step=0.0"), (["--time-step", "nan"], "time_step=nan"),
])
def test_cli_one_line_and_exit_2(model: deterrence.Model, args: list[str], shown: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["simulate", str(model.path), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1, err
    assert err[0].startswith("error: ")
    assert shown in err[0]
