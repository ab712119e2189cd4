"""Knowledge distillation losses for anchor-free YOLO detection heads (pure functions on tensors).

A head level gives, per anchor point, class logits and (with DFL) a discrete distribution over reg_max bins
for each of the 4 box sides. The student learns from a teacher at the strides both share:

- classification: the binary KL divergence between the teacher's and the student's per-class sigmoid
  probabilities at temperature T, summed over classes, averaged over anchors (Hinton et al. 2015, in the
  per-class sigmoid form YOLO heads use);
- box distribution: the KL divergence between the teacher's and the student's softmax over the reg_max DFL bins
  at temperature T (as in Localization Distillation, Zheng et al. 2022), averaged over the 4 sides and weighted
  per anchor by the teacher's highest class probability, so background anchors, whose boxes mean nothing,
  barely count;
- features: the mean squared error between the neck feature maps that feed the head, the student's through a
  learned 1x1 adapter when channel counts differ, both optionally standardised per channel over space first
  (so the loss compares the maps' patterns, not their scale).

Both KL terms are multiplied by T^2 (their gradients keep the same size as T changes). Every term is exactly
zero when student and teacher produce the same tensors (no entropy offset, no adapter when channels match).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from tinydet.errors import TinydetError


@dataclass(frozen=True)
class DistillOptions:
    """logit: weight of the classification + box-distribution terms; feature: weight of the feature term;
    temperature: T of both KL terms; normalize_features: standardise feature maps per channel first."""

    logit: float = 1.0
    feature: float = 1.0
    temperature: float = 2.0
    normalize_features: bool = True

    def __post_init__(self) -> None:
        if self.logit < 0 or self.feature < 0:
            raise TinydetError(f"distillation weights must be >= 0, got logit {self.logit} and feature {self.feature}")
        if not self.temperature > 0:
            raise TinydetError(f"distillation temperature must be > 0, got {self.temperature}")


@dataclass
class HeadLevel:
    """One level of a detection head's raw outputs. box: [B, 4 * reg_max, N] DFL logits (None to skip the box
    term); cls: [B, nc, N] class logits; feat: [B, C, H, W] the neck feature map the level reads (N = H * W)."""

    cls: torch.Tensor
    feat: torch.Tensor
    box: torch.Tensor | None = None


@dataclass
class DistillTerms:
    """The weighted total and its unweighted parts (scalars, averaged over the levels)."""

    total: torch.Tensor
    cls: torch.Tensor
    box: torch.Tensor
    feature: torch.Tensor


def cls_kl(student: torch.Tensor, teacher: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Binary KL(teacher || student) of sigmoid(logits / T), summed over classes (dim 1), mean over the rest, x T^2.

    student, teacher: [B, C, N] logits. Returns a scalar >= 0, exactly 0 when the inputs are equal.
    """
    s, t = student / temperature, teacher / temperature
    p = torch.sigmoid(t)
    kl = p * (F.logsigmoid(t) - F.logsigmoid(s)) + (1 - p) * (F.logsigmoid(-t) - F.logsigmoid(-s))
    return kl.sum(1).mean() * temperature**2


def box_kl(student: torch.Tensor, teacher: torch.Tensor, reg_max: int, temperature: float = 1.0,
           weight: torch.Tensor | None = None) -> torch.Tensor:
    """KL(teacher || student) of the DFL bin distributions softmax(logits / T), mean over the 4 sides, x T^2.

    student, teacher: [B, 4 * reg_max, N]; weight: [B, N] per-anchor weights (None: all 1); the result is the
    weighted mean over anchors, a scalar >= 0, exactly 0 when the inputs are equal.
    """
    b, _, n = student.shape
    s = F.log_softmax(student.view(b, 4, reg_max, n) / temperature, dim=2)
    t = F.log_softmax(teacher.view(b, 4, reg_max, n) / temperature, dim=2)
    kl = (t.exp() * (t - s)).sum(2).mean(1)  # [B, N]
    if weight is None:
        return kl.mean() * temperature**2
    return (kl * weight).sum() / weight.sum().clamp_min(1e-9) * temperature**2


def feature_mse(student: torch.Tensor, teacher: torch.Tensor, normalize: bool = True) -> torch.Tensor:
    """Mean squared error of two [B, C, H, W] maps, each first standardised per sample and channel over H x W
    when `normalize`. Exactly 0 for equal inputs."""
    if student.shape != teacher.shape:
        raise TinydetError(f"feature maps differ in shape: student {tuple(student.shape)}, "
                           f"teacher {tuple(teacher.shape)}")
    if normalize:
        student, teacher = _standardise(student), _standardise(teacher)
    return F.mse_loss(student, teacher)


def _standardise(x: torch.Tensor) -> torch.Tensor:
    mean = x.mean(dim=(2, 3), keepdim=True)
    std = x.std(dim=(2, 3), keepdim=True, unbiased=False)
    return (x - mean) / (std + 1e-6)


def make_adapters(student_channels: list[int], teacher_channels: list[int]) -> nn.ModuleList:
    """One adapter per shared level: a 1x1 convolution student C -> teacher C, or Identity when they match."""
    return nn.ModuleList(nn.Identity() if s == t else nn.Conv2d(s, t, 1) for s, t in zip(student_channels,
                                                                                          teacher_channels))


def distill_loss(student: list[HeadLevel], teacher: list[HeadLevel], adapters: nn.ModuleList, options: DistillOptions,
                 reg_max: int | None) -> DistillTerms:
    """The distillation terms over paired levels (student[i] with teacher[i], same stride and anchor count).

    reg_max: the DFL bin count both heads use, or None to skip the box term (heads that differ, or no DFL).
    The teacher's tensors should carry no gradient.
    """
    if not student or len(student) != len(teacher) or len(adapters) != len(student):
        raise TinydetError("distillation needs the same number of student levels, teacher levels and adapters")
    T = options.temperature
    zero = student[0].cls.new_zeros(())
    cls_sum, box_sum, feat_sum = zero, zero, zero
    for s, t, adapt in zip(student, teacher, adapters):
        if options.logit > 0:
            cls_sum = cls_sum + cls_kl(s.cls, t.cls, T)
            if reg_max is not None and s.box is not None and t.box is not None:
                weight = torch.sigmoid(t.cls).amax(1)  # [B, N] teacher's confidence that anything is there
                box_sum = box_sum + box_kl(s.box, t.box, reg_max, T, weight)
        if options.feature > 0:
            feat_sum = feat_sum + feature_mse(adapt(s.feat), t.feat, options.normalize_features)
    n = len(student)
    cls_term, box_term, feat_term = cls_sum / n, box_sum / n, feat_sum / n
    total = options.logit * (cls_term + box_term) + options.feature * feat_term
    return DistillTerms(total, cls_term, box_term, feat_term)
