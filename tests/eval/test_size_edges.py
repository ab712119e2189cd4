"""Boxes of exactly 8, 16 and 32 px land in the same AI-TOD bucket in `analyze` and in evaluation.

The centres below were picked so that the label's normalised -> pixel arithmetic leaves the corner difference a
hair under the labelled side (the test checks that it does, so it cannot pass by luck of the positions)."""

from __future__ import annotations

import numpy as np
from datahelpers import make_yolo

from tinydet.data.analysis import analyze
from tinydet.data.formats.yolo import read_yolo
from tinydet.detections import Detections
from tinydet.eval import EvalOptions, evaluate_detections
from tinydet.eval.data import ground_truth_from_images

SIDES = {8: 0.006742, 16: 0.013484, 32: 0.036767}  # side in px on a 640 px image -> centre x (normalised)


def edge_dataset(tmp_path):
    text = "".join(f"0 {cx} 0.5 {side / 640} {side / 640}\n" for side, cx in SIDES.items())
    return read_yolo(make_yolo(tmp_path / "edges", {"a.png": text}, size=(640, 640), names=("a",)))


def test_the_positions_do_produce_rounding_noise(tmp_path):
    boxes = edge_dataset(tmp_path).splits["train"][0].boxes
    naive = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    assert (naive < np.array(list(SIDES)) ** 2).all()


def test_analyze_puts_each_edge_box_in_the_bucket_it_starts(tmp_path):
    buckets = analyze(edge_dataset(tmp_path)).buckets.aitod
    assert buckets == {"very_tiny": 0, "tiny": 1, "small": 1, "medium": 1, "large": 0}


def test_evaluation_uses_the_same_areas_as_analyze(tmp_path):
    images = edge_dataset(tmp_path).splits["train"]
    gt = ground_truth_from_images(images, ["a"])
    assert gt.area.tolist() == [64.0, 256.0, 1024.0]
    # Only the 8 px box is found. An area range includes both its ends (as in pycocotools), so 'tiny' (64-256 px^2)
    # holds the 8 and the 16 px box: recall 1/2. With an area of 63.99999999999 it held only the 16 px box: 0.
    found = [Detections(im.boxes[:1], np.ones(1), im.classes[:1]) for im in images]
    aitod = evaluate_detections(images, found, EvalOptions(blocks=("aitod",)), names=["a"]).aitod
    assert aitod.ARt == 0.5 and aitod.ARvt == 1
