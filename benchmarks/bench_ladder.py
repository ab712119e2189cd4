"""The seed-002 ladder under one budget, in the seed's table form.

yolov8n -> +P2 -> +P2 -P5 -> + bi-directional fusion -> + CBAM (seed 002, Krasnov et al., "Improved YOLOv8 Network
for Small Objects Detection"), each trained with the same epochs, imgsz, batch and seeds. Reports mAP50,
mAP50-95, COCO AP small (objects under 32x32 px, pycocotools), parameters (and after Conv+BN fusion, the count
the seed's table reports), GFLOPs at the trained imgsz, and CPU latency per image.

Training goes through benchmarks/train_matrix.py (resumable: run the same command again after a kill); the
metrics are computed here from each run's weights/best.pt on the val split. Results: OUT/ladder.md, OUT/ladder.json.

Lite tier (CPU, the protocol of ../shared/docs/BENCHMARKS.md; about 2 x 25-45 min per variant and seed):
  python benchmarks/bench_ladder.py --data ../shared/datasets/hit_uav/data-lite.yaml --out .bench/ladder-lite \\
      --imgsz 416 --epochs 25 --batch 16 --seeds 0 1
Smoke (proves the pipeline end to end; the numbers mean nothing):
  python benchmarks/bench_ladder.py --data ../shared/datasets/hit_uav/data.yaml --out /tmp/ladder-smoke \\
      --imgsz 160 --epochs 1 --batch 8 --seeds 0 --subset 40
Extra rungs: --variant cbam-paper=yolov8n-p2-nop5-bifusion-cbam-paper (LABEL=MODEL, as train_matrix.py takes them).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import statistics
import subprocess
import sys
import time
from copy import deepcopy
from pathlib import Path

# (label for run folders, model, row name in the table); the first rung is the baseline of the ratios.
# Labels are the zoo names, so the ladder and the recipe tables share the baseline runs (same OUT/runs).
LADDER = (
    ("yolov8n", "yolov8n", "Baseline (YOLOv8n)"),
    ("yolov8n-p2", "yolov8n-p2", "Baseline + P2"),
    ("yolov8n-p2-nop5", "yolov8n-p2-nop5", "Baseline + P2 - P5"),
    ("yolov8n-p2-nop5-bifusion", "yolov8n-p2-nop5-bifusion", "+ bi-directional fusion"),
    ("yolov8n-p2-nop5-bifusion-cbam", "yolov8n-p2-nop5-bifusion-cbam", "+ CBAM (seed's variant)"),
)
SMALL = 32  # COCO: small objects have area < 32^2 px
HERE = Path(__file__).resolve().parent


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="data.yaml (YOLO layout)")
    ap.add_argument("--out", required=True, help="folder for runs/, the subset data and the results")
    ap.add_argument("--imgsz", type=int, default=416)
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--variant", action="append", default=[], help="extra rung LABEL=MODEL (after the ladder)")
    ap.add_argument("--subset", type=int, default=0, help="smoke runs: use N train and N val images (0: all)")
    ap.add_argument("--latency-images", type=int, default=50, help="val images timed at batch 1 per model")
    ap.add_argument("--skip-train", action="store_true", help="only evaluate runs already in OUT/runs")
    return ap.parse_args()


# ---------------------------------------------------------------------------------------------------- data
def subset_data(data_yaml: str, out: Path, n: int) -> Path:
    """A data.yaml over n train and n val images of `data_yaml` (fixed random pick, seed 0), as .txt lists."""
    import yaml

    from tinydet.data.datayaml import load_data_yaml, split_images

    cfg = load_data_yaml(data_yaml)
    out.mkdir(parents=True, exist_ok=True)
    lists = {}
    for split in ("train", "val"):
        images = sorted(split_images(cfg.splits[split]))
        picked = sorted(random.Random(0).sample(images, min(n, len(images))))
        lists[split] = out / f"{split}.txt"
        lists[split].write_text("".join(f"{p.resolve()}\n" for p in picked))
    path = out / "data.yaml"
    names = dict(enumerate(cfg.names))
    path.write_text(yaml.safe_dump({"train": str(lists["train"]), "val": str(lists["val"]), "nc": cfg.nc, "names": names}))
    return path


def coco_ground_truth(images: list[Path], nc: int):
    """pycocotools COCO object of the YOLO labels of `images` (pixel boxes; categories = class ids 0..nc-1, the
    numbering the predictions use too)."""
    from PIL import Image
    from pycocotools.coco import COCO

    from tinydet.data.datayaml import label_path_for

    imgs, anns = [], []
    for image_id, path in enumerate(images):
        with Image.open(path) as im:
            w, h = im.size
        imgs.append({"id": image_id, "width": w, "height": h, "file_name": path.name})
        label = label_path_for(path)
        rows = label.read_text().split("\n") if label.is_file() else []
        for row in (r.split() for r in rows if r.strip()):
            c, cx, cy, bw, bh = int(row[0]), *(float(v) for v in row[1:5])
            box = [(cx - bw / 2) * w, (cy - bh / 2) * h, bw * w, bh * h]
            anns.append({"id": len(anns) + 1, "image_id": image_id, "category_id": c, "bbox": box,
                         "area": box[2] * box[3], "iscrowd": 0})
    gt = COCO()
    gt.dataset = {"images": imgs, "annotations": anns, "categories": [{"id": c} for c in range(nc)]}
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
    return gt


# ---------------------------------------------------------------------------------------------------- metrics
def coco_metrics(model, images: list[Path], gt, imgsz: int) -> dict[str, float]:
    """COCO AP, AP50 and AP small of `model` on `images` (predictions at conf 0.001, as for mAP)."""
    from pycocotools.cocoeval import COCOeval

    from tinydet.infer.sliced import SlicedPredictor, SliceOptions

    predictor = SlicedPredictor(model.ckpt_path, SliceOptions(slice=None, imgsz=imgsz, conf=0.001, tile_iou=0.7,
                                                               max_det=300))
    dets = []
    for image_id, image in enumerate(images):
        dets.extend(predictor(image).to_coco(image_id))
    if not dets:
        return {"coco_ap": 0.0, "coco_ap50": 0.0, "ap_small": 0.0}
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator = COCOeval(gt, gt.loadRes(dets), "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    stats = [max(float(s), 0.0) for s in evaluator.stats]  # -1 (no such objects) reads as 0
    return {"coco_ap": stats[0], "coco_ap50": stats[1], "ap_small": stats[3]}


def latency_ms(model, images: list[Path], imgsz: int) -> dict[str, float]:
    """Median per-image CPU times at batch 1 (ultralytics' own stage timings, default conf 0.25), after warm-up."""
    model.predict(str(images[0]), imgsz=imgsz, verbose=False)  # warm-up
    speeds = [model.predict(str(p), imgsz=imgsz, verbose=False)[0].speed for p in images]
    return {
        "inference_ms": statistics.median(s["inference"] for s in speeds),
        "total_ms": statistics.median(s["preprocess"] + s["inference"] + s["postprocess"] for s in speeds),
    }


def evaluate_run(best: Path, data_yaml: Path, images: list[Path], gt, args) -> dict[str, float]:
    from tinydet.eval.result import small_object_metrics
    from tinydet.eval.validate import ValOptions, validate
    from tinydet.infer.backends.pytorch import load_yolo as load_model
    from tinydet.integrations.ultralytics.builder import gflops

    metrics = small_object_metrics(validate(str(best), str(data_yaml), ValOptions(imgsz=args.imgsz)))
    # tinydet's evaluator (pycocotools-exact), the same numbers as the recipes table (lite_tables.py)
    row = {"mAP50": metrics["AP50"], "mAP50-95": metrics["AP"], "APvt": metrics["APvt"], "APt": metrics["APt"]}
    model = load_model(best)
    net = model.model.float()
    row["params"] = sum(p.numel() for p in net.parameters())
    row["params_fused"] = sum(p.numel() for p in deepcopy(net).fuse(verbose=False).parameters())
    row["gflops"] = gflops(net, args.imgsz)
    row.update(coco_metrics(model, images, gt, args.imgsz))
    row.update(latency_ms(model, images[: args.latency_images], args.imgsz))
    return row


# ---------------------------------------------------------------------------------------------------- table
def mean_spread(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (max(values) - min(values)) / 2


def fmt(values: list[float], digits: int = 3) -> str:
    mean, spread = mean_spread(values)
    return f"{mean:.{digits}f}" + (f" ± {spread:.{digits}f}" if len(values) > 1 else "")


def table(results: dict[str, list[dict]], names: dict[str, str], args) -> str:
    baseline = results.get(LADDER[0][0], [])  # the ratios need the baseline's own finished runs
    base_small = statistics.fmean(r["ap_small"] for r in baseline) if baseline else 0.0
    lines = [
        f"| Model | seeds | mAP50 | mAP50-95 | AP small | AP small vs baseline | Params (fused) | GFLOPs@{args.imgsz} | CPU ms/img (inference) |",
        "| --- | :-: | :-: | :-: | :-: | :-: | :-: | :-: | :-: |",
    ]
    for label, rows in results.items():
        small = statistics.fmean(r["ap_small"] for r in rows)
        gain = f"{small / base_small - 1:+.0%}" if base_small > 0 else "n/a"
        r0 = rows[0]
        lines.append(
            f"| {names[label]} | {', '.join(str(r['seed']) for r in rows)} | {fmt([r['mAP50'] for r in rows])} | {fmt([r['mAP50-95'] for r in rows])} "
            f"| {fmt([r['ap_small'] for r in rows])} | {gain} "
            f"| {r0['params'] / 1e6:.3f}M ({r0['params_fused'] / 1e6:.3f}M) | {r0['gflops']:.1f} "
            f"| {fmt([r['total_ms'] for r in rows], 1)} ({fmt([r['inference_ms'] for r in rows], 1)}) |"
        )
    lines.append(
        f"\n{args.epochs} epochs, imgsz {args.imgsz}, batch {args.batch}; mean ± half-range over the seeds; "
        f"data {args.data}{f' (subset {args.subset})' if args.subset else ''}; AP small: pycocotools, area < {SMALL}^2 px."
    )
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    out = Path(args.out).resolve()
    import tinydet  # noqa: F401  (offline ultralytics, registered modules)
    from tinydet.data.datayaml import load_data_yaml, split_images

    data = subset_data(args.data, out / "data", args.subset) if args.subset else Path(args.data).resolve()
    rungs = [(label, model) for label, model, _ in LADDER]
    rungs += [tuple(v.split("=", 1)) for v in args.variant]
    names = {label: name for label, _, name in LADDER}
    names.update({label: f"{label} ({model})" for label, model in rungs if label not in names})
    if not args.skip_train:
        cmd = [sys.executable, str(HERE / "train_matrix.py"), "--data", str(data), "--out", str(out / "runs"),
               "--imgsz", str(args.imgsz), "--epochs", str(args.epochs), "--batch", str(args.batch),
               "--seeds", *map(str, args.seeds)]
        for label, model in rungs:
            cmd += ["--variant", f"{label}={model}"]
        subprocess.run(cmd, check=True)

    data_cfg = load_data_yaml(data)
    images = split_images(data_cfg.splits["val"])
    gt = coco_ground_truth(images, data_cfg.nc)
    results: dict[str, list[dict]] = {}
    sys.path.insert(0, str(HERE))
    from train_matrix import finished

    for label, model in rungs:
        for seed in args.seeds:
            run_dir = out / "runs" / f"{label}-s{seed}"
            if not finished(run_dir, args.epochs):  # --skip-train while runs are still training
                print(f"[ladder] {run_dir.name}: not finished ({args.epochs} epochs), left out", flush=True)
                continue
            best = run_dir / "weights" / "best.pt"
            t0 = time.time()
            row = evaluate_run(best, data, images, gt, args) | {"label": label, "model": model, "seed": seed}
            print(f"[ladder] {label}-s{seed}: {json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()})} "
                  f"({time.time() - t0:.0f} s)", flush=True)
            results.setdefault(label, []).append(row)
    text = table(results, names, args)
    missing = [names[label] for label, _ in rungs if label not in results]
    if missing:
        text += f"\nNot trained yet (no finished run): {', '.join(missing)}."
    (out / "ladder.json").write_text(json.dumps(results, indent=1))
    (out / "ladder.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
