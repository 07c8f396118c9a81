"""A compression sweep: every registered producer's variants of one network, each re-measured.

Each point is evaluated on the test split with the same metrics and cost model as everywhere else (see
:mod:`biowear.compress.measure`): quality, exact storage, MACs and effective (non-zero) MACs, and CPU latency.
The variants come from :data:`~biowear.compress.producers.PRODUCERS` (k-means, int8 PTQ/QAT, structured and
magnitude pruning, and any producer a user registers).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from torch import nn

from biowear.compress.config import CompressionConfig
from biowear.compress.measure import Measurer
from biowear.compress.points import CompressionPoint
from biowear.compress.producers import (
    ORIGINAL,
    ProduceContext,
    Produced,
    Producer,
    Variant,
    refined_variant,
    selected_producers,
)
from biowear.compress.resume import Progress, ResumeFile, run_key
from biowear.data import PreparedDataset, Split
from biowear.train import TrainConfig


def sweep(
    model: nn.Module,
    data: PreparedDataset,
    split: Split,
    train: TrainConfig,
    config: CompressionConfig | None = None,
    directory: Path | None = None,
    progress: Progress | None = None,
) -> list[CompressionPoint]:
    """Measure the original network and every variant the producers make of it.

    The order is: the original and its refinements (k-means at each of ``config.bits``), then each network
    producer's variants in registration order (int8 PTQ, int8 QAT, structured ratios, pruning schedule x method x
    sparsity), each followed by its refinements when the producer is refinable. Every pruning runs with the
    same total fine-tuning budget ``config.finetune_epochs``.

    Args:
        train: fine-tuning settings (its seed seeds k-means too).
        config: what to measure and how (default :class:`CompressionConfig`).
        directory: with it the sweep is resumable (:mod:`biowear.compress.resume`): points and pruned
            networks are kept there as they finish.
        progress: ``progress(label, resumed)`` hears of every point.

    Raises:
        ConfigError: an unknown producer or a metric the task does not have, or a folder holding another run.
    """
    config = config or CompressionConfig()
    producers = selected_producers(config)
    m = Measurer(model, data, split, config.metric, config.storage)
    settings = {"config": config.to_dict(), "metric": m.metric, "train": asdict(train)}
    state = ResumeFile(directory, "sweep.jsonl", run_key(m.base, data, split, settings))
    context = ProduceContext(config, train, m.arrays, m.shape, state.pruned)
    refiners = [p for p in producers if p.refines]

    def measure(variant: Variant, make: Callable[[], Produced]) -> CompressionPoint:
        def compute() -> CompressionPoint:
            out: Produced = make()
            return m.point(out.network, variant.method, variant.sparsity, variant.bits, out.storage_bytes, out.runs)

        return state.measure(variant.label, compute, progress)

    def with_refinements(variant: Variant, make: Callable[[], Produced], refinable: bool) -> list[CompressionPoint]:
        """The point of ``variant`` (produced only if a point is missing) and those of its refinements."""
        out = [measure(variant, make)]
        for refiner in refiners if refinable else ():
            for r in refiner.variants(config):
                refined = functools.cache(lambda r=r, refiner=refiner: refiner.produce(make().network, r, context))
                out.append(measure(refined_variant(variant, r), refined))
        return out

    points = with_refinements(ORIGINAL, functools.cache(lambda: Produced(m.base)), True)
    for producer in producers:
        if producer.refines:
            continue
        for variant in producer.variants(config):
            make = functools.cache(_producing(producer, m.base, variant, context))
            points += with_refinements(variant, make, producer.refinable)
    return points


def _producing(
    producer: Producer, base: nn.Module, variant: Variant, context: ProduceContext
) -> Callable[[], Produced]:
    return lambda: producer.produce(base, variant, context)
