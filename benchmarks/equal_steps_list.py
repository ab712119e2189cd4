"""Equal-steps training lists: every image once plus uniformly drawn extra entries, up to a given length.

Repeat-factor sampling lengthens each epoch (hit_uav lite, t=0.3: 800 images -> 893 list entries, 12% more
steps). Training the baseline on a list of every image once plus uniformly drawn repeats takes the same number
of steps with no class preference, so the difference between the two runs is the sampling, not the extra
training:

  python benchmarks/equal_steps_list.py --data ../shared/datasets/hit_uav/data-lite.yaml --entries 893 \\
      --out .bench/equal-steps
  python benchmarks/train_matrix.py --data .bench/equal-steps/data.yaml --out .bench/lite --seeds 0 \\
      --variant equal-steps=yolov8n

`--extra-from-negatives` does the same for hard-negative mining: given the dataset written by `tinydet
mine-negatives`, the labelled images are listed once and the extra entries are drawn (each at most once) from
the mined negative images only, so a hard-negative run takes as many steps as the runs above:

  tinydet mine-negatives --model .bench/lite/dcn-s0/weights/best.pt --data ../shared/datasets/hit_uav/data-lite.yaml \\
      --imgsz 416 --out .bench/hardneg
  python benchmarks/equal_steps_list.py --data .bench/hardneg/data.yaml --entries 893 --extra-from-negatives \\
      --out .bench/hardneg-893
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


def negatives_drawn(is_negative: np.ndarray, entries: int, seed: int) -> np.ndarray:
    """int64 [n_images]: 1 for every image that is not a negative, 1 for `entries - n_labelled` negatives drawn
    uniformly without replacement, 0 for the other negatives."""
    n_labelled = int(np.sum(~is_negative))
    pool = np.flatnonzero(is_negative)
    if not n_labelled <= entries <= n_labelled + len(pool):
        raise SystemExit(f"--entries must be between the labelled image count ({n_labelled}) and that plus the "
                         f"{len(pool)} negatives, got {entries}")
    copies = (~is_negative).astype(np.int64)
    copies[np.random.default_rng(seed).choice(pool, entries - n_labelled, replace=False)] = 1
    return copies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="data.yaml whose training split is listed")
    parser.add_argument("--entries", type=int, required=True, help="list length (the repeat-factor list's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--extra-from-negatives", action="store_true",
                        help="draw the extra entries from the images `tinydet mine-negatives` added, not as repeats")
    parser.add_argument("--out", required=True, help="new folder: train.txt (through links) and data.yaml")
    args = parser.parse_args()

    from tinydet.data.datayaml import load_data_yaml, split_images
    from tinydet.data.negatives import NEGATIVES_FOLDER
    from tinydet.data.sampling import write_list_dataset

    config = load_data_yaml(args.data)
    images = split_images(config.splits["train"])
    if args.extra_from_negatives:
        is_negative = np.array([NEGATIVES_FOLDER in p.parts for p in images])
        copies = negatives_drawn(is_negative, args.entries, args.seed)
        note = f"labelled images once, mined negatives drawn up to {args.entries} entries (seed={args.seed})"
    else:
        copies = uniform_copies(len(images), args.entries, args.seed)
        note = f"uniform repeats up to {args.entries} entries (seed={args.seed})"
    print(write_list_dataset(config.yaml_path, images, copies, args.out, note))


if __name__ == "__main__":
    main()
