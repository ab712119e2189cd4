"""Dataset arguments shared by analyze, convert and slice: format, splits, format options, --skip-bad.

Also how these commands report validation problems: one line per kind of problem on stderr (count and first
example), then either the one-line error (exit status 2) or, with --skip-bad, on with the bad items skipped."""

from __future__ import annotations

FORMAT_CHOICES = ("auto", "yolo", "coco", "voc", "visdrone")


def add_dataset_arguments(p, positional: str = "data") -> None:
    p.add_argument(positional, help="dataset: a data.yaml, a COCO .json, or a dataset folder (any format)")
    p.add_argument("--from", dest="fmt", default="auto", choices=FORMAT_CHOICES, help="format of the dataset")
    p.add_argument("--split", action="append", default=None, help="read only this split (repeatable)")
    p.add_argument("--skip-bad", action="store_true",
                   help="skip bad label lines and unreadable images with a warning instead of stopping")
    p.add_argument("--decode", action="store_true", help="decode every image fully to find corrupt ones (slower)")
    g = p.add_argument_group("format options")
    g.add_argument("--names", default=None,
                   help="comma-separated class names in index order (VOC: class order; VisDrone: categories 1, 2, ...)")
    g.add_argument("--images", default=None, help="COCO: folder that the images' file_name entries are relative to")
    g.add_argument("--visdrone-ignored", default="ignore", choices=("ignore", "drop"),
                   help="VisDrone category 0 (ignored regions): keep as ignore regions, or drop")
    g.add_argument("--visdrone-others", default="ignore", choices=("ignore", "drop", "class"),
                   help="VisDrone category 11 (others): ignore regions, drop, or an 11th class 'others'")
    g.add_argument("--voc-difficult", default="keep", choices=("keep", "ignore", "drop"),
                   help="VOC objects marked difficult: ordinary boxes, ignore regions, or dropped")
