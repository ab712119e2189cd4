"""`tinydet predict`: run a checkpoint on images and write the boxes."""

from __future__ import annotations


def register(sub, formatter) -> None:
    p = sub.add_parser(
        "predict",
        help="predict boxes on images with a checkpoint",
        description="Predict on an image file, a folder or a glob, and write YOLO txt files (with confidences), "
        "a COCO results JSON and/or images with boxes drawn.",
        formatter_class=formatter,
    )
    p.add_argument("source", help="image file, folder or glob pattern (quote it)")
    p.add_argument("--model", required=True, help="checkpoint (.pt)")
    p.add_argument("--imgsz", type=int, default=640)
    p.add_argument("--conf", type=float, default=0.25, help="confidence threshold")
    p.add_argument("--iou", type=float, default=0.7, help="NMS IoU threshold")
    p.add_argument("--device", default=None)
    p.add_argument("--out", default="runs/predict", help="output folder")
    p.add_argument("--save-txt", action="store_true", help="labels/<image>.txt: class cx cy w h conf (normalised)")
    p.add_argument("--save-json", action="store_true", help="predictions.json in COCO results format (image_id = file name)")
    p.add_argument("--save-img", action="store_true", help="images with boxes drawn")
    p.set_defaults(run=run)


def run(args) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from tinydet.infer.full import FullImageOptions, load_model, predict_images
    from tinydet.infer.outputs import PredictionWriter
    from tinydet.infer.sources import list_images

    images = list_images(args.source)
    model = load_model(args.model)
    options = FullImageOptions(imgsz=args.imgsz, conf=args.conf, iou=args.iou, device=args.device)
    writer = PredictionWriter(Path(args.out), model.names, args.save_txt, args.save_json, args.save_img)
    n_boxes = 0
    for image, dets in tqdm(predict_images(model, images, options), total=len(images), desc="predict", unit="img"):
        writer.add(image, dets)
        n_boxes += len(dets)
    writer.close()
    print(f"{n_boxes} boxes on {len(images)} images" + (f"; written to {args.out}" if writer.writes else ""))
    return 0
