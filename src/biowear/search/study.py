"""A study: one space, data and training recipe, explored by strategies that share one results store."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from biowear.data import make_split
from biowear.errors import ConfigError
from biowear.search.config import StudyConfig
from biowear.search.evaluate import EvalTask, cost_dict, load_data, train_key
from biowear.search.executor import Executor, LocalExecutor
from biowear.search.objective import constant_predictor_error
from biowear.search.pareto import hypervolume, pareto_mask
from biowear.search.protocol import Fitness, optimize
from biowear.search.space import ArchitectureSpace
from biowear.search.store import Evaluation, Store
from biowear.search.strategies import STRATEGIES, make_strategy
from biowear.train.metrics import REGRESSION_METRICS, metric_names

Listener = Callable[[str, Any, Evaluation, bool], None]  # (strategy, architecture, evaluation, reused)


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
class StrategyResult:
    """What one strategy found and what it cost."""

    strategy: str
    visited: tuple[Any, ...]
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
        ConfigError: no point of the space satisfies the hardware constraints, a metric the task lacks, or a
            quality limit in the wrong direction (``min_quality`` for an error metric, ``max_error`` otherwise).
        StoreError: the store is foreign/corrupt, or the study name exists with another configuration.

    With ``read_only`` (reports) the store is opened read-only and nothing is written to it.
    """

    def __init__(self, config: StudyConfig, directory: Path, read_only: bool = False):
        self.config, self.directory = config, Path(directory)
        self.store = Store(self.directory / "store.sqlite", read_only=read_only)
        try:
            self._validate_and_prepare()
        except BaseException:
            self.store.close()
            raise
        if not read_only:  # saved only once fully valid, so a corrected configuration keeps its name
            self.store.save_study(config.name, config.to_dict())

    def _validate_and_prepare(self) -> None:
        """Prepare the data and check the records, the space's feasibility, the metric and the quality limit."""
        config = self.config
        data = load_data(config.data)
        task = data.task
        regression = task.is_regression
        self.classes = tuple(data.classes)
        n_outputs = task.n_outputs
        self.space = ArchitectureSpace(
            config.family, config.bounds, (data.x.shape[1], data.x.shape[2]), n_outputs, config.constraints
        )
        self.space.feasible_points  # noqa: B018 - fail fast on an impossible space
        objective = config.objective
        objective.check_metrics(REGRESSION_METRICS if regression else metric_names({"classes": list(self.classes)}))
        self._check_quality_limit()
        self.reference_error: float | None = None
        if objective.lower_is_better:
            split = make_split(data, config.split)
            self.reference_error = objective.reference or constant_predictor_error(
                objective.metric_name, data.y[split.train], data.y[split.test]
            )
        self.train_key = train_key(data.key, config.split, config.train)
        self.data_key = data.key

    def _check_quality_limit(self) -> None:
        limits, objective = self.config.constraints, self.config.objective
        if objective.lower_is_better and limits.min_quality is not None:
            raise ConfigError(
                f"{objective.metric_name} is lower-is-better: limit it with constraints.max_error, not min_quality"
            )
        if not objective.lower_is_better and limits.max_error is not None:
            raise ConfigError(f"{objective.metric_name} is higher-is-better: limit it with min_quality, not max_error")

    # ------------------------------------------------------------ running
    def run(self, strategy: str, executor: Executor | None = None, listener: Listener | None = None) -> StrategyResult:
        """Run (or resume) one strategy through :func:`~biowear.search.protocol.optimize`; every evaluation is
        stored as soon as it finishes."""
        from biowear.search.executor import is_reused, with_claims  # each task leases its evaluation in the store

        executor = with_claims(executor or LocalExecutor(), self.store.path)
        cfg = self.config
        strat = make_strategy(strategy, self.space, cfg.objective.n_objectives, cfg.seed, cfg.ga, cfg.random_fraction)
        seq = 0

        def evaluate(archs: list[Any]) -> dict[Any, Fitness]:
            nonlocal seq
            evaluations: dict[Any, Evaluation] = {}
            todo: list[Any] = []
            for arch in archs:  # distinct canonical points: identical networks train once
                self.store.record_visit(cfg.name, strategy, seq, arch, self.train_key)
                seq += 1
                cached = self._cached_or_infeasible(arch)
                if cached is None:
                    todo.append(arch)
                else:
                    evaluations[arch] = cached
                    if listener:
                        listener(strategy, arch, cached, True)
            models = str(self.directory / "models")
            tasks = [EvalTask(a, cfg.data, cfg.split, cfg.train, self.train_key, models, cfg.curves) for a in todo]
            for ev in executor.run(tasks):
                self.store.put(ev)
                evaluations[ev.arch] = ev
                if listener:
                    listener(strategy, ev.arch, ev, is_reused(ev))
            return {a: self._fitness(evaluations[a]) for a in archs}

        optimize(strat, evaluate, self.space.canonical)
        return self.result(strategy)

    def _cached_or_infeasible(self, arch: Any) -> Evaluation | None:
        cached = self.store.get(self.train_key, arch)
        if cached is not None and cached.status == "ok" and self.config.curves and not cached.curve:
            cached = None  # trained without a learning curve: this study records one, so it trains again
        if cached is not None and cached.status != "failed":  # failures are retried on resume
            return cached
        violation = self.space.violation(arch)
        if violation is None:
            return None
        ev = Evaluation(
            arch,
            self.train_key,
            "infeasible",
            cost=cost_dict(self.space.cost(arch)),
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
            return (0.0,) * objective.n_objectives
        if objective.mode == "multi":
            return (point.quality, point.hardware_score)
        return (point.phi,)

    def _point(self, ev: Evaluation) -> Point | None:
        """The result view of an evaluation; None when untrained, failed or beyond the quality limit."""
        if ev.status != "ok" or self.space.violation(ev.arch) is not None:
            return None
        objective = self.config.objective
        value = objective.quality(ev.metrics)
        if self.config.constraints.quality_violation(value, objective.lower_is_better) is not None:
            return None
        quality = objective.score(value, self.reference_error)
        hw = self.space.hardware_value(ev.arch, objective.hardware)
        h = objective.hardware_score(hw, self.space.max_hardware(objective.hardware))
        return Point(ev.arch, quality, hw, h, objective.phi(quality, h), ev, value)

    # ------------------------------------------------------------ results
    def result(self, strategy: str) -> StrategyResult:
        """Results of a strategy from the store (also for a strategy run earlier)."""
        visited = tuple(dict.fromkeys(self.store.visits(self.config.name, strategy)))
        evals = [e for e in (self.store.get(self.train_key, a) for a in visited) if e is not None]
        points = tuple(p for p in (self._point(e) for e in evals) if p is not None)
        return self._summarise(strategy, visited, evals, points)

    def all_points(self) -> tuple[Point, ...]:
        """Every trained feasible network of this study's family under its training key (any strategy)."""
        evals = self.store.evaluations(self.train_key, self.space.family)
        return tuple(p for p in (self._point(e) for e in evals) if p is not None)

    def _summarise(
        self, strategy: str, visited: Sequence[Any], evals: Sequence[Evaluation], points: Sequence[Point]
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
