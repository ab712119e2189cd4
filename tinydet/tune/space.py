"""Search spaces as data: which knobs a search turns, over which values, and where each knob goes.

A space file is YAML with one `parameters:` mapping; each parameter names a tinydet Recipe option (`target:
recipe`) or an ultralytics train argument (`target: ultralytics`); the target may be left out when the name
says it. Types:

    float:        low, high, optional log: true or step: X
    int:          low, high, optional log: true or step: N
    categorical:  choices: [a, b, c]  (strings, numbers, booleans)

`imgsz` may be `relative: true`: its values then multiply the command's --imgsz and are rounded to a multiple
of 32 (ultralytics' largest stride), so one space file serves any base resolution. The default space is
tinydet/tune/default_space.yaml; `docs/scaling.md` documents the format with an example.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from tinydet.errors import TinydetError
from tinydet.integrations.ultralytics.arguments import argument_names, check_value
from tinydet.train.recipe import Recipe

DEFAULT_SPACE_FILE = Path(__file__).with_name("default_space.yaml")
KINDS = ("float", "int", "categorical")
TARGETS = ("recipe", "ultralytics")
STRIDE = 32
# ultralytics arguments that belong to the run, not to the search (the tune command sets them per trial).
NOT_SEARCHABLE = frozenset({"data", "model", "project", "name", "exist_ok", "resume", "mode", "task", "save_dir",
                            "device", "workers", "seed", "deterministic"})
_SPEC_KEYS = {"type", "target", "low", "high", "log", "step", "choices", "relative"}


@dataclass(frozen=True)
class Param:
    """One knob of a search: its optuna distribution (`kind` + range or choices) and where its value goes."""

    name: str
    kind: str
    target: str
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    step: float | int | None = None
    choices: tuple = ()
    relative: bool = False

    def suggest(self, trial) -> Any:
        """The value an optuna trial picks for this knob (as stored in the study; see `setting` for its use)."""
        if self.kind == "categorical":
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), step=int(self.step or 1), log=self.log)
        return trial.suggest_float(self.name, float(self.low), float(self.high), step=self.step, log=self.log)

    def setting(self, value: Any, base_imgsz: int) -> Any:
        """The training setting for a study value: relative imgsz becomes pixels, the nearest multiple of 32."""
        if not self.relative:
            return value
        return max(STRIDE, math.floor(base_imgsz * float(value) / STRIDE + 0.5) * STRIDE)  # halves round up

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.kind, "target": self.target}
        if self.kind == "categorical":
            out["choices"] = list(self.choices)
        else:
            out.update(low=self.low, high=self.high)
            if self.log:
                out["log"] = True
            if self.step is not None:
                out["step"] = self.step
        if self.relative:
            out["relative"] = True
        return out


@dataclass(frozen=True)
class Settings:
    """What one trial trains with: tinydet Recipe options and ultralytics arguments."""

    recipe: dict[str, Any] = field(default_factory=dict)
    ultralytics: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchSpace:
    params: tuple[Param, ...]
    source: str = "default space"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def suggest(self, trial) -> dict[str, Any]:
        """Ask an optuna trial for every knob; returns the study values {name: value}."""
        return {p.name: p.suggest(trial) for p in self.params}

    def settings(self, values: Mapping[str, Any], base_imgsz: int) -> Settings:
        """Study values -> the recipe options and ultralytics arguments of a trial (knobs absent are skipped)."""
        out = Settings()
        for p in self.params:
            if p.name in values:
                target = out.recipe if p.target == "recipe" else out.ultralytics
                target[p.name] = p.setting(values[p.name], base_imgsz)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"parameters": {p.name: p.to_dict() for p in self.params}}


# ----------------------------------------------------------------------------------------------------------------
# Reading and checking
# ----------------------------------------------------------------------------------------------------------------
def _recipe_options() -> set[str]:
    return {f.name for f in fields(Recipe)} - {"ultralytics"}


def _ultralytics_arguments() -> set[str]:
    return argument_names() - NOT_SEARCHABLE


def _target(name: str, given: Any, where: str) -> str:
    recipe, ultra = name in _recipe_options(), name in _ultralytics_arguments()
    if given is not None:
        if given not in TARGETS:
            raise TinydetError(f"{where}: target must be recipe or ultralytics, got '{given}'")
        if (given == "recipe" and not recipe) or (given == "ultralytics" and not ultra):
            kind = "a tinydet recipe option" if given == "recipe" else "a searchable ultralytics argument"
            raise TinydetError(f"{where}: '{name}' is not {kind}")
        return given
    if recipe and ultra:
        raise TinydetError(f"{where}: '{name}' is both a recipe option and an ultralytics argument; set target:")
    if recipe or ultra:
        return "recipe" if recipe else "ultralytics"

    if name in NOT_SEARCHABLE:
        raise TinydetError(f"{where}: '{name}' is set by the tune command itself, it cannot be searched")
    close = difflib.get_close_matches(name, sorted(_recipe_options() | _ultralytics_arguments()), n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise TinydetError(f"{where}: '{name}' is neither a tinydet recipe option nor an ultralytics argument{hint}")


def _number(value: Any, key: str, where: str, integer: bool) -> float | int:
    if isinstance(value, str):  # YAML reads 1e-3 (no dot) as a string
        try:
            value = float(value)
        except ValueError:
            raise TinydetError(f"{where}: {key} must be a number, got '{value}'") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TinydetError(f"{where}: {key} must be a number, got {value!r}")
    if integer:
        if float(value) != int(value):
            raise TinydetError(f"{where}: {key} must be an integer for type int, got {value}")
        return int(value)
    return float(value)


def _check_values(p: Param, where: str) -> None:
    """Every choice and both ends of a range must be a value the recipe or ultralytics accepts."""
    values = list(p.choices) if p.kind == "categorical" else [p.low, p.high]
    if p.relative:
        if p.name != "imgsz":
            raise TinydetError(f"{where}: relative: true is only for imgsz (multiples of --imgsz)")
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0 for v in values):
            raise TinydetError(f"{where}: relative imgsz values are positive multipliers of --imgsz")
        return
    for value in values:
        try:
            if p.target == "recipe":
                Recipe(**{p.name: value})
            else:
                check_value(p.name, value)
        except (TinydetError, TypeError, ValueError) as e:
            raise TinydetError(f"{where}: value {value!r} is not allowed: {e}") from None


def parse_param(name: str, spec: Any, source: str) -> Param:
    """One entry of a space file -> Param, or a TinydetError naming the file and the parameter."""
    where = f"{source}: parameter '{name}'"
    if not isinstance(spec, Mapping):
        raise TinydetError(f"{where}: expected a mapping such as {{type: float, low: 0.1, high: 1.0}}, got {spec!r}")
    unknown = sorted(set(spec) - _SPEC_KEYS)
    if unknown:
        known = ", ".join(sorted(_SPEC_KEYS))
        raise TinydetError(f"{where}: unknown key(s) {', '.join(map(str, unknown))}; known: {known}")
    kind = spec.get("type")
    if kind not in KINDS:
        raise TinydetError(f"{where}: type must be one of {', '.join(KINDS)}, got {kind!r}")
    target = _target(name, spec.get("target"), where)
    relative = bool(spec.get("relative", False))
    if kind == "categorical":
        for key in ("low", "high", "log", "step"):
            if key in spec:
                raise TinydetError(f"{where}: '{key}' does not apply to type categorical (use choices)")
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            raise TinydetError(f"{where}: categorical needs a non-empty list of choices")
        if any(isinstance(c, (list, dict)) for c in choices) or len({repr(c) for c in choices}) != len(choices):
            raise TinydetError(f"{where}: choices must be distinct strings, numbers or booleans")
        param = Param(name, kind, target, choices=tuple(choices), relative=relative)
    else:
        if "choices" in spec:
            raise TinydetError(f"{where}: 'choices' is for type categorical")
        for key in ("low", "high"):
            if key not in spec:
                raise TinydetError(f"{where}: type {kind} needs low and high")
        integer = kind == "int"
        low, high = (_number(spec[k], k, where, integer) for k in ("low", "high"))
        step = None if spec.get("step") is None else _number(spec["step"], "step", where, integer)
        log = spec.get("log", False)
        if not isinstance(log, bool):
            raise TinydetError(f"{where}: log must be true or false, got {log!r}")
        if not low < high:
            raise TinydetError(
                f"{where}: low must be below high, got {low} and {high} (fix a value with --set instead)"
            )
        if log and low <= 0:
            raise TinydetError(f"{where}: log: true needs low > 0, got {low}")
        if log and step is not None:
            raise TinydetError(f"{where}: use either log or step, not both")
        if step is not None and step <= 0:
            raise TinydetError(f"{where}: step must be positive, got {step}")
        param = Param(name, kind, target, low=low, high=high, log=log, step=step, relative=relative)
    _check_values(param, where)
    return param


def parse_space(data: Any, source: str) -> SearchSpace:
    """A space file's YAML document -> SearchSpace (TinydetError on the first problem, naming file and key)."""
    if not isinstance(data, Mapping) or set(data) != {"parameters"}:
        raise TinydetError(f"{source}: a space file is a mapping with one key, 'parameters'")
    params = data["parameters"]
    if not isinstance(params, Mapping) or not params:
        raise TinydetError(f"{source}: 'parameters' must map at least one name to its range")
    return SearchSpace(tuple(parse_param(str(name), spec, source) for name, spec in params.items()), source)


def load_space(path: str | Path | None = None) -> SearchSpace:
    """The search space in a YAML file; the default space when `path` is None."""
    path = DEFAULT_SPACE_FILE if path is None else Path(path)
    if not path.is_file():
        raise TinydetError(f"space file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise TinydetError(f"{path}: not valid YAML ({' '.join(str(e).split())})") from None
    return parse_space(data, str(path) if path != DEFAULT_SPACE_FILE else "default space")


def inert_parameters(space: SearchSpace, epochs: int, fixed: Mapping[str, Any]) -> list[str]:
    """Warnings about knobs that cannot act in these trials (`fixed`: the ultralytics arguments every trial gets).

    ultralytics turns mosaic, mixup, cutmix and copy_paste off for the last `close_mosaic` epochs (default 10),
    and its default optimizer=auto picks the learning rate and momentum itself, ignoring lr0 and momentum.
    """
    warnings = []
    close_mosaic = int(fixed.get("close_mosaic", 10))
    mosaic_knobs = [p.name for p in space.params if p.name in {"mosaic", "mixup", "cutmix", "copy_paste"}]
    if mosaic_knobs and 0 < close_mosaic and epochs <= close_mosaic:
        warnings.append(f"{', '.join(mosaic_knobs)} cannot act: ultralytics turns them off for the last "
                        f"close_mosaic={close_mosaic} epochs and trials train {epochs}; "
                        "train longer or --set close_mosaic=0")
    by_name = {p.name: p for p in space.params}
    optimizers = list(by_name["optimizer"].choices) if "optimizer" in by_name else [fixed.get("optimizer", "auto")]
    lr_knobs = [name for name in ("lr0", "momentum") if name in by_name]
    if lr_knobs and "auto" in optimizers:
        warnings.append(f"{', '.join(lr_knobs)} cannot act with optimizer=auto (ultralytics then chooses them "
                        "itself); --set optimizer=SGD (or AdamW), or search optimizer in the space")
    return warnings
