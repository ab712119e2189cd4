"""`tinydet augment-preview`: what the network sees, drawn.

The preview builds ultralytics' training dataset exactly as `tinydet train` would (same data preparation,
repeat-factor list, ultralytics arguments, albumentations list and recipe hook; through the public
`build_dataset` of tinydet's trainer, integrations/ultralytics/training/run.py) and draws `dataset[i]`, the tensors a training
batch is made of: tinydet's recipe steps, then ultralytics' mosaic, affine, mixup, albumentations, HSV and flips.
It shows the pipeline of the first epochs; ultralytics turns mosaic off for the last `close_mosaic` epochs (all
of them when epochs <= close_mosaic): `--set mosaic=0` previews those.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import cv2
import numpy as np
import yaml

from tinydet.data.datayaml import load_data_yaml
from tinydet.data.outdir import check_new_folder, new_folder
from tinydet.data.sampling import view_dataset
from tinydet.errors import TinydetError
from tinydet.integrations.ultralytics.training.run import training_dataset as ultralytics_dataset
from tinydet.models.zoo import resolve_model
from tinydet.train.run import prepare_data, sampled_data, ultralytics_args, with_inline_albumentations

PREVIEW_FILE = "augment_preview.png"
RECORD_FILE = "augment_preview.yaml"


def network_view(item: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One `dataset[i]` of ultralytics' training dataset -> (BGR uint8 [H, W, 3], boxes float32 [N, 4] xyxy px,
    classes int64 [N]). ultralytics hands the network RGB (it reverses the channels in `Format`); reversed back
    here so that OpenCV writes the colours as they are."""
    img = item["img"].numpy().transpose(1, 2, 0)
    img = np.ascontiguousarray(img[..., ::-1] if img.shape[2] == 3 else img[..., :1].repeat(3, 2))
    h, w = img.shape[:2]
    xywh = item["bboxes"].numpy().reshape(-1, 4) * np.array([w, h, w, h], np.float32)
    boxes = np.concatenate([xywh[:, :2] - xywh[:, 2:] / 2, xywh[:, :2] + xywh[:, 2:] / 2], 1)
    return img, boxes.astype(np.float32), item["cls"].numpy().reshape(-1).astype(np.int64)


def class_colour(c: int) -> tuple[int, int, int]:
    """A bright BGR colour per class."""
    hue = (int(c) * 47) % 180
    bgr = cv2.cvtColor(np.uint8([[[hue, 255, 255]]]), cv2.COLOR_HSV2BGR)[0, 0]
    return int(bgr[0]), int(bgr[1]), int(bgr[2])


def draw_boxes(img: np.ndarray, boxes: np.ndarray, classes: np.ndarray, names: list[str] | dict) -> np.ndarray:
    """A copy of `img` with each box outlined one pixel outside it (the object's own pixels stay visible) and
    labelled with its class name."""
    out = img.copy()
    for (x1, y1, x2, y2), c in zip(np.asarray(boxes, np.float64), classes):
        colour = class_colour(int(c))
        p1 = (int(math.floor(x1)) - 1, int(math.floor(y1)) - 1)
        p2 = (int(math.ceil(x2)), int(math.ceil(y2)))
        cv2.rectangle(out, p1, p2, colour, 1)
        text_y = p1[1] - 2 if p1[1] - 2 >= 7 else p2[1] + 9  # above the box, or below it at the top edge
        cv2.putText(out, str(names[int(c)]), (p1[0], text_y), cv2.FONT_HERSHEY_SIMPLEX, 0.3, colour, 1, cv2.LINE_AA)
    return out


def grid(tiles: list[np.ndarray], columns: int | None = None, gap: int = 4) -> np.ndarray:
    """Tiles (uint8 [H, W, 3], any sizes) in rows of `columns` (default: a near-square grid) on a dark canvas."""
    if not tiles:
        raise ValueError("no tiles")
    columns = columns or math.ceil(math.sqrt(len(tiles)))
    rows = math.ceil(len(tiles) / columns)
    th, tw = max(t.shape[0] for t in tiles), max(t.shape[1] for t in tiles)
    canvas = np.full((rows * (th + gap) + gap, columns * (tw + gap) + gap, 3), 32, np.uint8)
    for i, tile in enumerate(tiles):
        y, x = gap + (i // columns) * (th + gap), gap + (i % columns) * (tw + gap)
        canvas[y : y + tile.shape[0], x : x + tile.shape[1]] = tile
    return canvas


def training_dataset(opts, workdir: Path):
    """ultralytics' training dataset for `opts` (a TrainOptions), built as `tinydet train` builds it, with its
    run files under `workdir`. Returns (dataset, class names, {image of a cleaned copy: the user's image})."""
    model_path = resolve_model(opts.model)
    data, sources = prepare_data(opts.data, workdir, opts.skip_bad)
    data = sampled_data(opts, data, workdir)
    if opts.recipe.repeat_factor_t <= 0:  # list the images through links: ultralytics' cache stays out of the data
        data = load_data_yaml(view_dataset(data.yaml_path, workdir / "view"))
    args = ultralytics_args(opts, data.yaml_path, workdir / "run")
    dataset, names = ultralytics_dataset(model_path, opts.recipe, args, opts.batch)
    return dataset, names, sources


def source_image(path: str | Path, workdir: Path, sources: dict[Path, Path]) -> str:
    """The user's image behind `path`, an image of the training dataset that `training_dataset` built under the
    temporary `workdir`: seen through its folder links, or a cleaned copy (`sources`: copy -> user's image). The
    record must not name files that are gone."""
    path = Path(path)
    if not path.is_relative_to(workdir):
        return str(path)
    path = path.resolve()
    return str(sources.get(path, path))


def augment_preview(opts, out: str | Path, samples: int = 16, columns: int | None = None) -> Path:
    """Draw `samples` training samples of `opts` (a TrainOptions) into the new folder `out`; returns the PNG.

    `out` gets augment_preview.png and augment_preview.yaml (the recipe, the ultralytics arguments given, and
    per sample: the source image and the number of boxes).
    """
    if samples < 1:
        raise TinydetError(f"--samples must be at least 1, got {samples}")
    check_new_folder(out)
    opts = with_inline_albumentations(opts)
    with tempfile.TemporaryDirectory(prefix="tinydet-preview-") as work:
        dataset, names, sources = training_dataset(opts, Path(work))
        sources = {copy.resolve(): source for copy, source in sources.items()}
        tiles, record = [], []
        for k in range(samples):
            index = k % len(dataset)
            img, boxes, classes = network_view(dataset[index])
            tiles.append(draw_boxes(img, boxes, classes, names))
            record.append({"sample": k, "image": source_image(dataset.im_files[index], Path(work), sources),
                           "boxes": int(len(boxes))})
    picture = grid(tiles, columns)
    with new_folder(out) as tmp:
        if not cv2.imwrite(str(tmp / PREVIEW_FILE), picture):
            raise TinydetError(f"could not write {Path(out) / PREVIEW_FILE}")
        info = {"recipe": opts.recipe.to_dict(), "ultralytics": dict(opts.overrides), "imgsz": opts.imgsz,
                "seed": opts.seed, "data": str(opts.data), "samples": record}
        (tmp / RECORD_FILE).write_text(yaml.safe_dump(info, sort_keys=False))
    return Path(out).expanduser().absolute() / PREVIEW_FILE
