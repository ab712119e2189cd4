"""`Detections`: the columnar container passed between inference, merging, evaluation and export checks.

One object holds all boxes of one image as parallel arrays (never one Python object per box, which is what
makes per-box slicers slow):

- `xyxy`: float32 [N, 4], corners (x1, y1, x2, y2) in absolute pixels of the image they belong to;
- `confidence`: float32 [N], in [0, 1];
- `class_id`: int64 [N];
- `data`: optional extra columns, each an array whose first dimension is N (keypoints [N, K, 3], slice ids [N]).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np



def _as_array(name: str, value: Any, dtype: np.dtype) -> np.ndarray:
    try:
        return np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as e:
        raise ValueError(f"Detections.{name} must be convertible to {np.dtype(dtype).name}: {e}") from None


@dataclass
class Detections:
    """Boxes of one image, as parallel arrays (see the module docstring for shapes and units)."""

    xyxy: np.ndarray
    confidence: np.ndarray
    class_id: np.ndarray
    data: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.xyxy = _as_array("xyxy", self.xyxy, np.float32)
        if self.xyxy.size == 0:
            self.xyxy = self.xyxy.reshape(0, 4)
        if self.xyxy.ndim != 2 or self.xyxy.shape[1] != 4:
            raise ValueError(f"Detections.xyxy must have shape [N, 4], got {list(self.xyxy.shape)}")
        n = len(self.xyxy)
        self.confidence = _as_array("confidence", self.confidence, np.float32).reshape(-1)
        self.class_id = _as_array("class_id", self.class_id, np.int64).reshape(-1)
        for name, column in (("confidence", self.confidence), ("class_id", self.class_id)):
            if len(column) != n:
                raise ValueError(f"Detections.{name} has {len(column)} entries but xyxy has {n} boxes")
        if not np.isfinite(self.xyxy).all():
            raise ValueError("Detections.xyxy contains NaN or infinite coordinates")
        if n and ((self.xyxy[:, 2] < self.xyxy[:, 0]).any() or (self.xyxy[:, 3] < self.xyxy[:, 1]).any()):
            raise ValueError("Detections.xyxy has boxes with x2 < x1 or y2 < y1 (expected corners x1, y1, x2, y2)")
        data = {}
        for key, value in self.data.items():
            column = np.asarray(value)
            if column.ndim == 0 or len(column) != n:
                shape = list(column.shape)
                raise ValueError(f"Detections.data['{key}'] must have {n} rows (one per box), got shape {shape}")
            data[key] = column
        self.data = data

    # -- construction ------------------------------------------------------------------------------------------
    @classmethod
    def empty(cls, data_keys: Iterable[str] = ()) -> Detections:
        """No boxes (extra columns named in `data_keys` are created empty, as float32 [0])."""
        return cls(
            xyxy=np.zeros((0, 4), np.float32),
            confidence=np.zeros(0, np.float32),
            class_id=np.zeros(0, np.int64),
            data={k: np.zeros(0, np.float32) for k in data_keys},
        )

    @classmethod
    def merge(cls, parts: Sequence[Detections]) -> Detections:
        """Concatenate several `Detections` (e.g. of the tiles of one image, already shifted to its frame).

        Extra columns are kept only when every part has them, so a merge never invents values.
        """
        parts = [p for p in parts if p is not None]
        if not parts:
            return cls.empty()
        keys = set(parts[0].data)
        for p in parts[1:]:
            keys &= set(p.data)
        return cls(
            xyxy=np.concatenate([p.xyxy for p in parts]),
            confidence=np.concatenate([p.confidence for p in parts]),
            class_id=np.concatenate([p.class_id for p in parts]),
            data={k: np.concatenate([p.data[k] for p in parts]) for k in sorted(keys)},
        )

    @classmethod
    def from_ultralytics(cls, result: Any) -> Detections:
        """Adapter from one ultralytics `Results` object (detect or pose task).

        Keypoints, when present, go to `data['keypoints']` as float32 [N, K, 3] (x, y pixels, confidence).
        Inverted boxes (x2 < x1, which YOLO26 heads can predict) become zero-width at x1, as
        `ops.boxes.collapse_inverted` does.
        """
        boxes = getattr(result, "boxes", None)
        if boxes is None:
            raise ValueError("this ultralytics result has no boxes (is it a classification result?)")
        data = {}
        keypoints = getattr(result, "keypoints", None)
        if keypoints is not None and keypoints.data is not None and len(keypoints.data):
            data["keypoints"] = keypoints.data.detach().cpu().numpy().astype(np.float32)
        return cls(
            xyxy=_collapse_inverted(boxes.xyxy.detach().cpu().numpy()),
            confidence=boxes.conf.detach().cpu().numpy(),
            class_id=boxes.cls.detach().cpu().numpy(),
            data=data,
        )

    # -- container protocol ------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: int | slice | np.ndarray | Sequence[int] | Sequence[bool]) -> Detections:
        """Select boxes by position, slice, integer array or boolean mask; always returns `Detections`."""
        if isinstance(index, (int, np.integer)):
            if not -len(self) <= index < len(self):
                raise IndexError(f"index {index} is out of range for {len(self)} detections")
            index = [int(index)]
        if not isinstance(index, slice):
            index = np.asarray(index)
            if index.dtype == bool and index.shape != (len(self),):
                raise IndexError(f"boolean mask has shape {list(index.shape)}, expected [{len(self)}]")
            if index.dtype != bool and index.size and not np.issubdtype(index.dtype, np.integer):
                raise IndexError(f"index array must be integer or boolean, got {index.dtype}")
            if index.size == 0:
                index = index.astype(np.int64)
        return Detections(
            xyxy=self.xyxy[index],
            confidence=self.confidence[index],
            class_id=self.class_id[index],
            data={k: v[index] for k, v in self.data.items()},
        )

    # -- helpers -----------------------------------------------------------------------------------------------
    def shifted(self, dx: float, dy: float) -> Detections:
        """The same boxes moved by (dx, dy) pixels, e.g. from tile to image coordinates (keypoints too)."""
        data = dict(self.data)
        if "keypoints" in data:
            kp = data["keypoints"].astype(np.float32, copy=True)
            kp[..., 0] += dx
            kp[..., 1] += dy
            data["keypoints"] = kp
        offset = np.array([dx, dy, dx, dy], np.float32)
        return Detections(self.xyxy + offset, self.confidence, self.class_id, data)

    def sort_by_confidence(self) -> Detections:
        """Boxes in order of decreasing confidence (stable, so ties keep their order)."""
        return self[np.argsort(-self.confidence, kind="stable")]

    def to_coco(self, image_id: int | str, category_ids: Sequence[int] | None = None) -> list[dict]:
        """COCO results entries (`bbox` as x, y, w, h). `category_ids[c]` maps class c; identity when None."""
        xywh = self.xyxy.astype(np.float64)
        xywh[:, 2:] -= xywh[:, :2]
        cats = self.class_id if category_ids is None else np.asarray(category_ids)[self.class_id]
        return [
            {"image_id": image_id, "category_id": int(c), "bbox": [round(float(v), 3) for v in box], "score": float(s)}
            for box, c, s in zip(xywh, cats, self.confidence)
        ]


def _collapse_inverted(xyxy: np.ndarray) -> np.ndarray:
    """Boxes [N, 4] with x2 < x1 (y2 < y1) made zero-width at x1 (zero-height at y1); the others unchanged."""
    xyxy = np.asarray(xyxy, np.float32).reshape(-1, 4)
    return np.concatenate([xyxy[:, :2], np.maximum(xyxy[:, 2:], xyxy[:, :2])], axis=1)
