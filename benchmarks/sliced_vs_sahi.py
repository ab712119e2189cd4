"""Sliced inference against SAHI 0.12.8: images per second and mAP side by side, in one run.

    PYTHONPATH=. python benchmarks/sliced_vs_sahi.py [--work .bench/sliced] [--write BENCHMARKS.md]

Steps (each is skipped when its output exists, so an interrupted run can simply be started again):

1. data: `tinydet synth` large images (4000x3000), train and val splits;
2. tiles: the train images cut into 512 px tiles (tinydet.ops.slicing grid, no overlap) with their labels
   (boxes clipped to the tile, kept when at least half of the box is inside);
3. train: a yolov8n from scratch on the tiles, a few minutes on CPU;
4. evaluate: on every val image, in rotating order, SAHI's get_sliced_prediction and tinydet's SlicedPredictor
   (torch, and the exported backends) with the same checkpoint, slice, overlap, confidence and merge (greedy NMM,
   IoS 0.5, class-wise, no full-image pass), plus the model's bare forward pass on the same tiles; mAP with
   pycocotools against the synthetic ground truth; then each tinydet method that has a bare-forward row predicts
   the whole folder in sequence, with and without reading the next image ahead;
5. the table goes to BENCHMARKS.md (section "Sliced inference against SAHI") with --write.

All methods share one process, so once tinydet's predictors are built, SAHI's forward passes also run with the
malloc thresholds tinydet sets (tinydet/malloc.py): this script compares the pipelines on an equal allocator.
benchmarks/sliced_folders.py compares whole processes, each with its own allocator settings, on real photos.

Timings are wall-clock seconds on this machine, shared with other jobs: compare the ratios of one run, which saw
the same load. Torch runs with --threads threads for every method (on a busy 2-core machine one thread is
faster than two, whose threads wait for each other).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
from markdown_section import replace_section
from sliced_report import FOLDER_PASSES, MATCH_THRESHOLD, OVERLAP, SECTION, TILE, cpu_seconds, other_cores, report


# ----------------------------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------------------------
def make_data(work: Path, train_images: int, val_images: int) -> Path:
    from tinydet.data.synth import SynthSpec, make_synthetic_dataset

    return make_synthetic_dataset(
        work / "synth", SynthSpec(images=train_images, val_images=val_images, seed=0, size=(4000, 3000)), quiet=True
    ).parent


def read_labels(label_file: Path, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """YOLO txt -> (classes [N], xyxy [N, 4] pixels)."""
    rows = np.loadtxt(label_file, ndmin=2) if label_file.stat().st_size else np.zeros((0, 5))
    cx, cy, w, h = rows[:, 1] * width, rows[:, 2] * height, rows[:, 3] * width, rows[:, 4] * height
    return rows[:, 0].astype(int), np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)


def make_tiles(synth: Path, work: Path, val_tile_images: int = 1) -> Path:
    """Cut the synthetic images into TILE px tiles with labels; returns the tiles' data.yaml."""
    import cv2
    import yaml

    from tinydet.ops.slicing import tile_grid

    out = work / "tiles"
    if (out / "data.yaml").exists():
        return out / "data.yaml"
    tmp = work / ".tiles-partial"
    shutil.rmtree(tmp, ignore_errors=True)
    for split, limit in (("train", None), ("val", val_tile_images)):
        images = sorted((synth / "images" / split).glob("*.jpg"))[:limit]
        (tmp / "images" / split).mkdir(parents=True)
        (tmp / "labels" / split).mkdir(parents=True)
        for image_path in images:
            image = cv2.imread(str(image_path))
            h, w = image.shape[:2]
            classes, boxes = read_labels(synth / "labels" / split / f"{image_path.stem}.txt", w, h)
            area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
            for k, (x1, y1, x2, y2) in enumerate(tile_grid(w, h, TILE, TILE, 0.0).tolist()):
                clipped = np.clip(boxes, [x1, y1, x1, y1], [x2, y2, x2, y2])
                inside = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
                keep = inside >= 0.5 * area
                name = f"{image_path.stem}_{k:03d}"
                cv2.imwrite(str(tmp / "images" / split / f"{name}.jpg"), image[y1:y2, x1:x2], [cv2.IMWRITE_JPEG_QUALITY, 95])
                b = clipped[keep] - [x1, y1, x1, y1]
                lines = [
                    f"{c} {(bx1 + bx2) / 2 / (x2 - x1):.6f} {(by1 + by2) / 2 / (y2 - y1):.6f} "
                    f"{(bx2 - bx1) / (x2 - x1):.6f} {(by2 - by1) / (y2 - y1):.6f}"
                    for c, (bx1, by1, bx2, by2) in zip(classes[keep], b)
                ]
                (tmp / "labels" / split / f"{name}.txt").write_text("\n".join(lines) + ("\n" if lines else ""))
    names = yaml.safe_load((synth / "data.yaml").read_text())["names"]
    (tmp / "data.yaml").write_text(yaml.safe_dump({"train": "images/train", "val": "images/val", "names": names}))
    os.replace(tmp, out)
    return out / "data.yaml"


def train(tiles_yaml: Path, work: Path, epochs: int, more_epochs: int = 0) -> Path:
    """yolov8n from scratch on the tiles with ultralytics' public API, torch on TRAIN_THREADS threads; with
    `more_epochs`, a second run continues from the first one's last weights (no warm-up)."""
    import torch
    from ultralytics import YOLO

    import tinydet  # noqa: F401  (offline settings)

    runs = [("train", "yolov8n.yaml", epochs, {})]
    if more_epochs:
        runs.append(("train-more", str(work / "train" / "weights" / "last.pt"), more_epochs, {"warmup_epochs": 0}))
    for name, start, n, extra in runs:
        if (work / name / "weights" / "best.pt").exists():
            continue
        shutil.rmtree(work / name, ignore_errors=True)
        model = YOLO(start)
        model.add_callback("on_train_start", lambda trainer: torch.set_num_threads(TRAIN_THREADS))
        # an absolute project: ultralytics puts a relative one under its own runs folder, outside `work`
        model.train(data=str(tiles_yaml.resolve()), epochs=n, imgsz=TILE, batch=16, workers=0, device="cpu", seed=0,
                    deterministic=True, plots=False, project=str(work.resolve()), name=name, exist_ok=True,
                    verbose=False, **extra)
    return work / runs[-1][0] / "weights" / "best.pt"


def coco_ground_truth(synth: Path, images: list[Path], names: dict[int, str]) -> dict:
    import cv2

    gt = {"images": [], "annotations": [], "categories": [{"id": k, "name": v} for k, v in names.items()]}
    for image_id, path in enumerate(images):
        h, w = cv2.imread(str(path)).shape[:2]
        gt["images"].append({"id": image_id, "file_name": path.name, "width": w, "height": h})
        classes, boxes = read_labels(synth / "labels" / "val" / f"{path.stem}.txt", w, h)
        for c, (x1, y1, x2, y2) in zip(classes, boxes):
            gt["annotations"].append({
                "id": len(gt["annotations"]) + 1, "image_id": image_id, "category_id": int(c), "iscrowd": 0,
                "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1),
            })
    return gt


def coco_map(gt: dict, results: list[dict]) -> dict[str, float]:
    import contextlib
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    if not results:
        return {"AP": 0.0, "AP50": 0.0, "AP_small": 0.0}
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = gt
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(results)
        e = COCOeval(coco_gt, coco_dt, "bbox")
        e.params.maxDets = [1, 10, 10_000]  # hundreds of objects per image: do not cut at 100
        e.evaluate()
        e.accumulate()
        e.summarize()
    # stats[0] reads maxDets=100 whatever the list holds (-1 here); AP50-95 from the precision table at 10,000
    precision = e.eval["precision"][:, :, :, 0, -1]  # [IoU thresholds, recall points, classes] at area 'all'
    ap = float(precision[precision > -1].mean()) if (precision > -1).any() else -1.0
    return {"AP": ap, "AP50": float(e.stats[1]), "AP_small": float(e.stats[3])}


# ----------------------------------------------------------------------------------------------------------------
# Methods
# ----------------------------------------------------------------------------------------------------------------
class Sahi:
    def __init__(self, model: Path, conf: float, backend: str = "torch"):
        from sahi import AutoDetectionModel

        self.label = f"SAHI 0.12.8 ({backend})"
        if backend == "openvino":  # the same export tinydet uses, run by ultralytics' own OpenVINO backend
            from tinydet.infer.backends.export import exported

            model = exported(model, "openvino", (TILE, TILE))[0].parent
        self.model = AutoDetectionModel.from_pretrained(
            model_type="ultralytics", model_path=str(model), confidence_threshold=conf, device="cpu", image_size=TILE
        )

    def __call__(self, path: Path) -> tuple[list, list, list]:
        from sahi.predict import get_sliced_prediction

        result = get_sliced_prediction(
            str(path), self.model, slice_height=TILE, slice_width=TILE, overlap_height_ratio=OVERLAP,
            overlap_width_ratio=OVERLAP, perform_standard_pred=False, postprocess_type="GREEDYNMM",
            postprocess_match_metric="IOS", postprocess_match_threshold=MATCH_THRESHOLD,
            postprocess_class_agnostic=False, force_postprocess_type=True, verbose=0,
        )
        preds = result.object_prediction_list
        return ([p.bbox.to_xyxy() for p in preds], [p.score.value for p in preds], [p.category.id for p in preds])


class Tinydet:
    def __init__(self, model: Path, conf: float, backend: str, batch: int, merge: str = "greedy-nmm"):
        from tinydet.infer.sliced import SliceOptions, SlicedPredictor

        kind, *flags = backend.split("-")
        half, float_input = "half" in flags, "floatin" in flags
        precision = {"torch": "", "onnxruntime": "", "openvino": " f32"}[kind] if not half else " bf16"
        other = "" if merge == "greedy-nmm" else f", {merge}"
        other += ", float32 input" if float_input else ""
        self.label = f"tinydet ({kind}{precision}, batch {batch}{other})"
        match = "ios" if merge in ("greedy-nmm", "nmm", "nms") else None
        self.predictor = SlicedPredictor(model, SliceOptions(
            slice=(TILE, TILE), overlap=OVERLAP, merge=merge, match=match, iou=MATCH_THRESHOLD, conf=conf,
            batch=batch, backend=kind, device="cpu", half=half,
        ))
        if float_input:  # the path before uint8 tiles went into the OpenVINO graph, for a side-by-side row
            self.predictor.backend = FloatInput(self.predictor.backend)
        self.forward_seconds = 0.0  # the backend's share of this method's time

    def __call__(self, path: Path):
        d = self.predictor(path)
        self.forward_seconds += self.predictor.timing.forward
        return d.xyxy.tolist(), d.confidence.tolist(), d.class_id.tolist()


class FloatInput:
    """A backend without its uint8 entry (`takes_uint8`): the predictor hands it float32 [B, 3, H, W] tiles."""

    takes_uint8 = False

    def __init__(self, backend):
        self.backend = backend
        self.names, self.stride, self.end2end, self.input_hw = backend.names, backend.stride, backend.end2end, backend.input_hw

    def __call__(self, batch):
        return self.backend(batch)


class BareForward:
    """Only the backend's forward pass on the same tiles, batched the same way (no reading, no decoding)."""

    def __init__(self, method: Tinydet):
        self.predictor = method.predictor
        self.label = f"bare forward ({method.label.split('(')[1]}"
        self._cache: dict[Path, list] = {}

    def prepare(self, path: Path) -> None:
        """Build the input batches before timing (outside the measured call)."""
        from tinydet.infer.images import open_image

        p = self.predictor
        reader = open_image(path)
        batches = []
        for batch in p._batches(reader):
            batches.append(p.prepare(batch, reader).clone())
        self._cache = {path: batches}

    def __call__(self, path: Path):
        for x in self._cache[path]:
            self.predictor.backend(x)
        return None


# ----------------------------------------------------------------------------------------------------------------
# Evaluation
# ----------------------------------------------------------------------------------------------------------------
def evaluate(model: Path, synth: Path, images: list[Path], conf: float, backends: list[str], batch: int,
             sahi_backends: list[str], extra_merges: list[str] = ()) -> dict:
    import torch

    import tinydet  # noqa: F401

    names = {int(k): v for k, v in enumerate(["disc", "square", "triangle", "cross"])}
    gt = coco_ground_truth(synth, images, names)
    torch.set_num_threads(THREADS)  # before the backends are built: ONNX Runtime and OpenVINO take it too
    ours = [Tinydet(model, conf, b, batch) for b in backends]
    ours += [Tinydet(model, conf, "openvino", batch, merge) for merge in extra_merges]
    methods = [Sahi(model, conf, b) for b in sahi_backends] + ours
    bare = [BareForward(m) for m in ours if m.label in [f"tinydet ({k}, batch {batch})" for k in ("torch", "openvino f32", "openvino bf16")]]
    everything = methods + bare
    for m in methods:  # warm-up: first calls compile, allocate and (SAHI) set up ultralytics' predictor
        m(images[0])
    for m in ours:
        m.forward_seconds = 0.0
    torch.set_num_threads(THREADS)  # ultralytics' predictor set its own count when it was set up
    seconds = {m.label: 0.0 for m in everything}
    results: dict[str, list] = {m.label: [] for m in methods}
    for k, path in enumerate(images):
        for b in bare:
            b.prepare(path)
        order = everything[k % len(everything):] + everything[: k % len(everything)]  # rotate: spread the noise
        for m in order:
            start = time.perf_counter()
            out = m(path)
            seconds[m.label] += time.perf_counter() - start
            if out is not None:
                for (x1, y1, x2, y2), s, c in zip(*out):
                    results[m.label].append({"image_id": k, "category_id": int(c), "score": float(s),
                                             "bbox": [x1, y1, x2 - x1, y2 - y1]})
        print(f"  image {k + 1}/{len(images)}: " + ", ".join(f"{lab} {sec:.1f}s" for lab, sec in seconds.items()), flush=True)
    tiles = ours[0].predictor.timing.tiles
    rows = []
    for m in methods:
        row = {"method": m.label, "seconds": seconds[m.label], "img_per_s": len(images) / seconds[m.label],
               **coco_map(gt, results[m.label]), "boxes": len(results[m.label])}
        if isinstance(m, Tinydet):
            row["forward_in_pipeline"] = m.forward_seconds
        rows.append(row)
    for b in bare:
        rows.append({"method": b.label, "seconds": seconds[b.label], "img_per_s": len(images) / seconds[b.label]})
    with_bare = [m for m in ours if any(b.predictor is m.predictor for b in bare)]
    folder = [{"method": m.label, **folder_seconds(m, images, FOLDER_PASSES)} for m in with_bare]
    return {"rows": rows, "images": len(images), "tiles_per_image": tiles, "conf": conf, "threads": THREADS,
            "folder": folder}


def folder_seconds(method: Tinydet, images: list[Path], passes: int) -> dict:
    """Seconds to predict every image one after another, as `tinydet predict FOLDER` does: each image opened
    when its turn comes ('plain'), and each next image decoded in a background thread meanwhile ('read_ahead',
    tinydet.infer.readahead, what the CLI runs). The two alternate, `passes` times each; medians."""
    import statistics
    from contextlib import closing

    from tinydet.infer.readahead import read_ahead

    predictor = method.predictor

    def plain() -> None:
        for path in images:
            predictor(path)

    def ahead() -> None:
        with closing(read_ahead(images)) as opened_images:
            for _, opened in opened_images:
                with closing(opened()) as reader:
                    predictor.predict_reader(reader)

    seconds: dict[str, list[float]] = {"plain": [], "read_ahead": []}
    for _ in range(passes):
        for name, run in (("plain", plain), ("read_ahead", ahead)):
            start = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in seconds.items()}


THREADS = 1
TRAIN_THREADS = 1


def main() -> None:
    global THREADS, TRAIN_THREADS
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", default=".bench/sliced", help="working folder (data, tiles, model, results)")
    parser.add_argument("--train-images", type=int, default=3)
    parser.add_argument("--val-images", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--more-epochs", type=int, default=0, help="continue training for this many epochs")
    parser.add_argument("--model", default=None, help="use this checkpoint instead of training one")
    parser.add_argument("--conf", type=float, default=0.05)
    parser.add_argument("--batch", type=int, default=4, help="tinydet tiles per forward pass")
    parser.add_argument("--backends", nargs="+", default=["torch", "openvino", "openvino-half", "onnxruntime"],
                        help="tinydet backends (openvino-half: OpenVINO in the CPU's native bf16; a -floatin suffix: the backend "
                             "is handed float32 tiles instead of uint8 ones, the path before uint8 input existed)")
    parser.add_argument("--sahi-backends", nargs="+", default=["torch", "openvino"],
                        help="SAHI with the checkpoint (torch) and with its OpenVINO export run by ultralytics")
    parser.add_argument("--extra-merges", nargs="*", default=["nms", "wbf"],
                        help="also tinydet (openvino f32) with these merges (IoS for nms), for accuracy")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for every method")
    parser.add_argument("--train-threads", type=int, default=1, help="torch threads for training")
    parser.add_argument("--write", default=None, help="replace the section in this BENCHMARKS.md")
    parser.add_argument("--prepare-only", action="store_true", help="stop after data and training")
    args = parser.parse_args()
    THREADS, TRAIN_THREADS = args.threads, args.train_threads
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    synth = make_data(work, args.train_images, args.val_images)
    print(f"data ready ({time.perf_counter() - t0:.0f}s)", flush=True)
    model = Path(args.model) if args.model else train(make_tiles(synth, work), work, args.epochs, args.more_epochs)
    if not model.is_file():
        raise SystemExit(f"no checkpoint at {model}")
    print(f"model ready: {model} ({time.perf_counter() - t0:.0f}s)", flush=True)
    if args.prepare_only:
        return
    images = sorted((synth / "images" / "val").glob("*.jpg"))
    before = cpu_seconds()
    result = evaluate(model, synth, images, args.conf, args.backends, args.batch, args.sahi_backends, args.extra_merges)
    result["other_cores"] = other_cores(before, cpu_seconds())
    import torch

    sys.path.insert(0, str(Path(__file__).parent))
    from merge_speed import merge_table

    torch.set_num_threads(1)
    result["merge_boxes"] = 100_000
    result["merges"] = merge_table(result["merge_boxes"])
    result["total_seconds"] = time.perf_counter() - t0
    (work / "result.json").write_text(json.dumps(result, indent=1))
    command = "PYTHONPATH=. python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
    text = report(result, command)
    print(text)
    if args.write:
        replace_section(Path(args.write), SECTION, text.split("\n", 1)[1])


if __name__ == "__main__":
    main()
