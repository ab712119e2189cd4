"""C2f followed by CBAM, as in seed 002 (Krasnov et al., "Improved YOLOv8 Network for Small Objects Detection"):
every C2f of YOLOv8's backbone and neck gets CBAM (Woo et al., ECCV 2018) on its output.

[B, c1, H, W] -> C2f -> [B, c2, H, W] -> CBAM -> [B, c2, H, W]. YAML rows read like C2f's:
`[-1, 3, C2fCBAM, [128, True]]`, or with the paper's channel attention `[-1, 3, C2fCBAM, [128, True, 1, 0.5, paper]]`.
"""

from __future__ import annotations

from ultralytics.nn.modules import C2f

from tinydet.nn.registry import register
from tinydet.nn.cbam import CBAM, CBAMOnOutput
from tinydet.nn.rules import Scaled


@register
class C2fCBAM(CBAMOnOutput, C2f):
    """C2f whose output passes through CBAM (`variant` "seed" or "paper", see tinydet.nn.cbam)."""

    yaml_rule = Scaled(repeats_in_args=True)

    def __init__(
        self, c1: int, c2: int, n: int = 1, shortcut: bool = False, g: int = 1, e: float = 0.5, variant: str = "seed"
    ):
        super().__init__(c1, c2, n, shortcut, g, e)
        self.cbam = CBAM(c2, variant=variant)
