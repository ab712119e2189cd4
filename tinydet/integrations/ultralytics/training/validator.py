"""ultralytics' detection and pose validators plus tinydet's small-object metrics, every epoch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch.distributed as dist
import ultralytics.utils as ul_utils
from ultralytics.models.yolo.detect import DetectionValidator
from ultralytics.models.yolo.pose import PoseValidator

from tinydet.data.dataset import ImageLabels
from tinydet.detections import Detections
from tinydet.eval import evaluate_detections, small_object_metrics
from tinydet.integrations.ultralytics.env import UltralyticsAssumptionError
from tinydet.ops.boxes import collapse_inverted

# tinydet metrics written to results.csv every epoch (all of small_object_metrics' keys work for --fitness).
EPOCH_METRICS = ("AP", "AP50", "APs", "APm", "APvt", "APt", "AP_center", "AP50_center")


class _SmallObjectMetricsMixin:
    """Validator add-on: keeps each image's predictions in original pixels, evaluates them with tinydet's
    evaluator (COCO, AI-TOD buckets, centre distance) and adds those metrics to ultralytics' (so they land in
    results.csv every epoch); `fitness_key` makes one of them the score that picks best.pt."""

    fitness_key = "ultralytics"

    def init_metrics(self, model):
        super().init_metrics(model)
        self._tinydet_predictions = {}
        self._tinydet_shapes = {}  # im_file -> (h, w) of the original image (rect mode drops it from labels)

    def update_metrics(self, preds, batch):
        super().update_metrics(preds, batch)
        for si, pred in enumerate(preds):
            pbatch = self._prepare_batch(si, batch)
            self._tinydet_shapes[pbatch["im_file"]] = tuple(int(v) for v in pbatch["ori_shape"])
            scaled = self.scale_preds(pred, pbatch)
            self._tinydet_predictions[pbatch["im_file"]] = Detections(  # YOLO26 can predict x2 < x1 early on
                collapse_inverted(scaled["bboxes"].detach().cpu()).numpy(), scaled["conf"].detach().cpu().numpy(),
                scaled["cls"].detach().cpu().numpy(),
            )

    def gather_stats(self):
        """Under DDP every rank validates part of the images: collect tinydet's per-image records on rank 0."""
        super().gather_stats()
        rank = ul_utils.RANK
        if rank < 0:
            return
        mine = (self._tinydet_predictions, self._tinydet_shapes)
        if rank == 0:
            gathered = [None] * dist.get_world_size()
            dist.gather_object(mine, gathered, dst=0)
            for predictions, shapes in gathered:
                self._tinydet_predictions.update(predictions)
                self._tinydet_shapes.update(shapes)
        else:
            dist.gather_object(mine, None, dst=0)
            self._tinydet_predictions, self._tinydet_shapes = {}, {}

    def _ground_truth(self):
        """The val labels as tinydet ImageLabels (pixels), from the dataset ultralytics validated on."""
        images = []
        for label in self.dataloader.dataset.labels:
            if label["im_file"] not in self._tinydet_shapes:
                raise UltralyticsAssumptionError(f"the validator never saw {label['im_file']}")
            h, w = self._tinydet_shapes[label["im_file"]]
            xywh = np.asarray(label["bboxes"], np.float64).reshape(-1, 4) * [w, h, w, h]
            xyxy = np.concatenate([xywh[:, :2] - xywh[:, 2:] / 2, xywh[:, :2] + xywh[:, 2:] / 2], axis=1)
            images.append(ImageLabels(Path(label["im_file"]), w, h, xyxy, np.asarray(label["cls"]).reshape(-1)))
        return images

    def get_stats(self):
        stats = super().get_stats()
        images = self._ground_truth()
        detections = [self._tinydet_predictions.get(str(im.file), Detections.empty()) for im in images]
        # every class of the model is a category, also one the val split never labels (it may still be predicted)
        names = [str(self.names[i]) for i in range(len(self.names))]
        extra = small_object_metrics(evaluate_detections(images, detections, names=names))
        stats.update({f"metrics/{k}(T)": extra[k] for k in EPOCH_METRICS if k in extra})
        if self.fitness_key != "ultralytics":
            if self.fitness_key not in extra:
                raise UltralyticsAssumptionError(
                    f"--fitness {self.fitness_key}: not a tinydet metric (have: {', '.join(extra)})"
                )
            stats["fitness"] = extra[self.fitness_key]
        return stats


class SmallObjectDetectionValidator(_SmallObjectMetricsMixin, DetectionValidator):
    """ultralytics' DetectionValidator plus tinydet's small-object metrics."""


class SmallObjectPoseValidator(_SmallObjectMetricsMixin, PoseValidator):
    """ultralytics' PoseValidator plus tinydet's small-object box metrics; by default best.pt is chosen on box
    metrics (0.1 mAP50 + 0.9 mAP50-95 of boxes), not ultralytics' pose mix: pose-aux ships the boxes."""

    def get_stats(self):
        stats = super().get_stats()
        if self.fitness_key == "ultralytics":
            stats["fitness"] = 0.1 * stats["metrics/mAP50(B)"] + 0.9 * stats["metrics/mAP50-95(B)"]
        return stats
