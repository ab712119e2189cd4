"""analyze() names the training options (repeat_factor_t / class_weight_power) when class counts are imbalanced:
rule: the largest class has at least imbalance_ratio (5) times the instances of the smallest non-empty one."""

from pathlib import Path

import numpy as np
import pytest

from tinydet.data.analysis import analyze
from tinydet.data.dataset import Dataset, ImageLabels
from tinydet.data.summary import format_analysis
from tinydet.train.recipe import Recipe


def _dataset(per_image_classes, names=("a", "b", "c")):
    images = []
    for i, classes in enumerate(per_image_classes):
        n = len(classes)
        boxes = np.array([[10.0 + 20 * k, 10.0, 26.0 + 20 * k, 26.0] for k in range(n)]).reshape(-1, 4)
        images.append(ImageLabels(Path(f"/nowhere/{i}.jpg"), 320, 320, boxes, classes))
    return Dataset(names=list(names), splits={"train": images})


@pytest.mark.parametrize(
    "counts, advised",
    [((10, 10, 10), False), ((40, 10, 9), False), ((45, 10, 9), True), ((100, 1, 50), True)],
)
def test_recipe_options_follow_the_count_ratio(counts, advised):
    images = [[cls] for cls, n in enumerate(counts) for _ in range(n)]  # one box per image
    analysis = analyze(_dataset(images))
    imbalance = analysis.recommendations.imbalance
    text = format_analysis(analysis)
    if not advised:
        assert imbalance is None or not imbalance.recipe
        assert "--repeat-factor-t" not in text
        return
    f = np.array(counts) / sum(counts)
    t = round(float(np.median(f)), 3)
    assert imbalance.recipe == {"repeat_factor_t": t}
    assert imbalance.recipe_alternative == {"class_weight_power": 0.5}
    Recipe(**imbalance.recipe), Recipe(**imbalance.recipe_alternative)  # valid options as they stand
    assert f"--repeat-factor-t {t:g}" in text and "--class-weight-power 0.5, measured to lose" in text
    assert "measured to lose, an option only" in analysis.recommendations.reasons["imbalance"]
    assert "repeat_factor_t" in analysis.recommendations.reasons["imbalance"]
    assert "as many steps" in analysis.recommendations.reasons["imbalance"]  # RFS lengthens epochs (BENCHMARKS.md)
    assert '"recipe": {"repeat_factor_t"' in analysis.to_json().replace("\n", "").replace("  ", "")


def test_an_empty_class_alone_advises_no_recipe():
    analysis = analyze(_dataset([[0], [1], [0], [1]]))
    imbalance = analysis.recommendations.imbalance
    assert imbalance.empty_classes == ["c"] and imbalance.recipe == {} and imbalance.recipe_alternative == {}


def test_the_anchor_fit_reads_the_same_in_the_line_and_its_reason(monkeypatch):
    """Issue 26: the summary printed 'mean best IoU 0.754' above a reason that said 0.755 (two roundings of a fit
    of 0.75453)."""
    import re

    from tinydet.data import recommend

    real = recommend.kmeans_anchors
    monkeypatch.setattr(recommend, "kmeans_anchors", lambda wh, k, seed: (real(wh, k, seed)[0], 0.75453))
    text = format_analysis(analyze(_dataset([[0, 1, 2]] * 10)))
    values = re.findall(r"mean best IoU (\d\.\d+)", text)
    assert len(values) == 2 and values[0] == values[1]
