"""What one prediction job is, as plain data: which models, how to slice, how to fuse, what to write.

`PredictSpec` is small and picklable, so the single-process CLI and every Ray worker (tinydet.infer.distributed)
build the very same predictor from it, and `predict_opened` is the one function both run per image: the outputs
of a distributed run are those of a single-process run by construction.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from tinydet.detections import Detections
from tinydet.errors import TinydetError
from tinydet.infer.ensemble import EnsembleOptions, EnsemblePredictor
from tinydet.infer.sliced import SlicedPredictor, SliceOptions


@dataclass(frozen=True)
class PredictSpec:
    """models: checkpoint paths (several: an ensemble); slicing: per-model prediction; ensemble: how passes are
    made and fused (None: one model, no TTA)."""

    models: tuple[str, ...]
    slicing: SliceOptions = SliceOptions()
    ensemble: EnsembleOptions | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "models", tuple(str(m) for m in self.models))
        if not self.models:
            raise TinydetError("no model given")
        if len(set(self.models)) < len(self.models):
            raise TinydetError(f"a model is named twice: {' '.join(self.models)}")

    @property
    def fuses(self) -> bool:
        return len(self.models) > 1 or (self.ensemble is not None and len(self.ensemble.views) > 1)

    def build(self):
        """The predictor: a SlicedPredictor, or an EnsemblePredictor over one per model."""
        predictors = [SlicedPredictor(m, self.slicing) for m in self.models]
        if not self.fuses:
            return predictors[0]
        return EnsemblePredictor(predictors, self.ensemble or EnsembleOptions(), labels=[Path(m).name for m in self.models])


def predict_opened(predictor, writer, reader, key: str) -> Detections:
    """Predict one opened image (a tinydet.infer.images reader, from tinydet.infer.readahead) and hand the result
    to `writer` (tinydet.infer.outputs.PredictionWriter); the reader is closed here.

    key: the image's name relative to SOURCE ('sub/a.jpg'), which names its outputs.
    """
    with closing(reader):
        dets = predictor.predict_reader(reader)
        writer.add(key, dets, reader)
    return dets
