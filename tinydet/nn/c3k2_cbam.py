"""C3k2 (YOLO11's C2f-style block) followed by CBAM (Woo et al., ECCV 2018): seed 002's C2f+CBAM idea
(Krasnov et al., "Improved YOLOv8 Network for Small Objects Detection") carried over to YOLO11.

[B, c1, H, W] -> C3k2 -> [B, c2, H, W] -> CBAM -> [B, c2, H, W]. YAML rows read like C3k2's (and, like C3k2,
use C3k inner blocks at scales m/l/x): `[-1, 2, C3k2CBAM, [256, False, 0.25]]`.
"""

from __future__ import annotations

from ultralytics.nn.modules import C3k2

from tinydet.nn.registry import register
from tinydet.nn.cbam import CBAM, CBAMOnOutput
from tinydet.nn.rules import Scaled


@register
class C3k2CBAM(CBAMOnOutput, C3k2):
    """C3k2 whose output passes through CBAM (`variant` "seed" or "paper", see tinydet.nn.cbam)."""

    yaml_rule = Scaled(repeats_in_args=True, c3k_scales=frozenset("mlx"), modern=True)

    def __init__(
        self,
        c1: int,
        c2: int,
        n: int = 1,
        c3k: bool = False,
        e: float = 0.5,
        attn: bool = False,
        g: int = 1,
        shortcut: bool = True,
        variant: str = "seed",
    ):
        super().__init__(c1, c2, n, c3k, e, attn, g, shortcut)
        self.cbam = CBAM(c2, variant=variant)
