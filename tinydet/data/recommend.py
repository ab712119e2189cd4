"""Recommendations from box sizes: training imgsz, P2 head, slicing, anchors, class-imbalance handling.

Each rule is a function of arrays that returns its value and the reason, in words and numbers, so that a
user can check it. The central measure is anchor-point coverage (tinydet.data.sizes.coverage): the expected
share of boxes that contain at least one cell centre of a head's grid, without which ultralytics' assigner
gives a box no positive sample. See docs/data.md for the derivations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tinydet.data.anchors import kmeans_anchors
from tinydet.data.sizes import coverage, round_up

SMALL_AREA = 32.0**2  # COCO "small"
CLASS_WEIGHT_POWER = 0.5  # weights sqrt(n_max / n_c): the usual square-root damping of inverse frequency


@dataclass(frozen=True)
class AnalysisOptions:
    """Thresholds of the recommendation rules (see docs/data.md).

    Attributes:
        anchors: number of k-means anchors.
        seed: seed of the k-means initialisation.
        min_imgsz, max_imgsz: range of training sizes considered (multiples of 32).
        imgsz_coverage_loss: a smaller imgsz is fine while stride-8 coverage drops by at most this much...
        imgsz_small_gain: ...and the share of COCO-small boxes grows by at most this much.
        p2_gain: a P2 head pays off when it raises coverage by at least this much, or...
        p2_tiny_share: ...when at least this share of boxes is under 16 px (sqrt of area) at imgsz.
        coverage_target: slicing is advised when the best head's coverage stays below this...
        slice_gain: ...or when native-resolution tiles would raise coverage by at least this much.
        min_slice: smallest tile size considered (px).
        imbalance_ratio: classes are imbalanced when the largest has this many times the instances of the
            smallest.
    """

    anchors: int = 9
    seed: int = 0
    min_imgsz: int = 320
    max_imgsz: int = 1280
    imgsz_coverage_loss: float = 0.005
    imgsz_small_gain: float = 0.01
    p2_gain: float = 0.05
    p2_tiny_share: float = 0.2
    coverage_target: float = 0.90
    slice_gain: float = 0.05
    min_slice: int = 128
    imbalance_ratio: float = 5.0


@dataclass
class Imbalance:
    """Class-imbalance advice.

    Attributes:
        ratio: instances of the largest class / instances of the smallest non-empty class.
        threshold: t of repeat-factor sampling (the median share of images that contain a class).
        repeat_factors: class name -> r_c = max(1, sqrt(t / f_c)), f_c = share of images containing the class;
            an image is repeated max over its classes of r_c times per epoch (LVIS, Gupta et al. 2019).
        class_weights: class name -> sqrt(n_max / n_c), for a class-weighted loss instead.
        empty_classes: names with no instances at all.
        recipe: the training options that act on it (tinydet.train.recipe.Recipe), when the counts are
            imbalanced: {'repeat_factor_t': t} (`tinydet train --repeat-factor-t t`); empty when only empty
            classes triggered the advice.
        recipe_alternative: the loss-side alternative, measured to lose AP small on hit_uav-lite (2 seeds),
            {'class_weight_power': 0.5} (ultralytics' cls_pw: weights
            (1 / n_c) ** 0.5 normalised to mean 1, the sqrt(n_max / n_c) of `class_weights`).
    """

    ratio: float
    threshold: float
    repeat_factors: dict[str, float]
    class_weights: dict[str, float]
    empty_classes: list[str] = field(default_factory=list)
    recipe: dict[str, float] = field(default_factory=dict)
    recipe_alternative: dict[str, float] = field(default_factory=dict)


@dataclass
class Recommendations:
    """What to do, with the reason for each (keys of `reasons`: imgsz, p2, slice, overlap, anchors, imbalance).

    `imgsz` is recommended on its own; p2, slice, overlap, anchors and coverage answer for the imgsz passed to
    `analyze` (the size the model will be trained or run at).

    Attributes:
        imgsz: recommended training image size (px, multiple of 32).
        p2: whether a P2 (stride 4) detection head pays off.
        slice: tile size in native pixels for sliced training and inference (tiles resized to the imgsz
            passed to `analyze`), or None when not needed.
        overlap: fraction of a tile shared with its neighbour (0.0 when not slicing).
        anchors: k-means anchors [[w, h], ...] in pixels at the analysed imgsz, for anchor-based models.
        anchor_fit: mean best IoU of the boxes with those anchors.
        imbalance: class-imbalance advice, or None when the classes are balanced.
        coverage: anchor-point coverage at the analysed imgsz by stride ('4', '8', '16', '32' -> share).
    """

    imgsz: int
    p2: bool
    slice: int | None
    overlap: float
    anchors: list[list[float]]
    anchor_fit: float
    imbalance: Imbalance | None
    coverage: dict[str, float]
    reasons: dict[str, str]


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _small_share(w: np.ndarray, h: np.ndarray) -> float:
    return float((w * h < SMALL_AREA).mean()) if len(w) else 0.0


def recommend_imgsz(w: np.ndarray, h: np.ndarray, long_side: np.ndarray, image_long_sides: np.ndarray,
                    requested: int, opts: AnalysisOptions) -> tuple[int, str]:
    """Smallest size (multiple of 32) that loses no more than a little stride-8 coverage and adds few COCO-small
    boxes compared with training at the images' own size (capped at max_imgsz).

    Args:
        w, h: box sizes [N] in native pixels; long_side: [N] long side of each box's image (px).
        image_long_sides: [M] long side of every image (px).
        requested: the imgsz the user plans to train at (for the comparison in the reason).
    """
    median_long = float(np.median(image_long_sides))
    native = round_up(median_long)
    top = min(native, opts.max_imgsz)
    low = min(opts.min_imgsz, top)

    def at(size: int) -> tuple[float, float]:
        scale = size / long_side
        return coverage(w * scale, h * scale, 8), _small_share(w * scale, h * scale)

    ref_cov, ref_small = at(top)
    choice = top
    for size in range(low, top + 1, 32):
        cov, small = at(size)
        if cov >= ref_cov - opts.imgsz_coverage_loss and small <= ref_small + opts.imgsz_small_gain:
            choice = size
            break
    cov, small = at(choice)
    why = f"images are {median_long:.0f} px on their long side (median)"
    if native > opts.max_imgsz:
        why += f"; training above {opts.max_imgsz} is rarely affordable, so the size is capped (see slice)"
    why += f". At {choice}, {_pct(cov)} of boxes get a stride-8 anchor point and {_pct(small)} are COCO-small"
    if choice < top:
        why += (f", close to {_pct(ref_cov)} and {_pct(ref_small)} at {top}: a smaller size loses little and "
                f"trains about {(top / choice) ** 2:.1f}x faster")
    elif choice > low:
        below = choice - 32
        cov_b, small_b = at(below)
        why += f"; at {below} that would be {_pct(cov_b)} and {_pct(small_b)}: do not go smaller"
    if requested != choice:
        cov_r, small_r = at(requested)
        why += f". At the requested {requested}: {_pct(cov_r)} and {_pct(small_r)}"
    return choice, why


def coverage_by_stride(w: np.ndarray, h: np.ndarray) -> dict[str, float]:
    """Coverage of boxes (px at the network input) for the strides of P2..P5."""
    return {str(s): round(coverage(w, h, s), 4) for s in (4, 8, 16, 32)}


def recommend_p2(w: np.ndarray, h: np.ndarray, imgsz: int, opts: AnalysisOptions) -> tuple[bool, str]:
    """Whether a P2 (stride 4) head pays off, from box sizes w, h [N] in pixels at the training size.

    Two signs: stride 4 gives an anchor point to at least `p2_gain` more boxes than stride 8 (boxes without
    one get no positive sample), or at least `p2_tiny_share` of the boxes are under 16 px (sqrt of area), where
    a stride-8 grid puts fewer than 4 anchor points inside a box on average (the assigner takes up to 10 per
    box) and a stride-4 grid four times as many.
    """
    cov8, cov4 = coverage(w, h, 8), coverage(w, h, 4)
    tiny = float((w * h < 16.0**2).mean()) if len(w) else 0.0
    facts = (f"at imgsz {imgsz}, {_pct(tiny)} of boxes are under 16 px (sqrt of area; fewer than 4 stride-8 anchor "
             f"points inside on average); a stride-8 (P3) head has an anchor point inside {_pct(cov8)} of boxes, "
             f"a stride-4 (P2) head inside {_pct(cov4)}")
    cost = "; a P2 head costs about 1.5x the GFLOPs of the stock model"
    if cov4 - cov8 >= opts.p2_gain:
        return True, (facts + ". Boxes without an anchor point get no positive sample in training: add the P2 head"
                      + cost)
    if tiny >= opts.p2_tiny_share:
        return True, (facts + f". Over {_pct(opts.p2_tiny_share)} of boxes are that tiny: a P2 head samples them "
                      "four times as densely" + cost)
    return False, (facts + f": under {_pct(opts.p2_tiny_share)} tiny boxes and under {_pct(opts.p2_gain)} coverage "
                   "to gain, not worth the extra compute" + cost.replace("; a", " (a") + ")")


def _tiny_share(w: np.ndarray, h: np.ndarray) -> float:
    return float((w * h < 16.0**2).mean()) if len(w) else 0.0


def recommend_slice(w: np.ndarray, h: np.ndarray, long_side: np.ndarray, median_long: float, imgsz: int,
                    stride: int, opts: AnalysisOptions) -> tuple[int | None, str]:
    """Tile size (native px) for sliced training/inference, or None.

    Tiles of T native pixels are resized to imgsz, so boxes grow by imgsz / T (compared with native). Two
    reasons to slice:
    - the best head (`stride`) has an anchor point inside fewer than `coverage_target` of the boxes at imgsz:
      then the largest tile that reaches the target (fewest tiles), from the images' size (or imgsz, if
      smaller) down to max(min_slice, imgsz / 4) in steps of 32; if none does, the one that helps most,
      provided it gains at least `slice_gain`;
    - the images are downscaled for training and that costs: native-resolution tiles (T = imgsz) would
      raise coverage, or lower the share of boxes under 16 px (sqrt of area), by at least `slice_gain`.

    w, h: box sizes [N] in native px; long_side: [N] long side of each box's image (px); median_long: the
    median long side of the images (px).
    """
    base_scale = imgsz / long_side
    base, base_tiny = coverage(w * base_scale, h * base_scale, stride), _tiny_share(w * base_scale, h * base_scale)
    top = min(imgsz, round_up(median_long))
    bottom = max(opts.min_slice, round_up(imgsz / 4))
    sizes = list(range(top, bottom - 1, -32)) or [top]
    covs = [coverage(w * imgsz / t, h * imgsz / t, stride) for t in sizes]
    head = f"stride-{stride} coverage at imgsz {imgsz} is {_pct(base)}"
    if base < opts.coverage_target:
        reach = [t for t, c in zip(sizes, covs) if c >= opts.coverage_target]
        tile = reach[0] if reach else sizes[int(np.argmax(covs))]
        gain = covs[sizes.index(tile)]
        if not reach and gain - base < opts.slice_gain:
            return None, (head + f", below the {_pct(opts.coverage_target)} target, but even {tile} px tiles (boxes "
                          f"{imgsz / tile:.1f}x larger) reach only {_pct(gain)}: slicing would not help enough")
        return tile, (head + f", below the {_pct(opts.coverage_target)} target. Tiles of {tile} px resized to "
                      f"{imgsz} make boxes {imgsz / tile:.2f}x larger and raise it to {_pct(gain)}")
    head += f" (target {_pct(opts.coverage_target)})"
    if median_long <= imgsz * 1.05:
        return None, head + "; the images are not downscaled for training: no slicing needed"
    tile = min(imgsz, top)
    native_tiny = _tiny_share(w * imgsz / tile, h * imgsz / tile)
    cov_gain, tiny_drop = covs[0] - base, base_tiny - native_tiny
    facts = (f"; images ({median_long:.0f} px) are downscaled to {imgsz}, which leaves {_pct(base_tiny)} of boxes "
             f"under 16 px against {_pct(native_tiny)} in native-resolution tiles of {tile} px (coverage "
             f"{_pct(covs[0])})")
    if cov_gain >= opts.slice_gain or tiny_drop >= opts.slice_gain:
        return tile, head + facts + ": slice at native resolution"
    return None, head + facts + f": a difference under {_pct(opts.slice_gain)}, no slicing needed"


def recommend_overlap(w: np.ndarray, h: np.ndarray, tile: int | None) -> tuple[float, str]:
    """Overlap so that 99% of objects fit whole inside the overlap band (then every such object lies entirely
    inside at least one tile): ceil(p99(max(w, h)) / tile) to 0.05, within [0.1, 0.5]. 0.0 without slicing.

    w, h: box sizes [N] in native px.
    """
    if tile is None:
        return 0.0, "no slicing"
    p99 = float(np.percentile(np.maximum(w, h), 99)) if len(w) else 0.0
    overlap = float(np.clip(np.ceil(p99 / tile / 0.05 - 1e-9) * 0.05, 0.1, 0.5))
    why = (f"99% of objects are at most {p99:.0f} px across; neighbouring {tile} px tiles sharing "
           f"{overlap:.2f} x {tile} = {overlap * tile:.0f} px keep each of them whole in at least one tile")
    if p99 > 0.5 * tile:
        why += " (capped at 0.5: larger objects will be cut; prefer bigger tiles or full-image inference for them)"
    return round(overlap, 2), why


def recommend_anchors(w: np.ndarray, h: np.ndarray, imgsz: int, k: int, seed: int) -> tuple[list, float, str]:
    """k-means (1 - IoU) anchors on box sizes at the training size. w, h: [N] px at imgsz."""
    anchors, fit = kmeans_anchors(np.stack([w, h], 1), k, seed)
    fit = round(float(fit), 3)  # one rounding for the reason and the summary line (0.7545 printed 0.754 and 0.755)
    listed = [[round(float(a), 1), round(float(b), 1)] for a, b in anchors]
    why = (f"{len(anchors)} k-means anchors (1 - IoU distance) of the box sizes at imgsz {imgsz} fit the boxes with "
           f"mean best IoU {fit:.3f}; only anchor-based models (YOLOv3/v5/v7 style) use them, ultralytics' "
           "YOLOv8/11/26 heads are anchor-free")
    return listed, fit, why


def recommend_imbalance(counts: np.ndarray, image_freq: np.ndarray, names: list[str],
                        opts: AnalysisOptions) -> tuple[Imbalance | None, str]:
    """Repeat-factor sampling / class weights when classes are imbalanced.

    Args:
        counts: int [C] instances per class.
        image_freq: float [C] share of images that contain each class.
    """
    present = counts > 0
    empty = [n for n, c in zip(names, counts) if c == 0]
    if present.sum() == 0:
        return None, "no instances"
    ratio = float(counts[present].max() / counts[present].min())
    if ratio < opts.imbalance_ratio and not empty:
        return None, (f"the largest class has {ratio:.1f}x the instances of the smallest (under "
                      f"{opts.imbalance_ratio:g}x): balanced enough")
    t = float(np.median(image_freq[present]))
    repeat = {n: round(float(max(1.0, np.sqrt(t / f))), 2) for n, f, p in zip(names, image_freq, present) if p}
    weights = {n: round(float(np.sqrt(counts.max() / c)), 2) for n, c in zip(names, counts) if c > 0}
    big, small = int(np.argmax(counts)), int(np.argmin(np.where(present, counts, np.inf)))
    rare = ", ".join(f"{n} x{r:g}" for n, r in sorted(repeat.items(), key=lambda kv: -kv[1]) if r > 1)
    why = (f"'{names[big]}' has {counts[big]} instances, '{names[small]}' {counts[small]} ({ratio:.1f}x, over "
           f"{opts.imbalance_ratio:g}x). Oversample images with rare classes by repeat-factor sampling (r = max(1, "
           f"sqrt(t / f)), f = share of images with the class, t = median share {t:.3f}): {rare or 'none'}; or "
           "weight the classification loss by sqrt(n_max / n)")
    recipe, alternative = {}, {}
    if ratio >= opts.imbalance_ratio:
        recipe = {"repeat_factor_t": max(round(t, 3), 0.001)}
        alternative = {"class_weight_power": CLASS_WEIGHT_POWER}
        why += (f". Recipe: --repeat-factor-t {recipe['repeat_factor_t']:g} (repeat_factor_t; computed again on the "
                "training split when training). Repeats make each epoch longer: judge RFS against a run with as many "
                "steps (docs/toolbox.md). Measured on hit_uav-lite, 2 seeds (BENCHMARKS.md, 'Toolbox'): RFS raised "
                "the rare class it targets (Bicycle AP50 +0.01 and +0.06) at some cost to the common one, and its "
                "AP small gain came from the extra steps, not the sampling. Class weights (--class-weight-power "
                f"{CLASS_WEIGHT_POWER:g}, class_weight_power) lost AP small on both seeds (-11%, -5%): measured to "
                "lose, an option only")
    if empty:
        why += f". No instances at all of: {', '.join(empty)} (drop them from names, or label some)"
    return Imbalance(ratio, t, repeat, weights, empty, recipe, alternative), why
