"""`tinydet predict`: run a checkpoint on images or videos, whole or sliced into tiles, and write the boxes."""

from __future__ import annotations

DESCRIPTION = """\
Predict on an image or video file, a folder or a glob, whole or sliced into overlapping tiles whose boxes are
merged (tiny objects in large images). Writes YOLO txt files (with confidences), a COCO results JSON and/or
images (videos) with boxes drawn.

examples:
  tinydet predict --model best.pt photos/ --save-json
  tinydet predict --model best.pt big.tif --slice 640 --overlap 0.2 --save-img
  tinydet predict --model best.pt val/ --slice auto --data data.yaml --full-image --merge wbf
  tinydet predict --model best.pt 'drone/*.jpg' --slice 512x512 --backend openvino --save-txt
"""


# Ends the helps that state their own default, so that the formatter adds no "(default: None)".
_OWN = "%(default).0s"


def register(sub, formatter) -> None:
    from tinydet.infer.backends import BACKENDS
    from tinydet.ops.merge import METHODS

    p = sub.add_parser("predict", help="predict boxes on images or videos, whole or sliced", description=DESCRIPTION,
                       formatter_class=formatter)
    p.add_argument("source", help="image or video file, folder or glob pattern (quote it)")
    p.add_argument("--model", required=True, help="checkpoint (.pt)" + _OWN)
    p.add_argument("--slice", default=None, metavar="W[xH]|auto",
                   help="tile size in pixels; 'auto' takes it from the dataset analysis of --data; "
                   "not given: predict whole images" + _OWN)
    p.add_argument("--overlap", type=float, default=None,
                   help="overlap between neighbouring tiles, 0-1 (default: 0.2, or the analysis' with --slice auto)" + _OWN)
    p.add_argument("--full-image", action="store_true", help="also predict the whole image and merge it with the tiles")
    p.add_argument("--data", default=None, help="dataset (data.yaml) for --slice auto" + _OWN)
    p.add_argument("--merge", default="greedy-nmm", choices=list(METHODS), help="how boxes of different tiles are merged")
    p.add_argument("--match", default=None, choices=["iou", "ios", "diou"],
                   help="similarity the merge matches boxes by (default: ios for nmm/greedy-nmm, iou otherwise)" + _OWN)
    p.add_argument("--agnostic", action="store_true", help="merge boxes of different classes too")
    p.add_argument("--conf", type=float, default=0.25, help="confidence threshold")
    p.add_argument("--iou", type=float, default=None,
                   help="merge threshold when slicing (default: 0.5); NMS IoU for whole images (default: 0.7)" + _OWN)
    p.add_argument("--tile-iou", type=float, default=0.7, help="NMS IoU inside each tile when slicing")
    p.add_argument("--imgsz", type=int, default=None,
                   help="network input size (default: tiles at their own size, whole images at 640)" + _OWN)
    p.add_argument("--max-det", type=int, default=300, help="boxes kept per tile (per image when not slicing)")
    p.add_argument("--batch", type=int, default=4, help="tiles per forward pass")
    p.add_argument("--backend", default="torch", choices=list(BACKENDS),
                   help="onnxruntime/openvino export the checkpoint once (cached next to it)")
    p.add_argument("--device", default=None, help="cpu, 0, cuda:0, mps (default: first GPU if any, else cpu)" + _OWN)
    p.add_argument("--half", action="store_true",
                   help="reduced precision: fp16 for torch on CUDA, bf16/f16 for openvino (faster, boxes may move slightly)")
    p.add_argument("--max-pixels", type=int, default=None,
                   help="largest image (pixels) decoded whole; TIFFs are read by region (default: 1e9)" + _OWN)
    p.add_argument("--out", default="runs/predict", help="output folder")
    p.add_argument("--save-txt", action="store_true", help="labels/<image>.txt: class cx cy w h conf (normalised)")
    p.add_argument("--save-json", action="store_true",
                   help="predictions.json, COCO results (image_id = file name, category_id = class index, "
                   "unless --coco-gt)")
    p.add_argument("--coco-gt", default=None, metavar="FILE",
                   help="COCO ground truth whose image and category ids predictions.json should use" + _OWN)
    p.add_argument("--save-img", action="store_true", help="images (and videos) with boxes drawn")
    p.set_defaults(run=run)


def options_from_args(args):
    """SliceOptions from the parsed arguments (resolving --slice auto)."""
    from tinydet.errors import TinydetError
    from tinydet.infer.auto import auto_slice, parse_slice
    from tinydet.infer.images import DEFAULT_MAX_PIXELS
    from tinydet.infer.sliced import SliceOptions

    overlap = args.overlap
    if args.slice == "auto":
        if not args.data:
            raise TinydetError("--slice auto needs --data (the dataset whose object sizes choose the tile)")
        size, recommended = auto_slice(args.data, args.imgsz or 640)
        print(f"--slice auto: {'no slicing' if size is None else f'{size[0]}x{size[1]} tiles'}, overlap {recommended}")
        overlap = recommended if overlap is None else overlap
    else:
        size = parse_slice(args.slice)
    sliced = size is not None
    iou = args.iou if args.iou is not None else (0.5 if sliced else 0.7)
    return SliceOptions(
        slice=size,
        overlap=0.2 if overlap is None else overlap,
        full_image=args.full_image,
        imgsz=args.imgsz,
        merge=args.merge,
        match=args.match,
        iou=iou,
        agnostic=args.agnostic,
        conf=args.conf,
        tile_iou=args.tile_iou if sliced else iou,
        max_det=args.max_det,
        batch=args.batch,
        backend=args.backend,
        device=args.device,
        max_pixels=args.max_pixels or DEFAULT_MAX_PIXELS,
        half=args.half,
    )


def run(args) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from tinydet.infer.images import ArrayReader, open_image
    from tinydet.infer.outputs import PredictionWriter
    from tinydet.infer.sliced import SlicedPredictor
    from tinydet.infer.sources import frame_count, frames, is_video, list_sources, source_root, video_fps

    options = options_from_args(args)
    sources = list_sources(args.source)
    root = source_root(args.source, sources)
    predictor = SlicedPredictor(args.model, options)
    writer = PredictionWriter(Path(args.out), predictor.names, args.save_txt, args.save_json, args.save_img, args.coco_gt)
    counts = [frame_count(p) for p in sources]
    show = len(sources) > 1 or any(is_video(p) for p in sources)
    n_boxes = n_frames = 0
    with tqdm(total=None if None in counts else sum(counts), desc="predict", unit="img", disable=not show) as bar:
        for path in sources:
            relative = path.relative_to(root).as_posix() if root is not None else path.name
            video = (relative, video_fps(path)) if is_video(path) else None
            for frame in frames(path):
                reader = ArrayReader(frame.pixels, frame.name) if video else open_image(path, options.max_pixels)
                try:
                    dets = predictor.predict_reader(reader)
                    key = relative if video is None else f"{Path(relative).with_suffix('')}_{frame.index:06d}"
                    writer.add(key, dets, reader, video)
                finally:
                    reader.close()
                n_boxes += len(dets)
                n_frames += 1
                bar.update()
            writer.finish_video()
    writer.close()
    print(f"{n_boxes} boxes on {n_frames} images" + (f"; written to {args.out}" if writer.writes else ""))
    return 0
