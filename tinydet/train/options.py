"""Every training option, declared once: name, type, default, range or choices, help, group, where it applies.

The command-line flags of `tinydet train` (grouped in its --help), the fields of `TrainOptions` and `Recipe`,
the keys of recipe YAML files, the recipe knobs of `tinydet tune`'s default search space and the options table of
docs/training.md are all made from `OPTIONS` (tests check the docs table and the search space against it).
Light on purpose: the command line reads it without loading torch.

`where`: "run" (a field of TrainOptions), "recipe" (a field of Recipe, saved with the run and loadable from a
recipe file) or "cli" (a flag of the command only: it says where the options come from).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tinydet.errors import TinydetError

GROUPS = {
    "data": "data",
    "model": "model",
    "losses": "losses and assignment",
    "augmentation": "augmentation (tinydet's own, before ultralytics' pipeline; docs/toolbox.md)",
    "sampling": "sampling",
    "validation": "validation and the choice of best.pt",
    "compression": "compression (distillation, docs/compress.md)",
    "run": "run",
}


@dataclass(frozen=True)
class Option:
    """One option. `low`/`high`: allowed range (inclusive unless `open_low`/`open_high`); `choices`: allowed
    values; `integer`: whole numbers only; `nullable`: None allowed (and the default where `default` is None);
    `search`: the default search range of `tinydet tune` ({"type": float, "low": ..., "high": ...}, or choices)."""

    name: str
    kind: type
    default: Any
    help: str
    group: str
    where: str = "recipe"
    choices: tuple = ()
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False
    integer: bool = False
    nullable: bool = False
    metavar: str | None = None
    search: dict | None = None
    flag: str | None = None  # the command-line flag when it is not --<name with dashes>

    @property
    def cli_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    def check(self, value: Any) -> Any:
        """`value` when it is allowed (ints are accepted for floats), else a TinydetError naming the option."""
        if value is None:
            if self.nullable:
                return None
            raise TinydetError(f"{self.name} needs a value")
        if self.kind is bool:
            if not isinstance(value, bool):
                raise TinydetError(f"{self.name} must be true or false, got {value!r}")
            return value
        if self.choices and value not in self.choices:
            raise TinydetError(f"{self.name} must be one of {', '.join(map(str, self.choices))}, got '{value}'")
        if self.kind in (int, float):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TinydetError(f"{self.name} must be a number, got {value!r}")
            if self.integer and int(value) != value:
                raise TinydetError(f"{self.name} must be a whole number, got {value}")
            low_bad = self.low is not None and (value <= self.low if self.open_low else value < self.low)
            high_bad = self.high is not None and (value >= self.high if self.open_high else value > self.high)
            if low_bad or high_bad:
                raise TinydetError(f"{self.name} must be {self.range_text()}, got {value}")
        return value

    def range_text(self) -> str:
        """'in [0, 1]', 'at least 1', ... as the docs and errors say it."""
        if self.low is not None and self.high is not None:
            return f"in {'(' if self.open_low else '['}{self.low:g}, {self.high:g}{')' if self.open_high else ']'}"
        if self.low is not None:
            return f"{'above' if self.open_low else 'at least'} {self.low:g}"
        if self.high is not None:
            return f"{'below' if self.open_high else 'at most'} {self.high:g}"
        return ""


def _p(name: str, default: float, help: str, group: str = "augmentation", **kw) -> Option:
    """A probability (or another fraction) in [0, 1]."""
    return Option(name, float, default, help, group, low=0.0, high=1.0, **kw)


FITNESS_DEFAULT = "ultralytics"  # ultralytics' own: 0.1 mAP50 + 0.9 mAP50-95 (box metrics for pose-aux)

OPTIONS: tuple[Option, ...] = (
    # data
    Option("data", str, None, "dataset: YOLO data.yaml, COCO .json, or a VOC/VisDrone folder (non-YOLO data is "
           "converted into RUN/data first)", "data", "run", nullable=True),
    Option("skip_bad", bool, False, "warn about bad labels/images and train on a cleaned copy (RUN/data) instead of "
           "stopping", "data", "run"),
    # model
    Option("model", str, "yolov8n", "zoo name (see `tinydet models`), model YAML or .pt checkpoint", "model", "run"),
    Option("recipe", str, "default", "default | pose-aux: train the config's pose twin on box-centre keypoints with "
           "low box/DFL gains, then convert to a detect model with zero inference overhead (weights/best_detect.pt)",
           "model", choices=("default", "pose-aux")),
    # losses and assignment
    Option("box_loss", str, "ciou", "box regression loss: ciou | diou | giou | nwd | nwd-ciou (NWD: Wang et al. 2021)",
           "losses", choices=("ciou", "diou", "giou", "nwd", "nwd-ciou"), search={"type": "categorical", "choices": ["ciou", "nwd", "nwd-ciou"]}),
    Option("nwd_c", float, 12.8, "NWD's normalising constant C in pixels (Wang et al. 2021 use 12.8 on AI-TOD)",
           "losses", low=0.0, open_low=True, search={"type": "float", "low": 4.0, "high": 32.0, "log": True}),
    _p("nwd_ratio", 0.5, "weight of NWD in the nwd-ciou blend (the rest is CIoU)", "losses",
       search={"type": "float", "low": 0.2, "high": 0.8}),
    Option("assigner_metric", str, "iou", "localisation term of the task-aligned assigner: iou (CIoU, ultralytics') "
           "or nwd", "losses", choices=("iou", "nwd")),
    Option("assigner", str, "tal", "which anchors learn each box: tal (ultralytics' task-aligned) or atss (adaptive "
           "training sample selection, Zhang et al. 2020; YOLO26's one-to-one branch keeps TAL)", "losses",
           choices=("tal", "atss")),
    Option("atss_topk", int, 9, "ATSS: candidate anchors per pyramid level and box", "losses", low=1, integer=True),
    Option("tal_alpha", float, 0.5, "task-aligned assigner: exponent of the class score", "losses", low=0, high=20),
    Option("tal_beta", float, 6.0, "task-aligned assigner: exponent of the IoU", "losses", low=0, high=20),
    Option("tal_topk", int, 10, "task-aligned assigner: candidates per box (YOLO26's one-to-one branch keeps its "
           "own)", "losses", low=1, integer=True),
    Option("cls_loss", str, "bce", "classification loss: bce | focal | varifocal | qfl", "losses",
           choices=("bce", "focal", "varifocal", "qfl"),
           search={"type": "categorical", "choices": ["bce", "focal", "varifocal", "qfl"]}),
    Option("focal_gamma", float, None, "gamma of focal / varifocal / qfl (None: the paper's, 2.0)", "losses", low=0,
           nullable=True),
    Option("focal_alpha", float, None, "alpha of focal / varifocal (None: the paper's, 0.25 / 0.75)", "losses",
           low=0, high=1, nullable=True),
    Option("label_smoothing", float, 0.0, "EPS: classification targets t -> t(1 - EPS) + EPS/2", "losses", low=0,
           high=1, open_high=True, search={"type": "float", "low": 0.0, "high": 0.1}),
    Option("class_weight_power", float, 0.0, "ultralytics' cls_pw: classification loss weights (1/n_c)^P, mean 1 "
           "(0 = off)", "losses", low=0, high=1),
    Option("pose_box_gain", float, 0.01, "pose-aux: box loss gain of the pose run (seed 000: 0.01)", "losses"),
    Option("pose_dfl_gain", float, 0.01, "pose-aux: DFL loss gain of the pose run (seed 000: 0.01)", "losses"),
    # augmentation
    _p("geo_mixup", 0.0, "probability of geometry-preserving mixup, ratio ~ Beta(1.5, 1.5)",
       search={"type": "float", "low": 0.0, "high": 0.5}),
    _p("small_copy_paste", 0.0, "probability per image of pasting copies of small objects where they overlap "
       "nothing", search={"type": "float", "low": 0.0, "high": 0.8}),
    Option("copy_paste_max", int, 10, "at most this many pasted objects per image", "augmentation", low=0,
           integer=True),
    Option("copy_paste_max_size", float, 32.0, "paste only objects with sqrt(area) at most this (px)",
           "augmentation", low=0),
    Option("random_interp", bool, False, "resize training images with a random interpolation method",
           "augmentation"),
    _p("ssd_expand", 0.0, "probability of SSD zoom-out: a mean-colour canvas up to ssd_expand_max times larger, "
       "resized back"),
    Option("ssd_expand_max", float, 4.0, "largest SSD expand ratio", "augmentation", low=1),
    _p("ssd_crop", 0.0, "probability of SSD's minimum-IoU random crop, resized back to the long side"),
    Option("ssd_crop_min_scale", float, 0.3, "smallest crop side as a fraction of the image's", "augmentation",
           low=0, high=1, open_low=True),
    _p("scale_jitter", 0.0, "probability of rescaling by s ~ U(scale_jitter_min, scale_jitter_max)"),
    Option("scale_jitter_min", float, 0.5, "lower end of the scale range", "augmentation", low=0, high=1,
           open_low=True),
    Option("scale_jitter_max", float, 1.5, "upper end of the scale range", "augmentation", low=1),
    Option("min_object_size", float, 8.0, "px, sqrt(w*h): SSD expand and scale jitter never shrink an object below "
           "it (0 = no limit)", "augmentation", low=0),
    _p("erase", 0.0, "probability of random erasing; objects left with less than erase_min_visible of their box "
       "lose their label"),
    Option("erase_holes", int, 1, "rectangles erased per image", "augmentation", low=1, integer=True),
    Option("erase_max_area", float, 0.2, "largest hole as a fraction of the image area", "augmentation", low=0,
           high=1, open_low=True),
    _p("erase_min_visible", 0.5, "visible fraction below which an erased object loses its label"),
    Option("erase_fill", str, "noise", "what fills an erased hole: noise | grey", "augmentation",
           choices=("noise", "grey")),
    Option("albumentations", str, None, "YAML file with a list of albumentations transforms, for ultralytics' "
           "augmentations argument (needs albumentations installed); in a recipe file, the list itself",
           "augmentation", nullable=True, metavar="FILE"),
    # sampling
    _p("repeat_factor_t", 0.0, "repeat-factor sampling threshold t (LVIS, Gupta et al. 2019): images with rare "
       "classes repeated max(1, sqrt(t/f)) times (0 = off)", "sampling"),
    # validation and best.pt
    Option("fitness", str, FITNESS_DEFAULT, "metric that picks best.pt and drives early stopping: ultralytics "
           "(0.1 AP50 + 0.9 AP) or a tinydet metric, e.g. APs; on sliced predictions with val_slice", "validation"),
    Option("val_slice", str, None, "after each validation also predict the val split in tiles of this size (as "
           "`tinydet val --slice`); best.pt and early stopping follow the fitness of those predictions",
           "validation", nullable=True, metavar="W[xH]"),
    Option("val_overlap", float, 0.2, "overlap ratio of the validation tiles", "validation", low=0, high=0.9,
           metavar="R"),
    Option("val_slice_imgsz", int, None, "network input of a validation tile in px (None: the tile's own size)",
           "validation", low=32, integer=True, nullable=True, metavar="PX"),
    Option("val_merge", str, None, "how validation tile predictions are merged (None: greedy-nmm)", "validation",
           nullable=True, metavar="NAME"),
    Option("val_slice_every", int, 1, "validate sliced every K epochs and at the last; other epochs cannot become "
           "best.pt", "validation", low=1, integer=True, metavar="K"),
    Option("patience", int, 100, "stop after this many epochs without improvement", "validation", "run", low=0,
           integer=True),
    # compression
    Option("distill_from", str, None, "teacher checkpoint (.pt, same classes) to distil from", "compression",
           nullable=True, metavar="PT"),
    Option("distill_logit", float, 1.0, "weight of the class + box-distribution KL terms", "compression", low=0),
    Option("distill_feature", float, 1.0, "weight of the neck feature MSE term", "compression", low=0),
    Option("distill_t", float, 2.0, "temperature of the KL terms", "compression", low=0, open_low=True),
    # run
    Option("epochs", int, 100, "training epochs", "run", "run", low=1, integer=True),
    Option("imgsz", int, 640, "training image size in pixels", "run", "run", low=32, integer=True),
    Option("batch", int, 16, "images per batch", "run", "run", low=1, integer=True),
    Option("out", str, "runs/train", "run folder to create (must be new)", "run", "run"),
    Option("seed", int, 0, "seed of every random draw", "run", "run", integer=True),
    Option("deterministic", bool, True, "deterministic torch algorithms (ultralytics' deterministic)", "run", "run",
           flag="--no-deterministic"),
    Option("device", str, None, "cpu, 0, 0,1 ... (None: the first GPU if any, else cpu)", "run", "run",
           nullable=True),
    Option("workers", int, 4, "dataloader workers (ultralytics uses 0 on CPU)", "run", "run", low=0, integer=True),
    Option("sync_bn", bool, True, "SyncBatchNorm under multi-GPU DDP", "run", flag="--no-sync-bn"),
    Option("resume", str, None, "continue an interrupted run", "run", "cli", nullable=True, metavar="RUN_DIR"),
    Option("recipe_file", str, None, "YAML recipe (these options by name, plus an 'ultralytics:' mapping; e.g. the "
           "best trial of `tinydet tune`); the flags given win", "run", "cli", nullable=True, metavar="FILE"),
)

BY_NAME = {o.name: o for o in OPTIONS}
RECIPE_OPTIONS = tuple(o for o in OPTIONS if o.where == "recipe")
RUN_OPTIONS = tuple(o for o in OPTIONS if o.where == "run")


def option(name: str) -> Option:
    return BY_NAME[name]


def defaults(where: str) -> dict[str, Any]:
    """{name: default} of the options of `where` ('run' or 'recipe')."""
    return {o.name: o.default for o in OPTIONS if o.where == where}


# ------------------------------------------------------------------------------------------------- documentation
def _default_text(o: Option) -> str:
    if o.default is None:
        return "none"
    return str(o.default).lower() if isinstance(o.default, bool) else str(o.default)


def _allowed_text(o: Option) -> str:
    if o.choices:
        return " \\| ".join(map(str, o.choices))
    if o.kind is bool:
        return "true \\| false"
    text = o.range_text()
    return f"{'whole number ' if o.integer else ''}{text}".strip()


def markdown_table() -> str:
    """The options table of docs/training.md, grouped as `tinydet train --help` groups the flags."""
    lines = []
    for key, title in GROUPS.items():
        lines += [f"**{title}**", "", "| option | flag | default | allowed | what it does |", "|---|---|---|---|---|"]
        for o in OPTIONS:
            if o.group == key:
                text = o.help.replace("|", "\\|")
                lines.append(f"| `{o.name}` | `{o.cli_flag}` | {_default_text(o)} | {_allowed_text(o)} | {text} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def search_space() -> dict[str, dict]:
    """The recipe knobs of tune's default space: {name: spec} (type, low/high/log or choices, target recipe)."""
    return {o.name: {**o.search, "target": "recipe"} for o in RECIPE_OPTIONS if o.search}


if __name__ == "__main__":  # pragma: no cover - `python -m tinydet.train.options` prints the docs table
    print(markdown_table(), end="")
