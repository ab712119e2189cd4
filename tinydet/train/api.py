"""Training entry point: checks the inputs, then runs ultralytics' trainer into one run folder (train/run.py).

    train(TrainOptions(data="data.yaml", model="yolov8n-p2", recipe=Recipe(box_loss="nwd"))) -> TrainResult
    resume("runs/train") -> TrainResult
"""

from __future__ import annotations

import warnings
from pathlib import Path

from tinydet.data.datayaml import split_images
from tinydet.errors import TinydetError
from tinydet.infer.device import resolve_device
from tinydet.integrations.ultralytics.arguments import check_override_keys
from tinydet.integrations.ultralytics.checkpoints import training_finished
from tinydet.integrations.ultralytics.training.run import (
    Callbacks,
    final_metrics,
    resume_trainer,
    run_trainer,
)
from tinydet.models.zoo import resolve_model
from tinydet.train.pose_aux_run import finish_pose_aux, train_pose_aux
from tinydet.train.recipe import Recipe
from tinydet.train.run import (
    RUN_FILE,
    TrainOptions,
    TrainResult,
    check_new_run_dir,
    few_updates_warning,
    load_run_recipe,
    prepare_data,
    removed_on_failure,
    sampled_data,
    saved_nothing,
    ultralytics_args,
    with_inline_albumentations,
    with_resolved_teacher,
    write_run_record,
)

__all__ = ["RUN_FILE", "Recipe", "TrainOptions", "TrainResult", "resume", "train"]


def train(opts: TrainOptions, callbacks: Callbacks | None = None) -> TrainResult:
    """Train `opts.model` on `opts.data` with `opts.recipe`; returns the run folder, checkpoints and metrics.

    `callbacks` are extra ultralytics callbacks for this run (e.g. `tinydet tune`'s per-epoch pruning); a
    callback may end training early by setting `trainer.stop = True`.
    """
    out = Path(opts.out).expanduser().resolve()
    check_new_run_dir(out)
    model_path = resolve_model(opts.model)  # cheap checks first: a typo fails before the data is read
    if opts.device is not None:
        for device in str(opts.device).split(","):
            resolve_device(device)
    check_override_keys({**opts.recipe.ultralytics, **opts.overrides})
    opts = with_resolved_teacher(with_inline_albumentations(opts))
    with removed_on_failure(out):
        data, _ = prepare_data(opts.data, out, opts.skip_bad)
        if opts.recipe.recipe == "pose-aux":
            return train_pose_aux(opts, data, out, callbacks)
        data = sampled_data(opts, data, out)
        args = ultralytics_args(opts, data.yaml_path, out)
        few = few_updates_warning(len(split_images(data.splits["train"])), args["batch"], args.get("nbs", 64),
                                  opts.epochs, args.get("warmup_epochs", 3.0))  # ultralytics' defaults
        if few:
            warnings.warn(few, stacklevel=2)
        out.mkdir(parents=True, exist_ok=True)
        write_run_record(out, opts, data.yaml_path, model_path)
        model = run_trainer(model_path, opts.recipe, args, callbacks)
        return _result(out, model)


def resume(run_dir: str | Path) -> TrainResult:
    """Continue an interrupted run from its weights/last.pt, with the options and recipe it was started with."""
    out = Path(run_dir).expanduser().resolve()
    last = out / "weights" / "last.pt"
    if not last.is_file():
        if saved_nothing(out):
            raise TinydetError(f"cannot resume: {out} stopped before its first checkpoint; run the same `tinydet train` "
                               "command again (it starts over in this folder)")
        raise TinydetError(f"cannot resume: {last} not found (is {out} a tinydet/ultralytics run folder?)")
    if training_finished(last):
        raise TinydetError(f"cannot resume: {out} finished training (weights/last.pt holds no optimizer state); to "
                           f"train longer, start a new run from it: tinydet train --model {last} --data ... --out NEW")
    recipe = load_run_recipe(out)
    model = resume_trainer(str(last), recipe)
    if recipe.recipe == "pose-aux":
        return finish_pose_aux(out)
    return _result(out, model)


def _result(out: Path, model) -> TrainResult:
    metrics = final_metrics(model)
    best, last = out / "weights" / "best.pt", out / "weights" / "last.pt"
    return TrainResult(out, best if best.exists() else last, last, metrics)
