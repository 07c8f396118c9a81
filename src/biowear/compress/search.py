"""Searching the compression space with the exploration strategies (exhaustive, random, GAs, NSGA-II, SPEA-2).

BioNetExplorer (Prabakaran et al. 2021, Sec. III) builds a new space from pruning and quantisation
parameters of a chosen network and explores it for small networks with little quality loss. Here a point is
(pruning method, sparsity, k-means bits); its chromosome concatenates the three grid indices, so the same
strategies that search architectures search this space, through the one ask/tell driver
:func:`biowear.search.protocol.optimize`. Objectives: a quality score ``Q`` and the storage score
``H = 1 - storage / original storage`` (two objectives, or ``alpha * Q + beta * H``). ``Q`` is
:meth:`Objective.score`: the metric itself when higher is better; for an error metric (MAE, RMSE) it is
normalised like ``H``, ``Q = max(0, 1 - error / reference)`` with the constant predictor's error on the test
split as the reference (or ``Objective.reference``), exactly as in the architecture exploration.

Each (method, sparsity) is pruned and fine-tuned once and shared by every bit width. With a ``directory`` the
search is resumable: every measured point is appended to ``search.jsonl`` and every pruned network saved as
soon as it exists, so a killed search loses at most the candidate in flight.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from torch import nn

from biowear.compress.config import CompressionConfig
from biowear.compress.importance import PRUNE_METHODS, prune_method
from biowear.compress.measure import Measurer
from biowear.compress.points import CompressionPoint
from biowear.compress.producers import ORIGINAL, PRODUCERS, ProduceContext, Variant, pruned_network, refined_variant
from biowear.compress.resume import Progress, ResumeFile, run_key
from biowear.compress.rules import BITS, SPACE_SPARSITY
from biowear.data import PreparedDataset, Split
from biowear.errors import ConfigError
from biowear.search.objective import Objective, constant_predictor_error
from biowear.search.protocol import Fitness, optimize
from biowear.search.strategies import STRATEGIES, GAConfig, make_strategy
from biowear.train import TrainConfig
from biowear.validate import Each, check

DEFAULT_SPARSITIES: tuple[float, ...] = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98)


@dataclass(frozen=True, order=True)
class CompressionGenes:
    """One point of the compression space (``method`` is ``none`` when nothing is pruned)."""

    method: str
    sparsity: float
    bits: int

    def label(self) -> str:
        return f"{self.method} s={self.sparsity:g} q={self.bits}"


@dataclass(frozen=True)
class CompressionSpace:
    """Grids of pruning methods, sparsities and k-means bit widths (a :class:`~biowear.search.protocol.SearchSpace`).

    Args:
        methods: pruning method names (``layer``, ``global``, ``lamp``, ``<importance>-<scope>``).
        sparsities: in [0, 1); 0 means not pruned.
        bits: k-means bits, integers 1..8.

    Raises:
        ConfigError: an empty or repeated grid value, an unknown method, sparsity outside [0, 1) or bits
            outside 1..8.
    """

    methods: tuple[str, ...] = tuple(PRUNE_METHODS.names())
    sparsities: tuple[float, ...] = DEFAULT_SPARSITIES
    bits: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8)

    RULES = {
        "sparsities": Each(SPACE_SPARSITY, non_empty=True, distinct=True),
        "bits": Each(BITS, non_empty=True, distinct=True),
    }

    def __post_init__(self) -> None:
        if not self.methods or len(set(self.methods)) != len(self.methods):
            raise ConfigError(f"the compression space needs distinct, non-empty methods, got {list(self.methods)}")
        object.__setattr__(self, "methods", tuple(prune_method(m).name for m in self.methods))
        if len(set(self.methods)) != len(self.methods):
            raise ConfigError(f"the compression space names one pruning method twice: {list(self.methods)}")
        check(self, self.RULES)
        object.__setattr__(self, "sparsities", tuple(float(s) for s in self.sparsities))
        object.__setattr__(self, "bits", tuple(int(b) for b in self.bits))

    @property
    def _grids(self) -> tuple[tuple, ...]:
        return (self.methods, self.sparsities, self.bits)

    @property
    def widths(self) -> tuple[int, ...]:
        """Chromosome bits per gene (enough for each grid's indices)."""
        return tuple((len(g) - 1).bit_length() for g in self._grids)

    @property
    def chromosome_length(self) -> int:
        return sum(self.widths)

    def genes(self, method: str, sparsity: float, bits: int) -> CompressionGenes:
        """The canonical point: with nothing pruned the method does not matter."""
        return CompressionGenes("none" if sparsity == 0 else method, sparsity, bits)

    def canonical(self, point: CompressionGenes) -> CompressionGenes:
        return self.genes(point.method, point.sparsity, point.bits)

    @cached_property
    def points(self) -> tuple[CompressionGenes, ...]:
        seen = dict.fromkeys(self.genes(m, s, q) for m in self.methods for s in self.sparsities for q in self.bits)
        return tuple(seen)

    @property
    def feasible_points(self) -> tuple[CompressionGenes, ...]:
        return self.points

    def violation(self, point: CompressionGenes) -> str | None:
        """None: every point of the grids can be built (the compression space has no hardware bounds)."""
        return None if self.canonical(point) in self.points else f"{point.label()} is not a point of this space"

    def sample(self, rng: random.Random) -> CompressionGenes:
        return rng.choice(self.points)

    def encode(self, point: CompressionGenes) -> tuple[int, ...]:
        method = self.methods[0] if point.method == "none" else point.method
        indices = (self.methods.index(method), self.sparsities.index(point.sparsity), self.bits.index(point.bits))
        out: list[int] = []
        for value, width in zip(indices, self.widths):
            out.extend((value >> (width - 1 - i)) & 1 for i in range(width))
        return tuple(out)

    def decode(self, bits: Sequence[int]) -> CompressionGenes | None:
        """The point of a chromosome, or None when an index lies beyond its grid."""
        if len(bits) != self.chromosome_length:
            raise ConfigError(f"a compression chromosome has {self.chromosome_length} bits, got {len(bits)}")
        values, pos = [], 0
        for grid, width in zip(self._grids, self.widths):
            index = 0
            for b in bits[pos : pos + width]:
                index = (index << 1) | int(b)
            if index >= len(grid):
                return None
            values.append(grid[index])
            pos += width
        return self.genes(*values)


def _objective(
    config: CompressionConfig, objective: Objective | None, strategy: str, data: PreparedDataset
) -> Objective:
    """The objective with the run's quality metric: ``config.metric`` or the objective's, never two different
    ones; by default the task's metric (accuracy or MAE), two objectives where the strategy can use them."""
    if objective is None:
        multi = STRATEGIES.get(strategy).multi_objective_capable
        metric = config.metric or data.task.default_metric
        return Objective(metric=metric, mode="multi" if multi else "weighted")
    if config.metric is not None and objective.metric_name != config.metric:
        raise ConfigError(
            f"the objective scores {objective.metric_name!r} but the compression settings name {config.metric!r}; "
            "give the quality metric once"
        )
    return objective


def search(
    model: nn.Module,
    data: PreparedDataset,
    split: Split,
    train: TrainConfig,
    config: CompressionConfig | None = None,
    space: CompressionSpace | None = None,
    strategy: str = "nsga2",
    objective: Objective | None = None,
    ga: GAConfig | None = None,
    random_fraction: float = 0.1,
    directory: Path | None = None,
    progress: Progress | None = None,
    callbacks: tuple[Any, ...] = (),
) -> list[CompressionPoint]:
    """Explore ``space`` with a registered strategy; returns the original and every measured point.

    Args:
        config: metric (or give it in ``objective``), pruning schedule (exactly one), steps, fine-tuning budget,
            storage format and the strategy's ``seed``.
        space: the grids searched (default: ``config``'s methods, sparsities with 0 and bits).
        objective: metric, mode and weights; ``multi`` (default for NSGA-II/SPEA-2) maximises (Q, H),
            ``weighted`` maximises ``alpha * Q + beta * H``. Only ``storage`` hardware. Default: the metric of
            ``config`` (or the task's default), weighted or multi as the strategy allows.
        directory: where progress is kept for resuming (None: not kept).
        progress: called once per point with its label and whether it came from the resume file.

    Raises:
        ConfigError: unknown strategy, more than one schedule, a single-objective strategy with ``multi``, an
            objective and settings naming different metrics, or a resume directory holding another search.
    """
    config = config or CompressionConfig()
    space = space or CompressionSpace(config.methods, (0.0, *config.sparsities), config.bits)
    objective = _objective(config, objective, strategy, data)
    if objective.hardware != "storage":
        raise ConfigError("the compression search scores storage; use hardware='storage'")
    if len(config.schedules) != 1:
        raise ConfigError(f"a compression search uses one pruning schedule, got {list(config.schedules)}")
    n_obj = 2 if objective.mode == "multi" else 1
    strat = make_strategy(strategy, space, n_obj, config.seed, ga, random_fraction)
    m = Measurer(model, data, split, objective.metric_name, config.storage, config.latency_threads)
    settings = {"space": asdict(space), "config": config.to_dict(), "metric": m.metric, "train": asdict(train)}
    state = ResumeFile(directory, "search.jsonl", run_key(m.base, data, split, settings))
    kmeans = PRODUCERS.get("kmeans")
    context = ProduceContext(config, train, m.arrays, m.shape, state.pruned, callbacks)
    nets: dict[tuple[str, float], nn.Module] = {}

    def pruned_net(method: str, sparsity: float) -> nn.Module:
        if (method, sparsity) not in nets:
            nets[(method, sparsity)] = state.pruned(
                f"{method}-{sparsity:g}",
                m.base,
                lambda: pruned_network(
                    m.base,
                    method,
                    sparsity,
                    config.schedules[0],
                    config.steps,
                    config.finetune_epochs,
                    train,
                    m.arrays,
                    callbacks,
                ),
            )
        return nets[(method, sparsity)]

    def measured(genes: CompressionGenes) -> CompressionPoint:
        pruned = genes.method != "none"
        base = Variant(f"prune-{genes.method}", genes.sparsity) if pruned else ORIGINAL
        variant = refined_variant(base, Variant("kmeans", 0.0, genes.bits))

        def compute() -> CompressionPoint:
            net = pruned_net(genes.method, genes.sparsity) if pruned else m.base
            out = kmeans.produce(net, Variant("kmeans", 0.0, genes.bits), context)
            return m.point(out.network, variant.method, variant.sparsity, variant.bits, out.storage_bytes)

        return state.measure(variant.label, compute, progress)

    reference = None  # an error metric scores Q = max(0, 1 - error / reference), as in the exploration
    if objective.lower_is_better and objective.reference is None:
        reference = constant_predictor_error(m.metric, m.arrays[1], m.y_test)

    def quality_score(quality: float) -> float:
        return objective.score(quality, reference)

    def fitness(point: CompressionPoint) -> Fitness:
        q, h = quality_score(point.quality), objective.hardware_score(point.storage_bytes, m.base_storage)
        return (q, h) if n_obj == 2 else (objective.phi(q, h),)

    state.measure("original", lambda: m.point(m.base, "original", 0.0, None), progress)
    optimize(strat, lambda asked: {g: fitness(measured(g)) for g in asked}, space.canonical)
    return list(state.points.values())
