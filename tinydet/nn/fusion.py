"""Bi-directional feature fusion, the "sandwich" concat of seed 002 (Krasnov, Yarishev, Ryzhova, Djamiykov,
"Improved YOLOv8 Network for Small Objects Detection").

A top-down neck step normally concatenates the upsampled lower-resolution map with the backbone map of the same
resolution. Bi-directional fusion also brings in the next-higher-resolution backbone map, downsampled by a
stride-2 3x3 conv, so shallow (detail) and deep (semantic) features meet at every level:

    higher [B, Ch, 2H, 2W] -> Conv 3x3 s2 -> [B, c_down, H, W] -+
    same   [B, Cs, H, W] ------------------------------------ concat -> [B, c_down + Cs + Cl, H, W]
    lower  [B, Cl, H/2, W/2] -> nearest upsample x2 ----------+

YAML: `[[4, 6, 9], 1, BiFusion, [256]]` (inputs higher, same, lower; 256 = c_down before width scaling).
"""

from __future__ import annotations

import torch
from torch import nn
from ultralytics.nn.modules import Conv

from tinydet.nn.registry import register
from tinydet.nn.rules import MultiInput


def _fused_channels(in_channels: list[int], args: list) -> int:
    return args[0] + in_channels[1] + in_channels[2]


@register
class BiFusion(nn.Module):
    """Resample the higher- and lower-resolution maps to the middle one and concatenate [down, same, up]."""

    yaml_rule = MultiInput(out_channels=_fused_channels, scaled=(0,), inputs=3)

    def __init__(self, c1: list[int], c_down: int, k: int = 3):
        super().__init__()
        if len(c1) != 3:
            raise ValueError(f"BiFusion takes 3 inputs [higher-res, same, lower-res], got {len(c1)}")
        self.down = Conv(c1[0], c_down, k, 2)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")

    def forward(self, x: list[torch.Tensor]) -> torch.Tensor:
        higher, same, lower = x
        return torch.cat((self.down(higher), same, self.up(lower)), 1)
