"""Reading images: every supported kind gives boxes in the pixels of the image as displayed."""

import numpy as np
import pytest
import tifffile
from PIL import Image, features

from tinydet import TinydetError
from tinydet.infer import images as I
from tinydet.infer.sliced import SliceOptions, SlicedPredictor

from .fakes import DrawnBoxes, drawn_scene, sort_boxes


def predicted_boxes(path, **kwargs):
    options = dict(slice=(64, 64), overlap=0.3, merge="nms", match="ios", conf=0.1, **kwargs)
    found = SlicedPredictor(DrawnBoxes(), SliceOptions(**options))(path)
    return sort_boxes(found.xyxy, found.class_id)


def assert_same_boxes(path, truth, classes, **kwargs):
    got, got_cls = predicted_boxes(path, **kwargs)
    want, want_cls = sort_boxes(truth, classes)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got_cls, want_cls)


@pytest.fixture
def scene():
    return drawn_scene(150, 110, seed=3, count=10)


def test_png_and_array_agree(tmp_path, scene):
    image, truth, classes = scene
    Image.fromarray(image[:, :, ::-1]).save(tmp_path / "a.png")
    assert_same_boxes(tmp_path / "a.png", truth, classes)
    assert_same_boxes(image, truth, classes)  # a BGR array through the API


def test_grayscale(tmp_path, scene):
    image, truth, _ = scene
    gray = (image.max(axis=2) > 0).astype(np.uint8) * 255  # white rectangles on black
    Image.fromarray(gray).save(tmp_path / "g.png")
    got, got_cls = predicted_boxes(tmp_path / "g.png")
    # white is both red and green to the fake backend: every box once per class
    np.testing.assert_array_equal(np.unique(got, axis=0), np.unique(truth, axis=0))
    assert sorted(got_cls.tolist()) == [0] * len(truth) + [1] * len(truth)
    assert I.open_image(tmp_path / "g.png").read(0, 0, 150, 110).shape == (110, 150, 3)


def test_sixteen_bit(tmp_path, scene):
    image, truth, classes = scene
    rgb16 = image[:, :, ::-1].astype(np.uint16) * 257  # the high byte is the 8-bit image
    tifffile.imwrite(tmp_path / "a16.tif", rgb16, photometric="rgb")
    assert_same_boxes(tmp_path / "a16.tif", truth, classes)
    import cv2

    cv2.imwrite(str(tmp_path / "a16.png"), image.astype(np.uint16) * 257)  # BGR for cv2
    assert_same_boxes(tmp_path / "a16.png", truth, classes)
    np.testing.assert_array_equal(I.open_image(tmp_path / "a16.png").read(0, 0, 150, 110), image)


def test_rgba_drops_alpha(tmp_path, scene):
    image, truth, classes = scene
    alpha = np.random.default_rng(0).integers(0, 256, image.shape[:2], dtype=np.uint8)
    Image.fromarray(np.dstack([image[:, :, ::-1], alpha]), "RGBA").save(tmp_path / "a.png")
    assert_same_boxes(tmp_path / "a.png", truth, classes)
    bgra = np.dstack([image, alpha])
    assert_same_boxes(bgra, truth, classes)


def test_palette_png(tmp_path, scene):
    image, truth, classes = scene
    Image.fromarray(image[:, :, ::-1]).quantize(colors=8).save(tmp_path / "p.png")
    assert_same_boxes(tmp_path / "p.png", truth, classes)


# EXIF orientation -> how the stored pixels relate to the displayed image (PIL's inverse transposes)
STORE = {
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_90,  # displayed = stored rotated 90 degrees clockwise
    8: Image.Transpose.ROTATE_270,
    5: Image.Transpose.TRANSPOSE,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
}


@pytest.mark.parametrize("orientation", sorted(STORE))
def test_exif_orientation(tmp_path, orientation):
    displayed, truth, classes = drawn_scene(160, 96, seed=5, count=8, size=(6, 12))
    stored = Image.fromarray(displayed[:, :, ::-1]).transpose(STORE[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored.save(tmp_path / "e.png", exif=exif)  # PNG: lossless, so colours stay exact
    reader = I.open_image(tmp_path / "e.png")
    assert (reader.width, reader.height) == (160, 96)
    assert_same_boxes(tmp_path / "e.png", truth, classes)


@pytest.mark.parametrize("suffix", [
    "jpg",
    # OpenCV decodes AVIF without its EXIF orientation; tinydet reads it through Pillow, as ultralytics does
    pytest.param("avif", marks=pytest.mark.skipif(not features.check("avif"), reason="Pillow built without AVIF")),
])
def test_exif_lossy_is_rotated(tmp_path, suffix):
    displayed = np.zeros((40, 80, 3), np.uint8)
    displayed[5:15, 50:70] = 255
    stored = Image.fromarray(displayed).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(tmp_path / f"r.{suffix}", exif=exif, quality=100)
    reader = I.open_image(tmp_path / f"r.{suffix}")
    pixels = reader.read(0, 0, reader.width, reader.height)
    assert pixels.shape == (40, 80, 3)
    assert pixels[10, 60].mean() > 200 and pixels[30, 20].mean() < 50


@pytest.mark.parametrize("kind", ["strips", "tiles-deflate", "planar", "gray16", "palette"])
def test_large_tiff_read_by_region_equals_whole_read(tmp_path, kind):
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (300, 420, 3), dtype=np.uint8)
    path = tmp_path / f"{kind}.tif"
    if kind == "strips":
        tifffile.imwrite(path, rgb, photometric="rgb", rowsperstrip=7)
        expected = rgb[:, :, ::-1]
    elif kind == "tiles-deflate":
        tifffile.imwrite(path, rgb, photometric="rgb", tile=(64, 48), compression="zlib")
        expected = rgb[:, :, ::-1]
    elif kind == "planar":
        tifffile.imwrite(path, np.moveaxis(rgb, -1, 0), photometric="rgb", planarconfig="separate", tile=(32, 32))
        expected = rgb[:, :, ::-1]
    elif kind == "gray16":
        gray = rng.integers(0, 65536, (300, 420), dtype=np.uint16)
        tifffile.imwrite(path, gray, photometric="minisblack", tile=(64, 64))
        expected = np.repeat((gray >> 8).astype(np.uint8)[:, :, None], 3, axis=2)
    else:
        index = rng.integers(0, 4, (300, 420), dtype=np.uint8)
        colormap = np.zeros((3, 256), np.uint16)
        colormap[:, :4] = np.array([[0, 65535, 0, 30000], [0, 0, 65535, 30000], [0, 0, 0, 65535]])
        tifffile.imwrite(path, index, photometric="palette", colormap=colormap, rowsperstrip=16)
        expected = (colormap.T[index] >> 8).astype(np.uint8)[:, :, ::-1]
    region = I.open_image(path, region_pixels=1000)
    assert isinstance(region, I.TiffRegionReader)
    whole = I.open_image(path)
    assert isinstance(whole, I.ArrayReader)
    np.testing.assert_array_equal(whole.read(0, 0, 420, 300), expected)
    for x1, y1, x2, y2 in [(0, 0, 420, 300), (13, 29, 200, 31), (400, 290, 420, 300), (64, 64, 128, 128)]:
        np.testing.assert_array_equal(region.read(x1, y1, x2, y2), expected[y1:y2, x1:x2])
    small = region.resized(105, 75)
    assert small.shape == (75, 105, 3)
    assert abs(float(small.mean()) - float(expected.mean())) < 3
    region.close()


def test_large_tiff_boxes_through_the_predictor(tmp_path):
    image, truth, classes = drawn_scene(400, 260, seed=9, count=20)
    tifffile.imwrite(tmp_path / "big.tif", image[:, :, ::-1], photometric="rgb", tile=(32, 32), compression="zlib")
    reader = I.open_image(tmp_path / "big.tif", region_pixels=10_000)
    predictor = SlicedPredictor(DrawnBoxes(), SliceOptions(slice=(64, 64), overlap=0.3, merge="nms", match="ios", conf=0.1))
    found = predictor.predict_reader(reader)
    got, got_cls = sort_boxes(found.xyxy, found.class_id)
    want, want_cls = sort_boxes(truth, classes)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got_cls, want_cls)


def test_pixel_limit_names_the_file_and_the_option(tmp_path):
    Image.new("RGB", (300, 200)).save(tmp_path / "big.png")
    with pytest.raises(TinydetError, match=r"big.png: 300x200 is 60,000 pixels, above the limit of 50,000 .*--max-pixels"):
        I.open_image(tmp_path / "big.png", max_pixels=50_000)
    from PIL import Image as PILImage

    assert PILImage.MAX_IMAGE_PIXELS == 89478485  # Pillow's own limit is restored afterwards


@pytest.mark.parametrize("content, message", [(b"", "not a readable image"), (b"\x89PNG garbage", "not a readable image")])
def test_corrupt_files(tmp_path, content, message):
    (tmp_path / "bad.png").write_bytes(content)
    with pytest.raises(TinydetError, match=f"bad.png.*{message}"):
        I.open_image(tmp_path / "bad.png")
    (tmp_path / "bad.tif").write_bytes(content + b"0" * 16)  # no TIFF header: read as any image
    with pytest.raises(TinydetError, match="bad.tif: not a readable image"):
        I.open_image(tmp_path / "bad.tif")
    (tmp_path / "bad.tif").write_bytes(b"II*\x00" + content + b"0" * 16)
    with pytest.raises(TinydetError, match="bad.tif: not a readable TIFF"):
        I.open_image(tmp_path / "bad.tif")


def test_the_file_type_comes_from_its_content_not_its_extension(tmp_path, scene):
    pixels, _, _ = scene
    Image.fromarray(pixels[:, :, ::-1]).save(tmp_path / "png-named.tif", format="PNG")
    tifffile.imwrite(tmp_path / "tiff-named.jpg", pixels[:, :, ::-1], photometric="rgb")
    for name in ("png-named.tif", "tiff-named.jpg"):
        reader = I.open_image(tmp_path / name)
        np.testing.assert_array_equal(reader.read(0, 0, reader.width, reader.height), pixels)


@pytest.mark.parametrize(
    "array, message",
    [
        (np.zeros((4, 4, 3), np.float32), "float32 pixels are not supported"),
        (np.zeros((4, 4, 5), np.uint8), r"shape \[H, W\] or \[H, W, 1-4\]"),
        ([[1, 2], [3, 4]], "numpy array"),
    ],
)
def test_bad_arrays(array, message):
    with pytest.raises(TinydetError, match=message):
        I.from_array(array)


def test_missing_file():
    with pytest.raises(TinydetError, match="image not found: /nope.png"):
        I.open_image("/nope.png")


@pytest.mark.parametrize("compression", ["tiff_lzw", "jpeg", "packbits"])
def test_tiff_codecs_tifffile_lacks(tmp_path, compression):
    """Small LZW/JPEG TIFFs fall back to OpenCV; a large one that needs region reads says what to install."""
    rgb = np.random.default_rng(2).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "c.tif", compression=compression)
    pixels = I.open_image(tmp_path / "c.tif").read(0, 0, 160, 120)
    tolerance = 40 if compression == "jpeg" else 0
    assert np.abs(pixels.astype(int) - rgb[:, :, ::-1]).mean() <= tolerance / 4
    region = I.open_image(tmp_path / "c.tif", region_pixels=100)
    if compression == "packbits":
        np.testing.assert_array_equal(region.read(10, 10, 50, 60), rgb[10:60, 10:50, ::-1])
    else:
        with pytest.raises(TinydetError, match="c.tif: cannot decode this TIFF region by region .*imagecodecs"):
            region.read(0, 0, 160, 120)


@pytest.mark.slow
def test_ten_thousand_pixel_tiff_in_bounded_memory(tmp_path):
    """A 10000 x 10000 RGB TIFF (300 MB of pixels) predicted tile by tile while Python holds far less."""
    import tracemalloc

    side, tile = 10_000, 512
    marks = [(1234, 567, 0), (9000, 9500, 1), (5000, 5003, 0)]  # (x, y, class): 10 x 8 px rectangles

    def tiles():
        for ty in range(0, side, tile):
            for tx in range(0, side, tile):
                block = np.zeros((tile, tile, 3), np.uint8)
                for x, y, cls in marks:
                    ys, xs = slice(max(y - ty, 0), max(min(y + 8 - ty, tile), 0)), slice(max(x - tx, 0), max(min(x + 10 - tx, tile), 0))
                    block[ys, xs] = (255, 0, 0) if cls == 0 else (0, 255, 0)
                yield block

    path = tmp_path / "huge.tif"
    tifffile.imwrite(path, tiles(), shape=(side, side, 3), dtype=np.uint8, tile=(tile, tile), photometric="rgb",
                     compression="zlib")
    reader = I.open_image(path)
    assert isinstance(reader, I.TiffRegionReader)
    predictor = SlicedPredictor(DrawnBoxes(), SliceOptions(slice=(640, 640), overlap=0.1, merge="nms", match="ios",
                                                           conf=0.1, batch=8))
    tracemalloc.start()
    found = predictor.predict_reader(reader)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    reader.close()
    assert peak < 80e6, f"peak {peak / 1e6:.0f} MB"  # the whole image would be 300 MB
    got = sorted(zip(found.xyxy.tolist(), found.class_id.tolist()))
    assert got == sorted(([float(x), float(y), float(x + 10), float(y + 8)], cls) for x, y, cls in marks)
