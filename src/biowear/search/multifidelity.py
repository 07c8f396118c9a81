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
costs ``9 - 3`` more epochs, not 9. New networks are started cheapest first by the objective's exact hardware
measure (``order = "cheapest"``, the default) or in a seeded random order (``order = "random"``, classic ASHA);
``max_configs`` caps how many are started.

**Stopping with a hypervolume guarantee** (two objectives, ``tolerance``). Quality Q never exceeds 1 (accuracy,
F1, or the skill score of an error metric), so the networks not yet trained to the full budget — started,
pruned at a lower rung, or never started — can add to the current front's hypervolume at most the area between
the front and Q = 1 to the right of the cheapest of them: ``B = integral from c_min to 1 of (1 - F(c)) dc`` in
normalised hardware cost, where F(c) is the best full-budget quality at cost <= c. Once ``B <= tolerance * HV``,
no further training can raise the hypervolume by more than that share, so the strategy stops: its front then
holds at least ``1 / (1 + tolerance)`` of the exhaustive front's hypervolume. When the achievable quality stays
well below 1 the bound never closes and the search runs to the end of ordinary ASHA.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import ClassVar

import moocore
import numpy as np

from biowear.errors import ConfigError
from biowear.search.pareto import hypervolume
from biowear.search.protocol import Budgeted, Fitness, SearchSpace
from biowear.search.strategies import STRATEGIES, GAConfig, Strategy
from biowear.validate import Interval, Options, Rule, check

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
        order: ``cheapest`` (by the objective's hardware measure; ties, and spaces without hardware values, in
            seeded order) or ``random`` (seeded) start order. Cheapest first is what the hypervolume bound favours:
            an untrained network's largest possible gain, the area between the front and Q = 1 to its right, only
            shrinks as its cost grows.
        tolerance: stop once the untrained networks cannot raise the hypervolume by more than this share of it
            (two objectives only; None: never stop early). See the module docstring.
    """

    min_epochs: int = 1
    eta: int = 3
    epsilon: float = 0.005
    max_configs: int | None = None
    batch: int = 1
    order: str = "cheapest"
    tolerance: float | None = 0.01

    RULES: ClassVar[dict[str, Rule]] = {
        "min_epochs": Interval(int, 1, None),
        "eta": Interval(int, 2, None),
        "epsilon": Interval(float, 0, 1),
        "max_configs": Interval(int, 1, None, optional=True),
        "batch": Interval(int, 1, None),
        "order": Options(("random", "cheapest")),
        "tolerance": Interval(float, 0, 1, closed="neither", optional=True),
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
        hardware: str = "storage",
    ):
        super().__init__(space, n_objectives, seed)
        self.config = config or ASHAConfig()
        self.rungs = self.config.rungs(max_epochs)
        points = list(dict.fromkeys(space.canonical(p) for p in space.feasible_points))
        self.rng.shuffle(points)
        self._cost = self._normalised_costs(points, hardware)
        if self.config.order == "cheapest" and self._cost is not None:  # a space without hardware values (e.g.
            points.sort(key=self._cost.__getitem__)  # compression settings) keeps the seeded order; ties keep it too
        self._all = tuple(points)
        self._queue = points[: self.config.max_configs] if self.config.max_configs else points
        self.results: list[dict[Point, Fitness]] = [{} for _ in self.rungs]  # rung -> point -> fitness
        self._promoted: list[set[Point]] = [set() for _ in self.rungs]
        self._pending: set[Budgeted] = set()
        self.stopped_by_bound = False

    @classmethod
    def configured(
        cls, space: SearchSpace, n_objectives: int, seed: int, ga: GAConfig | None, random_fraction: float, **extra
    ) -> Strategy:
        return cls(space, n_objectives, seed, extra.get("asha"), extra.get("max_epochs", 9),
                   extra.get("hardware", "storage"))  # fmt: skip

    def _normalised_costs(self, points: list[Point], hardware: str) -> dict[Point, float] | None:
        """Hardware value / the space's largest, per point (None for a space without hardware values)."""
        value = getattr(self.space, "hardware_value", None)
        if value is None:
            return None
        top = self.space.max_hardware(hardware)  # type: ignore[attr-defined]
        return {p: value(p, hardware) / top for p in points}

    # ------------------------------------------------------------ ask/tell
    def ask(self) -> list[Budgeted]:
        if self._bound_met():
            self._queue.clear()
            return []
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
        if self._pending:
            return False
        if self._bound_met():
            return True
        return not self._queue and not any(self._promotable(k) for k in range(len(self.rungs) - 1))

    # ------------------------------------------------------------ hypervolume bound
    def improvement_bound(self) -> tuple[float, float]:
        """(B, HV): the most the networks not trained to the full budget could add to the hypervolume of the
        current full-budget front (with Q <= 1), and that hypervolume; see the module docstring."""
        full = {p: f for p, f in self.results[-1].items() if f[0] > 0}
        rest = [self._cost[p] for p in self._all if p not in full] if self._cost is not None else []
        q = [f[0] for f in full.values()]
        c = [1.0 - f[1] for f in full.values()]  # H = 1 - hardware / largest
        hv = hypervolume(q, c, 1.0)
        if not rest:
            return 0.0, hv
        # F(c), the best full-budget quality at cost <= c, is a step function of all trained points (dominated
        # ones never raise it): integrate 1 - F from the cheapest untrained network to cost 1
        start = min(rest)
        best = max((qi for ci, qi in zip(c, q, strict=True) if ci <= start), default=0.0)
        bound, x = 0.0, start
        for ci, qi in sorted((ci, qi) for ci, qi in zip(c, q, strict=True) if ci > start):
            bound += (ci - x) * (1.0 - best)
            x, best = ci, max(best, qi)
        return bound + (1.0 - x) * (1.0 - best), hv

    def _bound_met(self) -> bool:
        if self.config.tolerance is None or self.n_objectives != 2 or self._cost is None or self.stopped_by_bound:
            return self.stopped_by_bound
        bound, hv = self.improvement_bound()
        if hv > 0 and bound <= self.config.tolerance * hv:
            self.stopped_by_bound = True
        return self.stopped_by_bound

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
