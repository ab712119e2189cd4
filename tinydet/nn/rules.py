"""Channel rules: how one row of an ultralytics model YAML becomes constructor arguments.

A YAML row is `[from, repeats, Module, args]`. The builder knows the output channels of every earlier layer;
a rule turns the row's arguments into the module's constructor arguments and says how many channels the new
layer outputs. Every tinydet module names its rule as a class attribute `yaml_rule`, next to its code, so the
builder needs no if/elif chain.

Rules are pure functions of (input channels, YAML args, repeats, scaling context); they never build modules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Scaling:
    """The model-wide values a rule may need: width multiple, channel cap, scale letter, head settings."""

    width: float = 1.0
    max_channels: float = float("inf")
    scale: str = ""
    nc: int = 80
    reg_max: int = 16
    end2end: bool | None = None

    def channels(self, c: int) -> int:
        """Width-scaled channel count, capped and rounded up to a multiple of 8 (ultralytics' convention)."""
        return int(math.ceil(min(c, self.max_channels) * self.width / 8) * 8)


@dataclass(frozen=True)
class RowPlan:
    """What a rule decided: constructor arguments, how many copies to stack, output channels."""

    args: list[Any]
    repeats: int
    out_channels: int


class Rule:
    """Base class. `plan(in_channels, args, repeats, scaling)`; `in_channels` is an int, or a list for multi-input."""

    multi_input = False

    def plan(self, in_channels: Any, args: list, repeats: int, scaling: Scaling) -> RowPlan:  # pragma: no cover
        raise NotImplementedError


@dataclass(frozen=True)
class Scaled(Rule):
    """Like ultralytics' Conv/C2f rows: `args[0]` is the output width before scaling; input channels go first.

    Constructor receives `(c1, c2, *args[1:])`, or `(c1, c2, repeats, *args[1:])` when `repeats_in_args`.
    `c3k_scales`: scales at which the fourth constructor argument is forced to True (YOLO11's C3k2 uses its C3k
    inner block at m/l/x). `modern`: the row marks the model as a YOLO11-generation one (ultralytics then
    builds its heads with depthwise classification branches).
    """

    repeats_in_args: bool = False
    c3k_scales: frozenset[str] = frozenset()
    modern: bool = False

    def plan(self, in_channels, args, repeats, scaling):
        c2 = scaling.channels(args[0])
        if not self.repeats_in_args:
            return RowPlan([in_channels, c2, *args[1:]], repeats, c2)
        planned = [in_channels, c2, repeats, *args[1:]]
        if scaling.scale in self.c3k_scales:
            planned[3:4] = [True]
        return RowPlan(planned, 1, c2)


@dataclass(frozen=True)
class SameChannels(Rule):
    """Attention-style modules that keep the channel count: constructor receives `(c1, *args)`."""

    def plan(self, in_channels, args, repeats, scaling):
        return RowPlan([in_channels, *args], repeats, in_channels)


@dataclass(frozen=True)
class MultiInput(Rule):
    """Modules fed by several layers (the row's `from` is a list): constructor receives `([c_in, ...], *args)`.

    `scaled`: positions in `args` that are channel widths; they are width-scaled like a Conv's output before the
    constructor sees them. `out_channels(in_channels, args)` gives the output width from the input widths and the
    scaled args: a pure function the module supplies next to its code, so that builder and module agree on it.
    `inputs`: the number of inputs the module takes, when that is fixed.
    """

    out_channels: Callable[[list[int], list], int]
    scaled: tuple[int, ...] = ()
    inputs: int | None = None
    multi_input = True

    def plan(self, in_channels, args, repeats, scaling):
        if repeats != 1:
            raise ValueError("multi-input modules cannot be repeated (use repeats = 1 in the YAML row)")
        in_channels = list(in_channels)
        if self.inputs is not None and len(in_channels) != self.inputs:
            raise ValueError(f"takes {self.inputs} inputs, the row gives {len(in_channels)}")
        args = [scaling.channels(a) if i in self.scaled else a for i, a in enumerate(args)]
        return RowPlan([in_channels, *args], 1, int(self.out_channels(in_channels, args)))
