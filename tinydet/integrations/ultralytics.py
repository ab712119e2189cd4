"""The one place where tinydet reaches into ultralytics internals.

Importing this module (which `import tinydet` does first) makes ultralytics 8.4.190 safe and fast here:

- offline: no online checks, downloads, telemetry or pip auto-install (ultralytics would otherwise try all four);
- a local font where ultralytics looks for Arial, so plotting never fetches one;
- all CPU cores used (ultralytics leaves torch at 1 thread on a 2-core machine);
- ultralytics' third-party logger integrations (MLflow, Comet, ...) off in tinydet's own settings file;
- `parse_model` extended so that model YAMLs can name tinydet's modules (tinydet/nn), whose channel rules are
  data next to each module (`yaml_rule`, see tinydet/nn/rules.py).

Every assumption about ultralytics' internals is checked by `check_assumptions()`; when the pinned version
changes and one breaks, the error says which.
"""

from __future__ import annotations

import ast
import contextlib
import os
import shutil
from pathlib import Path


PINNED_VERSION = "8.4.190"
_ENV_READY = False


def prepare_environment() -> None:
    """Set the environment ultralytics reads at import time. Must run before `import ultralytics`."""
    global _ENV_READY
    if _ENV_READY:
        return
    os.environ["YOLO_OFFLINE"] = "1"  # is_online() -> False: no DNS probes, no hub, no telemetry
    os.environ["YOLO_AUTOINSTALL"] = "false"  # never `pip install` a missing module (dependency confusion)
    if "YOLO_CONFIG_DIR" not in os.environ:
        # Our own settings file: a user's ultralytics settings may enable loggers that phone home.
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        os.environ["YOLO_CONFIG_DIR"] = str(base / "tinydet")
    os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))  # ultralytics would set 1
    _ENV_READY = True


prepare_environment()

import torch  # noqa: E402
import ultralytics  # noqa: E402
from ultralytics.nn import tasks as _tasks  # noqa: E402
from ultralytics.utils import checks as _checks  # noqa: E402
from ultralytics.utils import torch_utils as _torch_utils  # noqa: E402

import ultralytics.utils as _ul_utils  # noqa: E402
from tinydet.errors import TinydetError  # noqa: E402
from tinydet.nn.rules import Rule, RowPlan, Scaled, Scaling  # noqa: E402


class UltralyticsAssumptionError(TinydetError):
    """The installed ultralytics differs from what tinydet was written against."""


# --------------------------------------------------------------------------------------------------------------
# Runtime settings
# --------------------------------------------------------------------------------------------------------------
_INTEGRATIONS_OFF = {
    "sync": False,
    "clearml": False,
    "comet": False,
    "dvc": False,
    "mlflow": False,
    "raytune": False,
    "tensorboard": False,
    "wandb": False,
    "vscode_msg": False,
    "openvino_msg": False,
}


def _install_fonts(config_dir: Path) -> None:
    """Put matplotlib's DejaVu Sans where ultralytics looks for Arial, so it never downloads a font."""
    import matplotlib

    source = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    for name in ("Arial.ttf", "Arial.Unicode.ttf"):
        target = config_dir / name
        if not target.exists() and source.exists():
            with contextlib.suppress(OSError):
                config_dir.mkdir(parents=True, exist_ok=True)
                tmp = target.with_suffix(".tmp")
                shutil.copyfile(source, tmp)
                os.replace(tmp, target)


def use_all_cores() -> int:
    """Let torch and ultralytics use every core; returns the thread count."""
    n = os.cpu_count() or 1
    _ul_utils.NUM_THREADS = n
    _torch_utils.NUM_THREADS = n  # select_device() resets torch threads to this on CPU
    torch.set_num_threads(n)
    return n


def apply_runtime_settings() -> None:
    """Offline, quiet about integrations, all cores. Idempotent; safe when ultralytics was imported first."""
    _ul_utils.ONLINE = False
    _ul_utils.AUTOINSTALL = False
    _checks.AUTOINSTALL = False
    settings = _ul_utils.SETTINGS
    changed = {k: v for k, v in _INTEGRATIONS_OFF.items() if settings.get(k) != v}
    if changed:
        with contextlib.suppress(Exception):  # a read-only settings file must not stop tinydet
            settings.update(changed)
    _install_fonts(Path(_ul_utils.USER_CONFIG_DIR))
    use_all_cores()


# --------------------------------------------------------------------------------------------------------------
# Model building: parse_model that also knows tinydet's modules
# --------------------------------------------------------------------------------------------------------------
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
    m = _tasks
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
_ORIGINAL_PARSE_MODEL = _tasks.parse_model


def _tinydet_modules() -> dict[str, type]:
    from tinydet.nn import MODULES

    return MODULES


def _resolve_module(name: str) -> type:
    if name.startswith("nn."):
        return getattr(torch.nn, name[3:])
    tinydet_modules = _tinydet_modules()
    if name in tinydet_modules:
        return tinydet_modules[name]
    module = vars(_tasks).get(name)
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
        supported = sorted(c.__name__ for c in stock) + sorted(_tinydet_modules())
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
            _ul_utils.LOGGER.warning(f"no model scale passed. Assuming scale='{scale}'.")
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
    Conv = _tasks.Conv
    scaling, depth = _scaling_for(d)
    stock = _stock_rules()
    default_act = Conv.default_act
    if d.get("activation"):
        Conv.default_act = _tasks._SafeLoad.activation(d["activation"])
    log = _ul_utils.LOGGER.info if verbose else (lambda *_: None)
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
            if module is _tasks.SPPF and len(plan.args) <= 3:  # legacy SPPF rows: activated cv1
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
    names = _tinydet_modules()
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
    d = _internal(_tasks, "yaml_model_load")(cfg)
    if nc is not None:
        d["nc"] = nc  # rather than the constructor's nc=, which logs an "Overriding" line to stdout
    task = model_task(d)
    if task not in _TASK_MODELS:
        raise ModelConfigError(f"{cfg}: tinydet builds detect, pose and segment models, not {task}")
    return _internal(_tasks, _TASK_MODELS[task])(d, verbose=verbose)


def model_task(model: torch.nn.Module | dict) -> str:
    """'detect', 'pose', 'segment', ... of a built model or a model YAML dict (ultralytics' own guess)."""
    return _internal(_tasks, "guess_model_task")(model)


def gflops(model: torch.nn.Module, imgsz: int = 640) -> float:
    """GFLOPs of one forward pass at `imgsz` x `imgsz`, counted the way ultralytics' model summary counts them."""
    return float(_internal(_torch_utils, "get_flops")(model, imgsz))


def _internal(module, name: str):
    """An ultralytics internal the model-building helpers rely on, or a clear error naming it."""
    found = getattr(module, name, None)
    if found is None:
        raise UltralyticsAssumptionError(
            f"{module.__name__}.{name} is missing; install ultralytics=={PINNED_VERSION}"
        )
    return found


def stock_config_path(filename: str) -> Path:
    """Path of a config file that ultralytics ships (`yolov8-p2.yaml`); raises if it ships none of that name."""
    found = sorted((Path(ultralytics.__file__).parent / "cfg" / "models").rglob(filename))
    if not found:
        raise UltralyticsAssumptionError(f"ultralytics {ultralytics.__version__} ships no model config {filename}")
    return found[0]


# --------------------------------------------------------------------------------------------------------------
# Assumptions and installation
# --------------------------------------------------------------------------------------------------------------
def check_assumptions() -> None:
    """Fail with a clear message when the installed ultralytics lacks what this file relies on."""
    problems = []
    if ultralytics.__version__ != PINNED_VERSION:
        import warnings

        warnings.warn(
            f"tinydet was written against ultralytics=={PINNED_VERSION} and found {ultralytics.__version__}; "
            "its test suite has not proven this version",
            stacklevel=2,
        )
    for name in ("parse_model", "Conv", "C2f", "C3k2", "SPPF", "C2PSA", "Concat", "Detect", "Pose", "Segment"):
        if not hasattr(_tasks, name):
            problems.append(f"ultralytics.nn.tasks.{name} is missing")
    if not hasattr(_tasks, "_SafeLoad") or not hasattr(_tasks._SafeLoad, "activation"):
        problems.append("ultralytics.nn.tasks._SafeLoad.activation is missing")
    for name in ("NUM_THREADS", "SETTINGS", "USER_CONFIG_DIR"):
        if not hasattr(_ul_utils, name):
            problems.append(f"ultralytics.utils.{name} is missing")
    if problems:
        raise UltralyticsAssumptionError(
            "the installed ultralytics breaks tinydet's assumptions: " + "; ".join(problems)
            + f". Install ultralytics=={PINNED_VERSION}."
        )


def install() -> None:
    """Apply the runtime settings and register tinydet's modules with ultralytics. Idempotent."""
    check_assumptions()
    apply_runtime_settings()
    _tasks.parse_model = parse_model


install()
