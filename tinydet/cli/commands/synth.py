"""Running `tinydet synth` (its arguments: tinydet/cli/synth.py)."""

from __future__ import annotations

from tinydet.data.synth import SynthSpec, make_synthetic_dataset, parse_size


def run(args) -> int:
    spec = SynthSpec(
        images=args.images,
        seed=args.seed,
        size=parse_size(args.size),
        val_images=args.val_images,
        objects_per_megapixel=args.density,
    )
    print(make_synthetic_dataset(args.out, spec))
    return 0
