"""Training recipes as data: every tinydet option of a run, validated, saved with the run, loadable from YAML.

`Recipe` is a dataclass made from the options table (tinydet/train/options.py: its "recipe" rows, each with
its type, default, range and help), plus `ultralytics`: ultralytics' own knobs (cos_lr, warmup_epochs, nbs,
multi_scale, mixup, ...), which pass through unchanged (`tinydet train --set key=value`, or an `ultralytics:`
block in a recipe file). Two ultralytics knobs are surfaced as documented options: class_weight_power (its
cls_pw) and albumentations (its `augmentations` argument, which has no command-line form in ultralytics).
Each option is checked against its table row; the checks that involve several options are below.
"""

from __future__ import annotations

from dataclasses import MISSING, asdict, field, fields, make_dataclass
from pathlib import Path
from typing import Any

import yaml

from tinydet.data.synth import parse_size
from tinydet.errors import TinydetError
from tinydet.eval.result import metric_names
from tinydet.infer.sliced import SliceOptions
from tinydet.train.options import FITNESS_DEFAULT, RECIPE_OPTIONS, option

RECIPES = option("recipe").choices
CLS_LOSSES = option("cls_loss").choices
ASSIGNER_METRICS = option("assigner_metric").choices
ASSIGNERS = option("assigner").choices
PROBABILITIES = ("ssd_expand", "ssd_crop", "scale_jitter", "erase")  # the toolbox's per-image augmentations
LOSS_OPTIONS = ("box_loss", "assigner_metric", "assigner", "atss_topk", "tal_alpha", "tal_beta", "tal_topk",
                "cls_loss", "label_smoothing")
SLICED_VAL_EXTRAS = ("val_overlap", "val_slice_imgsz", "val_merge", "val_slice_every")


class RecipeChecks:
    """The behaviour of `Recipe` (its fields come from the options table)."""

    def __post_init__(self) -> None:
        for o in RECIPE_OPTIONS:
            o.check(getattr(self, o.name))
        if not isinstance(self.ultralytics, dict):
            raise TinydetError("'ultralytics' must be a mapping of ultralytics train arguments")
        self._check_toolbox()
        self._check_assigner()
        self._check_selection()
        self._check_distill()

    def _check_assigner(self) -> None:
        if self.assigner == "atss" and self.assigner_metric != "iou":
            raise TinydetError("assigner_metric applies to the task-aligned assigner (assigner: tal); "
                               "ATSS ranks anchors by their IoU with the box")

    def _check_selection(self) -> None:
        """fitness names a metric; the sliced-validation options are valid and only given with val_slice."""
        if self.fitness != FITNESS_DEFAULT and self.fitness not in metric_names():
            raise TinydetError(f"fitness must be '{FITNESS_DEFAULT}' or a tinydet metric "
                               f"({', '.join(metric_names())}), got '{self.fitness}'")
        if self.val_slice is None:
            given = [name for name in SLICED_VAL_EXTRAS if getattr(self, name) != _DEFAULTS[name]]
            if given:
                raise TinydetError(f"{', '.join(given)}: only used by sliced validation; "
                                   "add val_slice (--val-slice W[xH])")
            return
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
        if self.distill_from and self.recipe == "pose-aux":
            raise TinydetError("distillation runs with the default recipe, not pose-aux")

    def _check_toolbox(self) -> None:
        if not self.scale_jitter_min <= 1 <= self.scale_jitter_max:
            raise TinydetError("scale_jitter_min and scale_jitter_max must satisfy 0 < min <= 1 <= max, got "
                               f"{self.scale_jitter_min} and {self.scale_jitter_max}")
        if self.albumentations is not None and not isinstance(self.albumentations, (str, list)):
            raise TinydetError("albumentations must be the path of a YAML file or a list of transforms")
        if self.class_weight_power > 0 and "cls_pw" in self.ultralytics:
            raise TinydetError("give class weights once: class_weight_power or ultralytics' cls_pw, not both")

    @property
    def changes_losses(self) -> bool:
        return any(getattr(self, k) != _DEFAULTS[k] for k in LOSS_OPTIONS)

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
    def from_dict(cls, data: dict[str, Any], source: str = "recipe"):
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise TinydetError(f"{source}: unknown recipe option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**data)


def _annotation(o) -> str:
    return o.kind.__name__ + (" | None" if o.nullable else "")


Recipe = make_dataclass(
    "Recipe",
    [(o.name, _annotation(o), field(default=o.default)) for o in RECIPE_OPTIONS]
    + [("ultralytics", "dict[str, Any]", field(default_factory=dict))],
    bases=(RecipeChecks,),
)
Recipe.__module__ = __name__  # pickled by name (DDP launches, run records): tinydet.train.recipe.Recipe
Recipe.__doc__ = "tinydet's training options (ultralytics' own arguments live in `ultralytics`):\n\n" + "\n".join(
    f"    {o.name}: {o.help} (default {o.default!r})" for o in RECIPE_OPTIONS)

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
