"""ASFF, adaptive spatial feature fusion (Liu, Huang, Wang, "Learning Spatial Fusion for Single-Shot Object
Detection", arXiv:1911.09516, 2019).

Fuses maps of consecutive pyramid levels (three in the paper), given highest resolution first, into the
resolution and width of one of them (`level`), with learned per-pixel weights that sum to one across levels:

    inputs  x_i: [B, C_i, H / 2^i, W / 2^i] for i = 0..n-1;  target t = level, size (H_t, W_t), width C_t
    resize  i < t: (t-i-1) max-pools 3x3 s2, then Conv 3x3 s2 to C_t;  i > t: Conv 1x1 to C_t, nearest up x2^(i-t)
    weights w = softmax over i of Conv1x1(cat_i(Conv1x1(resized_i) -> `compress` channels))   [B, n, H_t, W_t]
    output  Conv 3x3 (sum_i w_i * resized_i) -> [B, c2, H_t, W_t]

YAML: `[[15, 18, 21], 1, ASFF, [256, 0]]` (output width before scaling, target level).
"""

from __future__ import annotations

import torch
from torch import nn
from ultralytics.nn.modules import Conv

from tinydet.nn.registry import register
from tinydet.nn.rules import MultiInput


def _output_channels(in_channels: list[int], args: list) -> int:
    return args[0]


def _resizer(c_in: int, c_out: int, gap: int) -> nn.Module:
    """gap = source level - target level: < 0 downsamples a higher-resolution map, > 0 upsamples a lower one."""
    if gap == 0:
        return nn.Identity() if c_in == c_out else Conv(c_in, c_out, 1)
    if gap < 0:
        return nn.Sequential(*(nn.MaxPool2d(3, 2, 1) for _ in range(-gap - 1)), Conv(c_in, c_out, 3, 2))
    return nn.Sequential(Conv(c_in, c_out, 1), nn.Upsample(scale_factor=2**gap, mode="nearest"))


@register
class ASFF(nn.Module):
    """Adaptive spatial feature fusion of n consecutive pyramid levels into level `level`."""

    yaml_rule = MultiInput(out_channels=_output_channels, scaled=(0,))

    def __init__(self, c1: list[int], c2: int, level: int = 0, compress: int = 16):
        super().__init__()
        if len(c1) < 2 or not 0 <= level < len(c1):
            raise ValueError(f"ASFF needs at least 2 inputs and 0 <= level < {len(c1)}, got level {level}")
        width = c1[level]
        self.resize = nn.ModuleList(_resizer(c, width, i - level) for i, c in enumerate(c1))
        self.weight_features = nn.ModuleList(Conv(width, compress, 1) for _ in c1)
        self.weight_logits = nn.Conv2d(compress * len(c1), len(c1), 1)
        self.out = Conv(width, c2, 3)

    def forward(self, x: list[torch.Tensor]) -> torch.Tensor:
        resized = [resize(xi) for resize, xi in zip(self.resize, x)]
        features = torch.cat([f(r) for f, r in zip(self.weight_features, resized)], 1)
        weights = self.weight_logits(features).softmax(1).unsqueeze(2)  # [B, n, 1, H, W]
        return self.out((torch.stack(resized, 1) * weights).sum(1))
