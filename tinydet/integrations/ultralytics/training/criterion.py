"""The recipe's losses and assigners inside ultralytics' v8 detection (and pose) criterion.

`recipe_criterion(model, recipe)` is the model's own criterion with the recipe's box loss (NWD, GIoU, ...),
classification loss (focal family, label smoothing) and assigner (TAL with its exponents and top-k, NWD-TAL,
ATSS) swapped in; `RecipeCallback` installs it on the training model and its EMA.
"""

from __future__ import annotations

import torch
from ultralytics.utils import LOGGER
from ultralytics.utils import loss as ul_loss
from ultralytics.utils import tal as ul_tal
from ultralytics.utils.torch_utils import unwrap_model

from tinydet.integrations.ultralytics.env import (
    PINNED_VERSION,
    UltralyticsAssumptionError,
)
from tinydet.ops.boxes import nwd
from tinydet.train.atss import atss_assign
from tinydet.train.losses import ClassificationLoss, box_regression_loss
from tinydet.train.syncbn import to_batchnorm2d


class _RecipeBboxLoss(ul_loss.BboxLoss):
    """ultralytics' BboxLoss with the IoU term replaced by the recipe's box loss (DFL / L1 term unchanged).

    ultralytics passes boxes in grid units (pixels / stride); NWD is not scale-invariant, so boxes are taken
    back to pixels with each anchor's stride before the loss.
    """

    def __init__(self, reg_max: int, box_loss: str, nwd_c: float, nwd_ratio: float):
        super().__init__(reg_max)
        self.box_loss, self.nwd_c, self.nwd_ratio = box_loss, nwd_c, nwd_ratio

    def forward(self, pred_dist, pred_bboxes, anchor_points, target_bboxes, target_scores, target_scores_sum,
                fg_mask, imgsz, stride):
        _, loss_dfl = super().forward(pred_dist, pred_bboxes, anchor_points, target_bboxes, target_scores,
                                      target_scores_sum, fg_mask, imgsz, stride)
        fg = fg_mask.nonzero(as_tuple=True)
        weight = target_scores[fg].sum(-1)
        scale = stride[fg[1]]  # [N, 1] pixels per grid unit of each matched anchor
        per_box = box_regression_loss(pred_bboxes[fg] * scale, target_bboxes[fg] * scale, self.box_loss,
                                      nwd_c=self.nwd_c, nwd_ratio=self.nwd_ratio)
        return (per_box * weight).sum() / target_scores_sum, loss_dfl


class _NWDAlignedAssigner(ul_tal.TaskAlignedAssigner):
    """Task-aligned assigner whose localisation term is NWD instead of CIoU (boxes here are in pixels)."""

    nwd_c = 12.8

    def iou_calculation(self, gt_bboxes, pd_bboxes):
        return nwd(gt_bboxes, pd_bboxes, constant=self.nwd_c).clamp_(0)


class _ATSSAssigner(torch.nn.Module):
    """ATSS (tinydet/train/atss.py) with the contract of ultralytics' TaskAlignedAssigner.forward.

    Returns (target_labels [B, A], target_bboxes [B, A, 4] px, target_scores [B, A, C], fg_mask [B, A] bool,
    target_gt_idx [B, A]) like TAL. target_scores of a positive anchor: the one-hot class times the IoU of the
    anchor's predicted box with its ground truth (detached), as YOLOv6 and PP-YOLOE do with ATSS: YOLO heads have no
    centerness branch, so the class score is what ranks boxes for NMS and should follow localisation quality (plain
    one-hot would teach every positive a score of 1). Extra keyword tensors (the pose assigner's) are ignored.
    """

    def __init__(self, num_classes: int, stride: list, topk: int = 9):
        super().__init__()
        self.num_classes, self.stride, self.topk = num_classes, [float(s) for s in stride], int(topk)

    def level_counts(self, anc_points: torch.Tensor) -> list[int]:
        """Anchors per level, from where each level's first point (stride/2, stride/2) sits in `anc_points` (px)."""
        starts = []
        for s in self.stride:
            hit = ((anc_points - s / 2).abs() < 1e-3).all(-1).nonzero().flatten()
            if len(hit) != 1:
                raise UltralyticsAssumptionError(
                    f"ATSS: expected one anchor point at ({s / 2}, {s / 2}) px opening the stride-{s:g} level, found "
                    f"{len(hit)}; ultralytics' make_anchors layout changed (pinned {PINNED_VERSION})")
            starts.append(int(hit[0]))
        ends = [*starts[1:], anc_points.shape[0]]
        if starts[0] != 0 or any(e <= b for b, e in zip(starts, ends)):
            raise UltralyticsAssumptionError(f"ATSS: anchor levels out of order (starts {starts}, strides {self.stride})")
        return [e - b for b, e in zip(starts, ends)]

    @torch.no_grad()
    def forward(self, pd_scores, pd_bboxes, anc_points, gt_labels, gt_bboxes, mask_gt, **extra):
        b, a, _ = pd_scores.shape
        if gt_bboxes.shape[1] == 0:
            return (torch.full_like(pd_scores[..., 0], self.num_classes), torch.zeros_like(pd_bboxes),
                    torch.zeros_like(pd_scores), torch.zeros_like(pd_scores[..., 0], dtype=torch.bool),
                    torch.zeros_like(pd_scores[..., 0]))
        result = atss_assign(anc_points, self.level_counts(anc_points), self.stride, gt_bboxes, mask_gt, self.topk)
        fg, idx = result.fg_mask, result.target_gt_idx
        target_labels = gt_labels.long().squeeze(-1).gather(1, idx).clamp_(0)  # [B, A]
        target_bboxes = gt_bboxes.gather(1, idx[..., None].expand(-1, -1, 4))  # [B, A, 4]
        quality = ul_tal.bbox_iou(pd_bboxes, target_bboxes, xywh=False).squeeze(-1).clamp_(0) * fg
        target_scores = torch.zeros_like(pd_scores)
        target_scores.scatter_(2, target_labels[..., None], quality[..., None].to(pd_scores.dtype))
        return target_labels, target_bboxes, target_scores, fg, idx


def _apply_recipe_to_criterion(criterion, recipe, one_to_one: bool = False) -> None:
    """Swap the parts of one v8 detection/pose criterion that the recipe changes. `one_to_one`: the NMS-free
    branch of an end-to-end head, which keeps its task-aligned assigner and its own topk (one positive per box)."""
    if recipe.box_loss != "ciou":
        device = criterion.proj.device
        criterion.bbox_loss = _RecipeBboxLoss(criterion.reg_max, recipe.box_loss, recipe.nwd_c, recipe.nwd_ratio).to(device)
    tal = criterion.assigner
    tal.alpha, tal.beta = float(recipe.tal_alpha), float(recipe.tal_beta)
    if not one_to_one and tal.topk != recipe.tal_topk:
        if tal.topk2 == tal.topk:
            tal.topk2 = int(recipe.tal_topk)
        tal.topk = int(recipe.tal_topk)
    if recipe.assigner_metric == "nwd":
        old = criterion.assigner
        new = _NWDAlignedAssigner(topk=old.topk, num_classes=old.num_classes, alpha=old.alpha, beta=old.beta,
                                  stride=old.stride, eps=old.eps, topk2=old.topk2)
        new.nwd_c = recipe.nwd_c
        criterion.assigner = new
    if recipe.assigner == "atss" and not one_to_one:
        criterion.assigner = _ATSSAssigner(tal.num_classes, tal.stride, recipe.atss_topk)
    if recipe.cls_loss != "bce" or recipe.label_smoothing > 0:
        criterion.bce = ClassificationLoss(recipe.cls_loss, recipe.focal_gamma, recipe.focal_alpha, recipe.label_smoothing)


def recipe_criterion(model, recipe):
    """The model's own ultralytics criterion with the recipe's losses and assigner swapped in (YOLO26 end-to-end
    heads too: there the one-to-one branch keeps its task-aligned assigner)."""
    criterion = model.init_criterion()
    if isinstance(criterion, ul_loss.E2ELoss):
        parts = [(criterion.one2many, False), (criterion.one2one, True)]
    else:
        parts = [(criterion, False)]
    for part, one_to_one in parts:
        if not isinstance(part, ul_loss.v8DetectionLoss):
            raise UltralyticsAssumptionError(f"tinydet's loss options do not support {type(part).__name__}")
        _apply_recipe_to_criterion(part, recipe, one_to_one)
    return criterion


class RecipeCallback:
    """Carries a Recipe through ultralytics (and its DDP launch); at 'on_pretrain_routine_end' it installs the
    recipe's losses on the training model and its EMA (ultralytics strips criteria from saved checkpoints)."""

    event = "on_pretrain_routine_end"

    def __init__(self, recipe):
        self.recipe = recipe

    def __call__(self, trainer) -> None:
        changed = self.recipe.changed_options()
        LOGGER.info(f"tinydet recipe: {changed or 'defaults (plain ultralytics training)'}")
        if getattr(trainer, "ema", None) is not None:  # checkpoints come from the EMA: keep them stock
            trainer.ema.ema = to_batchnorm2d(trainer.ema.ema)
        if not self.recipe.changes_losses:
            return
        models = [unwrap_model(trainer.model)]
        if getattr(trainer, "ema", None) is not None:
            models.append(trainer.ema.ema)
        for model in models:
            model.criterion = recipe_criterion(model, self.recipe)


def find_recipe(callbacks: dict):
    """The Recipe carried by a trainer's callbacks (None when tinydet did not start the run)."""
    for fns in callbacks.values():
        for fn in fns:
            if isinstance(fn, RecipeCallback):
                return fn.recipe
    return None
