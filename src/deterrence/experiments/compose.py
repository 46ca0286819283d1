"""Configs that compose: scenario lists and grids.

``scenario=[leadership_change,rising_power]`` applies both shocks, and
``grid.joint_exercises=0:1:11 grid.forward_presence=0,0.5,1`` runs the grid of them as
one batched ensemble; in a grid, ``grid.scenario=leadership_change+rising_power,baseline``
makes a composition one of the swept scenarios (labelled ``a+b``, as a multirun's
``-m "scenario=[a,b],c"`` labels it).

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
    composed = composed_scenario(names, f"scenario=[{','.join(names)}]")
    with open_dict(cfg):
        cfg.scenario = composed


def composed_scenario(names: Sequence[str], where: str) -> Any:
    """The scenarios ``names`` as one: named ``a+b``, every shock window, the union of
    the constants (``where`` names the setting in the error when two disagree)."""
    options = [group_option("scenario", name, ScenarioConfig) for name in names]
    constants: dict[str, tuple[str, Any, str]] = {}  # key -> (written name, value, scenario)
    for name, option in zip(names, options, strict=True):
        for constant, value in option.set.items():
            key = clean_key(str(constant))
            if key in constants and constants[key][1] != value:
                written, other, first = constants[key]
                raise ParameterError(
                    f"{where}: {first} sets {written!r} to {other} and "
                    f"{name} sets it to {value}", hint="compose scenarios that set different "
                    "constants, or set the value with +params.NAME=VALUE")
            constants.setdefault(key, (str(constant), value, name))
    composed = {
        "name": "+".join(names),
        "description": " ".join(str(o.description) for o in options if o.description),
        "shock_windows": [list(w) for o in options for w in o.shock_windows],
        "set": {written: value for written, value, _ in constants.values()},
    }
    return OmegaConf.merge(OmegaConf.structured(ScenarioConfig), composed)


def scenario_label(value: Any, where: str = "experiment.batch.scenario") -> str:
    """A swept scenario value as its label: ``baseline``; a composition, written
    ``a+b`` or as a list ``[a,b]``, as ``a+b`` (the label a multirun gives it)."""
    parts = [str(v) for v in value] if isinstance(value, list | tuple) or \
        OmegaConf.is_list(value) else str(value).split("+")
    parts = [p.strip() for p in parts]
    if not all(parts):
        raise ParameterError(f"{where}: {value!r} is not a scenario or a composition of "
                             "scenarios", hint="join the scenarios of one grid point with "
                             "+, e.g. grid.scenario=leadership_change+rising_power,baseline")
    return "+".join(parts)


def scenario_option(label: str) -> Any:
    """A swept scenario's config: the option itself, or (``a+b``) their composition; an
    error in a composition names it."""
    names = label.split("+")
    if len(names) == 1:
        return group_option("scenario", label, ScenarioConfig)
    try:
        return composed_scenario(names, label)
    except ParameterError as exc:
        if exc.message.startswith(f"{label}:"):
            raise
        raise ParameterError(f"{label}: {exc.message}", path=exc.path, hint=exc.hint) from None


def name_composition(argv: Sequence[str]) -> list[str]:
    """``scenario=[a,b]`` in a single run also names it ``a+b`` from the start, so its
    folder is named for both (Hydra names it after composing, from the last option)."""
    if any(a in ("-m", "--multirun") for a in argv) or any(
            a.split("=", 1)[0].lstrip("+~") == "scenario.name" for a in argv):
        return list(argv)
    names = listed_options([a for a in argv if not a.startswith("-")], "scenario")
    return [*argv, f"scenario.name='{'+'.join(names)}'"] if names else list(argv)


def grid_argument(arg: str) -> str:
    """``grid.KEY=a,b,c`` as one list (Hydra would read it as a multirun sweep)."""
    key, sep, value = arg.partition("=")
    if sep and key.lstrip("+").startswith("grid.") and "," in value \
            and not value.strip().startswith("["):
        return f"{key}=[{value}]"
    return arg


def grid_values(key: str, value: Any) -> list[Any]:
    """``[0, 0.5, 1]`` as it is; ``"0:1:11"`` as 11 evenly spaced values from 0 to 1."""
    import numpy as np

    if isinstance(value, str) and value.count(":") == 2:
        try:
            start, stop, count = (float(v) for v in value.split(":"))
        except ValueError:
            count = float("nan")
        if not (count >= 1 and count == int(count)):
            raise ParameterError(f"grid.{key}={value}: expected START:STOP:COUNT, e.g. "
                                 "0:1:11 (eleven values from 0 to 1)")
        return [round(float(v), 12) for v in np.linspace(start, stop, int(count))]
    values = list(value) if isinstance(value, list | tuple) or OmegaConf.is_list(value) \
        else [value]
    if not values:
        raise ParameterError(f"grid.{key} has no values", hint="e.g. grid.KEY=0,0.5,1")
    return values


def expand_grid(cfg: Any) -> None:
    """Turn ``grid.*`` into the batch of one ensemble (in place): a lever of the model is
    ``policy.<lever>``, ``scenario`` and ``policy`` sweep options, anything else is a
    constant (``params.<name>``)."""
    grid = cfg.get("grid") or {}
    if not grid:
        return
    batch: dict[str, list[Any]] = {}
    for key, value in grid.items():
        key = str(key)
        target = key if key in ("scenario", "policy") else f"policy.{key}" \
            if key in cfg.model.levers or key in ("start_time", "ramp_time") \
            else f"params.{key}"
        values = grid_values(key, value)
        if key == "scenario":
            values = [scenario_label(v, f"grid.{key}") for v in values]
        batch[target] = values
    with open_dict(cfg):
        cfg.experiment.batch = {**dict(cfg.experiment.batch), **batch}
