"""Starting, resuming and inspecting ultralytics' trainers with a tinydet Recipe (what train/api.py calls)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ultralytics import YOLO
from ultralytics.utils import callbacks as ul_callbacks

from tinydet.errors import TinydetError
from tinydet.integrations.ultralytics.training.criterion import RecipeCallback
from tinydet.integrations.ultralytics.training.trainer import (
    RecipeDetectionTrainer,
    RecipePoseTrainer,
)
from tinydet.malloc import keep_freed_memory

# Extra ultralytics callbacks for one run, by event: {"on_fit_epoch_end": [fn, ...]}; each fn(trainer).
Callbacks = Mapping[str, Sequence[Callable[[Any], None]]]
TRAINERS = {"detect": RecipeDetectionTrainer, "pose": RecipePoseTrainer}


def run_trainer(model_path: str, recipe, args: dict[str, Any], callbacks: Callbacks | None = None) -> YOLO:
    """Train `model_path` (what YOLO() takes) with ultralytics' trainer for its task, carrying `recipe` (a
    tinydet Recipe); `args` are ultralytics train arguments. Returns the YOLO object (its `.trainer` holds the
    final metrics)."""
    keep_freed_memory()
    model = YOLO(model_path)
    if recipe.distill_from and model.task != "detect":
        raise TinydetError(f"distillation trains detect models, not {model.task}")
    for event, fns in (callbacks or {}).items():
        for fn in fns:
            model.add_callback(event, fn)
    if model.task not in TRAINERS:
        if recipe.changes_losses or recipe.changes_augmentation or recipe.fitness != "ultralytics" or recipe.val_slice:
            raise TinydetError(f"tinydet recipe options apply to detect and pose models, not {model.task}")
        model.train(**args)
        return model
    model.add_callback(RecipeCallback.event, RecipeCallback(recipe))
    model.train(trainer=TRAINERS[model.task], **args)
    return model


def resume_trainer(last: str, recipe) -> YOLO:
    """Continue the run whose weights/last.pt is `last`, with the recipe it was started with."""
    keep_freed_memory()
    model = YOLO(str(last))
    if model.task in TRAINERS:
        model.add_callback(RecipeCallback.event, RecipeCallback(recipe))
        model.train(resume=True, trainer=TRAINERS[model.task])
    else:
        model.train(resume=True)
    return model


def final_metrics(model: YOLO) -> dict[str, float]:
    """The numeric metrics ultralytics' trainer ended with (empty when it kept none)."""
    trainer = getattr(model, "trainer", None)
    if trainer is None or not getattr(trainer, "metrics", None):
        return {}
    return {k: float(v) for k, v in trainer.metrics.items() if isinstance(v, (int, float))}


def training_dataset(model_path: str, recipe, args: dict[str, Any], batch: int):
    """ultralytics' training dataset as a tinydet run builds it (the recipe's augmentation hook included), on the
    CPU without workers. Returns (dataset, class names)."""
    args = {**args, "model": model_path, "device": "cpu", "workers": 0, "plots": False}
    hooks = ul_callbacks.get_default_callbacks()
    hooks[RecipeCallback.event].append(RecipeCallback(recipe))
    trainer = RecipeDetectionTrainer(overrides=args, _callbacks=hooks)
    trainer.model = YOLO(model_path).model  # only its strides matter here
    dataset = trainer.build_dataset(trainer.data["train"], mode="train", batch=batch)
    return dataset, trainer.data["names"]
