"""Measuring a compressed variant against the original network: quality on the test split, exact storage,
MACs and CPU latency, all with the same metrics and cost model as everywhere else.

Latency is the median (and IQR) of batch-of-one forward passes on the CPU here, one torch thread by default
(dense kernels: unstructured pruning changes storage and effective MACs, not this latency).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from biowear.compress.points import CompressionPoint, quality_loss
from biowear.compress.prune import prunable_parameters
from biowear.compress.quantize import StorageFormat, pruned_storage_bytes
from biowear.cost import profile
from biowear.data import PreparedDataset, Split
from biowear.train import evaluate
from biowear.train.metrics import Metrics, RegressionMetrics, metric_value


def latency_stats_ms(
    model: nn.Module, input_shape: Sequence[int], repeats: int = 50, batch_size: int = 1, threads: int = 1
) -> tuple[float, float]:
    """Median and interquartile range (ms) of CPU inference on a batch of ``batch_size`` samples, after 5
    warm-up calls, with ``threads`` torch threads (restored afterwards). One thread by default: on a loaded
    2-core machine two threads made single calls range from 1.7 ms to 644 ms (issue 11)."""
    model = model.cpu().eval()
    x = torch.zeros((batch_size, *input_shape))
    times = []
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.inference_mode():
            for i in range(repeats + 5):
                t0 = time.perf_counter()
                model(x)
                if i >= 5:
                    times.append(time.perf_counter() - t0)
    finally:
        torch.set_num_threads(before)
    q1, median, q3 = np.percentile(np.asarray(times) * 1e3, [25, 50, 75])
    return float(median), float(q3 - q1)


def measure_latency_ms(
    model: nn.Module, input_shape: Sequence[int], repeats: int = 50, batch_size: int = 1, threads: int = 1
) -> float:
    """Median CPU latency (ms); see :func:`latency_stats_ms`."""
    return latency_stats_ms(model, input_shape, repeats, batch_size, threads)[0]


class Measurer:
    """Measures compressed variants of one network against the original on the test split: quality, exact
    storage in a :class:`StorageFormat`, MACs and CPU latency.

    Args:
        metric: the quality metric (None: the task's default, accuracy or MAE).

    Raises:
        ConfigError: a metric the task does not have (the message lists the valid ones).
    """

    def __init__(
        self,
        model: nn.Module,
        data: PreparedDataset,
        split: Split,
        metric: str | None = None,
        storage: StorageFormat | None = None,
        threads: int = 1,
    ):
        self.task = data.task
        self.threads = threads
        self.shape = tuple(data.x.shape[1:])
        self.classes = data.classes
        self.x_test, self.y_test = data.x[split.test], data.y[split.test]
        self.arrays = (data.x[split.train], data.y[split.train], data.x[split.val], data.y[split.val])
        self.metric = metric or self.task.default_metric
        self.fmt = storage or StorageFormat()
        self.base = copy.deepcopy(model).cpu()
        self.base_metrics = evaluate(self.base, self.x_test, self.y_test, self.task)
        self.base_quality = self.quality(self.base_metrics)
        self.base_storage = profile(self.base, self.shape).storage_bytes(32)

    def quality(self, metrics: Metrics | RegressionMetrics) -> float:
        """The chosen quality metric of ``metrics``."""
        return metric_value(metrics.to_dict(), self.metric)

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
        metrics = evaluate(runs, self.x_test, self.y_test, self.task)
        cost = profile(net.cpu(), self.shape)
        if stored is None:
            pruned = any(bool((w == 0).any()) for w in prunable_parameters(net).values())  # structured: dense
            stored = pruned_storage_bytes(net, self.fmt) if pruned else cost.storage_bytes(32)
        quality = self.quality(metrics)
        loss, unit = quality_loss(self.base_quality, quality, self.metric, self.task.unit)
        latency, spread = latency_stats_ms(runs, self.shape, threads=self.threads)
        return CompressionPoint(
            method,
            sparsity,
            bits,
            quality,
            loss,
            metrics,
            stored,
            self.base_storage / stored,
            cost.macs,
            cost.effective_macs,
            latency,
            unit,
            spread,
        )
