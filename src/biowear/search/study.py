"""A study: one space, data and training recipe, explored by strategies that share one results store."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from biowear.data import make_split
from biowear.errors import ConfigError
from biowear.models import family_for
from biowear.search import multifidelity  # noqa: F401 - registers the asha strategy
from biowear.search.config import StudyConfig
from biowear.search.evaluate import STATE_FILE, EvalTask, cost_dict, load_data, train_key
from biowear.search.executor import Executor, LocalExecutor
from biowear.search.objective import constant_predictor_error
from biowear.search.protocol import Budgeted, Fitness, optimize
from biowear.search.scoring import Point, Scorer
from biowear.search.space import ArchitectureSpace
from biowear.search.store import Evaluation, Store
from biowear.search.strategies import STRATEGIES, make_strategy
from biowear.train.metrics import REGRESSION_METRICS, metric_names

Listener = Callable[[str, Any, Evaluation, bool], None]  # (strategy, architecture, evaluation, reused)


@dataclass(frozen=True)
class StrategyResult:
    """What one strategy found and what it cost.

    ``n_trained``, ``epochs_trained`` and ``exploration_time_s`` count every network the strategy trained, at
    any budget (a multi-fidelity strategy's networks stopped early count with the epochs they got); the points
    and the front hold only networks trained to the full budget.
    """

    strategy: str
    visited: tuple[Any, ...]
    points: tuple[Point, ...]
    front: tuple[Point, ...]
    hypervolume: float
    exploration_time_s: float
    n_trained: int
    n_infeasible: int
    epochs_trained: int = 0

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
        strat = make_strategy(
            strategy,
            self.space,
            cfg.objective.n_objectives,
            cfg.seed,
            cfg.ga,
            cfg.random_fraction,
            asha=cfg.asha,
            max_epochs=cfg.train.epochs,
            hardware=cfg.objective.hardware,
        )
        seq = 0

        def evaluate(requests: list[Any]) -> dict[Any, Fitness]:
            nonlocal seq
            evaluations: dict[Any, Evaluation] = {}
            todo: dict[tuple[str, Any], EvalTask] = {}
            wanted: dict[Any, tuple[str, Any]] = {}
            for request in requests:  # distinct canonical points: identical networks train once
                arch, train, key = self._budget(request)
                wanted[request] = (key, arch)
                self.store.record_visit(cfg.name, strategy, seq, arch, key)
                seq += 1
                cached = self._cached_or_infeasible(arch, key)
                if cached is None:
                    todo.setdefault((key, arch), self._task(arch, train, key, isinstance(request, Budgeted)))
                else:
                    evaluations[(key, arch)] = cached
                    if listener:
                        listener(strategy, arch, cached, True)
            for ev in executor.run(list(todo.values())):
                self.store.put(ev)
                evaluations[(ev.train_key, ev.arch)] = ev
                if listener:
                    listener(strategy, ev.arch, ev, is_reused(ev))
            return {r: self._fitness(evaluations[wanted[r]]) for r in requests}

        optimize(strat, evaluate, self.space.canonical)
        return self.result(strategy)

    def _budget(self, request: Any) -> tuple[Any, Any, str]:
        """(architecture, training settings, training key) of a plain or budgeted request."""
        if not isinstance(request, Budgeted) or request.budget == self.config.train.epochs:
            arch = request.point if isinstance(request, Budgeted) else request
            return arch, self.config.train, self.train_key
        train = replace(self.config.train, epochs=request.budget)
        return request.point, train, train_key(self.data_key, self.config.split, train)

    def _task(self, arch: Any, train: Any, key: str, budgeted: bool) -> EvalTask:
        """The training task; a budgeted one keeps its training state and continues the longest shorter run."""
        cfg, models = self.config, self.directory / "models"
        resume = ""
        if budgeted:
            name = family_for(arch).key(arch)
            for epochs in range(train.epochs - 1, 0, -1):
                shorter = train_key(self.data_key, cfg.split, replace(train, epochs=epochs))
                state = models / shorter / name / STATE_FILE
                if state.is_file():
                    resume = str(state)
                    break
        return EvalTask(arch, cfg.data, cfg.split, train, key, str(models), cfg.curves, resume, budgeted)

    def _cached_or_infeasible(self, arch: Any, key: str | None = None) -> Evaluation | None:
        key = key or self.train_key
        cached = self.store.get(key, arch)
        if cached is not None and cached.status == "ok" and self.config.curves and not cached.curve:
            cached = None  # trained without a learning curve: this study records one, so it trains again
        if cached is not None and cached.status != "failed":  # failures are retried on resume
            return cached
        violation = self.space.violation(arch)
        if violation is None:
            return None
        ev = Evaluation(
            arch,
            key,
            "infeasible",
            cost=cost_dict(self.space.cost(arch)),
            seed=self.config.train.seed,
            data_key=self.data_key,
            reason=violation,
        )
        self.store.put(ev)
        return ev

    @property
    def scorer(self) -> Scorer:
        """Scores this study's evaluations (objective, quality limit, reference error)."""
        return Scorer(self.space, self.config.objective, self.config.constraints, self.reference_error)

    def _fitness(self, ev: Evaluation) -> Fitness:
        return self.scorer.fitness(self._point(ev))

    def _point(self, ev: Evaluation) -> Point | None:
        """The result view of an evaluation; None when untrained, failed or beyond the quality limit."""
        return self.scorer.point(ev)

    # ------------------------------------------------------------ results
    def result(self, strategy: str) -> StrategyResult:
        """Results of a strategy from the store (also for a strategy run earlier)."""
        keyed = self.store.visit_keys(self.config.name, strategy)
        visited = tuple(dict.fromkeys(arch for arch, _ in keyed))
        full = {a: self.store.get(self.train_key, a) for a in visited}
        evals = [e for e in full.values() if e is not None]
        points = tuple(p for p in (self._point(e) for e in evals) if p is not None)
        effort: dict[Any, Evaluation] = {}  # per network, its longest run at any budget (a continued run's
        for arch, key in dict.fromkeys(keyed):  # time and epochs include the shorter runs it continued)
            ev = full[arch] if key == self.train_key else self.store.get(key, arch)
            if ev is not None and ev.status == "ok" and (arch not in effort or ev.epochs > effort[arch].epochs):
                effort[arch] = ev
        result = self._summarise(strategy, visited, evals, points)
        if not effort:
            return result
        return replace(
            result,
            exploration_time_s=sum(e.train_time_s for e in effort.values()),
            n_trained=len(effort),
            epochs_trained=sum(e.epochs for e in effort.values()),
        )

    def all_points(self) -> tuple[Point, ...]:
        """Every trained feasible network of this study's family under its training key (any strategy)."""
        evals = self.store.evaluations(self.train_key, self.space.family)
        return tuple(p for p in (self._point(e) for e in evals) if p is not None)

    def _summarise(
        self, strategy: str, visited: Sequence[Any], evals: Sequence[Evaluation], points: Sequence[Point]
    ) -> StrategyResult:
        front, hv = self.scorer.front(points)
        return StrategyResult(
            strategy=strategy,
            visited=tuple(visited),
            points=tuple(points),
            front=front,
            hypervolume=hv,
            exploration_time_s=sum(e.train_time_s for e in evals if e.status == "ok"),
            n_trained=sum(1 for e in evals if e.status == "ok"),
            n_infeasible=sum(1 for e in evals if e.status == "infeasible"),
            epochs_trained=sum(e.epochs for e in evals if e.status == "ok"),
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
