"""Small-object modules that ultralytics model YAMLs can name once tinydet is imported.

Each module lives in its own file, cites its paper, and declares its YAML channel rule as `yaml_rule`
(tinydet/nn/rules.py). `MODULES` maps the name a YAML uses to the class; importing this package registers
every module (the registry comes first, so a file may be imported on its own).
"""

from __future__ import annotations

from tinydet.nn.registry import MODULES, register
from tinydet.nn import asff, c2f_cbam, c3k2_cbam, cbam, dcn, fusion, spd  # noqa: F401, E402  (each registers)

__all__ = ["MODULES", "register"]
