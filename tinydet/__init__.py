"""tinydet: small-object detection on top of Ultralytics YOLO.

`import tinydet` is light (no torch): it sets the environment ultralytics reads and hooks ultralytics' import,
so that whenever ultralytics is imported, by tinydet or by you, it is offline, quiet and multi-core, and
`ultralytics.YOLO("config.yaml")` and `YOLO("trained.pt")` work with tinydet's architectures
(tinydet/integrations/ultralytics).
"""

from __future__ import annotations

from tinydet.integrations.ultralytics import env as _env
from tinydet.version import __version__

_env.prepare_environment()  # before torch and ultralytics load
_env.install_hook()

from tinydet.errors import DataError, TinydetError  # noqa: E402

__all__ = ["DataError", "Detections", "TinydetError", "__version__"]


def __getattr__(name: str):
    """`tinydet.Detections`, imported on first use (PEP 562): `import tinydet` stays without numpy."""
    if name == "Detections":
        from tinydet.detections import Detections  # lazy: keeps `tinydet --version` at a blink

        return Detections
    raise AttributeError(f"module 'tinydet' has no attribute '{name}'")
