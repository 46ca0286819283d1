"""Fault: lookups whose x values are out of order or repeated.

Vensim sorts a table's points by x (its own output for the SDXorg
``subscripted_lookups`` table written (2,-3),(1,-7),(0,-1) is that of the sorted
table), so an unsorted table is computed the same way and reported with a warning that
names the variable and line. Two points at one x have no defined order after the sort:
refused with the variable and line."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from adversarial_support import vensim_text

import deterrence
from deterrence.errors import ModelSyntaxError
from deterrence.frontend.translate import LookupOrderWarning


def _write(tmp_path: Path, *blocks: str, name: str = "m") -> Path:
    path = tmp_path / f"{name}.mdl"
    path.write_text(vensim_text(*blocks), encoding="utf-8")
    return path


@pytest.mark.parametrize("blocks", [
    ("Tab((0,0),(1,1),(1,5),(2,2))", "Y = Tab(Time)"),
    ("Y = WITH LOOKUP(Time, ([(0,0)-(2,5)],(0,0),(2,1),(2,5)))",),
    ("Tab([(0,0)-(2,5)],(2,0),(1,1),(2,2))", "Y = Tab(Time)"),  # repeated and unsorted
])
def test_a_repeated_x_is_refused(tmp_path: Path, blocks: tuple[str, ...]) -> None:
    path = _write(tmp_path, *blocks)
    with pytest.raises(ModelSyntaxError) as info:
        deterrence.load(path)
    name = "Tab" if blocks[0].startswith("Tab") else "Y"
    assert info.value.variable == name
    assert info.value.line == 2
    assert "twice" in str(info.value)


@pytest.mark.parametrize(("unsorted", "sorted_"), [
    ("Tab((2,-3),(1,-7),(0,-1))", "Tab((0,-1),(1,-7),(2,-3))"),
    ("Tab([(0,-10)-(5,0)],(5,0),(0,-1),(2,-3))", "Tab([(0,-10)-(5,0)],(0,-1),(2,-3),(5,0))"),
])
def test_an_unsorted_table_is_sorted_and_reported(tmp_path: Path, unsorted: str,
                                                   sorted_: str) -> None:
    a = _write(tmp_path, unsorted, "Y = Tab(Time / 2)", name="unsorted")
    b = _write(tmp_path, sorted_, "Y = Tab(Time / 2)", name="sorted")
    with pytest.warns(LookupOrderWarning, match=r"unsorted\.mdl:2: the lookup 'Tab'"):
        ua = deterrence.load(a).simulate(method="euler")
    with warnings.catch_warnings():
        warnings.simplefilter("error", LookupOrderWarning)
        ub = deterrence.load(b).simulate(method="euler")
    assert ua["y"].equals(ub["y"])
    # the warning is given again when the parse comes from the cache
    with pytest.warns(LookupOrderWarning, match="out of increasing order"):
        deterrence.load(a)


def test_an_unsorted_with_lookup_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, "Y = WITH LOOKUP(Time, ([(0,0)-(10,10)],(10,0),(0,10)))")
    with pytest.warns(LookupOrderWarning, match="'Y'"):
        ds = deterrence.load(path).simulate(method="euler")
    assert float(ds["y"][0]) == 10.0
    assert float(ds["y"][-1]) == 0.0


def test_a_repeated_x_in_xmile_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gf.xmile"
    path.write_text("""<xmile xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0" version="1.0">
  <header><vendor>t</vendor><product>t</product></header>
  <sim_specs method="Euler"><start>0</start><stop>4</stop><dt>1</dt></sim_specs>
  <model><variables>
    <aux name="Y"><eqn>Time</eqn><gf><xpts>0,1,1,2</xpts><ypts>0,1,2,3</ypts></gf></aux>
  </variables></model>
</xmile>
""", encoding="utf-8")
    with pytest.raises(ModelSyntaxError) as info:
        deterrence.load(path)
    assert info.value.variable == "Y"
    assert info.value.line == 5


def test_the_cli_prints_the_warning_in_one_line(tmp_path: Path) -> None:
    from adversarial_support import run_cli

    path = _write(tmp_path, "Tab((2,-3),(1,-7),(0,-1))", "Y = Tab(Time / 5)")
    result = run_cli(["simulate", str(path), "--method", "euler"], cwd=tmp_path)
    assert result.returncode == 0
    assert result.stderr == (f"warning: {path}:2: the lookup 'Tab' lists its x values out of "
                             "increasing order; they are sorted, as Vensim does\n")
