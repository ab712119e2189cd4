"""Training-run folders for report/compare tests, without training: args.yaml, results.csv and a cached
evaluation (tinydet_eval/) whose predictions are the labels disturbed by seeded noise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from tinydet.data.formats.yolo import read_yolo
from tinydet.detections import Detections


def noisy_predictions(images, seed: int, jitter: float = 1.0, n_background: int = 4) -> list[Detections]:
    rng = np.random.default_rng(seed)
    out = []
    for im in images:
        keep = rng.random(len(im)) < 0.8
        b = im.boxes[keep] + rng.normal(0, jitter, (int(keep.sum()), 4))
        b[:, 2:] = np.maximum(b[:, 2:], b[:, :2] + 1)
        cls = np.where(rng.random(len(b)) < 0.15, (im.classes[keep] + 1) % 4, im.classes[keep])
        xy = rng.uniform(0, min(im.width, im.height) - 20, (n_background, 2))
        bg = np.c_[xy, xy + rng.uniform(3, 18, (n_background, 2))]
        out.append(Detections(np.r_[b, bg], np.r_[rng.uniform(0.4, 1, len(b)), rng.uniform(0, 0.6, n_background)],
                              np.r_[cls, rng.integers(0, 4, n_background)]))
    return out


def make_run(root: Path, data_yaml: Path, name: str, seed: int, jitter: float = 1.0, imgsz: int = 128) -> Path:
    """A run folder with a valid cached evaluation and no weights."""
    from tinydet.eval.data import ground_truth_from_images, predictions_from_detections
    from tinydet.eval.evaluator import evaluate
    from tinydet.eval.params import EvalOptions
    from tinydet.eval.runs import _cache_key, read_run, write_cache
    from tinydet.eval.validate import ValOptions

    run_dir = root / name
    run_dir.mkdir(parents=True)
    (run_dir / "args.yaml").write_text(yaml.safe_dump({"model": "yolov8n.yaml", "data": str(data_yaml),
                                                       "imgsz": imgsz, "epochs": 3}))
    (run_dir / "results.csv").write_text(
        "                  epoch,   metrics/mAP50(B),metrics/mAP50-95(B)\n"
        + "".join(f"{e},{0.1 * e + seed * 0.01},{0.05 * e}\n" for e in range(1, 4)))
    dataset = read_yolo(data_yaml, splits=("val",))
    images = dataset.splits["val"]
    dets = noisy_predictions(images, seed, jitter)
    gt = ground_truth_from_images(images, dataset.names)
    result = evaluate(gt, predictions_from_detections(dets, gt), EvalOptions())
    run = read_run(run_dir)
    coco = [e for im, d in zip(images, dets) for e in d.to_coco(im.file.name)]
    write_cache(run, _cache_key(run, "val", ValOptions(imgsz=imgsz), gt.image_files), coco, result, 1_234_567 + seed, 8.2)
    return run_dir
