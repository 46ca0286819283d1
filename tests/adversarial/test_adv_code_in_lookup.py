"""Attack: Python written where PySD's Vensim translator used to ``eval()`` model text.

PySD 3.14 evaluates a lookup's range (its grammar lets ``[...]`` hold anything but
``]``) with the builtin ``eval``, in lookup definitions and in ``WITH LOOKUP``. Each
payload below tries to create a marker file, read ``/etc/passwd`` into a number, or end
the process; each must be refused as a syntax error that names the variable and line,
and nothing may happen, through every entry point.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from adversarial_support import TAB_USE, payloads, run_cli, vensim_text

import deterrence
from deterrence.errors import ModelError, ModelSyntaxError

PLACES = {
    # a lookup definition's range
    "lookup range": lambda p: vensim_text(f"Tab([(0,0)-({p},10)],(0,0),(10,1))", TAB_USE),
    # the range's first corner
    "lookup range start": lambda p: vensim_text(f"Tab([({p},0)-(10,10)],(0,0),(10,1))",
                                                TAB_USE),
    # the range inside WITH LOOKUP
    "with lookup range": lambda p: vensim_text(
        f"Y = WITH LOOKUP(Time, ([(0,0)-({p},10)],(0,0),(10,1)))"),
    # a subscripted lookup's range (parsed before the engine looks at subscripts)
    "subscripted lookup": lambda p: vensim_text(
        "Dim: (a1-a2)", f"Tab[Dim]([(0,0)-({p},10)],(0,0),(10,1))", "Y[Dim] = Tab[Dim](Time)"),
    # a lookup's points (the grammar wants numbers there)
    "lookup points": lambda p: vensim_text(f"Tab([(0,0)-(10,10)],(0,0),({p},1))", TAB_USE),
    # WITH LOOKUP's points
    "with lookup points": lambda p: vensim_text(
        f"Y = WITH LOOKUP(Time, ([(0,0)-(10,10)],(0,0),({p},1)))"),
    # a plain equation and a constant
    "equation": lambda p: vensim_text(f"Y = {p}"),
    "array constant": lambda p: vensim_text("Dim: (a1-a2)", f"Y[Dim] = 1, {p}"),
}


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("payload", ["marker", "passwd", "exit"])
def test_load_refuses_and_runs_nothing(tmp_path: Path, place: str, payload: str) -> None:
    marker = tmp_path / "MARKER"
    code = payloads(marker)[payload]
    path = tmp_path / "attack.mdl"
    path.write_text(PLACES[place](code), encoding="utf-8")
    # a range is a syntax error; elsewhere the grammar or the engine refuses the text
    expected = ModelSyntaxError if "range" in place or "subscripted" in place else ModelError
    with pytest.raises(expected) as info:
        deterrence.load(path)
    assert not marker.exists(), "code from the model file ran"
    error = info.value
    assert error.path == path
    assert error.line is not None, "the error must point at the line"
    if "range" in place or place == "subscripted lookup":
        # the refused literal is named as such, with the variable
        assert error.variable in ("Tab", "Y")
        assert "not numeric" in str(error)
        assert "never evaluated" in str(error)


def test_refusal_is_not_cached(tmp_path: Path) -> None:
    """A second load of the same file is refused too: a refused parse leaves no entry."""
    marker = tmp_path / "MARKER"
    path = tmp_path / "attack.mdl"
    path.write_text(PLACES["lookup range"](payloads(marker)["marker"]), encoding="utf-8")
    for _ in range(2):
        with pytest.raises(ModelSyntaxError):
            deterrence.load(path)
    assert not marker.exists()


@pytest.mark.parametrize("command", [
    ["info"], ["simulate"], ["diagram", "--out", "d.png"], ["run", "model=vensim"],
])
@pytest.mark.parametrize("payload", ["marker", "exit"])
def test_every_command_refuses(tmp_path: Path, command: list[str], payload: str) -> None:
    """info, simulate, diagram and run: exit 2, one error line naming file:line, no effect."""
    marker = tmp_path / "MARKER"
    path = tmp_path / "attack.mdl"
    code = payloads(marker)[payload] if payload == "marker" else "__import__('os')._exit(0)"
    path.write_text(PLACES["with lookup range"](code), encoding="utf-8")
    if command[0] == "run":
        args = [*command, f"model.path={path}", f"hydra.run.dir={tmp_path / 'out'}"]
    else:
        args = [command[0], str(path), *command[1:]]
    result = run_cli(args, cwd=tmp_path)
    assert not marker.exists(), "code from the model file ran"
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    assert f"{path.name}:" in result.stderr
    assert "'Y'" in result.stderr
    assert "never evaluated" in result.stderr
