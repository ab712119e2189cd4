"""Structured channel pruning of YOLO detection models (network slimming, Liu et al. 2017; L1 filter pruning,
Li et al. 2017), with the pruned layers rebuilt physically so the model is smaller and faster, not masked.

Which channels are pruned, and why only those. A channel can be removed when everything that reads it is known
and can drop it too. tinydet finds, structurally, the output channels of a `Conv` (conv + BN + activation) that
feed exactly one following convolution and nothing else:

- Bottleneck cv1 -> cv2 (inside C2f, C3k2, C3k): cv1's output is read only by cv2. cv2's own output is left: it
  is added to the shortcut or concatenated with the other branches of its C2f.
- Detect head chains cv2[i] and cv3[i] (and the one-to-one copies of end-to-end heads): every Conv of the
  chain but the last unit feeds only the next unit. Depthwise convolutions on the way (YOLO11 / YOLO26 class
  branch: DWConv -> Conv) are pruned along, channel for channel.
- Backbone: a top-level Conv layer whose output no other layer reads (not in `model.save`) and whose next layer
  takes it as its only input and reads it with one convolution: a Conv, or the cv1 of a C2f / C3k2 / SPPF.
- SPPF cv1 -> cv2: cv1's output is max-pooled three times and the four copies concatenated into cv2, so channel
  j of cv1 is input channels j, j + c, j + 2c, j + 3c of cv2.

Left alone: C2f/C3k2 cv1 (split into halves that feed the bottlenecks and the concat), outputs that go into a
residual add, a Concat, Upsample or several layers, attention blocks (C2PSA, CBAM) and tinydet's own modules.
Their channels are tied to other layers, and pruning them needs coupled groups this module does not attempt.

Criterion and ranking: `bn` scores a channel by |gamma| of the producing BatchNorm, `l1` by the L1 norm of the
producing convolution's filter. Scores are divided by their layer's mean before a global ranking, so layers with
larger weights (wider fan-in) do not dominate it; a removed channel is one of the globally lowest `ratio` of all
prunable channels. Each layer keeps at least `min_channels`, and with `round_to` its kept count is rounded up to
a multiple of it (so the removed fraction can be below `ratio`).

The math: a removed channel's contribution to the consumer is dropped. When its producer BN has gamma = beta = 0
the channel is exactly zero after the activation (SiLU(0) = 0) and the pruned model computes the same outputs;
otherwise the change is what fine-tuning recovers (see docs/compress.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from tinydet.errors import TinydetError
from tinydet.integrations.ultralytics.builder import SPPF, Bottleneck, C2f, C3k2, Conv, Detect

CRITERIA = ("bn", "l1")


@dataclass
class PruneGroup:
    """One prunable set of channels: the output channels of `producer` (a Conv with .conv and .bn), carried
    through `passthrough` depthwise Convs, read by the input channels of `consumer` (a Conv or nn.Conv2d).

    `repeats`: how many concatenated copies of the channels the consumer reads (SPPF: 4; otherwise 1).
    `name`: where the group sits, for reports.
    """

    name: str
    producer: nn.Module
    consumer: nn.Module
    passthrough: list[nn.Module] = field(default_factory=list)
    repeats: int = 1
    parent_of_consumer: tuple | None = None  # (Sequential, index) of a bare nn.Conv2d consumer

    @property
    def channels(self) -> int:
        return self.producer.conv.out_channels


@dataclass
class PruneReport:
    """What pruning did: channels per group before and after (name -> (before, after)), totals of prunable
    channels, and the options used."""

    groups: dict[str, tuple[int, int]]
    criterion: str
    ratio: float
    min_channels: int
    round_to: int

    @property
    def prunable(self) -> int:
        return sum(b for b, _ in self.groups.values())

    @property
    def removed(self) -> int:
        return sum(b - a for b, a in self.groups.values())

    def to_dict(self) -> dict:
        return {"criterion": self.criterion, "ratio": self.ratio, "min_channels": self.min_channels,
                "round_to": self.round_to, "prunable": self.prunable, "removed": self.removed,
                "groups": {k: list(v) for k, v in self.groups.items()}}


# --------------------------------------------------------------------------------------------------------------
# Finding the groups
# --------------------------------------------------------------------------------------------------------------
def _conv_classes():
    return Conv, Bottleneck, C2f, C3k2, SPPF, Detect


def _is_conv_bn(m: nn.Module) -> bool:
    """A ultralytics Conv with its BatchNorm (not fused), a plain (groups = 1) convolution."""
    Conv = _conv_classes()[0]
    return isinstance(m, Conv) and isinstance(getattr(m, "bn", None), nn.BatchNorm2d) and m.conv.groups == 1


def _is_depthwise(m: nn.Module) -> bool:
    Conv = _conv_classes()[0]
    if not isinstance(m, Conv) or not isinstance(getattr(m, "bn", None), nn.BatchNorm2d):
        return False
    c = m.conv
    return c.groups == c.in_channels == c.out_channels and c.groups > 1


def _is_consumer(m: nn.Module) -> bool:
    """Reads its input with one plain convolution: a Conv (with or without BN), or a bare nn.Conv2d."""
    Conv = _conv_classes()[0]
    conv = m.conv if isinstance(m, Conv) else m
    return isinstance(conv, nn.Conv2d) and conv.groups == 1


def _flatten_chain(seq: nn.Module) -> list[nn.Module]:
    """The units of a purely sequential head branch, in order (nested Sequentials opened)."""
    if isinstance(seq, nn.Sequential):
        return [u for m in seq for u in _flatten_chain(m)]
    return [seq]


def _chain_groups(units: list[nn.Module], name: str) -> list[PruneGroup]:
    groups = []
    for k, unit in enumerate(units[:-1]):
        if not _is_conv_bn(unit):
            continue
        j, through = k + 1, []
        while j < len(units) - 1 and _is_depthwise(units[j]) and units[j].conv.in_channels == unit.conv.out_channels:
            through.append(units[j])
            j += 1
        if _is_consumer(units[j]) and _in_channels(units[j]) == unit.conv.out_channels:
            groups.append(PruneGroup(f"{name}.{k}", unit, units[j], through))
    return groups


def _in_channels(m: nn.Module) -> int:
    return (m.conv if hasattr(m, "conv") else m).in_channels


def find_groups(model: nn.Module) -> list[PruneGroup]:
    """The prunable groups of a ultralytics DetectionModel (see the module docstring for which and why)."""
    Conv, Bottleneck, C2f, C3k2, SPPF, Detect = _conv_classes()
    layers = getattr(model, "model", None)
    if not isinstance(layers, nn.Sequential) or not isinstance(layers[-1], Detect):
        raise TinydetError("pruning needs a detection model whose last layer is a Detect head")
    groups: list[PruneGroup] = []
    saved = set(getattr(model, "save", []))
    for i, layer in enumerate(layers):
        for name, m in layer.named_modules(prefix=f"model.{i}"):
            if type(m) is Bottleneck and _is_conv_bn(m.cv1) and _is_consumer(m.cv2):
                groups.append(PruneGroup(f"{name}.cv1", m.cv1, m.cv2))
            elif type(m) is SPPF and _is_conv_bn(m.cv1) and _is_consumer(m.cv2):
                copies = getattr(m, "n", 3) + 1
                if m.cv2.conv.in_channels == copies * m.cv1.conv.out_channels:
                    groups.append(PruneGroup(f"{name}.cv1", m.cv1, m.cv2, repeats=copies))
        nxt = layers[i + 1] if i + 1 < len(layers) else None
        if type(layer) is Conv and _is_conv_bn(layer) and i not in saved and nxt is not None and nxt.f == -1:
            consumer = nxt if type(nxt) is Conv else nxt.cv1 if type(nxt) in (C2f, C3k2, SPPF) else None
            if consumer is not None and _is_consumer(consumer):
                groups.append(PruneGroup(f"model.{i}", layer, consumer))
    head = layers[-1]
    for branch in ("cv2", "cv3", "one2one_cv2", "one2one_cv3"):
        for level, seq in enumerate(getattr(head, branch, None) or []):
            groups.extend(_chain_groups(_flatten_chain(seq), f"model.{len(layers) - 1}.{branch}.{level}"))
    return groups


# --------------------------------------------------------------------------------------------------------------
# Scoring and choosing
# --------------------------------------------------------------------------------------------------------------
def channel_scores(group: PruneGroup, criterion: str) -> torch.Tensor:
    """Importance of each of the group's channels, float [C]: |gamma| (bn) or the filter's L1 norm (l1)."""
    if criterion == "bn":
        return group.producer.bn.weight.detach().abs().float()
    if criterion == "l1":
        return group.producer.conv.weight.detach().abs().flatten(1).sum(1).float()
    raise TinydetError(f"criterion must be one of {', '.join(CRITERIA)}, got '{criterion}'")


def choose_channels(groups: list[PruneGroup], ratio: float, criterion: str = "bn", min_channels: int = 8,
                    round_to: int = 1) -> list[torch.Tensor]:
    """The channel indices each group keeps (sorted int64 tensors), by a global ranking of layer-normalised scores.

    ratio: fraction of all prunable channels to remove, in [0, 1). min_channels: each group keeps at least this
    many (or all it has). round_to: kept counts are rounded up to a multiple of it (capped at the group's size).
    """
    if not 0 <= ratio < 1:
        raise TinydetError(f"--ratio must be in [0, 1), got {ratio}")
    if min_channels < 1 or round_to < 1:
        raise TinydetError(f"--min-channels and --round must be at least 1, got {min_channels} and {round_to}")
    scores = [channel_scores(g, criterion) for g in groups]
    normed = [s / s.mean().clamp_min(1e-12) for s in scores]
    budget = int(ratio * sum(len(s) for s in scores))
    floor = [min(min_channels, len(s)) for s in scores]
    ranking = sorted((float(v), gi, ci) for gi, s in enumerate(normed) for ci, v in enumerate(s.tolist()))
    removed = [0] * len(groups)
    for _, gi, _ in ranking:
        if budget == 0:
            break
        if len(scores[gi]) - removed[gi] > floor[gi]:
            removed[gi] += 1
            budget -= 1
    keep = []
    for s, r in zip(scores, removed):
        n = min(len(s), math.ceil((len(s) - r) / round_to) * round_to)
        order = torch.argsort(s, descending=True, stable=True)
        keep.append(order[:n].sort().values)
    return keep


# --------------------------------------------------------------------------------------------------------------
# Rebuilding
# --------------------------------------------------------------------------------------------------------------
def _new_conv(old: nn.Conv2d, out_idx: torch.Tensor | None, in_idx: torch.Tensor | None, depthwise=False) -> nn.Conv2d:
    w = old.weight.detach()
    if out_idx is not None:
        w = w[out_idx]
    if in_idx is not None and not depthwise:
        w = w[:, in_idx]
    out_c = w.shape[0]
    in_c = out_c if depthwise else w.shape[1] * old.groups
    new = nn.Conv2d(in_c, out_c, old.kernel_size, old.stride, old.padding, old.dilation,
                    groups=out_c if depthwise else old.groups, bias=old.bias is not None, padding_mode=old.padding_mode)
    new = new.to(device=w.device, dtype=w.dtype)
    with torch.no_grad():
        new.weight.copy_(w)
        if old.bias is not None:
            new.bias.copy_(old.bias.detach() if out_idx is None else old.bias.detach()[out_idx])
    new.weight.requires_grad_(old.weight.requires_grad)
    return new.train(old.training)


def _new_bn(old: nn.BatchNorm2d, idx: torch.Tensor) -> nn.BatchNorm2d:
    new = nn.BatchNorm2d(len(idx), eps=old.eps, momentum=old.momentum, affine=old.affine,
                         track_running_stats=old.track_running_stats).to(old.weight.device, old.weight.dtype)
    with torch.no_grad():
        for name in ("weight", "bias", "running_mean", "running_var"):
            src = getattr(old, name)
            if src is not None:
                getattr(new, name).copy_(src.detach()[idx])
        if old.num_batches_tracked is not None:
            new.num_batches_tracked.copy_(old.num_batches_tracked)
    return new.train(old.training)  # a new module starts in training mode: keep the model's mode


def _apply(group: PruneGroup, keep: torch.Tensor) -> None:
    keep = keep.to(group.producer.conv.weight.device)
    group.producer.conv = _new_conv(group.producer.conv, keep, None)
    group.producer.bn = _new_bn(group.producer.bn, keep)
    for dw in group.passthrough:
        dw.conv = _new_conv(dw.conv, keep, None, depthwise=True)
        dw.bn = _new_bn(dw.bn, keep)
    old = group.consumer.conv if hasattr(group.consumer, "conv") else group.consumer
    width = old.in_channels // group.repeats
    in_idx = torch.cat([keep + r * width for r in range(group.repeats)])
    new = _new_conv(old, None, in_idx)
    if hasattr(group.consumer, "conv"):
        group.consumer.conv = new
    else:
        _replace_module(group, new)


def _replace_module(group: PruneGroup, new: nn.Conv2d) -> None:
    """A bare nn.Conv2d consumer (last conv of a Detect branch) sits in a Sequential: swap it in its parent."""
    parent, index = group.parent_of_consumer
    parent[index] = new
    group.consumer = new


def prune_model(model: nn.Module, ratio: float, criterion: str = "bn", min_channels: int = 8,
                round_to: int = 1) -> PruneReport:
    """Prune `model` (a ultralytics DetectionModel) in place; returns what was removed per group.

    The model keeps working in train and eval mode, with float weights on its device; see the module docstring
    for which channels are candidates and how they are ranked.
    """
    if criterion not in CRITERIA:
        raise TinydetError(f"criterion must be one of {', '.join(CRITERIA)}, got '{criterion}'")
    groups = find_groups(model)
    if not groups:
        raise TinydetError("this model has no channel group tinydet can prune")
    _locate_bare_consumers(model, groups)
    keep = choose_channels(groups, ratio, criterion, min_channels, round_to)
    report = {}
    for g, k in zip(groups, keep):
        report[g.name] = (g.channels, len(k))
        if len(k) < g.channels:
            _apply(g, k)
    model.tinydet_pruned = True
    return PruneReport(report, criterion, ratio, min_channels, round_to)


def _locate_bare_consumers(model: nn.Module, groups: list[PruneGroup]) -> None:
    parents = {}
    for m in model.modules():
        if isinstance(m, nn.Sequential):
            for idx, child in enumerate(m):
                parents[id(child)] = (m, idx)
    for g in groups:
        if not hasattr(g.consumer, "conv"):
            if id(g.consumer) not in parents:
                raise TinydetError(f"{g.name}: cannot find where its last convolution sits")
            g.parent_of_consumer = parents[id(g.consumer)]
