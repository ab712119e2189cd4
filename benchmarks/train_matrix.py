"""Train a matrix of (variant x seed) runs under one budget, resumably, for the accuracy tables.

Each variant is `LABEL=MODEL[,key=value...]`: keys are tinydet train options (recipe, box_loss, ...) or
ultralytics train arguments. Runs land in OUT/<label>-s<seed>/; a finished run is skipped, an interrupted
one resumed, so the command can simply be started again after a kill.

Budgets follow ../shared/docs/BENCHMARKS.md:
  lite (CPU): --data ../shared/datasets/hit_uav/data-lite.yaml --imgsz 416 --epochs 25 --batch 16
  full (GPU): --data ../shared/datasets/hit_uav/data.yaml      --imgsz 640 --epochs 100 --batch 32

Example:
  python benchmarks/train_matrix.py --data ../shared/datasets/hit_uav/data-lite.yaml --out .bench/lite \\
      --seeds 0 1 --variant yolov8n=yolov8n --variant p2=yolov8n-p2
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path


def parse_variant(text: str) -> tuple[str, str, dict, dict]:
    """'LABEL=MODEL,k=v,...' -> (label, model, recipe options, ultralytics arguments)."""
    from dataclasses import fields

    from tinydet.cli.common import parse_overrides
    from tinydet.train.recipe import Recipe

    label, _, rest = text.partition("=")
    model, *pairs = rest.split(",")
    options = parse_overrides(pairs)
    recipe_keys = {f.name for f in fields(Recipe)}
    recipe = {k: v for k, v in options.items() if k in recipe_keys}
    return label, model, recipe, {k: v for k, v in options.items() if k not in recipe_keys}


def finished(run_dir: Path, epochs: int) -> bool:
    """All epochs logged and best.pt written (and, for pose-aux runs, the converted best_detect.pt)."""
    results = run_dir / "results.csv"
    if not (run_dir / "weights" / "best.pt").is_file() or not results.is_file():
        return False
    if "pose-aux" in (run_dir / "tinydet_run.yaml").read_text() and not (run_dir / "weights" / "best_detect.pt").is_file():
        return False
    with results.open() as f:
        rows = list(csv.DictReader(f))
    return len(rows) >= epochs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--variant", action="append", required=True, help="LABEL=MODEL[,key=value...]")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--imgsz", type=int, default=416)
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--device", default=None)
    args = ap.parse_args()

    from tinydet.train.api import TrainOptions, resume, train
    from tinydet.train.recipe import Recipe

    out = Path(args.out).resolve()
    for seed in args.seeds:
        for spec in args.variant:
            label, model, recipe, options = parse_variant(spec)
            run_dir = out / f"{label}-s{seed}"
            if finished(run_dir, args.epochs):
                print(f"[matrix] {run_dir.name}: done, skipped", flush=True)
                continue
            t0 = time.time()
            if (run_dir / "weights" / "last.pt").is_file():
                print(f"[matrix] {run_dir.name}: resuming", flush=True)
                resume(run_dir)
            else:
                if run_dir.exists():
                    import shutil

                    shutil.rmtree(run_dir)  # started but never saved an epoch: nothing to keep
                print(f"[matrix] {run_dir.name}: training {model} recipe={recipe} args={options}", flush=True)
                train(TrainOptions(data=args.data, model=model, epochs=args.epochs, imgsz=args.imgsz,
                                   batch=args.batch, out=str(run_dir), seed=seed, device=args.device,
                                   recipe=Recipe(**recipe), overrides=options))
            stamp = {"label": label, "model": model, "recipe": recipe, "options": options, "seed": seed,
                     "seconds": time.time() - t0}
            (run_dir / "matrix.json").write_text(json.dumps(stamp, indent=1))
            print(f"[matrix] {run_dir.name}: {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
