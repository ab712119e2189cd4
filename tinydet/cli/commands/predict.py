"""Running `tinydet predict` (its arguments: tinydet/cli/predict.py)."""

from __future__ import annotations

import sys
import time
from contextlib import closing
from pathlib import Path

from tqdm import tqdm

from tinydet.errors import TinydetError
from tinydet.infer.auto import auto_slice, parse_slice
from tinydet.infer.batch import PredictSpec, predict_opened
from tinydet.infer.distributed import RayOptions, predict_ray
from tinydet.infer.ensemble import EnsembleOptions
from tinydet.infer.images import DEFAULT_MAX_PIXELS, ArrayReader
from tinydet.infer.output_names import Saves, check_out_outside, frame_stem, next_free_folder, plan_outputs
from tinydet.infer.outputs import PredictionWriter
from tinydet.infer.readahead import read_ahead
from tinydet.infer.sliced import SliceOptions
from tinydet.infer.sources import (
    frame_count,
    frames,
    is_video,
    list_sources,
    source_key,
    source_root,
    video_fps,
)


def options_from_args(args):
    """SliceOptions from the parsed arguments (resolving --slice auto)."""
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
    if args.source is None:
        if len(args.model) > 1 and not str(args.model[-1]).endswith(".pt"):
            args.source = args.model.pop()
        else:
            raise TinydetError("give SOURCE, the images or videos to predict (before --model, or after its .pt files)")


def spec_from_args(args):
    """The PredictSpec (models, slicing, ensemble / TTA) of the parsed arguments."""
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
    split_source(args)
    spec = spec_from_args(args)
    options = spec.slicing
    sources = list_sources(args.source)
    root = source_root(args.source, sources)
    keys = [source_key(p, root) for p in sources]
    out = Path(args.out) if args.out is not None else next_free_folder(Path("runs/predict"))
    check_out_outside(out, root if len(sources) > 1 or Path(args.source).expanduser().is_dir() else None,
                      default=args.out is None)
    saves = Saves(txt=args.save_txt, json=args.save_json, img=args.save_img)
    if args.ray:
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
