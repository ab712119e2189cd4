"""Small-object training losses as pure torch functions and modules (no ultralytics internals here).

Classification losses take raw logits and soft targets of the same shape (ultralytics' task-aligned targets
are IoU-weighted scores in [0, 1]) and return the element-wise loss, so they drop in where ultralytics uses
`BCEWithLogitsLoss(reduction="none")`:

- bce: binary cross-entropy.
- focal (Lin et al. 2017): BCE * alpha_t * |t - p|^gamma, with alpha_t = alpha * t + (1 - alpha) * (1 - t);
  for hard targets |t - p| is the usual (1 - p_t).
- varifocal (Zhang et al. 2021, VarifocalNet): positives (t > 0) weighted by t, negatives by alpha * p^gamma.
- qfl, quality focal loss (Li et al. 2020, GFL): BCE * |t - p|^gamma with gamma = 2 in the paper.

Label smoothing maps targets t -> t * (1 - eps) + eps / 2 before any of them (the two-sided smoothing of
sigmoid classifiers).

Box-regression losses take matched pairs of boxes, corners (x1, y1, x2, y2) in pixels, shape [N, 4], and
return a loss per pair, shape [N]: 1 - CIoU / DIoU / GIoU, 1 - NWD, or a blend.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from tinydet.ops import boxes
from tinydet.registry import Registry


def smooth_targets(targets: torch.Tensor, eps: float) -> torch.Tensor:
    """t * (1 - eps) + eps / 2: pulls hard 0/1 targets to eps/2 and 1 - eps/2."""
    return targets * (1.0 - eps) + 0.5 * eps if eps > 0 else targets


# Paper defaults (gamma, alpha): focal (RetinaNet) 2, 0.25; varifocal 2, 0.75; QFL beta (gamma here) 2. The names
# are the choices of the cls_loss option (tinydet/train/options.py; a test checks they agree).
CLS_LOSS_DEFAULTS: Registry[tuple[float, float]] = Registry("classification loss", {
    "bce": (0.0, 0.0), "focal": (2.0, 0.25), "varifocal": (2.0, 0.75), "qfl": (2.0, 0.0)})


def classification_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    kind: str = "bce",
    gamma: float | None = None,
    alpha: float | None = None,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """Element-wise classification loss (same shape as `logits`); see the module docstring for each `kind`.

    `gamma`/`alpha` default to the paper values of each kind (CLS_LOSS_DEFAULTS).
    """
    default_gamma, default_alpha = CLS_LOSS_DEFAULTS[kind]
    gamma = default_gamma if gamma is None else gamma
    alpha = default_alpha if alpha is None else alpha
    raw = targets.to(logits.dtype)
    targets = smooth_targets(raw, label_smoothing)
    bce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    if kind == "bce":
        return bce
    p = logits.sigmoid()
    if kind == "focal":
        alpha_t = alpha * targets + (1.0 - alpha) * (1.0 - targets)
        return bce * alpha_t * (targets - p).abs().pow(gamma)
    if kind == "varifocal":
        positive = (raw > 0).to(logits.dtype)
        weight = positive * targets + (1.0 - positive) * alpha * p.detach().pow(gamma)
        return bce * weight
    return bce * (targets - p).abs().pow(gamma)  # qfl


class ClassificationLoss(nn.Module):
    """`classification_loss` as a module with fixed settings; call as `loss(logits, targets)`."""

    def __init__(self, kind: str = "bce", gamma: float | None = None, alpha: float | None = None, label_smoothing: float = 0.0):
        super().__init__()
        self.kind, self.gamma, self.alpha, self.label_smoothing = kind, gamma, alpha, label_smoothing

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return classification_loss(logits, targets, self.kind, self.gamma, self.alpha, self.label_smoothing)


# Box losses by name (the choices of the box_loss option): per-pair loss of matched boxes [N, 4] px -> [N].
BOX_LOSSES: Registry = Registry("box loss", {
    "ciou": lambda pred, target, nwd_c, nwd_ratio: 1.0 - boxes.ciou(pred, target),
    "diou": lambda pred, target, nwd_c, nwd_ratio: 1.0 - boxes.diou(pred, target),
    "giou": lambda pred, target, nwd_c, nwd_ratio: 1.0 - boxes.giou(pred, target),
    "nwd": lambda pred, target, nwd_c, nwd_ratio: 1.0 - boxes.nwd(pred, target, nwd_c),
    "nwd-ciou": lambda pred, target, nwd_c, nwd_ratio: (nwd_ratio * (1.0 - boxes.nwd(pred, target, nwd_c))
                                                        + (1.0 - nwd_ratio) * (1.0 - boxes.ciou(pred, target))),
})


def box_regression_loss(
    pred: torch.Tensor, target: torch.Tensor, kind: str = "ciou", nwd_c: float = 12.8, nwd_ratio: float = 0.5
) -> torch.Tensor:
    """Per-pair box loss for matched boxes `pred`, `target` float [N, 4] (x1, y1, x2, y2, pixels) -> [N].

    ciou / diou / giou: 1 - the similarity (Zheng et al. 2020; Rezatofighi et al. 2019), in [0, 2).
    nwd: 1 - NWD (Wang et al. 2021), in [0, 1): it depends on absolute pixel offsets, so a 2 px centre error
        costs the same on a 4 px box as on a 40 px box (1 - IoU punishes the tiny box far harder), and it stays
        informative for boxes that do not overlap. Scaling both boxes by s scales the Wasserstein distance by s.
        Boxes must therefore be in pixels, and `nwd_c` (C, pixels) sets the distance at which NWD = 1/e.
    nwd-ciou: nwd_ratio * (1 - NWD) + (1 - nwd_ratio) * (1 - CIoU).
    """
    return BOX_LOSSES[kind](pred, target, nwd_c, nwd_ratio)
