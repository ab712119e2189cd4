"""Hard-negative mining (tinydet/data/negatives.py, `tinydet mine-negatives`) with a stand-in predictor."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from tinydet.data.negatives import (MANIFEST, NEGATIVES_FOLDER, MiningOptions, false_positive_mask, mine_negatives,
                                    overlaps_any, place_window)
from tinydet.detections import Detections
from tinydet.errors import TinydetError


def _digest(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _background_box(image, size=6.0, clear=20.0):
    """A size x size box at least `clear` px from every ground-truth box, or None."""
    for y in np.arange(2, image.height - size - 2, 3.0):
        for x in np.arange(2, image.width - size - 2, 3.0):
            box = np.array([x, y, x + size, y + size])
            if not overlaps_any(box + [-clear, -clear, clear, clear], image.boxes):
                return box
    return None


def stand_in(dataset):
    """Predicts every object correctly, plus one false positive on background, plus one box that swallows an
    object (IoU < 0.1 with it, so a false positive, but no window can hold it without touching the object)."""
    by_file = {im.file.resolve(): im for im in dataset.images("train")}

    def predict(files):
        for f in files:
            im = by_file[Path(f).resolve()]
            boxes, conf = [*im.boxes], [0.9] * len(im.boxes)
            bg = _background_box(im)
            if bg is not None:
                boxes.append(bg), conf.append(0.8)
            if len(im.boxes):
                x1, y1, x2, y2 = im.boxes[0]
                boxes.append([max(0, x1 - 30), max(0, y1 - 30), min(im.width, x2 + 30), min(im.height, y2 + 30)])
                conf.append(0.95)
            xyxy = np.asarray(boxes, np.float32).reshape(-1, 4)
            yield f, Detections(xyxy, np.asarray(conf, np.float32), np.zeros(len(xyxy), np.int64))

    return predict


@pytest.fixture()
def dataset(tiny_data):
    from tinydet.data.loading import load_dataset

    return load_dataset(tiny_data)


@pytest.mark.parametrize(
    "pred, gt, expected",
    [([[0, 0, 10, 10]], [[0, 0, 10, 10]], [False]),
     ([[0, 0, 10, 10]], [[50, 50, 60, 60]], [True]),
     ([[0, 0, 10, 10], [0, 0, 10, 11]], [], [True, True]),
     ([[0, 0, 40, 40]], [[0, 0, 10, 10]], [True]),  # IoU 1/16 < 0.1
     ([[0, 0, 20, 20]], [[0, 0, 10, 10]], [False])],  # IoU 1/4
)
def test_false_positive_mask(pred, gt, expected):
    assert false_positive_mask(np.array(pred), np.array(gt), 0.1).tolist() == expected


def test_windows_hold_the_false_positive_and_avoid_objects():
    rng = np.random.default_rng(0)
    placed = 0
    for _ in range(300):
        w, h = rng.integers(64, 400, 2)
        gt = np.sort(rng.uniform(0, [w, h, w, h], (int(rng.integers(0, 6)), 4)).reshape(-1, 2, 2), axis=1)
        gt = gt.reshape(-1, 2, 2).transpose(0, 2, 1).reshape(-1, 4)[:, [0, 2, 1, 3]]
        x, y = rng.uniform(0, w - 20), rng.uniform(0, h - 20)
        fp = np.array([x, y, x + rng.uniform(2, 20), y + rng.uniform(2, 20)])
        window = place_window(fp, gt, int(w), int(h), 64, margin=2.0)
        if window is None:
            continue
        placed += 1
        assert window.dtype == np.int64 and 0 <= window[0] and 0 <= window[1] and window[2] <= w and window[3] <= h
        assert window[2] - window[0] == min(64, w) and window[3] - window[1] == min(64, h)
        assert window[0] <= fp[0] and window[1] <= fp[1] and fp[2] <= window[2] and fp[3] <= window[3]
        assert not overlaps_any(window, gt + [-2, -2, 2, 2])
    assert placed > 100


def test_mining_writes_empty_labelled_negatives_and_leaves_the_source(dataset, tiny_data, tmp_path):
    from tinydet.data.images import image_size, load_pixels
    from tinydet.data.loading import load_dataset

    source = tiny_data.parent
    before = _digest(source)
    options = MiningOptions(crop=32, max_per_image=3)
    data_yaml = mine_negatives(dataset, stand_in(dataset), tmp_path / "mined", options, {"model": "stand-in"})
    assert _digest(source) == before
    root = data_yaml.parent
    manifest = json.loads((root / MANIFEST).read_text())
    records = manifest["negatives"]
    assert manifest["info"] == {"model": "stand-in"} and manifest["negative_images"] == len(records) > 0
    assert manifest["windows"] == sum(len(r["windows"]) for r in records)
    by_file = {str(im.file.resolve()): im for im in dataset.images("train")}
    for r in records:
        image = root / r["image"]
        label = (root / "labels" / "train" / NEGATIVES_FOLDER / image.name).with_suffix(".txt")
        assert label.read_text() == ""
        src = by_file[r["source"]]
        assert image_size(image) == (src.width, src.height)
        pixels, original = load_pixels(image), load_pixels(src.file)
        for (x1, y1, x2, y2), held in zip(r["windows"], r["false_positives"]):
            assert x2 - x1 == 32 and y2 - y1 == 32
            assert not overlaps_any(np.array([x1, y1, x2, y2]), src.boxes)  # windows never touch an object
            assert len(held) >= 1 and all(f["confidence"] == 0.8 for f in held)  # never the object-swallowing box
            assert np.array_equal(pixels[y1:y2, x1:x2], original[y1:y2, x1:x2])
        outside = np.ones(pixels.shape[:2], bool)
        for x1, y1, x2, y2 in r["windows"]:
            outside[y1:y2, x1:x2] = False
        assert (pixels[outside] == 114).all()
    mined = load_dataset(data_yaml)
    assert len(mined.images("train")) == len(dataset.images("train")) + len(records)
    assert len(mined.images("val")) == len(dataset.images("val"))
    assert sum(len(im) for im in mined.images("train")) == sum(len(im) for im in dataset.images("train"))


def test_bad_options_and_outputs_are_refused(dataset, tiny_data, tmp_path):
    with pytest.raises(TinydetError, match="--crop"):
        MiningOptions(crop=4)
    with pytest.raises(TinydetError, match="--iou"):
        MiningOptions(iou=0)
    with pytest.raises(TinydetError, match="inside the dataset"):
        mine_negatives(dataset, stand_in(dataset), tiny_data.parent / "images" / "train" / "x")

    def wrong(files):
        yield Path("elsewhere.png"), Detections.empty()

    with pytest.raises(TinydetError, match="not in the training split"):
        mine_negatives(dataset, wrong, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_cli(tiny_data, tmp_path, monkeypatch, capsys):
    import tinydet.cli.commands.mine_negatives as command
    from tinydet.cli import main
    from tinydet.data.loading import load_dataset

    before = _digest(tiny_data.parent)
    code = main(["mine-negatives", "--model", str(tmp_path / "missing.pt"), "--data", str(tiny_data),
                 "--out", str(tmp_path / "a")])
    assert code == 2 and "checkpoint not found" in capsys.readouterr().err
    monkeypatch.setattr(command, "make_predictor", lambda args: stand_in(load_dataset(args.data)))
    code = main(["mine-negatives", "--model", "m.pt", "--data", str(tiny_data), "--out", str(tmp_path / "b"),
                 "--crop", "32", "--max-per-image", "1", "--iou", "0.2"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert printed.out.strip() == str(tmp_path / "b" / "data.yaml")
    manifest = json.loads((tmp_path / "b" / MANIFEST).read_text())
    assert manifest["options"]["iou"] == 0.2 and all(len(r["windows"]) == 1 for r in manifest["negatives"])
    assert "negative images" in printed.err
    code = main(["mine-negatives", "--model", "m.pt", "--data", str(tiny_data), "--out", str(tmp_path / "b")])
    assert code == 2 and "not empty" in capsys.readouterr().err
    assert _digest(tiny_data.parent) == before
