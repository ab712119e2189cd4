"""A plain-text report of an `Analysis`, as `tinydet analyze` prints it."""

from __future__ import annotations

from tinydet.data.analysis import Analysis, Distribution


def _dist(d: Distribution, unit: str = "") -> str:
    return (f"min {d.min:g}{unit}, p5 {d.p5:g}, median {d.median:g}, p95 {d.p95:g}, max {d.max:g}{unit} "
            f"(mean {d.mean:g})")


def _share(n: int, total: int) -> str:
    return f"{n} ({100 * n / total:.1f}%)" if total else str(n)


def format_analysis(a: Analysis) -> str:
    """Human-readable summary: counts, sizes, buckets, recommendations with their reasons."""
    r = a.recommendations
    lines = [f"dataset: {a.source} ({a.format})"]
    splits = ", ".join(f"{s} {v['images']} images / {v['instances']} boxes" for s, v in a.splits.items())
    lines.append(f"images: {a.images} ({splits}); sizes: " + ", ".join(f"{k} x{v}" for k, v in a.image_sizes.items()))
    lines.append(f"instances: {a.instances}" + (f" (+ {a.ignored} ignore regions)" if a.ignored else ""))
    lines.append("per class: " + ", ".join(f"{k} {_share(v, a.instances)}" for k, v in a.per_class.items()))
    lines.append(f"objects per image: {_dist(a.objects_per_image)}; images without objects: {a.background_images}")
    for title, sizes in (("native", a.box_sizes), (f"at imgsz {a.imgsz}", a.box_sizes_at_imgsz)):
        lines.append(f"box size {title}: sqrt(area) {_dist(sizes.sqrt_area, ' px')}")
        lines.append(f"    width {_dist(sizes.width)}; height {_dist(sizes.height)}")
    for title, b in (("native", a.buckets), (f"at imgsz {a.imgsz}", a.buckets_at_imgsz)):
        coco = ", ".join(f"{k} {_share(v, a.instances)}" for k, v in b.coco.items())
        aitod = ", ".join(f"{k} {_share(v, a.instances)}" for k, v in b.aitod.items())
        lines.append(f"COCO buckets {title}: {coco}")
        lines.append(f"AI-TOD buckets {title}: {aitod}")
    if a.problems:
        lines.append("problems found: " + ", ".join(f"{k} {v}" for k, v in a.problems.items()))
    lines.append("")
    lines.append("recommendations:")
    slice_text = "none" if r.slice is None else f"{r.slice} px tiles, overlap {r.overlap:g}"
    anchors = " ".join(f"{w:g},{h:g}" for w, h in r.anchors)
    imbalance = "none needed" if r.imbalance is None else (
        "repeat factors " + ", ".join(f"{k} {v:g}" for k, v in r.imbalance.repeat_factors.items() if v > 1)
        + "".join(f"; train with --{k.replace('_', '-')} {v:g}" for k, v in r.imbalance.recipe.items())
        + "".join(f" (class weights, --{k.replace('_', '-')} {v:g}, measured to lose)"
                  for k, v in r.imbalance.recipe_alternative.items()))
    for key, value in (("imgsz", r.imgsz), ("p2", "yes" if r.p2 else "no"), ("slice", slice_text),
                       ("anchors", f"{anchors} (mean best IoU {r.anchor_fit:.3f})"), ("imbalance", imbalance)):
        lines.append(f"  {key}: {value}")
        lines.append(f"      because {r.reasons[key]}")
    if r.slice is not None:
        lines.append(f"      overlap because {r.reasons['overlap']}")
    return "\n".join(lines)
