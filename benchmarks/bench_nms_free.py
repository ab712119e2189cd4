"""NMS against NMS-free on the same YOLO26 checkpoints: accuracy and latency, side by side in one run.

A YOLO26-style head has two branches trained together: one-to-many (as YOLOv8's, needs NMS) and one-to-one
(one box per object, no NMS). ultralytics 8.4.190 and tinydet infer with the first unless asked (`nms=False`,
`--nms-free`). Comparing the two branches of one checkpoint isolates what dropping NMS costs or saves; nothing
else differs.

For every --run LABEL=CHECKPOINT and both modes:
- accuracy on the val split with tinydet's evaluator (`tinydet.eval.validate`, conf 0.001, max 300 boxes, the
  same settings as benchmarks/lite_tables.py): mAP50, mAP50-95, AP small (< 32^2 px), AP tiny (AI-TOD 8-16 px);
- latency at batch 1 on the first --latency-images val images, conf --latency-conf: ultralytics' own stage
  timings (preprocess, inference, postprocess, where NMS runs), median per image. The two modes alternate image
  by image (a YOLO object each: one ultralytics predictor would be rebuilt whenever `nms` changes), so
  machine noise hits both alike. On CPU, pause other jobs while it runs.

  python benchmarks/bench_nms_free.py --data ../shared/datasets/hit_uav/data-lite.yaml --imgsz 416 \\
      --run yolo26n-p2=.bench/lite/yolo26n-p2-s0/weights/best.pt \\
      --run yolo26n-p2-nop5=.bench/lite/yolo26n-p2-nop5-s0/weights/best.pt --out .bench/nms-free
Results: OUT/nms_free.md and OUT/nms_free.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

MODES = (("NMS (one-to-many)", False), ("NMS-free (one-to-one)", True))


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="data.yaml (YOLO layout)")
    ap.add_argument("--run", action="append", required=True, metavar="LABEL=CHECKPOINT", help="a YOLO26-style .pt")
    ap.add_argument("--imgsz", type=int, default=416)
    ap.add_argument("--latency-images", type=int, default=50, help="val images timed at batch 1 per mode")
    ap.add_argument("--latency-conf", type=float, default=0.25, help="confidence threshold while timing")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", required=True, help="folder for nms_free.md and nms_free.json")
    return ap.parse_args()


def accuracy(checkpoint: str, data: str, imgsz: int, nms_free: bool, device: str) -> dict[str, float]:
    from tinydet.eval.result import small_object_metrics
    from tinydet.eval.validate import ValOptions, validate

    result = validate(checkpoint, data, ValOptions(imgsz=imgsz, device=device, nms_free=nms_free))
    m = small_object_metrics(result)
    return {"mAP50": m["AP50"], "mAP50-95": m["AP"], "AP small": m["APs"], "AP tiny": m["APt"]}


def latencies(checkpoint: str, images: list[Path], imgsz: int, conf: float, device: str) -> dict[bool, dict]:
    """Median ms per stage for each mode (False: NMS, True: NMS-free), modes alternating image by image."""
    from tinydet.infer.backends.pytorch import load_yolo as load_model

    models = {free: load_model(checkpoint) for _, free in MODES}
    kwargs = {free: dict(imgsz=imgsz, conf=conf, device=device, verbose=False, **({"nms": False} if free else {}))
              for _, free in MODES}
    for free, model in models.items():  # warm-up (and the predictor picks its head here)
        model.predict(str(images[0]), **kwargs[free])
    speeds = {free: [] for free in models}
    for image in images:
        for free, model in models.items():
            speeds[free].append(model.predict(str(image), **kwargs[free])[0].speed)
    return {free: {stage: statistics.median(s[stage] for s in runs) for stage in ("preprocess", "inference", "postprocess")}
            | {"total": statistics.median(sum(s.values()) for s in runs)}
            for free, runs in speeds.items()}


def table(rows: list[dict], imgsz: int, conf: float, n_images: int) -> str:
    lines = ["| model | mode | mAP50 | mAP50-95 | AP small | AP tiny | ms/img total | inference | postprocess |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        a, t = r["accuracy"], r["latency"]
        lines.append(f"| {r['label']} | {r['mode']} | {a['mAP50']:.3f} | {a['mAP50-95']:.3f} | {a['AP small']:.3f} "
                     f"| {a['AP tiny']:.3f} | {t['total']:.1f} | {t['inference']:.1f} | {t['postprocess']:.2f} |")
    lines.append(f"\nimgsz {imgsz}; accuracy: val split, conf 0.001; latency: median over {n_images} val images at "
                 f"batch 1, conf {conf}, ultralytics' stage timings (ms).")
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    import tinydet  # noqa: F401  (offline ultralytics, registered modules)
    from tinydet.data.datayaml import load_data_yaml, split_images

    runs = [tuple(spec.split("=", 1)) for spec in args.run]
    if any(len(r) != 2 for r in runs):
        raise SystemExit("--run takes LABEL=CHECKPOINT")
    images = sorted(split_images(load_data_yaml(args.data).splits["val"]))[: args.latency_images]
    rows = []
    for label, checkpoint in runs:
        times = latencies(checkpoint, images, args.imgsz, args.latency_conf, args.device)
        for mode, free in MODES:
            print(f"{label}: {mode}: evaluating", flush=True)
            rows.append({"label": label, "checkpoint": checkpoint, "mode": mode, "nms_free": free,
                         "accuracy": accuracy(checkpoint, args.data, args.imgsz, free, args.device),
                         "latency": times[free]})
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    text = table(rows, args.imgsz, args.latency_conf, len(images))
    (out / "nms_free.json").write_text(json.dumps({"args": vars(args), "rows": rows}, indent=1))
    (out / "nms_free.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
