"""A fake backend that finds what is drawn: red rectangles are class 0, green ones class 1, on a black image.

It returns raw head output like a real ultralytics Detect head ([B, 4 + nc, A], cx cy w h in input pixels), so
the whole pipeline (tiling, padding, decoding, shifting, merging) is exercised with known answers. A box that
touches the edge of the tile's content (it may be cut) scores 0.6, a whole one 0.9.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

PAD = 114 / 255


class DrawnBoxes:
    names = {0: "red", 1: "green"}
    stride = 32
    end2end = False

    def __init__(self, input_hw=(64, 64)):
        self.input_hw = input_hw
        self.calls: list[tuple[int, ...]] = []

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        self.calls.append(tuple(batch.shape))
        x = batch.numpy()
        found = []
        for item in x:
            content = ~np.all(np.isclose(item, PAD, atol=1e-3), axis=0)
            ys, xs = np.nonzero(content)
            right, bottom = (xs.max() + 1, ys.max() + 1) if len(xs) else (0, 0)
            boxes = []
            for cls, channel in ((0, 0), (1, 1)):
                mask = ((item[channel] > 0.5) & content).astype(np.uint8)
                n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
                for left, top, w, h, _ in stats[1:n]:
                    cut = left == 0 or top == 0 or left + w >= right or top + h >= bottom
                    boxes.append((left + w / 2, top + h / 2, w, h, cls, 0.6 if cut else 0.9))
            found.append(boxes)
        anchors = max(1, max(len(b) for b in found))
        raw = torch.zeros(len(x), 6, anchors)
        for i, boxes in enumerate(found):
            for a, (cx, cy, w, h, cls, score) in enumerate(boxes):
                raw[i, :4, a] = torch.tensor([cx, cy, w, h])
                raw[i, 4 + cls, a] = score
        return raw


class DrawnBoxesUint8(DrawnBoxes):
    """The same fake for a backend that `takes_uint8`: it accepts only uint8 [B, H, W, 3] RGB tiles."""

    takes_uint8 = True

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        assert batch.dtype == torch.uint8 and batch.ndim == 4 and batch.shape[-1] == 3, (batch.dtype, batch.shape)
        return super().__call__(batch.permute(0, 3, 1, 2).float() / 255)


def drawn_scene(width, height, seed=0, count=30, size=(4, 14)):
    """A black BGR image with `count` separated rectangles (red = 0, green = 1) and their true boxes."""
    rng = np.random.default_rng(seed)
    image = np.zeros((height, width, 3), np.uint8)
    boxes, classes = [], []
    for _ in range(count * 20):
        if len(boxes) == count:
            break
        w, h = rng.integers(size[0], size[1], 2)
        x, y = rng.integers(1, width - w - 1), rng.integers(1, height - h - 1)  # off the border: whole boxes score 0.9
        if any(x < bx2 + 3 and bx1 < x + w + 3 and y < by2 + 3 and by1 < y + h + 3 for bx1, by1, bx2, by2 in boxes):
            continue
        cls = int(rng.integers(0, 2))
        image[y : y + h, x : x + w] = (0, 0, 255) if cls == 0 else (0, 255, 0)
        boxes.append((int(x), int(y), int(x + w), int(y + h)))
        classes.append(cls)
    return image, np.array(boxes, np.float32).reshape(-1, 4), np.array(classes)


def sort_boxes(xyxy, classes):
    order = np.lexsort((xyxy[:, 1], xyxy[:, 0]))
    return xyxy[order], np.asarray(classes)[order]
