"""Replaying search strategies against a tabular benchmark: no training, seconds per strategy and seed.

Each strategy runs through the same :func:`~biowear.search.protocol.optimize` driver and
:class:`~biowear.search.scoring.Scorer` as a live study; only the evaluator differs: it reads what training would
have given from the table (:meth:`TableEntry.lookup`) and charges its cost. The cost of a network is charged
once per run, like the store's cache; a multi-fidelity strategy pays only the extra epochs (and their seconds)
when it continues a network to a larger budget. A strategy's front holds the networks it trained to the full
budget, and its hypervolume is compared with the exhaustive front of the same table.

Single-objective strategies (``ga-roulette``, ``ga-tournament``) run on the weighted phi of the study's
objective when the study is multi-objective; the result says which objective each strategy optimised.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from biowear.errors import ConfigError
from biowear.search.config import StudyConfig
from biowear.search.protocol import Budgeted, Fitness, optimize
from biowear.search.scoring import Point, Scorer
from biowear.search.space import ArchitectureSpace
from biowear.search.store import Evaluation
from biowear.search.strategies import STRATEGIES, make_strategy
from biowear.search.table import TabularBenchmark

#: Sections of the study that must equal the table's recipe (what the networks were trained on and how).
_SAME = ("data", "split")
#: Training settings a replay may change: the budget (at most the table's), and early stopping.
_FREE_TRAIN = ("epochs", "patience", "min_delta", "device")


@dataclass(frozen=True)
class ReplayRun:
    """One strategy run with one seed against the table.

    Attributes:
        hv_ratio: hypervolume of the strategy's front / the exhaustive front's.
        epochs, seconds: training cost it would have paid; cost_ratio: epochs / exhaustive epochs.
        n_trained: networks trained (at any budget); n_full: trained to the full budget.
    """

    strategy: str
    seed: int
    objectives: int
    hypervolume: float
    hv_ratio: float
    epochs: int
    seconds: float
    cost_ratio: float
    seconds_ratio: float
    n_trained: int
    n_full: int
    front: tuple[str, ...]


@dataclass(frozen=True)
class ReplaySummary:
    """Median and spread (quartiles, range) over seeds of one strategy's runs."""

    strategy: str
    runs: int
    objectives: int
    hv_ratio: tuple[float, float, float, float, float]  # min, q1, median, q3, max
    cost_ratio: tuple[float, float, float, float, float]
    seconds_ratio: tuple[float, float, float, float, float]
    n_trained: float

    @property
    def median_hv_ratio(self) -> float:
        return self.hv_ratio[2]

    @property
    def median_cost_ratio(self) -> float:
        return self.cost_ratio[2]


@dataclass(frozen=True)
class ReplayResult:
    """Every run, the per-strategy summaries and the exhaustive reference."""

    table: str
    networks: int
    expected_networks: int
    exhaustive_hypervolume: float
    exhaustive_epochs: int
    exhaustive_seconds: float
    exhaustive_front: tuple[str, ...]
    runs: tuple[ReplayRun, ...]
    summaries: tuple[ReplaySummary, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class TableSpace:
    """A study's space restricted to the networks a (partial) table holds; everything else is delegated.

    Hardware scores keep the full space's maximum, so scores do not change as the table grows.
    """

    def __init__(self, space: ArchitectureSpace, table: TabularBenchmark):
        self._space, self._table = space, table
        fam = space.family_obj
        self._key = fam.key
        self._feasible = tuple(p for p in space.feasible_points if fam.key(space.canonical(p)) in table.entries)
        if not self._feasible:
            raise ConfigError(f"table {table.name!r} holds none of this space's feasible networks")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._space, name)

    @property
    def feasible_points(self) -> tuple[Any, ...]:
        return self._feasible

    def violation(self, point: Any) -> str | None:
        reason = self._space.violation(point)
        if reason is None and self._key(self._space.canonical(point)) not in self._table.entries:
            return "not in the (partial) table"
        return reason

    def sample(self, rng: Any) -> Any:
        return rng.choice(self._feasible)


def check_recipe(config: StudyConfig, table: TabularBenchmark) -> None:
    """Refuse a study that does not match the table's data, split, training recipe or family.

    Raises:
        ConfigError: naming the sections or settings that differ.
    """
    mine = json.loads(json.dumps(config.to_dict(), default=str))  # as the table file holds it (lists, not tuples)
    theirs = json.loads(json.dumps(table.recipe, default=str))
    differ = [k for k in _SAME if mine[k] != theirs[k]]
    if mine["study"]["family"] != theirs["study"]["family"]:
        differ.append("study.family")
    train_mine = {k: v for k, v in mine["train"].items() if k not in _FREE_TRAIN}
    train_theirs = {k: v for k, v in theirs["train"].items() if k not in _FREE_TRAIN}
    differ += [
        f"train.{k}" for k in sorted(set(train_mine) | set(train_theirs)) if train_mine.get(k) != train_theirs.get(k)
    ]
    if differ:
        raise ConfigError(
            f"the study does not match table {table.name!r}: {', '.join(differ)} differ (replay needs the table's "
            "data, split and training recipe; only epochs, patience and min_delta may change)"
        )
    if config.train.epochs > table.epochs:
        raise ConfigError(
            f"[train] epochs = {config.train.epochs} exceeds the table's {table.epochs} epochs per network"
        )


class _Run:
    """The evaluator of one replayed run: table lookups, cost charged once per network and budget step."""

    def __init__(self, config: StudyConfig, table: TabularBenchmark, space: TableSpace, scorer: Scorer, n_obj: int):
        self.config, self.table, self.space, self.scorer, self.n_obj = config, table, space, scorer, n_obj
        self.trained: dict[Any, tuple[int, float]] = {}  # arch -> (epochs, seconds) paid so far
        self.full: dict[Any, Point | None] = {}

    def evaluate(self, requests: list[Any]) -> dict[Any, Fitness]:
        return {r: self._one(r) for r in requests}

    def _one(self, request: Any) -> Fitness:
        arch, budget = (request.point, request.budget) if isinstance(request, Budgeted) else (request, None)
        budget = self.config.train.epochs if budget is None else budget
        if self.space.violation(arch) is not None:
            return (0.0,) * self.n_obj
        entry = self.table.entries[self.space.family_obj.key(arch)]
        if entry.status != "ok":
            return (0.0,) * self.n_obj
        train = self.config.train
        look = entry.lookup(budget, train.patience, train.min_delta)
        paid = self.trained.get(arch, (0, 0.0))
        if look.epochs > paid[0]:
            self.trained[arch] = (look.epochs, look.seconds)
        ev = Evaluation(arch, "", "ok", metrics=look.metrics, cost=entry.cost, epochs=look.epochs)
        point = self.scorer.point_of(ev, look.metrics)
        if budget == train.epochs:
            self.full[arch] = point
        return self.scorer.fitness(point, self.n_obj)

    @property
    def cost(self) -> tuple[int, float]:
        return sum(e for e, _ in self.trained.values()), sum(s for _, s in self.trained.values())


def _quantiles(values: Sequence[float]) -> tuple[float, float, float, float, float]:
    v = sorted(values)
    if len(v) == 1:
        return (v[0],) * 5
    q1, med, q3 = statistics.quantiles(v, n=4, method="inclusive")
    return v[0], q1, med, q3, v[-1]


def replay(
    config: StudyConfig,
    table: TabularBenchmark,
    strategies: Sequence[str] | None = None,
    seeds: int = 20,
    progress: Callable[[str, int], None] | None = None,
) -> ReplayResult:
    """Run ``strategies`` (default: all registered) with seeds ``0..seeds-1`` against ``table``.

    The study's objective, GA and ASHA settings and budget apply; its data, split and training recipe must be the
    table's (:func:`check_recipe`). A partial table restricts the space to the networks it holds.

    Raises:
        ConfigError: a mismatched study, an unknown strategy, ``seeds`` < 1, or a lower-is-better metric without
            ``[objective] reference`` (the table does not keep the training targets).
    """
    check_recipe(config, table)
    if seeds < 1:
        raise ConfigError(f"--seeds must be at least 1, got {seeds}")
    names = list(strategies or STRATEGIES.names())
    for name in names:
        STRATEGIES.get(name)
    objective = config.objective
    if objective.lower_is_better and objective.reference is None:
        raise ConfigError(f"replaying {objective.metric_name} needs [objective] reference (the error scoring Q = 0)")
    full = ArchitectureSpace(config.family, config.bounds, table.input_shape, table.n_outputs, config.constraints)
    full = full.with_costs(table.known_costs(full))
    space = TableSpace(full, table)
    scorer = Scorer(full, objective, config.constraints, objective.reference)
    exhaustive = _Run(config, table, space, scorer, 1)
    optimize(make_strategy("exhaustive", space), exhaustive.evaluate, space.canonical)
    ex_front, ex_hv = scorer.front([p for p in exhaustive.full.values() if p is not None])
    ex_epochs, ex_seconds = exhaustive.cost
    runs = []
    for name in names:
        n_obj = objective.n_objectives if STRATEGIES.get(name).multi_objective_capable else 1
        for seed in range(seeds):
            run = _Run(config, table, space, scorer, n_obj)
            strat = make_strategy(
                name,
                space,
                n_obj,
                seed,
                config.ga,
                config.random_fraction,
                asha=config.asha,
                max_epochs=config.train.epochs,
                hardware=config.objective.hardware,
            )
            optimize(strat, run.evaluate, space.canonical)
            front, hv = scorer.front([p for p in run.full.values() if p is not None])
            epochs, seconds = run.cost
            runs.append(
                ReplayRun(
                    name, seed, n_obj, hv, hv / ex_hv if ex_hv > 0 else float("nan"), epochs, seconds,
                    epochs / ex_epochs, seconds / ex_seconds if ex_seconds > 0 else float("nan"),
                    len(run.trained), len(run.full), tuple(space.label(p.arch) for p in front),
                )
            )  # fmt: skip
            if progress:
                progress(name, seed)
    return ReplayResult(
        table.name,
        len({space.family_obj.key(space.canonical(p)) for p in space.feasible_points}),
        table.expected,
        ex_hv,
        ex_epochs,
        ex_seconds,
        tuple(space.label(p.arch) for p in ex_front),
        tuple(runs),
        tuple(_summaries(runs, names)),
    )


def _summaries(runs: Sequence[ReplayRun], names: Sequence[str]) -> list[ReplaySummary]:
    out = []
    for name in names:
        mine = [r for r in runs if r.strategy == name]
        out.append(
            ReplaySummary(
                name,
                len(mine),
                mine[0].objectives,
                _quantiles([r.hv_ratio for r in mine]),
                _quantiles([r.cost_ratio for r in mine]),
                _quantiles([r.seconds_ratio for r in mine]),
                statistics.median(r.n_trained for r in mine),
            )
        )
    return out


def goal_met(summary: ReplaySummary, hv: float = 0.99, cost: float = 1 / 15) -> bool:
    """The issue's goal: median hypervolume ratio at least ``hv`` at a median cost of at most ``cost``."""
    return summary.median_hv_ratio >= hv and summary.median_cost_ratio <= cost


__all__ = ["ReplayResult", "ReplayRun", "ReplaySummary", "TableSpace", "check_recipe", "goal_met", "replay"]
