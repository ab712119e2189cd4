"""Training recipes as data: every tinydet option of a run, validated, saved with the run, loadable from YAML.

Ultralytics' own knobs (cos_lr, warmup_epochs, nbs, multi_scale, mixup, ...) are not repeated here: they pass
through unchanged (`tinydet train --set key=value`, or an `ultralytics:` block in a recipe file). Two are
surfaced as documented options: class_weight_power (ultralytics' cls_pw) and albumentations (its
`augmentations` argument, which has no command-line form in ultralytics).
"""

from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from tinydet.errors import TinydetError

from tinydet.train.erase import FILLS as ERASE_FILLS
from tinydet.train.losses import BOX_LOSSES, CLS_LOSS_DEFAULTS

RECIPES = ("default", "pose-aux")
CLS_LOSSES = tuple(CLS_LOSS_DEFAULTS)
ASSIGNER_METRICS = ("iou", "nwd")
ASSIGNERS = ("tal", "atss")
PROBABILITIES = ("ssd_expand", "ssd_crop", "scale_jitter", "erase")  # the toolbox's per-image augmentations
FITNESS_DEFAULT = "ultralytics"  # ultralytics' own: 0.1 mAP50 + 0.9 mAP50-95 (box metrics for pose-aux)


@dataclass
class Recipe:
    """tinydet's training options (ultralytics' own arguments live in `ultralytics`).

    Losses (installed at train time, so checkpoints of stock architectures stay stock):
        box_loss: ciou | diou | giou | nwd | nwd-ciou (blend: nwd_ratio * NWD + (1 - nwd_ratio) * CIoU).
        nwd_c: NWD's normalising constant C in pixels (Wang et al. 2021 use 12.8 on AI-TOD).
        assigner_metric: iou (CIoU, ultralytics' default) or nwd in the task-aligned assigner's alignment metric.
        assigner: tal (ultralytics' task-aligned assigner) or atss (Zhang et al. 2020, tinydet/train/atss.py: per
            level the atss_topk anchors nearest each box centre, IoU threshold mean + std of theirs). YOLO26's
            one-to-one branch keeps TAL (it needs one positive per object); its one-to-many branch gets ATSS.
        tal_alpha, tal_beta: exponents of the task-aligned metric score^alpha * IoU^beta (ultralytics: 0.5, 6.0).
        tal_topk: candidates per box of the task-aligned assigner (ultralytics: 10; YOLO26's one-to-one branch
            keeps its own 7 / 1).
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
    Toolbox augmentations (docs/toolbox.md; each a probability per loaded image, 0 = off):
        ssd_expand: SSD zoom-out: the image on a mean-colour canvas up to ssd_expand_max times larger, resized back.
        ssd_crop: SSD minimum-IoU random crop, resized back to the input's long side; ssd_crop_min_scale: the
            smallest crop side as a fraction of the image side.
        scale_jitter: rescale by s ~ U(scale_jitter_min, scale_jitter_max), never shrinking an object below
            min_object_size.
        min_object_size: px (sqrt(w * h)); ssd_expand and scale_jitter never shrink an object below it, and
            never shrink an image whose smallest object is already smaller. 0 turns the limit off.
        erase: random erasing of erase_holes rectangles (area fraction up to erase_max_area each), filled with
            erase_fill (noise | grey); an object with less than erase_min_visible of its box left loses its label.
    Data and loss:
        albumentations: an albumentations pipeline for ultralytics' `augmentations` argument: the path of a YAML
            list of transforms, or the list itself (see tinydet/train/albumentations_yaml.py).
        repeat_factor_t: repeat-factor sampling threshold t (Gupta et al. 2019); 0 = off.
        class_weight_power: ultralytics' cls_pw: classification loss weights (1 / n_c) ** power, mean 1; 0 = off.
    Distillation (tinydet/compress/distill.py, docs/compress.md):
        distill_from: a trained tinydet/ultralytics detection checkpoint (same classes) to distil from; None = off.
        distill_logit: weight of the class and box-distribution KL terms; distill_feature: weight of the neck
            feature MSE; distill_t: the KL temperature.
    Selection:
        fitness: the validation metric that picks best.pt and drives early stopping ('ultralytics': 0.1 AP50 +
            0.9 AP, or a tinydet metric such as APs, APvt; see tinydet.eval.result.metric_names()).
    Sliced validation (tinydet/train/sliced_val.py; off while val_slice is None):
        val_slice: tile size "W" or "WxH" in pixels; after ultralytics' validation of an epoch, the EMA model also
            predicts the val split sliced into these tiles (as `tinydet val --slice`), and `fitness` is computed
            on those predictions: best.pt and early stopping follow the sliced numbers.
        val_overlap: overlap ratio of the tiles, [0, 0.9] (`tinydet val --overlap`, default 0.2).
        val_slice_imgsz: network input of a tile, px (None: each tile at its own size, as `tinydet val --slice`).
        val_merge: how tile predictions are merged (None: sliced prediction's default, greedy-nmm).
        val_slice_every: validate sliced every this many epochs (and always at the last); other epochs get no
            fitness, so they cannot become best.pt.
    """

    recipe: str = "default"
    box_loss: str = "ciou"
    nwd_c: float = 12.8
    nwd_ratio: float = 0.5
    assigner_metric: str = "iou"
    assigner: str = "tal"
    atss_topk: int = 9
    tal_alpha: float = 0.5
    tal_beta: float = 6.0
    tal_topk: int = 10
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
    ssd_expand: float = 0.0
    ssd_expand_max: float = 4.0
    ssd_crop: float = 0.0
    ssd_crop_min_scale: float = 0.3
    scale_jitter: float = 0.0
    scale_jitter_min: float = 0.5
    scale_jitter_max: float = 1.5
    min_object_size: float = 8.0
    erase: float = 0.0
    erase_holes: int = 1
    erase_max_area: float = 0.2
    erase_min_visible: float = 0.5
    erase_fill: str = "noise"
    albumentations: str | list | None = None
    repeat_factor_t: float = 0.0
    class_weight_power: float = 0.0
    distill_from: str | None = None
    distill_logit: float = 1.0
    distill_feature: float = 1.0
    distill_t: float = 2.0
    fitness: str = FITNESS_DEFAULT
    val_slice: str | None = None
    val_overlap: float = 0.2
    val_slice_imgsz: int | None = None
    val_merge: str | None = None
    val_slice_every: int = 1
    ultralytics: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        choices = {"recipe": RECIPES, "box_loss": BOX_LOSSES, "cls_loss": CLS_LOSSES, "assigner_metric": ASSIGNER_METRICS,
                   "assigner": ASSIGNERS,
                   "erase_fill": ERASE_FILLS}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise TinydetError(f"{name} must be one of {', '.join(allowed)}, got '{getattr(self, name)}'")
        for name in ("geo_mixup", "small_copy_paste", "nwd_ratio", *PROBABILITIES, "erase_min_visible", "repeat_factor_t",
                     "class_weight_power"):
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
        self._check_toolbox()
        self._check_assigner()
        self._check_selection()
        self._check_distill()
        if not isinstance(self.ultralytics, dict):
            raise TinydetError("'ultralytics' must be a mapping of ultralytics train arguments")

    def _check_assigner(self) -> None:
        for name in ("atss_topk", "tal_topk"):
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value or value < 1:
                raise TinydetError(f"{name} must be a whole number >= 1, got {value}")
        for name in ("tal_alpha", "tal_beta"):
            if not 0 <= float(getattr(self, name)) <= 20:
                raise TinydetError(f"{name} must be in [0, 20], got {getattr(self, name)}")
        if self.assigner == "atss" and self.assigner_metric != "iou":
            raise TinydetError("assigner_metric applies to the task-aligned assigner (assigner: tal); "
                               "ATSS ranks anchors by their IoU with the box")

    def _check_selection(self) -> None:
        """fitness names a metric; the sliced-validation options are valid and only given with val_slice."""
        from tinydet.eval.result import metric_names

        if self.fitness != FITNESS_DEFAULT and self.fitness not in metric_names():
            raise TinydetError(f"fitness must be '{FITNESS_DEFAULT}' or a tinydet metric "
                               f"({', '.join(metric_names())}), got '{self.fitness}'")
        extras = ("val_overlap", "val_slice_imgsz", "val_merge", "val_slice_every")
        if self.val_slice is None:
            given = [name for name in extras if getattr(self, name) != _DEFAULTS[name]]
            if given:
                raise TinydetError(f"{', '.join(given)}: only used by sliced validation; "
                                   "add val_slice (--val-slice W[xH])")
            return
        from tinydet.data.synth import parse_size
        from tinydet.infer.sliced import SliceOptions

        every = self.val_slice_every
        if isinstance(every, bool) or int(every) != every or every < 1:
            raise TinydetError(f"val_slice_every must be a whole number >= 1, got {every}")
        try:
            w, h = parse_size(str(self.val_slice))
        except TinydetError as e:
            raise TinydetError(f"val_slice: {e}") from None
        self.val_slice = f"{w}x{h}"  # one spelling in tinydet_run.yaml, whatever was typed
        try:  # the sliced predictor's own checks: tile >= 16 px, overlap in [0, 1), imgsz >= 32, merge name
            SliceOptions(slice=(w, h), overlap=self.val_overlap, imgsz=self.val_slice_imgsz,
                         **({} if self.val_merge is None else {"merge": self.val_merge}))
        except TinydetError as e:
            raise TinydetError(f"sliced validation: {e}") from None

    def _check_distill(self) -> None:
        if self.distill_from is not None and not isinstance(self.distill_from, str):
            raise TinydetError("distill_from must be the path of a checkpoint")
        if self.distill_from and self.recipe == "pose-aux":
            raise TinydetError("distillation runs with the default recipe, not pose-aux")
        from tinydet.compress.distill import DistillOptions

        DistillOptions(self.distill_logit, self.distill_feature, self.distill_t)  # raises on bad values

    def _check_toolbox(self) -> None:
        if self.ssd_expand_max < 1:
            raise TinydetError(f"ssd_expand_max must be at least 1, got {self.ssd_expand_max}")
        if not 0 < self.ssd_crop_min_scale <= 1:
            raise TinydetError(f"ssd_crop_min_scale must be in (0, 1], got {self.ssd_crop_min_scale}")
        if not 0 < self.scale_jitter_min <= 1 <= self.scale_jitter_max:
            raise TinydetError("scale_jitter_min and scale_jitter_max must satisfy 0 < min <= 1 <= max, got "
                               f"{self.scale_jitter_min} and {self.scale_jitter_max}")
        if self.min_object_size < 0:
            raise TinydetError(f"min_object_size must be >= 0 px, got {self.min_object_size}")
        if int(self.erase_holes) != self.erase_holes or self.erase_holes < 1:
            raise TinydetError(f"erase_holes must be a whole number >= 1, got {self.erase_holes}")
        if not 0 < self.erase_max_area <= 1:
            raise TinydetError(f"erase_max_area must be in (0, 1], got {self.erase_max_area}")
        if self.albumentations is not None and not isinstance(self.albumentations, (str, list)):
            raise TinydetError("albumentations must be the path of a YAML file or a list of transforms")
        if self.class_weight_power > 0 and "cls_pw" in self.ultralytics:
            raise TinydetError("give class weights once: class_weight_power or ultralytics' cls_pw, not both")

    @property
    def changes_losses(self) -> bool:
        default = Recipe()
        keys = ("box_loss", "assigner_metric", "assigner", "atss_topk", "tal_alpha", "tal_beta", "tal_topk", "cls_loss",
                "label_smoothing")
        return any(getattr(self, k) != getattr(default, k) for k in keys)

    @property
    def changes_augmentation(self) -> bool:
        return self.geo_mixup > 0 or self.small_copy_paste > 0 or self.random_interp or any(
            getattr(self, name) > 0 for name in PROBABILITIES)

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


_DEFAULTS = {f.name: f.default for f in fields(Recipe) if f.default is not MISSING}


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
