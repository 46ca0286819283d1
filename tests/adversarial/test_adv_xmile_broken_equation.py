"""Fault: one broken equation in an XMILE file. The error names that variable and its
line, not the first variable of the file."""

from __future__ import annotations

from pathlib import Path

import pytest

import deterrence
from deterrence.errors import ModelSyntaxError

XMILE = """<xmile xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0" version="1.0">
  <header><vendor>test</vendor><product>test</product></header>
  <sim_specs method="Euler" time_units="Months"><start>0</start><stop>4</stop><dt>1</dt>
  </sim_specs>
  <model><variables>
    <aux name="First"><eqn>1</eqn></aux>
    <aux name="Second"><eqn>First * 2</eqn></aux>
    <stock name="Level"><eqn>0</eqn><inflow>Rate</inflow></stock>
    <flow name="Rate"><eqn>{rate}</eqn></flow>
    <aux name="Last"><eqn>Level + 1</eqn></aux>
  </variables></model>
</xmile>
"""


@pytest.mark.parametrize("broken", ["Second * (3", "Second + + * 2", "MAX(Second,"])
def test_the_broken_variable_is_named(tmp_path: Path, broken: str) -> None:
    path = tmp_path / "broken.xmile"
    path.write_text(XMILE.format(rate=broken), encoding="utf-8")
    with pytest.raises(ModelSyntaxError) as info:
        deterrence.load(path)
    assert info.value.variable == "Rate"
    assert info.value.line == 9
    assert "'Rate'" in str(info.value)


def test_the_same_file_unbroken_runs(tmp_path: Path) -> None:
    path = tmp_path / "fine.xmile"
    path.write_text(XMILE.format(rate="Second"), encoding="utf-8")
    ds = deterrence.load(path).simulate(method="euler")
    assert float(ds["level"][-1]) == 8.0
