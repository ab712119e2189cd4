"""Image files: their size as ultralytics sees it (EXIF rotation applied) and whether they can be read at all.

Reading a header is enough for the size; a corrupt file is caught by Pillow's `verify()` (which checks PNG
chunk CRCs, for instance) and, for JPEG, by the end-of-image marker ultralytics also looks for. With
`decode=True` every image is decoded in full, which catches damage in the compressed data too (slower).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from tinydet.errors import DataError

_EXIF_ORIENTATION = 0x0112
_ROTATED = (5, 6, 7, 8)  # EXIF orientations that swap width and height
MIN_SIDE = 10  # ultralytics rejects images smaller than 10 px on a side
_HEIF_SUFFIXES = (".heic", ".heif")  # read through ultralytics' Image.open, which adds the pi-heif plugin


@dataclass(frozen=True)
class ImageCheck:
    """What probing an image found: its size (None if it cannot be used) and at most one problem."""

    width: int | None
    height: int | None
    kind: str | None = None  # problem kind: missing_image, corrupt_image (fatal) or jpeg_end (a warning)
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.width is not None


def _orientation(im: Image.Image) -> int:
    """EXIF orientation tag (1 = upright) without decoding the pixels (Pillow's PNG getexif() would)."""
    if im.format == "TIFF":
        return im.tag_v2.get(_EXIF_ORIENTATION, 1)
    if im.format == "PNG":
        if "exif" not in im.info:
            return 1
        exif = Image.Exif()
        exif.load(im.info["exif"])
        return exif.get(_EXIF_ORIENTATION, 1)
    return im.getexif().get(_EXIF_ORIENTATION, 1)


def _cv2_shape(path: Path) -> tuple[int, int] | None:
    pixels = cv2.imdecode(np.fromfile(str(path), np.uint8), cv2.IMREAD_COLOR)
    return None if pixels is None else (pixels.shape[1], pixels.shape[0])


def pillow_open():
    """`PIL.Image.open` as Pillow ships it. Once imported, ultralytics replaces `Image.open` with one that, on
    every file Pillow cannot identify, runs a requirements check for pi-heif (a WARNING per file when it is not
    installed) and then raises ImportError; checking a dataset with many broken files should say so once per
    file, in tinydet's words. ultralytics keeps Pillow's own as `ultralytics.utils.patches._image_open`."""
    patches = sys.modules.get("ultralytics.utils.patches")  # None: not imported, Image.open is still Pillow's
    return getattr(patches, "_image_open", Image.open)


def _open(path: str | Path) -> Image.Image:
    """Pillow's own open (no pi-heif install check per unidentified file), but ultralytics' for HEIC/HEIF."""
    if Path(path).suffix.lower() in _HEIF_SUFFIXES:
        return Image.open(path)
    return pillow_open()(path)


def probe_image(path: Path, decode: bool = False) -> ImageCheck:
    """Size (width, height) in pixels after EXIF rotation, or why the image cannot be used."""
    try:
        with _open(path) as im:
            w, h, fmt = im.size[0], im.size[1], im.format
            orientation = _orientation(im)
            if decode:
                im.load()
            else:
                im.verify()
    except FileNotFoundError:
        return ImageCheck(None, None, "missing_image", "image not found")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, ImportError) as e:
        # ImportError: ultralytics' Image.open (used for HEIC/HEIF) loads the pi-heif plugin on a file Pillow cannot
        # identify; without pi-heif installed that import fails.
        unidentified = isinstance(e, (ImportError, UnidentifiedImageError))
        reason = "not an image Pillow can identify" if unidentified else (str(e) or type(e).__name__)
        if Path(path).suffix.lower() in _HEIF_SUFFIXES:
            reason += "; reading HEIC/HEIF needs the pi-heif package (as ultralytics does)"
        return ImageCheck(None, None, "corrupt_image", f"cannot read image ({reason})")
    if orientation in _ROTATED:
        if fmt in ("JPEG", "MPO", "PNG", "AVIF"):
            w, h = h, w
        else:  # as ultralytics does for WebP/TIFF, whose rotation handling differs between libraries: decode
            shape = _cv2_shape(path)
            if shape is None:
                return ImageCheck(None, None, "corrupt_image", "cannot decode image")
            w, h = shape
    if min(w, h) < MIN_SIDE:
        return ImageCheck(None, None, "corrupt_image", f"image is {w}x{h} px; ultralytics needs at least "
                          f"{MIN_SIDE} px a side")
    if fmt in ("JPEG", "MPO") and not decode:
        with open(path, "rb") as f:
            f.seek(-2, 2)
            if f.read() != b"\xff\xd9":
                try:
                    with Image.open(path) as im:
                        im.load()
                except (OSError, ValueError, SyntaxError) as e:
                    return ImageCheck(None, None, "corrupt_image", f"cannot read image (truncated JPEG: {e})")
                return ImageCheck(w, h, "jpeg_end", "JPEG does not end with an end-of-image marker (it decodes; "
                                  "ultralytics rewrites such files in place when it trains on them)")
    return ImageCheck(w, h)


def channel_count(path: Path) -> int:
    """Channels of the image as read (1 grayscale, 3 colour, 4 with alpha; palettes count as colour), from the
    header only. Raises DataError if the image is missing or unreadable."""
    try:
        with _open(path) as im:
            mode = im.mode
            transparent = "transparency" in im.info
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, ImportError):
        raise DataError("cannot read image", path) from None
    if mode in ("P", "PA"):
        return 4 if transparent or mode == "PA" else 3
    return Image.getmodebands(mode)


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) after EXIF rotation. Raises DataError if the image is missing or unreadable."""
    check = probe_image(Path(path))
    if not check.ok:
        raise DataError(check.message, path)
    return check.width, check.height


def load_pixels(path: Path) -> np.ndarray:
    """The image's pixels with EXIF rotation applied, keeping its channels and depth.

    Returns uint8/uint16/int32/float32 [H, W] or [H, W, C] (RGB(A) channel order, as Pillow reads it).
    """
    try:
        with _open(path) as im:
            im = ImageOps.exif_transpose(im)
            if im.mode in ("P", "PA"):
                im = im.convert("RGBA" if "transparency" in im.info or im.mode == "PA" else "RGB")
            return np.asarray(im)
    except (OSError, ValueError, SyntaxError, ImportError) as e:
        raise DataError(f"cannot read image ({e})", path) from None


def save_pixels(pixels: np.ndarray, path: Path, quality: int = 95) -> None:
    """Write pixels as read by `load_pixels` (format from the suffix: lossless .png, or .jpg at `quality`)."""
    image = Image.fromarray(pixels)
    if path.suffix.lower() in (".jpg", ".jpeg"):
        if image.mode not in ("L", "RGB"):
            image = image.convert("RGB")
        image.save(path, quality=quality)
    else:
        image.save(path)
