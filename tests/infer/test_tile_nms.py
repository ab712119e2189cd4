"""The per-tile NMS of decoding (torchvision's kernel, fed unique ranks) equals tinydet.ops.nms exactly: same
kept boxes in the same order, ties in score broken by input order, IoU exactly at the threshold kept."""

from __future__ import annotations

import torch

from tinydet.infer.decode import tile_nms
from tinydet.ops.nms import nms


def _scene(seed: int, integer: bool):
    g = torch.Generator().manual_seed(seed)
    n = int(torch.randint(1, 250, (1,), generator=g))
    xy = torch.randint(0, 60, (n, 2), generator=g).float() if integer else torch.rand(n, 2, generator=g) * 200
    wh = torch.randint(1, 12, (n, 2), generator=g).float() if integer else torch.rand(n, 2, generator=g) * 40 + 0.5
    boxes = torch.cat([xy, xy + wh], 1)
    scores = (torch.rand(n, generator=g) * 6).round() / 6  # many exact ties, as bf16 scores have
    groups = torch.randint(0, 6, (n,), generator=g)
    return boxes, scores, groups


def test_equals_tinydet_nms_with_ties_and_thresholds():
    for seed in range(200):
        boxes, scores, groups = _scene(seed, integer=seed % 2 == 0)
        for threshold in (0.0, 0.25, 0.5, 0.7, 1.0):  # on integer boxes, IoUs of exactly 0.25 / 0.5 occur
            expected = nms(boxes, scores, threshold, groups).index
            assert tile_nms(boxes, scores, threshold, groups).tolist() == expected.tolist(), (seed, threshold)


def test_both_sides_of_the_size_switch_agree(monkeypatch):
    import tinydet.infer.decode as decode

    boxes, scores, groups = _scene(3, integer=True)
    small = tile_nms(boxes, scores, 0.5, groups)
    monkeypatch.setattr(decode, "TORCHVISION_NMS_MAX", 0)  # every size goes to tinydet.ops.nms
    assert decode.tile_nms(boxes, scores, 0.5, groups).tolist() == small.tolist()


def test_tie_goes_to_the_earlier_box_and_equal_iou_is_not_suppressed():
    boxes = torch.tensor([[0.0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 5], [20, 20, 30, 30]])
    scores = torch.tensor([0.5, 0.5, 0.9, 0.5])
    groups = torch.zeros(4, dtype=torch.long)
    # box 2 (0.9) goes first: IoU with 0 and 1 is exactly 0.5, not above 0.5, so both stay; then 0 suppresses 1
    assert tile_nms(boxes, scores, 0.5, groups).tolist() == [2, 0, 3]
    assert tile_nms(boxes, scores, 0.49, groups).tolist() == [2, 3]
    assert tile_nms(boxes, scores, 0.5, torch.tensor([0, 1, 2, 0])).tolist() == [2, 0, 1, 3]
