"""A study: one space, data and training recipe, explored by strategies that share one results store."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from biowear.models import ResNetLSTMGenes
from biowear.search.config import StudyConfig
from biowear.search.evaluate import EvalTask, cost_dict, load_data, train_key
from biowear.search.executor import Executor, LocalExecutor
from biowear.search.pareto import hypervolume, pareto_mask
from biowear.search.space import Space
from biowear.search.store import Evaluation, Store
from biowear.search.strategies import STRATEGIES, Fitness, make_strategy

Listener = Callable[[str, ResNetLSTMGenes, Evaluation, bool], None]  # (strategy, genes, evaluation, reused)


@dataclass(frozen=True)
class Point:
    """A trained, feasible network as the results see it."""

    genes: ResNetLSTMGenes
    quality: float
    hardware: float
    hardware_score: float
    phi: float
    evaluation: Evaluation


@dataclass(frozen=True)
class StrategyResult:
    """What one strategy found and what it cost."""

    strategy: str
    visited: tuple[ResNetLSTMGenes, ...]
    points: tuple[Point, ...]
    front: tuple[Point, ...]
    hypervolume: float
    exploration_time_s: float
    n_trained: int
    n_infeasible: int

    @property
    def best(self) -> Point | None:
        return max(self.points, key=lambda p: p.phi) if self.points else None


class Study:
    """Runs strategies over one space with a shared store in ``directory`` (``store.sqlite``, ``models/``).

    Raises:
        ConfigError: no point of the space satisfies the hardware constraints.
        StoreError: the store is foreign/corrupt, or the study name exists with another configuration.
    """

    def __init__(self, config: StudyConfig, directory: Path):
        self.config, self.directory = config, Path(directory)
        self.store = Store(self.directory / "store.sqlite")
        self.store.save_study(config.name, config.to_dict())
        data = load_data(config.data)
        self.classes = data.classes
        self.space = Space(
            config.blocks,
            config.x,
            config.lstm_exp,
            (data.x.shape[1], data.x.shape[2]),
            len(data.classes),
            config.constraints,
        )
        self.space.feasible_points  # noqa: B018 - fail fast on an impossible space
        if config.objective.target_class is not None:
            config.objective.quality({"classes": list(data.classes)})  # validates the class name early
        self.train_key = train_key(data.key, config.split, config.train)
        self.data_key = data.key

    # ------------------------------------------------------------ running
    def run(self, strategy: str, executor: Executor | None = None, listener: Listener | None = None) -> StrategyResult:
        """Run (or resume) one strategy; every evaluation is stored as soon as it finishes."""
        executor = executor or LocalExecutor()
        objective = self.config.objective
        strat = make_strategy(
            strategy,
            self.space,
            2 if objective.mode == "multi" else 1,
            self.config.seed,
            self.config.ga,
            self.config.random_fraction,
        )
        seq = 0
        while not strat.done:
            asked = strat.ask()
            evaluations: dict[ResNetLSTMGenes, Evaluation] = {}
            todo: list[ResNetLSTMGenes] = []
            for genes in dict.fromkeys(g.canonical() for g in asked):  # identical networks train once
                self.store.record_visit(self.config.name, strategy, seq, genes, self.train_key)
                seq += 1
                cached = self._cached_or_infeasible(genes)
                if cached is None:
                    todo.append(genes)
                else:
                    evaluations[genes] = cached
                    if listener:
                        listener(strategy, genes, cached, True)
            tasks = [
                EvalTask(
                    g,
                    self.config.data,
                    self.config.split,
                    self.config.train,
                    self.train_key,
                    str(self.directory / "models"),
                )
                for g in todo
            ]
            for ev in executor.run(tasks):
                self.store.put(ev)
                evaluations[ev.genes] = ev
                if listener:
                    listener(strategy, ev.genes, ev, False)
            strat.tell({g: self._fitness(evaluations[g.canonical()]) for g in asked})
        return self.result(strategy)

    def _cached_or_infeasible(self, genes: ResNetLSTMGenes) -> Evaluation | None:
        cached = self.store.get(self.train_key, genes)
        if cached is not None and cached.status != "failed":  # failures are retried on resume
            return cached
        violation = self.space.violation(genes)
        if violation is None:
            return None
        ev = Evaluation(
            genes,
            self.train_key,
            "infeasible",
            cost=cost_dict(self.space.cost(genes)),
            seed=self.config.train.seed,
            data_key=self.data_key,
            reason=violation,
        )
        self.store.put(ev)
        return ev

    def _fitness(self, ev: Evaluation) -> Fitness:
        point = self._point(ev)
        objective = self.config.objective
        if point is None:
            return (0.0,) * (2 if objective.mode == "multi" else 1)
        if objective.mode == "multi":
            return (point.quality, point.hardware_score)
        return (point.phi,)

    def _point(self, ev: Evaluation) -> Point | None:
        """The result view of an evaluation; None when untrained, failed or below the quality limit."""
        if ev.status != "ok" or self.space.violation(ev.genes) is not None:
            return None
        objective = self.config.objective
        quality = objective.quality(ev.metrics)
        min_q = self.config.constraints.min_quality
        if min_q is not None and quality < min_q:
            return None
        hw = self.space.hardware_value(ev.genes, objective.hardware)
        h = objective.hardware_score(hw, self.space.max_hardware(objective.hardware))
        return Point(ev.genes, quality, hw, h, objective.phi(quality, h), ev)

    # ------------------------------------------------------------ results
    def result(self, strategy: str) -> StrategyResult:
        """Results of a strategy from the store (also for a strategy run earlier)."""
        visited = tuple(dict.fromkeys(self.store.visits(self.config.name, strategy)))
        evals = [e for e in (self.store.get(self.train_key, g) for g in visited) if e is not None]
        points = tuple(p for p in (self._point(e) for e in evals) if p is not None)
        return self._summarise(strategy, visited, evals, points)

    def all_points(self) -> tuple[Point, ...]:
        """Every trained feasible network under this study's training key (any strategy)."""
        return tuple(p for p in (self._point(e) for e in self.store.evaluations(self.train_key)) if p is not None)

    def _summarise(
        self, strategy: str, visited: Sequence[ResNetLSTMGenes], evals: Sequence[Evaluation], points: Sequence[Point]
    ) -> StrategyResult:
        mask = pareto_mask([p.quality for p in points], [p.hardware for p in points])
        front = tuple(sorted((p for p, m in zip(points, mask) if m), key=lambda p: p.hardware))
        hv = hypervolume(
            [p.quality for p in front],
            [p.hardware for p in front],
            self.space.max_hardware(self.config.objective.hardware),
        )
        return StrategyResult(
            strategy=strategy,
            visited=tuple(visited),
            points=tuple(points),
            front=front,
            hypervolume=hv,
            exploration_time_s=sum(e.train_time_s for e in evals if e.status == "ok"),
            n_trained=sum(1 for e in evals if e.status == "ok"),
            n_infeasible=sum(1 for e in evals if e.status == "infeasible"),
        )

    def with_objective(self, **changes: object) -> Study:
        """The same study seen under another objective (e.g. other alpha/beta); shares the store."""
        clone = object.__new__(Study)
        clone.__dict__.update(self.__dict__)
        clone.config = replace(self.config, objective=replace(self.config.objective, **changes))
        return clone

    def close(self) -> None:
        self.store.close()


ALL_STRATEGIES: tuple[str, ...] = tuple(STRATEGIES.names())
