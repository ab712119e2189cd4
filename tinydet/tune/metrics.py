"""The objective of a search: one validation metric, named the way a user types it (`--metric APs`).

Every epoch ultralytics' validator reports its box metrics as `metrics/<name>(B)` and tinydet's evaluator adds
its small-object metrics as `metrics/<name>(T)` (see tinydet/integrations/ultralytics/training/validator.py). All of them are
higher-is-better, so a search always maximises.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tinydet.errors import TinydetError

# ultralytics' box metrics that have no tinydet namesake; write precision(B) / recall(B) for ultralytics' P and R.
ULTRALYTICS_METRICS = ("mAP50", "mAP50-95")
# The keys of tinydet.eval's small_object_metrics (COCO, AI-TOD buckets, centre-distance AP, best-F1 point),
# without F1_conf, which is a confidence threshold rather than a score.
TINYDET_METRICS = (
    "AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl",
    "APvt", "APt", "ARvt", "ARt",
    "AP_aitod", "AP50_aitod", "AP75_aitod", "APs_aitod", "APm_aitod", "APl_aitod",
    "AR_aitod", "ARs_aitod", "ARm_aitod", "ARl_aitod",
    "AP_center", "AP50_center", "AP25_center", "AP10_center", "APvt_center", "APt_center", "APs_center",
    "APm_center", "APl_center", "AR_center",
    "precision", "recall", "F1",
)
DEFAULT_METRIC = "APs"


@dataclass(frozen=True)
class Metric:
    """`name`: as the user wrote it; `key`: where it is in an epoch's metrics (trainer.metrics)."""

    name: str
    key: str

    @property
    def from_tinydet(self) -> bool:
        return self.key.endswith("(T)")

    def read(self, metrics: Mapping[str, Any]) -> float:
        """This metric's value in one validation's metrics; a clear error when it is absent or undefined."""
        if self.key not in metrics:
            have = sorted(k[len("metrics/"):] for k in metrics if k.startswith("metrics/"))
            hint = ""
            if self.from_tinydet and not any(k.endswith("(T)") for k in have):
                hint = " (this run reported no tinydet metrics: is tinydet's evaluator installed?)"
            raise TinydetError(
                f"--metric {self.name}: the validator did not report {self.key}{hint}; it reported: {', '.join(have)}"
            )
        value = float(metrics[self.key])
        if self.from_tinydet and value == -1.0:
            raise TinydetError(
                f"--metric {self.name} is undefined (-1): the validation split has no objects in that size "
                "bucket; choose another --metric"
            )
        if math.isnan(value):
            raise TinydetError(f"--metric {self.name} is NaN in this run's validation")
        return value


def resolve_metric(name: str) -> Metric:
    """'APs' -> metrics/APs(T); 'mAP50-95' -> metrics/mAP50-95(B); 'precision(B)' and 'metrics/...' as written."""
    text = str(name).strip()
    if text.startswith("metrics/"):
        return Metric(text, text)
    for suffix in ("(B)", "(T)"):
        if text.endswith(suffix) and len(text) > len(suffix):
            return Metric(text, f"metrics/{text}")
    if text in ULTRALYTICS_METRICS:
        return Metric(text, f"metrics/{text}(B)")
    if text in TINYDET_METRICS:
        return Metric(text, f"metrics/{text}(T)")
    known = (*TINYDET_METRICS, *ULTRALYTICS_METRICS)
    close = [k for k in known if k.lower() == text.lower()] or difflib.get_close_matches(text, known, n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise TinydetError(
        f"unknown --metric '{text}'{hint}; use a tinydet metric ({', '.join(TINYDET_METRICS[:6])}, APvt, APt, ...), "
        "ultralytics' mAP50 or mAP50-95, or any validator key written as NAME(B) / NAME(T)"
    )
