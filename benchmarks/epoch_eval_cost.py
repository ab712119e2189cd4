"""What tinydet's per-epoch tiny metrics cost: scoring a run's validation predictions (COCO + AI-TOD + centre
blocks, as the training validator does every epoch) against that run's mean epoch time.

The predictions are the ones `tinydet compare RUN` cached (RUN/tinydet_eval/predictions.json, conf 0.001, as
validation predicts); the epoch time comes from RUN/results.csv (ultralytics' cumulative `time` column, training
and validation together):

    tinydet compare .bench/distill/control-s0
    PYTHONPATH=$PWD python benchmarks/epoch_eval_cost.py .bench/distill/control-s0 --data ../shared/datasets/hit_uav/data-lite.yaml
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from pathlib import Path


def epoch_seconds(results_csv: Path) -> list[float]:
    """Seconds of each epoch from ultralytics' cumulative `time` column."""
    times = [float(r["time"]) for r in csv.DictReader(results_csv.open())]
    return [b - a for a, b in zip([0.0, *times], times)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="run folders with a cached `tinydet compare` evaluation")
    parser.add_argument("--data", required=True, help="the runs' data.yaml (its val split is scored)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    from tinydet.eval.evaluator import evaluate
    from tinydet.eval.load_coco import load_coco_predictions
    from tinydet.eval.load_yolo import load_yolo_ground_truth
    from tinydet.eval.params import EvalOptions

    gt = load_yolo_ground_truth(args.data, "val")
    print("| run | predictions | scoring (s, median) | mean epoch (s) | share |")
    print("|---|---|---|---|---|")
    for run in args.runs:
        preds = load_coco_predictions(run / "tinydet_eval" / "predictions.json", gt)
        seconds = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            evaluate(gt, preds, EvalOptions())
            seconds.append(time.perf_counter() - start)
        scoring, epoch = statistics.median(seconds), statistics.mean(epoch_seconds(run / "results.csv"))
        print(f"| {run.name} | {len(preds):,} | {scoring:.2f} | {epoch:.0f} | {100 * scoring / epoch:.2f}% |")


if __name__ == "__main__":
    main()
