"""ultralytics, imported through tinydet, reads a user's dataset without writing into it.

Stock ultralytics 8.4.190 writes `labels/train.cache` beside the labels and re-encodes, in place, a JPEG that
does not end with its end marker. tinydet (tinydet/integrations/ultralytics/runtime.py) sends the cache to its own folder
and leaves the image alone.
"""

import hashlib

from tinydet.data.synth import SynthSpec, make_synthetic_dataset
from tinydet.integrations.ultralytics.env import label_cache_dir, label_cache_file


def _digests(folder):
    return {str(p.relative_to(folder)): hashlib.sha1(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def _read(images):
    from ultralytics.data import YOLODataset

    dataset = YOLODataset(img_path=str(images), data={"names": {0: "a", 1: "b", 2: "c"}, "nc": 3, "channels": 3},
                          imgsz=64, augment=False, cache=False)
    return dataset


def test_reading_a_dataset_writes_nothing_into_it(tmp_path):
    root = make_synthetic_dataset(tmp_path / "ds", SynthSpec(images=4, val_images=1, seed=3, size=(64, 64)), quiet=True).parent
    images = root / "images" / "train"
    appended = sorted(images.glob("*.jpg"))[0]
    appended.write_bytes(appended.read_bytes() + b"trailing bytes")  # no longer ends with FF D9
    before = _digests(root)

    first = _read(images)
    assert len(first.labels) == 4  # the image with appended bytes is read, not dropped
    assert _digests(root) == before
    cache = label_cache_file(root / "labels" / "train.cache")
    assert cache.parent == label_cache_dir() and cache.is_file()

    mtime = cache.stat().st_mtime_ns
    assert len(_read(images).labels) == 4 and cache.stat().st_mtime_ns == mtime  # the second read uses the cache
    assert _digests(root) == before
