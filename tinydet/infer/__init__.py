"""Inference: full-image and sliced predictors that return `Detections`.

`from tinydet.infer.sliced import SlicedPredictor, SliceOptions` is the entry point (see docs/inference.md).
"""
