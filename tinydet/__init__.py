"""tinydet: small-object detection on top of Ultralytics YOLO.

`import tinydet` first makes ultralytics offline, quiet and multi-core, and registers tinydet's model modules,
so that `ultralytics.YOLO("config.yaml")` and `YOLO("trained.pt")` work with tinydet's architectures.
"""

from __future__ import annotations

__version__ = "0.1.0"

from tinydet.integrations import ultralytics as _ultralytics_integration  # noqa: F401  (must come first)
from tinydet.nn import load_modules as _load_modules
from tinydet.detections import Detections
from tinydet.errors import DataError, TinydetError

_load_modules()  # registers the model modules that YAMLs and checkpoints name

__all__ = ["DataError", "Detections", "TinydetError", "__version__"]
