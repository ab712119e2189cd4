"""A disk that fills up in the middle of writing: the command ends with one clear line (exit 2), the output is
either complete or absent (never half-written), nothing temporary is left, and the inputs are untouched."""

from __future__ import annotations

import errno
import os
import shutil

import pytest
from datahelpers import make_yolo

from tests.faults.faultkit import tree_checksums
from tinydet.cli import main
from tinydet.files import write_atomic


def _full_after(n_ok: int, real):
    """`real` (a copy function) that works `n_ok` times, then fails as a full disk does."""
    calls = {"n": 0}

    def copy(src, dst, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > n_ok:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
        return real(src, dst, *args, **kwargs)
    return copy


def test_convert_on_a_full_disk_leaves_no_output_and_no_leftovers(tmp_path, monkeypatch, capsys, tally):
    data = make_yolo(tmp_path / "data", {f"{i}.png": "0 0.5 0.5 0.25 0.25\n" for i in range(4)})
    before = tree_checksums(tmp_path / "data")
    monkeypatch.setattr(shutil, "copyfile", _full_after(2, shutil.copyfile))
    tally["tried"] += 1
    code = main(["convert", str(data), str(tmp_path / "out" / "coco"), "--to", "coco"])
    err = capsys.readouterr().err.strip().splitlines()
    intact = tree_checksums(tmp_path / "data") == before
    tally["lost"] += not intact
    assert intact and code == 2
    assert err[-1].startswith("tinydet convert: error: No space left on device") and "Traceback" not in "\n".join(err)
    assert not (tmp_path / "out" / "coco").exists() and list((tmp_path / "out").iterdir()) == []
    tally["survived"] += 1


def test_an_atomic_write_cut_off_by_a_full_disk_leaves_the_old_file(tmp_path, monkeypatch, tally):
    """predictions, caches, reports and exports go through write_atomic: a write that fails half-way keeps what
    was there before and leaves no temporary file."""
    target = tmp_path / "predictions.json"
    target.write_text("the previous, complete file")
    real_fdopen = os.fdopen

    class HalfWritten:
        def __init__(self, f):
            self.f = f

        def write(self, data):
            self.f.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: HalfWritten(real_fdopen(fd, mode)))
    tally["tried"] += 1
    with pytest.raises(OSError, match="No space left"):
        write_atomic(target, "x" * 10_000)
    assert target.read_text() == "the previous, complete file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["predictions.json"]
    tally["survived"] += 1
