"""Inference: full-image and sliced predictors that return `Detections`."""
