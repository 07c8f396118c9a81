"""Searching the compression space with the exploration strategies (exhaustive, random, GAs, NSGA-II, SPEA-2).

BioNetExplorer (Prabakaran et al. 2021, Sec. III) builds a new space from pruning and quantisation
parameters of a chosen network and explores it for small networks with little quality loss. Here a point is
(pruning method, sparsity, k-means bits); its chromosome concatenates the three grid indices, so the same
strategies that search architectures search this space. Objectives: quality and the storage score
``H = 1 - storage / original storage`` (two objectives, or ``alpha * Q + beta * H``).

Each (method, sparsity) is pruned and fine-tuned once and shared by every bit width. With a ``directory`` the
search is resumable: every measured point is appended to ``search.jsonl`` and every pruned network saved as
soon as it exists, so a killed search loses at most the candidate in flight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

from torch import nn

from biowear.compress.prune import SCHEDULES
from biowear.compress.quantize import StorageFormat
from biowear.compress.resume import Progress, ResumeFile, run_key
from biowear.compress.sweep import PRUNE_METHODS, CompressionPoint, Measurer, check_methods_and_bits, pruned_variant
from biowear.data import PreparedDataset, Split
from biowear.errors import ConfigError
from biowear.search.objective import Objective
from biowear.search.strategies import STRATEGIES, GAConfig, make_strategy
from biowear.train import TrainConfig

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
    """Grids of pruning methods, sparsities and k-means bit widths.

    Raises:
        ConfigError: an empty or repeated grid value, an unknown method, sparsity outside [0, 1) or bits
            outside 1..8.
    """

    methods: tuple[str, ...] = PRUNE_METHODS
    sparsities: tuple[float, ...] = DEFAULT_SPARSITIES
    bits: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8)

    def __post_init__(self) -> None:
        for name, grid in (("methods", self.methods), ("sparsities", self.sparsities), ("bits", self.bits)):
            if not grid or len(set(grid)) != len(grid):
                raise ConfigError(f"the compression space needs distinct, non-empty {name}, got {list(grid)}")
        check_methods_and_bits(self.methods, self.bits)
        for s in self.sparsities:
            if not 0.0 <= s < 1.0:
                raise ConfigError(f"sparsity must be within [0, 1), got {s}")

    @property
    def _grids(self) -> tuple[tuple, ...]:
        return (self.methods, self.sparsities, self.bits)

    @property
    def widths(self) -> tuple[int, ...]:
        """Chromosome bits per gene (enough for each grid's indices)."""
        return tuple((len(g) - 1).bit_length() for g in self._grids)

    def genes(self, method: str, sparsity: float, bits: int) -> CompressionGenes:
        """The canonical point: with nothing pruned the method does not matter."""
        return CompressionGenes("none" if sparsity == 0 else method, sparsity, bits)

    @cached_property
    def points(self) -> tuple[CompressionGenes, ...]:
        seen = dict.fromkeys(self.genes(m, s, q) for m in self.methods for s in self.sparsities for q in self.bits)
        return tuple(seen)

    @property
    def feasible_points(self) -> tuple[CompressionGenes, ...]:
        return self.points

    def encode(self, genes: CompressionGenes) -> tuple[int, ...]:
        method = self.methods[0] if genes.method == "none" else genes.method
        indices = (self.methods.index(method), self.sparsities.index(genes.sparsity), self.bits.index(genes.bits))
        out: list[int] = []
        for value, width in zip(indices, self.widths):
            out.extend((value >> (width - 1 - i)) & 1 for i in range(width))
        return tuple(out)

    def decode(self, bits: Sequence[int]) -> CompressionGenes | None:
        """The point of a chromosome, or None when an index lies beyond its grid."""
        if len(bits) != sum(self.widths):
            raise ConfigError(f"a compression chromosome has {sum(self.widths)} bits, got {len(bits)}")
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


def search(
    model: nn.Module,
    data: PreparedDataset,
    split: Split,
    train: TrainConfig,
    space: CompressionSpace,
    strategy: str = "nsga2",
    objective: Objective | None = None,
    finetune_epochs: int = 2,
    schedule_name: str = "one-shot",
    steps: int = 3,
    storage: StorageFormat | None = None,
    ga: GAConfig | None = None,
    random_fraction: float = 0.1,
    seed: int = 0,
    directory: Path | None = None,
    progress: Progress | None = None,
) -> list[CompressionPoint]:
    """Explore ``space`` with a registered strategy; returns the original and every measured point.

    Args:
        objective: quality metric and mode; ``multi`` (default for NSGA-II/SPEA-2) maximises (quality, storage score),
            ``weighted`` maximises ``alpha * quality + beta * storage score``. Only ``storage`` hardware.
        schedule_name: pruning schedule of every pruned network (``one-shot``, ``iterative``, ``multistage``).
        directory: where progress is kept for resuming (None: not kept).
        progress: called once per point with its label and whether it came from the resume file.

    Raises:
        ConfigError: unknown strategy or schedule, a single-objective strategy with ``multi``, or a resume
            directory holding another search.
    """
    if objective is None:  # two objectives where the strategy can use them
        objective = Objective(mode="multi" if STRATEGIES.get(strategy).multi_objective_capable else "weighted")
    if objective.hardware != "storage":
        raise ConfigError("the compression search scores storage; use hardware='storage'")
    if schedule_name not in SCHEDULES:
        raise ConfigError(f"unknown pruning schedule {schedule_name!r}; valid options are: {', '.join(SCHEDULES)}")
    n_obj = 2 if objective.mode == "multi" else 1
    strat = make_strategy(strategy, space, n_obj, seed, ga, random_fraction)  # type: ignore[arg-type]
    fmt = storage or StorageFormat()
    metric = objective.metric if objective.target_class is None else f"{objective.metric}:{objective.target_class}"
    m = Measurer(model, data, split, metric, fmt)
    settings = {
        "space": asdict(space),
        "metric": metric,
        "finetune_epochs": finetune_epochs,
        "schedule": schedule_name,
        "steps": steps,
        "storage": asdict(fmt),
        "train": asdict(train),
    }
    state = ResumeFile(directory, "search.jsonl", run_key(m.base, data, split, settings))
    label = CompressionPoint.make_label

    nets: dict[tuple[str, float], nn.Module] = {}

    def pruned_net(method: str, sparsity: float) -> nn.Module:
        if (method, sparsity) not in nets:
            nets[(method, sparsity)] = state.pruned(
                f"{method}-{sparsity:g}",
                m.base,
                lambda: pruned_variant(
                    m.base, method, sparsity, schedule_name, steps, finetune_epochs, train, m.arrays
                ),
            )
        return nets[(method, sparsity)]

    def measured(genes: CompressionGenes) -> CompressionPoint:
        if genes.method == "none":
            return state.measure(
                label("kmeans", 0.0, genes.bits),
                lambda: m.kmeans(m.base, "original", 0.0, genes.bits, seed=train.seed),
                progress,
            )
        name = f"prune-{genes.method}"
        return state.measure(
            label(name + "+kmeans", genes.sparsity, genes.bits),
            lambda: m.kmeans(pruned_net(genes.method, genes.sparsity), name, genes.sparsity, genes.bits, train.seed),
            progress,
        )

    def fitness(point: CompressionPoint) -> tuple[float, ...]:
        h = objective.hardware_score(point.storage_bytes, m.base_storage)
        return (point.quality, h) if n_obj == 2 else (objective.phi(point.quality, h),)

    state.measure("original", lambda: m.point(m.base, "original", 0.0, None), progress)
    while not strat.done:
        asked = strat.ask()
        strat.tell({g: fitness(measured(g)) for g in asked})  # type: ignore[arg-type,misc]
    return list(state.points.values())
