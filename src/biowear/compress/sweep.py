"""A compression sweep: every registered producer's variants of one network, each re-measured.

Each point is evaluated on the test split with the same metrics and cost model as everywhere else (see
:mod:`biowear.compress.measure`): quality, exact storage, MACs and effective (non-zero) MACs, and CPU latency.
The variants come from :data:`~biowear.compress.producers.PRODUCERS` (k-means, int8 PTQ/QAT, structured and
magnitude pruning, and any producer a user registers).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from torch import nn

from biowear.compress.config import CompressionConfig
from biowear.compress.measure import Measurer
from biowear.compress.points import CompressionPoint, against_best_reference
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
    callbacks: tuple[Any, ...] = (),
) -> list[CompressionPoint]:
    """Measure the original network and every variant the producers make of it.

    The order is: the original and its refinements (k-means at each of ``config.bits``), then each network
    producer's variants in registration order (the control arm, int8 PTQ, int8 QAT, structured ratios, pruning
    schedule x method x sparsity), each followed by its refinements when the producer is refinable. Every
    pruning, and the control arm (the original fine-tuned, nothing compressed), runs with the same total
    fine-tuning budget ``config.finetune_epochs``; every quality loss is measured against the better of the
    original and the control, so that extra training is not counted as a gain of compression.

    Args:
        train: fine-tuning settings (its seed seeds k-means too).
        config: what to measure and how (default :class:`CompressionConfig`).
        directory: with it the sweep is resumable (:mod:`biowear.compress.resume`): points and pruned
            networks are kept there as they finish.
        progress: ``progress(label, resumed)`` hears of every point.
        callbacks: training callbacks of every fine-tuning (e.g. per-epoch progress bars).

    Raises:
        ConfigError: an unknown producer or a metric the task does not have, or a folder holding another run.
    """
    config = config or CompressionConfig()
    m, state, context = _setup(model, data, split, train, config, directory, callbacks)

    def measure(variant: Variant, make: Callable[[], Produced]) -> CompressionPoint:
        def compute() -> CompressionPoint:
            out: Produced = make()
            return m.point(out.network, variant.method, variant.sparsity, variant.bits, out.storage_bytes, out.runs)

        return state.measure(variant.label, compute, progress)

    points = [measure(variant, make) for variant, make in plan(m.base, config, context)]
    return against_best_reference(points, m.metric, m.task.unit)


def _setup(
    model: nn.Module,
    data: PreparedDataset,
    split: Split,
    train: TrainConfig,
    config: CompressionConfig,
    directory: Path | None,
    callbacks: tuple[Any, ...] = (),
) -> tuple[Measurer, ResumeFile, ProduceContext]:
    m = Measurer(model, data, split, config.metric, config.storage, config.latency_threads)
    settings = {"config": config.to_dict(), "metric": m.metric, "train": asdict(train)}
    state = ResumeFile(directory, "sweep.jsonl", run_key(m.base, data, split, settings))
    return m, state, ProduceContext(config, train, m.arrays, m.shape, state.pruned, callbacks)


def plan(
    base: nn.Module, config: CompressionConfig, context: ProduceContext
) -> Iterator[tuple[Variant, Callable[[], Produced]]]:
    """Every variant a sweep measures, in order, with a memoised maker of its network: the original and its
    refinements (k-means at each of ``config.bits``), then each producer's variants, each followed by its
    refinements when the producer is refinable."""
    producers = selected_producers(config)
    refiners = [p for p in producers if p.refines]

    def with_refinements(variant: Variant, make: Callable[[], Produced], refinable: bool):
        yield variant, make
        for refiner in refiners if refinable else ():
            for r in refiner.variants(config):
                refined = functools.cache(lambda r=r, refiner=refiner: refiner.produce(make().network, r, context))
                yield refined_variant(variant, r), refined

    yield from with_refinements(ORIGINAL, functools.cache(lambda: Produced(base)), True)
    for producer in producers:
        if producer.refines:
            continue
        for variant in producer.variants(config):
            make = functools.cache(_producing(producer, base, variant, context))
            yield from with_refinements(variant, make, producer.refinable)


def _producing(
    producer: Producer, base: nn.Module, variant: Variant, context: ProduceContext
) -> Callable[[], Produced]:
    return lambda: producer.produce(base, variant, context)
