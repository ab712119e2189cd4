"""Merge speed on many boxes: every tinydet merge on 100,000 boxes shaped like sliced-inference output.

    PYTHONPATH=. python benchmarks/merge_speed.py [--boxes 100000] [--repeats 3] [--threads 1] [--sahi]

The boxes: objects of 4-40 px spread over a 20000 x 20000 image, most seen by one to three tiles (jittered
copies, some cut as at a tile border), four classes, plus clutter. Prints the best-of-repeats time of each
method (wall and process CPU seconds), class-wise, and torchvision's batched_nms for scale (SAHI's greedy NMM
with --sahi). Merging is many small tensor operations: on a busy machine one torch thread is much faster than two
(threads wait for each other), which is why tinydet's predictor merges on one thread.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch


def sliced_like_boxes(n: int, seed: int = 0, size: float = 20000.0):
    rng = np.random.default_rng(seed)
    objects = n // 2
    xy = rng.uniform(0, size, (objects, 2))
    wh = np.exp(rng.uniform(np.log(4), np.log(40), (objects, 2)))
    cls = rng.integers(0, 4, objects)
    copies = rng.choice([1, 2, 3], objects, p=[0.3, 0.5, 0.2])
    pick = np.repeat(np.arange(objects), copies)[:n]
    boxes = np.concatenate([xy[pick], xy[pick] + wh[pick]], 1) + rng.normal(0, 0.7, (len(pick), 4))
    cut = rng.random(len(pick)) < 0.1
    boxes[cut, 2] = boxes[cut, 0] + (boxes[cut, 2] - boxes[cut, 0]) * rng.uniform(0.3, 0.9, cut.sum())
    extra = n - len(pick)
    if extra > 0:  # clutter
        cxy = rng.uniform(0, size, (extra, 2))
        cwh = rng.uniform(2, 30, (extra, 2))
        boxes = np.concatenate([boxes, np.concatenate([cxy, cxy + cwh], 1)])
        pick = np.concatenate([pick, rng.integers(0, objects, extra)])
    boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 0.5)
    scores = rng.uniform(0.05, 1.0, len(boxes))
    return (torch.tensor(boxes, dtype=torch.float32), torch.tensor(scores, dtype=torch.float32),
            torch.tensor(cls[pick % objects]))


def best_time(fn, repeats: int) -> tuple[float, float, object]:
    """(best wall seconds, best process CPU seconds, last result)."""
    wall, cpu, out = float("inf"), float("inf"), None
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        wall, cpu = min(wall, time.perf_counter() - t), min(cpu, time.process_time() - c)
    return wall, cpu, out


def merge_table(boxes: int = 100_000, repeats: int = 3) -> list[tuple[str, float, float, int]]:
    """(method, best wall s, best CPU s, boxes kept) of every merge and of torchvision's batched_nms."""
    from torchvision.ops import batched_nms

    from tinydet.ops.merge import METHODS, merge

    b, s, c = sliced_like_boxes(boxes)
    rows = []
    for method in METHODS:
        wall, cpu, out = best_time(lambda: merge(method, b, s, c, 0.5), repeats)
        rows.append((method, wall, cpu, len(out.index)))
    wall, cpu, keep = best_time(lambda: batched_nms(b, s, c, 0.5), repeats)
    rows.append(("torchvision batched_nms", wall, cpu, len(keep)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--boxes", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--sahi", action="store_true", help="also time SAHI 0.12.8's greedy NMM (numpy backend)")
    args = parser.parse_args()

    import tinydet  # noqa: F401  (thread settings)
    from tinydet.ops.merge import METHODS, merge

    torch.set_num_threads(args.threads)
    boxes, scores, classes = sliced_like_boxes(args.boxes)
    print(f"{len(boxes)} boxes, {torch.get_num_threads()} torch threads")
    print(f"{'method':<22}{'wall s':>9}{'cpu s':>9}{'kept':>9}")
    for method in METHODS:
        wall, cpu, out = best_time(lambda: merge(method, boxes, scores, classes, 0.5), args.repeats)
        print(f"{method:<22}{wall:9.3f}{cpu:9.3f}{len(out.index):9d}")
    from torchvision.ops import batched_nms

    wall, cpu, keep = best_time(lambda: batched_nms(boxes, scores, classes, 0.5), args.repeats)
    print(f"{'torchvision nms':<22}{wall:9.3f}{cpu:9.3f}{len(keep):9d}")
    if args.sahi:
        from sahi.postprocess.backends import set_postprocess_backend
        from sahi.postprocess.combine import batched_greedy_nmm

        set_postprocess_backend("numpy")
        table = torch.cat([boxes, scores[:, None], classes[:, None].float()], 1).numpy()
        wall, cpu, out = best_time(lambda: batched_greedy_nmm(table, "IOS", 0.5), 1)
        print(f"{'sahi greedy_nmm':<22}{wall:9.3f}{cpu:9.3f}{len(out):9d}  (keepers only: its merging step not included)")


if __name__ == "__main__":
    main()
