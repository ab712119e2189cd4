"""Running `tinydet convert` (its arguments: tinydet/cli/convert.py)."""

from __future__ import annotations

from tinydet.cli.commands.dataopts import data_warnings_printed, load
from tinydet.data.convert import write_dataset
from tinydet.data.options import WriteOptions
from tinydet.data.outdir import check_new_folder
from tinydet.data.pose import with_centre_keypoints


def run(args) -> int:
    check_new_folder(args.out)
    with data_warnings_printed("convert"):
        dataset = load("convert", args)
        if args.to == "pose":
            written = write_dataset(with_centre_keypoints(dataset), args.out, "yolo")
        else:
            options = WriteOptions(coco_first_id=args.coco_first_id, coco_keep_ids=args.coco_keep_ids)
            written = write_dataset(dataset, args.out, args.to, options)
    print(written)
    return 0
