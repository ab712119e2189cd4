"""`tinydet slice`: tile a dataset for sliced training."""

from __future__ import annotations

from tinydet.cli.dataopts import add_dataset_arguments


def register(sub, formatter) -> None:
    p = sub.add_parser(
        "slice",
        help="tile a dataset into overlapping tiles for sliced training (YOLO output + manifest)",
        description="Cut every image into overlapping tiles of --size px. Boxes cut by a tile border are clipped "
        "and dropped when less than --min-visibility of their area is inside the tile; --empty-ratio of the "
        "tiles without boxes are kept (a seeded, repeatable draw). Writes a YOLO dataset with its own data.yaml "
        "and manifest.json (each tile's source image and offset). `tinydet analyze` recommends a size and "
        "overlap.",
        formatter_class=formatter,
    )
    add_dataset_arguments(p)
    p.add_argument("out", help="new folder to write (must not exist or be empty)")
    p.add_argument("--size", type=int, required=True, help="tile size in source pixels")
    p.add_argument("--overlap", type=float, required=True, help="fraction of a tile shared with its neighbour")
    p.add_argument("--min-visibility", type=float, default=0.25,
                   help="keep a clipped box if at least this fraction of its area is in the tile")
    p.add_argument("--empty-ratio", type=float, default=0.1, help="fraction of tiles without boxes to keep")
    p.add_argument("--seed", type=int, default=0, help="seed of the draw of empty tiles")
    p.add_argument("--tile-format", default="png", choices=("png", "jpg"), help="png is lossless, jpg smaller")
