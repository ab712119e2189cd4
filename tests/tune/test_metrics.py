"""--metric names -> validator keys, and reading them with clear errors."""

from __future__ import annotations

import pytest

from tinydet.errors import TinydetError
from tinydet.tune.metrics import resolve_metric


@pytest.mark.parametrize("name, key", [
    ("APs", "metrics/APs(T)"),
    ("APvt", "metrics/APvt(T)"),
    ("precision", "metrics/precision(T)"),
    ("mAP50-95", "metrics/mAP50-95(B)"),
    ("mAP50", "metrics/mAP50(B)"),
    ("precision(B)", "metrics/precision(B)"),
    ("metrics/recall(B)", "metrics/recall(B)"),
])
def test_resolve(name, key):
    assert resolve_metric(name).key == key


@pytest.mark.parametrize("name, hint", [("APS", "did you mean APs"), ("map50-95", "did you mean mAP50-95"), ("loss", "")])
def test_unknown_metric(name, hint):
    with pytest.raises(TinydetError, match=f"unknown --metric '{name}'") as error:
        resolve_metric(name)
    assert hint in str(error.value)


def test_read():
    metric = resolve_metric("APs")
    assert metric.read({"metrics/APs(T)": 0.25}) == 0.25
    with pytest.raises(TinydetError, match=r"did not report metrics/APs\(T\) .*no tinydet metrics.*reported: mAP50-95\(B\)$"):
        metric.read({"metrics/mAP50-95(B)": 0.1})
    with pytest.raises(TinydetError, match="no objects in that size bucket"):
        metric.read({"metrics/APs(T)": -1.0})
    with pytest.raises(TinydetError, match="NaN"):
        resolve_metric("mAP50").read({"metrics/mAP50(B)": float("nan")})
