"""ultralytics' detection and pose trainers running a tinydet Recipe: its criterion, validator, augmentation,
SyncBN, pruned-checkpoint fine-tuning, distillation, sliced validation for best.pt, atomic checkpoints."""

from __future__ import annotations

import os
from copy import copy, deepcopy

import torch
import ultralytics.utils as ul_utils
from ultralytics.models.yolo.detect import DetectionTrainer
from ultralytics.models.yolo.pose import PoseTrainer
from ultralytics.utils import LOGGER
from ultralytics.utils.torch_utils import unwrap_model

from tinydet.errors import TinydetError
from tinydet.integrations.ultralytics.checkpoints import (
    PRUNED_MARK,
    load_detection_checkpoint,
)
from tinydet.integrations.ultralytics.training.augment import RecipeAugmentation
from tinydet.integrations.ultralytics.training.criterion import find_recipe
from tinydet.integrations.ultralytics.training.distill import (
    AdaptersAlongside,
    DistillCriterion,
    Distiller,
)
from tinydet.integrations.ultralytics.training.validator import (
    SmallObjectDetectionValidator,
    SmallObjectPoseValidator,
)
from tinydet.train.distill import DistillOptions
from tinydet.train.recipe import Recipe
from tinydet.train.sliced_val import SlicedValSettings, skipped_columns, sliced_validate
from tinydet.train.syncbn import to_sync_batchnorm


class _RecipeTrainerMixin:
    """Trainer add-on: reads the Recipe carried by the callbacks and uses tinydet's validator."""

    validator_class = SmallObjectDetectionValidator

    def __init__(self, cfg=ul_utils.DEFAULT_CFG, overrides=None, _callbacks=None):
        super().__init__(cfg, overrides, _callbacks)
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
            self.model = to_sync_batchnorm(self.model)

    def build_dataset(self, img_path, mode="train", batch=None):
        dataset = super().build_dataset(img_path, mode, batch)
        if mode == "train" and self.recipe.changes_augmentation:
            dataset.get_image_and_label = RecipeAugmentation(dataset, self.recipe)
        return dataset

    def get_validator(self):
        validator = self.validator_class(self.test_loader, save_dir=self.save_dir, args=copy(self.args),
                                         _callbacks=self.callbacks)
        validator.fitness_key = self.recipe.fitness
        return validator


class _CompressTrainerMixin:
    """Trainer add-on: fine-tunes pruned checkpoints as they are, and distils from `recipe.distill_from`."""

    def get_model(self, cfg=None, weights=None, verbose=True):
        """A pruned checkpoint is trained as it is: ultralytics would rebuild the model from its YAML and load
        the weights that fit, silently undoing the pruning."""
        if isinstance(weights, torch.nn.Module) and getattr(weights, PRUNED_MARK, False):
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
        student = unwrap_model(model)
        teacher = load_detection_checkpoint(recipe.distill_from).to(next(student.parameters()).device)
        options = DistillOptions(recipe.distill_logit, recipe.distill_feature, recipe.distill_t)
        self.distiller = Distiller(teacher, student, options, imgsz=int(max(student.stride.max().item(), 32)) * 2)
        LOGGER.info(f"tinydet distillation from {recipe.distill_from} at strides {self.distiller.strides}")
        return super().build_optimizer(AdaptersAlongside(student, self.distiller.adapters), *args, **kwargs)

    def _install_distillation(self, trainer) -> None:
        distiller = getattr(self, "distiller", None)
        if distiller is None:
            return
        student = unwrap_model(self.model)
        if isinstance(getattr(student, "criterion", None), DistillCriterion):
            return
        base = student.criterion if getattr(student, "criterion", None) is not None else student.init_criterion()
        student.criterion = DistillCriterion(base, distiller)

    def _setup_train(self):
        self.add_callback("on_pretrain_routine_end", self._install_distillation)  # after RecipeCallback's
        super()._setup_train()


# ultralytics 8.4.190's BaseTrainer._do_train: `self.metrics, self.fitness = self.validate()`, then save_metrics
# (results.csv), the EarlyStopping stopper (fitness None = not measured) and save_model (best.pt when
# best_fitness == fitness); final_eval() validates best.pt whole.
class _SlicedValidationMixin:
    """Trainer add-on (needs `self.recipe`): with recipe.val_slice, each validation also runs sliced validation of
    the EMA model on rank 0, adds `sliced/...` columns to the metrics, and its fitness replaces ultralytics' for
    best.pt and early stopping; final_eval also reports best.pt sliced."""

    def _sliced_settings(self):
        return SlicedValSettings.from_recipe(self.recipe)

    def validate(self):
        settings = self._sliced_settings()
        if settings is None:
            return super().validate()
        best = self.best_fitness
        metrics, fitness = super().validate()
        self.best_fitness = best  # super() counted its whole-image fitness; only the sliced one may set best.pt
        if metrics is None or ul_utils.RANK not in {-1, 0}:
            return metrics, fitness
        if not settings.due(self.epoch, self.epoch + 1 >= self.epochs):
            return {**metrics, **skipped_columns()}, None  # None: this epoch cannot become best.pt
        result = sliced_validate(self.ema.ema, self.args.data, settings, device=self.device, progress=True,
                                 log=LOGGER.info)
        if self.best_fitness is None or self.best_fitness < result.fitness:
            self.best_fitness = result.fitness
        return {**metrics, **result.columns()}, result.fitness

    def final_eval(self):
        super().final_eval()
        settings = self._sliced_settings()
        if settings is None or ul_utils.RANK not in {-1, 0} or not self.best.exists():
            return
        LOGGER.info(f"\nValidating {self.best} sliced...")
        result = sliced_validate(self.best, self.args.data, settings, device=self.device, progress=True,
                                 log=LOGGER.info)
        self.metrics = {**(self.metrics or {}), **result.columns()}


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
                             _RecipeTrainerMixin, DetectionTrainer):
    """ultralytics' DetectionTrainer running a tinydet Recipe."""


class RecipePoseTrainer(_AtomicCheckpointMixin, _SlicedValidationMixin, _RecipeTrainerMixin, PoseTrainer):
    """ultralytics' PoseTrainer running a tinydet Recipe (the pose-aux recipe trains with this)."""

    validator_class = SmallObjectPoseValidator
