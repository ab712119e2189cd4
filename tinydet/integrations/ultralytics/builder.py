"""Model building: ultralytics' `parse_model` extended to the modules of tinydet/nn, and model helpers.

Importing this module replaces `ultralytics.nn.tasks.parse_model` with
`parse_model` below: stock YAMLs still go to ultralytics' own builder, YAMLs that name tinydet modules to
`build_layers`, whose channel rules are data next to each module (`yaml_rule`, tinydet/nn/rules.py).
"""

from __future__ import annotations

import ast
import contextlib
from pathlib import Path

import torch
from ultralytics.nn import tasks as ul_tasks
from ultralytics.nn.modules import SPPF, Bottleneck, C2f, C3k2, Conv, Detect  # noqa: F401  (for compress/prune.py)
from ultralytics.utils import LOGGER
from ultralytics.utils import torch_utils as ul_torch_utils

from tinydet.errors import TinydetError
from tinydet.integrations.ultralytics.env import PINNED_VERSION, UltralyticsAssumptionError, internal

try:  # tinydet's modules subclass ultralytics building blocks: a missing one is the installed version's fault
    from tinydet.nn.registry import MODULES
    from tinydet.nn.rules import RowPlan, Rule, Scaled, Scaling
except ImportError as e:
    raise UltralyticsAssumptionError(f"tinydet's model modules need a building block the installed ultralytics "
                                     f"lacks ({e}); install ultralytics=={PINNED_VERSION}") from e


class ModelConfigError(TinydetError):
    """A model YAML row that cannot be built (wrong inputs or arguments for its module)."""


class _Passthrough(Rule):
    """torch.nn layers such as Upsample: arguments as written, channels unchanged."""

    def plan(self, in_channels, args, repeats, scaling):
        return RowPlan(list(args), repeats, in_channels)


class _ConcatRule(Rule):
    multi_input = True

    def plan(self, in_channels, args, repeats, scaling):
        return RowPlan(list(args), repeats, sum(in_channels))


class _HeadRule(Rule):
    """Detect/Pose/Segment heads: ultralytics appends reg_max, end2end and the input channels."""

    multi_input = True

    def __init__(self, scaled_arg: int | None = None):
        self.scaled_arg = scaled_arg  # Segment: its prototype width (args[2]) scales with the model

    def plan(self, in_channels, args, repeats, scaling):
        args = [*args, scaling.reg_max, scaling.end2end, list(in_channels)]
        if self.scaled_arg is not None:
            args[self.scaled_arg] = scaling.channels(args[self.scaled_arg])
        return RowPlan(args, repeats, 0)


def _stock_rules() -> dict[type, Rule]:
    """Rules for the ultralytics modules tinydet's configs use, mirroring 8.4.190's parse_model."""
    m = ul_tasks
    c3k2 = Scaled(repeats_in_args=True, c3k_scales=frozenset("mlx"), modern=True)
    return {
        m.Conv: Scaled(),
        m.SPPF: Scaled(),
        m.C2f: Scaled(repeats_in_args=True),
        m.C3k2: c3k2,
        m.C2PSA: Scaled(repeats_in_args=True),
        m.Concat: _ConcatRule(),
        m.Detect: _HeadRule(),
        m.Pose: _HeadRule(),
        m.Pose26: _HeadRule(),
        m.Segment: _HeadRule(scaled_arg=2),
        m.Segment26: _HeadRule(scaled_arg=2),
    }


_HEADS_WITH_LEGACY = ("Detect", "Pose", "Pose26", "Segment", "Segment26")
_ORIGINAL_PARSE_MODEL = ul_tasks.parse_model


def _resolve_module(name: str) -> type:
    if name.startswith("nn."):
        return getattr(torch.nn, name[3:])
    tinydet_modules = MODULES
    if name in tinydet_modules:
        return tinydet_modules[name]
    module = vars(ul_tasks).get(name)
    if module is None:
        raise UltralyticsAssumptionError(f"model YAML names an unknown module '{name}'")
    return module


def _rule_for(module: type, stock: dict[type, Rule]) -> Rule:
    rule = getattr(module, "yaml_rule", None) if module.__module__.startswith("tinydet.") else None
    if rule is None:
        rule = stock.get(module)
    if rule is None and module.__module__.startswith("torch.nn"):
        rule = _Passthrough()
    if rule is None:
        supported = sorted(c.__name__ for c in stock) + sorted(MODULES)
        raise UltralyticsAssumptionError(
            f"tinydet's model builder has no channel rule for '{module.__name__}'; "
            f"configs with tinydet modules may use: {', '.join(supported)} and torch.nn layers"
        )
    return rule


# Bare names a YAML argument may use, resolved from the model dict like ultralytics' parse_model does (it looks
# them up among its local variables: `nc`, and `kpt_shape` in pose YAMLs).
_YAML_SYMBOLS = ("nc", "kpt_shape")


def _yaml_value(value, symbols: dict):
    """A YAML argument as ultralytics reads it: known names are resolved, other strings are literals if they parse."""
    if not isinstance(value, str):
        return value
    if value in symbols:
        return symbols[value]
    with contextlib.suppress(ValueError, SyntaxError):
        return ast.literal_eval(value)
    return value


def _scaling_for(d: dict) -> tuple[Scaling, float]:
    depth, width, max_channels = d.get("depth_multiple", 1.0), d.get("width_multiple", 1.0), float("inf")
    scales, scale = d.get("scales"), d.get("scale")
    if scales:
        if not scale:
            scale = next(iter(scales.keys()))
            LOGGER.warning(f"no model scale passed. Assuming scale='{scale}'.")
        depth, width, max_channels = scales[scale]
    scaling = Scaling(
        width=width,
        max_channels=max_channels,
        scale=scale or "",
        nc=d.get("nc"),
        reg_max=d.get("reg_max", 16),
        end2end=d.get("end2end"),
    )
    return scaling, depth


def build_layers(d: dict, ch: int, verbose: bool = True) -> tuple[torch.nn.Sequential, list[int]]:
    """Build the layers of a model YAML dict that may name tinydet modules (same contract as `parse_model`).

    Args:
        d: model dictionary (backbone, head, nc, scales, scale, ...).
        ch: input image channels.
        verbose: print the layer table.

    Returns:
        (layers, save): the layers in order, and the sorted indices of layers whose outputs later layers read.
    """
    scaling, depth = _scaling_for(d)
    stock = _stock_rules()
    default_act = Conv.default_act
    if d.get("activation"):
        Conv.default_act = ul_tasks._SafeLoad.activation(d["activation"])
    log = LOGGER.info if verbose else (lambda *_: None)
    log(f"\n{'':>3}{'from':>20}{'n':>3}{'params':>10}  {'module':<45}{'arguments':<30}")
    channels: list[int] = [ch]
    layers, save, legacy = [], [], True
    symbols = {name: d.get(name) for name in _YAML_SYMBOLS}
    try:
        for i, (f, n, name, args) in enumerate(d["backbone"] + d["head"]):
            module = _resolve_module(name)
            rule = _rule_for(module, stock)
            args = [_yaml_value(a, symbols) for a in args]
            n = n_ = max(round(n * depth), 1) if n > 1 else n
            if rule.multi_input or isinstance(f, list):
                inputs = [channels[x] for x in (f if isinstance(f, list) else [f])]
            else:
                inputs = channels[f]
            if getattr(rule, "modern", False):
                legacy = False
            if module.__name__ in _HEADS_WITH_LEGACY:
                module.legacy = legacy  # ultralytics keeps this as class state; its parse_model does the same
            try:
                plan = rule.plan(inputs, args, n, scaling)
                built = [module(*plan.args) for _ in range(plan.repeats)]
            except (ValueError, TypeError, IndexError) as e:
                raise ModelConfigError(f"model YAML layer {i} {[f, n, name, args]}: {e}") from e
            layer = torch.nn.Sequential(*built) if plan.repeats > 1 else built[0]
            if module is ul_tasks.SPPF and len(plan.args) <= 3:  # legacy SPPF rows: activated cv1
                for block in built:
                    block.cv1.act = Conv.default_act
            kind = f"{module.__module__}.{module.__qualname__}"
            layer.np = sum(p.numel() for p in layer.parameters())
            layer.i, layer.f, layer.type = i, f, kind
            log(f"{i:>3}{f!s:>20}{n_:>3}{layer.np:10.0f}  {kind:<45}{plan.args!s:<30}")
            save.extend(x % i for x in ([f] if isinstance(f, int) else f) if x != -1)
            layers.append(layer)
            if i == 0:
                channels = []
            channels.append(plan.out_channels)
    finally:
        Conv.default_act = default_act
    return torch.nn.Sequential(*layers), sorted(save)


def _uses_tinydet_modules(d: dict) -> bool:
    names = MODULES
    return any(isinstance(row[2], str) and row[2] in names for row in d.get("backbone", []) + d.get("head", []))


def parse_model(d, ch, verbose=True):
    """Drop-in for ultralytics' parse_model: stock YAMLs go to ultralytics, YAMLs naming tinydet modules to ours."""
    if _uses_tinydet_modules(d):
        return build_layers(d, ch, verbose)
    return _ORIGINAL_PARSE_MODEL(d, ch, verbose)


ultralytics_parse_model = _ORIGINAL_PARSE_MODEL  # ultralytics' own builder, for parity checks


_TASK_MODELS = {"detect": "DetectionModel", "pose": "PoseModel", "segment": "SegmentationModel"}


def build_model(cfg: str | Path, nc: int | None = None, verbose: bool = False) -> torch.nn.Module:
    """Build the ultralytics model (DetectionModel, PoseModel or SegmentationModel) of a YAML, optionally with `nc` classes.

    `cfg` is resolved like `YOLO(cfg)` resolves it: a scale-lettered name beside the real file (`yolov8n-p2.yaml`),
    a stock ultralytics name, or a path.
    """
    d = internal(ul_tasks, "yaml_model_load")(cfg)
    if nc is not None:
        d["nc"] = nc  # rather than the constructor's nc=, which logs an "Overriding" line to stdout
    task = model_task(d)
    if task not in _TASK_MODELS:
        raise ModelConfigError(f"{cfg}: tinydet builds detect, pose and segment models, not {task}")
    return internal(ul_tasks, _TASK_MODELS[task])(d, verbose=verbose)


def model_task(model: torch.nn.Module | dict) -> str:
    """'detect', 'pose', 'segment', ... of a built model or a model YAML dict (ultralytics' own guess)."""
    return internal(ul_tasks, "guess_model_task")(model)


def gflops(model: torch.nn.Module, imgsz: int = 640) -> float:
    """GFLOPs of one forward pass at `imgsz` x `imgsz`, counted the way ultralytics' model summary counts them."""
    return float(internal(ul_torch_utils, "get_flops")(model, imgsz))


def select_nms_free_head(model: torch.nn.Module, source: str | Path) -> None:
    """Make an ultralytics detection/pose model (DetectionModel, not yet fused) infer with its end-to-end head.

    YOLO26-style heads keep two branches: one-to-many (trained like YOLOv8's, needs NMS) and one-to-one (trained
    to give one box per object: its top-k scores are the result, no NMS). ultralytics 8.4.190 infers with the
    one-to-many branch unless asked (`nms=False`), and checkpoints store that choice; fusing drops the branch not
    chosen. Raises TinydetError naming `source` when the head has no one-to-one branch.
    """
    check_nms_free_head(model, source)
    model.model[-1].end2end = True


def check_nms_free_head(model: torch.nn.Module, source: str | Path) -> None:
    """Raise TinydetError naming `source` unless the (unfused) model's head has a one-to-one branch."""
    head = model.model[-1]
    if getattr(head, "one2one_cv2", None) is None:
        raise TinydetError(
            f"{source}: --nms-free needs a model with an end-to-end (one-to-one) head, such as yolo26n or "
            f"yolo26n-p2; its {type(head).__name__} head has none"
        )


def install() -> None:
    """Make ultralytics build tinydet's modules (idempotent)."""
    ul_tasks.parse_model = parse_model


install()
