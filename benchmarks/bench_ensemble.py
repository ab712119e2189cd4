"""Ensembles and test-time augmentation against their single models: accuracy and time, in one run.

For the checkpoints given with --model LABEL=CHECKPOINT (all with the same classes), on the val split of --data:
- each model alone (whole image at --imgsz, conf 0.001, at most 300 boxes: the settings of lite_tables.py);
- each model with TTA (`--tta`: the image, mirrored left-right, at each of --tta-scales; 2 x scales passes);
- all models together (one pass each), fused with --merge (weighted boxes fusion by default, with votes);
accuracy from tinydet's evaluator (mAP50, mAP50-95, AP small < 32^2 px, AP tiny 8-16 px) and seconds per image
(wall time of the whole split divided by its images, so decoding and fusion count). Rows run one after the
other, not interleaved: on a shared machine compare times only roughly (the number of passes is the main cost).

Every row goes through `tinydet predict`'s own predictors (tinydet.infer.batch.PredictSpec), so the figures are
those of `tinydet predict --model A.pt B.pt [--tta]` followed by `tinydet eval`.

  python benchmarks/bench_ensemble.py --data ../shared/datasets/hit_uav/data-lite.yaml --imgsz 416 --tta \\
      --model p2-dcn=.bench/lite/dcn-s0/weights/best.pt --model yolov8n-rfs=.bench/lite/rfs-s1/weights/best.pt \\
      --out .bench/ensemble
Results: OUT/ensemble.md and OUT/ensemble.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="data.yaml (YOLO layout)")
    ap.add_argument("--model", action="append", required=True, metavar="LABEL=CHECKPOINT", help="a .pt (repeat)")
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--tta", action="store_true", help="also a TTA row per model (slow: 2 x scales passes)")
    ap.add_argument("--tta-scales", type=float, nargs="+", default=[0.83, 1.0, 1.25])
    ap.add_argument("--merge", default="wbf", help="fusion of the ensemble and TTA passes (default: wbf)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", required=True, help="folder for ensemble.md and ensemble.json")
    return ap.parse_args()


def measure(spec, data: str, imgsz: int, device: str) -> dict:
    """Accuracy of one PredictSpec on the val split, and its wall seconds per image."""
    from tinydet.eval.result import small_object_metrics
    from tinydet.eval.validate import ValOptions, validate

    predictor = spec.build()
    start = time.perf_counter()
    result = validate(None, data, ValOptions(imgsz=imgsz, device=device), predictor=predictor, progress=True)
    seconds = time.perf_counter() - start
    m = small_object_metrics(result)
    return {"mAP50": m["AP50"], "mAP50-95": m["AP"], "AP small": m["APs"], "AP tiny": m["APt"],
            "s/img": seconds / result.n_images, "passes": getattr(predictor, "passes", 1)}


def table(rows: list[dict]) -> str:
    lines = ["| prediction | passes | mAP50 | mAP50-95 | AP small | AP tiny | s/img | time vs first row |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['label']} | {r['passes']} | {r['mAP50']:.3f} | {r['mAP50-95']:.3f} | {r['AP small']:.3f} "
                     f"| {r['AP tiny']:.3f} | {r['s/img']:.3f} | {r['s/img'] / rows[0]['s/img']:.2f}x |")
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    import tinydet  # noqa: F401  (offline ultralytics, registered modules)
    from tinydet.infer.batch import PredictSpec
    from tinydet.infer.ensemble import EnsembleOptions
    from tinydet.infer.sliced import SliceOptions

    models = [tuple(spec.split("=", 1)) for spec in args.model]
    if any(len(m) != 2 for m in models):
        raise SystemExit("--model takes LABEL=CHECKPOINT")
    whole = SliceOptions(slice=None, imgsz=args.imgsz, conf=0.001, max_det=300, device=args.device)
    fusion = EnsembleOptions(merge=args.merge)
    plans = [(label, PredictSpec((pt,), whole)) for label, pt in models]
    if args.tta:
        tta = EnsembleOptions(merge=args.merge, flip=True, scales=tuple(args.tta_scales))
        plans += [(f"{label} + TTA", PredictSpec((pt,), whole, tta)) for label, pt in models]
    if len(models) > 1:
        plans.append((" + ".join(label for label, _ in models) + f" ({args.merge})",
                      PredictSpec(tuple(pt for _, pt in models), whole, fusion)))
    rows = []
    for label, spec in plans:
        print(f"{label}: predicting the val split", flush=True)
        rows.append({"label": label, "models": list(spec.models)} | measure(spec, args.data, args.imgsz, args.device))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    text = table(rows)
    (out / "ensemble.json").write_text(json.dumps({"args": vars(args), "rows": rows}, indent=1))
    (out / "ensemble.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
