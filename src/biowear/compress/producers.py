"""Compression producers: the registered kinds of compressed variant a sweep measures.

A producer lists its variants for a :class:`~biowear.compress.config.CompressionConfig` and produces each from
a network. Two roles:

* a *network* producer makes variants of the original network (int8 PTQ/QAT, structured pruning, magnitude
  pruning, or a user's own); with ``refinable`` its networks are refined further;
* a *refining* producer (``refines``; k-means weight sharing) makes variants of the original network and of
  every refinable network another producer made (``prune-global+kmeans s=0.9 q=4``).

Register a new producer in :data:`PRODUCERS` and every sweep runs it (or name the ones to run in
``CompressionConfig.producers``); :func:`check_producer` checks one the way a sweep will use it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any, Protocol, runtime_checkable

import numpy as np
from torch import nn

from biowear.compress.config import CompressionConfig
from biowear.compress.importance import PruneMethod, prune_method
from biowear.compress.int8 import int8_storage_bytes, qat_int8, quantize_int8
from biowear.compress.points import CONTROL, CompressionPoint
from biowear.compress.prune import prune, schedule
from biowear.compress.quantize import StorageFormat, kmeans_quantize, quantized_storage_bytes
from biowear.compress.structured import structured_prune
from biowear.registry import Registry
from biowear.train import TrainConfig, fit

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Variant:
    """One variant a producer makes: its kind, sparsity (or channel ratio), bits and own settings."""

    method: str
    sparsity: float = 0.0
    bits: int | None = None
    settings: tuple[tuple[str, Any], ...] = ()

    @property
    def label(self) -> str:
        return CompressionPoint.make_label(self.method, self.sparsity, self.bits)

    def setting(self, name: str) -> Any:
        return dict(self.settings)[name]


#: The untouched network every sweep measures first.
ORIGINAL = Variant("original")


@dataclass(frozen=True)
class Produced:
    """A produced network: it gives the MACs (and runs unless ``runs`` is given); ``storage_bytes`` overrides
    the measured storage (default: exact sparse float32 when pruned, else dense float32)."""

    network: nn.Module
    storage_bytes: float | None = None
    runs: nn.Module | None = None


def _no_cache(name: str, base: nn.Module, build: Callable[[], nn.Module]) -> nn.Module:
    return build()


@dataclass(frozen=True)
class ProduceContext:
    """What a producer may use besides the network it starts from.

    Attributes:
        config: the run's settings.
        train: fine-tuning settings.
        arrays: ``(x_train, y_train, x_val, y_val)``.
        input_shape: one window's ``(channels, samples)``.
        cache: ``cache(name, base, build)``: a network saved earlier under ``name`` (loaded into a copy of
            ``base``), else ``build()`` saved (see :class:`~biowear.compress.resume.ResumeFile`).
    """

    config: CompressionConfig
    train: TrainConfig
    arrays: Arrays
    input_shape: tuple[int, ...]
    cache: Callable[[str, nn.Module, Callable[[], nn.Module]], nn.Module] = _no_cache
    callbacks: tuple[Any, ...] = ()

    @property
    def storage(self) -> StorageFormat:
        return self.config.storage


@runtime_checkable
class Producer(Protocol):
    """A kind of compressed variant.

    Attributes:
        name: registry name.
        reads: the :class:`CompressionConfig` fields its variants depend on.
        refinable: refining producers (k-means) also refine this producer's networks.
        refines: this producer refines the networks of others (and the original) instead of making its own.
    """

    name: str
    reads: tuple[str, ...]
    refinable: bool
    refines: bool

    def variants(self, config: CompressionConfig) -> tuple[Variant, ...]: ...

    def produce(self, base: nn.Module, variant: Variant, context: ProduceContext) -> Produced: ...


class KMeans:
    """k-means weight sharing with ``bits`` (Han et al. 2016), of the original and of refinable variants."""

    name, reads, refinable, refines = "kmeans", ("bits",), False, True

    def variants(self, config: CompressionConfig) -> tuple[Variant, ...]:
        return tuple(Variant("kmeans", 0.0, q) for q in config.bits)

    def produce(self, base: nn.Module, variant: Variant, context: ProduceContext) -> Produced:
        qnet = copy.deepcopy(base)
        books = kmeans_quantize(qnet, int(variant.bits or 0), seed=context.train.seed)
        return Produced(qnet, quantized_storage_bytes(qnet, books, context.storage))


class Int8PTQ:
    """int8 post-training quantisation, run with int8 kernels (when ``config.int8`` is set)."""

    name, reads, refinable, refines = "int8-ptq", ("int8",), False, False

    def variants(self, config: CompressionConfig) -> tuple[Variant, ...]:
        return () if config.int8 is None else (Variant("int8-ptq", 0.0, 8),)

    def produce(self, base: nn.Module, variant: Variant, context: ProduceContext) -> Produced:
        qnet = quantize_int8(base, context.arrays[0], context.config.int8)
        return Produced(base, int8_storage_bytes(qnet), runs=qnet)


class Int8QAT:
    """int8 quantisation-aware training for ``qat_epochs`` (when ``int8`` is set and ``qat_epochs`` > 0)."""

    name, reads, refinable, refines = "int8-qat", ("int8", "qat_epochs"), False, False

    def variants(self, config: CompressionConfig) -> tuple[Variant, ...]:
        return (Variant("int8-qat", 0.0, 8),) if config.int8 is not None and config.qat_epochs else ()

    def produce(self, base: nn.Module, variant: Variant, context: ProduceContext) -> Produced:
        cfg = context.config
        qnet = qat_int8(base, context.arrays, context.train, cfg.qat_epochs, cfg.int8)
        return Produced(base, int8_storage_bytes(qnet), runs=qnet)


class Control:
    """The control arm: the original fine-tuned for the same ``finetune_epochs`` with nothing compressed, so
    that extra training is not mistaken for a gain of compression (the sweep measures every loss against the
    better of the original and this control)."""

    name, reads, refinable, refines = "control", ("finetune_epochs",), False, False

    def variants(self, config: CompressionConfig) -> tuple[Variant, ...]:
        return (Variant(CONTROL),) if config.finetune_epochs else ()

    def produce(self, base: nn.Module, variant: Variant, context: ProduceContext) -> Produced:
        def build() -> nn.Module:
            net = copy.deepcopy(base)
            cfg = replace(context.train, patience=0, epochs=context.config.finetune_epochs)
            fit(net, *context.arrays, config=cfg, callbacks=context.callbacks)
            return net.cpu()

        return Produced(context.cache(CONTROL, base, build))


class Structured:
    """Structured channel pruning of each ratio in ``structured``, fine-tuned for ``finetune_epochs``."""

    name, reads, refinable, refines = "structured", ("structured", "finetune_epochs"), True, False

    def variants(self, config: CompressionConfig) -> tuple[Variant, ...]:
        return tuple(Variant("structured", ratio) for ratio in config.structured)

    def produce(self, base: nn.Module, variant: Variant, context: ProduceContext) -> Produced:
        net = copy.deepcopy(base)
        structured_prune(net, context.input_shape, variant.sparsity)
        epochs = context.config.finetune_epochs
        if epochs:
            fit(
                net,
                *context.arrays,
                config=replace(context.train, patience=0, epochs=epochs),
                callbacks=context.callbacks,
            )
        return Produced(net.cpu())


def pruned_network(
    base: nn.Module,
    method: str | PruneMethod,
    sparsity: float,
    schedule_name: str,
    steps: int,
    finetune_epochs: int,
    train: TrainConfig,
    arrays: Arrays,
    callbacks: tuple[Any, ...] = (),
) -> nn.Module:
    """A copy of ``base`` pruned by ``method`` to ``sparsity`` under schedule ``schedule_name`` and fine-tuned
    for ``finetune_epochs`` in total (``callbacks`` hear every fine-tuning epoch)."""
    net = copy.deepcopy(base)
    stages = schedule(schedule_name, sparsity, prune_method(method), finetune_epochs, steps, net)
    prune(net, stages, replace(train, patience=0), arrays if finetune_epochs else None, callbacks)
    return net.cpu()


class MagnitudePruning:
    """Unstructured pruning: every schedule x method (importance x scope) x sparsity, each fine-tuned."""

    name, reads, refinable, refines = (
        "prune",
        ("methods", "schedules", "steps", "sparsities", "finetune_epochs"),
        True,
        False,
    )

    def variants(self, config: CompressionConfig) -> tuple[Variant, ...]:
        out = []
        for sched in config.schedules:
            for method in config.methods:
                name = f"prune-{prune_method(method).name}" + ("" if sched == "one-shot" else f"-{sched}")
                for s in config.sparsities:
                    out.append(Variant(name, s, None, (("method", method), ("schedule", sched))))
        return tuple(out)

    def produce(self, base: nn.Module, variant: Variant, context: ProduceContext) -> Produced:
        cfg = context.config

        def build() -> nn.Module:
            return pruned_network(
                base,
                variant.setting("method"),
                variant.sparsity,
                variant.setting("schedule"),
                cfg.steps,
                cfg.finetune_epochs,
                context.train,
                context.arrays,
                context.callbacks,
            )

        return Produced(context.cache(f"{variant.method}-{variant.sparsity:g}", base, build))


#: Compression producers by name; a sweep runs them in this order (refining producers after each network).
PRODUCERS: Registry[Producer] = Registry("compression producer")
for _producer in (Control(), KMeans(), Int8PTQ(), Int8QAT(), Structured(), MagnitudePruning()):
    PRODUCERS.register(_producer.name, _producer)


def selected_producers(config: CompressionConfig) -> list[Producer]:
    """The producers a run uses: ``config.producers`` by name, or every registered one."""
    names = PRODUCERS.names() if config.producers is None else list(config.producers)
    return [PRODUCERS.get(n) for n in names]


def refined_variant(base: Variant, refinement: Variant) -> Variant:
    """The variant a refining producer makes of ``base`` (``kmeans`` of the original, else ``<base>+kmeans``)."""
    method = refinement.method if base == ORIGINAL else f"{base.method}+{refinement.method}"
    return Variant(method, base.sparsity, refinement.bits, refinement.settings)


def check_producer(producer: Producer, config: CompressionConfig, base: nn.Module, context: ProduceContext) -> None:
    """Check a producer the way a sweep uses it: protocol, fields it reads, distinct labels, what it produces.

    Raises:
        AssertionError: the producer breaks the contract (the message says how).
    """
    assert isinstance(producer, Producer), f"{producer!r} lacks part of the Producer protocol"
    valid = {f.name for f in fields(CompressionConfig)}
    assert set(producer.reads) <= valid, f"{producer.name} reads unknown settings {set(producer.reads) - valid}"
    variants = producer.variants(config)
    assert all(isinstance(v, Variant) for v in variants), f"{producer.name}.variants must return Variant objects"
    labels = [v.label for v in variants]
    assert len(set(labels)) == len(labels), f"{producer.name} repeats a variant label: {labels}"
    before = {k: v.clone() for k, v in base.state_dict().items()}
    for v in variants[:1]:
        out = producer.produce(base, v, context)
        assert isinstance(out, Produced) and isinstance(out.network, nn.Module), f"{producer.name} produced {out!r}"
        assert out.storage_bytes is None or out.storage_bytes > 0, f"{producer.name}: storage must be positive"
    after = base.state_dict()
    if any(not (before[k] == after[k]).all() for k in before):
        raise AssertionError(f"{producer.name} changed the network it started from")


__all__ = [
    "ORIGINAL",
    "PRODUCERS",
    "Int8PTQ",
    "Int8QAT",
    "KMeans",
    "MagnitudePruning",
    "ProduceContext",
    "Produced",
    "Producer",
    "Structured",
    "Variant",
    "check_producer",
    "pruned_network",
    "refined_variant",
    "selected_producers",
]
