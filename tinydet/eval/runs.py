"""Training run folders (ultralytics layout) and their cached evaluation.

A run folder holds `weights/best.pt`, `args.yaml` (with `data`, `imgsz`, `model`, `epochs`) and `results.csv`;
a pose-aux run's `weights/best_detect.pt` (the detect model it ships) is evaluated instead of its pose best.pt.
`evaluate_run` predicts the run's val split with best.pt once and caches the result in `RUN_DIR/tinydet_eval/`:

- `predictions.json`: COCO results, image_id = image file name, category_id = class index (0-based);
- `metrics.json`: what the predictions were made with (checkpoint sha256, data, the split's image names and sizes,
  split, imgsz, conf, iou, max_det), the sha256 of predictions.json, the flat metrics, params and GFLOPs.

Both are written atomically, metrics.json last, so a cache is complete or absent. A cache is used when its
predictions still hash to what metrics.json says, its checkpoint hash matches weights/best.pt (a run without
weights can still be reported from its cache) and the split holds the same images (names and byte sizes; the
labels are read afresh every time, so changed labels need no new predictions).
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from tinydet.errors import DataError, TinydetError
from tinydet.eval.data import predictions_from_detections
from tinydet.eval.evaluator import evaluate
from tinydet.eval.load_coco import load_coco_predictions
from tinydet.eval.load_yolo import load_yolo_ground_truth
from tinydet.eval.params import EvalOptions, ValOptions
from tinydet.eval.result import EvalResult, small_object_metrics
from tinydet.files import write_atomic
from tinydet.run_record import recorded_model

CACHE_DIR = "tinydet_eval"
PREDICTIONS_FILE = "predictions.json"
METRICS_FILE = "metrics.json"
CACHE_VERSION = 1


@dataclass
class RunInfo:
    """What a run folder says about itself."""

    run_dir: Path
    name: str
    model: str
    data: Path | None
    imgsz: int
    epochs: int | None
    checkpoint: Path | None
    results_csv: Path | None


@dataclass
class RunEvaluation:
    """A run, its evaluation (with details), and model size (None when unknown)."""

    run: RunInfo
    result: EvalResult
    cached: bool
    params: int | None = None
    gflops: float | None = None
    history: dict[str, list[float]] = field(default_factory=dict)
    images_sha256: str = ""  # the evaluated images (split_images_sha256): runs compare only on the same images


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _resolve_data(value: str | None, run_dir: Path, args_file: Path) -> Path | None:
    if not value:
        return None
    p = Path(str(value)).expanduser()
    for candidate in ([p] if p.is_absolute() else [Path.cwd() / p, run_dir / p]):
        if candidate.exists():
            return candidate.resolve()
    raise DataError(f"'data: {value}' was not found (tried relative to the current folder and to the run folder)", args_file)


def _model_name(value, run_dir: Path) -> str:
    """The file name of the model a run trained (args.yaml's `model`). A resumed run's args.yaml names its own
    RUN/weights/last.pt: then the model its tinydet record names, else the run folder's name."""
    model = Path(str(value or ""))
    if not model.name:
        return ""
    if model.expanduser().resolve().is_relative_to(run_dir.resolve()):
        return Path(recorded_model(run_dir) or run_dir.resolve().name).name
    return model.name


def read_run(run_dir: str | Path) -> RunInfo:
    """Read a run folder's args.yaml and find its checkpoint and results.csv."""
    run_dir = Path(run_dir).expanduser()
    if not run_dir.is_dir():
        raise TinydetError(f"run folder not found: {run_dir}")
    args_file = run_dir / "args.yaml"
    if not args_file.is_file():
        raise DataError("not a training run folder: it has no args.yaml", run_dir)
    try:
        args = yaml.safe_load(args_file.read_text()) or {}
    except yaml.YAMLError as e:
        raise DataError(f"not valid YAML ({getattr(e, 'problem', e)})", args_file) from None
    if not isinstance(args, dict):
        raise DataError("expected a mapping of training arguments", args_file)
    try:
        imgsz = int(args.get("imgsz") or 640)
    except (TypeError, ValueError):
        raise DataError(f"imgsz must be one integer, got {args.get('imgsz')!r}", args_file) from None
    best = run_dir / "weights" / "best.pt"
    if (run_dir / "weights" / "best_detect.pt").is_file():  # pose-aux runs ship the converted detect model
        best = run_dir / "weights" / "best_detect.pt"
    csv_file = run_dir / "results.csv"
    return RunInfo(
        run_dir=run_dir.resolve(),
        name=run_dir.resolve().name,
        model=_model_name(args.get("model"), run_dir),
        data=_resolve_data(args.get("data"), run_dir, args_file),
        imgsz=imgsz,
        epochs=args.get("epochs") if isinstance(args.get("epochs"), int) else None,
        checkpoint=best if best.is_file() else None,
        results_csv=csv_file if csv_file.is_file() else None,
    )


def read_history(path: Path | None) -> dict[str, list[float]]:
    """results.csv as {column: values} (numeric columns only; headers stripped of spaces)."""
    if path is None:
        return {}
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if len(rows) < 2:
        return {}
    header = [h.strip() for h in rows[0]]
    out: dict[str, list[float]] = {}
    for i, name in enumerate(header):
        try:
            out[name] = [float(r[i]) for r in rows[1:] if len(r) > i]
        except ValueError:
            continue
    return out


def split_images_sha256(image_files: list[str]) -> str:
    """sha256 of the split's image names and byte sizes, in order: a cache made on other images does not match,
    while a dataset moved to another folder or machine still does (the data path itself is not compared)."""
    h = hashlib.sha256()
    for file in image_files:
        path = Path(file)
        size = path.stat().st_size if path.is_file() else -1
        h.update(f"{path.name}\t{size}\n".encode())
    return h.hexdigest()


def _cache_key(run: RunInfo, split: str, val, image_files: list[str]) -> dict:
    return {"version": CACHE_VERSION, "checkpoint_sha256": sha256_file(run.checkpoint) if run.checkpoint else None,
            "data": str(run.data), "images_sha256": split_images_sha256(image_files), "split": split,
            "imgsz": val.imgsz, "conf": val.conf, "iou": val.iou, "max_det": val.max_det}


def load_cache(run: RunInfo, key: dict) -> dict | None:
    """The cached metrics.json when the cache is complete and made with `key` (see the module docstring)."""
    folder = run.run_dir / CACHE_DIR
    try:
        meta = json.loads((folder / METRICS_FILE).read_text())
        stored = meta["key"]
        if meta.get("predictions_sha256") != sha256_file(folder / PREDICTIONS_FILE):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    fields_to_check = [k for k in key if k != "checkpoint_sha256" and k != "data"]
    if any(stored.get(k) != key[k] for k in fields_to_check):
        return None
    if key["checkpoint_sha256"] is not None and stored.get("checkpoint_sha256") != key["checkpoint_sha256"]:
        return None
    return meta


def write_cache(run: RunInfo, key: dict, predictions: list[dict], result: EvalResult, params, gflops) -> None:
    """predictions.json, then metrics.json (each atomically)."""
    folder = run.run_dir / CACHE_DIR
    text = json.dumps(predictions)
    write_atomic(folder / PREDICTIONS_FILE, text)
    meta = {"key": key, "predictions_sha256": hashlib.sha256(text.encode()).hexdigest(),
            "metrics": small_object_metrics(result), "params": params, "gflops": gflops, "result": result.to_dict()}
    write_atomic(folder / METRICS_FILE, json.dumps(meta, indent=1))


def evaluate_run(run_dir: str | Path, split: str = "val", refresh: bool = False,
                 options: EvalOptions = EvalOptions(keep_details=True), log: Callable[[str], None] = print) -> RunEvaluation:
    """Evaluate a run's checkpoint on its dataset split, from the cache when it is valid (see module docstring)."""
    run = read_run(run_dir)
    if run.data is None:
        raise DataError("args.yaml names no 'data' (the dataset to evaluate on)", run.run_dir / "args.yaml")
    val = ValOptions(split=split, imgsz=run.imgsz, eval=options)
    gt = load_yolo_ground_truth(run.data, split)
    key = _cache_key(run, split, val, gt.image_files)
    meta = None if refresh else load_cache(run, key)
    if meta is not None:
        preds = load_coco_predictions(run.run_dir / CACHE_DIR / PREDICTIONS_FILE, gt)
        result = evaluate(gt, preds, options)
        return RunEvaluation(run, result, True, meta.get("params"), meta.get("gflops"), read_history(run.results_csv),
                             key["images_sha256"])
    if run.checkpoint is None:
        raise TinydetError(f"{run.run_dir}: no weights/best.pt to evaluate and no valid cached evaluation in {CACHE_DIR}/")

    # compare and report start without torch: only a run without a valid cached evaluation is predicted
    from tinydet.eval.run_predictions import predict_run  # lazy: loads torch and ultralytics

    log(f"evaluating {run.checkpoint} on {run.data} [{split}] at imgsz {run.imgsz}")
    split_preds, params, gflops = predict_run(run.checkpoint, run.data, val)
    preds = predictions_from_detections(split_preds.detections, gt, source=str(run.checkpoint))
    result = evaluate(gt, preds, options)
    coco_json = [e for im, d in zip(split_preds.images, split_preds.detections) for e in d.to_coco(im.file.name)]
    write_cache(run, key, coco_json, result, params, gflops)
    return RunEvaluation(run, result, False, params, gflops, read_history(run.results_csv), key["images_sha256"])


def run_as_dict(ev: RunEvaluation) -> dict:
    """JSON-ready summary of a run evaluation (no per-box details)."""
    return {"run": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(ev.run).items()},
            "cached": ev.cached, "params": ev.params, "gflops": ev.gflops, "metrics": small_object_metrics(ev.result)}
