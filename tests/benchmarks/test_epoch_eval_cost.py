"""benchmarks/epoch_eval_cost.py: epoch times from ultralytics' cumulative time column."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def script(benchmark_script):
    return benchmark_script("epoch_eval_cost")


def test_epoch_seconds_are_the_differences_of_the_cumulative_column(script, tmp_path):
    csv = tmp_path / "results.csv"
    csv.write_text("epoch,time,metrics/mAP50(B)\n1,10.5,0\n2,22.0,0.1\n3,30.0,0.2\n")
    assert script.epoch_seconds(csv) == pytest.approx([10.5, 11.5, 8.0])
