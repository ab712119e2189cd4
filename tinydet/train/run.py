"""A training run folder and what goes into it: the options, the data as trained on, the ultralytics arguments.

A run folder holds what ultralytics writes (weights/best.pt, weights/last.pt, results.csv, args.yaml) plus
`tinydet_run.yaml`: every tinydet option of the run, so it can be reproduced and resumed. train/api.py and
train/pose_aux_run.py compose these pieces.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import warnings
from dataclasses import asdict, dataclass, field, make_dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from tinydet.data import DataWarning, load_dataset
from tinydet.data.convert import write_dataset
from tinydet.data.datayaml import load_data_yaml
from tinydet.data.formats.yolo import yolo_image_copies
from tinydet.data.sampling import repeat_factor_dataset
from tinydet.errors import TinydetError
from tinydet.integrations.ultralytics.arguments import check_override_keys
from tinydet.run_record import RUN_FILE
from tinydet.train.albumentations_yaml import build_transforms, load_spec
from tinydet.train.options import RUN_OPTIONS
from tinydet.train.recipe import Recipe


class TrainChecks:
    """The behaviour of `TrainOptions` (its fields come from the options table's "run" rows)."""

    def __post_init__(self) -> None:
        for o in RUN_OPTIONS:
            value = getattr(self, o.name)
            try:
                o.check(value)
            except TinydetError as e:
                raise TinydetError(f"{o.cli_flag}: {e}") from None


TrainOptions = make_dataclass(
    "TrainOptions",
    [("data", "str")] + [(o.name, o.kind.__name__ + (" | None" if o.nullable else ""), field(default=o.default))
                         for o in RUN_OPTIONS if o.name != "data"]
    + [("recipe", "Recipe", field(default_factory=Recipe)),
       ("overrides", "dict[str, Any]", field(default_factory=dict))],  # any other ultralytics train argument
    bases=(TrainChecks,),
)
TrainOptions.__module__ = __name__
TrainOptions.__doc__ = ("What to train (the options table's run rows, tinydet/train/options.py), the recipe, and "
                        "`overrides`: any other ultralytics train argument. `model`: zoo name, YAML or checkpoint; "
                        "`out`: the run folder (created, must be new).")


@dataclass
class TrainResult:
    """run_dir: the run folder; best: the checkpoint to deploy (best_detect.pt for pose-aux); last: resume point."""

    run_dir: Path
    best: Path
    last: Path
    metrics: dict[str, float]


def launcher_rank() -> int:
    """Global rank when this process was started by torchrun / torch.distributed.run, else -1."""
    return int(os.environ.get("RANK", "-1")) if int(os.environ.get("WORLD_SIZE", "1")) > 1 else -1


def saved_nothing(out: Path) -> bool:
    """A run folder of tinydet's that holds no checkpoint: it stopped (killed, or failed) before its first epoch
    ended, so there is nothing to resume and nothing of value to keep."""
    return (out / RUN_FILE).is_file() and not any(out.rglob("*.pt"))


def check_new_run_dir(out: Path) -> None:
    if launcher_rank() > 0:  # other ranks of a torchrun launch: rank 0 owns the folder
        return
    if out.exists() and any(out.iterdir()):
        if saved_nothing(out):
            print(f"tinydet: {out} holds a run that stopped before its first checkpoint; starting it again",
                  file=sys.stderr)
            shutil.rmtree(out)
            return
        raise TinydetError(
            f"run folder {out} already exists and is not empty; choose a new --out, or continue it with --resume {out}"
        )


@contextlib.contextmanager
def removed_on_failure(out: Path):
    """Remove `out` when the block fails before any checkpoint is saved in it, so that the same command can be run
    again (only a folder this call created: `out` must not exist on entry)."""
    created = not out.exists() and launcher_rank() <= 0
    try:
        yield
    except BaseException:
        if created and out.is_dir() and not any(out.rglob("*.pt")):
            shutil.rmtree(out, ignore_errors=True)
        raise


def ultralytics_args(opts: TrainOptions, data_yaml: Path, out: Path) -> dict[str, Any]:
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
        args["augmentations"] = build_transforms(recipe.albumentations)  # ultralytics' own argument (a list)
    else:
        # an empty pipeline: without it ultralytics adds its default albumentations transforms whenever the
        # package happens to be installed, so the same command would train differently on two machines
        args["augmentations"] = []
    return args


def optimizer_updates(batches: int, epochs: int, accumulate: int, warmup_epochs: float = 3.0) -> int:
    """Optimizer steps of a run as ultralytics 8.4.190's trainer takes them: every `accumulate` batches (capped
    at the run's batch count), ramped up from 1 during the warm-up iterations (engine/trainer.py)."""
    total = batches * epochs
    acc0 = min(accumulate, total)
    warm = min(warmup_epochs, max(epochs - 1, 0))
    nw = round(warm * batches) if warm > 0 else 0
    last, updates, acc = -1, 0, acc0
    for ni in range(total):
        if nw and ni <= nw:
            acc = max(1, int(np.interp(ni, [0, nw], [1, acc0]).round()))
        if ni - last >= acc:
            updates, last = updates + 1, ni
    return updates


def _counted(count: int, singular: str, plural: str | None = None) -> str:
    """'1 epoch', '2 epochs' ('2 batches' with `plural`)."""
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


def few_updates_warning(n_images: int, batch, nbs, epochs: int, warmup_epochs: float = 3.0) -> str | None:
    """A warning when ultralytics' gradient accumulation leaves a small dataset fewer than 10 optimizer steps an
    epoch, else None. ultralytics steps once per `max(round(nbs / batch), 1)` batches (nbs, the nominal batch,
    is 64), so 16 images at batch 8 (2 batches an epoch) step once every 4 epochs after the warm-up.
    `warmup_epochs` is the run's (ultralytics' default 3), which the step count depends on."""
    if not isinstance(batch, int) or batch < 1 or not nbs or n_images < 1:
        return None  # AutoBatch (-1) or a memory fraction: the batch is known only once training starts
    accumulate = max(round(nbs / batch), 1)
    batches = -(-n_images // batch)
    if accumulate == 1 or batches >= accumulate * 10:
        return None
    updates = optimizer_updates(batches, epochs, accumulate, warmup_epochs)
    return (f"{_counted(n_images, 'training image')} at batch {batch}: ultralytics accumulates {accumulate} batches "
            f"per optimizer step (nbs {nbs}), so the whole run makes {_counted(updates, 'optimizer step')} "
            f"({_counted(epochs, 'epoch')} of {_counted(batches, 'batch', 'batches')}). For a dataset this "
            f"small, --set nbs={batch} steps once per batch (on tinydet's demo data it raised AP small from about "
            f"0.02-0.04 to 0.17-0.37, at 2 seeds: BENCHMARKS.md, 'Small datasets')")


def write_run_record(out: Path, opts: TrainOptions, data_yaml: Path, model_path: str) -> None:
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
    t = opts.recipe.repeat_factor_t
    if t <= 0:
        return data
    folder = out / "repeat_factor"
    if launcher_rank() > 0:  # rank 0 writes the list
        return load_data_yaml(folder / "data.yaml")

    return load_data_yaml(repeat_factor_dataset(data.yaml_path, folder, t, opts.seed))


def load_run_recipe(run_dir: Path) -> Recipe:
    """The Recipe a run was started with (defaults for runs tinydet did not start)."""
    path = run_dir / RUN_FILE
    if not path.is_file():
        return Recipe()
    return Recipe.from_dict((yaml.safe_load(path.read_text()) or {}).get("recipe") or {}, source=str(path))
