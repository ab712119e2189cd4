"""benchmarks/equal_steps_list.py: the control lists have the promised length and content (the benchmark rows for
repeat-factor sampling and hard-negative mining rest on them)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def script(benchmark_script):
    return benchmark_script("equal_steps_list")


def test_uniform_copies_lists_every_image_and_repeats_distinct_ones(script):
    copies = script.uniform_copies(800, 893, seed=0)
    assert copies.sum() == 893
    assert copies.min() == 1 and copies.max() == 2 and (copies == 2).sum() == 93
    assert not np.array_equal(copies, script.uniform_copies(800, 893, seed=1))
    with pytest.raises(SystemExit, match="between"):
        script.uniform_copies(10, 21, seed=0)


def test_negatives_drawn_keeps_labelled_images_and_adds_distinct_negatives(script):
    is_negative = np.array([False] * 8 + [True] * 5 + [False] * 2)
    copies = script.negatives_drawn(is_negative, 13, seed=0)
    assert copies.sum() == 13
    assert np.all(copies[~is_negative] == 1)
    assert copies[is_negative].sum() == 3 and copies.max() == 1
    assert script.negatives_drawn(is_negative, 10, seed=0)[is_negative].sum() == 0
    assert script.negatives_drawn(is_negative, 15, seed=0)[is_negative].tolist() == [1] * 5  # each at most once
    with pytest.raises(SystemExit, match="5 negatives"):
        script.negatives_drawn(is_negative, 16, seed=0)
    with pytest.raises(SystemExit, match="labelled image count"):
        script.negatives_drawn(is_negative, 9, seed=0)
