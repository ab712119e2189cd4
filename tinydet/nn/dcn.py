"""Deformable convolution (Dai et al., "Deformable Convolutional Networks", ICCV 2017, arXiv:1703.06211) with the
modulation of DCNv2 (Zhu, Hu, Lin, Dai, "Deformable ConvNets v2", CVPR 2019, arXiv:1811.11168), and a C2f
whose bottlenecks use it. Seed 004 lists deformable convolutions for localisation.

`DeformConv`: a k x k conv whose K = k*k sampling points each move by a learned offset (dy, dx) and are weighted
by a learned mask in (0, 1), both predicted per output pixel by a plain k x k conv of the input:

    [B, c1, H, W] -> offsets [B, 2K, Ho, Wo], mask sigmoid([B, K, Ho, Wo]) -> deformable conv -> BN -> SiLU
    -> [B, c2, Ho, Wo]          (Ho = H / s; a drop-in for ultralytics' Conv(c1, c2, k, s))

The offset conv starts at zero (DCNv2's initialisation): offsets 0 and mask 0.5, i.e. half a regular conv.
`modulated=False` gives DCNv1 (no mask).

`C2fDCN`: ultralytics' C2f whose bottlenecks' second 3x3 conv is a DeformConv (groups are not supported there).

Two kernels compute the same thing (`DeformConv.kernel`):
- "torchvision" (`torchvision.ops.deform_conv2d`): used on CUDA.
- "grid_sample" (`deform_conv2d_grid_sample`: bilinear `grid_sample` plus a matmul, standard ops): used on CPU,
  in ONNX export and under torch function modes. On CPU torchvision's backward took 5-7x as long as autograd
  through grid_sample for single layers (one thread), and a whole yolov8n-p2-dcn training step is 2.1x faster
  with grid_sample (benchmarks/bench_dcn.py, BENCHMARKS.md). ONNX has DeformConv only from opset 19 and ultralytics exports at 18, while GridSample (opset 16) runs
  everywhere. ultralytics' GFLOPs count profiles through a function mode (torchvision's kernel called through
  one segfaulted now and then), so that count sees the sampling and matmul too.
"auto" (the default) picks grid_sample on CPU and torchvision elsewhere. The two agree to float rounding, in
the output and in every gradient, except where a sampling point lies exactly on a pixel (offsets 0 at
initialisation): the bilinear weights have a kink there and the kernels take different one-sided derivatives
for the offsets.

YAML: `[-1, 1, DeformConv, [128, 3, 1]]` (like Conv), `[-1, 3, C2fDCN, [256]]` (like C2f).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.ops import DeformConv2d
from ultralytics.nn.modules import C2f, Conv

from tinydet.nn.registry import register
from tinydet.nn.rules import Scaled


def deform_conv2d_grid_sample(
    x: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor | None, weight: torch.Tensor, stride: int, padding: int
) -> torch.Tensor:
    """`torchvision.ops.deform_conv2d` (dilation 1, one group, one offset group) in standard ops.

    x [B, C, H, W]; offset [B, 2K, Ho, Wo] with (dy, dx) pairs per kernel point in row-major order; mask
    [B, K, Ho, Wo] or None; weight [Co, C, kh, kw] -> [B, Co, Ho, Wo]. Sampling is bilinear with zeros outside
    the map, as in torchvision.
    """
    b, c, h, w = x.shape
    co, _, kh, kw = weight.shape
    k = kh * kw
    ho, wo = offset.shape[-2:]
    dtype, device = x.dtype, x.device
    # base sampling positions of every (kernel point, output pixel): [K, Ho, Wo]
    u, v = torch.meshgrid(torch.arange(kh, device=device, dtype=dtype), torch.arange(kw, device=device, dtype=dtype), indexing="ij")
    i, j = torch.meshgrid(torch.arange(ho, device=device, dtype=dtype), torch.arange(wo, device=device, dtype=dtype), indexing="ij")
    base_y = i[None] * stride - padding + u.reshape(k, 1, 1)
    base_x = j[None] * stride - padding + v.reshape(k, 1, 1)
    offset = offset.reshape(b, k, 2, ho, wo)
    y = base_y[None] + offset[:, :, 0]  # [B, K, Ho, Wo], pixels
    x_ = base_x[None] + offset[:, :, 1]
    # pixel centre p <-> normalised (2p + 1) / size - 1 (align_corners=False); no division by size - 1
    grid = torch.stack([(2 * x_ + 1) / w - 1, (2 * y + 1) / h - 1], dim=-1).reshape(b, k * ho, wo, 2)
    sampled = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)  # [B, C, K*Ho, Wo]
    sampled = sampled.reshape(b, c, k, ho, wo)
    if mask is not None:
        sampled = sampled * mask.reshape(b, 1, k, ho, wo)
    out = weight.reshape(co, c * k) @ sampled.reshape(b, c * k, ho * wo)
    return out.reshape(b, co, ho, wo)


@register
class DeformConv(nn.Module):
    """Modulated deformable k x k conv (DCNv2), BN, SiLU: [B, c1, H, W] -> [B, c2, H / s, W / s]."""

    yaml_rule = Scaled()
    kernel = "auto"  # "auto" | "grid_sample" | "torchvision", for every instance (benchmarks set it)

    def __init__(self, c1: int, c2: int, k: int = 3, s: int = 1, modulated: bool = True):
        super().__init__()
        self.k, self.s, self.p, self.modulated = k, s, k // 2, modulated
        self.offset = nn.Conv2d(c1, (3 if modulated else 2) * k * k, k, s, self.p)
        nn.init.zeros_(self.offset.weight)
        nn.init.zeros_(self.offset.bias)
        self.conv = DeformConv2d(c1, c2, k, s, self.p, bias=False)
        self.bn = nn.BatchNorm2d(c2)
        self.act = Conv.default_act

    def offsets_and_mask(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(offsets [B, 2K, Ho, Wo] in pixels, (dy, dx) per kernel point; mask [B, K, Ho, Wo] in (0, 1) or None)."""
        predicted = self.offset(x)
        n = self.k * self.k
        if not self.modulated:
            return predicted, None
        return predicted[:, : 2 * n], predicted[:, 2 * n :].sigmoid()

    def uses_grid_sample(self, x: torch.Tensor) -> bool:
        """Whether `forward` runs the standard-op kernel for input `x` (see the module docstring)."""
        if torch.onnx.is_in_onnx_export() or torch._C._is_torch_function_mode_enabled():
            return True  # ONNX export, FLOP counters
        return self.kernel == "grid_sample" or (self.kernel == "auto" and x.device.type == "cpu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        offset, mask = self.offsets_and_mask(x)
        if self.uses_grid_sample(x):
            y = deform_conv2d_grid_sample(x, offset, mask, self.conv.weight, self.s, self.p)
        else:
            # torchvision's CPU kernel segfaults on NaN offsets (a diverged or badly initialised model): zero them
            y = self.conv(x, torch.nan_to_num(offset), mask)
        return self.act(self.bn(y))


@register
class C2fDCN(C2f):
    """C2f whose bottlenecks' second conv is a 3x3 DeformConv: [B, c1, H, W] -> [B, c2, H, W]."""

    yaml_rule = Scaled(repeats_in_args=True)

    def __init__(self, c1: int, c2: int, n: int = 1, shortcut: bool = False, g: int = 1, e: float = 0.5):
        if g != 1:
            raise ValueError("C2fDCN supports groups g=1 only")
        super().__init__(c1, c2, n, shortcut, g, e)
        for bottleneck in self.m:
            bottleneck.cv2 = DeformConv(self.c, self.c, 3, 1)
