"""A teacher's training set that shares no image with the students': the full training split minus the subset.

The distillation comparison (BENCHMARKS.md, "Pruning and distillation") needs a teacher that has seen images the
students have not, or it only repeats what the students learn anyway. On hit_uav that is the 1,229 training images
outside hit_uav-lite's 800:

  python benchmarks/teacher_split.py --data ../shared/datasets/hit_uav/data.yaml \\
      --exclude ../shared/datasets/hit_uav/data-lite.yaml --out .bench/source
  python benchmarks/train_matrix.py --data .bench/source/data.yaml --out .bench/source --seeds 0 --epochs 15 \\
      --imgsz 320 --batch 16 --variant teacher=yolov8n
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def images_outside(images: list[Path], excluded: list[Path]) -> list[Path]:
    """The images of `images` (in order) whose resolved path is not among `excluded`'s."""
    taken = {p.resolve() for p in excluded}
    return [p for p in images if p.resolve() not in taken]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="data.yaml whose training split is the pool")
    parser.add_argument("--exclude", required=True, help="data.yaml whose training images are left out")
    parser.add_argument("--out", required=True, help="new folder: train.txt (through links) and data.yaml")
    args = parser.parse_args()

    from tinydet.data.datayaml import load_data_yaml, split_images
    from tinydet.data.sampling import write_list_dataset

    pool = split_images(load_data_yaml(args.data).splits["train"])
    excluded = split_images(load_data_yaml(args.exclude).splits["train"])
    kept = images_outside(pool, excluded)
    if not kept:
        raise SystemExit(f"every training image of {args.data} is in {args.exclude}: nothing is left for a teacher")
    note = f"training images not in {args.exclude} ({len(pool)} - {len(pool) - len(kept)})"
    print(write_list_dataset(args.data, kept, np.ones(len(kept), np.int64), args.out, note))


if __name__ == "__main__":
    main()
