"""Validation of a checkpoint on a dataset split: predict every image, then evaluate with tinydet's metrics.

    validate(model, data, ValOptions(...)) -> EvalResult
    validate(None, data, options, predictor=my_predictor)     any callable image path -> Detections

Whole images and tiles both go through tinydet.infer.sliced (`full_image_predictor`: one pass per image, as
`tinydet predict` without --slice; `sliced_predictor`: tiles); any other predictor plugs in as a callable. Class index c of the model is category c of the dataset.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from tinydet.data.formats.yolo import read_yolo
from tinydet.detections import Detections
from tinydet.errors import TinydetError
from tinydet.eval.evaluator import evaluate_detections
from tinydet.eval.params import ValOptions
from tinydet.eval.result import EvalResult
from tinydet.infer.readahead import read_ahead
from tinydet.infer.sliced import SlicedPredictor, SliceOptions

Predictor = Callable[[Path], Detections]


@dataclass
class SplitPredictions:
    """One split's labels and one `Detections` per image (same order), ready for `evaluate_detections`."""

    images: list
    names: list[str]
    detections: list[Detections]


def full_image_options(options: ValOptions):
    """The SliceOptions of whole-image prediction (one pass, the image shrunk into imgsz x imgsz): the same path
    as `tinydet predict` without --slice, so `val` and `predict` of one checkpoint give the same boxes."""
    return SliceOptions(slice=None, imgsz=options.imgsz, conf=options.conf, tile_iou=options.iou,
                        max_det=options.max_det, device=options.device, nms_free=options.nms_free)


def full_image_predictor(model, options: ValOptions) -> Predictor:
    """A predictor running a checkpoint (path, or a ready backend, tinydet.infer.backends) on whole images."""
    return SlicedPredictor(model, full_image_options(options))


def slice_options(slice_wh: tuple[int, int], overlap: float, merge: str | None, options: ValOptions,
                  imgsz: int | None = None):
    """The SliceOptions of sliced validation: `slice_wh` (width, height) px tiles overlapping by `overlap`, merged
    with `merge` (None: SliceOptions' default); imgsz: network input of a tile (None: each tile at its own size);
    conf, iou (NMS inside a tile), max_det, device and nms_free come from `options`."""
    kwargs = dict(slice=tuple(slice_wh), overlap=overlap, imgsz=imgsz, conf=options.conf,
                  tile_iou=options.iou, max_det=options.max_det, device=options.device, nms_free=options.nms_free)
    if merge is not None:
        kwargs["merge"] = merge
    return SliceOptions(**kwargs)


def sliced_predictor(model, slice_wh: tuple[int, int], overlap: float, merge: str | None,
                     options: ValOptions, imgsz: int | None = None) -> Predictor:
    """A predictor that slices each image into `slice_wh` (width, height) px tiles (tinydet.infer.sliced).

    model: a .pt checkpoint, or a ready backend (tinydet.infer.backends, e.g. `TorchBackend.from_module` for a
    model in memory). The other arguments as in `slice_options`.
    """
    return SlicedPredictor(model, slice_options(slice_wh, overlap, merge, options, imgsz))


def predict_split(model: str | Path | None, data: str | Path, options: ValOptions = ValOptions(),
                  predictor: Predictor | None = None, progress: bool = False) -> SplitPredictions:
    """Read a split of a YOLO dataset and predict each of its images (with `predictor`, or the checkpoint)."""
    dataset = read_yolo(data, splits=(options.split,))
    images = dataset.splits[options.split]
    if predictor is None:
        if model is None:
            raise TinydetError("validate needs a checkpoint or a predictor")
        predictor = full_image_predictor(model, options)
    model_names = getattr(predictor, "names", None)
    if model_names is not None:
        check_class_names(model_names, dataset.names, str(model or "the model"), str(data))
    paths = [Path(im.file) for im in images]
    predicted = _predict_paths(predictor, paths)
    if progress:
        predicted = tqdm(predicted, total=len(paths), desc=f"val ({options.split})", unit="img")
    detections = []
    for path, dets in predicted:
        if not isinstance(dets, Detections):
            raise TinydetError(f"the predictor returned {type(dets).__name__} for {path}, expected Detections")
        detections.append(dets)
    return SplitPredictions(images, list(dataset.names), detections)


def check_class_names(model_names: dict[int, str] | list[str], data_names: list[str], model: str, data: str) -> None:
    """A model validated on a dataset must predict its classes: a different number stops here (every class index
    would be scored against another class); the same number under other names is a warning (matched by index)."""
    predicted = list(model_names.values()) if isinstance(model_names, dict) else list(model_names)
    wanted = list(data_names)
    if len(predicted) != len(wanted):
        raise TinydetError(f"{model} predicts {len(predicted)} classes ({', '.join(map(str, predicted[:6]))}"
                           f"{', ...' if len(predicted) > 6 else ''}) but {data} has {len(wanted)} "
                           f"({', '.join(map(str, wanted[:6]))}{', ...' if len(wanted) > 6 else ''}); "
                           "validate a model on the classes it was trained for")
    renamed = [f"{i}: {a} / {b}" for i, (a, b) in enumerate(zip(predicted, wanted)) if str(a) != str(b)]
    if renamed:
        print(f"warning: class names differ between {model} and {data} ({'; '.join(renamed[:4])}"
              f"{'; ...' if len(renamed) > 4 else ''}); classes are matched by index", file=sys.stderr)


def _predict_paths(predictor: Predictor, paths: list[Path]) -> Iterator[tuple[Path, Detections]]:
    """(path, predictor's output) per path; a SlicedPredictor gets each next image decoded while it works."""
    if not isinstance(predictor, SlicedPredictor):
        yield from ((path, predictor(path)) for path in paths)
        return

    with closing(read_ahead(paths, predictor.options.max_pixels)) as opened_images:
        for path, opened in opened_images:
            with closing(opened()) as reader:
                yield path, predictor.predict_reader(reader)


def validate(model: str | Path | None, data: str | Path, options: ValOptions = ValOptions(),
             predictor: Predictor | None = None, progress: bool = False) -> EvalResult:
    """Predict a split of `data` (a data.yaml) and evaluate: COCO, AI-TOD and centre blocks (options.eval)."""
    split = predict_split(model, data, options, predictor, progress)
    return evaluate_detections(split.images, split.detections, options.eval, split.names)
