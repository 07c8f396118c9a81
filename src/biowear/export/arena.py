"""One statically sized activation arena: every intermediate tensor gets an offset, reused by liveness.

A tensor lives from the operation that writes it to the last one that reads it (both included: no operation
works in place). Tensors are placed largest first, each at the lowest 4-byte-aligned offset free for its whole
lifetime (the greedy-by-size planner of TFLite Micro). The graph's input and output are the caller's buffers,
not the arena's.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def plan_arena(graph: Graph) -> ArenaPlan:
    """Plan the arena of a lowered graph (int8 tensors, one byte an element)."""
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for i, op in enumerate(graph.ops):
        first.setdefault(op.output, i)
        for t in op.inputs:
            last[t] = i
    inner = [t for t in first if t not in (graph.input, graph.output)]
    sizes = {t: _aligned(tensor_bytes(graph.shapes[t])) for t in inner}
    lifetimes = {t: (first[t], last.get(t, first[t])) for t in inner}
    offsets: dict[str, int] = {}
    for t in sorted(inner, key=lambda t: (-sizes[t], lifetimes[t][0])):
        lo, hi = lifetimes[t]
        busy = sorted(
            (offsets[u], offsets[u] + sizes[u]) for u in offsets if lifetimes[u][0] <= hi and lo <= lifetimes[u][1]
        )
        offset = 0
        for start, stop in busy:
            if offset + sizes[t] <= start:
                break
            offset = max(offset, stop)
        offsets[t] = offset
    size = max((offsets[t] + sizes[t] for t in inner), default=0)
    peak = max((sum(sizes[t] for t in inner if lifetimes[t][0] <= i <= lifetimes[t][1]) for i in range(len(graph.ops))),
               default=0)  # fmt: skip
    return ArenaPlan(offsets, sizes, lifetimes, size, peak)
