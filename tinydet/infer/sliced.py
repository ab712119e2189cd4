"""Sliced prediction: an image cut into overlapping tiles, every tile predicted, the boxes merged once.

    from tinydet.infer.sliced import SlicedPredictor, SliceOptions
    predictor = SlicedPredictor("best.pt", SliceOptions(slice=(640, 640), overlap=0.2))
    detections = predictor("big.tif")          # or a BGR uint8 array; Detections in that image's pixels

How it keeps Python out of the loop: the image is read once (large TIFFs one band of tile rows at a time),
tiles are cut as views and copied straight into one preallocated input batch, the backend runs once per batch,
the raw head output is decoded for the whole batch at once (confidence filter, NMS inside each tile as
ultralytics does, shift to image pixels), and all boxes of the image are merged in a single call of a
vectorised merge (tinydet.ops). An optional full-image pass (`full_image=True`, SAHI's "standard prediction")
is one more batch item: the whole image shrunk into the same input size.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from tinydet.detections import Detections
from tinydet.errors import TinydetError
from tinydet.infer.backends import BACKENDS, Backend, round_to_stride
from tinydet.infer.backends.load import load_backend
from tinydet.infer.decode import Candidates, Placement, decode
from tinydet.infer.images import DEFAULT_MAX_PIXELS, ArrayReader, from_array, open_image
from tinydet.malloc import keep_freed_memory
from tinydet.ops.merge import METHODS, check_method, merge
from tinydet.ops.slicing import overlap_problem, tile_grid

PAD_VALUE = 114  # ultralytics' letterbox grey


@dataclass(frozen=True)
class SliceOptions:
    """How to slice, predict and merge.

    slice: tile (width, height) in pixels, or None for one full-image pass only.
    overlap: fraction of a tile shared with its neighbour, in [0, 1).
    full_image: also predict the whole image (shrunk to the network input) and merge it with the tiles.
    imgsz: network input size (long side). None: tiles go in at their own size (no resizing); without
        slicing, 640.
    merge: how boxes of different tiles are merged: nms, soft-nms, diou-nms, wbf, nmm, greedy-nmm.
    match: similarity used by the merge, 'iou' or 'ios' (None: IoS for NMM, IoU otherwise).
    iou: match threshold of the merge. agnostic: merge boxes of different classes too.
    conf: confidence threshold. tile_iou: NMS IoU inside each tile (ultralytics' `iou`). max_det: boxes kept
        per tile.
    batch: tiles per forward pass. backend: torch, onnxruntime or openvino. device: cpu, 0, cuda:0, mps, None.
    max_pixels: refuse images with more pixels than this that must be decoded whole (TIFFs are read by region).
    half: reduced precision (torch on CUDA: fp16; OpenVINO: the CPU's native, bf16 with AMX).
    nms_free: YOLO26-style models: each tile's boxes are the end-to-end head's top-k, with no NMS (torch
        backend; the default is the one-to-many head and NMS, as ultralytics does). The merge across tiles
        still runs.
    """

    slice: tuple[int, int] | None = (640, 640)
    overlap: float = 0.2
    full_image: bool = False
    imgsz: int | None = None
    merge: str = "greedy-nmm"
    match: str | None = None
    iou: float = 0.5
    agnostic: bool = False
    conf: float = 0.25
    tile_iou: float = 0.7
    max_det: int = 300
    batch: int = 4
    backend: str = "torch"
    device: str | None = None
    max_pixels: int = DEFAULT_MAX_PIXELS
    half: bool = False
    nms_free: bool = False

    def __post_init__(self) -> None:
        if self.slice is not None:
            if isinstance(self.slice, int):
                object.__setattr__(self, "slice", (self.slice, self.slice))
            w, h = self.slice
            if w < 16 or h < 16:
                raise TinydetError(f"slice must be at least 16x16 pixels, got {w}x{h}")
        elif not self.full_image:
            object.__setattr__(self, "full_image", True)  # no tiles: the full image is the only pass
        if overlap_problem(self.overlap):
            raise TinydetError(overlap_problem(self.overlap))
        if self.imgsz is not None and self.imgsz < 32:
            raise TinydetError(f"imgsz must be at least 32, got {self.imgsz}")
        try:
            check_method(self.merge, self.match)
        except ValueError as e:
            raise TinydetError(str(e)) from None
        for name in ("iou", "conf", "tile_iou"):
            if not 0 <= getattr(self, name) <= 1:
                raise TinydetError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.batch < 1 or self.max_det < 1:
            raise TinydetError("batch and max_det must be at least 1")
        BACKENDS.check(self.backend)

    @property
    def input_hw(self) -> tuple[int, int]:
        """(height, width) the network sees, before rounding up to the model's stride."""
        if self.slice is None:
            side = self.imgsz or 640
            return side, side
        w, h = self.slice
        scale = 1.0 if self.imgsz is None else self.imgsz / max(w, h)
        return int(round(h * scale)), int(round(w * scale))


@dataclass
class Timing:
    """Seconds spent per stage on the last image (for benchmarks)."""

    read: float = 0.0
    prepare: float = 0.0
    forward: float = 0.0
    decode: float = 0.0
    merge: float = 0.0
    tiles: int = 0

    @property
    def total(self) -> float:
        return self.read + self.prepare + self.forward + self.decode + self.merge


@dataclass
class _Batch:
    regions: list[tuple[int, int, int, int]] = field(default_factory=list)  # x1, y1, x2, y2 (image px)
    content: list[tuple[int, int]] = field(default_factory=list)  # w, h (input px)


class SlicedPredictor:
    """Predicts one image at a time, sliced (see the module docstring); `predictor(image)` -> `Detections`.

    `model` is a .pt checkpoint, or a ready backend (anything with names, stride, end2end and __call__).
    """

    def __init__(self, model: str | Path | Backend, options: SliceOptions = SliceOptions()):
        self.options = options
        keep_freed_memory()  # the forward passes reuse their freed buffers instead of faulting in fresh pages
        if isinstance(model, (str, Path)):
            self.backend = load_backend(model, options.backend, options.device, options.input_hw, options.half,
                                        options.nms_free)
        else:
            self.backend = model
            if options.nms_free and not model.end2end:
                raise TinydetError("nms_free: this backend runs the one-to-many head; load it with nms_free")
        self.names: dict[int, str] = dict(self.backend.names)
        self.input_hw = round_to_stride(options.input_hw, int(self.backend.stride))
        self.timing = Timing()
        self._band_key: tuple[int, int] | None = None  # the rows of the image read last (large readers)
        self._band_pixels: np.ndarray | None = None
        self._canvas = np.full((options.batch, *self.input_hw, 3), PAD_VALUE, np.uint8)  # RGB, HWC
        self._input = torch.empty(options.batch, 3, *self.input_hw)

    # -- public ---------------------------------------------------------------------------------------------
    def __call__(self, image: str | Path | np.ndarray) -> Detections:
        """Detections of one image (a path, or a BGR uint8 array as OpenCV gives), in its pixels."""
        start = time.perf_counter()
        if isinstance(image, (str, Path)):
            reader = open_image(image, self.options.max_pixels)
        else:
            reader = from_array(image)
        read = time.perf_counter() - start
        try:
            found = self.predict_reader(reader)
        finally:
            reader.close()
        self.timing.read += read
        return found

    def predict_reader(self, reader) -> Detections:
        """Detections of an open image reader (tinydet.infer.images)."""
        self.timing = Timing()
        self._band_key = None
        parts = [self._run(batch, reader) for batch in self._batches(reader)]
        self._band_key = self._band_pixels = None
        start = time.perf_counter()
        with _one_thread():
            passes = len(self.regions(reader.width, reader.height))
            found = _merge_candidates(parts, self.options, passes)
        self.timing.merge += time.perf_counter() - start
        return found

    # -- planning -------------------------------------------------------------------------------------------
    def regions(self, width: int, height: int) -> list[tuple[tuple[int, int, int, int], tuple[int, int]]]:
        """((x1, y1, x2, y2) in the image, (w, h) of its content in the input) of every pass, tiles row-major
        first, then the full image."""
        o = self.options
        in_h, in_w = self.input_hw
        out = []
        if o.slice is not None:
            sw, sh = o.slice
            scale = 1.0 if o.imgsz is None else o.imgsz / max(sw, sh)
            for x1, y1, x2, y2 in tile_grid(width, height, sw, sh, o.overlap).tolist():
                cw = min(in_w, max(1, int(round((x2 - x1) * scale))))
                ch = min(in_h, max(1, int(round((y2 - y1) * scale))))
                out.append(((x1, y1, x2, y2), (cw, ch)))
        if o.full_image:
            scale = min(in_w / width, in_h / height)
            cw, ch = min(in_w, max(1, int(round(width * scale)))), min(in_h, max(1, int(round(height * scale))))
            out.append(((0, 0, width, height), (cw, ch)))
        return out

    def _batches(self, reader):
        batch = _Batch()
        for region, content in self.regions(reader.width, reader.height):
            batch.regions.append(region)
            batch.content.append(content)
            if len(batch.regions) == self.options.batch:
                yield batch
                batch = _Batch()
        if batch.regions:
            yield batch

    # -- running --------------------------------------------------------------------------------------------
    def _run(self, batch: _Batch, reader) -> Candidates:
        start = time.perf_counter()
        n = len(batch.regions)
        x = self.prepare(batch, reader)
        prepared = time.perf_counter()
        raw = self.backend(x)
        forwarded = time.perf_counter()
        placement = Placement(
            origin=torch.tensor([r[:2] for r in batch.regions], dtype=torch.float64),
            size=torch.tensor([(r[2] - r[0], r[3] - r[1]) for r in batch.regions], dtype=torch.float64),
            content=torch.tensor(batch.content, dtype=torch.float64),
        )
        o = self.options
        with _one_thread():
            found = decode(raw.cpu(), placement, len(self.names), o.conf, bool(self.backend.end2end), o.tile_iou,
                           o.agnostic, o.max_det)
        t = self.timing
        t.prepare += prepared - start
        t.forward += forwarded - prepared
        t.decode += time.perf_counter() - forwarded
        t.tiles += n
        return found

    def prepare(self, batch: _Batch, reader) -> torch.Tensor:
        """The network input of a batch (a view of a reused buffer): float32 [n, 3, H, W], RGB in 0-1, or for a
        backend that `takes_uint8`, the tiles themselves, uint8 [n, H, W, 3] RGB."""
        n = len(batch.regions)
        for slot, (region, content) in enumerate(zip(batch.regions, batch.content)):
            self._fill(slot, reader, region, content)
        if getattr(self.backend, "takes_uint8", False):
            return torch.from_numpy(self._canvas[:n])
        x = self._input[:n]
        x.copy_(torch.from_numpy(self._canvas[:n]).permute(0, 3, 1, 2))  # one pass: layout and dtype
        return x.mul_(1 / 255)

    def _fill(self, slot: int, reader, region, content) -> None:
        """Copy a region of the image into batch slot `slot` as RGB, resized to `content`, padded with grey."""
        x1, y1, x2, y2 = region
        cw, ch = content
        canvas = self._canvas[slot]
        if (x2 - x1, y2 - y1) == (reader.width, reader.height) and (cw, ch) != (reader.width, reader.height):
            pixels = reader.resized(cw, ch)  # the full-image pass: shrink without decoding the whole image at once
        else:
            pixels = self._band(reader, y1, y2)[:, x1:x2]
            if (cw, ch) != (x2 - x1, y2 - y1):
                pixels = cv2.resize(pixels, (cw, ch), interpolation=cv2.INTER_LINEAR)
        if (ch, cw) == canvas.shape[:2]:
            cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB, dst=canvas)
        else:
            canvas[...] = PAD_VALUE
            canvas[:ch, :cw] = pixels[:, :, ::-1]

    def _band(self, reader, y1: int, y2: int) -> np.ndarray:
        """Rows y1:y2 of the whole width, read once per row of tiles (a view for in-memory images)."""
        if isinstance(reader, ArrayReader):
            return reader.pixels[y1:y2]
        key = (y1, y2)
        if self._band_key != key:
            self._band_key, self._band_pixels = key, reader.read(0, y1, reader.width, y2)
        return self._band_pixels


def _merge_candidates(parts: list[Candidates], options: SliceOptions, passes: int) -> Detections:
    """All boxes of an image as Detections: merged across passes when there were several."""
    found = Candidates.cat(parts)
    if passes > 1 and len(found.boxes):
        groups = None if options.agnostic else found.classes
        merged = merge(options.merge, found.boxes, found.scores, groups, options.iou, options.match)
        return Detections(merged.boxes.numpy(), merged.scores.numpy(), found.classes[merged.index].numpy())
    order = torch.sort(found.scores, descending=True, stable=True).indices
    return Detections(found.boxes[order].numpy(), found.scores[order].numpy(), found.classes[order].numpy())


@contextlib.contextmanager
def _one_thread():
    """Small tensor operations run faster on one thread (several threads wait for each other, badly so on a
    busy machine); the forward pass keeps all of them."""
    saved = torch.get_num_threads()
    if saved != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if saved != 1:
            torch.set_num_threads(saved)


__all__ = ["METHODS", "SliceOptions", "SlicedPredictor", "Timing"]
