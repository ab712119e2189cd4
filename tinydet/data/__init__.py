"""Datasets: formats, validation, analysis, tiling, keypoint conversion, synthetic data."""
