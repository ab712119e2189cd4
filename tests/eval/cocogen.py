"""Random COCO ground truth and results built to stress the corner cases of COCO evaluation, and pycocotools'
answer for them (the reference every tinydet metric is tested against)."""

from __future__ import annotations

import contextlib
import copy
import io

import numpy as np


def _box(rng: np.random.Generator, kind: str) -> list[float]:
    size = {"tiny": (0.5, 10), "small": (6, 40), "medium": (30, 110), "huge": (90, 700)}[kind]
    w, h = rng.uniform(*size, 2)
    x, y = rng.uniform(0, 800, 2)
    if rng.random() < 0.3:  # on a half-pixel grid: exact IoU ties and IoU exactly at thresholds happen
        x, y, w, h = (np.round(v * 2) / 2 for v in (x, y, w, h))
        w, h = max(w, 0.5), max(h, 0.5)
    return [float(x), float(y), float(w), float(h)]


def _jitter(rng: np.random.Generator, bb: list[float], scale: float) -> list[float]:
    x, y, w, h = bb
    dx, dy = rng.normal(0, scale * w), rng.normal(0, scale * h)
    sw, sh = np.exp(rng.normal(0, scale, 2))
    return [float(x + dx), float(y + dy), float(max(w * sw, 0.1)), float(max(h * sh, 0.1))]


def random_case(seed: int, max_images: int = 10, max_cats: int = 4, crowd_rate: float = 0.12) -> tuple[dict, list]:
    """(ground-truth dict, results list) with crowd regions, empty images, images with only predictions,
    score ties, tiny and huge boxes, wrong classes, duplicates, and more than 100 predictions in some groups."""
    rng = np.random.default_rng(seed)
    n_images = int(rng.integers(1, max_images + 1))
    cat_ids = sorted(rng.choice(np.arange(0, 12), int(rng.integers(1, max_cats + 1)), replace=False).tolist())
    image_ids = sorted(rng.choice(np.arange(1, 1000), n_images, replace=False).tolist())
    kinds = ["tiny", "small", "medium", "huge"]
    kind_p = rng.dirichlet(np.ones(4))
    gt = {"images": [{"id": i, "file_name": f"im{i}.jpg", "width": 900, "height": 900} for i in image_ids],
          "categories": [{"id": c, "name": f"c{c}"} for c in cat_ids], "annotations": []}
    preds: list[dict] = []
    score_levels = int(rng.integers(2, 30))  # few distinct scores -> many ties
    for img in image_ids:
        mode = rng.random()
        n_gt = 0 if mode < 0.15 else int(rng.integers(1, 9))
        boxes = []
        for _ in range(n_gt):
            cat = int(rng.choice(cat_ids))
            bb = _box(rng, str(rng.choice(kinds, p=kind_p)))
            if boxes and rng.random() < 0.1:  # an identical second box
                bb = list(boxes[-1][1])
            crowd = int(rng.random() < crowd_rate)
            area = bb[2] * bb[3]
            if rng.random() < 0.1:  # COCO areas come from masks: not always w*h
                area *= float(rng.uniform(0.5, 1.0))
            gt["annotations"].append({"id": len(gt["annotations"]) + 1, "image_id": img, "category_id": cat,
                                      "bbox": bb, "area": area, "iscrowd": crowd})
            boxes.append((cat, bb))
        for cat, bb in boxes:  # predictions near the objects, some with the wrong class, some duplicated
            for _ in range(int(rng.integers(0, 4))):
                c = cat if rng.random() < 0.85 else int(rng.choice(cat_ids))
                preds.append({"image_id": img, "category_id": c, "bbox": _jitter(rng, bb, float(rng.choice([0.02, 0.1, 0.3]))),
                              "score": float(np.round(rng.random() * score_levels) / score_levels)})
        n_bg = int(rng.integers(0, 6)) if mode > 0.05 else 0
        if rng.random() < 0.08:  # a crowded group: more than 100 predictions of one class
            n_bg = int(rng.integers(101, 140))
        cat = int(rng.choice(cat_ids))
        for _ in range(n_bg):
            preds.append({"image_id": img, "category_id": cat if n_bg > 100 else int(rng.choice(cat_ids)),
                          "bbox": _box(rng, str(rng.choice(kinds, p=kind_p))),
                          "score": float(np.round(rng.random() * score_levels) / score_levels)})
    order = rng.permutation(len(preds))
    return gt, [preds[i] for i in order]


def pycocotools_stats(gt: dict, preds: list, area_rng=None, area_lbl=None, max_dets=None, compute_iou=None,
                      iou_thresholds=None) -> tuple[np.ndarray, object]:
    """pycocotools' 12 stats (and the COCOeval object) for a ground-truth dict and a results list."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(copy.deepcopy(preds))
        ev = COCOeval(coco_gt, coco_dt, "bbox")
        if area_rng is not None:
            ev.params.areaRng, ev.params.areaRngLbl = area_rng, area_lbl
        if max_dets is not None:
            ev.params.maxDets = max_dets
        if iou_thresholds is not None:
            ev.params.iouThrs = np.asarray(iou_thresholds, np.float64)
        if compute_iou is not None:
            ev.computeIoU = compute_iou.__get__(ev)
        ev.evaluate()
        ev.accumulate()
        if area_rng is None and max_dets is None and iou_thresholds is None:
            ev.summarize()
    return np.array(getattr(ev, "stats", [])), ev
