"""Pareto fronts (maximise quality, minimise a hardware cost) and their hypervolume (moocore)."""

from __future__ import annotations

from collections.abc import Sequence

import moocore
import numpy as np


def pareto_mask(quality: Sequence[float], cost: Sequence[float]) -> np.ndarray:
    """True for points no other point dominates (higher-or-equal quality and lower-or-equal cost, one strictly)."""
    q, c = np.asarray(quality, dtype=float), np.asarray(cost, dtype=float)
    n = len(q)
    mask = np.ones(n, dtype=bool)
    for i in range(n):
        dominated = (q >= q[i]) & (c <= c[i]) & ((q > q[i]) | (c < c[i]))
        mask[i] = not dominated.any()
    return mask


def hypervolume(quality: Sequence[float], cost: Sequence[float], max_cost: float) -> float:
    """Area dominated by the points in (quality, cost / max_cost), reference (quality 0, normalised cost 1).

    Quality is a ratio in [0, 1] and the cost is normalised by ``max_cost`` (the space's largest), so the
    result lies in [0, 1] and fronts of different strategies over one space are comparable.
    """
    if len(quality) == 0:
        return 0.0
    points = np.column_stack([np.asarray(quality, float), np.asarray(cost, float) / max_cost])
    points = points[(points[:, 0] > 0) & (points[:, 1] < 1)]
    if len(points) == 0:
        return 0.0
    return float(moocore.hypervolume(points, ref=[0.0, 1.0], maximise=[True, False]))
