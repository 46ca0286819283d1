"""Attack: Python in the text fields of an XMILE file (equations, arrays, graphical
functions, names, documentation). PySD's XMILE visitors call ``eval`` on numbers and
array literals; the grammar keeps payloads out today, and the guard keeps them out if it
ever lets them in. Each file must be refused or run as data, and nothing may happen."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from adversarial_support import payloads

import deterrence
from deterrence.errors import ModelError


def xmile(variables: str) -> str:
    return f"""<xmile xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0" version="1.0">
  <header><vendor>test</vendor><product>test</product></header>
  <sim_specs method="Euler" time_units="Months"><start>0</start><stop>4</stop><dt>1</dt>
  </sim_specs>
  <model><variables>
    {variables}
    <aux name="X"><eqn>1</eqn></aux>
  </variables></model>
</xmile>
"""


PLACES = {
    "equation": lambda p: f'<aux name="Y"><eqn>{escape(p)}</eqn></aux>',
    "gf points": lambda p: (f'<aux name="Y"><eqn>Time</eqn><gf><xscale min="0" max="1"/>'
                            f'<ypts>0,{escape(p)}</ypts></gf></aux>'),
    "gf scale": lambda p: (f'<aux name="Y"><eqn>Time</eqn><gf>'
                           f'<xscale min="0" max="{escape(p, {chr(34): "&quot;"})}"/>'
                           f'<ypts>0,1</ypts></gf></aux>'),
    "stock initial": lambda p: f'<stock name="S"><eqn>{escape(p)}</eqn></stock>',
}


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("payload", ["marker", "passwd", "exit"])
def test_xmile_payload_refused(tmp_path: Path, place: str, payload: str) -> None:
    marker = tmp_path / "MARKER"
    path = tmp_path / "attack.xmile"
    path.write_text(xmile(PLACES[place](payloads(marker)[payload])), encoding="utf-8")
    with pytest.raises(ModelError) as info:
        deterrence.load(path)
    assert not marker.exists(), "code from the model file ran"
    assert info.value.path == path


def test_python_in_names_and_documentation_is_data(tmp_path: Path) -> None:
    """Names and documentation holding Python load and run as plain text."""
    marker = tmp_path / "MARKER"
    code = payloads(marker)["marker"]
    path = tmp_path / "names.xmile"
    path.write_text(xmile(
        f'<aux name="Y"><doc>{escape(code)} """ {escape(code)}</doc>'
        f'<units>{escape(code)}</units><eqn>X * 2</eqn></aux>'), encoding="utf-8")
    ds = deterrence.load(path).simulate(method="euler")
    assert float(ds["y"].values.ravel()[-1]) == 2.0
    assert not marker.exists()
