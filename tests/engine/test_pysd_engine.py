"""The explicit fallback, ``engine="pysd"``: PySD's own runner behind our interface.

A model the compiled engine refuses runs with PySD and reproduces Vensim's table; a
model both engines run gives the same Dataset layout (names, dims, attributes) and the
same Euler numbers; ensembles are PySD runs looped over the parameter sets; the command
line's ``--engine pysd`` writes the compiled engine's CSV columns; every refusal of the
compiled engine names the fallback.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conformance_expectations import EXPECTED_UNSUPPORTED, models_root

import deterrence
from deterrence import ModelSyntaxError, ParameterError, UnsupportedError
from deterrence.analysis import conformance
from deterrence.cli import main
from deterrence.errors import FALLBACK_HINT
from deterrence.results import to_table

ROOT = models_root()
needs_suite = pytest.mark.skipif(not ROOT.is_dir(), reason=f"no test-models at {ROOT}")
TEACUP = ROOT / "samples" / "teacup" / "teacup.mdl"
#: subscripted cases (refused by the compiled engine when this was written) that PySD
#: reproduces: each has a Vensim table beside it
SUBSCRIPTED = ("subscript_2d_arrays", "subscript_1d_arrays", "subscript_mapping_simple",
               "subscript_subranges")
#: macros (PySD writes one module per macro, which the fallback reads before importing)
MACROS = ("macro_stock", "macro_multi_macros", "macro_cross_reference")


def _case(folder: str) -> Path:
    return next((ROOT / "tests" / folder).glob("test_*.mdl"))


def _key(column: str) -> str:
    return re.sub(r"[\s_\"]+", "", column).lower()


def _matches_vensim(ds, case_dir: Path) -> list[str]:
    """The columns of Vensim's table that the Dataset's CSV table reproduces (Euler,
    ``1e-5 + 1e-5 |expected|`` at every time of the table); fails on any mismatch."""
    table = next(p for p in case_dir.glob("output.*") if p.suffix in (".csv", ".tab"))
    expected = conformance.read_vensim_table(table)
    ours = to_table(ds).set_index("Time")
    ours.columns = [_key(c) for c in ours.columns]
    checked = []
    for column in expected.columns:
        if _key(column) not in ours.columns:
            continue
        actual = ours[_key(column)].reindex(expected.index.astype(float), method="nearest")
        exp = expected[column].to_numpy(dtype=float)
        ok = np.abs(actual.to_numpy() - exp) <= 1e-5 + 1e-5 * np.abs(exp)
        assert ok[~np.isnan(exp)].all(), f"{column} differs from Vensim's table"
        checked.append(column)
    return checked


@needs_suite
@pytest.mark.parametrize("folder", SUBSCRIPTED)
def test_refused_subscripted_model_runs_with_pysd_and_matches_vensim(folder: str) -> None:
    path = _case(folder)
    ds = deterrence.load(path, engine="pysd").simulate()
    assert ds.attrs["engine"] == "pysd"
    assert ds.attrs["method"] == "euler"
    assert ds.attrs["pysd_version"].startswith("3.")
    checked = _matches_vensim(ds, path.parent)
    assert any("[" in c for c in checked), "no subscripted column was compared"


@needs_suite
@pytest.mark.parametrize("folder", MACROS)
def test_macros_run_with_pysd_and_match_vensim(folder: str) -> None:
    path = _case(folder)
    ds = deterrence.load(path, engine="pysd").simulate()
    assert _matches_vensim(ds, path.parent)


@needs_suite
def test_subscripted_values_are_pysds_own(tmp_path: Path) -> None:
    """Our Dataset holds exactly what PySD computes, each range a named dimension."""
    import pysd

    path = _case("subscript_2d_arrays")
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    reference = pysd.read_vensim(str(copy)).run()
    ds = deterrence.load(path, engine="pysd").simulate()
    stock = ds["stock_a"]
    assert stock.dims == ("time", "One Dimensional Subscript", "Second Dimension Subscript")
    assert stock.attrs["vensim_name"] == "Stock A"
    for row, entry in enumerate(stock["One Dimensional Subscript"].values):
        for col, column in enumerate(stock["Second Dimension Subscript"].values):
            np.testing.assert_array_equal(stock.values[:, row, col],
                                          reference[f"Stock A[{entry},{column}]"].values)


@needs_suite
def test_every_refusal_names_the_fallback() -> None:
    """The compiled engine never falls back silently: its refusals say how to."""
    refusals: list[UnsupportedError] = []
    for name in sorted(EXPECTED_UNSUPPORTED)[:12]:
        if not name.endswith(".mdl"):
            continue
        try:
            deterrence.load(ROOT / name).simulate(method="euler")
        except UnsupportedError as exc:
            refusals.append(exc)
        except deterrence.ModelError:
            continue
    for exc in refusals:
        assert str(exc).endswith(f"{FALLBACK_HINT})"), str(exc)
        assert exc.path is not None
    if not refusals:
        pytest.skip("the compiled engine refuses none of these cases any more")


def test_unsupported_error_appends_the_hint_once() -> None:
    exc = UnsupportedError("DELAY X (in 'y') is not supported", path="m.mdl", line=3,
                           variable="y", hint="rewrite it")
    assert str(exc) == f"m.mdl:3: DELAY X (in 'y') is not supported (rewrite it; {FALLBACK_HINT})"
    again = UnsupportedError(exc.message, path=exc.path, hint=exc.hint)
    assert again.hint.count("--engine pysd") == 1
    assert "--engine" not in str(UnsupportedError("x", fallback=False))


REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", [
    pytest.param(TEACUP, marks=needs_suite),
    REPO / "sd_models" / "alliance_deterrence.mdl",
    REPO / "sd_models" / "richardson_arms_race.mdl"], ids=lambda p: p.stem)
def test_both_engines_give_one_layout_and_the_same_numbers(path: Path) -> None:
    """Variables, dims (values fixed for a run have no time axis), attributes, times and
    the Euler numbers are the compiled engine's."""
    compiled = deterrence.load(path).simulate(method="euler", final_time=8)
    fallback = deterrence.load(path, engine="pysd").simulate(final_time=8)
    assert list(fallback.data_vars) == list(compiled.data_vars)
    for name, da in compiled.data_vars.items():
        assert fallback[name].dims == da.dims, name
        assert fallback[name].attrs == da.attrs, name
        np.testing.assert_allclose(fallback[name].values, da.values, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(fallback["time"].values, compiled["time"].values)
    assert fallback["time"].attrs == compiled["time"].attrs
    for key in ("initial_time", "final_time", "time_step", "saveper", "model_sha256"):
        assert fallback.attrs[key] == compiled.attrs[key], key


@needs_suite
def test_ensemble_loops_pysd_runs_by_either_name() -> None:
    model = deterrence.load(TEACUP, engine="pysd")
    ds = model.simulate({"Characteristic Time": [10, 20, 40],
                         "room_temperature": 70.0})
    assert ds.sizes["run"] == 3
    assert ds["teacup_temperature"].dims == ("time", "run")
    for run, tau in enumerate([10, 20, 40]):
        single = model.simulate({"characteristic_time": tau, "Room Temperature": 70})
        np.testing.assert_array_equal(ds["teacup_temperature"].values[:, run],
                                      single["teacup_temperature"].values)
    assert ds["characteristic_time"].values.tolist() == [10, 20, 40]
    # an earlier call's settings do not leak into the next one
    np.testing.assert_array_equal(model.simulate()["room_temperature"].values, 70.0)
    default = deterrence.load(TEACUP).simulate(method="euler")
    np.testing.assert_allclose(model.simulate()["teacup_temperature"].values,
                               default["teacup_temperature"].values, rtol=1e-12)


@needs_suite
def test_fallback_refuses_what_pysd_cannot_do() -> None:
    model = deterrence.load(TEACUP, engine="pysd")
    with pytest.raises(UnsupportedError, match="euler only") as info:
        model.simulate(method="rk4")
    assert "--engine pysd" not in str(info.value)
    with pytest.raises(ParameterError, match="closest"):
        model.simulate({"Characteristic Tme": 5})
    with pytest.raises(ParameterError, match="is a stock"):
        model.simulate({"Teacup Temperature": 5})
    with pytest.raises(ParameterError, match="engine='turbo'"):
        deterrence.load(TEACUP, engine="turbo")


def test_placeholder_is_refused_on_the_fallback_too(tmp_path: Path) -> None:
    path = tmp_path / "draft.mdl"
    path.write_text("{UTF-8}\nx = A FUNCTION OF(y)\n~~|\ny = 1 ~~|\n"
                    "INITIAL TIME = 0 ~~|\nFINAL TIME = 1 ~~|\nTIME STEP = 1 ~~|\n"
                    "SAVEPER = 1 ~~|\n", encoding="utf-8")
    for engine in ("compiled", "pysd"):
        with pytest.raises(ModelSyntaxError, match="A FUNCTION OF") as info:
            deterrence.load(path, engine=engine)
        assert (info.value.variable, info.value.line) == ("x", 2)


@needs_suite
def test_cli_engine_pysd_writes_the_compiled_engines_columns(tmp_path: Path, capsys) -> None:
    compiled, fallback = tmp_path / "compiled.csv", tmp_path / "pysd.csv"
    assert main(["simulate", str(TEACUP), "--method", "euler", "-o", str(compiled)]) == 0
    assert main(["simulate", str(TEACUP), "--engine", "pysd", "-o", str(fallback)]) == 0
    ours, theirs = pd.read_csv(compiled), pd.read_csv(fallback)
    assert list(theirs.columns) == list(ours.columns)
    np.testing.assert_allclose(theirs.to_numpy(), ours.to_numpy(), rtol=1e-12)
    assert main(["simulate", str(TEACUP), "--engine", "pysd", "--method", "RK45"]) == 2
    assert "euler only" in capsys.readouterr().err
    assert main(["info", str(TEACUP)]) == 0
    listed = capsys.readouterr().out
    assert main(["info", str(TEACUP), "--engine", "pysd"]) == 0
    assert capsys.readouterr().out == listed


@needs_suite
def test_cli_names_subscripted_columns_as_vensim_does(tmp_path: Path) -> None:
    path = _case("subscript_2d_arrays")
    out = tmp_path / "sub.csv"
    assert main(["simulate", str(path), "--engine", "pysd", "-o", str(out)]) == 0
    columns = set(pd.read_csv(out).columns)
    vensim = pd.read_csv(path.parent / "output.tab", sep="\t", nrows=1).columns
    assert {c for c in vensim if "[" in c} <= columns
    assert "Stock A[Entry 3,Column 2]" in columns
