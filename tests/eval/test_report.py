"""`tinydet report` and `tinydet compare` on run folders with cached evaluations, the cache rules, and the page in
a real headless Chromium: it loads without console errors, its script runs, and its screenshot is not blank."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from runfixtures import make_run
from tinydet.cli import main
from tinydet.errors import TinydetError
from tinydet.eval.runs import CACHE_DIR, METRICS_FILE, PREDICTIONS_FILE, evaluate_run

CHROMIUM = next((p for p in (shutil.which("chromium"), "/usr/bin/chromium", shutil.which("chromium-browser"),
                             shutil.which("google-chrome")) if p and Path(p).exists()), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (CI installs the "
                                    "Debian package 'chromium'; locally: apt-get install -y chromium)")
SECTIONS = ["Summary", "Metrics per size bucket", "PR curves per size bucket", "Recall against object size",
            "Error breakdown", "Confusion matrices", "Per-class AP", "Sample pictures", "Training curves"]


@pytest.fixture(scope="module")
def runs(tiny_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    return [make_run(root, tiny_data, "yolov8n", seed=0, jitter=1.5), make_run(root, tiny_data, "yolov8n-p2", seed=1, jitter=0.5)]


@pytest.fixture(scope="module")
def report_file(runs, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report.html"
    assert main(["report", *map(str, runs), "--out", str(out)]) == 0
    return out


def test_report_is_one_self_contained_page(report_file):
    text = report_file.read_text()
    for title in SECTIONS:
        assert f"<h2>{title}" in text, title
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)|url\(\s*['"]?(https?:|//)|@import""", text)
    images = re.findall(r'<img [^>]*src="([^"]*)"', text)
    assert len(images) >= 8 and all(src.startswith("data:image/") for src in images)
    assert text.count("yolov8n-p2") >= 3  # both runs side by side


def test_report_and_compare_use_the_cached_evaluation(runs, capsys):
    ev = evaluate_run(runs[0])
    assert ev.cached and ev.params == 1_234_567 and ev.result.details is not None
    cached = json.loads((runs[0] / CACHE_DIR / METRICS_FILE).read_text())["metrics"]
    assert ev.result.coco.AP == pytest.approx(cached["AP"], abs=1e-12)
    assert main(["compare", *map(str, runs)]) == 0
    table = capsys.readouterr().out.strip().splitlines()
    assert table[0].startswith("| Model | mAP50 | mAP50-95 | AP small |") and len(table) == 4
    assert table[2].split("|")[2].strip() == f"{cached['AP50']:.3f}" and "1.235M" in table[2]


def test_compare_gives_runs_on_other_images_their_own_table(runs, tmp_path, capsys):
    from tinydet.data.synth import SynthSpec, make_synthetic_dataset

    other = make_synthetic_dataset(tmp_path / "other", SynthSpec(images=4, val_images=3, seed=5, size=(128, 128)), quiet=True)
    elsewhere = make_run(tmp_path / "runs", other, "yolov8n-other", seed=2)
    assert main(["compare", str(runs[0]), str(elsewhere), str(runs[1])]) == 0
    captured = capsys.readouterr()
    assert "evaluated on 2 different image sets" in captured.err
    tables = captured.out.strip().split("\n\nRuns on ")
    assert len(tables) == 2 and tables[0].startswith("Runs on ")
    assert "yolov8n-p2" in tables[0] and "yolov8n-other" not in tables[0]  # the two runs on tiny_data together
    assert f"{other} [val]: 3 images" in tables[1] and "yolov8n-other" in tables[1]


def test_stale_or_torn_cache_is_not_used(runs, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(runs[0], run)
    (run / CACHE_DIR / PREDICTIONS_FILE).write_text("[]")  # predictions no longer what metrics.json describes
    with pytest.raises(TinydetError, match="no weights/best.pt to evaluate and no valid cached evaluation"):
        evaluate_run(run)


def test_cache_made_on_other_images_is_not_used(runs, tiny_data, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(tiny_data.parent, data)  # moved: the cache still applies
    run = tmp_path / "run"
    shutil.copytree(runs[0], run)
    args = run / "args.yaml"
    args.write_text(args.read_text().replace(str(tiny_data), str(data / tiny_data.name)))
    assert evaluate_run(run).cached
    image = sorted((data / "images" / "val").iterdir())[0]
    image.write_bytes(image.read_bytes() + b"\0")  # another image under the same name
    with pytest.raises(TinydetError, match="no weights/best.pt to evaluate and no valid cached evaluation"):
        evaluate_run(run)


def test_bad_run_folders(tmp_path):
    with pytest.raises(TinydetError, match="run folder not found"):
        evaluate_run(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(TinydetError, match="empty: not a training run folder: it has no args.yaml"):
        evaluate_run(tmp_path / "empty")
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "args.yaml").write_text("data: missing/data.yaml\nimgsz: 64\n")
    with pytest.raises(TinydetError, match=r"args.yaml: 'data: missing/data.yaml' was not found"):
        evaluate_run(tmp_path / "r")


def chromium(tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    profile.mkdir()
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args, page.resolve().as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def page_problems(tmp_path: Path, page: Path) -> list[str]:
    """Console messages and script errors of a page loaded in headless Chromium, and whether its script ran."""
    done = chromium(tmp_path, page, "--dump-dom")
    problems = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    root = re.search(r"<html[^>]*>", done.stdout)
    if root is None:
        return problems + [f"no DOM dumped (exit {done.returncode})"]
    errors = re.search(r'data-js-errors="([^"]*)"', root.group(0))
    if errors:
        problems.append("script error: " + errors.group(1))
    if 'data-report-ready="1"' not in root.group(0):
        problems.append("the page's script did not finish")
    return problems


@needs_chromium
def test_page_checks_catch_a_broken_page(tmp_path, report_file):
    """The browser checks below can fail: the same page with a script error is caught."""
    broken = tmp_path / "broken.html"
    broken.write_text(report_file.read_text().replace("document.documentElement.setAttribute('data-report-ready'",
                                                      "undefinedFunction();document.documentElement.setAttribute('data-report-ready'"))
    problems = page_problems(tmp_path, broken)
    assert any("undefinedFunction" in p for p in problems) and any("did not finish" in p for p in problems)


@needs_chromium
def test_report_renders_in_headless_chromium(tmp_path, report_file):
    assert page_problems(tmp_path, report_file) == []
    shot = tmp_path / "shot.png"
    done = chromium(tmp_path, report_file, f"--screenshot={shot}", "--window-size=1280,1800", "--hide-scrollbars")
    assert shot.is_file(), done.stderr[-2000:]
    assert not [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("RGB"), np.float64)
    assert pixels.shape[:2] == (1800, 1280)
    assert pixels.std() > 20  # not one flat colour
    colours = np.unique((pixels[::4, ::4] // 16).reshape(-1, 3), axis=0)
    assert len(colours) > 50  # text, tables, plots: many colours
    header = pixels[:40].mean(axis=(0, 1))
    assert header.max() < 80  # the dark page header was painted, so the CSS applied
