"""Parity of an exported model with the PyTorch checkpoint it came from.

Both run on the same network inputs (the exported model gets exactly the tensor the PyTorch model got) and the
same decoding (tinydet's full-image predictor), and two numbers come out:

- `max_abs_diff`: the largest absolute difference between the raw head outputs, over all images. The raw output
  holds boxes in input pixels (cx, cy, w, h) and class scores in 0-1 (or x1, y1, x2, y2, score, class for
  NMS-free heads), so this is in pixels whenever a box coordinate differs most.
- `agreement`: the fraction of PyTorch's final boxes (after confidence filter and NMS) that the exported model
  also finds: a box of the same class with IoU >= 0.9 (greedy, best PyTorch scores first). None when PyTorch
  finds no box at all.

`TOLERANCES` says what passes, per precision (see docs/export.md for why these values).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from tinydet.detections import Detections
from tinydet.errors import TinydetError
from tinydet.infer.sliced import SlicedPredictor, SliceOptions
from tinydet.ops.boxes import pairwise_iou

MATCH_IOU = 0.9


@dataclass(frozen=True)
class Tolerance:
    """max_abs_diff: largest raw-output difference allowed (None: not checked); agreement: smallest fraction of
    PyTorch boxes the export must reproduce."""

    max_abs_diff: float | None
    agreement: float


TOLERANCES = {
    "fp32": Tolerance(max_abs_diff=0.05, agreement=0.95),
    "fp16": Tolerance(max_abs_diff=None, agreement=0.8),
    "int8": Tolerance(max_abs_diff=None, agreement=0.5),
}


@dataclass(frozen=True)
class ParityResult:
    """images: images compared; max_abs_diff: see module docstring; torch_boxes / export_boxes: final boxes of
    each model over all images; matched: PyTorch boxes reproduced; precision: fp32, fp16 or int8."""

    images: int
    max_abs_diff: float
    torch_boxes: int
    export_boxes: int
    matched: int
    precision: str

    @property
    def agreement(self) -> float | None:
        return self.matched / self.torch_boxes if self.torch_boxes else None

    @property
    def tolerance(self) -> Tolerance:
        return TOLERANCES[self.precision]

    @property
    def failures(self) -> list[str]:
        """What is beyond the tolerance, in words (empty when the export passes)."""
        tol, out = self.tolerance, []
        if not np.isfinite(self.max_abs_diff):
            out.append("the exported model's raw output is not finite")
        elif tol.max_abs_diff is not None and self.max_abs_diff > tol.max_abs_diff:
            out.append(f"raw outputs differ by up to {self.max_abs_diff:.4g} (allowed {tol.max_abs_diff:g} for {self.precision})")
        agreement = self.agreement
        if agreement is not None and agreement < tol.agreement:
            out.append(f"only {self.matched}/{self.torch_boxes} PyTorch boxes ({agreement:.1%}) found again at IoU>="
                       f"{MATCH_IOU} with the same class (needed {tol.agreement:.0%} for {self.precision})")
        return out

    def summary(self) -> str:
        agreement = "n/a (no PyTorch boxes)" if self.agreement is None else \
            f"{self.agreement:.1%} ({self.matched}/{self.torch_boxes} PyTorch boxes; export has {self.export_boxes})"
        verdict = "ok" if not self.failures else "FAILED"
        return (f"parity ({self.precision}, {self.images} images): max |raw diff| {self.max_abs_diff:.3g}, "
                f"box agreement {agreement}: {verdict}")


def match_boxes(reference: Detections, candidate: Detections, min_iou: float = MATCH_IOU) -> int:
    """How many boxes of `reference` have a box of the same class in `candidate` with IoU >= `min_iou`; each
    candidate box is used once, reference boxes are taken best score first."""
    if len(reference) == 0 or len(candidate) == 0:
        return 0
    ious = pairwise_iou(torch.as_tensor(reference.xyxy, dtype=torch.float64),
                        torch.as_tensor(candidate.xyxy, dtype=torch.float64)).numpy()
    same = reference.class_id[:, None] == candidate.class_id[None, :]
    ious = np.where(same, ious, 0.0)
    used = np.zeros(len(candidate), bool)
    matched = 0
    for i in np.argsort(-reference.confidence, kind="stable"):
        row = np.where(used, 0.0, ious[i])
        j = int(row.argmax())
        if row[j] >= min_iou:
            used[j] = True
            matched += 1
    return matched


class _Recorder:
    """A backend wrapper that keeps a copy of the last input and output."""

    def __init__(self, backend):
        self.backend = backend
        self.names, self.stride, self.end2end = backend.names, backend.stride, backend.end2end
        self.input_hw = backend.input_hw
        self.last_input: torch.Tensor | None = None
        self.last_output: torch.Tensor | None = None

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        self.last_input = batch.clone()
        self.last_output = self.backend(batch)
        return self.last_output


def compare(reference, exported, images: list[np.ndarray], imgsz: int, precision: str = "fp32",
            conf: float = 0.25, iou: float = 0.7) -> ParityResult:
    """Run `reference` (the PyTorch backend) and `exported` (any backend) on `images` (BGR uint8 arrays) at
    `imgsz` and measure their parity (see the module docstring). conf / iou: the prediction settings whose
    final boxes are compared."""
    if precision not in TOLERANCES:
        raise ValueError(f"precision must be one of {', '.join(TOLERANCES)}, got {precision}")
    options = SliceOptions(slice=None, imgsz=imgsz, conf=conf, tile_iou=iou, batch=1)
    recorder = _Recorder(reference)
    torch_predictor = SlicedPredictor(recorder, options)
    export_predictor = SlicedPredictor(exported, options)
    worst, n_ref, n_exp, matched = 0.0, 0, 0, 0
    for image in images:
        ref_dets = torch_predictor(image)
        got = exported(recorder.last_input)
        want = recorder.last_output
        if tuple(got.shape) != tuple(want.shape):
            raise TinydetError(f"the exported model's output has shape {list(got.shape)}, PyTorch's {list(want.shape)}")
        diff = (got.float() - want.float()).abs().max().item()
        worst = diff if not np.isfinite(diff) else max(worst, diff)
        exp_dets = export_predictor(image)
        n_ref, n_exp = n_ref + len(ref_dets), n_exp + len(exp_dets)
        matched += match_boxes(ref_dets, exp_dets)
    return ParityResult(len(images), worst, n_ref, n_exp, matched, precision)


def check(result: ParityResult, what: str) -> None:
    """Raise a TinydetError naming `what` (the exported file) when `result` is beyond its tolerance."""
    if result.failures:
        raise TinydetError(f"{what}: parity check failed: {'; '.join(result.failures)}. "
                           "The export does not reproduce the PyTorch model (use --no-check to keep it anyway)")
