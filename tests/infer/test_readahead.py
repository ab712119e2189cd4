"""Read-ahead: the next image is opened while the caller works on the current one, in order, errors in their
place, and every reader closed exactly once."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from tinydet.errors import TinydetError
from tinydet.infer.images import open_image
from tinydet.infer.readahead import read_ahead


class FakeReader:
    def __init__(self, path: Path, log: list):
        self.path, self.log, self.closed = path, log, 0

    def close(self) -> None:
        self.closed += 1
        self.log.append(("close", self.path.name))


def recording_opener(log: list, opened: dict, bad: set[str] = frozenset()):
    def opener(path: Path, max_pixels: int):
        log.append(("open", path.name))
        if path.name in bad:
            raise TinydetError(f"{path}: cannot decode")
        opened[path.name] = FakeReader(path, log)
        return opened[path.name]

    return opener


def test_real_images_come_back_in_order_with_their_pixels(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for k in range(4):
        path = tmp_path / f"im{k}.png"
        cv2.imwrite(str(path), rng.integers(0, 256, (20 + k, 30, 3), dtype=np.uint8))
        paths.append(path)
    seen = []
    for path, opened in read_ahead(paths):
        reader, expected = opened(), open_image(path)
        assert (reader.width, reader.height) == (expected.width, expected.height) == (30, 20 + len(seen))
        assert np.array_equal(reader.read(0, 0, 30, reader.height), expected.read(0, 0, 30, expected.height))
        reader.close()
        expected.close()
        seen.append(path)
    assert seen == paths


def test_next_image_opens_while_the_caller_holds_the_current_one(tmp_path):
    second_opened = threading.Event()
    paths = [tmp_path / "a.jpg", tmp_path / "b.jpg"]

    def opener(path: Path, max_pixels: int):
        if path.name == "b.jpg":
            second_opened.set()
        return FakeReader(path, [])

    ahead = read_ahead(paths, opener=opener)
    _, opened = next(ahead)
    opened().close()
    # still holding a.jpg: b.jpg must be opening in the background without the caller asking for it
    assert second_opened.wait(timeout=10), "b.jpg was not opened ahead"
    ahead.close()


def test_an_opening_error_is_raised_at_its_own_image_and_the_rest_goes_on(tmp_path):
    log, opened_readers = [], {}
    paths = [tmp_path / n for n in ("a.jpg", "b.jpg", "c.jpg")]
    results = []
    for path, opened in read_ahead(paths, opener=recording_opener(log, opened_readers, bad={"b.jpg"})):
        try:
            reader = opened()
        except TinydetError as e:
            results.append(("error", path.name, str(e)))
            continue
        results.append(("ok", path.name))
        reader.close()
    assert results[0] == ("ok", "a.jpg")
    assert results[1][:2] == ("error", "b.jpg") and "b.jpg: cannot decode" in results[1][2]
    assert results[2] == ("ok", "c.jpg")
    assert all(r.closed == 1 for r in opened_readers.values())


def test_stopping_early_closes_the_reader_opened_ahead(tmp_path):
    log, opened_readers = [], {}
    paths = [tmp_path / n for n in ("a.jpg", "b.jpg", "c.jpg")]
    ahead = read_ahead(paths, opener=recording_opener(log, opened_readers))
    for _, opened in ahead:
        opened().close()
        break
    ahead.close()
    assert ("open", "c.jpg") not in log  # one ahead, no more
    assert {name: r.closed for name, r in opened_readers.items()} == {"a.jpg": 1, "b.jpg": 1}


def test_a_reader_never_taken_is_closed_for_the_caller(tmp_path):
    log, opened_readers = [], {}
    paths = [tmp_path / n for n in ("a.jpg", "b.jpg")]
    for path, opened in read_ahead(paths, opener=recording_opener(log, opened_readers)):
        if path.name == "a.jpg":
            continue  # skipped without taking it
        opened().close()
    assert {name: r.closed for name, r in opened_readers.items()} == {"a.jpg": 1, "b.jpg": 1}


def test_a_missing_file_names_itself(tmp_path):
    (_, opened), = list(read_ahead([tmp_path / "missing.jpg"]))
    with pytest.raises(TinydetError, match="missing.jpg"):
        opened()
