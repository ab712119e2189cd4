"""CBAM, the Convolutional Block Attention Module (Woo, Park, Lee, Kweon, ECCV 2018, arXiv:1807.06521).

Channel attention, then spatial attention; each is a sigmoid gate multiplied into its input, so the shape is
unchanged: [B, C, H, W] -> [B, C, H, W].

Two channel-attention variants (`variant=`):

- "seed" (default): ultralytics' own `ultralytics.nn.modules.conv.CBAM`, the one seed 002 (Krasnov et al.,
  "Improved YOLOv8 Network for Small Objects Detection") used: global average pool -> 1x1 conv with bias and no
  channel reduction -> sigmoid. With this variant the module *is* ultralytics' CBAM (same code, same weights).
- "paper": the paper's: average- and max-pooled descriptors [B, C, 1, 1] through one shared MLP
  (C -> C/r -> C, ReLU in between, r = `reduction`, 16 in the paper), summed -> sigmoid.

Spatial attention is the same in both: channel-wise mean and max [B, 2, H, W] -> k x k conv -> sigmoid.
"""

from __future__ import annotations

import torch
from torch import nn
from ultralytics.nn.modules import CBAM as UltralyticsCBAM

from tinydet.nn.registry import register
from tinydet.nn.rules import SameChannels

VARIANTS = ("seed", "paper")


class SharedMLPChannelAttention(nn.Module):
    """The paper's channel attention: x * sigmoid(MLP(avgpool(x)) + MLP(maxpool(x))), [B, C, H, W] -> same."""

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        hidden = max(channels // reduction, 1)
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, hidden, 1, bias=False), nn.ReLU(), nn.Conv2d(hidden, channels, 1, bias=False)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        avg, peak = x.mean((2, 3), keepdim=True), x.amax((2, 3), keepdim=True)
        return x * torch.sigmoid(self.mlp(avg) + self.mlp(peak))


@register
class CBAM(UltralyticsCBAM):
    """CBAM with a choice of channel attention ("seed" = ultralytics' variant, "paper" = Woo et al.'s).

    YAML: `[-1, 1, CBAM, []]`, `[-1, 1, CBAM, [7, paper]]` (kernel size, variant); channels are unchanged.
    """

    yaml_rule = SameChannels()

    def __init__(self, c1: int, kernel_size: int = 7, variant: str = "seed", reduction: int = 16):
        if variant not in VARIANTS:
            raise ValueError(f"CBAM variant must be one of {VARIANTS}, got {variant!r}")
        super().__init__(c1, kernel_size)
        self.variant = variant
        if variant == "paper":
            self.channel_attention = SharedMLPChannelAttention(c1, reduction)


class CBAMOnOutput:
    """Mixin for C2f-family blocks: the block's output passes through `self.cbam`.

    Both forward paths are wrapped: ultralytics' exporter swaps a C2f's `forward` for `forward_split`, and a
    subclass that wrapped only `forward` would silently lose its attention in ONNX.
    """

    cbam: nn.Module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cbam(super().forward(x))

    def forward_split(self, x: torch.Tensor) -> torch.Tensor:
        return self.cbam(super().forward_split(x))
