"""Output names of `tinydet predict` are checked before a run: no two sources share a file, no source is
replaced, and nothing existing is overwritten without exist_ok."""

from pathlib import Path

import pytest

from tinydet.errors import TinydetError
from tinydet.infer.output_names import Saves, check_out_outside, frame_stem, next_free_folder, plan_outputs
from tinydet.infer.sources import is_video

ALL = Saves(txt=True, json=True, img=True)


def plan(tmp_path, keys, saves=ALL, exist_ok=False):
    sources = [tmp_path / "src" / k for k in keys]
    videos = [is_video(Path(k)) for k in keys]
    return plan_outputs(tmp_path / "out", sources, keys, videos, saves, exist_ok)


def test_names_follow_the_relative_path(tmp_path):
    files = plan(tmp_path, ["a.jpg", "sub/a.png", "clip.mp4"])
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in files) == [
        "images/a.jpg", "images/sub/a.jpg", "labels/a.txt", "labels/sub/a.txt", "predictions.json", "videos/clip.mp4"]
    assert frame_stem("sub/clip.mp4", 12) == "sub/clip_000012"


@pytest.mark.parametrize("keys, saves, clash", [
    (["a.jpg", "a.png"], Saves(txt=True), "labels/a.txt"),
    (["a.jpg", "a.png"], Saves(img=True), "images/a.jpg"),
    (["clip.mp4", "clip_000003.png"], Saves(txt=True), "labels/clip_000003.txt"),
    (["v/clip.mp4", "v/clip.avi"], Saves(img=True), "videos/v/clip.mp4"),
    (["clip.mp4", "clip.avi"], Saves(txt=True), "labels/clip_NNNNNN.txt"),
])
def test_two_sources_writing_one_file_are_named(tmp_path, keys, saves, clash):
    with pytest.raises(TinydetError, match="would both write") as caught:
        plan(tmp_path, keys, saves)
    assert clash in str(caught.value) or clash.replace(".txt", "") in str(caught.value)


def test_equal_stems_are_fine_when_their_outputs_do_not_clash(tmp_path):
    plan(tmp_path, ["a.jpg", "a.png"], Saves(json=True))  # the JSON keys by the full name
    plan(tmp_path, ["clip.mp4", "clip_000003.png"], Saves(img=True))  # frames are drawn into the video


def test_existing_outputs_need_exist_ok(tmp_path):
    (tmp_path / "out" / "labels").mkdir(parents=True)
    (tmp_path / "out" / "labels" / "a.txt").write_text("ground truth\n")
    with pytest.raises(TinydetError, match=r"a\.txt already exists .*--exist-ok"):
        plan(tmp_path, ["a.jpg"], Saves(txt=True))
    plan(tmp_path, ["a.jpg"], Saves(txt=True), exist_ok=True)
    plan(tmp_path, ["b.jpg"], Saves(txt=True))  # other files in --out are left alone, so they do not stop a run


def test_existing_frame_labels_count_as_outputs(tmp_path):
    (tmp_path / "out" / "labels" / "v").mkdir(parents=True)
    (tmp_path / "out" / "labels" / "v" / "clip_000007.txt").write_text("")
    with pytest.raises(TinydetError, match="clip_000007.txt already exists"):
        plan(tmp_path, ["v/clip.mp4"], Saves(txt=True))


def test_a_source_is_never_replaced(tmp_path):
    sources = [tmp_path / "images" / "x.jpg"]
    for exist_ok in (False, True):
        with pytest.raises(TinydetError, match="would replace the source image"):
            plan_outputs(tmp_path, sources, ["x.jpg"], [False], Saves(img=True), exist_ok)


def test_next_free_folder(tmp_path):
    base = tmp_path / "runs" / "predict"
    assert next_free_folder(base) == base
    base.mkdir(parents=True)
    (tmp_path / "runs" / "predict2").mkdir()
    assert next_free_folder(base) == Path(tmp_path / "runs" / "predict3")


def test_out_inside_a_source_folder_is_refused(tmp_path):
    source = tmp_path / "data" / "images"
    for out in (source, source / "preds", tmp_path / "data" / "images" / ".." / "images" / "p"):
        with pytest.raises(TinydetError, match="inside the source folder"):
            check_out_outside(out, source)
    check_out_outside(tmp_path / "data" / "preds", source)  # beside the images: fine
    check_out_outside(source / "preds", None)  # a single-file source has no folder to protect
