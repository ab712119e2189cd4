"""Sample pictures: an image with its true positives, false positives and missed objects drawn in three colours,
as a JPEG data URI. Small images are enlarged (nearest neighbour) so that tiny objects stay visible."""

from __future__ import annotations

import base64

import cv2
import numpy as np

from tinydet.eval.result import EvalDetails

# BGR
TP_COLOUR, FP_COLOUR, MISSED_COLOUR = (60, 170, 40), (60, 60, 230), (230, 140, 30)
CSS_COLOURS = {"true positive": "#28aa3c", "false positive": "#e63c3c", "missed": "#1e8ce6"}


def _scale_for(width: int, height: int, smallest: int = 512, largest: int = 900) -> float:
    long_side = max(width, height, 1)
    if long_side < smallest:
        return float(max(1, smallest // long_side))
    return min(1.0, largest / long_side)


def _rect(img: np.ndarray, xywh: np.ndarray, scale: float, colour, thickness: int) -> None:
    x, y, w, h = (float(v) * scale for v in xywh)
    p1 = (int(round(x)) - 1, int(round(y)) - 1)
    p2 = (int(round(x + w)) + 1, int(round(y + h)) + 1)  # one pixel outside: the object stays visible
    cv2.rectangle(img, p1, p2, colour, thickness, cv2.LINE_AA)


def sample_picture(d: EvalDetails, image_index: int, confidence: float) -> tuple[str, dict[str, int]]:
    """(JPEG data URI, counts) of one image at `confidence`: TP green, FP red, missed objects blue.

    Predictions below the confidence, on crowd regions or beyond the evaluation cap are not drawn.
    """
    path = d.gt.image_files[image_index]
    img = cv2.imread(path)
    if img is None:
        w, h = (int(v) or 256 for v in d.gt.image_sizes[image_index])
        img = np.full((h, w, 3), 40, np.uint8)  # the image is gone: draw the boxes on grey
    scale = _scale_for(img.shape[1], img.shape[0])
    interp = cv2.INTER_NEAREST if scale > 1 else cv2.INTER_AREA
    img = cv2.resize(img, (int(round(img.shape[1] * scale)), int(round(img.shape[0] * scale))), interpolation=interp)
    thickness = 2
    on_image = d.preds.image == image_index
    shown = on_image & (d.preds.score >= confidence)
    tp, fp = shown & (d.pred_state == 1), shown & (d.pred_state == 0)
    objects = np.flatnonzero((d.gt.image == image_index) & ~d.gt.crowd)
    found = d.gt_pred[objects]
    missed = objects[(found < 0) | (d.preds.score[np.maximum(found, 0)] < confidence)] if len(d.preds) else objects
    for i in missed:
        _rect(img, d.gt.xywh[i], scale, MISSED_COLOUR, thickness)
    for i in np.flatnonzero(fp):
        _rect(img, d.preds.xywh[i], scale, FP_COLOUR, thickness)
    for i in np.flatnonzero(tp):
        _rect(img, d.preds.xywh[i], scale, TP_COLOUR, thickness)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])
    uri = "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode()
    return uri, {"true positive": int(tp.sum()), "false positive": int(fp.sum()), "missed": len(missed)}
