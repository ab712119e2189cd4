"""SPD-Conv (Sunkara & Luo, "No More Strided Convolutions or Pooling: A New CNN Building Block for Low-Resolution
Images and Small Objects", ECML PKDD 2022, arXiv:2208.03641).

Replaces a strided convolution, which discards 3 of every 4 positions, by a lossless space-to-depth rearrangement
followed by a non-strided convolution:

    [B, c1, H, W] -> space-to-depth (scale s) -> [B, s*s*c1, H/s, W/s] -> Conv k x k, stride 1 -> [B, c2, H/s, W/s]

YAML: like a strided Conv row without the stride, `[-1, 1, SPDConv, [128]]` or `[-1, 1, SPDConv, [128, 3]]`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from ultralytics.nn.modules import Conv

from tinydet.nn.registry import register
from tinydet.nn.rules import Scaled


@register
class SPDConv(nn.Module):
    """Space-to-depth by `scale`, then a k x k stride-1 Conv (BN + SiLU)."""

    yaml_rule = Scaled()

    def __init__(self, c1: int, c2: int, k: int = 3, scale: int = 2):
        super().__init__()
        self.scale = scale
        self.conv = Conv(c1 * scale * scale, c2, k, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pixel_unshuffle(x, self.scale))
