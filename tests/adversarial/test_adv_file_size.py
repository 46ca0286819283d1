"""Fault: a model file far too large to parse (PySD needs ~420 bytes per byte of file).

Refused before any parsing, with the size, the limit, the memory it would need and how
to raise the limit; a raised limit (argument or environment) lets it through."""

from __future__ import annotations

from pathlib import Path

import pytest
from adversarial_support import run_cli, vensim_text

import deterrence
from deterrence.errors import ModelError
from deterrence.frontend import translate


@pytest.fixture
def big_model(tmp_path: Path) -> Path:
    """A valid model padded with 200 kB of documentation."""
    path = tmp_path / "big.mdl"
    text = vensim_text("S = INTEG(1, 0)").replace(
        "S = INTEG(1, 0)\n\t~\t\n\t~\t", "S = INTEG(1, 0)\n\t~\t\n\t~\t" + "padding " * 25_000)
    path.write_text(text, encoding="utf-8")
    return path


def test_over_the_limit_is_refused_before_parsing(big_model: Path, monkeypatch) -> None:
    monkeypatch.setenv("DETERRENCE_MAX_MODEL_MB", "0.1")

    def no_parse(*_a, **_k):
        raise AssertionError("the file was parsed")

    monkeypatch.setattr("pysd.translators.vensim.vensim_file.VensimFile", no_parse)
    with pytest.raises(ModelError) as info:
        deterrence.load(big_model)
    text = str(info.value)
    assert info.value.path == big_model
    assert "0.2 MB, over the limit of 0.1 MB" in text
    assert "GB of memory" in text
    assert "DETERRENCE_MAX_MODEL_MB=1" in text


def test_a_raised_limit_lets_it_through(big_model: Path, monkeypatch) -> None:
    monkeypatch.setenv("DETERRENCE_MAX_MODEL_MB", "0.1")
    model = deterrence.load(big_model, max_model_mb=1)
    assert float(model.simulate(method="euler")["s"][-1]) == 10.0
    monkeypatch.setenv("DETERRENCE_MAX_MODEL_MB", "1")
    assert deterrence.load(big_model).name


def test_default_limit_is_documented() -> None:
    assert translate.max_model_bytes() == translate.MAX_MODEL_MB * 1024 * 1024
    docs = (Path(__file__).parents[2] / "docs" / "engine.md").read_text()
    assert "DETERRENCE_MAX_MODEL_MB" in docs


@pytest.mark.parametrize("value", ["lots", "-5", "0", "nan"])
def test_a_bad_limit_setting_is_an_error(big_model: Path, monkeypatch, value: str) -> None:
    monkeypatch.setenv("DETERRENCE_MAX_MODEL_MB", value)
    with pytest.raises(ModelError, match=r"DETERRENCE_MAX_MODEL_MB|limit must be positive"):
        deterrence.load(big_model)


def test_cli_refuses_in_one_line(big_model: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DETERRENCE_MAX_MODEL_MB", "0.1")
    result = run_cli(["info", str(big_model)], cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1
    assert "over the limit" in result.stderr
