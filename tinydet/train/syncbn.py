"""SyncBatchNorm for multi-GPU training, and back to BatchNorm2d for what gets saved.

Under DDP each GPU sees batch / world_size images; with small objects and modest batches, per-GPU
BatchNorm statistics get noisy, so BatchNorm layers are synchronised across processes (seed 003).
Checkpoints must stay stock (BatchNorm2d), so the EMA copy that ultralytics saves is converted back.
"""

from __future__ import annotations

import torch
from torch import nn


def to_sync_batchnorm(model: nn.Module) -> nn.Module:
    """Every BatchNorm*d of `model` replaced by SyncBatchNorm (in place where possible; returns the model)."""
    return nn.SyncBatchNorm.convert_sync_batchnorm(model)


def to_batchnorm2d(module: nn.Module) -> nn.Module:
    """The inverse: every SyncBatchNorm replaced by a BatchNorm2d with the same parameters and statistics."""
    if isinstance(module, nn.SyncBatchNorm):
        bn = nn.BatchNorm2d(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats)
        with torch.no_grad():
            if module.affine:
                bn.weight.copy_(module.weight)
                bn.bias.copy_(module.bias)
            if module.track_running_stats:
                bn.running_mean.copy_(module.running_mean)
                bn.running_var.copy_(module.running_var)
                bn.num_batches_tracked.copy_(module.num_batches_tracked)
        bn.train(module.training)
        bn.requires_grad_(any(p.requires_grad for p in module.parameters()))
        return bn.to(module.weight.device if module.affine else module.running_mean.device)
    for name, child in module.named_children():
        setattr(module, name, to_batchnorm2d(child))
    return module
