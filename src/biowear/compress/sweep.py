"""A compression sweep: pruning method x sparsity x k-means bits, every point re-measured.

Each point is evaluated on the test split with the same metrics and cost model as everywhere else: quality,
storage (sparse bitmask + codebooks when quantised), MACs and effective (non-zero) MACs, and CPU latency of a
batch-of-one forward pass measured here (dense kernels: pruning changes storage and effective MACs, not this
latency).
"""

from __future__ import annotations

import copy
import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from biowear.compress.int8 import Int8Config, int8_storage_bytes, qat_int8, quantize_int8
from biowear.compress.prune import PRUNE_SCOPES, SCHEDULES, prunable_parameters, prune, schedule
from biowear.compress.quantize import StorageFormat, kmeans_quantize, pruned_storage_bytes, quantized_storage_bytes
from biowear.compress.resume import Progress, ResumeFile, run_key
from biowear.compress.structured import structured_prune
from biowear.cost import profile
from biowear.data import PreparedDataset, Split
from biowear.errors import ConfigError
from biowear.train import Metrics, TrainConfig, evaluate, fit

PRUNE_METHODS: tuple[str, ...] = PRUNE_SCOPES


@dataclass(frozen=True)
class CompressionPoint:
    """One compressed variant and what it costs and buys."""

    method: str
    sparsity: float
    bits: int | None
    quality: float
    quality_loss_pp: float
    metrics: Metrics
    storage_bytes: float
    compression: float
    macs: int
    effective_macs: int
    latency_ms: float

    def label(self) -> str:
        return self.make_label(self.method, self.sparsity, self.bits)

    @staticmethod
    def make_label(method: str, sparsity: float, bits: int | None) -> str:
        parts = [method]
        if sparsity:
            parts.append(f"s={sparsity:g}")
        if bits and not method.startswith("int8"):
            parts.append(f"q={bits}")
        return " ".join(parts)


def quality_of(metrics: Metrics, metric: str) -> float:
    """``accuracy``, ``macro_f1`` or ``f1:<class>`` / ``recall:<class>`` / ``precision:<class>``."""
    if metric in ("accuracy", "macro_f1"):
        return float(getattr(metrics, metric))
    name, _, cls = metric.partition(":")
    if name not in ("f1", "recall", "precision") or cls not in metrics.classes:
        raise ConfigError(
            f"unknown quality metric {metric!r}; valid options are: accuracy, macro_f1, "
            + ", ".join(f"{m}:{c}" for m in ("f1", "recall", "precision") for c in metrics.classes)
        )
    return metrics.class_metric(name, cls)


def measure_latency_ms(model: nn.Module, input_shape: Sequence[int], repeats: int = 50, batch_size: int = 1) -> float:
    """Median CPU latency (ms) of inference on a batch of ``batch_size`` samples (after 5 warm-up calls)."""
    model = model.cpu().eval()
    x = torch.zeros((batch_size, *input_shape))
    times = []
    with torch.inference_mode():
        for i in range(repeats + 5):
            t0 = time.perf_counter()
            model(x)
            if i >= 5:
                times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1e3)


def sweep(
    model: nn.Module,
    data: PreparedDataset,
    split: Split,
    train: TrainConfig,
    methods: Sequence[str] = PRUNE_METHODS,
    sparsities: Sequence[float] = (0.5, 0.7, 0.9),
    bits: Sequence[int] = (2, 4, 8),
    finetune_epochs: int = 2,
    metric: str = "accuracy",
    progress: Progress | None = None,
    schedules: Sequence[str] = ("one-shot",),
    steps: int = 3,
    storage: StorageFormat | None = None,
    int8: Int8Config | None = None,
    qat_epochs: int = 0,
    structured: Sequence[float] = (),
    directory: Path | None = None,
) -> list[CompressionPoint]:
    """Evaluate the original, quantisation alone, each pruning (with fine-tuning) and each prune+quantise.

    Every pruning method runs under each of ``schedules`` (``one-shot``, ``iterative``, ``multistage`` with
    ``steps`` stages) with the same total fine-tuning budget ``finetune_epochs``. Storage is the exact encoded
    size in ``storage`` (default :class:`StorageFormat`: per-tensor smallest format, Huffman-coded streams,
    float32 biases and batch-norm values). With ``int8``, the original network is also quantised to int8
    (post-training, and with ``qat_epochs`` of quantisation-aware training) and run with int8 kernels. Each
    ratio in ``structured`` removes that fraction of channels (a smaller dense network, fine-tuned for
    ``finetune_epochs``; its point's ``sparsity`` is the channel ratio). With ``directory`` the sweep is
    resumable (:mod:`biowear.compress.resume`); ``progress(label, resumed)`` hears of every point.

    Raises:
        ConfigError: unknown method, sparsity outside [0, 1) or bits outside 1..8.
    """
    check_methods_and_bits(methods, bits)
    for sched in schedules:
        if sched not in SCHEDULES:
            raise ConfigError(f"unknown pruning schedule {sched!r}; valid options are: {', '.join(SCHEDULES)}")
    if steps < 1:
        raise ConfigError(f"schedule steps must be >= 1, got {steps}")
    for s in (*sparsities, *structured):
        if not 0 < s < 1:
            raise ConfigError(f"sparsity must be within (0, 1), got {s}")
    m = Measurer(model, data, split, metric, storage)
    base, arrays = m.base, m.arrays
    settings = {
        "finetune_epochs": finetune_epochs,
        "steps": steps,
        "metric": metric,
        "storage": asdict(m.fmt),
        "int8": None if int8 is None else asdict(int8),
        "qat_epochs": qat_epochs,
        "train": asdict(train),
    }
    state = ResumeFile(directory, "sweep.jsonl", run_key(base, data, split, settings))
    label = CompressionPoint.make_label

    def variant(method: str, s: float, net: Callable[[], nn.Module]) -> list[CompressionPoint]:
        """The network ``net()`` (built only if a point is missing) and its k-means versions."""
        get = functools.cache(net)
        out = [state.measure(label(method, s, None), lambda: m.point(get(), method, s, None), progress)]
        kname = method + "+kmeans" if method != "original" else "kmeans"
        for q in bits:
            out.append(
                state.measure(label(kname, s, q), lambda q=q: m.kmeans(get(), method, s, q, train.seed), progress)
            )
        return out

    points = variant("original", 0.0, lambda: base)
    if int8 is not None:
        int8_variants = [("ptq", lambda: quantize_int8(base, arrays[0], int8))]
        if qat_epochs:
            int8_variants.append(("qat", lambda: qat_int8(base, arrays, train, qat_epochs, int8)))
        for kind, make in int8_variants:

            def measure_int8(make=make, kind=kind) -> CompressionPoint:
                qnet = make()
                return m.point(base, f"int8-{kind}", 0.0, 8, int8_storage_bytes(qnet), runs=qnet)

            points.append(state.measure(label(f"int8-{kind}", 0.0, 8), measure_int8, progress))
    tune = replace(train, patience=0)
    for ratio in structured:

        def smaller(ratio=ratio) -> nn.Module:
            net = copy.deepcopy(base)
            structured_prune(net, m.shape, ratio)
            if finetune_epochs:
                fit(net, *arrays, config=replace(tune, epochs=finetune_epochs))
            return net.cpu()

        points += variant("structured", ratio, smaller)
    for sched in schedules:
        for method in methods:
            for s in sparsities:
                name = f"prune-{method}" + ("" if sched == "one-shot" else f"-{sched}")

                def pruned(method=method, s=s, sched=sched, name=name) -> nn.Module:
                    build = lambda: pruned_variant(base, method, s, sched, steps, finetune_epochs, train, arrays)  # noqa: E731
                    return state.pruned(f"{name}-{s:g}", base, build)

                points += variant(name, s, pruned)
    return points


def pruned_variant(
    base: nn.Module,
    method: str,
    sparsity: float,
    sched: str,
    steps: int,
    finetune_epochs: int,
    train: TrainConfig,
    arrays: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> nn.Module:
    """A copy of ``base`` pruned by ``method`` to ``sparsity`` under schedule ``sched`` and fine-tuned."""
    net = copy.deepcopy(base)
    stages = schedule(sched, sparsity, method, finetune_epochs, steps, net)
    prune(net, stages, replace(train, patience=0), arrays if finetune_epochs else None)
    return net.cpu()


class Measurer:
    """Measures compressed variants of one network against the original on the test split: quality, exact
    storage in a :class:`StorageFormat`, MACs and CPU latency."""

    def __init__(
        self, model: nn.Module, data: PreparedDataset, split: Split, metric: str, storage: StorageFormat | None
    ):
        self.shape = tuple(data.x.shape[1:])
        self.classes = data.classes
        self.x_test, self.y_test = data.x[split.test], data.y[split.test]
        self.arrays = (data.x[split.train], data.y[split.train], data.x[split.val], data.y[split.val])
        self.metric, self.fmt = metric, storage or StorageFormat()
        self.base = copy.deepcopy(model).cpu()
        self.base_quality = quality_of(evaluate(self.base, self.x_test, self.y_test, self.classes), metric)
        self.base_storage = profile(self.base, self.shape).storage_bytes(32)

    def point(
        self,
        net: nn.Module,
        method: str,
        sparsity: float,
        bits: int | None,
        stored: float | None = None,
        runs: nn.Module | None = None,
    ) -> CompressionPoint:
        """Measure ``net`` (``runs`` executes instead when given, e.g. its int8 version; ``net`` gives the
        MACs). ``stored`` overrides the storage (default: the exact sparse float32 encoding when ``net`` has
        pruned weights, else dense float32)."""
        runs = net if runs is None else runs
        metrics = evaluate(runs, self.x_test, self.y_test, self.classes)
        cost = profile(net.cpu(), self.shape)
        if stored is None:
            pruned = any(bool((w == 0).any()) for w in prunable_parameters(net).values())  # structured: dense
            stored = pruned_storage_bytes(net, self.fmt) if pruned else cost.storage_bytes(32)
        quality = quality_of(metrics, self.metric)
        return CompressionPoint(
            method,
            sparsity,
            bits,
            quality,
            100 * (self.base_quality - quality),
            metrics,
            stored,
            self.base_storage / stored,
            cost.macs,
            cost.effective_macs,
            measure_latency_ms(runs, self.shape),
        )

    def kmeans(self, net: nn.Module, method: str, sparsity: float, bits: int, seed: int = 0) -> CompressionPoint:
        """k-means-quantise a copy of ``net`` to ``bits`` and measure it."""
        qnet = copy.deepcopy(net)
        books = kmeans_quantize(qnet, bits, seed=seed)
        name = method + "+kmeans" if method != "original" else "kmeans"
        return self.point(qnet, name, sparsity, bits, quantized_storage_bytes(qnet, books, self.fmt))


def check_methods_and_bits(methods: Sequence[str], bits: Sequence[int]) -> None:
    """Raise :class:`ConfigError` for an unknown pruning method or k-means bits outside 1..8."""
    for m in methods:
        if m not in PRUNE_METHODS:
            raise ConfigError(f"unknown pruning method {m!r}; valid options are: {', '.join(PRUNE_METHODS)}")
    for q in bits:
        if not isinstance(q, int) or not 1 <= q <= 8:
            raise ConfigError(f"bits must be integers within 1..8, got {q}")


def best_within_loss(points: Sequence[CompressionPoint], max_loss_pp: float) -> CompressionPoint | None:
    """The most compressed point whose quality loss is at most ``max_loss_pp`` percentage points."""
    ok = [p for p in points if p.quality_loss_pp <= max_loss_pp + 1e-12]
    return max(ok, key=lambda p: p.compression) if ok else None
