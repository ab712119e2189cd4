"""tinydet's metrics against pycocotools on random cases: the COCO block must equal its 12 stats, the AI-TOD
block its precision/recall with AI-TOD's buckets and cap, and the centre block pycocotools run with a
centre-distance similarity (a slow, obviously-correct loop written here) in place of IoU."""

from __future__ import annotations

import json
from dataclasses import astuple

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cocogen import pycocotools_stats, random_case
from tinydet.eval.evaluator import evaluate
from tinydet.eval.load_coco import load_coco_ground_truth, load_coco_predictions
from tinydet.eval.params import AITOD_RANGES, CENTER_THRESHOLDS, EvalOptions

TOL = 1e-4  # the requirement; in practice the numbers are identical


def ours(tmp_path, gt: dict, preds: list, **options):
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "pred.json").write_text(json.dumps(preds))
    g = load_coco_ground_truth(tmp_path / "gt.json")
    return evaluate(g, load_coco_predictions(tmp_path / "pred.json", g), EvalOptions(**options))


def mean_defined(x: np.ndarray) -> float:
    x = x[x > -1]
    return float(x.mean()) if x.size else -1.0


@pytest.mark.parametrize("first_seed", range(0, 240, 8))
def test_coco_block_equals_pycocotools(tmp_path, first_seed):
    for seed in range(first_seed, first_seed + 8):
        gt, preds = random_case(seed)
        if not preds:  # pycocotools cannot load an empty results list
            continue
        expected, _ = pycocotools_stats(gt, preds)
        got = np.array(astuple(ours(tmp_path, gt, preds, blocks=("coco",)).coco))
        np.testing.assert_allclose(got, expected, atol=TOL, rtol=0, err_msg=f"seed {seed}")


def test_random_cases_cover_the_corner_cases():
    """The generator really produces what the parity test claims to cover."""
    seen = {"crowd": 0, "empty image": 0, "image with only predictions": 0, "score ties": 0, "over 100 in a group": 0,
            "tiny": 0, "huge": 0, "-1 bucket": 0}
    for seed in range(0, 240):
        gt, preds = random_case(seed)
        anns = gt["annotations"]
        seen["crowd"] += any(a["iscrowd"] for a in anns)
        with_gt = {a["image_id"] for a in anns}
        with_pred = {p["image_id"] for p in preds}
        seen["empty image"] += any(im["id"] not in with_gt | with_pred for im in gt["images"])
        seen["image with only predictions"] += bool(with_pred - with_gt)
        scores = [p["score"] for p in preds]
        seen["score ties"] += len(scores) != len(set(scores))
        groups: dict = {}
        for p in preds:
            groups[p["image_id"], p["category_id"]] = groups.get((p["image_id"], p["category_id"]), 0) + 1
        seen["over 100 in a group"] += any(n > 100 for n in groups.values())
        seen["tiny"] += any(a["bbox"][2] * a["bbox"][3] < 16 for a in anns)
        seen["huge"] += any(a["bbox"][2] * a["bbox"][3] > 96**2 for a in anns)
        seen["-1 bucket"] += not any(32**2 <= a["area"] <= 96**2 for a in anns if not a["iscrowd"])
    assert all(n >= 5 for n in seen.values()), seen


@st.composite
def grid_cases(draw):
    """Few boxes on an integer grid: exact IoU ties, IoU exactly at thresholds, identical boxes, equal scores."""
    scale = draw(st.sampled_from([1.0, 8.0, 40.0]))
    n_images = draw(st.integers(1, 3))
    box = st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(1, 4), st.integers(1, 4))
    gts = draw(st.lists(st.tuples(st.integers(0, n_images - 1), st.sampled_from([1, 2]), box,
                                  st.booleans().map(lambda b: b and draw(st.integers(0, 4)) == 0)), max_size=10))
    preds = draw(st.lists(st.tuples(st.integers(0, n_images - 1), st.sampled_from([1, 2]), box,
                                    st.sampled_from([0.1, 0.5, 0.9])), min_size=1, max_size=14))
    gt = {"images": [{"id": i + 1} for i in range(n_images)], "categories": [{"id": 1}, {"id": 2}],
          "annotations": [{"id": k + 1, "image_id": im + 1, "category_id": c, "bbox": [v * scale for v in b],
                           "area": b[2] * b[3] * scale**2, "iscrowd": int(crowd)} for k, (im, c, b, crowd) in enumerate(gts)]}
    res = [{"image_id": im + 1, "category_id": c, "bbox": [v * scale for v in b], "score": s} for im, c, b, s in preds]
    return gt, res


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=grid_cases())
def test_coco_block_equals_pycocotools_on_grid_cases(tmp_path, case):
    gt, preds = case
    assume(preds)
    expected, _ = pycocotools_stats(gt, preds)
    got = np.array(astuple(ours(tmp_path, gt, preds, blocks=("coco",)).coco))
    np.testing.assert_allclose(got, expected, atol=TOL, rtol=0)


@pytest.mark.parametrize("first_seed", range(1000, 1080, 8))
def test_aitod_block_equals_pycocotools_with_aitod_buckets(tmp_path, first_seed):
    cap = 20  # small, so that the cap matters in the random cases
    ranges = [[r.lo, r.hi] for r in AITOD_RANGES]
    for seed in range(first_seed, first_seed + 8):
        gt, preds = random_case(seed)
        if not preds:
            continue
        _, ev = pycocotools_stats(gt, preds, ranges, [r.name for r in AITOD_RANGES], [1, 10, cap])
        p, r = ev.eval["precision"][..., -1], ev.eval["recall"][..., -1]
        expected = [mean_defined(p[..., a]) for a in range(6)] + [mean_defined(r[..., a]) for a in range(6)]
        expected += [mean_defined(p[0, ..., 0]), mean_defined(p[5, ..., 0])]
        a = ours(tmp_path, gt, preds, blocks=("aitod",), max_dets=cap).aitod
        got = [a.AP, a.APvt, a.APt, a.APs, a.APm, a.APl, a.AR, a.ARvt, a.ARt, a.ARs, a.ARm, a.ARl, a.AP50, a.AP75]
        np.testing.assert_allclose(got, expected, atol=TOL, rtol=0, err_msg=f"seed {seed}")


def centre_similarity(self, img_id, cat_id):
    """pycocotools' computeIoU with the centre-distance value of docs/eval.md, written as a plain loop."""
    gts, dts = self._gts[img_id, cat_id], self._dts[img_id, cat_id]
    if not gts and not dts:
        return []
    order = np.argsort([-d["score"] for d in dts], kind="mergesort")
    dts = [dts[i] for i in order][: self.params.maxDets[-1]]
    out = np.zeros((len(dts), len(gts)))
    for i, d in enumerate(dts):
        for j, g in enumerate(gts):
            (xd, yd, wd, hd), (xg, yg, wg, hg) = d["bbox"], g["bbox"]
            dx, dy = (xd + wd / 2) - (xg + wg / 2), (yd + hd / 2) - (yg + hg / 2)
            if g["iscrowd"]:
                out[i, j] = 0.0 if abs(dx) <= wg / 2 and abs(dy) <= hg / 2 else -np.inf
            else:
                out[i, j] = -np.hypot(dx, dy) / max(np.sqrt(wg * hg), 1.0)
    return out


@pytest.mark.parametrize("first_seed", range(2000, 2064, 8))
def test_center_block_equals_pycocotools_with_centre_similarity(tmp_path, first_seed):
    cap = 30
    taus = np.array(CENTER_THRESHOLDS)
    ranges = [[r.lo, r.hi] for r in AITOD_RANGES]
    for seed in range(first_seed, first_seed + 8):
        gt, preds = random_case(seed)
        if not preds:
            continue
        _, ev = pycocotools_stats(gt, preds, ranges, [r.name for r in AITOD_RANGES], [1, 10, cap],
                                  compute_iou=centre_similarity, iou_thresholds=-taus)
        p, r = ev.eval["precision"][..., -1], ev.eval["recall"][..., -1]
        expected = [mean_defined(p[..., a]) for a in range(6)] + [mean_defined(r[..., 0])]
        expected += [mean_defined(p[list(taus).index(t), ..., 0]) for t in (0.5, 0.25, 0.1)]
        c = ours(tmp_path, gt, preds, blocks=("center",), max_dets=cap).center
        got = [c.AP, c.APvt, c.APt, c.APs, c.APm, c.APl, c.AR, c.AP50, c.AP25, c.AP10]
        np.testing.assert_allclose(got, expected, atol=TOL, rtol=0, err_msg=f"seed {seed}")


def test_equal_iou_goes_to_the_later_ground_truth(tmp_path):
    """A prediction with the same IoU to two objects takes the later one (pycocotools' rule), which decides what
    the next prediction can still match: here IoU 0.54 instead of 0.82."""
    gt = {"images": [{"id": 1}], "categories": [{"id": 1}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0},
                          {"id": 2, "image_id": 1, "category_id": 1, "bbox": [2, 0, 10, 10], "area": 100, "iscrowd": 0}]}
    preds = [{"image_id": 1, "category_id": 1, "bbox": [1, 0, 10, 10], "score": 0.9},
             {"image_id": 1, "category_id": 1, "bbox": [3, 0, 10, 10], "score": 0.8}]
    expected, _ = pycocotools_stats(gt, preds)
    got = np.array(astuple(ours(tmp_path, gt, preds, blocks=("coco",)).coco))
    np.testing.assert_allclose(got, expected, atol=TOL, rtol=0)
    assert expected[0] < 0.45  # 0.40; giving the tie to the first object would make it 0.70


def test_annotation_id_zero_is_an_ordinary_object(tmp_path):
    """The one intended difference: pycocotools stores matches as annotation ids and reads id 0 as 'unmatched',
    so a prediction matching an object whose id is 0 counts as a false positive there. tinydet ignores ids."""
    gt = {"images": [{"id": 1}], "categories": [{"id": 1}],
          "annotations": [{"id": i, "image_id": 1, "category_id": 1, "bbox": [50 * i, 0, 10, 10], "area": 100,
                           "iscrowd": 0} for i in (0, 1)]}
    preds = [{"image_id": 1, "category_id": 1, "bbox": [50 * i, 0, 10, 10], "score": 0.9 - 0.1 * i} for i in (0, 1)]
    assert pycocotools_stats(gt, preds)[0][0] < 0.3
    assert ours(tmp_path, gt, preds, blocks=("coco",)).coco.AP == 1.0
