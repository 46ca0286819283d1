"""The normalisation before PySD's Vensim translator (frontend/normalise.py), rule by rule:
text Vensim accepts and PySD's grammar refuses, and Vensim's placeholders."""

from __future__ import annotations

import pytest

import deterrence
from deterrence import ModelSyntaxError
from deterrence.frontend import amrcache, normalise
from deterrence.frontend.translate import RealityCheckWarning

CONTROLS = ("INITIAL TIME = 0 ~~|\nFINAL TIME = 2 ~~|\nTIME STEP = 1 ~~|\n"
            "SAVEPER = TIME STEP ~~|\n")


def _write(tmp_path, body: str, name: str = "model"):
    path = tmp_path / f"{name}.mdl"
    path.write_text("{UTF-8}\n" + body + CONTROLS, encoding="utf-8")
    return path


def _value(tmp_path, body: str, var: str = "x"):
    ds = deterrence.load(_write(tmp_path, body)).simulate(method="euler")
    return ds[var].values.tolist()


# -- the scanner -----------------------------------------------------------------------


def test_spans_cover_the_text_and_tell_comments_from_quotes_and_documentation():
    text = '{UTF-8}\n"a {b}" = 1 + {c} 2 ~ m ~ doc {d} |\n\\\\\\---/// {sketch}'
    spans = normalise.scan(text)
    assert "".join(text[s.start:s.end] for s in spans) == text
    kinds = {text[s.start:s.end]: s.kind for s in spans}
    assert kinds["{UTF-8}"] == "rest"
    assert kinds['"a {b}"'] == "quoted"
    assert kinds["{c}"] == "comment"
    assert kinds["~ m ~ doc {d} |"] == "meta"
    assert kinds["\\\\\\---/// {sketch}"] == "rest"


# -- rule: inline comments -------------------------------------------------------------


def test_inline_comment_becomes_spaces_keeping_length_and_lines():
    text = "x = 1 + {one\nmore} 2 ~ m ~ doc {kept} |\n"
    out = normalise.normalise(text)
    assert out == "x = 1 + " + " " * 4 + "\n" + " " * 5 + " 2 ~ m ~ doc {kept} |\n"
    assert len(out) == len(text)


@pytest.mark.parametrize(("body", "expected"), [
    ("x = 1 + {a comment} 2 ~~|\n", 3.0),
    ("x = 1 + {a\nmulti-line\ncomment} 2 ~~|\n", 3.0),
    ("x = MAX(1 {one}, 2 {two}) ~~|\n", 2.0),
    ("x = 2 * {c} 3 ~~|\n", 6.0),
    ("x = 1 {a {nested} comment} ~~|\n", 1.0),
    ("x = 1 {a=2, b|c ~ d} + 1 ~~|\n", 2.0),  # = | ~ inside a comment are comment
    ("x {what x is} = 1 ~~|\n", 1.0),
    ("{ a comment between equations }\nx = 1 ~~|\n", 1.0),
    ("x = 1 ~~| { a comment after the bar }\n", 1.0),
    ('"x {1}" = 4 ~~|\nx = "x {1}" ~~|\n', 4.0),  # braces in a quoted name are its name
    ("x = 1 ~ m ~ a brace { in the documentation, unclosed |\n", 1.0),
], ids=["between terms", "multi-line", "in a call", "after an operator", "nested",
        "separators inside", "before the =", "between equations", "after the bar",
        "quoted name", "documentation"])
def test_inline_comments_are_ignored_as_vensim_does(tmp_path, body, expected):
    assert _value(tmp_path, body) == expected


def test_inline_comment_in_a_stock(tmp_path):
    assert _value(tmp_path, "s = INTEG( {inflow} 1, {start} 0) ~~|\n", "s") == [0, 1, 2]


def test_documentation_keeps_its_braces(tmp_path):
    model = deterrence.load(_write(tmp_path, "x = 1 ~ m ~ see {this} |\n"))
    assert model.variables["x"].doc == "see {this}"


def test_line_numbers_stay_right_after_a_multi_line_comment(tmp_path):
    body = "a = 1 {a comment\nover\nthree lines} ~~|\nb = (3 + ~~|\n"
    with pytest.raises(ModelSyntaxError) as info:
        deterrence.load(_write(tmp_path, body))
    assert info.value.line == 5  # {UTF-8} is line 1
    assert info.value.variable == "b"


# -- rule: keywords in any case --------------------------------------------------------


@pytest.mark.parametrize("keyword", [":and:", ":And:", ":AND:"])
def test_logical_keywords_in_any_case(tmp_path, keyword):
    body = f"x = IF THEN ELSE(1 > 0 {keyword} 2 > 1, 1, 0) ~~|\n"
    assert _value(tmp_path, body) == 1.0


def test_keywords_are_not_rewritten_in_quoted_names_or_documentation():
    text = '"a :or: b" = 1 ~ m ~ x :or: y |\nc = IF THEN ELSE(:not: 1 > 2, 1, 0) ~~|\n'
    out = normalise.normalise(text)
    assert '"a :or: b"' in out
    assert "x :or: y" in out
    assert ":NOT: 1" in out


# -- placeholders ----------------------------------------------------------------------


@pytest.mark.parametrize(("equation", "detail"), [
    ("{Enter equation...}", "placeholder {Enter equation...}"),
    ("", "is empty"),
    ("A FUNCTION OF(y)", "placeholder A FUNCTION OF"),
    ("a function of (y, z)", "placeholder A FUNCTION OF"),
])
def test_placeholder_equation_names_the_variable_and_line(tmp_path, equation, detail):
    body = f"y = 1 ~~|\nz = 2 ~~|\nmy var = {equation}\n~ m\n~ doc |\n"
    with pytest.raises(ModelSyntaxError) as info:
        deterrence.load(_write(tmp_path, body))
    assert info.value.variable == "my var"
    assert info.value.line == 4
    assert detail in str(info.value)
    assert "'my var'" in str(info.value)


def test_placeholder_in_a_macro_is_found(tmp_path):
    body = ":MACRO: M(a)\nM = {Enter equation...}\n~~|\n:END OF MACRO:\nx = M(1) ~~|\n"
    with pytest.raises(ModelSyntaxError, match="'M'") as info:
        deterrence.load(_write(tmp_path, body))
    assert info.value.line == 3


def test_a_comment_is_not_an_empty_equation_when_something_follows(tmp_path):
    assert _value(tmp_path, "x = {Enter equation...} 5 ~~|\n") == 5.0


# -- the cache -------------------------------------------------------------------------


def test_cache_key_covers_the_normalisation(monkeypatch):
    content = b"x = 1 ~~|"
    before = amrcache.key(content, ".mdl")
    monkeypatch.setattr(normalise, "VERSION", normalise.VERSION + 1)
    assert amrcache.key(content, ".mdl") != before


def test_cached_model_with_comments_reads_the_same(tmp_path, monkeypatch):
    monkeypatch.setenv("DETERRENCE_CACHE_DIR", str(tmp_path / "cache"))
    path = _write(tmp_path, "x = 1 + {c} 2 ~~|\n")
    first = deterrence.load(path).simulate(method="euler")["x"].values
    assert list((tmp_path / "cache").glob("*.json"))
    second = deterrence.load(path).simulate(method="euler")["x"].values
    assert first == second == 3.0


# -- reality checks --------------------------------------------------------------------


def test_reality_checks_are_parsed_ignored_and_reported(tmp_path):
    body = ("a = 1 ~~|\nno input :TEST INPUT: a = 0 ~~|\n"
            "a stays :THE CONDITION: no input :IMPLIES: a >= 0 ~~|\nx = a * 2 ~~|\n")
    with pytest.warns(RealityCheckWarning, match=r"2 reality check\(s\) \('no input', "
                      r"'a stays'\) are read and ignored"):
        assert _value(tmp_path, body) == 2.0


# -- newlines --------------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["windows", "old mac"])
def test_windows_newlines_with_continuations_and_comments(tmp_path, newline):
    body = "x = 1 + {a\ncomment} 2 +\\\n\t\t 3 ~~|\ny = (1 + ~~|\n"
    path = tmp_path / "crlf.mdl"
    path.write_bytes(("{UTF-8}\n" + body.replace("y = (1 + ~~|\n", "") + CONTROLS)
                     .replace("\n", newline).encode())
    assert deterrence.load(path).simulate(method="euler")["x"].values == 6.0
    path.write_bytes(("{UTF-8}\n" + body + CONTROLS).replace("\n", newline).encode())
    with pytest.raises(ModelSyntaxError) as info:
        deterrence.load(path)
    assert info.value.line == 5
