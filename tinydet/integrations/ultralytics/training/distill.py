"""tinydet's distillation (tinydet/train/distill.py) on ultralytics heads: a frozen teacher, feature adapters,
and the student's criterion with the distillation terms added."""

from __future__ import annotations

import torch
from ultralytics.utils import LOGGER

from tinydet.errors import TinydetError
from tinydet.integrations.ultralytics.env import (
    PINNED_VERSION,
    UltralyticsAssumptionError,
)
from tinydet.train.distill import HeadLevel, distill_loss, make_adapters


def _head_outputs(output) -> dict:
    """The raw head dict of a forward pass in either mode (the one-to-many branch of an end-to-end head)."""
    raw = output[1] if isinstance(output, tuple) else output
    if not isinstance(raw, dict) or not ({"boxes", "scores", "feats"} <= set(raw) or "one2many" in raw):
        raise UltralyticsAssumptionError(f"the detection head's raw outputs changed (pinned {PINNED_VERSION})")
    return raw.get("one2many", raw)


def _levels(raw: dict, keep: list[int], with_box: bool) -> list:
    """The head dict cut into per-level HeadLevels (tinydet/train/distill.py), only the levels in `keep`."""
    sizes = [f.shape[-2] * f.shape[-1] for f in raw["feats"]]
    cls = raw["scores"].split(sizes, dim=-1)
    box = raw["boxes"].split(sizes, dim=-1) if with_box else [None] * len(sizes)
    return [HeadLevel(cls[i], raw["feats"][i], box[i]) for i in keep]


class Distiller(torch.nn.Module):
    """A frozen teacher and the learned feature adapters; `forward(student_raw, images)` -> DistillTerms.

    Levels are paired by stride (those both heads have); both models must predict the same classes. The box
    term needs both heads to use DFL with the same reg_max, otherwise only the class and feature terms run.
    """

    def __init__(self, teacher: torch.nn.Module, student: torch.nn.Module, options, imgsz: int = 64):
        super().__init__()
        s_head, t_head = student.model[-1], teacher.model[-1]
        if s_head.nc != t_head.nc:
            raise TinydetError(f"the teacher predicts {t_head.nc} classes and the student {s_head.nc}; "
                               "distillation needs the same classes (train the teacher on the same data)")
        s_strides, t_strides = [int(s) for s in s_head.stride.tolist()], [int(s) for s in t_head.stride.tolist()]
        shared = [s for s in s_strides if s in t_strides]
        if not shared:
            raise TinydetError(f"teacher strides {t_strides} and student strides {s_strides} share none; "
                               "distillation pairs head levels of the same stride")
        self.student_levels = [s_strides.index(s) for s in shared]
        self.teacher_levels = [t_strides.index(s) for s in shared]
        self.reg_max = s_head.reg_max if s_head.reg_max == t_head.reg_max and s_head.reg_max > 1 else None
        if self.reg_max is None:
            LOGGER.warning("distillation: teacher and student heads differ in reg_max (or use no DFL); "
                                     "the box-distribution term is off")
        self.options = options
        self.teacher = [teacher.eval().requires_grad_(False)]  # a list: not a submodule, never in the optimizer
        device = next(student.parameters()).device
        s_ch, t_ch = self._channels(student, device, imgsz), self._channels(teacher, device, imgsz)
        self.adapters = make_adapters([s_ch[i] for i in self.student_levels],
                                      [t_ch[i] for i in self.teacher_levels]).to(device)
        self.strides = shared

    @staticmethod
    def _channels(model: torch.nn.Module, device, imgsz: int) -> list[int]:
        was_training = model.training
        model.eval()
        with torch.no_grad():
            raw = _head_outputs(model(torch.zeros(1, 3, imgsz, imgsz, device=device)))
        model.train(was_training)
        return [f.shape[1] for f in raw["feats"]]

    def forward(self, student_raw, images: torch.Tensor):
        teacher = self.teacher[0]
        with torch.no_grad():
            t_raw = _head_outputs(teacher(images))
        with_box = self.reg_max is not None
        s = _levels(_head_outputs(student_raw), self.student_levels, with_box)
        t = _levels(t_raw, self.teacher_levels, with_box)
        return distill_loss(s, t, self.adapters, self.options, self.reg_max)


class DistillCriterion:
    """The student's own criterion plus the distillation terms: loss items gain 'distill' (results.csv column
    train/distill; val/distill stays 0 since validation runs on the EMA without a teacher)."""

    def __init__(self, base, distiller: Distiller):
        self.base, self.distiller = base, distiller

    def __getattr__(self, name):  # update(), hyp, ... of the wrapped criterion (E2ELoss decays its gains)
        if name in ("base", "distiller"):
            raise AttributeError(name)
        return getattr(self.base, name)

    def __call__(self, preds, batch):
        loss, items = self.base(preds, batch)
        terms = self.distiller(preds, batch["img"])
        extra = (terms.total * batch["img"].shape[0]).reshape(1).to(loss.dtype)
        return torch.cat([loss.reshape(-1), extra]), {**items, "distill": terms.total.detach()}


class AdaptersAlongside(torch.nn.Module):
    """What the optimizer is built from when distilling: the student's layers and the feature adapters."""

    def __init__(self, student: torch.nn.Module, adapters: torch.nn.Module):
        super().__init__()
        self.model, self.adapters = student.model, adapters  # `.model[-1]`: ultralytics' MuSGD looks for the head
