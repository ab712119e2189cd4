"""The shared machinery of every merge (NMS family, WBF, NMM): find which boxes can interact at all, split them
into independent clusters, and lay the clusters out as padded tensors so that a sequential algorithm runs on all
clusters at once.

Greedy merges are sequential by nature (each decision depends on the previous ones), but only within a group of
boxes that overlap each other: boxes in different connected components of the overlap graph never interact.
Sliced inference produces many small components (one object seen by a few tiles, or a few anchors of one
object), so running the sequential algorithm in lockstep over all components costs a few dozen vectorised
steps instead of one Python step per box, and finding the overlap graph with a sort-and-search costs
O(N log N + pairs) instead of the O(N^2) of a dense IoU matrix.

All functions are pure torch, on any device, and keep the input dtype.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from tinydet.ops.boxes import SIMILARITIES, pairwise_intersection

# Candidate pairs are generated in chunks of about this many, bounding the temporary memory.
_PAIR_CHUNK = 1 << 22


class Merged(NamedTuple):
    """The result of a merge, sorted by decreasing score.

    index: int64 [M], for each output box the input box that represents it (the kept box for NMS, the
        highest-scoring member for merges), so that classes and extra columns can be taken from it;
    boxes: [M, 4] xyxy (equal to the input boxes for suppression methods, fused for merging ones);
    scores: [M] (rescored by soft-NMS and WBF).
    """

    index: torch.Tensor
    boxes: torch.Tensor
    scores: torch.Tensor

    @staticmethod
    def empty(boxes: torch.Tensor, scores: torch.Tensor) -> Merged:
        return Merged(torch.zeros(0, dtype=torch.long, device=boxes.device), boxes[:0], scores[:0])

    def sorted(self) -> Merged:
        """The same boxes in order of decreasing score (stable, ties keep their order)."""
        order = torch.sort(self.scores, descending=True, stable=True).indices
        return Merged(self.index[order], self.boxes[order], self.scores[order])


def check_inputs(boxes: torch.Tensor, scores: torch.Tensor, groups: torch.Tensor | None) -> None:
    """Raise ValueError unless boxes [N, 4], scores [N] and groups [N] (or None) agree."""
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes must have shape [N, 4], got {list(boxes.shape)}")
    if scores.shape != (boxes.shape[0],):
        raise ValueError(f"scores must have shape [{boxes.shape[0]}], got {list(scores.shape)}")
    if groups is not None and groups.shape != (boxes.shape[0],):
        raise ValueError(f"groups must have shape [{boxes.shape[0]}], got {list(groups.shape)}")


def named_similarity(metric: str, allowed: tuple[str, ...], what: str):
    """The elementwise similarity function called `metric`, if `what` (a merge's name) accepts it."""
    if metric not in allowed:
        raise ValueError(f"unknown {what} match metric '{metric}' (choose from {', '.join(allowed)})")
    return SIMILARITIES[metric]


def check_threshold(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")


# ----------------------------------------------------------------------------------------------------------------
# Overlap graph
# ----------------------------------------------------------------------------------------------------------------
def overlap_pairs(boxes: torch.Tensor, groups: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """All pairs of boxes in the same group whose intersection has positive area.

    Args:
        boxes: [N, 4] xyxy.
        groups: int [N] (e.g. class ids; boxes of different groups never pair), or None for one group.

    Returns:
        (i, j): int64 [E] each, with i < j, every such unordered pair exactly once (in no particular order).

    How: the plane is cut into horizontal rows about twice the median box height; each box is entered in every
    row it crosses. Within a (group, row), entries are sorted by x1 and each searches for the entries whose x1
    falls inside its own [x1, x2]. A pair is reported only in the first row both boxes cross, and only from the
    box with the smaller x1 (ties: smaller index). Cost O(N log N + candidates); a huge box costs only the rows
    it crosses and the boxes it overlaps in x there.
    """
    device = boxes.device
    none = torch.zeros(0, dtype=torch.long, device=device)
    positive = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    ids = positive.nonzero().squeeze(1)  # a box of zero area intersects nothing with positive area
    if len(ids) < 2:
        return none, none
    x1, y1, x2, y2 = boxes[ids].double().unbind(1)
    g = torch.zeros(len(ids), dtype=torch.long, device=device)
    if groups is not None:
        g = torch.unique(groups[ids], return_inverse=True)[1]
    row_height = 2 * torch.median(y2 - y1)
    first_row = torch.floor((y1 - y1.min()) / row_height).long()
    last_row = torch.maximum(torch.ceil((y2 - y1.min()) / row_height).long() - 1, first_row)
    rows = int(last_row.max()) + 1
    crossed = last_row - first_row + 1
    box = torch.repeat_interleave(torch.arange(len(ids), device=device), crossed)
    row = first_row[box] + torch.arange(len(box), device=device) - torch.repeat_interleave(torch.cumsum(crossed, 0) - crossed, crossed)
    x0 = x1.min()
    span = float(x2.max() - x0) + 1.0  # wider than any x offset, so rows never mix
    base = (g[box] * rows + row).double() * span
    order = torch.argsort(base + (x1[box] - x0), stable=True)
    box, row, base = box[order], row[order], base[order]
    sorted_key = base + (x1[box] - x0)
    lo = torch.searchsorted(sorted_key, sorted_key, side="left")
    hi = torch.searchsorted(sorted_key, base + (x2[box] - x0), side="right")
    counts = hi - lo
    pairs_i, pairs_j = [], []
    for start, stop in _chunks(counts):
        c = counts[start:stop]
        entry = torch.repeat_interleave(torch.arange(start, stop, device=device), c)
        within = torch.arange(len(entry), device=device) - torch.repeat_interleave(torch.cumsum(c, 0) - c, c)
        src, dst = box[entry], box[torch.repeat_interleave(lo[start:stop], c) + within]
        ok = row[entry] == torch.maximum(first_row[src], first_row[dst])  # the first row both cross
        ok &= (x1[src] < x1[dst]) | ((x1[src] == x1[dst]) & (src < dst))  # from the box with the smaller x1
        ok &= (torch.maximum(x1[src], x1[dst]) < torch.minimum(x2[src], x2[dst])) & (
            torch.maximum(y1[src], y1[dst]) < torch.minimum(y2[src], y2[dst])
        )
        pairs_i.append(src[ok])
        pairs_j.append(dst[ok])
    i, j = torch.cat(pairs_i), torch.cat(pairs_j)
    return ids[torch.minimum(i, j)], ids[torch.maximum(i, j)]


def _chunks(counts: torch.Tensor):
    """(start, stop) ranges of `counts` whose sums stay near _PAIR_CHUNK."""
    total = int(counts.sum())
    if total <= _PAIR_CHUNK:
        yield 0, len(counts)
        return
    cumulative = torch.cumsum(counts, 0)
    start = 0
    while start < len(counts):
        done = int(cumulative[start - 1]) if start else 0
        stop = int(torch.searchsorted(cumulative, done + _PAIR_CHUNK, side="right"))
        stop = max(stop, start + 1)
        yield start, stop
        start = stop


def connected_components(n: int, i: torch.Tensor, j: torch.Tensor) -> torch.Tensor:
    """Component labels of an undirected graph on n nodes with edges (i, j) -> int64 [n], numbered 0..C-1 in
    order of each component's smallest node.

    Min-label hooking with full path compression; a handful of rounds for the graphs merging produces.
    """
    parent = torch.arange(n, device=i.device)
    if len(i):
        while True:
            pi, pj = parent[i], parent[j]
            if torch.equal(pi, pj):
                break
            low, high = torch.minimum(pi, pj), torch.maximum(pi, pj)
            parent.scatter_reduce_(0, high, low, reduce="amin")
            while True:  # compress: every node points at its root
                grand = parent[parent]
                if torch.equal(grand, parent):
                    break
                parent = grand
    return torch.unique(parent, return_inverse=True)[1]


# ----------------------------------------------------------------------------------------------------------------
# Padded layout
# ----------------------------------------------------------------------------------------------------------------
class Block(NamedTuple):
    """Clusters of similar size laid out as rows: `index [C, K]` holds input box indices in the order the
    algorithm visits them, padded with -1 (`valid [C, K]` is False there)."""

    index: torch.Tensor
    valid: torch.Tensor

    def gather(self, values: torch.Tensor, fill: float = 0.0) -> torch.Tensor:
        """values [N, ...] -> [C, K, ...], padding filled with `fill`."""
        out = values[self.index.clamp_min(0)]
        mask = self.valid.reshape(*self.valid.shape, *([1] * (values.ndim - 1)))
        return torch.where(mask, out, torch.full_like(out, fill))


def blocks(labels: torch.Tensor, rank: torch.Tensor, min_size: int = 1) -> list[Block]:
    """Lay out the members of each label as a row, ordered by increasing `rank`, rows bucketed by size
    (powers of two) so that padding at most doubles the work.

    Args:
        labels: int64 [N], cluster of each item.
        rank: [N], the order within a cluster (ascending; ties keep input order).
        min_size: clusters smaller than this are left out (e.g. 2 to skip singletons).
    """
    n = len(labels)
    if n == 0:
        return []
    order = torch.argsort(rank, stable=True)
    order = order[torch.argsort(labels[order], stable=True)]
    sorted_labels = labels[order]
    sizes = torch.bincount(sorted_labels)
    starts = torch.cumsum(sizes, 0) - sizes
    position = torch.arange(n, device=labels.device) - starts[sorted_labels]
    size_of = sizes[sorted_labels]
    bucket = torch.ceil(torch.log2(size_of.double())).long()
    out = []
    for b in torch.unique(bucket[size_of >= min_size]).tolist():
        members = (bucket == b) & (size_of >= min_size)
        lab = sorted_labels[members]
        row = torch.unique(lab, return_inverse=True)[1]
        k = int(size_of[members].max())
        index = torch.full((int(row.max()) + 1, k), -1, dtype=torch.long, device=labels.device)
        index[row, position[members]] = order[members]
        out.append(Block(index, index >= 0))
    return out


def first_true(mask: torch.Tensor) -> torch.Tensor:
    """Column of the first True in each row of a bool [C, K] (0 where a row has none)."""
    return mask.to(torch.uint8).argmax(1)


def score_rank(scores: torch.Tensor) -> torch.Tensor:
    """Rank of each score in decreasing order (0 = best; ties by input order), int64 [N]."""
    order = torch.sort(scores, descending=True, stable=True).indices
    rank = torch.empty_like(order)
    rank[order] = torch.arange(len(order), device=scores.device)
    return rank


def interacting_clusters(
    boxes: torch.Tensor, groups: torch.Tensor | None, similarity, threshold: float | None
) -> torch.Tensor:
    """Cluster labels [N]: connected components of the graph linking boxes of one group whose `similarity`
    exceeds `threshold` (any positive overlap when `threshold` is None)."""
    i, j = overlap_pairs(boxes, groups)
    if threshold is not None and len(i):
        linked = similarity(boxes[i], boxes[j]) > threshold
        i, j = i[linked], j[linked]
    return connected_components(len(boxes), i, j)


def close_under_hulls(boxes: torch.Tensor, groups: torch.Tensor | None, labels: torch.Tensor) -> torch.Tensor:
    """Coarsen cluster `labels` until no box overlaps the hull (enclosing box) of another cluster of its group.

    Merges that match boxes against a fused box (WBF) need this to stay exact: a fused box is a weighted mean
    of its members, so it lies inside their hull, and only a box overlapping that hull can ever match it.
    After the first round only the hulls of clusters that grew can reach new boxes, so later rounds are cheap.
    """
    n = len(boxes)
    if n == 0:
        return labels
    check = torch.bincount(labels) > 1  # a lone box is its own hull: already in the overlap graph
    while True:
        ids = check.nonzero().squeeze(1)
        if not len(ids):
            return labels
        lookup = torch.full((len(check),), -1, dtype=torch.long, device=boxes.device)
        lookup[ids] = torch.arange(len(ids), device=boxes.device)
        members = lookup[labels] >= 0
        slot = lookup[labels[members]]
        hull = torch.empty(len(ids), 4, dtype=boxes.dtype, device=boxes.device)
        for q, reduce in enumerate(("amin", "amin", "amax", "amax")):
            fill = torch.inf if reduce == "amin" else -torch.inf
            hull[:, q] = torch.full((len(ids),), fill, dtype=boxes.dtype, device=boxes.device).scatter_reduce(
                0, slot, boxes[members, q], reduce
            )
        hull_groups = None
        if groups is not None:
            hull_groups = torch.zeros(len(ids), dtype=groups.dtype, device=groups.device).scatter(0, slot, groups[members])
        box, h = _boxes_overlapping(boxes, groups, hull, hull_groups)
        a, h = labels[box], ids[h]
        foreign = a != h
        if not foreign.any():
            return labels
        merged = connected_components(len(check), a[foreign], h[foreign])
        labels = torch.unique(merged, return_inverse=True)[1][labels]
        grew = torch.zeros(int(labels.max()) + 1, dtype=torch.bool, device=boxes.device)
        grew[labels[box[foreign]]] = True
        check = grew


def _boxes_overlapping(boxes, groups, hulls, hull_groups) -> tuple[torch.Tensor, torch.Tensor]:
    """(box index, hull index) of every box of a group overlapping a hull of that group (positive area)."""
    if len(hulls) > 256:
        n = len(boxes)
        all_groups = None if groups is None else torch.cat([groups, hull_groups])
        i, j = overlap_pairs(torch.cat([boxes, hulls]), all_groups)
        box_to_hull = (i < n) & (j >= n)  # i < j, so a box is always i and a hull always j
        return i[box_to_hull], j[box_to_hull] - n
    found_box, found_hull = [], []
    for start in range(0, len(hulls), 32):
        part = hulls[start : start + 32]
        touch = pairwise_intersection(boxes, part) > 0
        if groups is not None:
            touch &= groups[:, None] == hull_groups[None, start : start + 32]
        b, h = touch.nonzero().unbind(1)
        found_box.append(b)
        found_hull.append(h + start)
    return torch.cat(found_box), torch.cat(found_hull)
