"""Datasets: formats, validation, analysis, tiling, keypoint conversion, synthetic data.

The entry point for every command is `load_dataset` (read any format + validate); `analyze` lives in
tinydet.data.analysis, tiling in tinydet.data.tiling, centre-keypoint conversion in tinydet.data.pose.
"""

import importlib

# Imported on first use (PEP 562): `tinydet eval` needs ImageLabels, not the format readers, cv2 and tqdm.
_HOMES = {
    "convert": "convert", "write_dataset": "convert", "Dataset": "dataset", "ImageLabels": "dataset",
    "load_dataset": "loading", "read_dataset": "loading", "ReadOptions": "options", "WriteOptions": "options",
    "to_pose_dataset": "pose", "DataWarning": "validate", "Problem": "validate",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'tinydet.data' has no attribute {name!r}")
    return getattr(importlib.import_module(f"tinydet.data.{_HOMES[name]}"), name)
