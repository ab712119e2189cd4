"""The equal-steps control for repeat-factor sampling: a training list that holds every image once plus uniformly
drawn repeats, up to as many entries as the repeat-factor list had.

Repeat-factor sampling lengthens each epoch (hit_uav lite, t=0.3: 800 images -> 893 list entries, 12% more
steps). Training the baseline on this list takes the same number of steps with no class preference, so the
difference between the two runs is the sampling, not the extra training.

  python benchmarks/equal_steps_list.py --data ../shared/datasets/hit_uav/data-lite.yaml --entries 893 \\
      --out .bench/equal-steps
  python benchmarks/train_matrix.py --data .bench/equal-steps/data.yaml --out .bench/lite --seeds 0 \\
      --variant equal-steps=yolov8n
"""

from __future__ import annotations

import argparse

import numpy as np


def uniform_copies(n_images: int, entries: int, seed: int) -> np.ndarray:
    """int64 [n_images]: 1 each, plus 1 more for `entries - n_images` images drawn uniformly without replacement."""
    if not n_images <= entries <= 2 * n_images:
        raise SystemExit(f"--entries must be between the image count ({n_images}) and twice it, got {entries}")
    copies = np.ones(n_images, np.int64)
    copies[np.random.default_rng(seed).choice(n_images, entries - n_images, replace=False)] += 1
    return copies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="data.yaml whose training split is listed")
    parser.add_argument("--entries", type=int, required=True, help="list length (the repeat-factor list's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="new folder: train.txt (through links) and data.yaml")
    args = parser.parse_args()

    from tinydet.data.datayaml import load_data_yaml, split_images
    from tinydet.data.sampling import write_list_dataset

    config = load_data_yaml(args.data)
    images = split_images(config.splits["train"])
    copies = uniform_copies(len(images), args.entries, args.seed)
    print(write_list_dataset(config.yaml_path, images, copies, args.out,
                             f"uniform repeats up to {args.entries} entries (seed={args.seed})"))


if __name__ == "__main__":
    main()
