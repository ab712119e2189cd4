"""Datasets: formats, validation, analysis, tiling, keypoint conversion, synthetic data.

The entry point for every command is `load_dataset` (read any format + validate); `analyze` lives in
tinydet.data.analysis, tiling in tinydet.data.tiling, centre-keypoint conversion in tinydet.data.pose.
"""

from tinydet.data.convert import convert, write_dataset
from tinydet.data.dataset import Dataset, ImageLabels
from tinydet.data.loading import load_dataset, read_dataset
from tinydet.data.options import ReadOptions, WriteOptions
from tinydet.data.pose import to_pose_dataset
from tinydet.data.validate import DataWarning, Problem

__all__ = ["Dataset", "DataWarning", "ImageLabels", "Problem", "ReadOptions", "WriteOptions", "convert",
           "load_dataset", "read_dataset", "to_pose_dataset", "write_dataset"]
