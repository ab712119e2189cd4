"""Compression table: params / GFLOPs / mAP50 / mAP50-95 / AP small of a trained model, pruned, pruned and
fine-tuned, and pruned and fine-tuned with distillation from the original (prune, then distil).

Every step writes into OUT and is skipped when its output exists (rerun the same command to resume):
OUT/pruned-r<ratio>.pt, OUT/ft-r<ratio>/ and OUT/kd-r<ratio>/ (training runs), OUT/eval/<name>.json (metrics).
A control row fine-tunes the unpruned model for the same epochs (OUT/ft-original/), so that the pruned rows are
compared with the same amount of training, not only with the starting point.
Metrics come from tinydet's evaluator on the val split at --imgsz (COCO mAP, AP small = area < 32^2 px).

  PYTHONPATH=$PWD python benchmarks/compress_bench.py --data data.yaml --checkpoint best.pt --ratios 0.3 0.5 \\
      --finetune-epochs 10 --imgsz 416 --out .bench/compress
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def evaluate_checkpoint(checkpoint: Path, data: str, imgsz: int, cache: Path) -> dict:
    """Size and val metrics of a checkpoint, cached in `cache` (JSON) keyed by the checkpoint's sha256."""
    from tinydet.compress.checkpoint import model_size
    from tinydet.eval.data import predictions_from_detections
    from tinydet.eval.evaluator import evaluate
    from tinydet.eval.load_yolo import load_yolo_ground_truth
    from tinydet.eval.params import EvalOptions
    from tinydet.eval.result import small_object_metrics
    from tinydet.eval.runs import sha256_file
    from tinydet.eval.validate import ValOptions, full_image_predictor, predict_split
    from tinydet.infer.backends.pytorch import load_yolo as load_model

    digest = sha256_file(checkpoint)
    if cache.is_file():
        stored = json.loads(cache.read_text())
        if stored.get("sha256") == digest and stored.get("imgsz") == imgsz:
            return stored
    val = ValOptions(split="val", imgsz=imgsz, eval=EvalOptions())
    gt = load_yolo_ground_truth(data, "val")
    yolo = load_model(checkpoint)
    size = model_size(yolo.model, imgsz)
    split = predict_split(None, data, val, predictor=full_image_predictor(checkpoint, val))
    result = evaluate(gt, predictions_from_detections(split.detections, gt, source=str(checkpoint)), EvalOptions())
    record = {"sha256": digest, "imgsz": imgsz, "params": size.params, "gflops": size.gflops,
              "metrics": small_object_metrics(result), "checkpoint": str(checkpoint)}
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(record, indent=1))
    return record


def finetune(pruned: Path, run: Path, args, teacher: Path | None) -> Path:
    """Fine-tune a checkpoint, pruned or not (with distillation from `teacher` when given); reuses a finished run."""
    from tinydet.train.api import TrainOptions, train
    from tinydet.train.recipe import Recipe

    best = run / "weights" / "best.pt"
    if (run / "done.json").is_file() and best.is_file():
        return best
    if run.exists():  # an unfinished run: start it again (ultralytics' resume needs the same process layout)
        import shutil

        shutil.rmtree(run)
    recipe = Recipe(distill_from=str(teacher)) if teacher else Recipe()
    start = time.time()
    result = train(TrainOptions(data=args.data, model=str(pruned), epochs=args.finetune_epochs, imgsz=args.imgsz,
                                batch=args.batch, out=str(run), seed=args.seed, workers=args.workers,
                                recipe=recipe, overrides={"plots": False}))
    (run / "done.json").write_text(json.dumps({"seconds": time.time() - start}))
    return result.best


def row(name: str, r: dict, base: dict) -> str:
    m, b = r["metrics"], base["metrics"]
    return (f"| {name} | {r['params'] / 1e6:.3f} ({100 * (r['params'] / base['params'] - 1):+.0f}%) | "
            f"{r['gflops']:.2f} ({100 * (r['gflops'] / base['gflops'] - 1):+.0f}%) | {m['AP50']:.3f} | {m['AP']:.3f} "
            f"| {m['APs']:.3f} | {m['APs'] - b['APs']:+.3f} |")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--checkpoint", required=True, help="the trained model to compress")
    p.add_argument("--teacher", default=None, help="distillation teacher (default: --checkpoint itself)")
    p.add_argument("--ratios", type=float, nargs="+", default=[0.3, 0.5])
    p.add_argument("--criterion", default="bn", choices=["bn", "l1"])
    p.add_argument("--finetune-epochs", type=int, default=10)
    p.add_argument("--imgsz", type=int, default=640)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-distill", action="store_true", help="skip the prune + distil rows")
    p.add_argument("--no-control", action="store_true",
                   help="skip the control row: the unpruned model fine-tuned for the same epochs")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)

    import tinydet  # noqa: F401  offline settings and module registration before anything loads a checkpoint
    from tinydet.compress.checkpoint import PruneOptions, prune_checkpoint

    out, checkpoint = Path(args.out), Path(args.checkpoint).resolve()
    teacher = Path(args.teacher).resolve() if args.teacher else checkpoint
    def ev(name: str, ckpt: Path) -> dict:
        return evaluate_checkpoint(ckpt, args.data, args.imgsz, out / "eval" / f"{name}.json")

    base = ev("original", checkpoint)
    rows = [row(f"original ({checkpoint.name})", base, base)]
    if not args.no_control:  # what the same extra epochs do without pruning: the fair reference for the rows below
        best = finetune(checkpoint, out / "ft-original", args, None)
        rows.append(row(f"original + fine-tune {args.finetune_epochs} ep (control)", ev("ft-original", best), base))
    for ratio in args.ratios:
        pruned = out / f"pruned-r{ratio}.pt"
        if not pruned.is_file():
            prune_checkpoint(checkpoint, pruned, PruneOptions(ratio=ratio, criterion=args.criterion, imgsz=args.imgsz))
        rows.append(row(f"pruned {ratio:.0%}, no fine-tuning", ev(f"pruned-r{ratio}", pruned), base))
        best = finetune(pruned, out / f"ft-r{ratio}", args, None)
        rows.append(row(f"pruned {ratio:.0%} + fine-tune {args.finetune_epochs} ep", ev(f"ft-r{ratio}", best), base))
        if not args.no_distill:
            best = finetune(pruned, out / f"kd-r{ratio}", args, teacher)
            rows.append(row(f"pruned {ratio:.0%} + fine-tune with distillation from {teacher.name}",
                            ev(f"kd-r{ratio}", best), base))
    head = ("| model | params (M) | GFLOPs @%d | mAP50 | mAP50-95 | AP small | AP small vs original |\n"
            "|---|---|---|---|---|---|---|" % args.imgsz)
    table = "\n".join([head, *rows])
    (out / "table.md").write_text(table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
