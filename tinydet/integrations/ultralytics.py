"""The one place where tinydet reaches into ultralytics internals.

Importing this module (which `import tinydet` does first) makes ultralytics 8.4.190 safe and fast here:

- offline: no online checks, downloads, telemetry or pip auto-install (ultralytics would otherwise try all four);
- a local font where ultralytics looks for Arial, so plotting never fetches one;
- all CPU cores used (ultralytics leaves torch at 1 thread on a 2-core machine), or OMP_NUM_THREADS where set;
- ultralytics' third-party logger integrations (MLflow, Comet, ...) off in tinydet's own settings file;
- a user's dataset never written to: label caches go to tinydet's cache folder (`label_cache_dir`), not
  beside the labels, and a JPEG without its end marker is read as it is, not re-encoded in place;
- `parse_model` extended so that model YAMLs can name tinydet's modules (tinydet/nn), whose channel rules are
  data next to each module (`yaml_rule`, see tinydet/nn/rules.py).

Every assumption about ultralytics' internals is checked by `check_assumptions()`; when the pinned version
changes and one breaks, the error says which.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import logging
import os
import shutil
from pathlib import Path


PINNED_VERSION = "8.4.190"
_ENV_READY = False
_USER_THREADS: str | None = None  # OMP_NUM_THREADS as the user set it, before tinydet's default


def prepare_environment() -> None:
    """Set the environment ultralytics reads at import time. Must run before `import ultralytics`."""
    global _ENV_READY, _USER_THREADS
    if _ENV_READY:
        return
    _USER_THREADS = os.environ.get("OMP_NUM_THREADS")
    os.environ["YOLO_OFFLINE"] = "1"  # is_online() -> False: no DNS probes, no hub, no telemetry
    os.environ["YOLO_AUTOINSTALL"] = "false"  # never `pip install` a missing module (dependency confusion)
    if "YOLO_CONFIG_DIR" not in os.environ:
        # Our own settings file: a user's ultralytics settings may enable loggers that phone home.
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        os.environ["YOLO_CONFIG_DIR"] = str(base / "tinydet")
    os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))  # ultralytics would set 1
    # Waiting OpenMP threads sleep instead of spinning: on a busy machine spinning made one forward 80x slower.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
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


def thread_count() -> int:
    """Threads for torch and ultralytics: OMP_NUM_THREADS where the user set it to a positive integer (to share
    the machine with other jobs), otherwise every core."""
    text = (_USER_THREADS or "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else os.cpu_count() or 1


def use_all_cores() -> int:
    """Let torch and ultralytics use `thread_count()` threads (every core unless OMP_NUM_THREADS says otherwise);
    returns that count."""
    n = thread_count()
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


@contextlib.contextmanager
def quiet_logs():
    """Hide ultralytics' INFO lines (export progress, model summaries) inside the block; its warnings and errors
    still show. For commands whose own output is the summary (`tinydet export`)."""
    from tinydet.logs import warnings_only

    with warnings_only(_ul_utils.LOGGER):
        yield


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
# Training: tinydet recipes on ultralytics' trainers
# --------------------------------------------------------------------------------------------------------------
# A recipe travels with the trainer as a callback object (RecipeCallback): ultralytics passes callbacks to its
# trainer, and pickles them (cloudpickle) into the script it launches for multi-GPU DDP, which deletes the run
# folder before starting; so the recipe survives where a file in the run folder would not.
from ultralytics.models.yolo.detect import DetectionTrainer as _DetectionTrainer  # noqa: E402
from ultralytics.models.yolo.detect import DetectionValidator as _DetectionValidator  # noqa: E402
from ultralytics.models.yolo.pose import PoseTrainer as _PoseTrainer  # noqa: E402
from ultralytics.models.yolo.pose import PoseValidator as _PoseValidator  # noqa: E402
from ultralytics.utils import loss as _loss  # noqa: E402
from ultralytics.utils import tal as _tal  # noqa: E402


class _RecipeBboxLoss(_loss.BboxLoss):
    """ultralytics' BboxLoss with the IoU term replaced by the recipe's box loss (DFL / L1 term unchanged).

    ultralytics passes boxes in grid units (pixels / stride); NWD is not scale-invariant, so boxes are taken
    back to pixels with each anchor's stride before the loss.
    """

    def __init__(self, reg_max: int, box_loss: str, nwd_c: float, nwd_ratio: float):
        super().__init__(reg_max)
        self.box_loss, self.nwd_c, self.nwd_ratio = box_loss, nwd_c, nwd_ratio

    def forward(self, pred_dist, pred_bboxes, anchor_points, target_bboxes, target_scores, target_scores_sum,
                fg_mask, imgsz, stride):
        from tinydet.train.losses import box_regression_loss

        _, loss_dfl = super().forward(pred_dist, pred_bboxes, anchor_points, target_bboxes, target_scores,
                                      target_scores_sum, fg_mask, imgsz, stride)
        fg = fg_mask.nonzero(as_tuple=True)
        weight = target_scores[fg].sum(-1)
        scale = stride[fg[1]]  # [N, 1] pixels per grid unit of each matched anchor
        per_box = box_regression_loss(pred_bboxes[fg] * scale, target_bboxes[fg] * scale, self.box_loss,
                                      nwd_c=self.nwd_c, nwd_ratio=self.nwd_ratio)
        return (per_box * weight).sum() / target_scores_sum, loss_dfl


class _NWDAlignedAssigner(_tal.TaskAlignedAssigner):
    """Task-aligned assigner whose localisation term is NWD instead of CIoU (boxes here are in pixels)."""

    nwd_c = 12.8

    def iou_calculation(self, gt_bboxes, pd_bboxes):
        from tinydet.ops.boxes import nwd

        return nwd(gt_bboxes, pd_bboxes, constant=self.nwd_c).clamp_(0)


class _ATSSAssigner(torch.nn.Module):
    """ATSS (tinydet/train/atss.py) with the contract of ultralytics' TaskAlignedAssigner.forward.

    Returns (target_labels [B, A], target_bboxes [B, A, 4] px, target_scores [B, A, C], fg_mask [B, A] bool,
    target_gt_idx [B, A]) like TAL. target_scores of a positive anchor: the one-hot class times the IoU of the
    anchor's predicted box with its ground truth (detached), as YOLOv6 and PP-YOLOE do with ATSS: YOLO heads have no
    centerness branch, so the class score is what ranks boxes for NMS and should follow localisation quality (plain
    one-hot would teach every positive a score of 1). Extra keyword tensors (the pose assigner's) are ignored.
    """

    def __init__(self, num_classes: int, stride: list, topk: int = 9):
        super().__init__()
        self.num_classes, self.stride, self.topk = num_classes, [float(s) for s in stride], int(topk)

    def level_counts(self, anc_points: torch.Tensor) -> list[int]:
        """Anchors per level, from where each level's first point (stride/2, stride/2) sits in `anc_points` (px)."""
        starts = []
        for s in self.stride:
            hit = ((anc_points - s / 2).abs() < 1e-3).all(-1).nonzero().flatten()
            if len(hit) != 1:
                raise UltralyticsAssumptionError(
                    f"ATSS: expected one anchor point at ({s / 2}, {s / 2}) px opening the stride-{s:g} level, found "
                    f"{len(hit)}; ultralytics' make_anchors layout changed (pinned {PINNED_VERSION})")
            starts.append(int(hit[0]))
        ends = [*starts[1:], anc_points.shape[0]]
        if starts[0] != 0 or any(e <= b for b, e in zip(starts, ends)):
            raise UltralyticsAssumptionError(f"ATSS: anchor levels out of order (starts {starts}, strides {self.stride})")
        return [e - b for b, e in zip(starts, ends)]

    @torch.no_grad()
    def forward(self, pd_scores, pd_bboxes, anc_points, gt_labels, gt_bboxes, mask_gt, **extra):
        from tinydet.train.atss import atss_assign

        b, a, _ = pd_scores.shape
        if gt_bboxes.shape[1] == 0:
            return (torch.full_like(pd_scores[..., 0], self.num_classes), torch.zeros_like(pd_bboxes),
                    torch.zeros_like(pd_scores), torch.zeros_like(pd_scores[..., 0], dtype=torch.bool),
                    torch.zeros_like(pd_scores[..., 0]))
        result = atss_assign(anc_points, self.level_counts(anc_points), self.stride, gt_bboxes, mask_gt, self.topk)
        fg, idx = result.fg_mask, result.target_gt_idx
        target_labels = gt_labels.long().squeeze(-1).gather(1, idx).clamp_(0)  # [B, A]
        target_bboxes = gt_bboxes.gather(1, idx[..., None].expand(-1, -1, 4))  # [B, A, 4]
        quality = _tal.bbox_iou(pd_bboxes, target_bboxes, xywh=False).squeeze(-1).clamp_(0) * fg
        target_scores = torch.zeros_like(pd_scores)
        target_scores.scatter_(2, target_labels[..., None], quality[..., None].to(pd_scores.dtype))
        return target_labels, target_bboxes, target_scores, fg, idx


def _apply_recipe_to_criterion(criterion, recipe, one_to_one: bool = False) -> None:
    """Swap the parts of one v8 detection/pose criterion that the recipe changes. `one_to_one`: the NMS-free
    branch of an end-to-end head, which keeps its task-aligned assigner and its own topk (one positive per box)."""
    from tinydet.train.losses import ClassificationLoss

    if recipe.box_loss != "ciou":
        device = criterion.proj.device
        criterion.bbox_loss = _RecipeBboxLoss(criterion.reg_max, recipe.box_loss, recipe.nwd_c, recipe.nwd_ratio).to(device)
    tal = criterion.assigner
    tal.alpha, tal.beta = float(recipe.tal_alpha), float(recipe.tal_beta)
    if not one_to_one and tal.topk != recipe.tal_topk:
        if tal.topk2 == tal.topk:
            tal.topk2 = int(recipe.tal_topk)
        tal.topk = int(recipe.tal_topk)
    if recipe.assigner_metric == "nwd":
        old = criterion.assigner
        new = _NWDAlignedAssigner(topk=old.topk, num_classes=old.num_classes, alpha=old.alpha, beta=old.beta,
                                  stride=old.stride, eps=old.eps, topk2=old.topk2)
        new.nwd_c = recipe.nwd_c
        criterion.assigner = new
    if recipe.assigner == "atss" and not one_to_one:
        criterion.assigner = _ATSSAssigner(tal.num_classes, tal.stride, recipe.atss_topk)
    if recipe.cls_loss != "bce" or recipe.label_smoothing > 0:
        criterion.bce = ClassificationLoss(recipe.cls_loss, recipe.focal_gamma, recipe.focal_alpha, recipe.label_smoothing)


def recipe_criterion(model, recipe):
    """The model's own ultralytics criterion with the recipe's losses and assigner swapped in (YOLO26 end-to-end
    heads too: there the one-to-one branch keeps its task-aligned assigner)."""
    criterion = model.init_criterion()
    if isinstance(criterion, _loss.E2ELoss):
        parts = [(criterion.one2many, False), (criterion.one2one, True)]
    else:
        parts = [(criterion, False)]
    for part, one_to_one in parts:
        if not isinstance(part, _loss.v8DetectionLoss):
            raise UltralyticsAssumptionError(f"tinydet's loss options do not support {type(part).__name__}")
        _apply_recipe_to_criterion(part, recipe, one_to_one)
    return criterion


class RecipeCallback:
    """Carries a Recipe through ultralytics (and its DDP launch); at 'on_pretrain_routine_end' it installs the
    recipe's losses on the training model and its EMA (ultralytics strips criteria from saved checkpoints)."""

    event = "on_pretrain_routine_end"

    def __init__(self, recipe):
        self.recipe = recipe

    def __call__(self, trainer) -> None:
        changed = self.recipe.changed_options()
        _ul_utils.LOGGER.info(f"tinydet recipe: {changed or 'defaults (plain ultralytics training)'}")
        if getattr(trainer, "ema", None) is not None:  # checkpoints come from the EMA: keep them stock
            from tinydet.train.syncbn import to_batchnorm2d

            trainer.ema.ema = to_batchnorm2d(trainer.ema.ema)
        if not self.recipe.changes_losses:
            return
        models = [_torch_utils.unwrap_model(trainer.model)]
        if getattr(trainer, "ema", None) is not None:
            models.append(trainer.ema.ema)
        for model in models:
            model.criterion = recipe_criterion(model, self.recipe)


def find_recipe(callbacks: dict):
    """The Recipe carried by a trainer's callbacks (None when tinydet did not start the run)."""
    for fns in callbacks.values():
        for fn in fns:
            if isinstance(fn, RecipeCallback):
                return fn.recipe
    return None


# tinydet metrics written to results.csv every epoch (all of small_object_metrics' keys work for --fitness).
EPOCH_METRICS = ("AP", "AP50", "APs", "APm", "APvt", "APt", "AP_center", "AP50_center")


class _SmallObjectMetricsMixin:
    """Validator add-on: keeps each image's predictions in original pixels, evaluates them with tinydet's
    evaluator (COCO, AI-TOD buckets, centre distance) and adds those metrics to ultralytics' (so they land in
    results.csv every epoch); `fitness_key` makes one of them the score that picks best.pt."""

    fitness_key = "ultralytics"

    def init_metrics(self, model):
        super().init_metrics(model)
        self._tinydet_predictions = {}
        self._tinydet_shapes = {}  # im_file -> (h, w) of the original image (rect mode drops it from labels)

    def update_metrics(self, preds, batch):
        super().update_metrics(preds, batch)
        from tinydet.detections import Detections
        from tinydet.ops.boxes import collapse_inverted

        for si, pred in enumerate(preds):
            pbatch = self._prepare_batch(si, batch)
            self._tinydet_shapes[pbatch["im_file"]] = tuple(int(v) for v in pbatch["ori_shape"])
            scaled = self.scale_preds(pred, pbatch)
            self._tinydet_predictions[pbatch["im_file"]] = Detections(  # YOLO26 can predict x2 < x1 early on
                collapse_inverted(scaled["bboxes"].detach().cpu()).numpy(), scaled["conf"].detach().cpu().numpy(),
                scaled["cls"].detach().cpu().numpy(),
            )

    def gather_stats(self):
        """Under DDP every rank validates part of the images: collect tinydet's per-image records on rank 0."""
        super().gather_stats()
        rank = _ul_utils.RANK
        if rank < 0:
            return
        import torch.distributed as dist

        mine = (self._tinydet_predictions, self._tinydet_shapes)
        if rank == 0:
            gathered = [None] * dist.get_world_size()
            dist.gather_object(mine, gathered, dst=0)
            for predictions, shapes in gathered:
                self._tinydet_predictions.update(predictions)
                self._tinydet_shapes.update(shapes)
        else:
            dist.gather_object(mine, None, dst=0)
            self._tinydet_predictions, self._tinydet_shapes = {}, {}

    def _ground_truth(self):
        """The val labels as tinydet ImageLabels (pixels), from the dataset ultralytics validated on."""
        import numpy as np

        from tinydet.data.dataset import ImageLabels

        images = []
        for label in self.dataloader.dataset.labels:
            if label["im_file"] not in self._tinydet_shapes:
                raise UltralyticsAssumptionError(f"the validator never saw {label['im_file']}")
            h, w = self._tinydet_shapes[label["im_file"]]
            xywh = np.asarray(label["bboxes"], np.float64).reshape(-1, 4) * [w, h, w, h]
            xyxy = np.concatenate([xywh[:, :2] - xywh[:, 2:] / 2, xywh[:, :2] + xywh[:, 2:] / 2], axis=1)
            images.append(ImageLabels(Path(label["im_file"]), w, h, xyxy, np.asarray(label["cls"]).reshape(-1)))
        return images

    def get_stats(self):
        stats = super().get_stats()
        from tinydet.detections import Detections
        from tinydet.eval import evaluate_detections, small_object_metrics

        images = self._ground_truth()
        detections = [self._tinydet_predictions.get(str(im.file), Detections.empty()) for im in images]
        # every class of the model is a category, also one the val split never labels (it may still be predicted)
        names = [str(self.names[i]) for i in range(len(self.names))]
        extra = small_object_metrics(evaluate_detections(images, detections, names=names))
        stats.update({f"metrics/{k}(T)": extra[k] for k in EPOCH_METRICS if k in extra})
        if self.fitness_key != "ultralytics":
            if self.fitness_key not in extra:
                raise UltralyticsAssumptionError(
                    f"--fitness {self.fitness_key}: not a tinydet metric (have: {', '.join(extra)})"
                )
            stats["fitness"] = extra[self.fitness_key]
        return stats


class SmallObjectDetectionValidator(_SmallObjectMetricsMixin, _DetectionValidator):
    """ultralytics' DetectionValidator plus tinydet's small-object metrics."""


class SmallObjectPoseValidator(_SmallObjectMetricsMixin, _PoseValidator):
    """ultralytics' PoseValidator plus tinydet's small-object box metrics; by default best.pt is chosen on box
    metrics (0.1 mAP50 + 0.9 mAP50-95 of boxes), not ultralytics' pose mix: pose-aux ships the boxes."""

    def get_stats(self):
        stats = super().get_stats()
        if self.fitness_key == "ultralytics":
            stats["fitness"] = 0.1 * stats["metrics/mAP50(B)"] + 0.9 * stats["metrics/mAP50-95(B)"]
        return stats


class RecipeAugmentation:
    """Wraps a training dataset's `get_image_and_label` so every loaded image (mosaic tiles included) goes
    through the recipe's augmentations (tinydet/train/pipeline.py), in pixels, before ultralytics' own pipeline.

    Random numbers come from numpy's global generator, which ultralytics seeds per dataloader worker, so runs
    stay reproducible with `seed`/`deterministic`.
    """

    def __init__(self, dataset, recipe):
        self.dataset, self.recipe = dataset, recipe
        self.load = dataset.get_image_and_label  # the original bound method

    def _sample(self, label):
        """An ultralytics label dict as a tinydet Sample (boxes and keypoints in pixels)."""
        import numpy as np
        from ultralytics.utils.patches import imread

        from tinydet.train.pipeline import Sample

        instances = label["instances"]
        h, w = label["img"].shape[:2]
        instances.convert_bbox("xyxy")
        instances.denormalize(w, h)
        kps = None if instances.keypoints is None else np.asarray(instances.keypoints, np.float32)
        file, flag = label["im_file"], self.dataset.cv2_flag
        return Sample(label["img"], np.asarray(instances.bboxes, np.float32), np.asarray(label["cls"], np.float32).reshape(-1),
                      kps, lambda: imread(file, flags=flag))

    @staticmethod
    def _store(label, sample):
        import numpy as np
        from ultralytics.utils.instance import Instances

        segment_points = label["instances"].segments.shape[1]  # keep ultralytics' empty-segments shape
        label["img"] = sample.img
        label["resized_shape"] = sample.img.shape[:2]
        label["cls"] = np.asarray(sample.classes, np.float32).reshape(-1, 1)
        label["instances"] = Instances(np.asarray(sample.boxes, np.float32).reshape(-1, 4),
                                       np.zeros((0, segment_points, 2), np.float32), sample.keypoints,
                                       bbox_format="xyxy", normalized=False)
        return label

    def __call__(self, index):
        import numpy as np

        from tinydet.train.pipeline import augment_sample

        label = self.load(index)
        rng = np.random.default_rng(np.random.randint(0, 2**31))
        other = lambda: self._sample(self.load(int(rng.integers(len(self.dataset)))))  # noqa: E731
        return self._store(label, augment_sample(self._sample(label), self.recipe, rng, other))


class _RecipeTrainerMixin:
    """Trainer add-on: reads the Recipe carried by the callbacks and uses tinydet's validator."""

    validator_class = SmallObjectDetectionValidator

    def __init__(self, cfg=_ul_utils.DEFAULT_CFG, overrides=None, _callbacks=None):
        super().__init__(cfg, overrides, _callbacks)
        from tinydet.train.recipe import Recipe

        self.recipe = find_recipe(self.callbacks) or Recipe()

    def _setup_ddp(self):
        """Multi-node under torchrun: ultralytics sizes the process group by this node's devices only; take the
        launcher's WORLD_SIZE (nodes x processes per node) when it is larger."""
        launched = int(os.environ.get("WORLD_SIZE", "1"))
        if launched > self.world_size:
            self.world_size = launched
        super()._setup_ddp()

    def set_model_attributes(self):
        super().set_model_attributes()
        if self.world_size > 1 and self.recipe.sync_bn:  # called before ultralytics wraps the model in DDP
            from tinydet.train.syncbn import to_sync_batchnorm

            self.model = to_sync_batchnorm(self.model)

    def build_dataset(self, img_path, mode="train", batch=None):
        dataset = super().build_dataset(img_path, mode, batch)
        if mode == "train" and self.recipe.changes_augmentation:
            dataset.get_image_and_label = RecipeAugmentation(dataset, self.recipe)
        return dataset

    def get_validator(self):
        from copy import copy

        validator = self.validator_class(self.test_loader, save_dir=self.save_dir, args=copy(self.args),
                                         _callbacks=self.callbacks)
        validator.fitness_key = self.recipe.fitness
        return validator


# --------------------------------------------------------------------------------------------------------------
# Compression (tinydet/compress): checkpoints of pruned models, fine-tuning them, distillation while training
# --------------------------------------------------------------------------------------------------------------
PRUNED_MARK = "tinydet_pruned"  # attribute set on a pruned model; travels with it through EMA copies and pickling


def load_detection_checkpoint(path: str | Path) -> torch.nn.Module:
    """The float32 model of a checkpoint (its EMA when it has one), in eval mode, on the CPU."""
    path = Path(path)
    if not path.is_file():
        raise TinydetError(f"checkpoint not found: {path}")
    try:
        model = _internal(_tasks, "load_checkpoint")(str(path))[0]
    except (TypeError, KeyError, RuntimeError, EOFError, ModuleNotFoundError, AttributeError) as e:
        raise TinydetError(f"{path}: not a ultralytics checkpoint ({e})") from None
    return model


def save_model_checkpoint(model: torch.nn.Module, path: str | Path, train_args: dict | None = None) -> Path:
    """Write `model` as a checkpoint that `YOLO(path)` loads as it is (fp16 weights, no optimizer, no EMA).
    train_args: the arguments recorded with it (ultralytics reads imgsz, data, task from them)."""
    from copy import deepcopy
    from datetime import datetime

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    copy = deepcopy(model).half()
    if hasattr(copy, "criterion"):
        copy.criterion = None
    ckpt = {"model": copy, "ema": None, "train_args": dict(train_args or getattr(model, "args", None) or {}),
            "date": datetime.now().astimezone().isoformat(), "version": ultralytics.__version__,
            "license": "AGPL-3.0 License (https://ultralytics.com/license)"}
    tmp = path.with_name(path.name + ".tmp")
    torch.save(ckpt, tmp)
    os.replace(tmp, path)
    return path


def _head_outputs(output) -> dict:
    """The raw head dict of a forward pass in either mode (the one-to-many branch of an end-to-end head)."""
    raw = output[1] if isinstance(output, tuple) else output
    if not isinstance(raw, dict) or not ({"boxes", "scores", "feats"} <= set(raw) or "one2many" in raw):
        raise UltralyticsAssumptionError(f"the detection head's raw outputs changed (pinned {PINNED_VERSION})")
    return raw.get("one2many", raw)


def _levels(raw: dict, keep: list[int], with_box: bool) -> list:
    """The head dict cut into per-level HeadLevels (tinydet/compress/distill.py), only the levels in `keep`."""
    from tinydet.compress.distill import HeadLevel

    sizes = [f.shape[-2] * f.shape[-1] for f in raw["feats"]]
    cls = raw["scores"].split(sizes, dim=-1)
    box = raw["boxes"].split(sizes, dim=-1) if with_box else [None] * len(sizes)
    return [HeadLevel(cls[i], raw["feats"][i], box[i]) for i in keep]


class Distiller(torch.nn.Module):
    """A frozen teacher and the learned feature adapters; `forward(student_raw, images)` -> DistillTerms.

    Levels are paired by stride (those both heads have); both models must predict the same classes. The box
    term needs both heads to use DFL with the same reg_max, otherwise only the class and feature terms run.
    """

    def __init__(self, teacher: torch.nn.Module, student: torch.nn.Module, options, imgsz: int = 64):
        super().__init__()
        from tinydet.compress.distill import make_adapters

        s_head, t_head = student.model[-1], teacher.model[-1]
        if s_head.nc != t_head.nc:
            raise TinydetError(f"the teacher predicts {t_head.nc} classes and the student {s_head.nc}; "
                               "distillation needs the same classes (train the teacher on the same data)")
        s_strides, t_strides = [int(s) for s in s_head.stride.tolist()], [int(s) for s in t_head.stride.tolist()]
        shared = [s for s in s_strides if s in t_strides]
        if not shared:
            raise TinydetError(f"teacher strides {t_strides} and student strides {s_strides} share none; "
                               "distillation pairs head levels of the same stride")
        self.student_levels = [s_strides.index(s) for s in shared]
        self.teacher_levels = [t_strides.index(s) for s in shared]
        self.reg_max = s_head.reg_max if s_head.reg_max == t_head.reg_max and s_head.reg_max > 1 else None
        if self.reg_max is None:
            _ul_utils.LOGGER.warning("distillation: teacher and student heads differ in reg_max (or use no DFL); "
                                     "the box-distribution term is off")
        self.options = options
        self.teacher = [teacher.eval().requires_grad_(False)]  # a list: not a submodule, never in the optimizer
        device = next(student.parameters()).device
        s_ch, t_ch = self._channels(student, device, imgsz), self._channels(teacher, device, imgsz)
        self.adapters = make_adapters([s_ch[i] for i in self.student_levels],
                                      [t_ch[i] for i in self.teacher_levels]).to(device)
        self.strides = shared

    @staticmethod
    def _channels(model: torch.nn.Module, device, imgsz: int) -> list[int]:
        was_training = model.training
        model.eval()
        with torch.no_grad():
            raw = _head_outputs(model(torch.zeros(1, 3, imgsz, imgsz, device=device)))
        model.train(was_training)
        return [f.shape[1] for f in raw["feats"]]

    def forward(self, student_raw, images: torch.Tensor):
        from tinydet.compress.distill import distill_loss

        teacher = self.teacher[0]
        with torch.no_grad():
            t_raw = _head_outputs(teacher(images))
        with_box = self.reg_max is not None
        s = _levels(_head_outputs(student_raw), self.student_levels, with_box)
        t = _levels(t_raw, self.teacher_levels, with_box)
        return distill_loss(s, t, self.adapters, self.options, self.reg_max)


class _DistillCriterion:
    """The student's own criterion plus the distillation terms: loss items gain 'distill' (results.csv column
    train/distill; val/distill stays 0 since validation runs on the EMA without a teacher)."""

    def __init__(self, base, distiller: Distiller):
        self.base, self.distiller = base, distiller

    def __getattr__(self, name):  # update(), hyp, ... of the wrapped criterion (E2ELoss decays its gains)
        if name in ("base", "distiller"):
            raise AttributeError(name)
        return getattr(self.base, name)

    def __call__(self, preds, batch):
        loss, items = self.base(preds, batch)
        terms = self.distiller(preds, batch["img"])
        extra = (terms.total * batch["img"].shape[0]).reshape(1).to(loss.dtype)
        return torch.cat([loss.reshape(-1), extra]), {**items, "distill": terms.total.detach()}


class _AdaptersAlongside(torch.nn.Module):
    """What the optimizer is built from when distilling: the student's layers and the feature adapters."""

    def __init__(self, student: torch.nn.Module, adapters: torch.nn.Module):
        super().__init__()
        self.model, self.adapters = student.model, adapters  # `.model[-1]`: ultralytics' MuSGD looks for the head


class _CompressTrainerMixin:
    """Trainer add-on: fine-tunes pruned checkpoints as they are, and distils from `recipe.distill_from`."""

    def get_model(self, cfg=None, weights=None, verbose=True):
        """A pruned checkpoint is trained as it is: ultralytics would rebuild the model from its YAML and load
        the weights that fit, silently undoing the pruning."""
        if isinstance(weights, torch.nn.Module) and getattr(weights, PRUNED_MARK, False):
            from copy import deepcopy

            nc = self.data["nc"]
            if weights.model[-1].nc != nc:
                raise TinydetError(f"the pruned model predicts {weights.model[-1].nc} classes and the data has {nc}; "
                                   "fine-tune a pruned model on data with its classes")
            model = deepcopy(weights).float()
            for p in model.parameters():
                p.requires_grad_(True)
            return model
        return super().get_model(cfg=cfg, weights=weights, verbose=verbose)

    def build_optimizer(self, model, *args, **kwargs):
        recipe = getattr(self, "recipe", None)
        if recipe is None or not recipe.distill_from:
            return super().build_optimizer(model, *args, **kwargs)
        from tinydet.compress.distill import DistillOptions

        student = _torch_utils.unwrap_model(model)
        teacher = load_detection_checkpoint(recipe.distill_from).to(next(student.parameters()).device)
        options = DistillOptions(recipe.distill_logit, recipe.distill_feature, recipe.distill_t)
        self.distiller = Distiller(teacher, student, options, imgsz=int(max(student.stride.max().item(), 32)) * 2)
        _ul_utils.LOGGER.info(f"tinydet distillation from {recipe.distill_from} at strides {self.distiller.strides}")
        return super().build_optimizer(_AdaptersAlongside(student, self.distiller.adapters), *args, **kwargs)

    def _install_distillation(self, trainer) -> None:
        distiller = getattr(self, "distiller", None)
        if distiller is None:
            return
        student = _torch_utils.unwrap_model(self.model)
        if isinstance(getattr(student, "criterion", None), _DistillCriterion):
            return
        base = student.criterion if getattr(student, "criterion", None) is not None else student.init_criterion()
        student.criterion = _DistillCriterion(base, distiller)

    def _setup_train(self):
        self.add_callback("on_pretrain_routine_end", self._install_distillation)  # after RecipeCallback's
        super()._setup_train()


# --------------------------------------------------------------------------------------------------------------
# Training: sliced validation picks best.pt (recipe.val_slice; tinydet/train/sliced_val.py)
# --------------------------------------------------------------------------------------------------------------
# ultralytics 8.4.190's BaseTrainer._do_train: `self.metrics, self.fitness = self.validate()`, then save_metrics
# (results.csv), the EarlyStopping stopper (fitness None = not measured) and save_model (best.pt when
# best_fitness == fitness); final_eval() validates best.pt whole.
class _SlicedValidationMixin:
    """Trainer add-on (needs `self.recipe`): with recipe.val_slice, each validation also runs sliced validation of
    the EMA model on rank 0, adds `sliced/...` columns to the metrics, and its fitness replaces ultralytics' for
    best.pt and early stopping; final_eval also reports best.pt sliced."""

    def _sliced_settings(self):
        from tinydet.train.sliced_val import SlicedValSettings

        return SlicedValSettings.from_recipe(self.recipe)

    def validate(self):
        settings = self._sliced_settings()
        if settings is None:
            return super().validate()
        from tinydet.train.sliced_val import skipped_columns, sliced_validate

        best = self.best_fitness
        metrics, fitness = super().validate()
        self.best_fitness = best  # super() counted its whole-image fitness; only the sliced one may set best.pt
        if metrics is None or _ul_utils.RANK not in {-1, 0}:
            return metrics, fitness
        if not settings.due(self.epoch, self.epoch + 1 >= self.epochs):
            return {**metrics, **skipped_columns()}, None  # None: this epoch cannot become best.pt
        result = sliced_validate(self.ema.ema, self.args.data, settings, device=self.device, progress=True,
                                 log=_ul_utils.LOGGER.info)
        if self.best_fitness is None or self.best_fitness < result.fitness:
            self.best_fitness = result.fitness
        return {**metrics, **result.columns()}, result.fitness

    def final_eval(self):
        super().final_eval()
        settings = self._sliced_settings()
        if settings is None or _ul_utils.RANK not in {-1, 0} or not self.best.exists():
            return
        from tinydet.train.sliced_val import sliced_validate

        _ul_utils.LOGGER.info(f"\nValidating {self.best} sliced...")
        result = sliced_validate(self.best, self.args.data, settings, device=self.device, progress=True,
                                 log=_ul_utils.LOGGER.info)
        self.metrics = {**(self.metrics or {}), **result.columns()}


# --------------------------------------------------------------------------------------------------------------
# Training: checkpoints written atomically, so a run killed at any moment resumes from its last.pt
# --------------------------------------------------------------------------------------------------------------
# ultralytics 8.4.190's BaseTrainer.save_model writes `self.last` and (when best) `self.best` with write_bytes in
# place: a kill during the write leaves a truncated last.pt that cannot be resumed.
class _AtomicCheckpointMixin:
    """Trainer add-on: save_model writes last.pt / best.pt to hidden temporary files in weights/, then renames
    them over the real ones (os.replace is atomic on one file system)."""

    def save_model(self):
        final = {"last": self.last, "best": self.best}
        temporary = {k: path.with_name(f".{path.name}.tmp") for k, path in final.items()}
        for path in temporary.values():
            path.unlink(missing_ok=True)  # left by a kill during an earlier write
        self.last, self.best = temporary["last"], temporary["best"]
        try:
            saved = super().save_model()
        finally:
            self.last, self.best = final["last"], final["best"]
        for k, path in temporary.items():
            if path.exists():
                os.replace(path, final[k])
        return saved


class RecipeDetectionTrainer(_AtomicCheckpointMixin, _SlicedValidationMixin, _CompressTrainerMixin,
                             _RecipeTrainerMixin, _DetectionTrainer):
    """ultralytics' DetectionTrainer running a tinydet Recipe."""


class RecipePoseTrainer(_AtomicCheckpointMixin, _SlicedValidationMixin, _RecipeTrainerMixin, _PoseTrainer):
    """ultralytics' PoseTrainer running a tinydet Recipe (the pose-aux recipe trains with this)."""

    validator_class = SmallObjectPoseValidator


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


# --------------------------------------------------------------------------------------------------------------
# Datasets: a user's files stay as they are
# --------------------------------------------------------------------------------------------------------------
# ultralytics writes `labels/train.cache` beside a dataset's labels and, when a JPEG does not end with the end
# marker FF D9 (truncated, or bytes appended after it), re-encodes the image in place. tinydet sends the caches to
# its own folder and leaves such images alone: OpenCV reads them as they are (a truncated one with a libjpeg
# warning).
from ultralytics.data import dataset as _ul_dataset  # noqa: E402
from ultralytics.data import utils as _ul_data  # noqa: E402

_ORIGINAL_CHECK_IMAGE = getattr(_ul_data, "check_image", None)  # checked by keep_user_datasets_unchanged()
_ORIGINAL_LOAD_CACHE = getattr(_ul_dataset, "load_dataset_cache_file", None)
_ORIGINAL_SAVE_CACHE = getattr(_ul_dataset, "save_dataset_cache_file", None)
_RESTORED = ": corrupt JPEG restored and saved"


def label_cache_dir() -> Path:
    """Where ultralytics' label caches go under tinydet: $XDG_CACHE_HOME/tinydet/labels (~/.cache by default)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tinydet" / "labels"


def label_cache_file(ultralytics_path: str | Path) -> Path:
    """The cache file standing in for ultralytics' `<dataset>/labels/train.cache`: named by that path's hash, so
    two datasets never share one (ultralytics also checks a hash of the files listed inside)."""
    path = Path(ultralytics_path).absolute()
    return label_cache_dir() / f"{path.stem}-{hashlib.sha1(str(path).encode()).hexdigest()[:16]}.cache"


def _load_cache(path) -> dict:
    return _ORIGINAL_LOAD_CACHE(label_cache_file(path))


def _save_cache(prefix: str, path, x: dict, version: str) -> None:
    target = label_cache_file(path)
    with contextlib.suppress(OSError):
        target.parent.mkdir(parents=True, exist_ok=True)
    _ORIGINAL_SAVE_CACHE(prefix, target, x, version)  # warns itself when the folder is not writable


def _keep_image(im_file, write) -> None:
    """Stands in for ultralytics' in-place re-encoding of a JPEG that lacks its end marker: does nothing."""


def _check_image(im_file: str):
    msg, shape = _ORIGINAL_CHECK_IMAGE(im_file)
    if msg.endswith(_RESTORED):
        msg = f"{im_file}: JPEG without its end marker (FF D9); read as it is, the file is not changed"
    return msg, shape


def keep_user_datasets_unchanged() -> None:
    """Route ultralytics' label caches to `label_cache_dir()` and stop its in-place JPEG repair. Idempotent."""
    for module, name in ((_ul_data, "_replace_image"), (_ul_data, "check_image"),
                         (_ul_dataset, "load_dataset_cache_file"), (_ul_dataset, "save_dataset_cache_file")):
        _internal(module, name)
    _ul_data._replace_image = _keep_image
    _ul_data.check_image = _check_image
    _ul_dataset.load_dataset_cache_file = _load_cache
    _ul_dataset.save_dataset_cache_file = _save_cache


# --------------------------------------------------------------------------------------------------------------
# Images: Pillow's own open
# --------------------------------------------------------------------------------------------------------------
from ultralytics.utils import patches as _ul_patches  # noqa: E402


def pillow_open():
    """`PIL.Image.open` as Pillow ships it. ultralytics replaces `Image.open` with one that, on every file Pillow
    cannot identify, runs a requirements check for pi-heif (logging a WARNING per file when it is not installed)
    and then raises ImportError. Checking a dataset with many broken files should say so once per file, in
    tinydet's words; HEIC/HEIF files still need the patched one."""
    from PIL import Image

    return getattr(_ul_patches, "_image_open", Image.open)


def install() -> None:
    """Apply the runtime settings and register tinydet's modules with ultralytics. Idempotent."""
    check_assumptions()
    apply_runtime_settings()
    keep_user_datasets_unchanged()
    _tasks.parse_model = parse_model


install()
