"""The merge machinery: overlap pairs, components and padded blocks against brute-force references."""

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tinydet.ops import clusters as C


def scene(seed, n, spread, groups):
    """Random boxes in clumps (so that many overlap), some degenerate, some at negative coordinates."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-50, spread, (max(1, n // 4), 2))
    xy = centres[rng.integers(0, len(centres), n)] + rng.normal(0, 6, (n, 2))
    wh = rng.uniform(0, 25, (n, 2))
    wh[rng.random(n) < 0.05] = 0  # zero-area boxes overlap nothing
    boxes = np.concatenate([xy, xy + wh], 1)
    g = rng.integers(0, groups, n) if groups else None
    return torch.tensor(boxes), (None if g is None else torch.tensor(g))


def brute_pairs(boxes, groups):
    b = boxes.numpy()
    out = set()
    for i in range(len(b)):
        for j in range(i + 1, len(b)):
            if groups is not None and groups[i] != groups[j]:
                continue
            w = min(b[i, 2], b[j, 2]) - max(b[i, 0], b[j, 0])
            h = min(b[i, 3], b[j, 3]) - max(b[i, 1], b[j, 1])
            if w > 0 and h > 0:
                out.add((i, j))
    return out


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(0, 120), spread=st.sampled_from([20.0, 200.0, 3000.0]),
       groups=st.sampled_from([0, 1, 3]))
def test_overlap_pairs_equal_brute_force(seed, n, spread, groups):
    boxes, g = scene(seed, n, spread, groups)
    i, j = C.overlap_pairs(boxes, g)
    found = list(zip(i.tolist(), j.tolist()))
    assert len(found) == len(set(found)), "a pair was reported twice"
    assert all(a < b for a, b in found)
    assert set(found) == brute_pairs(boxes, g)


def test_overlap_pairs_in_chunks(monkeypatch):
    monkeypatch.setattr(C, "_PAIR_CHUNK", 7)
    boxes, g = scene(3, 80, 60.0, 2)
    i, j = C.overlap_pairs(boxes, g)
    assert set(zip(i.tolist(), j.tolist())) == brute_pairs(boxes, g)


def bfs_components(n, edges):
    adjacency = {k: set() for k in range(n)}
    for a, b in edges:
        adjacency[a].add(b)
        adjacency[b].add(a)
    label, out = 0, [-1] * n
    for start in range(n):
        if out[start] >= 0:
            continue
        stack = [start]
        while stack:
            k = stack.pop()
            if out[k] < 0:
                out[k] = label
                stack.extend(adjacency[k])
        label += 1
    return out


@settings(max_examples=100, deadline=None)
@given(n=st.integers(1, 60), edges=st.lists(st.tuples(st.integers(0, 59), st.integers(0, 59)), max_size=80))
def test_components_equal_bfs(n, edges):
    edges = [(a % n, b % n) for a, b in edges]
    i = torch.tensor([a for a, _ in edges], dtype=torch.long)
    j = torch.tensor([b for _, b in edges], dtype=torch.long)
    assert C.connected_components(n, i, j).tolist() == bfs_components(n, edges)


def test_blocks_lay_out_every_member_once_in_rank_order():
    labels = torch.tensor([2, 0, 2, 1, 2, 0, 3, 3, 3, 3, 3])
    rank = torch.tensor([5.0, 1, 2, 0, 9, 0, 4, 3, 2, 1, 0])
    seen = []
    for block in C.blocks(labels, rank):
        for row, valid in zip(block.index.tolist(), block.valid.tolist()):
            members = [m for m, v in zip(row, valid) if v]
            assert len({int(labels[m]) for m in members}) == 1
            assert [float(rank[m]) for m in members] == sorted(float(rank[m]) for m in members)
            seen.extend(members)
    assert sorted(seen) == list(range(len(labels)))
    assert all(len(b.index[0]) >= 2 for b in C.blocks(labels, rank, min_size=2))


def test_hull_closure_joins_a_box_inside_a_clusters_hull():
    # Two clusters: {0, 1} (overlapping) and {2}; box 2 sits in the hull of {0, 1} but touches neither.
    boxes = torch.tensor([[0.0, 0, 10, 10], [5, 8, 30, 30], [20, 1, 24, 5]])
    labels = C.connected_components(3, *C.overlap_pairs(boxes))
    assert labels.tolist() == [0, 0, 1]
    assert C.close_under_hulls(boxes, None, labels).tolist() == [0, 0, 0]
    assert C.close_under_hulls(boxes, torch.tensor([0, 0, 1]), labels).tolist() == [0, 0, 1]
