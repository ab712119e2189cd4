"""`tinydet demo`: the main job on built-in data, end to end, in about ten minutes on a laptop CPU.

Makes a synthetic tiny-object dataset, trains a plain YOLOv8n and tinydet's small-object model under the same
budget (epochs, image size, batch, seed), evaluates both with tinydet's metrics, and writes under `out`:
`data/` (the dataset), `runs/<model>/` (training runs), `results.md` and `results.json` (the comparison) and
`predictions.jpg` (ground truth and both models' boxes on one validation image).

Re-running reuses finished runs and resumes interrupted ones.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from tinydet.data.formats.yolo import read_yolo
from tinydet.data.synth import SynthSpec, make_synthetic_dataset
from tinydet.demo.options import DemoOptions
from tinydet.detections import Detections
from tinydet.errors import TinydetError
from tinydet.eval import small_object_metrics
from tinydet.eval.validate import ValOptions, validate
from tinydet.files import write_atomic
from tinydet.infer.backends.pytorch import load_yolo
from tinydet.infer.outputs import draw
from tinydet.infer.sliced import SlicedPredictor, SliceOptions
from tinydet.integrations.ultralytics.checkpoints import model_size
from tinydet.train.api import TrainOptions, resume, train


@dataclass
class DemoRow:
    model: str
    params_m: float
    gflops: float
    train_minutes: float
    metrics: dict[str, float]


# (column, key of tinydet.eval.small_object_metrics): COCO AP50 / AP are mAP50 / mAP50-95 computed exactly.
TABLE_COLUMNS = (("mAP50", "AP50"), ("mAP50-95", "AP"), ("AP small (<32 px)", "APs"), ("AP very tiny (<8 px)", "APvt"))


def _finished(run_dir: Path, epochs: int) -> bool:
    results = run_dir / "results.csv"
    if not (run_dir / "weights" / "best.pt").is_file() or not results.is_file():
        return False
    with results.open() as f:
        return len(list(csv.DictReader(f))) >= epochs


def _train(model: str, data_yaml: Path, opts: DemoOptions, run_dir: Path) -> float:
    t0 = time.time()
    if _finished(run_dir, opts.epochs):
        print(f"[demo] {model}: already trained, reusing {run_dir}")
        return float(json.loads((run_dir / "demo_time.json").read_text())["seconds"]) if (run_dir / "demo_time.json").exists() else 0.0
    if (run_dir / "weights" / "last.pt").is_file():
        print(f"[demo] {model}: resuming {run_dir}")
        resume(run_dir)
    else:
        if run_dir.exists():
            raise TinydetError(f"{run_dir} holds an unfinished run without weights; delete it and run the demo again")
        print(f"[demo] training {model}: {opts.epochs} epochs at {opts.imgsz} px, batch {opts.batch}, seed {opts.seed}")
        train(TrainOptions(data=str(data_yaml), model=model, epochs=opts.epochs, imgsz=opts.imgsz, batch=opts.batch,
                           out=str(run_dir), seed=opts.seed, device=opts.device, overrides=dict(opts.ultralytics)))
    seconds = time.time() - t0
    (run_dir / "demo_time.json").write_text(json.dumps({"seconds": seconds}))
    return seconds


def _model_size(checkpoint: Path, imgsz: int) -> tuple[float, float]:
    params, gflops = model_size(load_yolo(checkpoint), imgsz)
    return params / 1e6, gflops or 0.0


def _cell(value: float | None) -> str:
    return "n/a" if value is None or value < 0 else f"{value:.3f}"  # -1: no object of that size in the val set


def format_table(rows: list[DemoRow], title: str) -> str:
    head = ["model", "params (M)", "GFLOPs"] + [name for name, _ in TABLE_COLUMNS] + ["train (min)"]
    lines = [title, "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        values = [_cell(r.metrics.get(key)) for _, key in TABLE_COLUMNS]
        lines.append(f"| {r.model} | {r.params_m:.2f} | {r.gflops:.1f} | " + " | ".join(values) + f" | {r.train_minutes:.1f} |")
    return "\n".join(lines) + "\n"


def _picture(rows: list[DemoRow], runs: Path, data_yaml: Path, opts: DemoOptions, out: Path) -> None:
    """Ground truth and each model's boxes (confidence >= 0.25) side by side on the first validation image."""
    image = read_yolo(data_yaml, splits=("val",)).splits["val"][0]
    pixels = cv2.imread(str(image.file))
    names = dict(enumerate(("disc", "square", "triangle", "cross")))
    gt = Detections(image.boxes, np.ones(len(image)), image.classes)
    panels = [("ground truth", draw(pixels, gt, names, (0, 200, 255)))]
    for row in rows:
        predictor = SlicedPredictor(runs / row.model / "weights" / "best.pt",
                                    SliceOptions(slice=None, imgsz=opts.imgsz, conf=0.25, device=opts.device))
        names, dets = predictor.names, predictor(image.file)
        panels.append((row.model, draw(pixels, dets, names)))
    scale = max(1, 512 // pixels.shape[0])
    tiles = []
    for title, panel in panels:
        panel = cv2.resize(panel, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
        cv2.putText(panel, title, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 2, cv2.LINE_AA)
        tiles.append(panel)
    ok, buf = cv2.imencode(".jpg", np.concatenate(tiles, axis=1), [cv2.IMWRITE_JPEG_QUALITY, 92])
    write_atomic(out / "predictions.jpg", buf.tobytes())


def _check_same_options(out: Path, opts: DemoOptions) -> None:
    """Record the options in `out/demo_options.json`; a folder made with other options is refused, since its
    finished runs would be reused as if they had been trained with these."""
    record = out / "demo_options.json"
    wanted = {k: v for k, v in json.loads(json.dumps(asdict(opts))).items() if k != "out"}
    if record.is_file():
        before = json.loads(record.read_text())
        changed = sorted(k for k in set(before) | set(wanted) if before.get(k) != wanted.get(k))
        if changed:
            raise TinydetError(f"{out} holds a demo made with other options ({', '.join(changed)} differ); "
                               "delete it or give another --out")
    elif out.exists() and any(out.iterdir()):
        raise TinydetError(f"{out} is not empty and holds no demo_options.json (a demo from an older tinydet, "
                           "or something else); delete it or give another --out")
    else:
        out.mkdir(parents=True, exist_ok=True)
        write_atomic(record, json.dumps(wanted, indent=1))


def run_demo(opts: DemoOptions = DemoOptions()) -> list[DemoRow]:
    """Run the demo (see the module docstring); returns one row per model."""
    out = Path(opts.out).resolve()
    t0 = time.time()
    _check_same_options(out, opts)
    print(f"[demo] synthetic data: {opts.images} train + {opts.val_images} val images of {opts.size}x{opts.size} px, "
          f"{opts.density:g} objects per megapixel")
    data_yaml = make_synthetic_dataset(out / "data", SynthSpec(images=opts.images, val_images=opts.val_images,
                                                               seed=opts.seed, size=(opts.size, opts.size),
                                                               objects_per_megapixel=opts.density))
    runs = out / "runs"
    rows = []
    for model in opts.models:
        seconds = _train(model, data_yaml, opts, runs / model)
        best = runs / model / "weights" / "best.pt"
        print(f"[demo] evaluating {model}")
        metrics = small_object_metrics(validate(str(best), str(data_yaml), ValOptions(imgsz=opts.imgsz, device=opts.device)))
        params, gflops = _model_size(best, opts.imgsz)
        rows.append(DemoRow(model, params, gflops, seconds / 60, metrics))
    title = (f"tinydet demo: synthetic tiny objects, {opts.images} train / {opts.val_images} val images, "
             f"{opts.epochs} epochs at {opts.imgsz} px, batch {opts.batch}, seed {opts.seed}")
    table = format_table(rows, title)
    write_atomic(out / "results.md", table)
    write_atomic(out / "results.json", json.dumps({"options": asdict(opts), "rows": [asdict(r) for r in rows]}, indent=1))
    _picture(rows, runs, data_yaml, opts, out)
    print("\n" + table)
    print(f"[demo] done in {(time.time() - t0) / 60:.1f} min; table, runs and predictions.jpg in {out}")
    return rows
