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
  tinydet predict --model a.pt b.pt photos/ --slice 640 --tta --tta-scales 0.83 1 1.25 --save-json
  tinydet predict --model best.pt photos/ --slice 640 --save-txt --ray --ray-address 10.0.0.1:6379
"""


def register(sub, formatter) -> None:
    from tinydet.infer.backends import BACKENDS
    from tinydet.ops.merge import METHODS

    p = sub.add_parser("predict", help="predict boxes on images or videos, whole or sliced", description=DESCRIPTION,
                       formatter_class=formatter)
    p.add_argument("source", nargs="?", help="image or video file, folder or glob pattern (quote it)")
    p.add_argument("--model", required=True, nargs="+", metavar="PT",
                   help="checkpoint (.pt); several: an ensemble whose boxes are fused per image")
    p.add_argument("--slice", default=None, metavar="W[xH]|auto",
                   help="tile size in pixels; 'auto' takes it from the dataset analysis of --data; "
                   "not given: predict whole images")
    p.add_argument("--overlap", type=float, default=None,
                   help="overlap between neighbouring tiles, 0-1 (default: 0.2, or the analysis' with --slice auto)")
    p.add_argument("--full-image", action="store_true", help="also predict the whole image and merge it with the tiles")
    p.add_argument("--data", default=None, help="dataset (data.yaml) for --slice auto")
    p.add_argument("--merge", default="greedy-nmm", choices=list(METHODS), help="how boxes of different tiles are merged")
    p.add_argument("--match", default=None, choices=["iou", "ios", "diou"],
                   help="similarity the merge matches boxes by (default: ios for nmm/greedy-nmm, iou otherwise)")
    p.add_argument("--agnostic", action="store_true", help="merge boxes of different classes too")
    p.add_argument("--conf", type=float, default=0.25, help="confidence threshold")
    p.add_argument("--iou", type=float, default=None,
                   help="merge threshold when slicing (default: 0.5); NMS IoU for whole images (default: 0.7)")
    p.add_argument("--tile-iou", type=float, default=0.7, help="NMS IoU inside each tile when slicing")
    p.add_argument("--imgsz", type=int, default=None,
                   help="network input size (default: tiles at their own size, whole images at 640)")
    p.add_argument("--max-det", type=int, default=300, help="boxes kept per tile (per image when not slicing)")
    p.add_argument("--nms-free", action="store_true",
                   help="YOLO26-style models: boxes from the end-to-end (one-to-one) head, with no NMS "
                   "(default: the one-to-many head and NMS, as ultralytics does)")
    p.add_argument("--batch", type=int, default=4, help="tiles per forward pass")
    p.add_argument("--backend", default="torch", choices=list(BACKENDS),
                   help="onnxruntime/openvino export the checkpoint once (cached next to it)")
    p.add_argument("--device", default=None, help="cpu, 0, cuda:0, mps (default: first GPU if any, else cpu)")
    p.add_argument("--half", action="store_true",
                   help="reduced precision: fp16 for torch on CUDA, bf16/f16 for openvino (faster, boxes may move slightly)")
    p.add_argument("--max-pixels", type=int, default=None,
                   help="largest image (pixels) decoded whole; TIFFs are read by region (default: 1e9)")
    e = p.add_argument_group("ensembles and test-time augmentation (docs/inference.md)")
    e.add_argument("--ensemble-merge", default="wbf", choices=list(METHODS),
                   help="how the boxes of several models / TTA views are fused")
    e.add_argument("--ensemble-match", default=None, choices=["iou", "ios", "diou"],
                   help="similarity of that fusion (default: the merge's own)")
    e.add_argument("--ensemble-iou", type=float, default=0.55, help="match threshold of that fusion")
    e.add_argument("--ensemble-conf", default="avg", choices=["avg", "max"], help="WBF's fused score")
    e.add_argument("--no-vote", action="store_true",
                   help="keep fused scores as they are (default: times the share of passes that found the box)")
    e.add_argument("--tta", action="store_true", help="test-time augmentation: add mirrored views (and --tta-scales)")
    e.add_argument("--tta-scales", type=float, nargs="+", default=None, metavar="S",
                   help="image scales of the views (default with --tta: 0.83 1 1.25; without --tta: 1)")
    r = p.add_argument_group("batch inference on a Ray cluster (docs/scaling.md; needs tinydet[ray])")
    r.add_argument("--ray", action="store_true", help="spread the images over the workers of a Ray cluster")
    r.add_argument("--ray-address", default=None, metavar="ADDRESS",
                   help="cluster to join (host:port, ray://host:10001, auto); default: $RAY_ADDRESS, a cluster "
                   "started on this machine with `ray start`, or a new local one")
    r.add_argument("--ray-workers", type=int, default=None,
                   help="workers (each loads the models once; default: the cluster's CPUs / --ray-cpus)")
    r.add_argument("--ray-cpus", type=float, default=1.0, help="CPUs per worker (its torch threads)")
    r.add_argument("--ray-gpus", type=float, default=0.0, help="GPUs per worker (0.5: two workers share one)")
    p.add_argument("--out", default=None,
                   help="output folder (default: runs/predict, or runs/predict2, ... when that exists); a run that "
                   "would overwrite files there, or write two sources' outputs to one file, stops before it starts")
    p.add_argument("--exist-ok", action="store_true",
                   help="overwrite outputs of an earlier run in --out (source images are never overwritten)")
    p.add_argument("--skip-bad", action="store_true",
                   help="warn about an unreadable image and go on (default: stop at it, without predictions.json)")
    p.add_argument("--save-txt", action="store_true", help="labels/<image>.txt: class cx cy w h conf (normalised)")
    p.add_argument("--save-json", action="store_true",
                   help="predictions.json, COCO results (image_id = file name, category_id = class index, "
                   "unless --coco-gt)")
    p.add_argument("--coco-gt", default=None, metavar="FILE",
                   help="COCO ground truth whose image and category ids predictions.json should use")
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
    if args.slice is None and args.overlap is not None:
        raise TinydetError("--overlap applies to sliced prediction: add --slice W[xH] (or --slice auto)")
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
        nms_free=args.nms_free,
    )


def split_source(args) -> None:
    """`--model a.pt b.pt SOURCE` reads SOURCE as one more model (nargs='+'): take it back from the list."""
    from tinydet.errors import TinydetError

    if args.source is None:
        if len(args.model) > 1 and not str(args.model[-1]).endswith(".pt"):
            args.source = args.model.pop()
        else:
            raise TinydetError("give SOURCE, the images or videos to predict (before --model, or after its .pt files)")


def spec_from_args(args):
    """The PredictSpec (models, slicing, ensemble / TTA) of the parsed arguments."""
    from tinydet.infer.batch import PredictSpec
    from tinydet.infer.ensemble import EnsembleOptions

    if args.tta_scales is not None:
        scales = tuple(args.tta_scales)
    else:
        scales = (0.83, 1.0, 1.25) if args.tta else (1.0,)
    ensemble = EnsembleOptions(
        merge=args.ensemble_merge, match=args.ensemble_match, iou=args.ensemble_iou, agnostic=args.agnostic,
        conf_type=args.ensemble_conf, vote=not args.no_vote, flip=args.tta, scales=scales,
    )
    return PredictSpec(tuple(args.model), options_from_args(args), ensemble)


def run(args) -> int:
    import sys
    import time
    from contextlib import closing
    from pathlib import Path

    from tqdm import tqdm

    from tinydet.errors import TinydetError
    from tinydet.infer.batch import predict_opened
    from tinydet.infer.images import ArrayReader
    from tinydet.infer.output_names import Saves, frame_stem, next_free_folder, plan_outputs
    from tinydet.infer.outputs import PredictionWriter
    from tinydet.infer.readahead import read_ahead
    from tinydet.infer.sources import frame_count, frames, is_video, list_sources, source_key, source_root, video_fps

    split_source(args)
    spec = spec_from_args(args)
    options = spec.slicing
    sources = list_sources(args.source)
    root = source_root(args.source, sources)
    keys = [source_key(p, root) for p in sources]
    out = Path(args.out) if args.out is not None else next_free_folder(Path("runs/predict"))
    saves = Saves(txt=args.save_txt, json=args.save_json, img=args.save_img)
    if args.ray:
        from tinydet.infer.distributed import RayOptions, predict_ray

        ray_options = RayOptions(address=args.ray_address, workers=args.ray_workers, cpus=args.ray_cpus,
                                 gpus=args.ray_gpus, skip_bad=args.skip_bad)
        report = predict_ray(spec, sources, root, out, args.save_txt, args.save_json, args.save_img,
                             args.coco_gt, ray_options, exist_ok=args.exist_ok)
        for problem in report.skipped:
            print(f"warning: {problem}; skipped", file=sys.stderr)
        print(f"{report.boxes} boxes on {report.images - len(report.skipped)} images with {report.workers} Ray workers "
              f"in {report.seconds:.1f} s" + (f"; written to {out}" if report.writes else ""))
        return 0
    plan_outputs(out, sources, keys, [is_video(p) for p in sources], saves, args.exist_ok)
    predictor = spec.build()
    writer = PredictionWriter(out, predictor.names, args.save_txt, args.save_json, args.save_img, args.coco_gt)
    counts = [frame_count(p) for p in sources]
    show = len(sources) > 1 or any(is_video(p) for p in sources)
    n_boxes = n_frames = 0
    images = [p for p in sources if not is_video(p)]
    start = time.perf_counter()  # the predictor is built: as with --ray, the count starts at the first image
    with closing(read_ahead(images, options.max_pixels)) as images_ahead:  # the next image decodes meanwhile
        with tqdm(total=None if None in counts else sum(counts), desc="predict", unit="img", disable=not show) as bar:
            for path, relative in zip(sources, keys):
                video = (relative, video_fps(path)) if is_video(path) else None
                for frame in frames(path):
                    if video is None:
                        _, opened = next(images_ahead)
                        try:
                            reader = opened()
                        except TinydetError as e:
                            if not args.skip_bad:
                                raise TinydetError(f"{e}; stopped (--skip-bad warns and goes on)") from None
                            tqdm.write(f"warning: {e}; skipped", file=sys.stderr)
                            bar.update()
                            continue
                        dets = predict_opened(predictor, writer, reader, relative)
                    else:
                        reader = ArrayReader(frame.pixels, frame.name)
                        dets = predictor.predict_reader(reader)
                        writer.add(frame_stem(relative, frame.index), dets, reader, video)
                    n_boxes += len(dets)
                    n_frames += 1
                    bar.update()
                writer.finish_video()
    writer.close()
    seconds = time.perf_counter() - start
    print(f"{n_boxes} boxes on {n_frames} images in {seconds:.1f} s" + (f"; written to {out}" if writer.writes else ""))
    return 0
