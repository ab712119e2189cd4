"""Running the pose-aux recipe end to end (see tinydet/train/pose_aux.py for the conversion and its checks).

Run folder: the pose twin's training run (weights/best.pt is the pose model), `pose_data/` (the keypoint
copy of the dataset) and `weights/best_detect.pt`, the detect model to deploy.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import yaml

from tinydet.data.datayaml import load_data_yaml
from tinydet.data.pose import to_pose_dataset
from tinydet.errors import TinydetError
from tinydet.models.zoo import pose_twin, resolve_model
from tinydet.integrations.ultralytics.training.run import run_trainer
from tinydet.train.run import RUN_FILE, TrainResult, sampled_data, ultralytics_args, write_run_record
from tinydet.train.pose_aux import convert_pose_checkpoint


def train_pose_aux(opts, data, out: Path, callbacks=None):
    """Convert labels, train the pose twin with low box/DFL gains, convert back; returns a TrainResult."""
    if str(opts.model).endswith(".pt"):
        raise TinydetError("the pose-aux recipe starts from a detect config (zoo name or YAML), not a checkpoint")
    detect_path = resolve_model(opts.model)
    pose_path = resolve_model(pose_twin(opts.model))
    out.mkdir(parents=True, exist_ok=True)
    pose_data = to_pose_dataset(data.yaml_path, out / "pose_data")
    pose_data = sampled_data(opts, load_data_yaml(pose_data), out).yaml_path  # repeat-factor sampling, if asked
    gains = {"box": opts.recipe.pose_box_gain, "dfl": opts.recipe.pose_dfl_gain}
    pose_opts = replace(opts, overrides={**gains, **opts.overrides})  # an explicit --set box=... still wins
    args = ultralytics_args(pose_opts, Path(pose_data), out)
    write_run_record(out, pose_opts, Path(pose_data), pose_path)
    record = yaml.safe_load((out / RUN_FILE).read_text())
    record["tinydet"]["detect_model"] = detect_path
    (out / RUN_FILE).write_text(yaml.safe_dump(record, sort_keys=False))
    run_trainer(pose_path, opts.recipe, args, callbacks)
    return finish_pose_aux(out)


def finish_pose_aux(out: Path):
    """Convert the pose run's best.pt into weights/best_detect.pt (with every check) and report it."""
    record = yaml.safe_load((out / RUN_FILE).read_text())["tinydet"]
    best = out / "weights" / "best.pt"
    if not best.is_file():
        raise TinydetError(f"pose-aux: the pose run left no {best}")
    target = out / "weights" / "best_detect.pt"
    transfer = convert_pose_checkpoint(best, record["detect_model"], target, imgsz=int(record["imgsz"]))
    print(
        f"pose-aux: {transfer.transferred}/{transfer.total} tensors transferred, max output difference "
        f"{transfer.max_abs_diff:.2g}, {transfer.detect_gflops:.2f} GFLOPs (detect config: "
        f"{transfer.reference_gflops:.2f})"
    )
    return TrainResult(out, target, out / "weights" / "last.pt", {})
