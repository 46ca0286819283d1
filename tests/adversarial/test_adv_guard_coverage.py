"""The guard on PySD's translators: every module that calls ``eval``/``exec`` is
covered (also after a PySD upgrade adds one), and the literal reader accepts exactly the
numbers, tuples and strings PySD's grammars produce."""

from __future__ import annotations

import pytest

from deterrence.frontend import pysd_guard
from deterrence.frontend.pysd_guard import UnsafeText, literal


def test_every_translator_module_that_evaluates_is_guarded() -> None:
    pysd_guard.check()  # raises if one is not
    assert "pysd.translators.vensim.vensim_element" in pysd_guard.GUARDED
    assert "pysd.translators.xmile.xmile_element" in pysd_guard.GUARDED
    from pysd.translators.vensim import vensim_element

    assert vensim_element.eval is literal


def test_check_notices_an_unguarded_module(monkeypatch: pytest.MonkeyPatch) -> None:
    from pysd.translators.vensim import vensim_element

    monkeypatch.delattr(vensim_element, "eval")
    with pytest.raises(RuntimeError, match="vensim_element calls eval"):
        pysd_guard.check()


@pytest.mark.parametrize(("text", "value"), [
    ("1", 1), ("-2.5", -2.5), ("+ 3", 3), ("1e3", 1000.0), (".5E-2", 0.005),
    ("-\\\n 5", -5),  # Vensim's line continuation inside a number
    ("[(0,0),(10,1)]", [(0, 0), (10, 1)]),
    ("(0,0),(1,2),(3, 4)", ((0, 0), (1, 2), (3, 4))),
    ("(" * 60 + "1" + ")" * 60, 1),  # brackets around a number are not nesting
    # PySD reads "5 - 5" as an array of 5 and -5 and lets eval add them
    ("5 - 5", 0), ("1e3 - 2 + 0.5", 998.5), ("-3 +1", -2), ("1+2", 3),
    ("-".join(["1"] * 500), -498),  # long chains are walked, not recursed
    ("'data.xlsx'", "data.xlsx"), ('"B2"', "B2"),
])
def test_literals_pysd_produces_are_read(text: str, value: object) -> None:
    assert literal(text) == value


@pytest.mark.parametrize("text", [
    "__import__('os').system('true')", "open('/etc/passwd')", "x", "exit(0)",
    "2*3", "2**3", "(1,2)+(3,)", "-(1,2)", "1+2j", "True", "(lambda: 0)()",
    "[i for i in (1,)]", "(1).__class__",
    "'a' 'b'", "", "   ", "[" * 60 + "1" + "]" * 60,
])
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(UnsafeText):
        literal(text)


def test_eval_signature_extras_are_ignored() -> None:
    assert literal("7", {"__builtins__": {}}, {}) == 7
    with pytest.raises(UnsafeText):
        literal(compile("1", "<x>", "eval"))  # code objects are not text


@pytest.mark.parametrize(("equation", "value"), [
    ("5 - 5", 0.0), ("1e3 - 2 + 0.5", 998.5), ("-3 + 1", -2.0), ("- 2 -\\\n 3", -5.0),
])
def test_sums_of_numbers_in_equations_load_as_pysd_reads_them(tmp_path, equation: str,
                                                              value: float) -> None:
    """``b = 5 - 5`` is valid Vensim; PySD's grammar hands it to eval as a sum."""
    from adversarial_support import vensim_text

    import deterrence

    path = tmp_path / "sums.mdl"
    path.write_text(vensim_text(f"B = {equation}", "S = INTEG(B, 1)"), encoding="utf-8")
    ds = deterrence.load(path).simulate(method="euler")
    assert float(ds["b"].values.ravel()[0]) == value
    assert float(ds["s"][-1]) == 1 + 10 * value
