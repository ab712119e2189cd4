"""Training recipes as data: every tinydet option of a run, validated, saved with the run, loadable from YAML.

Ultralytics' own knobs (cos_lr, warmup_epochs, nbs, multi_scale, mixup, cls_pw, ...) are not repeated here:
they pass through unchanged (`tinydet train --set key=value`, or an `ultralytics:` block in a recipe file).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from tinydet.errors import TinydetError

from tinydet.train.losses import BOX_LOSSES, CLS_LOSS_DEFAULTS

RECIPES = ("default", "pose-aux")
CLS_LOSSES = tuple(CLS_LOSS_DEFAULTS)
ASSIGNER_METRICS = ("iou", "nwd")
FITNESS_DEFAULT = "ultralytics"  # ultralytics' own: 0.1 mAP50 + 0.9 mAP50-95 (box metrics for pose-aux)


@dataclass
class Recipe:
    """tinydet's training options (ultralytics' own arguments live in `ultralytics`).

    Losses (installed at train time, so checkpoints of stock architectures stay stock):
        box_loss: ciou | diou | giou | nwd | nwd-ciou (blend: nwd_ratio * NWD + (1 - nwd_ratio) * CIoU).
        nwd_c: NWD's normalising constant C in pixels (Wang et al. 2021 use 12.8 on AI-TOD).
        assigner_metric: iou (CIoU, ultralytics' default) or nwd in the task-aligned assigner's alignment metric.
        cls_loss: bce | focal | varifocal | qfl; focal_gamma / focal_alpha override the paper defaults of each
            (focal 2 / 0.25, varifocal 2 / 0.75, qfl 2), see tinydet/train/losses.py.
        label_smoothing: eps; classification targets become t * (1 - eps) + eps / 2.
    Pose-aux (recipe: pose-aux):
        pose_box_gain, pose_dfl_gain: box and DFL loss gains while training the pose twin (seed: 0.01 each).
    Freebies (tinydet's own augmentations, applied to training images only):
        geo_mixup: probability of geometry-preserving mixup (canvas of the larger size, ratio ~ Beta(1.5, 1.5)).
        small_copy_paste: probability per image of pasting copies of small objects where they overlap nothing.
        copy_paste_max: at most this many pasted objects per image; copy_paste_max_size: only objects whose
            sqrt(area) is at most this many pixels are copied.
        random_interp: resize with a random interpolation method (nearest, linear, cubic, area, lanczos).
        sync_bn: convert BatchNorm to SyncBatchNorm under multi-GPU DDP.
    Selection:
        fitness: the validation metric that picks best.pt ('ultralytics', or a tinydet metric such as APs, APvt).
    """

    recipe: str = "default"
    box_loss: str = "ciou"
    nwd_c: float = 12.8
    nwd_ratio: float = 0.5
    assigner_metric: str = "iou"
    cls_loss: str = "bce"
    focal_gamma: float | None = None
    focal_alpha: float | None = None
    label_smoothing: float = 0.0
    pose_box_gain: float = 0.01
    pose_dfl_gain: float = 0.01
    geo_mixup: float = 0.0
    small_copy_paste: float = 0.0
    copy_paste_max: int = 10
    copy_paste_max_size: float = 32.0
    random_interp: bool = False
    sync_bn: bool = True
    fitness: str = FITNESS_DEFAULT
    ultralytics: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        choices = {"recipe": RECIPES, "box_loss": BOX_LOSSES, "cls_loss": CLS_LOSSES, "assigner_metric": ASSIGNER_METRICS}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise TinydetError(f"{name} must be one of {', '.join(allowed)}, got '{getattr(self, name)}'")
        for name in ("geo_mixup", "small_copy_paste", "nwd_ratio"):
            if not 0.0 <= float(getattr(self, name)) <= 1.0:
                raise TinydetError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise TinydetError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if self.nwd_c <= 0:
            raise TinydetError(f"nwd_c must be positive, got {self.nwd_c}")
        if (self.focal_gamma is not None and self.focal_gamma < 0) or (
            self.focal_alpha is not None and not 0 <= self.focal_alpha <= 1
        ):
            raise TinydetError("focal_gamma must be >= 0 and focal_alpha in [0, 1]")
        if not isinstance(self.ultralytics, dict):
            raise TinydetError("'ultralytics' must be a mapping of ultralytics train arguments")

    @property
    def changes_losses(self) -> bool:
        default = Recipe()
        keys = ("box_loss", "assigner_metric", "cls_loss", "label_smoothing")
        return any(getattr(self, k) != getattr(default, k) for k in keys)

    @property
    def changes_augmentation(self) -> bool:
        return self.geo_mixup > 0 or self.small_copy_paste > 0 or self.random_interp

    def changed_options(self) -> dict[str, Any]:
        """The options that differ from the defaults (what makes this run a recipe)."""
        default = Recipe()
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) != getattr(default, f.name)}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "recipe") -> Recipe:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise TinydetError(f"{source}: unknown recipe option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**data)


def load_recipe_file(path: str | Path) -> Recipe:
    """A recipe YAML: tinydet options at the top level, ultralytics arguments under `ultralytics:`."""
    path = Path(path)
    if not path.is_file():
        raise TinydetError(f"recipe file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise TinydetError(f"{path}: not valid YAML ({e})") from None
    if not isinstance(data, dict):
        raise TinydetError(f"{path}: a recipe file is a mapping of options")
    return Recipe.from_dict(data, source=str(path))
