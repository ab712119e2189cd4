"""`tinydet bench`: median latency per stage and throughput of checkpoints on the inference backends."""

from __future__ import annotations

DESCRIPTION = """\
Time checkpoints on inference backends (onnxruntime and openvino export the checkpoint once, cached beside
it): median preprocess / inference / postprocess milliseconds per image and images per second, one image per
forward pass, after warm-up passes. Images: --data's val split, else synthetic images of --imgsz.

examples:
  tinydet bench --model best.pt --backends torch,onnxruntime,openvino --imgsz 640
  tinydet bench --model a.pt b.pt --runs 50 --json bench.json
"""


def register(sub, formatter) -> None:
    p = sub.add_parser("bench", help="latency table of checkpoints on inference backends", description=DESCRIPTION,
                       formatter_class=formatter)
    p.add_argument("--model", required=True, nargs="+", help="checkpoints (.pt)")
    p.add_argument("--backends", default="torch,onnxruntime,openvino", help="comma-separated backends")
    p.add_argument("--imgsz", type=int, default=640, help="square input size in pixels")
    p.add_argument("--runs", type=int, default=20, help="timed passes over the images")
    p.add_argument("--warmup", type=int, default=3, help="untimed passes first")
    p.add_argument("--data", default=None, help="data.yaml whose val images to time on (default: synthetic)")
    p.add_argument("--images", type=int, default=4, help="images per pass")
    p.add_argument("--json", default=None, metavar="FILE", help="also write the rows as JSON")
