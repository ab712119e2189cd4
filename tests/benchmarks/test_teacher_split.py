"""benchmarks/teacher_split.py: the teacher's images share none with the students' (the distillation comparison
rests on a teacher that has seen other images)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def script(benchmark_script):
    return benchmark_script("teacher_split")


def test_images_outside_drops_the_excluded_images_by_resolved_path(script, tmp_path):
    pool = [tmp_path / f"{i}.jpg" for i in range(5)]
    for p in pool:
        p.touch()
    excluded = [tmp_path / "sub" / ".." / "1.jpg", tmp_path / "3.jpg", tmp_path / "other.jpg"]
    assert script.images_outside(pool, excluded) == [pool[0], pool[2], pool[4]]
    assert script.images_outside(pool, pool) == []
