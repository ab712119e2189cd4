"""Open (decode) the next image in a background thread while the current one is predicted.

Decoding a 12 MP JPEG takes 0.07-0.09 s on one CPU core, 7-12% of a sliced OpenVINO bf16 prediction of it on a
2-core machine; OpenCV, Pillow and tifffile release the GIL while they decode, so where a core is free (fewer
inference threads than cores, or a GPU doing the forward passes) the decode of image i+1 overlaps the
prediction of image i. With every core busy it gains nothing (BENCHMARKS.md, "Sliced inference against SAHI"):

    for path, opened in read_ahead(paths, max_pixels):
        with closing(opened()) as reader:  # the reader of `path`, or the error opening it raised, raised here
            ...predict reader...

At most one image is decoded ahead, so memory holds two decoded images instead of one. Errors keep their order
and their place: opening image i+1 fails at `opened()` of image i+1, never earlier, so a caller that skips bad
files with a warning still can. The caller owns (closes) each reader it took; a reader decoded ahead but never
taken (the loop stopped early) is closed here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

from tinydet.infer.images import DEFAULT_MAX_PIXELS, open_image


def read_ahead(paths: Iterable[Path], max_pixels: int = DEFAULT_MAX_PIXELS,
               opener: Callable = open_image) -> Iterator[tuple[Path, Callable]]:
    """Yield (path, opened) per path, in order; `opened()` returns the reader of `path` (tinydet.infer.images),
    decoded in a background thread while the caller worked on the previous path, or raises what opening raised.

    opener: `opener(path, max_pixels)` -> reader with `close()` (open_image; a test may give another).
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tinydet-read-ahead") as pool:
        with closing(_one_ahead(pool, paths, lambda p: opener(p, max_pixels))) as ahead:
            for path, future in ahead:
                opened = _Opened(future)
                try:
                    yield path, opened
                finally:
                    opened.discard()


class _Opened:
    """The reader of one path, for the caller to take (`opened()`); closed here if never taken."""

    def __init__(self, future: Future):
        self._future, self._taken = future, False

    def __call__(self):
        self._taken = True
        return self._future.result()

    def discard(self) -> None:
        if not self._taken:
            self._taken = True
            _close_quietly(self._future)


def _one_ahead(pool: ThreadPoolExecutor, paths: Iterable[Path], open_one: Callable) -> Iterator[tuple[Path, Future]]:
    """(path, future of its reader) per path, the next path's opening submitted before the current is yielded."""
    pending: tuple[Path, Future] | None = None
    try:
        for path in paths:
            following = (Path(path), pool.submit(open_one, Path(path)))
            if pending is not None:
                current, pending = pending, following
                yield current
            else:
                pending = following
        if pending is not None:
            current, pending = pending, None
            yield current
    finally:
        if pending is not None:  # submitted, never handed out
            _close_quietly(pending[1])


def _close_quietly(future: Future) -> None:
    """Close the reader a `future` holds once it is done, if opening succeeded (an opening error was never asked
    for, so it is dropped)."""
    try:
        reader = future.result()
    except Exception:
        return
    reader.close()
