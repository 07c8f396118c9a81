"""From an evaluation to what a search sees: the point (Q, hardware, H, phi), its fitness, and fronts.

One :class:`Scorer` serves a live :class:`~biowear.search.study.Study` and a replay against a tabular benchmark
(:mod:`biowear.search.replay`), so a replayed strategy is scored exactly as a trained one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from biowear.search.constraints import Constraints
from biowear.search.objective import Objective
from biowear.search.pareto import hypervolume, pareto_mask
from biowear.search.protocol import Fitness
from biowear.search.space import ArchitectureSpace
from biowear.search.store import Evaluation


@dataclass(frozen=True)
class Point:
    """A trained, feasible network as the results see it.

    Attributes:
        arch: the architecture.
        quality: Q, higher is better (the metric itself, or ``1 - error / reference`` for an error metric).
        value: the raw metric, in its own direction and unit.
        hardware: the objective's hardware measure (bytes or FLOPs); hardware_score: H.
        phi: ``alpha * Q + beta * H``.
    """

    arch: Any
    quality: float
    hardware: float
    hardware_score: float
    phi: float
    evaluation: Evaluation
    value: float = float("nan")

    @property
    def genes(self) -> Any:
        """The architecture (name of earlier releases)."""
        return self.arch


@dataclass(frozen=True)
class Scorer:
    """Scores evaluations of one space under one objective and quality limit.

    Args:
        space: the explored space (hardware values and violations).
        objective: what is maximised.
        constraints: the quality limit (``min_quality`` / ``max_error``) besides the hardware limits.
        reference_error: the error scoring Q = 0 for a lower-is-better metric (None otherwise).
    """

    space: ArchitectureSpace
    objective: Objective
    constraints: Constraints
    reference_error: float | None = None

    def point(self, ev: Evaluation) -> Point | None:
        """The result view of an evaluation; None when untrained, failed or beyond the quality limit."""
        if ev.status != "ok" or self.space.violation(ev.arch) is not None:
            return None
        return self.point_of(ev, ev.metrics)

    def point_of(self, ev: Evaluation, metrics: dict) -> Point | None:
        """The point of ``ev``'s network with ``metrics`` (e.g. of an earlier epoch); None beyond the limit."""
        objective = self.objective
        value = objective.quality(metrics)
        if self.constraints.quality_violation(value, objective.lower_is_better) is not None:
            return None
        quality = objective.score(value, self.reference_error)
        hw = self.space.hardware_value(ev.arch, objective.hardware)
        h = objective.hardware_score(hw, self.space.max_hardware(objective.hardware))
        return Point(ev.arch, quality, hw, h, objective.phi(quality, h), ev, value)

    def fitness(self, point: Point | None, n_objectives: int | None = None) -> Fitness:
        """(Q, H) for two objectives, (phi,) for one; zeros for a network that does not count."""
        n = self.objective.n_objectives if n_objectives is None else n_objectives
        if point is None:
            return (0.0,) * n
        return (point.quality, point.hardware_score) if n == 2 else (point.phi,)

    def front(self, points: Sequence[Point]) -> tuple[tuple[Point, ...], float]:
        """The Pareto front of ``points`` (by hardware) and its hypervolume in [0, 1]."""
        mask = pareto_mask([p.quality for p in points], [p.hardware for p in points])
        front = tuple(sorted((p for p, m in zip(points, mask, strict=True) if m), key=lambda p: p.hardware))
        hv = hypervolume(
            [p.quality for p in front],
            [p.hardware for p in front],
            self.space.max_hardware(self.objective.hardware),
        )
        return front, hv
