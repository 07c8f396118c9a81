"""Cost of every point of the ResNet-LSTM grid (shape-only, on the meta device)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from biowear.cost.profile import CostReport, profile
from biowear.models import ResNetLSTMGenes, build, grid

#: Five points spread over the grid (smallest to largest), used for cost tables in demos and benchmarks.
SPREAD: tuple[ResNetLSTMGenes, ...] = (
    ResNetLSTMGenes(0, 1, 4),
    ResNetLSTMGenes(2, 2, 5),
    ResNetLSTMGenes(4, 2, 5),
    ResNetLSTMGenes(8, 4, 6),
    ResNetLSTMGenes(15, 4, 8),
)


def grid_costs(
    input_shape: Sequence[int], n_classes: int, progress: Callable[[int, int], None] | None = None
) -> dict[ResNetLSTMGenes, CostReport]:
    """Profile all 320 grid points without allocating weights."""
    points = grid()
    out = {}
    for i, genes in enumerate(points):
        out[genes] = profile(build(genes, input_shape[0], n_classes, device="meta"), input_shape)
        if progress:
            progress(i + 1, len(points))
    return out


def points_under_cap(costs: dict[ResNetLSTMGenes, CostReport], max_params: float) -> int:
    """How many grid points have at most ``max_params`` trainable parameters."""
    return sum(1 for c in costs.values() if c.params <= max_params)
