"""What ultralytics reads from the environment at import time, and the hook that sets it up on import.

Nothing here imports torch or ultralytics: `import tinydet` runs `prepare_environment()` and `install_hook()`,
so the CLI starts in a blink, and whoever imports ultralytics later (tinydet, or a user after `import tinydet`)
gets it offline, multi-core and able to build tinydet's modules (tinydet.integrations.ultralytics.builder).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.abc
import importlib.util
import os
import sys
from pathlib import Path

from tinydet.errors import TinydetError

PINNED_VERSION = "8.4.190"
_USER_THREADS: list[str | None] = []  # OMP_NUM_THREADS as the user set it, before tinydet's default (once)


def prepare_environment() -> None:
    """Set the environment ultralytics reads at import time. Idempotent; has an effect before `import ultralytics`."""
    if _USER_THREADS:
        return
    _USER_THREADS.append(os.environ.get("OMP_NUM_THREADS"))
    os.environ["YOLO_OFFLINE"] = "1"  # is_online() -> False: no DNS probes, no hub, no telemetry
    os.environ["YOLO_AUTOINSTALL"] = "false"  # never `pip install` a missing module (dependency confusion)
    if "YOLO_CONFIG_DIR" not in os.environ:
        # Our own settings file: a user's ultralytics settings may enable loggers that phone home.
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        os.environ["YOLO_CONFIG_DIR"] = str(base / "tinydet")
    os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))  # ultralytics would set 1
    # Waiting OpenMP threads sleep instead of spinning: on a busy machine spinning made one forward 80x slower.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


class UltralyticsAssumptionError(TinydetError):
    """The installed ultralytics differs from what tinydet was written against."""


def internal(module, name: str):
    """An ultralytics internal tinydet relies on (`module.name`), or a clear error naming it."""
    found = getattr(module, name, None)
    if found is None:
        raise UltralyticsAssumptionError(f"{module.__name__}.{name} is missing; install ultralytics=={PINNED_VERSION}")
    return found


def thread_count() -> int:
    """Threads for torch and ultralytics: OMP_NUM_THREADS where the user set it to a positive integer (to share
    the machine with other jobs), otherwise every core."""
    text = ((_USER_THREADS or [None])[0] or "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else os.cpu_count() or 1


def label_cache_dir() -> Path:
    """Where ultralytics' label caches go under tinydet: $XDG_CACHE_HOME/tinydet/labels (~/.cache by default)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tinydet" / "labels"


def label_cache_file(ultralytics_path: str | Path) -> Path:
    """The cache file standing in for ultralytics' `<dataset>/labels/train.cache`: named by that path's hash, so
    two datasets never share one (ultralytics also checks a hash of the files listed inside)."""
    path = Path(ultralytics_path).absolute()
    return label_cache_dir() / f"{path.stem}-{hashlib.sha1(str(path).encode()).hexdigest()[:16]}.cache"


def ultralytics_dir() -> Path:
    """The installed ultralytics package folder, found without importing it (and torch with it)."""
    spec = importlib.util.find_spec("ultralytics")
    if spec is None or spec.origin is None:
        raise ImportError(f"ultralytics is not installed; install ultralytics=={PINNED_VERSION}")
    return Path(spec.origin).parent


def stock_config_path(filename: str) -> Path:
    """Path of a model config that ultralytics ships (`yolov8-p2.yaml`); raises if it ships none of that name."""
    found = sorted((ultralytics_dir() / "cfg" / "models").rglob(filename))
    if not found:
        raise UltralyticsAssumptionError(f"ultralytics ships no model config {filename} (pinned {PINNED_VERSION})")
    return found[0]


# The module that sets ultralytics up once it has been imported (runtime settings, tinydet's model builder).
# Named, not imported: importing it here would import torch at `import tinydet`. It runs after ultralytics'
# own package has executed, never while this module is being imported (tests/test_layers.py knows this edge).
SETUP_MODULE = "tinydet.integrations.ultralytics.setup"


class _Loader(importlib.abc.Loader):
    """ultralytics' own loader, then tinydet's set-up once the package has executed."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        self.loader.exec_module(module)
        importlib.import_module(SETUP_MODULE)


class _SetUpAfterImport(importlib.abc.MetaPathFinder):
    """Finds `ultralytics` with the other finders and wraps its loader (one use: removed once it has fired)."""

    def find_spec(self, name, path=None, target=None):
        if name != "ultralytics":
            return None
        sys.meta_path[:] = [f for f in sys.meta_path if f is not self]
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


def install_hook() -> None:
    """Set ultralytics up as soon as it is imported, by anyone; at once when it already is. Idempotent."""
    if "ultralytics" in sys.modules:
        importlib.import_module(SETUP_MODULE)
    elif not any(isinstance(f, _SetUpAfterImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _SetUpAfterImport())
