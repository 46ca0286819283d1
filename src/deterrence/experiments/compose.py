"""Scenarios that compose: ``scenario=[leadership_change,rising_power]`` applies both.

Hydra reads a list of options of one group by merging them in order, so the shocks'
constants (``set``) add up, but the last option's name and shock windows replace the
others'. This module rebuilds the composed scenario from the options themselves: the
names joined with ``+``, every shock window, the union of the constants; two scenarios
that set one constant to different values are refused, naming both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omegaconf import OmegaConf, open_dict

from ..errors import ParameterError
from ..names import clean_key
from .config import ScenarioConfig, group_option


def listed_options(overrides: Sequence[str], group: str) -> list[str] | None:
    """The options of ``group=[a,b,...]`` on the command line, or None if not a list."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    for text in overrides:
        key = text.split("=", 1)[0].lstrip("+~")
        if key != group:
            continue
        value = OverridesParser.create().parse_override(text).value()
        if isinstance(value, list):
            return [str(v) for v in value]
    return None


def compose_scenarios(cfg: Any, overrides: Sequence[str]) -> None:
    """Replace a merged list of scenarios in ``cfg`` by their composition (in place)."""
    names = listed_options(overrides, "scenario")
    if not names:
        return
    options = [group_option("scenario", name, ScenarioConfig) for name in names]
    constants: dict[str, tuple[str, Any, str]] = {}  # key -> (written name, value, scenario)
    for name, option in zip(names, options, strict=True):
        for constant, value in option.set.items():
            key = clean_key(str(constant))
            if key in constants and constants[key][1] != value:
                written, other, first = constants[key]
                raise ParameterError(
                    f"scenario=[{','.join(names)}]: {first} sets {written!r} to {other} and "
                    f"{name} sets it to {value}", hint="compose scenarios that set different "
                    "constants, or set the value with +params.NAME=VALUE")
            constants.setdefault(key, (str(constant), value, name))
    composed = {
        "name": "+".join(names),
        "description": " ".join(str(o.description) for o in options if o.description),
        "shock_windows": [list(w) for o in options for w in o.shock_windows],
        "set": {written: value for written, value, _ in constants.values()},
    }
    with open_dict(cfg):
        cfg.scenario = OmegaConf.merge(OmegaConf.structured(ScenarioConfig), composed)
