"""Opening an exported model with tinydet's inference backends (no runtime code of its own), and the images
the export checks and benchmarks run on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from tinydet.data.formats.yolo import read_yolo
from tinydet.errors import TinydetError
from tinydet.export.artifact import Artifact
from tinydet.infer.backends.ort import OnnxRuntimeBackend
from tinydet.infer.backends.ov import OpenVinoBackend
from tinydet.infer.backends.torchscript import TorchScriptBackend
from tinydet.infer.images import open_image


def open_artifact(artifact: Artifact):
    """The backend that runs an exported model: onnxruntime, openvino or torchscript (all on the CPU).

    OpenVINO runs in f32 whatever the file holds (FP16-compressed weights are decompressed, INT8 stays INT8),
    so a parity check measures the export, not the CPU's bf16.
    """
    fmt = artifact.meta["format"]
    if fmt == "onnx":
        return OnnxRuntimeBackend.from_artifact(artifact.runnable, artifact.meta)
    if fmt == "openvino":
        return OpenVinoBackend.from_artifact(artifact.runnable, artifact.meta)
    if fmt == "torchscript":
        return TorchScriptBackend(artifact.runnable, artifact.meta)
    raise TinydetError(f"{artifact.path}: tinydet cannot run {fmt} models itself (no parity check for it)")


def dataset_images(data: str | Path, limit: int, split: str = "val") -> list[np.ndarray]:
    """Up to `limit` images of a split of a YOLO dataset, BGR uint8 [H, W, 3], in the dataset's order."""
    dataset = read_yolo(data, splits=(split,))
    files = [im.file for im in dataset.splits[split]][:limit]
    if not files:
        raise TinydetError(f"{data}: the {split} split has no images")
    out = []
    for file in files:
        reader = open_image(file)
        try:
            out.append(np.ascontiguousarray(reader.read(0, 0, reader.width, reader.height)))
        finally:
            reader.close()
    return out


def synthetic_images(n: int, size: int, seed: int = 0) -> list[np.ndarray]:
    """`n` random BGR uint8 images of `size` x `size`: smooth noise with a few bright blobs, so that even an
    untrained model gives varied scores."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        coarse = torch.rand(1, 3, max(2, size // 8), max(2, size // 8), generator=g)
        image = torch.nn.functional.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)[0]
        for _ in range(4):
            cy, cx = (torch.randint(0, size, (2,), generator=g)).tolist()
            r = max(2, size // 16)
            image[:, max(0, cy - r): cy + r, max(0, cx - r): cx + r] = 1.0
        out.append(np.ascontiguousarray((image.permute(1, 2, 0).numpy() * 255).astype(np.uint8)))
    return out
