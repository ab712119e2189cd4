"""Dataset tiling: box clipping and visibility, empty-tile draw, manifest, exact reassembly."""

import json

import numpy as np
import pytest
from datahelpers import checksums, make_yolo
from hypothesis import given, settings
from hypothesis import strategies as st

from tinydet.data import load_dataset
from tinydet.data.dataset import ImageLabels
from tinydet.data.images import load_pixels
from tinydet.data.tiling import SliceOptions, choose_empty, cut_boxes, plan_tiles, reassemble, slice_dataset
from tinydet.errors import TinydetError
from tinydet.ops.slicing import tile_grid


def test_cut_boxes_clips_and_applies_visibility():
    boxes = np.array([[10, 10, 20, 20], [45, 10, 55, 20], [58, 10, 68, 20], [70, 70, 80, 80]], float)
    keep, clipped = cut_boxes(boxes, np.array([0, 0, 60, 60]), min_visibility=0.25)
    assert keep.tolist() == [True, True, False, False]  # 50% and 20% visible; the last is outside
    np.testing.assert_allclose(clipped[:2], [[10, 10, 20, 20], [45, 10, 55, 20]])
    keep, clipped = cut_boxes(boxes, np.array([50, 0, 110, 60]), min_visibility=0.5)
    assert keep.tolist() == [False, True, True, False]
    np.testing.assert_allclose(clipped[1:3], [[0, 10, 5, 20], [8, 10, 18, 20]])


@settings(max_examples=60, deadline=None)
@given(width=st.integers(10, 300), height=st.integers(10, 300), size=st.integers(32, 128),
       overlap=st.floats(0, 0.6), channels=st.sampled_from([None, 1, 3, 4]), seed=st.integers(0, 100))
def test_tiles_reassemble_to_the_image(width, height, size, overlap, channels, seed):
    shape = (height, width) if channels is None else (height, width, channels)
    image = np.random.default_rng(seed).integers(0, 65535, shape, dtype=np.uint16)
    tiles = [(image[y1:y2, x1:x2], x1, y1) for x1, y1, x2, y2 in tile_grid(width, height, size, size, overlap)]
    np.testing.assert_array_equal(reassemble(tiles, width, height), image)


@settings(max_examples=60, deadline=None)
@given(width=st.integers(40, 400), height=st.integers(40, 400), size=st.integers(32, 160),
       overlap=st.floats(0, 0.5), boxes=st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(1, 40),
                                                           st.floats(1, 40)), min_size=1, max_size=8))
def test_box_pieces_map_back_inside_their_boxes(width, height, size, overlap, boxes):
    xyxy = np.array([[x * (width - w), y * (height - h), x * (width - w) + w, y * (height - h) + h]
                     for x, y, w, h in boxes])
    im = ImageLabels(None, width, height, xyxy, np.arange(len(xyxy)) % 3)
    tiles = plan_tiles(im, SliceOptions(size=size, overlap=overlap, min_visibility=0.25, empty_ratio=1))
    seen_whole = set()
    for t in tiles:
        for box in t.boxes:
            assert (box >= -1e-9).all() and box[2] <= t.width + 1e-9 and box[3] <= t.height + 1e-9
            back = box + [t.x, t.y, t.x, t.y]  # in source pixels: inside one of the source boxes
            inside = (back[:2] >= xyxy[:, :2] - 1e-6).all(1) & (back[2:] <= xyxy[:, 2:] + 1e-6).all(1)
            assert inside.any()
            seen_whole |= {i for i, b in enumerate(xyxy) if np.allclose(b, back)}
    # Neighbouring tiles share round(size * overlap) px, so a box that fits in that band lies whole in a tile.
    for i, (x1, y1, x2, y2) in enumerate(xyxy):
        if max(x2 - x1, y2 - y1) <= size * overlap - 1:
            assert i in seen_whole


def test_choose_empty_is_seeded_and_exact():
    a = choose_empty(50, 0.3, np.random.default_rng([0, 0]))
    b = choose_empty(50, 0.3, np.random.default_rng([0, 0]))
    assert a.sum() == 15 and (a == b).all()
    assert choose_empty(0, 0.5, np.random.default_rng(0)).shape == (0,)
    assert choose_empty(7, 1.0, np.random.default_rng(0)).all()


def test_slice_dataset_reassembles_exactly_and_leaves_source_untouched(tmp_path, tiny_data):
    before = checksums(tiny_data.parent)
    dataset = load_dataset(tiny_data)
    out = slice_dataset(dataset, tmp_path / "tiles", SliceOptions(size=48, overlap=0.25, empty_ratio=1.0))
    assert checksums(tiny_data.parent) == before
    manifest = json.loads((out.parent / "manifest.json").read_text())
    by_source: dict = {}
    for rec in manifest["tiles"]:
        by_source.setdefault(rec["source"], []).append(rec)
    assert len(by_source) == len(dataset.images())
    for source, records in by_source.items():
        tiles = [(load_pixels(out.parent / r["tile"]), r["x"], r["y"]) for r in records]
        original = load_pixels(source)
        np.testing.assert_array_equal(reassemble(tiles, original.shape[1], original.shape[0]), original)
    tiled = load_dataset(out)
    assert set(tiled.splits) == {"train", "val"} and tiled.names == dataset.names
    assert manifest["stats"]["tiles"] == len(tiled.images()) == len(manifest["tiles"])
    assert manifest["stats"]["box_pieces"] == tiled.num_instances()


def test_empty_ratio_and_min_visibility(tmp_path):
    # a 160x64 image, tiles of 64 px at overlap 0: x = 0, 64, 96; one box at 60..70 (cut by the first border)
    data = make_yolo(tmp_path / "src", {"x.png": "0 0.40625 0.5 0.0625 0.25\n"}, size=(160, 64))
    dataset = load_dataset(data)
    out = slice_dataset(dataset, tmp_path / "a", SliceOptions(size=64, overlap=0, min_visibility=0.5, empty_ratio=0))
    tiles = json.loads((out.parent / "manifest.json").read_text())["tiles"]
    assert [(t["x"], t["boxes"]) for t in tiles] == [(64, 1)]  # 6/10 visible in the 2nd tile; 4/10 in the 1st
    assert (out.parent / "labels" / "train" / "x_x64_y0.txt").read_text() == "0 0.046875 0.500000 0.093750 0.250000\n"
    out = slice_dataset(dataset, tmp_path / "b", SliceOptions(size=64, overlap=0, min_visibility=0.3, empty_ratio=1))
    tiles = json.loads((out.parent / "manifest.json").read_text())["tiles"]
    assert [(t["x"], t["boxes"]) for t in tiles] == [(0, 1), (64, 1), (96, 0)]


def test_keypoints_follow_their_tile(tmp_path):
    data = make_yolo(tmp_path / "src", {"x.png": "0 0.5 0.5 0.25 0.25 0.5 0.5 2\n"}, size=(128, 64),
                     extra_yaml="kpt_shape: [1, 3]\nflip_idx: [0]\n")
    out = slice_dataset(load_dataset(data), tmp_path / "t", SliceOptions(size=64, overlap=0.5, empty_ratio=0))
    tiled = load_dataset(out)
    assert tiled.kpt_shape == (1, 3)
    for im in tiled.images():
        x = int(im.file.stem.split("_x")[1].split("_")[0])
        np.testing.assert_allclose(im.keypoints[0, 0, :2] + [x, 0], [64, 32])


def test_bad_slice_options():
    for kwargs, message in [({"size": 8}, "at least 32"), ({"size": 64, "overlap": 0.95}, r"\[0, 0.9\]"),
                            ({"size": 64, "min_visibility": 0}, r"\(0, 1\]"), ({"size": 64, "empty_ratio": 2},
                                                                             r"\[0, 1\]")]:
        with pytest.raises(TinydetError, match=message):
            SliceOptions(**kwargs)
