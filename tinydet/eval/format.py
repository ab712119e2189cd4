"""Plain-text tables of an EvalResult (what `tinydet eval` and `tinydet val` print)."""

from __future__ import annotations

from dataclasses import fields

from tinydet.eval.result import EvalResult

_SKIP = {"max_dets", "thresholds"}


def _row(values, width: int = 8) -> str:
    return "".join(f"{v:>{width}}" for v in values)


def _block(title: str, block) -> list[str]:
    names = [f.name for f in fields(block) if f.name not in _SKIP]
    return [title, "  " + _row(names), "  " + _row(f"{getattr(block, n):.4f}" for n in names)]


def format_result(result: EvalResult, per_class: bool = True) -> str:
    """Blocks, best-F1 point and per-class table; -1 marks a bucket without ground truth."""
    lines = [f"{result.n_images} images, {result.n_gt} objects (+{result.n_crowd} crowd regions), "
             f"{result.n_pred} predictions"]
    if result.coco is not None:
        lines += _block("coco (pycocotools-exact; IoU 0.50:0.95; 100 detections per image and class; "
                        "s < 32 px, m 32-96, l > 96 by sqrt(area))", result.coco)
    if result.aitod is not None:
        lines += _block(f"aitod (IoU 0.50:0.95; {result.aitod.max_dets} detections; vt < 8 px, t 8-16, s 16-32, "
                        "m 32-64, l > 64)", result.aitod)
    if result.center is not None:
        taus = result.center.thresholds
        lines += _block(f"center (match when centre distance <= tau * sqrt(w*h) of the object; tau {taus[0]:g}..{taus[-1]:g}; "
                        "AP50/AP25/AP10 = tau 0.50/0.25/0.10)", result.center)
    if result.best_f1 is not None:
        op = result.best_f1
        lines.append(f"best F1 {op.f1:.4f} at confidence {op.confidence:.4f}: precision {op.precision:.4f}, "
                     f"recall {op.recall:.4f} (tp {op.tp}, fp {op.fp}, objects {op.n_gt}; IoU 0.5)")
    if per_class and result.per_class:
        width = max(8, *(len(c.name) + 2 for c in result.per_class))
        head = ["id", "objects", "preds", "AP", "AP50", "AP_cent", "P", "R", "F1"]
        lines.append(f"{'class':<{width}}" + _row(head))
        for c in result.per_class:
            lines.append(f"{c.name:<{width}}" + _row([c.category_id, c.n_gt, c.n_pred] + [
                f"{v:.4f}" for v in (c.AP, c.AP50, c.AP_center, c.precision, c.recall, c.f1)]))
    lines.append("-1: no objects in that bucket (left out of means, as in pycocotools)")
    return "\n".join(lines)
