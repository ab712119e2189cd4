"""Training entry point: checks the inputs, then runs ultralytics' trainer into one run folder.

A run folder holds what ultralytics writes (weights/best.pt, weights/last.pt, results.csv, args.yaml) plus
`tinydet_run.yaml`: every tinydet option of the run, so it can be reproduced and resumed.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import yaml

from tinydet.errors import TinydetError
from tinydet.train.recipe import Recipe


@dataclass
class TrainOptions:
    """What to train. `model`: zoo name, YAML or checkpoint; `out`: the run folder (created, must be new)."""

    data: str
    model: str = "yolov8n"
    epochs: int = 100
    imgsz: int = 640
    batch: int = 16
    out: str = "runs/train"
    seed: int = 0
    device: str | None = None
    deterministic: bool = True
    workers: int = 4
    patience: int = 100
    skip_bad: bool = False  # train on a cleaned copy instead of stopping at the first bad label
    recipe: Recipe = field(default_factory=Recipe)
    overrides: dict[str, Any] = field(default_factory=dict)  # any other ultralytics train argument

    def __post_init__(self) -> None:
        for name in ("epochs", "imgsz", "batch"):
            if int(getattr(self, name)) < 1:
                raise TinydetError(f"--{name} must be at least 1, got {getattr(self, name)}")


@dataclass
class TrainResult:
    """run_dir: the run folder; best: the checkpoint to deploy (best_detect.pt for pose-aux); last: resume point."""

    run_dir: Path
    best: Path
    last: Path
    metrics: dict[str, float]


RUN_FILE = "tinydet_run.yaml"

# Extra ultralytics callbacks for one run, by event: {"on_fit_epoch_end": [fn, ...]}; each fn(trainer).
Callbacks = Mapping[str, Sequence[Callable[[Any], None]]]


def launcher_rank() -> int:
    """Global rank when this process was started by torchrun / torch.distributed.run, else -1."""
    import os

    return int(os.environ.get("RANK", "-1")) if int(os.environ.get("WORLD_SIZE", "1")) > 1 else -1


def _saved_nothing(out: Path) -> bool:
    """A run folder of tinydet's that holds no checkpoint: it stopped (killed, or failed) before its first epoch
    ended, so there is nothing to resume and nothing of value to keep."""
    return (out / RUN_FILE).is_file() and not any(out.rglob("*.pt"))


def _check_new_run_dir(out: Path) -> None:
    if launcher_rank() > 0:  # other ranks of a torchrun launch: rank 0 owns the folder
        return
    if out.exists() and any(out.iterdir()):
        if _saved_nothing(out):
            print(f"tinydet: {out} holds a run that stopped before its first checkpoint; starting it again",
                  file=sys.stderr)
            shutil.rmtree(out)
            return
        raise TinydetError(
            f"run folder {out} already exists and is not empty; choose a new --out, or continue it with --resume {out}"
        )


@contextlib.contextmanager
def _removed_on_failure(out: Path):
    """Remove `out` when the block fails before any checkpoint is saved in it, so that the same command can be run
    again (only a folder this call created: `out` must not exist on entry)."""
    created = not out.exists() and launcher_rank() <= 0
    try:
        yield
    except BaseException:
        if created and out.is_dir() and not any(out.rglob("*.pt")):
            shutil.rmtree(out, ignore_errors=True)
        raise


def check_override_keys(overrides: dict[str, Any]) -> None:
    """Unknown ultralytics argument names, and values of the wrong type or range, fail here (with suggestions),
    rather than deep inside ultralytics."""
    import difflib

    from ultralytics.cfg import DEFAULT_CFG_DICT, check_cfg

    for key in overrides:
        if key not in DEFAULT_CFG_DICT:
            close = difflib.get_close_matches(key, list(DEFAULT_CFG_DICT), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise TinydetError(f"'{key}' is not an ultralytics training argument{hint}")
    try:
        check_cfg(dict(overrides))  # ultralytics' own type and range check ('mosaic=abc')
    except (TypeError, ValueError) as e:
        raise TinydetError(f"--set: {e}") from None


def _ultralytics_args(opts: TrainOptions, data_yaml: Path, out: Path) -> dict[str, Any]:
    overrides = {**opts.recipe.ultralytics, **opts.overrides}
    check_override_keys(overrides)
    recipe = opts.recipe
    if recipe.class_weight_power > 0:
        if "cls_pw" in overrides:
            raise TinydetError("give class weights once: --class-weight-power or --set cls_pw, not both")
        overrides["cls_pw"] = recipe.class_weight_power
    args = dict(
        data=str(data_yaml),
        epochs=opts.epochs,
        imgsz=opts.imgsz,
        batch=opts.batch,
        # exactly the run folder: ultralytics joins project / name, but renames a run named "model" after the
        # model (cfg.get_cfg), so `--out runs/model` would train into runs/yolov8n; name "." keeps the folder
        project=str(out),
        name=".",
        exist_ok=True,
        seed=opts.seed,
        deterministic=opts.deterministic,
        workers=opts.workers,
        patience=opts.patience,
        verbose=True,
    )
    if opts.device is not None:
        args["device"] = opts.device
    args.update(overrides)
    if recipe.albumentations is not None:
        from tinydet.train.albumentations_yaml import build_transforms

        args["augmentations"] = build_transforms(recipe.albumentations)  # ultralytics' own argument (a list)
    else:
        # an empty pipeline: without it ultralytics adds its default albumentations transforms whenever the
        # package happens to be installed, so the same command would train differently on two machines
        args["augmentations"] = []
    return args


def _run_trainer(model_path: str, recipe: Recipe, args: dict[str, Any], callbacks: Callbacks | None = None):
    """ultralytics' trainer for the model's task, carrying the recipe (see integrations/ultralytics.py)."""
    from ultralytics import YOLO

    from tinydet.integrations.ultralytics import RecipeCallback, RecipeDetectionTrainer, RecipePoseTrainer

    model = YOLO(model_path)
    if recipe.distill_from and model.task != "detect":
        raise TinydetError(f"distillation trains detect models, not {model.task}")
    for event, fns in (callbacks or {}).items():
        for fn in fns:
            model.add_callback(event, fn)
    trainers = {"detect": RecipeDetectionTrainer, "pose": RecipePoseTrainer}
    if model.task not in trainers:
        if recipe.changes_losses or recipe.changes_augmentation or recipe.fitness != "ultralytics" or recipe.val_slice:
            raise TinydetError(f"tinydet recipe options apply to detect and pose models, not {model.task}")
        model.train(**args)
        return model
    model.add_callback(RecipeCallback.event, RecipeCallback(recipe))
    model.train(trainer=trainers[model.task], **args)
    return model


def _write_run_record(out: Path, opts: TrainOptions, data_yaml: Path, model_path: str) -> None:
    if launcher_rank() > 0:
        return
    record = {"tinydet": {k: v for k, v in asdict(opts).items() if k != "recipe"}, "recipe": opts.recipe.to_dict()}
    record["tinydet"].update(data=str(data_yaml), model_resolved=model_path)
    (out / RUN_FILE).write_text(yaml.safe_dump(record, sort_keys=False))


def prepare_data(data: str, out: Path, skip_bad: bool = False):
    """Validate the dataset (any format tinydet reads) and return (the parsed YOLO data.yaml to train on,
    {image of the copy: the user's image} where a copy was written, else {}).

    A fatal problem stops here with the file and line, unless `skip_bad`. Data that is not in YOLO layout, or
    that needed lines skipped, is written as a YOLO copy into `out/data` (the user's files are never changed).
    """
    from tinydet.data import DataWarning, load_dataset
    from tinydet.data.convert import write_dataset
    from tinydet.data.datayaml import load_data_yaml
    from tinydet.data.formats.yolo import yolo_image_copies

    dataset = load_dataset(data, skip_bad=skip_bad)
    if dataset.format == "yolo" and not any(p.fatal for p in dataset.problems):
        return load_data_yaml(data), {}
    repeats = sum(p.kind == "duplicate_image" for p in dataset.problems)
    if repeats:
        warnings.warn(f"the cleaned copy in {out / 'data'} lists each image once: {repeats} repeated list "
                      "entries (an oversampling list) are dropped, so training and validation see each image once",
                      DataWarning, stacklevel=2)
    copies = yolo_image_copies(dataset, out / "data")
    sources = {copy: im.file for split, images in dataset.splits.items() for im, copy in zip(images, copies[split])}
    if launcher_rank() > 0:  # rank 0 writes the copy
        return load_data_yaml(out / "data" / "data.yaml"), sources
    return load_data_yaml(write_dataset(dataset, out / "data", "yolo")), sources


def with_inline_albumentations(opts: TrainOptions) -> TrainOptions:
    """The options with an albumentations pipeline file read into the recipe (checked), so that the run record
    holds the pipeline itself and a resumed or repeated run does not depend on the file."""
    spec = opts.recipe.albumentations
    if not isinstance(spec, str):
        return opts
    from tinydet.train.albumentations_yaml import build_transforms, load_spec

    build_transforms(spec)  # every problem shows now, naming the file, not after the data is read
    return replace(opts, recipe=replace(opts.recipe, albumentations=load_spec(spec)[0]))


def with_resolved_teacher(opts: TrainOptions) -> TrainOptions:
    """The options with the distillation teacher as an absolute path (checked), so the run record and --resume
    find it from any folder."""
    teacher = opts.recipe.distill_from
    if not teacher:
        return opts
    path = Path(teacher).expanduser().resolve()
    if not path.is_file() or path.suffix != ".pt":
        raise TinydetError(f"--distill-from {teacher}: not a checkpoint file (.pt); distil from a trained model")
    return replace(opts, recipe=replace(opts.recipe, distill_from=str(path)))


def sampled_data(opts: TrainOptions, data, out: Path):
    """The data to train on: `data` itself, or with repeat_factor_t > 0 a copy of its data.yaml whose training
    split is the repeat-factor list written into `out/repeat_factor` (tinydet/data/sampling.py)."""
    from tinydet.data.datayaml import load_data_yaml

    t = opts.recipe.repeat_factor_t
    if t <= 0:
        return data
    folder = out / "repeat_factor"
    if launcher_rank() > 0:  # rank 0 writes the list
        return load_data_yaml(folder / "data.yaml")
    from tinydet.data.sampling import repeat_factor_dataset

    return load_data_yaml(repeat_factor_dataset(data.yaml_path, folder, t, opts.seed))


def train(opts: TrainOptions, callbacks: Callbacks | None = None) -> TrainResult:
    """Train `opts.model` on `opts.data` with `opts.recipe`; returns the run folder, checkpoints and metrics.

    `callbacks` are extra ultralytics callbacks for this run (e.g. `tinydet tune`'s per-epoch pruning); a
    callback may end training early by setting `trainer.stop = True`.
    """
    from tinydet.models.zoo import resolve_model

    out = Path(opts.out).expanduser().resolve()
    _check_new_run_dir(out)
    model_path = resolve_model(opts.model)  # cheap checks first: a typo fails before the data is read
    if opts.device is not None:
        from tinydet.infer.backends import resolve_device

        for device in str(opts.device).split(","):
            resolve_device(device)
    check_override_keys({**opts.recipe.ultralytics, **opts.overrides})
    opts = with_resolved_teacher(with_inline_albumentations(opts))
    with _removed_on_failure(out):
        data, _ = prepare_data(opts.data, out, opts.skip_bad)
        if opts.recipe.recipe == "pose-aux":
            from tinydet.train.pose_aux_run import train_pose_aux

            return train_pose_aux(opts, data, out, callbacks)
        data = sampled_data(opts, data, out)
        args = _ultralytics_args(opts, data.yaml_path, out)
        out.mkdir(parents=True, exist_ok=True)
        _write_run_record(out, opts, data.yaml_path, model_path)
        model = _run_trainer(model_path, opts.recipe, args, callbacks)
        return _result(out, model)


def load_run_recipe(run_dir: Path) -> Recipe:
    """The Recipe a run was started with (defaults for runs tinydet did not start)."""
    path = run_dir / RUN_FILE
    if not path.is_file():
        return Recipe()
    return Recipe.from_dict((yaml.safe_load(path.read_text()) or {}).get("recipe") or {}, source=str(path))


def resume(run_dir: str | Path) -> TrainResult:
    """Continue an interrupted run from its weights/last.pt, with the options and recipe it was started with."""
    from ultralytics import YOLO

    from tinydet.integrations.ultralytics import RecipeCallback, RecipeDetectionTrainer, RecipePoseTrainer

    out = Path(run_dir).expanduser().resolve()
    last = out / "weights" / "last.pt"
    if not last.is_file():
        if _saved_nothing(out):
            raise TinydetError(f"cannot resume: {out} stopped before its first checkpoint; run the same `tinydet train` "
                               "command again (it starts over in this folder)")
        raise TinydetError(f"cannot resume: {last} not found (is {out} a tinydet/ultralytics run folder?)")
    recipe = load_run_recipe(out)
    model = YOLO(str(last))
    trainers = {"detect": RecipeDetectionTrainer, "pose": RecipePoseTrainer}
    if model.task in trainers:
        model.add_callback(RecipeCallback.event, RecipeCallback(recipe))
        model.train(resume=True, trainer=trainers[model.task])
    else:
        model.train(resume=True)
    if recipe.recipe == "pose-aux":
        from tinydet.train.pose_aux_run import finish_pose_aux

        return finish_pose_aux(out)
    return _result(out, model)


def _result(out: Path, model) -> TrainResult:
    metrics = {}
    trainer = getattr(model, "trainer", None)
    if trainer is not None and getattr(trainer, "metrics", None):
        metrics = {k: float(v) for k, v in trainer.metrics.items() if isinstance(v, (int, float))}
    best, last = out / "weights" / "best.pt", out / "weights" / "last.pt"
    return TrainResult(out, best if best.exists() else last, last, metrics)
