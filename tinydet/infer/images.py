"""Reading images for inference as 3-channel BGR uint8, the way ultralytics reads them for training, so that
boxes come back in the pixels of the image as a viewer shows it:

- EXIF orientation applied (JPEG and friends), coordinates are those of the rotated image;
- grayscale replicated to three channels; alpha dropped; 16-bit kept as its high byte (`>> 8`);
- AVIF, HEIC, HEIF: decoded by Pillow, as ultralytics does (OpenCV decodes AVIF without its EXIF orientation);
- TIFF (by its magic bytes, whatever the extension says): read with tifffile, first page; alpha is dropped, so
  colours are those a viewer shows (ultralytics' OpenCV reader multiplies them by alpha). Large TIFFs (more
  than `TIFF_REGION_PIXELS`) are never loaded whole: `read()` decodes only the strips or tiles under the
  requested region, so memory stays bounded by one band of tiles however large the file;
- other formats are decoded whole (OpenCV, or Pillow beyond OpenCV's limit), after checking the pixel count
  against `max_pixels`, a decompression-bomb limit raised deliberately (default one gigapixel).

A reader exposes `width`, `height`, `read(x1, y1, x2, y2)` (a region, possibly a view) and `resized(w, h)` (the
whole image scaled down, built band by band for large TIFFs).
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

from tinydet.errors import TinydetError

DEFAULT_MAX_PIXELS = 1_000_000_000
TIFF_REGION_PIXELS = 64_000_000  # TIFFs above this many pixels are read region by region
_CV2_MAX_PIXELS = 1 << 30  # OpenCV's default CV_IO_MAX_IMAGE_PIXELS
_BAND_ROWS = 512  # source rows per band when resizing a large image
_PILLOW_FIRST = frozenset({".avif", ".heic", ".heif"})  # ultralytics' PIL_FALLBACK_SUFFIXES
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # classic and BigTIFF, both byte orders


def to_bgr8(pixels: np.ndarray, name: str, photometric: str = "bgr") -> np.ndarray:
    """Any supported array -> BGR uint8 [H, W, 3].

    Args:
        pixels: [H, W] or [H, W, C] with C in 1..4, uint8 or uint16.
        name: for error messages (file name).
        photometric: channel order of colour input: 'bgr' (OpenCV, tinydet's API) or 'rgb' (TIFF, Pillow).
    """
    if pixels.dtype == np.uint16:
        pixels = (pixels >> 8).astype(np.uint8)
    elif pixels.dtype == bool:
        pixels = pixels.astype(np.uint8) * 255
    elif pixels.dtype != np.uint8:
        raise TinydetError(f"{name}: {pixels.dtype} pixels are not supported (expected 8- or 16-bit integers)")
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.ndim != 3 or pixels.shape[2] not in (1, 2, 3, 4):
        raise TinydetError(f"{name}: expected an image of shape [H, W] or [H, W, 1-4], got {list(pixels.shape)}")
    channels = pixels.shape[2]
    if channels <= 2:  # gray (+ alpha)
        return np.repeat(pixels[:, :, :1], 3, axis=2)
    colour = pixels[:, :, :3]
    return np.ascontiguousarray(colour[:, :, ::-1]) if photometric == "rgb" else colour


class ArrayReader:
    """An image already in memory (BGR uint8 [H, W, 3])."""

    def __init__(self, pixels: np.ndarray, name: str = "array"):
        self.pixels, self.name = pixels, name
        self.height, self.width = pixels.shape[:2]

    def read(self, x1: int, y1: int, x2: int, y2: int) -> np.ndarray:
        return self.pixels[y1:y2, x1:x2]

    def close(self) -> None:
        pass

    def resized(self, width: int, height: int) -> np.ndarray:
        if (width, height) == (self.width, self.height):
            return self.pixels
        interpolation = cv2.INTER_AREA if width < self.width else cv2.INTER_LINEAR
        return cv2.resize(self.pixels, (width, height), interpolation=interpolation)


class TiffRegionReader:
    """A large TIFF read strip by strip or tile by tile (first page), never whole."""

    def __init__(self, path: Path, tif, page):
        self.path, self.name, self._tif, self._page = path, path.name, tif, page
        separate, depth, self.height, self.width, contig = page.shaped
        if depth != 1:
            raise TinydetError(f"{path}: volumetric TIFFs are not supported")
        self._separate, self._contig = separate, contig
        if page.is_tiled:
            self._seg_h, self._seg_w = page.tilelength, page.tilewidth
        else:
            self._seg_h, self._seg_w = page.rowsperstrip or self.height, self.width
        self._down = math.ceil(self.height / self._seg_h)
        self._across = math.ceil(self.width / self._seg_w)
        self._photometric = _tiff_photometric(path, page)

    def close(self) -> None:
        self._tif.close()

    def read(self, x1: int, y1: int, x2: int, y2: int) -> np.ndarray:
        page = self._page
        rows = range(y1 // self._seg_h, (y2 - 1) // self._seg_h + 1)
        cols = range(x1 // self._seg_w, (x2 - 1) // self._seg_w + 1)
        per_plane = self._down * self._across
        indices = [s * per_plane + r * self._across + c for s in range(self._separate) for r in rows for c in cols]
        out = np.zeros((y2 - y1, x2 - x1, self._separate * self._contig), page.dtype)
        segments = self._tif.filehandle.read_segments(
            [page.dataoffsets[i] for i in indices], [page.databytecounts[i] for i in indices], indices=indices
        )
        try:
            for data, index in segments:
                segment, (plane, _, sy, sx, _), _ = page.decode(data, index, jpegtables=page.jpegtables)
                if segment is None:  # an empty segment: zeros
                    continue
                segment = segment[0]  # depth
                top, left = max(sy, y1), max(sx, x1)
                bottom, right = min(sy + segment.shape[0], y2), min(sx + segment.shape[1], x2)
                if bottom <= top or right <= left:
                    continue
                channels = slice(plane * self._contig, (plane + 1) * self._contig)
                out[top - y1 : bottom - y1, left - x1 : right - x1, channels] = segment[top - sy : bottom - sy, left - sx : right - sx]
        except (ValueError, NotImplementedError, KeyError) as e:
            raise TinydetError(
                f"{self.path}: cannot decode this TIFF region by region ({e}); install the imagecodecs package, "
                "or convert the file to deflate or uncompressed"
            ) from None
        return to_bgr8(_apply_photometric(out, self._photometric, page), self.name, "rgb")

    def resized(self, width: int, height: int) -> np.ndarray:
        """The whole image scaled to (width, height), decoded in bands so memory stays bounded."""
        out = np.empty((height, width, 3), np.uint8)
        rows_per_band = max(1, int(_BAND_ROWS * height / self.height))
        for r0 in range(0, height, rows_per_band):
            r1 = min(height, r0 + rows_per_band)
            s0 = int(r0 * self.height / height)
            s1 = max(s0 + 1, min(self.height, int(math.ceil(r1 * self.height / height))))
            band = self.read(0, s0, self.width, s1)
            out[r0:r1] = cv2.resize(band, (width, r1 - r0), interpolation=cv2.INTER_AREA)
        return out


def _tiff_photometric(path: Path, page) -> str:
    name = getattr(page.photometric, "name", str(page.photometric)).upper()
    if name in ("MINISBLACK", "RGB", "YCBCR", "MINISWHITE", "PALETTE"):
        if name == "YCBCR" and page.compression == 1:
            raise TinydetError(f"{path}: uncompressed YCbCr TIFFs are not supported")
        return name
    raise TinydetError(f"{path}: TIFF photometric '{name}' is not supported (expected gray, RGB or palette)")


def _apply_photometric(pixels: np.ndarray, photometric: str, page) -> np.ndarray:
    if photometric == "MINISWHITE":
        return np.iinfo(pixels.dtype).max - pixels if pixels.dtype.kind == "u" else ~pixels
    if photometric == "PALETTE":
        colormap = (page.colormap >> 8).astype(np.uint8) if page.colormap.dtype == np.uint16 else page.colormap
        return colormap.T[pixels[:, :, 0]]  # RGB
    return pixels


# ----------------------------------------------------------------------------------------------------------------
# Opening
# ----------------------------------------------------------------------------------------------------------------
def from_array(pixels: np.ndarray, name: str = "array") -> ArrayReader:
    """A reader for an array given through the API: BGR (OpenCV order) uint8 or uint16, gray, BGRA."""
    if not isinstance(pixels, np.ndarray):
        raise TinydetError(f"expected an image path or a numpy array, got {type(pixels).__name__}")
    return ArrayReader(to_bgr8(pixels, name, "bgr"), name)


def open_image(path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS, region_pixels: int = TIFF_REGION_PIXELS):
    """A reader for an image file (see the module docstring). Errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise TinydetError(f"image not found: {path}")
    if _is_tiff(path):
        return _open_tiff(path, max_pixels, region_pixels)
    width, height = _header_size(path, max_pixels)
    if width * height > max_pixels:
        raise TinydetError(
            f"{path}: {width}x{height} is {width * height:,} pixels, above the limit of {max_pixels:,} "
            "(raise it with --max-pixels if the file is trusted)"
        )
    pixels = None
    if width * height <= _CV2_MAX_PIXELS and path.suffix.lower() not in _PILLOW_FIRST:
        pixels = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_COLOR)  # applies EXIF orientation
        if pixels is not None and pixels.shape[1::-1] != (width, height):  # the decoder ignored a rotation
            pixels = None
    if pixels is None:
        pixels = _read_pillow(path, max_pixels)
    return ArrayReader(pixels, path.name)


def _is_tiff(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) in _TIFF_MAGIC
    except OSError:  # unreadable: the decoders that follow say so, naming the file
        return False


def _header_size(path: Path, max_pixels: int) -> tuple[int, int]:
    """(width, height) from the header, before decoding anything; EXIF rotation swaps them."""
    try:
        with _pillow_limit(None), Image.open(path) as im:  # only the header: our own limit is checked next
            width, height = im.size
            if im.getexif().get(0x0112, 1) in (5, 6, 7, 8):
                width, height = height, width
            return width, height
    except Exception:  # noqa: BLE001  (Pillow cannot identify it; OpenCV may still read it)
        pixels = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_COLOR) if path.stat().st_size else None
        if pixels is None:
            raise TinydetError(f"{path}: not a readable image (corrupt or unsupported format)") from None
        return pixels.shape[1], pixels.shape[0]


class _pillow_limit:
    """Pillow's decompression-bomb limit set to ours for the duration (Pillow errors at twice its limit)."""

    def __init__(self, max_pixels: int | None):
        self.max_pixels = max_pixels

    def __enter__(self):
        self.saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = self.max_pixels
        return self

    def __exit__(self, *exc):
        Image.MAX_IMAGE_PIXELS = self.saved


def _read_pillow(path: Path, max_pixels: int) -> np.ndarray:
    try:
        with _pillow_limit(max_pixels), Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            if im.mode in ("I;16", "I;16B", "I;16L", "I"):
                return to_bgr8(np.asarray(im).astype(np.uint16), path.name, "rgb")
            return to_bgr8(np.asarray(im.convert("RGB")), path.name, "rgb")
    except (OSError, Image.DecompressionBombError) as e:
        raise TinydetError(f"{path}: not a readable image ({e})") from None


def _open_tiff(path: Path, max_pixels: int, region_pixels: int):
    import tifffile  # optional: TIFFs read by region

    try:
        tif = tifffile.TiffFile(path)
    except (tifffile.TiffFileError, OSError, ValueError) as e:
        raise TinydetError(f"{path}: not a readable TIFF ({e})") from None
    try:
        page = tif.pages.first
        orientation = page.tags.valueof(274, 1)  # TIFF Orientation
        height, width = page.shaped[2], page.shaped[3]
    except (IndexError, KeyError, ValueError, tifffile.TiffFileError) as e:  # a header without a readable page
        tif.close()
        raise TinydetError(f"{path}: not a readable TIFF (no readable first page: {type(e).__name__} {e})") from None
    if width * height > region_pixels and orientation == 1 and not page.is_volumetric:
        return TiffRegionReader(path, tif, page)
    with tif:
        if width * height > max_pixels:
            raise TinydetError(
                f"{path}: {width}x{height} TIFF with orientation {orientation} would be decoded whole, above the "
                f"limit of {max_pixels:,} pixels (raise it with --max-pixels)"
            )
        try:
            pixels = page.asarray()
        except (ValueError, NotImplementedError, KeyError):  # a codec tifffile lacks (LZW, JPEG without imagecodecs)
            pixels = None
        if pixels is not None:
            if pixels.ndim == 3 and page.planarconfig == 2:  # separate planes: [C, H, W]
                pixels = np.moveaxis(pixels, 0, -1)
            photometric = _tiff_photometric(path, page)
            pixels = _apply_photometric(pixels if pixels.ndim == 3 else pixels[:, :, None], photometric, page)
            return ArrayReader(_orient(to_bgr8(pixels, path.name, "rgb"), orientation), path.name)
    pixels = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_COLOR)  # OpenCV's libtiff has every codec
    if pixels is None:
        raise TinydetError(f"{path}: cannot decode this TIFF (compression not supported here)")
    return ArrayReader(pixels, path.name)


def _orient(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Apply a TIFF/EXIF orientation (1-8) so that the array is as a viewer shows it."""
    ops = {
        1: lambda a: a,
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.transpose(1, 0, 2),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: a.transpose(1, 0, 2)[::-1, ::-1],
        8: lambda a: np.rot90(a, 1),
    }
    if orientation not in ops:
        return pixels
    return np.ascontiguousarray(ops[orientation](pixels))
