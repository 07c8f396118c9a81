"""One statically sized activation arena: every intermediate tensor gets an offset, reused by liveness.

A tensor lives from the operation that writes it to the last one that reads it (both included: no operation
works in place). Each tensor gets a 4-byte-aligned offset free for its whole lifetime (:func:`plan_arena`). The
graph's input and output are the caller's buffers, not the arena's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from biowear.export.graph import Graph

ALIGN = 4


def _aligned(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


@dataclass(frozen=True)
class ArenaPlan:
    """Offsets of the arena's tensors and the arena's size.

    Attributes:
        offsets: byte offset of every intermediate tensor; sizes: its aligned size in bytes.
        lifetimes: (first, last) operation index of each.
        size_bytes: the arena's size; peak_bytes: the largest sum of live tensors at any operation (the lower
            bound no placement can beat; the planner reaches it when the two are equal).
    """

    offsets: dict[str, int]
    sizes: dict[str, int]
    lifetimes: dict[str, tuple[int, int]]
    size_bytes: int
    peak_bytes: int


def tensor_bytes(shape: tuple[int, int, int]) -> int:
    return shape[0] * shape[1] * shape[2]


def _place(order: list[str], sizes: dict[str, int], life: dict[str, tuple[int, int]], best_fit: bool) -> dict[str, int]:
    """Offsets placing tensors in ``order``, each in the lowest (first fit) or tightest (best fit) gap that is free
    for its whole lifetime."""
    offsets: dict[str, int] = {}
    for t in order:
        lo, hi = life[t]
        busy = sorted((offsets[u], offsets[u] + sizes[u]) for u in offsets if life[u][0] <= hi and lo <= life[u][1])
        gaps, cursor = [], 0
        for start, stop in busy:
            if start - cursor >= sizes[t]:
                gaps.append((start - cursor, cursor))
            cursor = max(cursor, stop)
        if best_fit and gaps:
            offsets[t] = min(gaps)[1]
        else:
            offsets[t] = gaps[0][1] if gaps else cursor
    return offsets


def plan_arena(graph: Graph, restarts: int = 64) -> ArenaPlan:
    """Plan the arena of a lowered graph (int8 tensors, one byte an element).

    Placement is an offline dynamic-storage-allocation problem (NP-hard in general); this tries the orders of
    TFLite Micro's greedy planner (largest first), by first use, by lifetime and ``restarts`` seeded random orders,
    each with first-fit and best-fit gaps, and keeps the smallest arena (stopping early at the liveness peak, the
    bound no placement beats)."""
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for i, op in enumerate(graph.ops):
        first.setdefault(op.output, i)
        for t in op.inputs:
            last[t] = i
    inner = [t for t in first if t not in (graph.input, graph.output)]
    sizes = {t: _aligned(tensor_bytes(graph.shapes[t])) for t in inner}
    life = {t: (first[t], last.get(t, first[t])) for t in inner}
    peak = max((sum(sizes[t] for t in inner if life[t][0] <= i <= life[t][1]) for i in range(len(graph.ops))),
               default=0)  # fmt: skip
    rng = np.random.default_rng(0)
    orders = [
        sorted(inner, key=lambda t: (-sizes[t], life[t][0])),
        sorted(inner, key=lambda t: (life[t][0], -sizes[t])),
        sorted(inner, key=lambda t: (-(life[t][1] - life[t][0]), -sizes[t])),
        *([inner[i] for i in rng.permutation(len(inner))] for _ in range(restarts)),
    ]
    best: tuple[int, dict[str, int]] | None = None
    for order in orders:
        for best_fit in (False, True):
            offsets = _place(order, sizes, life, best_fit)
            size = max((offsets[t] + sizes[t] for t in inner), default=0)
            if best is None or size < best[0]:
                best = (size, offsets)
        if best is not None and best[0] == peak:
            break
    assert best is not None
    return ArenaPlan(best[1], sizes, life, best[0], peak)
