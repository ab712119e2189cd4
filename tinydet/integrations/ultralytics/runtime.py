"""ultralytics set up for tinydet, once per process, when this module is imported:

- offline: no online checks, downloads, telemetry or pip auto-install (ultralytics would otherwise try all four);
- a local font where ultralytics looks for Arial, so plotting never fetches one;
- all CPU cores used (ultralytics leaves torch at 1 thread on a 2-core machine), or OMP_NUM_THREADS where set;
- ultralytics' third-party logger integrations (MLflow, Comet, ...) off in tinydet's own settings file;
- a user's dataset never written to: label caches go to tinydet's cache folder (`env.label_cache_dir`), not
  beside the labels, and a JPEG without its end marker is read as it is, not re-encoded in place.

Every assumption about ultralytics' internals is checked by `check_assumptions()`; when the pinned version
changes and one breaks, the error says which.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import warnings
from pathlib import Path

import matplotlib
import torch
import ultralytics
import ultralytics.utils as ul_utils
from ultralytics.data import dataset as ul_dataset
from ultralytics.data import utils as ul_data
from ultralytics.nn import tasks as ul_tasks
from ultralytics.utils import checks as ul_checks
from ultralytics.utils import torch_utils as ul_torch_utils

from tinydet.integrations.ultralytics import env
from tinydet.integrations.ultralytics.env import (
    PINNED_VERSION,
    UltralyticsAssumptionError,
    internal,
)
from tinydet.logs import warnings_only

LOGGER = ul_utils.LOGGER


def rank() -> int:
    """ultralytics' process rank under DDP (-1 without DDP)."""
    return ul_utils.RANK


def unwrap_model(model: torch.nn.Module) -> torch.nn.Module:
    """The model inside a DDP (or compiled) wrapper, as ultralytics unwraps it."""
    return ul_torch_utils.unwrap_model(model)


# --------------------------------------------------------------------------------------------------------------
# Runtime settings
# --------------------------------------------------------------------------------------------------------------
_INTEGRATIONS_OFF = {
    "sync": False,
    "clearml": False,
    "comet": False,
    "dvc": False,
    "mlflow": False,
    "raytune": False,
    "tensorboard": False,
    "wandb": False,
    "vscode_msg": False,
    "openvino_msg": False,
}


def _install_fonts(config_dir: Path) -> None:
    """Put matplotlib's DejaVu Sans where ultralytics looks for Arial, so it never downloads a font."""
    source = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    for name in ("Arial.ttf", "Arial.Unicode.ttf"):
        target = config_dir / name
        if not target.exists() and source.exists():
            with contextlib.suppress(OSError):
                config_dir.mkdir(parents=True, exist_ok=True)
                tmp = target.with_suffix(".tmp")
                shutil.copyfile(source, tmp)
                os.replace(tmp, target)


def use_all_cores() -> int:
    """Let torch and ultralytics use `env.thread_count()` threads (every core unless OMP_NUM_THREADS says
    otherwise); returns that count."""
    n = env.thread_count()
    ul_utils.NUM_THREADS = n
    ul_torch_utils.NUM_THREADS = n  # select_device() resets torch threads to this on CPU
    torch.set_num_threads(n)
    return n


def apply_runtime_settings() -> None:
    """Offline, quiet about integrations, all cores. Idempotent; safe when ultralytics was imported first."""
    ul_utils.ONLINE = False
    ul_utils.AUTOINSTALL = False
    ul_checks.AUTOINSTALL = False
    settings = ul_utils.SETTINGS
    changed = {k: v for k, v in _INTEGRATIONS_OFF.items() if settings.get(k) != v}
    if changed:
        with contextlib.suppress(Exception):  # a read-only settings file must not stop tinydet
            settings.update(changed)
    _install_fonts(Path(ul_utils.USER_CONFIG_DIR))
    use_all_cores()


@contextlib.contextmanager
def quiet_logs():
    """Hide ultralytics' INFO lines (export progress, model summaries) inside the block; its warnings and errors
    still show. For commands whose own output is the summary (`tinydet export`)."""
    with warnings_only(LOGGER):
        yield


# --------------------------------------------------------------------------------------------------------------
# Datasets: a user's files stay as they are
# --------------------------------------------------------------------------------------------------------------
# ultralytics writes `labels/train.cache` beside a dataset's labels and, when a JPEG does not end with the end
# marker FF D9 (truncated, or bytes appended after it), re-encodes the image in place. tinydet sends the caches to
# its own folder and leaves such images alone: OpenCV reads them as they are (a truncated one with a libjpeg
# warning).
_ORIGINAL_CHECK_IMAGE = getattr(ul_data, "check_image", None)  # checked by keep_user_datasets_unchanged()
_ORIGINAL_LOAD_CACHE = getattr(ul_dataset, "load_dataset_cache_file", None)
_ORIGINAL_SAVE_CACHE = getattr(ul_dataset, "save_dataset_cache_file", None)
_RESTORED = ": corrupt JPEG restored and saved"


def _load_cache(path) -> dict:
    return _ORIGINAL_LOAD_CACHE(env.label_cache_file(path))


def _save_cache(prefix: str, path, x: dict, version: str) -> None:
    target = env.label_cache_file(path)
    with contextlib.suppress(OSError):
        target.parent.mkdir(parents=True, exist_ok=True)
    _ORIGINAL_SAVE_CACHE(prefix, target, x, version)  # warns itself when the folder is not writable


def _keep_image(im_file, write) -> None:
    """Stands in for ultralytics' in-place re-encoding of a JPEG that lacks its end marker: does nothing."""


def _check_image(im_file: str):
    msg, shape = _ORIGINAL_CHECK_IMAGE(im_file)
    if msg.endswith(_RESTORED):
        msg = f"{im_file}: JPEG without its end marker (FF D9); read as it is, the file is not changed"
    return msg, shape


def keep_user_datasets_unchanged() -> None:
    """Route ultralytics' label caches to `env.label_cache_dir()` and stop its in-place JPEG repair. Idempotent."""
    for module, name in ((ul_data, "_replace_image"), (ul_data, "check_image"),
                         (ul_dataset, "load_dataset_cache_file"), (ul_dataset, "save_dataset_cache_file")):
        internal(module, name)
    ul_data._replace_image = _keep_image
    ul_data.check_image = _check_image
    ul_dataset.load_dataset_cache_file = _load_cache
    ul_dataset.save_dataset_cache_file = _save_cache


# --------------------------------------------------------------------------------------------------------------
# Assumptions and installation
# --------------------------------------------------------------------------------------------------------------
def check_assumptions() -> None:
    """Fail with a clear message when the installed ultralytics lacks what tinydet relies on."""
    problems = []
    if ultralytics.__version__ != PINNED_VERSION:
        warnings.warn(
            f"tinydet was written against ultralytics=={PINNED_VERSION} and found {ultralytics.__version__}; "
            "its test suite has not proven this version",
            stacklevel=2,
        )
    for name in ("parse_model", "Conv", "C2f", "C3k2", "SPPF", "C2PSA", "Concat", "Detect", "Pose", "Segment"):
        if not hasattr(ul_tasks, name):
            problems.append(f"ultralytics.nn.tasks.{name} is missing")
    if not hasattr(ul_tasks, "_SafeLoad") or not hasattr(ul_tasks._SafeLoad, "activation"):
        problems.append("ultralytics.nn.tasks._SafeLoad.activation is missing")
    for name in ("NUM_THREADS", "SETTINGS", "USER_CONFIG_DIR"):
        if not hasattr(ul_utils, name):
            problems.append(f"ultralytics.utils.{name} is missing")
    if problems:
        raise UltralyticsAssumptionError(
            "the installed ultralytics breaks tinydet's assumptions: " + "; ".join(problems)
            + f". Install ultralytics=={PINNED_VERSION}."
        )


def install() -> None:
    """Check the assumptions, apply the runtime settings, keep user datasets unchanged. Idempotent."""
    check_assumptions()
    apply_runtime_settings()
    keep_user_datasets_unchanged()


install()
