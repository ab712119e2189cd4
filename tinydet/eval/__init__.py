"""Evaluation: COCO metrics, tiny-object buckets, centre-distance AP, reports."""
