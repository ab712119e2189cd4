"""`tinydet prune`: structured channel pruning of a detection checkpoint, before/after size table."""

from __future__ import annotations

DESCRIPTION = """\
Remove the least important output channels of the convolutions whose channels nothing else depends on
(bottleneck inner convs, backbone downsampling convs, SPPF's first conv, the inner convs of the Detect head;
docs/compress.md says which and why), rebuild those layers smaller, and save the result as a checkpoint.
Importance: |gamma| of the channel's BatchNorm (bn) or the L1 norm of its filter (l1), ranked globally after
dividing by each layer's mean. Accuracy drops until the pruned model is fine-tuned:

examples:
  tinydet prune --model best.pt --ratio 0.3 --out pruned.pt
  tinydet train --model pruned.pt --data data.yaml --epochs 30 --out runs/pruned-ft
  tinydet train --model pruned.pt --data data.yaml --epochs 30 --distill-from best.pt --out runs/pruned-kd
"""


def register(sub, formatter) -> None:
    p = sub.add_parser("prune", help="prune a checkpoint's channels (then fine-tune with `tinydet train`)",
                       description=DESCRIPTION, formatter_class=formatter)
    p.add_argument("--model", required=True, help="detection checkpoint (.pt)")
    p.add_argument("--out", required=True, help="pruned checkpoint to write (.pt)")
    p.add_argument("--ratio", type=float, default=0.3, help="fraction of the prunable channels to remove")
    p.add_argument("--criterion", default="bn", choices=["bn", "l1"], help="channel importance")
    p.add_argument("--min-channels", type=int, default=8, help="each pruned layer keeps at least this many")
    p.add_argument("--round", dest="round_to", type=int, default=8,
                   help="round kept channel counts up to a multiple of this (1 = off)")
    p.add_argument("--imgsz", type=int, default=640, help="input size GFLOPs are counted at")
