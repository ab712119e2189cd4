"""Helpers shared by the model-zoo tests (imported as a plain module: pytest puts this folder on sys.path)."""

from __future__ import annotations

import torch


def expected_strides(name: str) -> list[int]:
    """Output strides a zoo name promises: '-nop5' drops P5, '-p2' adds P2."""
    if "-nop5" in name:
        return [4, 8, 16]
    if "-p2" in name:
        return [4, 8, 16, 32]
    return [8, 16, 32]


def prediction_tensors(output) -> list[torch.Tensor]:
    """The inference tensors of an eval-mode forward: predictions, and the mask prototypes of a seg model."""
    first = output[0] if isinstance(output, (list, tuple)) else output
    return list(first) if isinstance(first, (list, tuple)) else [first]


def expected_shapes(model, task: str, nc: int, imgsz: int, batch: int) -> list[tuple]:
    """Shapes of `prediction_tensors` for a model built from a YAML (read from its YAML, not from the head)."""
    strides = [int(s) for s in model.stride.tolist()]
    anchors = sum((imgsz // s) ** 2 for s in strides)
    head_args = model.yaml["head"][-1][-1]
    if task == "pose":
        kpts, dims = model.yaml["kpt_shape"]
        return [(batch, 4 + nc + kpts * dims, anchors)]
    if task == "segment":
        masks = head_args[1]
        proto = imgsz // strides[0] * 2  # prototypes: first level upsampled x2
        return [(batch, 4 + nc + masks, anchors), (batch, masks, proto, proto)]
    return [(batch, 4 + nc, anchors)]


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def perturb_(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Scale every weight by (1 + 0.5 N(0, 1)) and randomize BN statistics, in place.

    A freshly initialised YOLO predicts almost the same boxes and ~1e-5 scores for any input (Detect's bias
    init), so an export that silently drops a block (e.g. CBAM) still matches to 1e-3. Perturbed weights make
    outputs depend on every layer: the same dropped block then differs by ~0.1.
    """
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(1 + 0.5 * torch.randn(p.shape, generator=g))
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1, generator=g)
                m.running_var.uniform_(0.5, 2.0, generator=g)
    return model
