"""Batch prediction over Ray against one process: wall time and identical outputs, side by side in one run.

    PYTHONPATH=. python benchmarks/ray_predict.py [--work .bench/ray] [--images 16] [--workers 1 2]

Steps (each skipped when its output exists):

1. images: `--images` random-noise JPEGs of 320x240 (seeded), so every tile yields boxes to write;
2. model: a yolov8n trained for one epoch on `tinydet synth` data at 64 px (the weights only need to run);
3. runs, each a fresh `tinydet predict` process with the same options (sliced into 160x160 tiles, conf 0.001 so
   that outputs are not empty, labels and predictions.json written): one process with every torch thread,
   then `--ray` with 1, 2, ... workers of one CPU each on a local cluster started for the command.

Reported per run: wall seconds of the whole command (startup included), prediction seconds (the CLI prints
them: from the first image on, after the model or the Ray workers are ready), images per second over those, and whether labels/ and predictions.json are identical to
the single-process run. A local cluster's startup is part of each Ray command's wall time.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def tinydet(*args: str, quiet: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-m", "tinydet", *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"tinydet {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return done


def make_images(folder: Path, n: int) -> None:
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        path = folder / f"noise_{i:03d}.jpg"
        if not path.is_file():
            cv2.imwrite(str(path), rng.integers(0, 256, (240, 320, 3), dtype=np.uint8))


def make_model(work: Path) -> Path:
    best = work / "model" / "weights" / "best.pt"
    if not best.is_file():
        tinydet("synth", str(work / "synth"), "--images", "8", "--val-images", "2", "--size", "128")
        tinydet("train", "--data", str(work / "synth" / "data.yaml"), "--model", "yolov8n", "--epochs", "1",
                "--imgsz", "64", "--batch", "4", "--out", str(work / "model"))
    return best


def same_outputs(a: Path, b: Path) -> bool:
    """labels/*.txt and predictions.json byte for byte."""
    if not filecmp.cmp(a / "predictions.json", b / "predictions.json", shallow=False):
        return False
    names = sorted(p.name for p in (a / "labels").iterdir())
    if names != sorted(p.name for p in (b / "labels").iterdir()):
        return False
    return all(filecmp.cmp(a / "labels" / n, b / "labels" / n, shallow=False) for n in names)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default=".bench/ray", help="working folder (images, model, outputs)")
    ap.add_argument("--images", type=int, default=16)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="Ray worker counts to run")
    args = ap.parse_args()
    work = Path(args.work).resolve()
    images = work / "images"
    make_images(images, args.images)
    model = make_model(work)
    common = [str(images), "--model", str(model), "--slice", "160", "--conf", "0.001", "--save-txt", "--save-json"]

    rows = []
    runs = [("single process", [], None)] + [(f"Ray, {n} worker(s) of 1 CPU", ["--ray", "--ray-workers", str(n),
                                                                               "--ray-cpus", "1"], n) for n in args.workers]
    for label, extra, _ in runs:
        out = work / ("out-" + re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-"))
        if out.exists():
            import shutil

            shutil.rmtree(out)
        start = time.perf_counter()
        done = tinydet("predict", *common, *extra, "--out", str(out))
        wall = time.perf_counter() - start
        found = re.search(r"in ([0-9.]+) s", done.stdout)
        predict_s = float(found.group(1)) if found else None
        rows.append((label, wall, predict_s, out))
        print(f"{label}: {wall:.1f} s wall" + (f", {predict_s:.1f} s predicting" if predict_s else ""), flush=True)

    reference = rows[0][3]
    lines = [f"{args.images} random 320x240 images, 160x160 tiles (6 per image), yolov8n (1 epoch, weights only run), "
             f"torch backend, {os.cpu_count()} CPU cores", "",
             "| run | wall s (startup included) | prediction s (from the first image on, as the CLI prints it) | images/s over prediction | outputs equal single process |",
             "|---|---:|---:|---:|---|"]
    for label, wall, predict_s, out in rows:
        rate = f"{args.images / predict_s:.2f}" if predict_s else ""
        equal = "(reference)" if out == reference else ("yes" if same_outputs(reference, out) else "**no**")
        lines.append(f"| {label} | {wall:.1f} | {predict_s if predict_s is not None else ''} | {rate} | {equal} |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
