"""Asynchronous successive halving (ASHA) over training epochs, single- or multi-objective.

Li et al. (2020, "A system for massively parallel hyperparameter tuning") promote a configuration from rung k to
rung k + 1 as soon as it ranks in the top ``1/eta`` of the configurations finished at rung k, so no rung waits
for a full bracket. Rungs are epoch budgets ``min_epochs * eta**k`` (1, 3, 9 for the defaults and a 9-epoch
study); the last rung is the study's full budget, and only networks that reach it count in the front.

The multi-objective form (mode ``multi``) ranks a rung by non-dominated sorting on (quality at that rung, exact
hardware score) — the hardware cost is known before training, so it is never estimated. A network is also
promoted when it lies within ``epsilon`` (in quality) of the rung's current front: a short budget ranks
networks only roughly, and a network that a few more epochs could lift onto the front is kept. With one
objective (mode ``weighted``) the rank is by phi and the ``epsilon`` band is below the best phi.

A promoted network continues from its checkpoint (the evaluator resumes its training state), so reaching rung 2
costs ``9 - 3`` more epochs, not 9. New networks are drawn (seeded) from the feasible points; ``max_configs``
caps how many are started.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import ClassVar

import moocore
import numpy as np

from biowear.errors import ConfigError
from biowear.search.protocol import Budgeted, Fitness, SearchSpace
from biowear.search.strategies import STRATEGIES, GAConfig, Strategy
from biowear.validate import Interval, Rule, check

Point = Hashable


@dataclass(frozen=True)
class ASHAConfig:
    """Settings of the ``asha`` strategy (``[asha]`` in a study file).

    Args:
        min_epochs: budget of the first rung.
        eta: reduction factor: the top ``1/eta`` of a rung is promoted and rungs grow by ``eta``.
        epsilon: quality band: a network within ``epsilon`` of its rung's front is promoted too (0: top 1/eta only).
        max_configs: how many networks are started at the first rung (None: every feasible network).
        batch: requests per ask (e.g. the number of workers); promotions go first.
    """

    min_epochs: int = 1
    eta: int = 3
    epsilon: float = 0.005
    max_configs: int | None = None
    batch: int = 1

    RULES: ClassVar[dict[str, Rule]] = {
        "min_epochs": Interval(int, 1, None),
        "eta": Interval(int, 2, None),
        "epsilon": Interval(float, 0, 1),
        "max_configs": Interval(int, 1, None, optional=True),
        "batch": Interval(int, 1, None),
    }

    def __post_init__(self) -> None:
        check(self, self.RULES)

    def rungs(self, max_epochs: int) -> tuple[int, ...]:
        """Epoch budgets of the rungs, ending with ``max_epochs`` (the study's full budget)."""
        if max_epochs < self.min_epochs:
            raise ConfigError(
                f"[asha] min_epochs ({self.min_epochs}) exceeds the study's [train] epochs ({max_epochs})"
            )
        budgets = [self.min_epochs]
        while budgets[-1] * self.eta < max_epochs:
            budgets.append(budgets[-1] * self.eta)
        if budgets[-1] != max_epochs:
            budgets.append(max_epochs)
        return tuple(budgets)


class ASHA(Strategy):
    """Asynchronous successive halving with multi-objective promotion (see the module docstring).

    Args:
        space: the searched space.
        n_objectives: 2 ranks by non-dominated sorting on (Q, H); 1 ranks by phi.
        seed: seed of the order in which new networks are started.
        config: rung and promotion settings.
        max_epochs: the full budget (the study's ``[train] epochs``).
    """

    name = "asha"
    multi_objective_capable = True

    def __init__(
        self,
        space: SearchSpace,
        n_objectives: int = 1,
        seed: int = 0,
        config: ASHAConfig | None = None,
        max_epochs: int = 9,
    ):
        super().__init__(space, n_objectives, seed)
        self.config = config or ASHAConfig()
        self.rungs = self.config.rungs(max_epochs)
        order = list(dict.fromkeys(space.canonical(p) for p in space.feasible_points))
        self.rng.shuffle(order)
        self._queue = order[: self.config.max_configs] if self.config.max_configs else order
        self.results: list[dict[Point, Fitness]] = [{} for _ in self.rungs]  # rung -> point -> fitness
        self._promoted: list[set[Point]] = [set() for _ in self.rungs]
        self._pending: set[Budgeted] = set()

    @classmethod
    def configured(
        cls, space: SearchSpace, n_objectives: int, seed: int, ga: GAConfig | None, random_fraction: float, **extra
    ) -> Strategy:
        return cls(space, n_objectives, seed, extra.get("asha"), extra.get("max_epochs", 9))

    # ------------------------------------------------------------ ask/tell
    def ask(self) -> list[Budgeted]:
        out: list[Budgeted] = []
        for k in reversed(range(len(self.rungs) - 1)):  # promotions first, the highest rung first
            for point in self._promotable(k):
                self._promoted[k].add(point)
                out.append(Budgeted(point, self.rungs[k + 1]))
        while len(out) < self.config.batch and self._queue:
            out.append(Budgeted(self._queue.pop(0), self.rungs[0]))
        self._pending.update(out)
        return out

    def tell(self, results: Mapping[Budgeted, Fitness]) -> None:
        for request, fitness in results.items():
            self._pending.discard(request)
            self.results[self.rungs.index(request.budget)][request.point] = tuple(fitness)

    @property
    def done(self) -> bool:
        if self._pending or self._queue:
            return False
        return not any(self._promotable(k) for k in range(len(self.rungs) - 1))

    # ------------------------------------------------------------ promotion
    def _promotable(self, k: int) -> list[Point]:
        """Networks finished at rung ``k`` that rank in its top ``1/eta`` or within ``epsilon`` of its front,
        not yet promoted, in rank order."""
        rung = self.results[k]
        points = [p for p in rung if any(v > 0 for v in rung[p])]  # fitness 0: infeasible or failed
        if not points:
            return []
        values = np.array([rung[p] for p in points], dtype=float)
        order = self._rank_order(values)
        top = set(order[: len(points) // self.config.eta])
        near = self._near_front(values)
        chosen = [points[i] for i in order if i in top or near[i]]
        return [p for p in chosen if p not in self._promoted[k]]

    def _rank_order(self, values: np.ndarray) -> list[int]:
        """Indices best first: by phi, or by Pareto rank then quality (multi-objective)."""
        if values.shape[1] == 1:
            return [int(i) for i in np.argsort(-values[:, 0], kind="stable")]
        ranks = moocore.pareto_rank(values, maximise=True)
        return [int(i) for i in np.lexsort((-values[:, 0], ranks))]

    def _near_front(self, values: np.ndarray) -> np.ndarray:
        """True where no other network beats this one by more than ``epsilon`` in quality at no worse hardware
        score (one objective: within ``epsilon`` of the best phi)."""
        eps = self.config.epsilon
        if values.shape[1] == 1:
            return values[:, 0] >= values[:, 0].max() - eps
        q, h = values[:, 0], values[:, 1]
        beaten = (q[None, :] > q[:, None] + eps) & (h[None, :] >= h[:, None])
        return ~beaten.any(axis=1)

    # ------------------------------------------------------------ results
    def full_budget_points(self) -> list[Point]:
        """Networks trained to the full budget (the ones a front may hold)."""
        return list(self.results[-1])


STRATEGIES.register(ASHA.name, ASHA)
