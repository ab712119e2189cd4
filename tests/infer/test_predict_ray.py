"""`tinydet predict --ray`: a local two-worker Ray cluster writes exactly what the single-process run writes."""

import sys

import cv2
import numpy as np
import pytest

from tinydet.cli import main


@pytest.fixture
def images(tmp_path):
    rng = np.random.default_rng(3)
    for k in range(5):
        path = tmp_path / "src" / ("sub" if k % 2 else "") / f"im{k}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), (rng.random((96 + 8 * k, 128, 3)) * 255).astype(np.uint8))
    return tmp_path


def files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_ray_outputs_equal_single_process(images, checkpoint, capsys):
    pytest.importorskip("ray")
    (images / "src" / "sub" / "im2b.png").write_bytes(b"not a png")  # skipped by both, with a warning
    common = ["predict", str(images / "src"), "--model", str(checkpoint), "--slice", "64", "--overlap", "0.25", "--conf", "0.5",
              "--tta", "--tta-scales", "1", "--save-txt", "--save-json", "--skip-bad"]
    assert main([*common, "--out", str(images / "one")]) == 0
    assert "im2b.png: not a readable image (corrupt or unsupported format); skipped" in capsys.readouterr().err
    code = main([*common, "--out", str(images / "ray"), "--ray", "--ray-workers", "2"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "on 5 images with 2 Ray workers" in captured.out
    assert "im2b.png: not a readable image (corrupt or unsupported format); skipped" in captured.err
    one, spread = files(images / "one"), files(images / "ray")
    assert sorted(one) == sorted(spread) and len(one) == 6  # 5 label files and predictions.json
    assert one == spread
    assert b'"image_id": "sub/im1.png"' in one["predictions.json"]


def test_missing_ray_is_one_line(images, checkpoint, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as if it were not installed
    code = main(["predict", str(images / "src"), "--model", str(checkpoint), "--ray", "--out", str(images / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "pip install 'tinydet[ray]'" in err


def test_ray_refuses_videos_before_starting(images, checkpoint, capsys):
    writer = cv2.VideoWriter(str(images / "src" / "clip.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 5, (64, 48))
    writer.write(np.zeros((48, 64, 3), np.uint8))
    writer.release()
    code = main(["predict", str(images / "src"), "--model", str(checkpoint), "--ray", "--out", str(images / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "clip.avi: --ray predicts images only" in err


def test_api_checks_outputs_before_starting(images, checkpoint, monkeypatch):
    """predict_ray called from Python refuses to overwrite an earlier run, as `tinydet predict` does, before Ray."""
    from tinydet.errors import TinydetError
    from tinydet.infer import distributed
    from tinydet.infer.batch import PredictSpec
    from tinydet.infer.sources import list_sources, source_root

    monkeypatch.setattr(distributed, "import_ray", lambda: pytest.fail("Ray was started"))
    out = images / "out"
    (out / "labels").mkdir(parents=True)
    (out / "labels" / "im0.txt").write_text("earlier run\n")
    sources = list_sources(str(images / "src"))
    spec = PredictSpec((str(checkpoint),))
    with pytest.raises(TinydetError, match="im0.txt"):
        distributed.predict_ray(spec, sources, source_root(str(images / "src"), sources), out, save_txt=True)
    assert (out / "labels" / "im0.txt").read_text() == "earlier run\n"
