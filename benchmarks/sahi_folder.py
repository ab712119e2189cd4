"""SAHI 0.12.8 over a folder of images, as one whole process: what benchmarks/sliced_folders.py times against
`tinydet predict`.

    python benchmarks/sahi_folder.py FOLDER MODEL --tile 640 --imgsz 640 --overlap 0.2 --conf 0.25 \
        [--backend torch|openvino] --out boxes.json

tinydet is imported first, so that start-up, offline settings and torch threads (all cores) are the same as the
CLI's; nothing of tinydet's prediction path runs here. Greedy NMM with IoS 0.5, class-wise, no full-image pass,
as tinydet predict's defaults. Writes {"seconds": prediction loop, "boxes": {image name: [[x1, y1, x2, y2, score,
class], ...]}} and prints the loop's seconds and box count.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import tinydet  # noqa: F401  (offline settings and thread count, as the CLI has them)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("model", type=Path, help=".pt checkpoint, or an OpenVINO export folder with --backend openvino")
    parser.add_argument("--tile", type=int, default=640)
    parser.add_argument("--imgsz", type=int, default=640, help="network input size (SAHI image_size)")
    parser.add_argument("--overlap", type=float, default=0.2)
    parser.add_argument("--conf", type=float, default=0.25)
    parser.add_argument("--backend", choices=["torch", "openvino"], default="torch")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    from sahi import AutoDetectionModel
    from sahi.predict import get_sliced_prediction

    model = AutoDetectionModel.from_pretrained(model_type="ultralytics", model_path=str(args.model),
                                               confidence_threshold=args.conf, device="cpu", image_size=args.imgsz)
    boxes: dict[str, list] = {}
    start = time.perf_counter()
    for path in sorted(args.folder.glob("*.jpg")):
        result = get_sliced_prediction(
            str(path), model, slice_height=args.tile, slice_width=args.tile, overlap_height_ratio=args.overlap,
            overlap_width_ratio=args.overlap, perform_standard_pred=False, postprocess_type="GREEDYNMM",
            postprocess_match_metric="IOS", postprocess_match_threshold=0.5, postprocess_class_agnostic=False,
            force_postprocess_type=True, verbose=0,
        )
        boxes[path.name] = [[*map(float, p.bbox.to_xyxy()), float(p.score.value), int(p.category.id)]
                            for p in result.object_prediction_list]
    seconds = time.perf_counter() - start
    args.out.write_text(json.dumps({"seconds": seconds, "boxes": boxes}))
    print(f"{sum(map(len, boxes.values()))} boxes on {len(boxes)} images in {seconds:.1f} s")


if __name__ == "__main__":
    main()
